package loadprofile

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// dayCSV writes one row per quarter hour of a Zurich day, value i+1 for the i-th, with
// the timestamp written by stamp (of the interval start or end, in UTC).
func dayCSV(t *testing.T, header string, sep string, y int, m time.Month, d int, end bool, stamp func(time.Time) string) (string, int) {
	t.Helper()
	var b strings.Builder
	if header != "" {
		b.WriteString(header + "\n")
	}
	qs := quarterHours(t, zurich(t), y, m, d)
	for i, q := range qs {
		if end {
			q = q.Add(Quarter)
		}
		fmt.Fprintf(&b, "%s%s%d\n", stamp(q), sep, i+1)
	}
	return b.String(), len(qs)
}

func TestReadCSVDSTDays(t *testing.T) {
	loc := zurich(t)
	local := func(layout string) func(time.Time) string {
		return func(q time.Time) string { return q.In(loc).Format(layout) }
	}
	for _, day := range []struct {
		d    int
		m    time.Month
		want int
	}{{29, time.March, 92}, {25, time.October, 100}, {24, time.November, 96}} {
		for _, c := range []struct {
			name   string
			header string
			sep    string
			end    bool
			stamp  func(time.Time) string
		}{
			{"RFC 3339 UTC", "timestamp,value", ",", false, func(q time.Time) string { return q.Format(time.RFC3339) }},
			{"RFC 3339 with offset", "", ";", false, local(time.RFC3339)},
			{"ISO local, starts in order", "Zeitstempel;Wert", ";", false, local("2006-01-02 15:04")},
			{"Swiss local, ends in order", "", ";", true, local("02.01.2006 15:04")},
			{"date;time local", "datum;zeit;wert", ";", false, local("02.01.2006;15:04")},
			{"date,time ends, 24:00", "date,time,value", ",", true, func(q time.Time) string {
				l := q.In(loc)
				if l.Hour() == 0 && l.Minute() == 0 {
					return l.Add(-time.Hour).Format("2006-01-02") + ",24:00"
				}
				return l.Format("2006-01-02,15:04")
			}},
		} {
			in, n := dayCSV(t, c.header, c.sep, 2026, day.m, day.d, c.end, c.stamp)
			if n != day.want {
				t.Fatalf("%v %d has %d quarter hours", day.m, day.d, n)
			}
			got, err := ReadCSV(strings.NewReader(in), ImportOptions{Location: loc, Unit: Wh, End: c.end})
			if err != nil {
				t.Errorf("%d %v %s: %v", day.d, day.m, c.name, err)
				continue
			}
			qs := quarterHours(t, loc, 2026, day.m, day.d)
			if len(got) != len(qs) {
				t.Errorf("%d %v %s: %d intervals, want %d", day.d, day.m, c.name, len(got), len(qs))
				continue
			}
			for i, iv := range got {
				if !iv.Start.Equal(qs[i]) || iv.EnergyWh != int64(i+1) {
					t.Errorf("%d %v %s: interval %d = %s %d, want %s %d", day.d, day.m, c.name, i, iv.Start, iv.EnergyWh, qs[i], i+1)
					break
				}
			}
		}
	}
}

