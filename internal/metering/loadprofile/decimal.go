package loadprofile

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
)

// formatMilli writes v/1000 as an exact decimal with three places: 1234 -> "1.234",
// -5 -> "-0.005". sep is the decimal separator.
func formatMilli(v int64, sep byte) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u // two's complement: right for math.MinInt64 too
	}
	frac := strconv.FormatUint(u%1000, 10)
	b := make([]byte, 0, 24)
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendUint(b, u/1000, 10)
	b = append(b, sep)
	b = append(b, "000"[len(frac):]...)
	b = append(b, frac...)
	return string(b)
}

// maxDigits bounds the digits of a decimal read, so that a hostile file cannot make huge
// numbers; 18 digits hold any realistic meter value with room to spare.
const maxDigits = 18

var errDecimal = errors.New("not a decimal number")

// parseDecimal reads a plain decimal number ("12", "-0.25", "1.234") exactly. With comma,
// the decimal separator is ',' instead of '.'. Thousands separators, exponents, "NaN" and
// the like are refused: a meter value has none, and guessing them is how 1.234 becomes 1234.
func parseDecimal(s string, comma bool) (*big.Rat, error) {
	s = strings.TrimSpace(s)
	sep := byte('.')
	if comma {
		sep = ','
	}
	digits, seen := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == sep && !seen:
			seen = true
		case (c == '-' || c == '+') && i == 0:
		default:
			return nil, errDecimal
		}
	}
	if digits == 0 || digits > maxDigits {
		return nil, errDecimal
	}
	if comma {
		s = strings.Replace(s, ",", ".", 1)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, errDecimal
	}
	return r, nil
}

// roundRat rounds r to the nearest integer, halves away from zero; ok is false when the
// result does not fit an int64.
func roundRat(r *big.Rat) (int64, bool) {
	num := new(big.Int).Abs(r.Num())
	den := r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Lsh(m, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

var ratThousand = big.NewRat(1000, 1)
