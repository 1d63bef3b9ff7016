package loadprofile

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Zurich on machines without a zoneinfo database
)

func zurich(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utcTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestFormatMilli(t *testing.T) {
	for _, c := range []struct {
		v    int64
		want string
	}{{0, "0.000"}, {1, "0.001"}, {1234, "1.234"}, {1000, "1.000"}, {-5, "-0.005"}, {4936, "4.936"},
		{-9223372036854775808, "-9223372036854775.808"}, {9223372036854775807, "9223372036854775.807"}} {
		if got := formatMilli(c.v, '.'); got != c.want {
			t.Errorf("formatMilli(%d) = %q, want %q", c.v, got, c.want)
		}
	}
	if got := formatMilli(1234, ','); got != "1,234" {
		t.Errorf("decimal comma: %q", got)
	}
}

func TestWriteCSV(t *testing.T) {
	loc := zurich(t)
	profiles := []Profile{{Station: "CP-1", Connector: 2, User: "Zoë", Points: []Point{
		{Start: utcTime("2026-10-25T00:45:00Z"), EnergyWh: 1234, Quality: Measured, HT: false},
		{Start: utcTime("2026-10-25T01:00:00Z"), EnergyWh: 0, Quality: Idle},
	}}, {Station: "=HYPERLINK(1)", Connector: 1, User: "-x", Points: []Point{
		{Start: utcTime("2026-11-24T07:00:00Z"), EnergyWh: 5501, Quality: Interpolated, HT: true},
	}}}
	var b bytes.Buffer
	if err := WriteCSV(&b, profiles, CSVOptions{Location: loc, Station: true, Connector: true, User: true}); err != nil {
		t.Fatal(err)
	}
	want := "station,connector,user,interval_start_utc,interval_start_local,interval_end_local,energy_kwh,average_kw,quality,tariff\r\n" +
		// The repeated hour of 2026-10-25: 02:45 summer time, then 02:00 winter time.
		"CP-1,2,Zoë,2026-10-25T00:45:00Z,2026-10-25T02:45:00+02:00,2026-10-25T02:00:00+01:00,1.234,4.936,measured,NT\r\n" +
		"CP-1,2,Zoë,2026-10-25T01:00:00Z,2026-10-25T02:00:00+01:00,2026-10-25T02:15:00+01:00,0.000,0.000,idle,NT\r\n" +
		"'=HYPERLINK(1),1,'-x,2026-11-24T07:00:00Z,2026-11-24T08:00:00+01:00,2026-11-24T08:15:00+01:00,5.501,22.004,interpolated,HT\r\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteCSVExcel(t *testing.T) {
	var b bytes.Buffer
	pts := []Point{{Start: utcTime("2026-03-29T00:45:00Z"), EnergyWh: 2750, Quality: Estimated}}
	if err := WriteCSV(&b, []Profile{{Points: pts}}, CSVOptions{Separator: ';', DecimalComma: true, BOM: true}); err != nil {
		t.Fatal(err)
	}
	// Location nil is Europe/Zurich: 00:45Z on 2026-03-29 is 01:45 winter time, its end
	// 03:00 summer time.
	want := "\uFEFFinterval_start_utc;interval_start_local;interval_end_local;energy_kwh;average_kw;quality;tariff\r\n" +
		"2026-03-29T00:45:00Z;2026-03-29T01:45:00+01:00;2026-03-29T03:00:00+02:00;2,750;11,000;estimated;NT\r\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	// A decimal comma with the ',' separator is quoted, and reads back.
	b.Reset()
	if err := WriteCSV(&b, []Profile{{Points: pts}}, CSVOptions{DecimalComma: true}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][3] != "2,750" {
		t.Errorf("quoted decimal comma: %v %v", recs, err)
	}
	if err := WriteCSV(&b, nil, CSVOptions{Separator: '|'}); err == nil {
		t.Error("separator | accepted")
	}
}

// A written file reads back with ReadCSV: the same quarter hours and energy.
func TestWriteReadCSV(t *testing.T) {
	loc := zurich(t)
	var pts []Point
	var want []Interval
	for i, start := range quarterHours(t, loc, 2026, time.October, 25) {
		pts = append(pts, Point{Start: start, EnergyWh: int64(i * 37), Quality: Measured})
		want = append(want, Interval{Start: start, EnergyWh: int64(i * 37)})
	}
	for _, opts := range []CSVOptions{{Location: loc}, {Location: loc, Separator: ';', DecimalComma: true, BOM: true, Station: true}} {
		var b bytes.Buffer
		if err := WriteCSV(&b, []Profile{{Station: "CP-1", Points: pts}}, opts); err != nil {
			t.Fatal(err)
		}
		got, err := ReadCSV(&b, ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !equalIntervals(got, want) {
			t.Errorf("%+v: read back %d intervals, want %d", opts, len(got), len(want))
		}
	}
}

func quarterHours(t testing.TB, loc *time.Location, y int, m time.Month, d int) []time.Time {
	t.Helper()
	var qs []time.Time
	for q := time.Date(y, m, d, 0, 0, 0, 0, loc); q.Before(time.Date(y, m, d+1, 0, 0, 0, 0, loc)); q = q.Add(Quarter) {
		qs = append(qs, q.UTC())
	}
	return qs
}

func equalIntervals(a, b []Interval) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Start.Equal(b[i].Start) || a[i].EnergyWh != b[i].EnergyWh {
			return false
		}
	}
	return true
}