func TestReadCSVShapes(t *testing.T) {
	loc := zurich(t)
	z := func(s string) time.Time { return utcTime(s) }
	for _, c := range []struct {
		name string
		in   string
		opts ImportOptions
		want []Interval
	}{
		{"otark: date;time;unit;value", "date;time;unit;value\n01.12.2025;00:00;kWh;2\n01.12.2025;00:15;W;1001\n", ImportOptions{},
			[]Interval{{z("2025-11-30T23:00:00Z"), 2000}, {z("2025-11-30T23:15:00Z"), 250}}},
		{"MST: ends, kWh decimal comma, no header", "01.12.2014 00:15;0,15\n01.12.2014 00:30;0,2\n", ImportOptions{End: true, Unit: KWh},
			[]Interval{{z("2014-11-30T23:00:00Z"), 150}, {z("2014-11-30T23:15:00Z"), 200}}},
		{"energyusage-like YYYYMMDD", "date,time,e1\n20260105,00:15,12\n", ImportOptions{End: true, Unit: Wh},
			[]Interval{{z("2026-01-04T23:00:00Z"), 12}}},
		{"unit in the header", "Zeit;Wert [kWh]\n2026-01-05 10:00;1,5\n", ImportOptions{},
			[]Interval{{z("2026-01-05T09:00:00Z"), 1500}}},
		{"kW average, rounding half up", "timestamp,kw\n2026-01-05T10:00:00Z,0.002\n2026-01-05T10:15:00Z,0.0021\n", ImportOptions{},
			[]Interval{{z("2026-01-05T10:00:00Z"), 1}, {z("2026-01-05T10:15:00Z"), 1}}},
		{"tabs, BOM, CRLF, blank lines, seconds, rows out of order", "\uFEFFstart\tvalue\r\n\r\n2026-01-05T10:15:00\t2\r\n2026-01-05T10:00:00\t1\r\n", ImportOptions{Unit: Wh, Location: time.UTC},
			[]Interval{{z("2026-01-05T10:00:00Z"), 1}, {z("2026-01-05T10:15:00Z"), 2}}},
		{"extra columns ignored", "id;date;time;quality;value\nM1;05.01.2026;10:00;U;7\n", ImportOptions{Unit: Wh},
			[]Interval{{z("2026-01-05T09:00:00Z"), 7}}},
		{"explicit offsets resolve the autumn hour in any order", "t,v\n2026-10-25T02:00:00+01:00,2\n2026-10-25T02:00:00+02:00,1\n", ImportOptions{Unit: Wh},
			[]Interval{{z("2026-10-25T00:00:00Z"), 1}, {z("2026-10-25T01:00:00Z"), 2}}},
	} {
		if c.opts.Location == nil {
			c.opts.Location = loc
		}
		got, err := ReadCSV(strings.NewReader(c.in), c.opts)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !equalIntervals(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestReadCSVErrors(t *testing.T) {
	for _, c := range []struct {
		name         string
		in           string
		opts         ImportOptions
		line, column int
		want         string
	}{
		{"not on a quarter hour", "t;v\n2026-01-05 10:00;1\n2026-01-05 10:10;1\n", ImportOptions{Unit: Wh}, 3, 1, "not on a quarter hour"},
		{"duplicate", "t;v\n2026-01-05 10:00;1\n2026-01-05 10:15;1\n2026-01-05T09:00:00Z;1\n", ImportOptions{Unit: Wh}, 4, 1, "given twice, on lines 2 and 4"},
		{"negative", "t;v\n2026-01-05 10:00;-1\n", ImportOptions{Unit: Wh}, 2, 2, "negative"},
		{"empty value", "t;v\n2026-01-05 10:00;\n", ImportOptions{Unit: Wh}, 2, 2, "empty value"},
		{"thousands separator", "t;v\n2026-01-05 10:00;1'000\n", ImportOptions{Unit: Wh}, 2, 2, "not a plain decimal"},
		{"mixed separators", "t;v\n2026-01-05 10:00;1,000.5\n", ImportOptions{Unit: Wh}, 2, 2, "not a plain decimal"},
		{"bad timestamp", "t;v\n2026-13-05 10:00;1\n", ImportOptions{Unit: Wh}, 2, 1, "timestamp"},
		{"bad time of day", "datum;zeit;wert\n05.01.2026;10h00;1\n", ImportOptions{Unit: Wh}, 2, 2, "time of day"},
		{"spring gap", "t;v\n2026-03-29 02:15;1\n", ImportOptions{Unit: Wh}, 2, 1, "does not exist in Europe/Zurich"},
		{"missing field", "2026-01-05 10:00;1\n2026-01-05 10:15\n", ImportOptions{Unit: Wh}, 2, 2, "missing"},
		{"no unit", "t;v\n2026-01-05 10:00;1\n", ImportOptions{}, 2, 0, "unit is not known"},
		{"bad unit column", "date;time;unit;value\n05.01.2026;10:00;MWh;1\n", ImportOptions{}, 2, 3, "unit \"MWh\""},
		{"no rows", "t;v\n", ImportOptions{Unit: Wh}, 0, 0, "no rows"},
		{"bad quoting", "t,v\n\"2026-01-05 10:00,1\n", ImportOptions{Unit: Wh}, 2, 0, "quote"},
	} {
		_, err := ReadCSV(strings.NewReader(c.in), c.opts)
		var ie *ImportError
		if !errors.As(err, &ie) {
			t.Errorf("%s: err %v, want an *ImportError", c.name, err)
			continue
		}
		if ie.Line != c.line || ie.Column != c.column || !strings.Contains(ie.Error(), c.want) {
			t.Errorf("%s: %v (line %d column %d), want line %d column %d %q", c.name, err, ie.Line, ie.Column, c.line, c.column, c.want)
		}
	}
	if _, err := ReadCSV(strings.NewReader("t;v\n"), ImportOptions{Unit: "MWh"}); err == nil {
		t.Error("unit MWh accepted")
	}
	// The error names the column's header.
	_, err := ReadCSV(strings.NewReader("Zeit;Wert\n2026-01-05 10:00;x\n"), ImportOptions{Unit: Wh})
	if err == nil || err.Error() != `loadprofile: read csv: line 2, column 2 (Wert): value "x" is not a plain decimal number` {
		t.Errorf("err %v", err)
	}
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"date;time;unit;value\n01.12.2025;00:00;kWh;2\n01.12.2025;00:15;W;1001\n",
		"01.12.2014 00:15;0,15\n01.12.2014 00:30;0,2\n",
		"t,v\n2026-10-25T02:00:00+01:00,2\n2026-10-25T02:00:00+02:00,1\n",
		"t;v\n2026-10-25 02:45;1\n2026-10-25 02:00;1\n2026-10-25 02:15;1\n",
		"date,time,value\n2026-03-29,24:00,5\n",
		"Zeit;Wert [kWh]\n2026-01-05 10:00;1,5\n",
	} {
		f.Add(s, false, "")
		f.Add(s, true, "kWh")
	}
	loc, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string, end bool, unit string) {
		opts := ImportOptions{End: end, Location: loc}
		if u, ok := ParseUnit(unit); ok {
			opts.Unit = u
		}
		got, err := ReadCSV(strings.NewReader(in), opts)
		if err != nil {
			return
		}
		if len(got) == 0 {
			t.Fatal("no intervals and no error")
		}
		for i, iv := range got {
			if !iv.Start.Equal(iv.Start.Truncate(Quarter)) || iv.Start.Location() != time.UTC {
				t.Fatalf("interval %d starts at %s", i, iv.Start)
			}
			if iv.EnergyWh < 0 {
				t.Fatalf("interval %d: %d Wh", i, iv.EnergyWh)
			}
			if i > 0 && !got[i-1].Start.Before(iv.Start) {
				t.Fatalf("intervals %d and %d out of order or duplicate", i-1, i)
			}
		}
	})
}
