package ocpp

import (
	"encoding/json"
	"fmt"
	"time"
)

// DateTime is an OCPP dateTime. It is sent in UTC with milliseconds, the one form every
// charger reads, and read in any RFC 3339 form. Decoded values are in UTC: the offset a
// station sent is not kept, because chargers disagree on what their local time is anyway.
type DateTime struct{ time.Time }

const dateTimeLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON writes t in UTC with milliseconds. Years outside 0000-9999 have no RFC 3339
// form and are an error.
func (t DateTime) MarshalJSON() ([]byte, error) {
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("ocpp: dateTime year %d is outside 0000-9999", y)
	}
	b := make([]byte, 0, len(dateTimeLayout)+2)
	b = append(b, '"')
	b = u.AppendFormat(b, dateTimeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON reads an RFC 3339 date-time; null leaves t as it is, as encoding/json expects.
func (t *DateTime) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("ocpp: dateTime is not a string: %w", err)
	}
	v, loose, ok := parseDateTime(s)
	if !ok || loose {
		return fmt.Errorf("ocpp: dateTime %q is not RFC 3339", s)
	}
	t.Time = v
	return nil
}

// parseDateTime reads s as an RFC 3339 date-time (with 'T' or 't', 'Z' or 'z', and a
// fraction of any length) and returns it in UTC. It also reads the loose forms chargers are
// known to send, which are unambiguous but not RFC 3339, and reports them with loose: a
// space for the 'T', no offset at all (taken as UTC), and offsets without a colon (+0100) or
// without minutes (+01). ok is false for anything else, and for instants whose UTC year is
// outside 0000-9999, which could not be sent on.
//
// It is written out rather than left to time.Parse because time.Parse also takes forms that
// are not RFC 3339 (a comma before the fraction) and cannot say which loose form it met.
func parseDateTime[S string | []byte](s S) (t time.Time, loose, ok bool) {
	// yyyy-mm-ddThh:mm:ss is 19 bytes; everything before the fraction is at fixed places.
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false, false
	}
	switch s[10] {
	case 'T', 't':
	case ' ':
		loose = true
	default:
		return time.Time{}, false, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false, false
	}

	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			if n <= 9 {
				nsec = nsec*10 + int(rest[n]-'0')
			}
			n++
		}
		if n == 1 {
			return time.Time{}, false, false
		}
		for i := n; i <= 9; i++ {
			nsec *= 10
		}
		rest = rest[n:]
	}

	offset := 0 // seconds east of UTC
	switch {
	case len(rest) == 0:
		loose = true
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case rest[0] == '+' || rest[0] == '-':
		var oh, om int
		var okh, okm bool
		switch len(rest) {
		case 6: // +hh:mm
			if rest[3] != ':' {
				return time.Time{}, false, false
			}
			oh, okh = digits(rest[1:3])
			om, okm = digits(rest[4:6])
		case 5: // +hhmm
			oh, okh = digits(rest[1:3])
			om, okm = digits(rest[3:5])
			loose = true
		case 3: // +hh
			oh, okh = digits(rest[1:3])
			okm = true
			loose = true
		}
		if !okh || !okm || oh > 23 || om > 59 {
			return time.Time{}, false, false
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false, false
	}

	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).
		Add(-time.Duration(offset) * time.Second)
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, false, false
	}
	return t, loose, true
}

// digits reads a run of ASCII digits; strconv.Atoi would also take a sign.
func digits[S string | []byte](s S) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
