package metering

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

func at(min, sec int) time.Time {
	return t0.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
}

func rd(min, sec int, wh int64, ctx string) Reading {
	return Reading{At: at(min, sec), Wh: wh, Context: ctx}
}

func sum(ivs []Interval) int64 {
	var s int64
	for _, iv := range ivs {
		s += iv.EnergyWh
	}
	return s
}

type want struct {
	wh []int64
	q  []Quality
}

func TestBuild(t *testing.T) {
	const (
		P = "Sample.Periodic"
		C = "Sample.Clock"
		B = "Transaction.Begin"
		E = "Transaction.End"
	)
	M, I, X, N := Measured, Interpolated, Estimated, Missing
	tests := []struct {
		name     string
		readings []Reading
		quarters int
		want     want
	}{
		{"none", nil, 2, want{[]int64{0, 0}, []Quality{N, N}}},
		{"one reading", []Reading{rd(5, 0, 1000, B)}, 2, want{[]int64{0, 0}, []Quality{N, N}}},
		{"on boundaries", []Reading{rd(0, 0, 1000, C), rd(15, 0, 1500, C), rd(30, 0, 1800, C)}, 3,
			want{[]int64{500, 300, 0}, []Quality{M, M, N}}},
		{"clock readings a few seconds off", []Reading{rd(0, -3, 1000, C), rd(15, 2, 1500, C), rd(30, 4, 1800, C)}, 2,
			want{[]int64{500, 300}, []Quality{M, M}}},
		{"periodic off the boundary interpolated", []Reading{rd(0, 0, 1000, B), rd(10, 0, 2000, P), rd(20, 0, 3000, P), rd(25, 0, 3100, E)}, 2,
			want{[]int64{1500, 600}, []Quality{I, I}}},
		{"transaction inside a quarter", []Reading{rd(3, 0, 1000, B), rd(12, 0, 1700, E)}, 1,
			want{[]int64{700}, []Quality{M}}},
		{"clock beats periodic near the boundary", []Reading{rd(0, 0, 1000, B), rd(15, 1, 1490, P), rd(15, 3, 1500, C), rd(30, 0, 2000, E)}, 2,
			want{[]int64{500, 500}, []Quality{M, M}}},
		{"gap estimated", []Reading{rd(0, 0, 0, B), rd(180, 0, 1800, E)}, 12,
			want{[]int64{150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150}, []Quality{X, X, X, X, X, X, X, X, X, X, X, X}}},
		{"reset starts a segment", []Reading{rd(0, 0, 5000, B), rd(10, 0, 5600, P), rd(20, 0, 100, P), rd(30, 0, 400, E)}, 2,
			want{[]int64{600, 300}, []Quality{M, M}}},
		{"kWh labelled Wh ignored", []Reading{rd(0, 0, 361000, C), rd(5, 0, 361, P), rd(10, 0, 362, P), rd(15, 0, 362500, C)}, 1,
			want{[]int64{1500}, []Quality{M}}},
		{"Wh read as kWh ignored", []Reading{rd(0, 0, 361000, C), rd(5, 0, 361200000, P), rd(15, 0, 362500, C)}, 1,
			want{[]int64{1500}, []Quality{M}}},
		{"exact duplicates dropped", []Reading{rd(0, 0, 1000, C), rd(7, 0, 1200, P), rd(7, 0, 1200, P), rd(15, 0, 1500, C)}, 1,
			want{[]int64{500}, []Quality{M}}},
		{"reading before the window clipped", []Reading{rd(-15, 0, 0, B), rd(15, 0, 3000, E)}, 1,
			want{[]int64{1500}, []Quality{I}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Build(tc.readings, t0, t0.Add(time.Duration(tc.quarters)*Quarter), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var wh []int64
			var q []Quality
			for i, iv := range got {
				if !iv.Start.Equal(t0.Add(time.Duration(i) * Quarter)) {
					t.Errorf("interval %d starts %v", i, iv.Start)
				}
				wh = append(wh, iv.EnergyWh)
				q = append(q, iv.Quality)
			}
			if !slices.Equal(wh, tc.want.wh) || !slices.Equal(q, tc.want.q) {
				t.Errorf("got %v %v, want %v %v", wh, q, tc.want.wh, tc.want.q)
			}
			// Out of order arrival gives the same result.
			rev := slices.Clone(tc.readings)
			slices.Reverse(rev)
			again, _ := Build(rev, t0, t0.Add(time.Duration(tc.quarters)*Quarter), Options{})
			if !slices.Equal(got, again) {
				t.Errorf("reversed input: %v, want %v", again, got)
			}
		})
	}
}

func TestBuildWindow(t *testing.T) {
	for _, w := range [][2]time.Time{{t0, t0}, {t0.Add(Quarter), t0}, {t0.Add(time.Minute), t0.Add(Quarter)}, {t0, t0.Add(time.Second)}} {
		if _, err := Build(nil, w[0], w[1], Options{}); err != ErrWindow {
			t.Errorf("Build(%v, %v) = %v, want ErrWindow", w[0], w[1], err)
		}
	}
}

func TestQuarterHours(t *testing.T) {
	zurich, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		day   Date
		n     int
		first time.Time
	}{
		{Date{2026, 3, 29}, 92, time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC)},
		{Date{2026, 10, 25}, 100, time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC)},
		{Date{2026, 6, 1}, 96, time.Date(2026, 5, 31, 22, 0, 0, 0, time.UTC)},
	} {
		qs := QuarterHours(tc.day, zurich)
		if len(qs) != tc.n || !qs[0].Equal(tc.first) || qs[0].Location() != time.UTC {
			t.Errorf("%v: %d quarters from %v, want %d from %v", tc.day, len(qs), qs[0], tc.n, tc.first)
		}
		for i := 1; i < len(qs); i++ {
			if qs[i].Sub(qs[i-1]) != Quarter {
				t.Errorf("%v: not contiguous at %d", tc.day, i)
			}
		}
		// A DST day's series from Build has the same number of intervals.
		ivs, err := Build(nil, qs[0], qs[len(qs)-1].Add(Quarter), Options{})
		if err != nil || len(ivs) != tc.n {
			t.Errorf("%v: Build gave %d intervals, %v", tc.day, len(ivs), err)
		}
	}
}
