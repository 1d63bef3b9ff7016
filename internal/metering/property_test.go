package metering

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// register makes n readings of a register that rises at up to maxW watts, with steps of
// 1 s to maxStep, a few near quarter hours as Sample.Clock, and a reset with
// probability 1/resetEvery. It returns them in order with the energy they carry: the sum
// of the rises, the drops not counted.
func register(seed uint64, n int, maxStep time.Duration, maxW int64, resetEvery uint) ([]Reading, int64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	rs := make([]Reading, 0, n)
	t := t0.Add(time.Duration(rng.Int64N(int64(time.Hour))))
	wh := rng.Int64N(1_000_000)
	var total int64
	for i := range n {
		if i > 0 {
			step := time.Second + time.Duration(rng.Int64N(int64(maxStep)))
			t = t.Add(step)
			if resetEvery > 0 && rng.UintN(resetEvery) == 0 && wh > 0 {
				wh = rng.Int64N(wh)
			} else {
				rise := rng.Int64N(1 + maxW*int64(step/time.Second)/3600)
				wh += rise
				total += rise
			}
		}
		ctx := "Sample.Periodic"
		if rng.UintN(3) == 0 {
			// A clock-aligned reading up to 4 s off its quarter hour, if that keeps order.
			q := t.Round(Quarter).Add(time.Duration(rng.Int64N(9)-4) * time.Second)
			if len(rs) == 0 || q.After(rs[len(rs)-1].At) {
				t, ctx = q, "Sample.Clock"
			}
		}
		rs = append(rs, Reading{At: t, Wh: wh, Context: ctx})
	}
	return rs, total
}

func window(rs []Reading) (time.Time, time.Time) {
	return rs[0].At.Truncate(Quarter), rs[len(rs)-1].At.Truncate(Quarter).Add(Quarter)
}

func checkSeries(t *testing.T, ivs []Interval, start, end time.Time) {
	t.Helper()
	if len(ivs) != int(end.Sub(start)/Quarter) {
		t.Fatalf("%d intervals for %v..%v", len(ivs), start, end)
	}
	for i, iv := range ivs {
		if !iv.Start.Equal(start.Add(time.Duration(i)*Quarter)) || iv.Start.Location() != time.UTC {
			t.Fatalf("interval %d starts %v", i, iv.Start)
		}
		if iv.EnergyWh < 0 {
			t.Fatalf("interval %d: negative energy %d", i, iv.EnergyWh)
		}
		if iv.Quality == Missing && iv.EnergyWh != 0 {
			t.Fatalf("interval %d: missing with %d Wh", i, iv.EnergyWh)
		}
	}
}

func TestBuildSumAndOrder(t *testing.T) {
	for seed := range uint64(200) {
		rs, total := register(seed, 1+int(seed%97), time.Duration(1+seed%5)*7*time.Minute, 22_000, uint(seed%7))
		start, end := window(rs)
		ivs, err := Build(rs, start, end, Options{KeepSuspect: true})
		if err != nil {
			t.Fatal(err)
		}
		checkSeries(t, ivs, start, end)
		if got := sum(ivs); got != total {
			t.Fatalf("seed %d: sum %d, want %d", seed, got, total)
		}
		// Late readings, duplicated and out of order: the same series.
		shuffled := append(slices.Clone(rs), rs[:len(rs)/2]...)
		rand.New(rand.NewPCG(seed, 1)).Shuffle(len(shuffled), func(i, j int) {
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		})
		again, _ := Build(shuffled, start, end, Options{KeepSuspect: true})
		if !slices.Equal(ivs, again) {
			t.Fatalf("seed %d: shuffled input gives another series", seed)
		}
	}
}

func TestBuildDSTDays(t *testing.T) {
	zurich, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Skip(err)
	}
	for _, day := range []Date{{2026, 3, 29}, {2026, 10, 25}} {
		qs := QuarterHours(day, zurich)
		start, end := qs[0], qs[len(qs)-1].Add(Quarter)
		// A clock-aligned reading on every quarter hour, local midnight to local midnight,
		// 100 Wh per quarter.
		var rs []Reading
		for i := 0; i <= len(qs); i++ {
			rs = append(rs, Reading{At: start.Add(time.Duration(i) * Quarter).In(zurich), Wh: int64(5000 + 100*i), Context: "Sample.Clock"})
		}
		ivs, err := Build(rs, start, end, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkSeries(t, ivs, start, end)
		if len(ivs) != len(qs) || sum(ivs) != int64(100*len(qs)) {
			t.Errorf("%v: %d intervals, %d Wh; want %d, %d", day, len(ivs), sum(ivs), len(qs), 100*len(qs))
		}
		for i, iv := range ivs {
			if !iv.Start.Equal(qs[i]) || iv.Quality != Measured || iv.EnergyWh != 100 {
				t.Fatalf("%v: interval %d = %+v", day, i, iv)
			}
		}
	}
}

func FuzzBuild(f *testing.F) {
	f.Add(uint64(1), uint16(10), uint32(600), uint8(0), false)
	f.Add(uint64(2), uint16(300), uint32(30), uint8(5), true)
	f.Add(uint64(3), uint16(50), uint32(20000), uint8(2), false)
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, maxStepS uint32, resetEvery uint8, heuristic bool) {
		n = 1 + n%2000
		maxStep := time.Duration(1+maxStepS%(6*3600)) * time.Second
		rs, total := register(seed, int(n), maxStep, 400_000, uint(resetEvery))
		start, end := window(rs)
		ivs, err := Build(rs, start, end, Options{KeepSuspect: !heuristic})
		if err != nil {
			t.Fatal(err)
		}
		checkSeries(t, ivs, start, end)
		if !heuristic && sum(ivs) != total {
			t.Fatalf("sum %d, want %d", sum(ivs), total)
		}
		if heuristic && sum(ivs) > total {
			// Ignoring a reading may drop energy (it was taken for a reset's far side)
			// but never invents any beyond the rises.
			t.Fatalf("sum %d exceeds the rises %d", sum(ivs), total)
		}
	})
}
