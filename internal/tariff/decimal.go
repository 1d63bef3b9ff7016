package tariff

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The quantities of a tariff are fixed-point integers so that prices such as 0.2345 CHF/kWh
// and rates such as 8.1 % are exact. In JSON they are decimal numbers in OCPI's units (price in
// the currency's main unit, VAT in percent, energy in kWh, power in kW, current in A), read
// from the digits without going through float64, so a tariff written as OCPI JSON reads back
// to the same integers.

// Micros is an amount of money in millionths of the currency's main unit: 1 CHF is 1_000_000
// Micros, 1 Rappen is 10_000 Micros, and 0.2345 CHF/kWh is 234_500. Prices per unit (per kWh,
// per hour) need the digits that amounts in minor units do not have.
type Micros int64

// VATRate is a VAT rate in basis points: 810 is 8.1 %, 10000 is 100 %.
type VATRate int64

// Wh is energy in watt-hours; in JSON it is kWh (OCPI min_kwh, max_kwh).
type Wh int64

// Watts is power in watts; in JSON it is kW (OCPI min_power, max_power).
type Watts int64

// MilliAmps is current in milliamperes, summed over the phases; in JSON it is A (OCPI
// min_current, max_current).
type MilliAmps int64

// SwissVAT is the Swiss standard VAT rate since 1 January 2024.
const SwissVAT VATRate = 810

// MicrosPerUnit is how many Micros make one main unit of a currency.
const MicrosPerUnit = 1_000_000

// Scales, in decimal digits, of the JSON forms.
const (
	microsScale = 6 // currency main unit → Micros
	vatScale    = 2 // percent → basis points
	milliScale  = 3 // kWh → Wh, kW → W, A → mA
)

// MarshalJSON writes the amount in the currency's main unit.
func (m Micros) MarshalJSON() ([]byte, error) { return marshalDecimal(int64(m), microsScale) }

// MarshalJSON writes the rate in percent.
func (r VATRate) MarshalJSON() ([]byte, error) { return marshalDecimal(int64(r), vatScale) }

// MarshalJSON writes the energy in kWh.
func (w Wh) MarshalJSON() ([]byte, error) { return marshalDecimal(int64(w), milliScale) }

// MarshalJSON writes the power in kW.
func (w Watts) MarshalJSON() ([]byte, error) { return marshalDecimal(int64(w), milliScale) }

// MarshalJSON writes the current in A.
func (a MilliAmps) MarshalJSON() ([]byte, error) { return marshalDecimal(int64(a), milliScale) }

// UnmarshalJSON reads an amount in the currency's main unit, exactly.
func (m *Micros) UnmarshalJSON(b []byte) error { return unmarshalDecimal(b, microsScale, (*int64)(m)) }

// UnmarshalJSON reads a rate in percent, exactly.
func (r *VATRate) UnmarshalJSON(b []byte) error { return unmarshalDecimal(b, vatScale, (*int64)(r)) }

// UnmarshalJSON reads energy in kWh, exactly.
func (w *Wh) UnmarshalJSON(b []byte) error { return unmarshalDecimal(b, milliScale, (*int64)(w)) }

// UnmarshalJSON reads power in kW, exactly.
func (w *Watts) UnmarshalJSON(b []byte) error { return unmarshalDecimal(b, milliScale, (*int64)(w)) }

// UnmarshalJSON reads current in A, exactly.
func (a *MilliAmps) UnmarshalJSON(b []byte) error {
	return unmarshalDecimal(b, milliScale, (*int64)(a))
}

// String formats the amount in the main unit, e.g. "0.2345".
func (m Micros) String() string { return formatDecimal(int64(m), microsScale) }

// String formats the rate in percent, e.g. "8.1%".
func (r VATRate) String() string { return formatDecimal(int64(r), vatScale) + "%" }

// ParseMicros reads a decimal amount in the currency's main unit ("0.2345") exactly.
func ParseMicros(s string) (Micros, error) {
	v, err := ParseDecimal(s, microsScale)
	return Micros(v), err
}

// ParseVATRate reads a VAT percentage ("8.1") exactly.
func ParseVATRate(s string) (VATRate, error) {
	v, err := ParseDecimal(s, vatScale)
	return VATRate(v), err
}

var errDecimal = errors.New("not a decimal number")

func marshalDecimal(v int64, scale int) ([]byte, error) { return []byte(formatDecimal(v, scale)), nil }

func unmarshalDecimal(b []byte, scale int, dst *int64) error {
	s := string(b)
	if s == "null" {
		return nil // like encoding/json: null leaves the value alone
	}
	// A quoted number is accepted too: some OCPI peers send decimals as strings to keep them exact.
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := ParseDecimal(s, scale)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

// ParseDecimal reads a JSON-style decimal number (sign, digits, fraction, exponent) and
// returns it multiplied by 10^scale, exactly: it fails, rather than rounds, when the number has
// more than scale decimals or does not fit in an int64.
func ParseDecimal(s string, scale int) (int64, error) {
	orig := s
	fail := func(why string) (int64, error) {
		return 0, fmt.Errorf("%w: %q: %s", errDecimal, orig, why)
	}
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || s[i+1:] == "" || e > 100 || e < -100 {
			return fail("bad exponent")
		}
		exp = e
	}
	intPart, frac, hasDot := strings.Cut(mant, ".")
	if intPart == "" || (hasDot && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return fail("bad digits")
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	// The value is digits × 10^shift.
	shift := exp - len(frac) + scale
	if shift < 0 {
		cut := len(digits) + shift // digits that stay
		if cut < 0 {
			cut = 0
		}
		if strings.TrimRight(digits[cut:], "0") != "" {
			return fail(fmt.Sprintf("more than %d decimals", scale))
		}
		digits, shift = digits[:cut], 0
	}
	if digits == "" {
		return 0, nil
	}
	if len(digits)+shift > 19 {
		return fail("out of range")
	}
	v, err := strconv.ParseUint(digits+strings.Repeat("0", shift), 10, 64)
	if err != nil || v > math.MaxInt64 {
		return fail("out of range")
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formatDecimal writes v / 10^scale with no trailing zeros in the fraction: 2500000 at scale
// 6 is "2.5", 810 at scale 2 is "8.1".
func formatDecimal(v int64, scale int) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	intPart, frac := s[:len(s)-scale], strings.TrimRight(s[len(s)-scale:], "0")
	if frac != "" {
		intPart += "." + frac
	}
	if neg {
		return "-" + intPart
	}
	return intPart
}
