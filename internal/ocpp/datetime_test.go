package ocpp

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDateTime(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	tests := []struct {
		in    string
		want  time.Time // zero: not a date-time at all
		loose bool
	}{
		{"2024-05-06T07:08:09Z", utc("2024-05-06T07:08:09Z"), false},
		{"2024-05-06T07:08:09.123Z", utc("2024-05-06T07:08:09.123Z"), false},
		{"2024-05-06t07:08:09z", utc("2024-05-06T07:08:09Z"), false},
		{"2024-05-06T07:08:09.123456789123Z", utc("2024-05-06T07:08:09.123456789Z"), false},
		{"2024-05-06T07:08:09.5+02:00", utc("2024-05-06T05:08:09.5Z"), false},
		{"2024-05-06T00:30:00-01:30", utc("2024-05-06T02:00:00Z"), false},
		{"2024-02-29T00:00:00Z", utc("2024-02-29T00:00:00Z"), false},
		{"0000-01-01T00:00:00Z", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"9999-12-31T23:59:59.999Z", utc("9999-12-31T23:59:59.999Z"), false},

		{"2024-05-06 07:08:09Z", utc("2024-05-06T07:08:09Z"), true},
		{"2024-05-06T07:08:09", utc("2024-05-06T07:08:09Z"), true},
		{"2024-05-06 07:08:09.1234567", utc("2024-05-06T07:08:09.1234567Z"), true},
		{"2024-05-06T07:08:09+0200", utc("2024-05-06T05:08:09Z"), true},
		{"2024-05-06T07:08:09+02", utc("2024-05-06T05:08:09Z"), true},

		{"", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"2024-05-06", time.Time{}, false},
		{"2024-05-06T07:08Z", time.Time{}, false},
		{"2024-13-06T07:08:09Z", time.Time{}, false},
		{"2023-02-29T07:08:09Z", time.Time{}, false},
		{"2024-05-06T24:00:00Z", time.Time{}, false},
		{"2024-05-06T07:60:00Z", time.Time{}, false},
		{"2024-05-06T07:08:60Z", time.Time{}, false},
		{"2024-05-06T07:08:09.Z", time.Time{}, false},
		{"2024-05-06T07:08:09,5Z", time.Time{}, false},
		{"2024-05-06T07:08:09+2:00", time.Time{}, false},
		{"2024-05-06T07:08:09+24:00", time.Time{}, false},
		{"2024-05-06T07:08:09 Z", time.Time{}, false},
		{"2024-05-06X07:08:09Z", time.Time{}, false},
		{"+024-05-06T07:08:09Z", time.Time{}, false},
		{"0000-01-01T00:00:00+01:00", time.Time{}, false}, // year -1 in UTC
		{"1712390889", time.Time{}, false},
	}
	for _, tt := range tests {
		got, loose, ok := parseDateTime(tt.in)
		if ok != !tt.want.IsZero() || !got.Equal(tt.want) || loose != tt.loose {
			t.Errorf("parseDateTime(%q) = %v, loose %v, ok %v; want %v, loose %v", tt.in, got, loose, ok, tt.want, tt.loose)
		}
		if ok && got.Location() != time.UTC {
			t.Errorf("parseDateTime(%q) is in %v, not UTC", tt.in, got.Location())
		}
	}
}

func TestDateTimeJSON(t *testing.T) {
	paris := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2024, 5, 6, 9, 8, 9, 123456789, paris), `"2024-05-06T07:08:09.123Z"`},
		{time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), `"2024-05-06T07:08:09.000Z"`},
		{time.Date(2024, 12, 31, 23, 59, 59, 999999999, time.UTC), `"2024-12-31T23:59:59.999Z"`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(DateTime{tt.in})
		if err != nil || string(b) != tt.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tt.in, b, err, tt.want)
		}
		var back DateTime
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(tt.in.Truncate(time.Millisecond)) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", b, back, err, tt.in)
		}
	}

	if b, err := json.Marshal(DateTime{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Errorf("Marshal(year 10000) = %s, want an error", b)
	}
	for _, in := range []string{`"2024-05-06 07:08:09"`, `"tomorrow"`, `12`, `"2024-05-06T07:08:09"`} {
		var v DateTime
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", in, v)
		}
	}
	v := DateTime{time.Unix(1, 0)}
	if err := json.Unmarshal([]byte(`null`), &v); err != nil || !v.Equal(time.Unix(1, 0)) {
		t.Errorf("Unmarshal(null) changed the value to %v, %v", v, err)
	}
	var opt struct {
		T *DateTime `json:"t,omitempty"`
	}
	if b, _ := json.Marshal(opt); string(b) != `{}` {
		t.Errorf("an unset optional DateTime marshals to %s, want {}", b)
	}
}
