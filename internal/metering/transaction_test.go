package metering

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func span(startMin int, meterStart int64, stopMin int, meterStop int64) Span {
	s := Span{TransactionID: 1, StartedAt: at(startMin, 0), MeterStartWh: meterStart}
	if stopMin >= 0 {
		s.Stopped, s.StoppedAt, s.MeterStopWh = true, at(stopMin, 0), meterStop
	}
	return s
}

func TestTransactionSeries(t *testing.T) {
	const P, C = "Sample.Periodic", "Sample.Clock"
	M, I, N := Measured, Interpolated, Missing
	tests := []struct {
		name     string
		span     Span
		readings []Reading
		start    time.Time // of the first interval
		want     want
	}{
		{
			name:  "anchors only: energy spread over the quarter hours",
			span:  span(5, 1000, 35, 1300),
			start: at(0, 0),
			// 10:05..10:35 at 10 Wh/min: 100, 150, 50.
			want: want{wh: []int64{100, 150, 50}, q: []Quality{I, I, I}},
		},
		{
			name:     "clock-aligned readings a few seconds off the boundary",
			span:     span(5, 1000, 35, 1300),
			readings: []Reading{rd(14, 58, 1110, C), rd(30, 3, 1240, C)},
			start:    at(0, 0),
			want:     want{wh: []int64{110, 130, 60}, q: []Quality{M, M, M}},
		},
		{
			name:     "readings before the start and after the stop are ignored",
			span:     span(5, 1000, 35, 1300),
			readings: []Reading{rd(-20, 0, 500, P), rd(4, 59, 990, P), rd(35, 1, 1400, P), rd(50, 0, 2000, P)},
			start:    at(0, 0),
			want:     want{wh: []int64{100, 150, 50}, q: []Quality{I, I, I}},
		},
		{
			name:  "stop on a quarter hour: no empty interval after it",
			span:  span(0, 0, 30, 300),
			start: at(0, 0),
			want:  want{wh: []int64{150, 150}, q: []Quality{I, I}},
		},
		{
			name:     "open: up to the quarter hour after the last reading",
			span:     span(5, 1000, -1, 0),
			readings: []Reading{rd(15, 0, 1100, P), rd(20, 0, 1150, P)},
			start:    at(0, 0),
			want:     want{wh: []int64{100, 50}, q: []Quality{M, M}},
		},
		{
			name:  "open without readings: no interval",
			span:  span(5, 1000, -1, 0),
			start: at(0, 0),
			want:  want{},
		},
		{
			name: "Grizzl-E: session-relative readings, lifetime meterStart and meterStop",
			span: span(0, 5_000_000, 30, 5_000_310),
			// 0 at the start, 150 at 10:15, 300 at 10:29; 10 more before the stop.
			readings: []Reading{rd(0, 0, 0, "Transaction.Begin"), rd(15, 0, 150, P), rd(29, 0, 300, P)},
			start:    at(0, 0),
			want:     want{wh: []int64{150, 160}, q: []Quality{M, M}},
		},
		{
			name:     "Grizzl-E while open",
			span:     span(0, 5_000_000, -1, 0),
			readings: []Reading{rd(15, 0, 150, P), rd(29, 0, 300, P)},
			start:    at(0, 0),
			want:     want{wh: []int64{150, 150}, q: []Quality{M, M}},
		},
		{
			name: "readings and meterStop below meterStart: a reset, not Grizzl-E",
			span: span(0, 5_000_000, 30, 400),
			// The anchor alone, then 100..400 counted.
			readings: []Reading{rd(15, 0, 100, P), rd(29, 0, 300, P)},
			start:    at(15, 0),
			want:     want{wh: []int64{300}, q: []Quality{M}},
		},
		{
			name:     "MicroOcpp: meterStop 0, the series ends at the last reading",
			span:     span(0, 1000, 30, 0),
			readings: []Reading{rd(15, 0, 1150, P), rd(25, 0, 1250, P)},
			start:    at(0, 0),
			want:     want{wh: []int64{150, 100}, q: []Quality{M, M}},
		},
		{
			name:     "a value 1000x too small is ignored, the anchors are kept",
			span:     span(0, 200_000, 30, 200_300),
			readings: []Reading{rd(10, 0, 200_100, P), rd(15, 0, 200, P), rd(20, 0, 200_200, P)},
			start:    at(0, 0),
			want:     want{wh: []int64{150, 150}, q: []Quality{I, I}},
		},
		{
			name: "a reset: both segments counted, the drop not, the gap Missing",
			span: span(0, 1000, 60, 150),
			// 1000 -> 1100 at 10:10, reset, 0 at 10:50 -> 150 at 11:00.
			readings: []Reading{rd(10, 0, 1100, P), rd(50, 0, 0, P)},
			start:    at(0, 0),
			want:     want{wh: []int64{100, 0, 0, 150}, q: []Quality{M, N, N, M}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ivs, err := TransactionSeries(tt.span, tt.readings, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ivs) != len(tt.want.wh) {
				t.Fatalf("got %d intervals %v, want %v", len(ivs), ivs, tt.want.wh)
			}
			for i, iv := range ivs {
				if !iv.Start.Equal(tt.start.Add(time.Duration(i) * Quarter)) {
					t.Errorf("interval %d starts %v", i, iv.Start)
				}
				if iv.EnergyWh != tt.want.wh[i] || iv.Quality != tt.want.q[i] {
					t.Errorf("interval %d: %d Wh %v, want %d Wh %v", i, iv.EnergyWh, iv.Quality, tt.want.wh[i], tt.want.q[i])
				}
			}
		})
	}
}

