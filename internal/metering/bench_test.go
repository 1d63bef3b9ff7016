package metering

import (
	"testing"
	"time"
)

// BenchmarkBuildYear30s: one connector, a year of readings every 30 s (1,051,200),
// into 35,040 quarter hours.
func BenchmarkBuildYear30s(b *testing.B) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(1, 0, 0)
	n := int(end.Sub(start) / (30 * time.Second))
	rs := make([]Reading, n)
	var wh int64 = 1_000_000
	for i := range rs {
		at := start.Add(time.Duration(i) * 30 * time.Second)
		ctx := "Sample.Periodic"
		if at.Truncate(Quarter).Equal(at) {
			ctx = "Sample.Clock"
		}
		if i%2880 < 600 { // charging at 11 kW for 5 h a day
			wh += 11_000 * 30 / 3600
		}
		rs[i] = Reading{At: at, Wh: wh, Context: ctx}
	}
	b.ReportAllocs()
	for b.Loop() {
		ivs, err := Build(rs, start, end, Options{})
		if err != nil || len(ivs) != 35040 {
			b.Fatal(len(ivs), err)
		}
	}
}
