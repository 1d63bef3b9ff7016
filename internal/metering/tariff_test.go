package metering

import (
	"testing"
	"time"
)

func TestSplitDST(t *testing.T) {
	zurich, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Skip(err)
	}
	cal := SwissStandard(zurich)
	// Friday to Monday around each change: Fri 52 HT quarters, Sat 24, Sun 0, Mon 52.
	for _, tc := range []struct {
		from     Date
		quarters int
	}{
		{Date{2026, 3, 27}, 4*96 - 4},
		{Date{2026, 10, 23}, 4*96 + 4},
		{Date{2026, 6, 5}, 4 * 96},
	} {
		var ivs []Interval
		for d := range 4 {
			for _, q := range QuarterHours(Date{tc.from.Year, tc.from.Month, tc.from.Day + d}, zurich) {
				ivs = append(ivs, Interval{Start: q, EnergyWh: 1, Quality: Measured})
			}
		}
		ht, nt := Split(ivs, cal)
		if len(ivs) != tc.quarters || ht != 128 || nt != int64(tc.quarters-128) {
			t.Errorf("from %v: %d quarters, HT %d NT %d; want %d, 128, %d", tc.from, len(ivs), ht, nt, tc.quarters, tc.quarters-128)
		}
	}
	for _, tc := range []struct {
		utc time.Time
		ht  bool
	}{
		{time.Date(2026, 3, 30, 4, 45, 0, 0, time.UTC), false},  // 06:45 CEST, Monday after the change
		{time.Date(2026, 3, 30, 5, 0, 0, 0, time.UTC), true},    // 07:00 CEST
		{time.Date(2026, 3, 27, 5, 45, 0, 0, time.UTC), false},  // 06:45 CET, Friday before
		{time.Date(2026, 3, 27, 6, 0, 0, 0, time.UTC), true},    // 07:00 CET
		{time.Date(2026, 3, 28, 11, 45, 0, 0, time.UTC), true},  // Saturday 12:45 CET
		{time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), false},  // Saturday 13:00 CET
		{time.Date(2026, 10, 26, 18, 45, 0, 0, time.UTC), true}, // Monday 19:45 CET
		{time.Date(2026, 10, 26, 19, 0, 0, 0, time.UTC), false}, // Monday 20:00 CET
		{time.Date(2026, 10, 25, 0, 15, 0, 0, time.UTC), false}, // Sunday 02:15 CEST, the first of two
		{time.Date(2026, 10, 25, 1, 15, 0, 0, time.UTC), false}, // Sunday 02:15 CET, the second
	} {
		if got := cal.IsHT(tc.utc); got != tc.ht {
			t.Errorf("IsHT(%v) = %v, want %v", tc.utc, got, tc.ht)
		}
	}
}

func TestSplitNilLocation(t *testing.T) {
	cal := Calendar{HT: []Window{{Day: time.Monday, From: 0, To: 24 * time.Hour}}}
	mon := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) // a Monday
	ivs := []Interval{{Start: mon.Add(-Quarter), EnergyWh: 5}, {Start: mon, EnergyWh: 7}, {Start: mon.Add(24*time.Hour - Quarter), EnergyWh: 11}, {Start: mon.Add(24 * time.Hour), EnergyWh: 13}}
	if ht, nt := Split(ivs, cal); ht != 18 || nt != 18 {
		t.Errorf("Split = %d, %d; want 18, 18", ht, nt)
	}
}