func TestTransactionSeriesBadSpan(t *testing.T) {
	for _, s := range []Span{{}, span(30, 0, 10, 100)} {
		if _, err := TransactionSeries(s, nil, Options{}); !errors.Is(err, ErrSpan) {
			t.Errorf("%+v: %v, want ErrSpan", s, err)
		}
	}
}

// transaction makes a transaction without a reset: meterStart, readings within
// [meterStart, meterStop] rising at up to 22 kW, meterStop.
func transaction(rng *rand.Rand) (Span, []Reading) {
	start := t0.Add(time.Duration(rng.Int64N(int64(2 * time.Hour))))
	s := Span{StartedAt: start, MeterStartWh: rng.Int64N(10_000_000)}
	t, wh := start, s.MeterStartWh
	n := rng.IntN(60)
	rs := make([]Reading, 0, n)
	for range n {
		step := time.Duration(rng.Int64N(int64(20 * time.Minute)))
		t = t.Add(step)
		wh += rng.Int64N(1 + 22_000*int64(step/time.Second)/3600)
		ctx := "Sample.Periodic"
		if rng.IntN(4) == 0 {
			ctx = ContextClock
		}
		rs = append(rs, Reading{At: t, Wh: wh, Context: ctx})
	}
	step := time.Duration(rng.Int64N(int64(20 * time.Minute)))
	s.Stopped, s.StoppedAt = true, t.Add(step)
	s.MeterStopWh = wh + rng.Int64N(1+22_000*int64(step/time.Second)/3600)
	return s, rs
}

func TestTransactionSeriesSumsToEnergy(t *testing.T) {
	for seed := range uint64(500) {
		rng := rand.New(rand.NewPCG(seed, 7))
		s, rs := transaction(rng)
		checkTransactionSum(t, s, rs)
	}
}

func checkTransactionSum(t *testing.T, s Span, rs []Reading) {
	t.Helper()
	ivs, err := TransactionSeries(s, rs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for i, iv := range ivs {
		if iv.EnergyWh < 0 || iv.Quality == Missing {
			t.Fatalf("interval %d: %+v", i, iv)
		}
		if i > 0 && !iv.Start.Equal(ivs[i-1].Start.Add(Quarter)) {
			t.Fatalf("interval %d starts %v after %v", i, iv.Start, ivs[i-1].Start)
		}
		total += iv.EnergyWh
	}
	if len(ivs) > 0 && (ivs[0].Start.After(s.StartedAt) || !ivs[len(ivs)-1].Start.Add(Quarter).After(s.StoppedAt)) {
		t.Fatalf("intervals %v..%v do not cover %v..%v", ivs[0].Start, ivs[len(ivs)-1].Start, s.StartedAt, s.StoppedAt)
	}
	energy := s.MeterStopWh - s.MeterStartWh
	if total != energy {
		t.Fatalf("span %+v, %d readings: series sums to %d Wh, meterStop-meterStart is %d", s, len(rs), total, energy)
	}
}

// FuzzTransactionSeries checks the key property on random transactions: without a reset,
// the series sums to exactly meterStop - meterStart, whatever the readings in between.
func FuzzTransactionSeries(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(42), uint64(0))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		s, rs := transaction(rand.New(rand.NewPCG(a, b)))
		checkTransactionSum(t, s, rs)
	})
}
