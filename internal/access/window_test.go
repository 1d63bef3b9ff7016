package access

import (
	"testing"
	"time"
	_ "time/tzdata" // Europe/Zurich also where the system has no zoneinfo
)

func zurich(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// local is a wall time in Zurich, "2006-01-02 15:04[:05]"; for the hour that happens twice
// in October tests use utc.
func local(t testing.TB, s string) time.Time {
	t.Helper()
	layout := "2006-01-02 15:04"
	if len(s) > len(layout) {
		layout += ":05"
	}
	v, err := time.ParseInLocation(layout, s, zurich(t))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		v, err = time.Parse("2006-01-02 15:04", s)
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWindowContainsAndNextEnd(t *testing.T) {
	loc := zurich(t)
	office := Window{Days: MonFri, Start: "07:00", End: "18:00"}
	night := Window{Days: Fri, Start: "22:00", End: "06:00"}
	// 2026-06-08 is a Monday, 2026-06-12 a Friday; 2026-12-25 a Friday.
	tests := []struct {
		name string
		w    Window
		at   time.Time
		end  time.Time // zero: not contained
	}{
		{"at start, inclusive", office, local(t, "2026-06-08 07:00"), local(t, "2026-06-08 18:00")},
		{"a second before start", office, local(t, "2026-06-08 06:59:59"), time.Time{}},
		{"a nanosecond before start", office, local(t, "2026-06-08 07:00").Add(-time.Nanosecond), time.Time{}},
		{"just before end", office, local(t, "2026-06-08 17:59:59").Add(999 * time.Millisecond), local(t, "2026-06-08 18:00")},
		{"at end, exclusive", office, local(t, "2026-06-08 18:00"), time.Time{}},
		{"not on its days", office, local(t, "2026-06-13 10:00"), time.Time{}},
		{"wrap: opens Friday", night, local(t, "2026-06-12 22:00"), local(t, "2026-06-13 06:00")},
		{"wrap: Saturday morning is Friday's", night, local(t, "2026-06-13 05:59"), local(t, "2026-06-13 06:00")},
		{"wrap: closes Saturday 06:00", night, local(t, "2026-06-13 06:00"), time.Time{}},
		{"wrap: not Friday before 22:00", night, local(t, "2026-06-12 21:59"), time.Time{}},
		{"wrap: Saturday night is not a Friday", night, local(t, "2026-06-13 23:00"), time.Time{}},
		{"wrap: Friday early morning belongs to Thursday", night, local(t, "2026-06-12 03:00"), time.Time{}},
		{"ending at midnight", Window{Days: Mon, Start: "22:00", End: "00:00"}, local(t, "2026-06-08 23:30"), local(t, "2026-06-09 00:00")},
		{"ending at 24:00", Window{Days: Mon, Start: "22:00", End: "24:00"}, local(t, "2026-06-08 23:59:59"), local(t, "2026-06-09 00:00")},
		{"whole day", Window{Days: Weekend, Start: "00:00", End: "24:00"}, local(t, "2026-06-13 00:00"), local(t, "2026-06-14 00:00")},
		{"whole day, next is its own opening", Window{Days: Weekend, Start: "00:00", End: "24:00"}, local(t, "2026-06-14 00:00"), local(t, "2026-06-15 00:00")},
		{"holiday excepted", Window{Days: MonFri, Start: "07:00", End: "18:00", ExceptDates: []string{"2026-12-25"}}, local(t, "2026-12-25 10:00"), time.Time{}},
		{"day before the holiday", Window{Days: MonFri, Start: "07:00", End: "18:00", ExceptDates: []string{"2026-12-25"}}, local(t, "2026-12-24 10:00"), local(t, "2026-12-24 18:00")},
		{"extra date", Window{Days: Weekend, Start: "08:00", End: "12:00", ExtraDates: []string{"2026-12-25"}}, local(t, "2026-12-25 08:00"), local(t, "2026-12-25 12:00")},
		{"extra date only", Window{Start: "08:00", End: "12:00", ExtraDates: []string{"2026-12-25"}}, local(t, "2026-12-25 11:00"), local(t, "2026-12-25 12:00")},
		{"extra date only, other day", Window{Start: "08:00", End: "12:00", ExtraDates: []string{"2026-12-25"}}, local(t, "2026-12-18 11:00"), time.Time{}},
		{"wrap excepted on the day it opens", Window{Days: Fri, Start: "22:00", End: "06:00", ExceptDates: []string{"2026-06-12"}}, local(t, "2026-06-13 03:00"), time.Time{}},
		{"wrap on an extra date", Window{Start: "22:00", End: "06:00", ExtraDates: []string{"2026-12-31"}}, local(t, "2027-01-01 01:00"), local(t, "2027-01-01 06:00")},
		{"far future (beyond the zone table)", office, local(t, "2090-06-05 10:00"), local(t, "2090-06-05 18:00")},

		// 2026-03-29, Sunday: at 01:00 UTC Zurich goes from 02:00 CET to 03:00 CEST.
		{"spring: 01:00-04:00 opens at 01:00 CET", Window{Days: Sun, Start: "01:00", End: "04:00"}, utc(t, "2026-03-29 00:00"), utc(t, "2026-03-29 02:00")},
		{"spring: 01:00-04:00 has 2 real hours", Window{Days: Sun, Start: "01:00", End: "04:00"}, utc(t, "2026-03-29 01:59:59"), utc(t, "2026-03-29 02:00")},
		{"spring: 01:00-04:00 closed at 04:00 CEST", Window{Days: Sun, Start: "01:00", End: "04:00"}, utc(t, "2026-03-29 02:00"), time.Time{}},
		{"spring: 02:30 does not exist, opens at 03:00 CEST", Window{Days: Sun, Start: "02:30", End: "05:00"}, utc(t, "2026-03-29 01:00"), utc(t, "2026-03-29 03:00")},
		{"spring: not open at 01:59 CET", Window{Days: Sun, Start: "02:30", End: "05:00"}, utc(t, "2026-03-29 00:59:59"), time.Time{}},
		{"spring: ending at 02:30 ends at the jump", Window{Days: Sun, Start: "00:00", End: "02:30"}, utc(t, "2026-03-29 00:59:59"), utc(t, "2026-03-29 01:00")},
		{"spring: ... and is closed after it", Window{Days: Sun, Start: "00:00", End: "02:30"}, utc(t, "2026-03-29 01:00"), time.Time{}},
		{"spring: night wrapping over the jump", Window{Days: Sat, Start: "22:00", End: "06:00"}, utc(t, "2026-03-28 21:00"), utc(t, "2026-03-29 04:00")},

		// 2026-10-25, Sunday: at 01:00 UTC Zurich goes from 03:00 CEST back to 02:00 CET.
		{"fall: 01:00-04:00 opens at 01:00 CEST", Window{Days: Sun, Start: "01:00", End: "04:00"}, utc(t, "2026-10-24 23:00"), utc(t, "2026-10-25 03:00")},
		{"fall: first 02:30 (CEST) inside", Window{Days: Sun, Start: "01:00", End: "04:00"}, utc(t, "2026-10-25 00:30"), utc(t, "2026-10-25 03:00")},
		{"fall: second 02:30 (CET) inside", Window{Days: Sun, Start: "01:00", End: "04:00"}, utc(t, "2026-10-25 01:30"), utc(t, "2026-10-25 03:00")},
		{"fall: ending at 02:30 ends at the first", Window{Days: Sun, Start: "00:00", End: "02:30"}, utc(t, "2026-10-25 00:29:59"), utc(t, "2026-10-25 00:30")},
		{"fall: ... and does not reopen at 02:10 CET", Window{Days: Sun, Start: "00:00", End: "02:30"}, utc(t, "2026-10-25 01:10"), time.Time{}},
		{"fall: ... nor at the second 02:29", Window{Days: Sun, Start: "00:00", End: "02:30"}, utc(t, "2026-10-25 01:29"), time.Time{}},
		{"fall: opening at 02:30 opens at the first", Window{Days: Sun, Start: "02:30", End: "05:00"}, utc(t, "2026-10-25 00:30"), utc(t, "2026-10-25 04:00")},
		{"fall: ... not before it", Window{Days: Sun, Start: "02:30", End: "05:00"}, utc(t, "2026-10-25 00:29"), time.Time{}},
		{"fall: ... and covers 02:10 CET after it", Window{Days: Sun, Start: "02:30", End: "05:00"}, utc(t, "2026-10-25 01:10"), utc(t, "2026-10-25 04:00")},
		{"fall: 02:00-03:00 lasts two hours", Window{Days: Sun, Start: "02:00", End: "03:00"}, utc(t, "2026-10-25 01:59"), utc(t, "2026-10-25 02:00")},
		{"fall: night wrapping over it", Window{Days: Sat, Start: "22:00", End: "06:00"}, utc(t, "2026-10-25 04:59"), utc(t, "2026-10-25 05:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end, ok := tt.w.NextEnd(tt.at, loc)
			if ok != !tt.end.IsZero() || !end.Equal(tt.end) {
				t.Errorf("NextEnd(%s) = %v, %v; want %v", tt.at.In(loc), end, ok, tt.end.In(loc))
			}
			if got := tt.w.Contains(tt.at, loc); got != !tt.end.IsZero() {
				t.Errorf("Contains(%s) = %v", tt.at.In(loc), got)
			}
		})
	}
}

func TestWindowInvalidContainsNothing(t *testing.T) {
	loc := zurich(t)
	at := local(t, "2026-06-08 10:00")
	for _, w := range []Window{
		{Days: MonFri, Start: "7:00", End: "18:00"},
		{Days: MonFri, Start: "07:00", End: "07:00"},
		{Start: "07:00", End: "18:00"},
	} {
		if w.Contains(at, loc) {
			t.Errorf("%+v contains %s", w, at)
		}
	}
	if (Window{Days: EveryDay, Start: "00:00", End: "24:00"}).Contains(at, nil) {
		t.Error("a window without a location contains something")
	}
}

func TestParseClock(t *testing.T) {
	tests := []struct {
		s       string
		allow24 bool
		want    int64
		ok      bool
	}{
		{"00:00", false, 0, true},
		{"07:30", false, 7*3600 + 30*60, true},
		{"23:59", false, 23*3600 + 59*60, true},
		{"24:00", true, day, true},
		{"24:00", false, 0, false},
		{"24:01", true, 0, false},
		{"25:00", true, 0, false},
		{"12:60", false, 0, false},
		{"7:00", false, 0, false},
		{"07:00:00", false, 0, false},
		{"07-00", false, 0, false},
		{"ab:cd", false, 0, false},
		{"", false, 0, false},
	}
	for _, tt := range tests {
		got, ok := parseClock(tt.s, tt.allow24)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseClock(%q, %v) = %d, %v; want %d, %v", tt.s, tt.allow24, got, ok, tt.want, tt.ok)
		}
	}
}

func TestWeekdays(t *testing.T) {
	tests := []struct {
		s    string
		want Weekdays
		out  string
	}{
		{"Mon-Fri", MonFri, "Mon-Fri"},
		{"sat,SUN", Weekend, "Sat,Sun"},
		{"Mon-Sun", EveryDay, "Mon-Sun"},
		{"Fri-Mon", Fri | Sat | Sun | Mon, "Mon,Fri-Sun"},
		{" Mon , Wed-Fri ", Mon | Wed | Thu | Fri, "Mon,Wed-Fri"},
		{"Tue", Tue, "Tue"},
		{"", 0, ""},
	}
	for _, tt := range tests {
		got, err := ParseWeekdays(tt.s)
		if err != nil || got != tt.want {
			t.Errorf("ParseWeekdays(%q) = %v, %v; want %v", tt.s, got, err, tt.want)
		}
		if s := tt.want.String(); s != tt.out {
			t.Errorf("%08b.String() = %q; want %q", tt.want, s, tt.out)
		}
	}
	for _, bad := range []string{"Monday", "Mon-", "Mon,,Tue", "Xyz-Fri"} {
		if _, err := ParseWeekdays(bad); err == nil {
			t.Errorf("ParseWeekdays(%q) accepted", bad)
		}
	}
	for w := Weekdays(0); w <= EveryDay; w++ {
		got, err := ParseWeekdays(w.String())
		if err != nil || got != w {
			t.Errorf("round trip of %08b through %q gave %08b, %v", w, w.String(), got, err)
		}
	}
	if Days(time.Monday, time.Friday) != Mon|Fri || !MonFri.Has(time.Wednesday) || MonFri.Has(time.Sunday) {
		t.Error("Days or Has are wrong")
	}
	var w Weekdays
	if err := w.UnmarshalText([]byte("Sat-Sun")); err != nil || w != Weekend {
		t.Errorf("UnmarshalText = %v, %v", w, err)
	}
	if b, _ := Weekend.MarshalText(); string(b) != "Sat,Sun" {
		t.Errorf("MarshalText = %s", b)
	}
}

func TestWeekdayOfDayNumber(t *testing.T) {
	for _, s := range []string{"1969-12-31", "1970-01-01", "2026-03-29", "2026-10-25", "1900-03-01", "2400-02-29"} {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := parseDate(s)
		if got := weekday(n); got != d.Weekday() {
			t.Errorf("weekday(%s) = %v; want %v", s, got, d.Weekday())
		}
	}
}

func FuzzParseWeekdays(f *testing.F) {
	for _, s := range []string{"Mon-Fri", "Sat,Sun", "Fri-Mon", "", "mon,wed-fri", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWeekdays(s)
		if err != nil {
			return
		}
		back, err := ParseWeekdays(w.String())
		if err != nil || back != w {
			t.Fatalf("%q parsed as %08b, written %q, read back %08b, %v", s, w, w.String(), back, err)
		}
	})
}

// FuzzWindow reads windows as an operator might type them: a malformed one contains
// nothing, a valid one agrees with the clock walked minute by minute, around the autumn
// change of 2026; and no instant, however far, makes it panic.
func FuzzWindow(f *testing.F) {
	f.Add(uint8(MonFri), "07:00", "18:00", "2026-10-23", "", int64(0))
	f.Add(uint8(Sat), "22:00", "06:00", "", "2026-10-24", int64(300))
	f.Add(uint8(Sun), "02:30", "02:00", "", "", int64(1500))
	f.Add(uint8(0), "00:00", "24:00", "", "2026-10-25", int64(-1))
	f.Fuzz(func(t *testing.T, days uint8, start, end, except, extra string, minutes int64) {
		loc := zurich(t)
		w := Window{Days: Weekdays(days), Start: start, End: end}
		if except != "" {
			w.ExceptDates = []string{except}
		}
		if extra != "" {
			w.ExtraDates = []string{extra}
		}
		w.NextEnd(time.Unix(minutes*60, 0), loc)
		span := int64(4 * 24 * 60)
		at := utc(t, "2026-10-23 00:00").Add(time.Duration(((minutes%span)+span)%span) * time.Minute)
		closes, got := w.NextEnd(at, loc)
		if _, err := compileWindow(w); err != nil {
			if got {
				t.Fatalf("invalid window %+v (%v) contains %s", w, err, at)
			}
			return
		}
		if want := naiveContains(w, at, loc); got != want {
			t.Fatalf("%+v contains %s: %v; walking the clock: %v", w, at.In(loc), got, want)
		}
		if got && (!closes.After(at) || !naiveContains(w, closes.Add(-time.Second), loc)) {
			t.Fatalf("%+v at %s: end %s is not where the opening ends", w, at.In(loc), closes.In(loc))
		}
	})
}
