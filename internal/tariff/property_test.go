package tariff

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// The properties every price has, on random valid tariffs and random monotone registers:
//   - it is never negative, and its lines add up exactly to its totals (Check);
//   - it never decreases when the session goes on longer, or with more readings of more
//     energy (same tariff, same start) — except where OCPI's step-size rule makes it fall
//     (several elements in a dimension, one with a step size above 1: see
//     TestStepSizeCanLowerTheCost), and, for the gross amount, where a min/max price
//     scales lines of different VAT rates (the mix of rates, and so the VAT on a capped
//     net amount, can shift).

func TestPriceProperties(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := range n {
		checkProperties(t, uint64(i), uint64(i)*7919)
	}
}

func FuzzPrice(f *testing.F) {
	for i := range uint64(20) {
		f.Add(i, i*31)
	}
	f.Fuzz(func(t *testing.T, a, b uint64) { checkProperties(t, a, b) })
}

func checkProperties(t *testing.T, a, b uint64) {
	t.Helper()
	g := gen{rand.New(rand.NewPCG(a, b))}
	tr, monoNet, monoGross := g.tariff()
	if err := tr.Validate(); err != nil {
		t.Fatalf("seed %d,%d: generated tariff: %v", a, b, err)
	}
	s := g.session()
	base := price(t, tr, s, a, b, "session")

	// Longer: the same readings, a later end.
	longer := s
	longer.End = s.End.Add(time.Duration(g.r.Int64N(4*3600)) * time.Second)
	cmpCosts(t, base, price(t, tr, longer, a, b, "longer"), monoNet, monoGross, a, b, "longer")

	// More energy: end at the last reading, then more readings.
	if len(s.Samples) > 0 {
		cut := s
		cut.End = s.Samples[len(s.Samples)-1].At
		if cut.End.Before(cut.Start) {
			cut.End = cut.Start
		}
		before := price(t, tr, cut, a, b, "cut")
		more := cut
		more.Samples = g.extend(cut.Samples, 1+g.r.IntN(10))
		if last := more.Samples[len(more.Samples)-1].At; last.After(more.End) {
			more.End = last
		}
		cmpCosts(t, before, price(t, tr, more, a, b, "more"), monoNet, monoGross, a, b, "more energy")
	}
}

func price(t *testing.T, tr Tariff, s Session, a, b uint64, what string) Cost {
	t.Helper()
	c, err := Price(tr, s)
	if err != nil {
		t.Fatalf("seed %d,%d %s: %v", a, b, what, err)
	}
	if err := c.Check(); err != nil {
		t.Fatalf("seed %d,%d %s: %v\n%+v", a, b, what, err, c)
	}
	if c.TotalNet < 0 || c.TotalVAT < 0 || c.TotalGross < 0 || c.Payable < 0 {
		t.Fatalf("seed %d,%d %s: negative cost %+v", a, b, what, c)
	}
	return c
}

func cmpCosts(t *testing.T, before, after Cost, monoNet, monoGross bool, a, b uint64, what string) {
	t.Helper()
	if monoNet && after.TotalNet < before.TotalNet {
		t.Fatalf("seed %d,%d %s: net fell from %d to %d\nbefore %+v\nafter  %+v", a, b, what, before.TotalNet, after.TotalNet, before, after)
	}
	if monoGross && (after.TotalGross < before.TotalGross || after.Payable < before.Payable) {
		t.Fatalf("seed %d,%d %s: gross fell from %d/%d to %d/%d\nbefore %+v\nafter  %+v", a, b, what,
			before.TotalGross, before.Payable, after.TotalGross, after.Payable, before, after)
	}
}

type gen struct{ r *rand.Rand }

func (g gen) chance(p float64) bool { return g.r.Float64() < p }

var rates = []*VATRate{nil, ptr[VATRate](0), ptr(SwissVAT), ptr[VATRate](260), ptr[VATRate](2000)}

// tariff returns a random valid tariff, and whether its net and gross amounts must grow with
// the session (see the package comment of this file).
func (g gen) tariff() (tr Tariff, monoNet, monoGross bool) {
	tr = Tariff{ID: "fuzz", Currency: []string{"", "CHF", "EUR", "JPY"}[g.r.IntN(4)]}
	if g.chance(0.03) {
		tr.Free = true
		return tr, true, true
	}
	rate := rates[g.r.IntN(len(rates))]
	mixed := g.chance(0.3)
	var steps [numDims]bool
	var count [numDims]int
	for range 1 + g.r.IntN(5) {
		var el Element
		for _, typ := range []Dimension{Energy, Time, ParkingTime, Flat} {
			if !g.chance(0.45) {
				continue
			}
			c := Component{Type: typ, Price: Micros(g.r.Int64N(40000) * 100), VAT: rate, StepSize: int64(g.r.IntN(2))}
			if mixed {
				c.VAT = rates[g.r.IntN(len(rates))]
			}
			if g.chance(0.3) {
				switch typ {
				case Energy:
					c.StepSize = []int64{100, 1000, 250}[g.r.IntN(3)]
				case Time, ParkingTime:
					c.StepSize = []int64{60, 300, 900, 1800}[g.r.IntN(4)]
				}
			}
			if typ != Flat {
				count[dimOf[typ]]++
				steps[dimOf[typ]] = steps[dimOf[typ]] || c.StepSize > 1
			}
			el.Components = append(el.Components, c)
		}
		if len(el.Components) == 0 {
			el.Components = []Component{{Type: Energy, Price: Micros(g.r.Int64N(5000) * 100), VAT: rate}}
			count[dimEnergy]++
		}
		g.r.Shuffle(len(el.Components), func(i, j int) { el.Components[i], el.Components[j] = el.Components[j], el.Components[i] })
		if g.chance(0.6) {
			el.Restrictions = g.restrictions()
		}
		tr.Elements = append(tr.Elements, el)
	}
	if g.chance(0.3) {
		lo := Micros(g.r.Int64N(500) * 10000)
		hi := lo + Micros(g.r.Int64N(3000)*10000)
		if g.chance(0.5) {
			tr.MinPrice = &PriceLimit{ExclVAT: lo}
			if g.chance(0.5) {
				tr.MinPrice.InclVAT = ptr(lo + lo/10)
			}
		}
		if g.chance(0.5) {
			tr.MaxPrice = &PriceLimit{ExclVAT: hi}
			if g.chance(0.5) {
				tr.MaxPrice.InclVAT = ptr(hi + hi/10)
			}
		}
	}
	if g.chance(0.3) {
		tr.IdleFee = &IdleFee{
			PricePerHour: Micros(g.r.Int64N(1000) * 10000), VAT: rates[g.r.IntN(len(rates))],
			GraceMinutes: g.r.Int64N(180), Basis: []IdleBasis{IdleFromSessionStart, IdleFromChargingEnd}[g.r.IntN(2)],
			StepSize: []int64{0, 1, 60, 900}[g.r.IntN(4)],
		}
	}
	tr.Rounding = Rounding{PayableStep: []int64{0, 1, 5, 10}[g.r.IntN(4)], Mode: []RoundingMode{"", HalfUp, Down, Up}[g.r.IntN(4)]}

	monoNet = true
	for d := range numDims {
		if count[d] > 1 && steps[d] {
			monoNet = false
		}
	}
	monoGross = monoNet && !(mixed && (tr.MinPrice != nil || tr.MaxPrice != nil))
	return tr, monoNet, monoGross
}

func (g gen) restrictions() *Restrictions {
	r := &Restrictions{}
	hm := func() string { return fmt.Sprintf("%02d:%02d", g.r.IntN(24), 15*g.r.IntN(4)) }
	if g.chance(0.4) {
		r.StartTime, r.EndTime = hm(), hm()
		switch {
		case g.chance(0.2):
			r.StartTime = ""
		case g.chance(0.2):
			r.EndTime = ""
		case r.StartTime == r.EndTime:
			r.EndTime = ""
		}
	}
	if g.chance(0.3) {
		for _, d := range []DayOfWeek{Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday} {
			if g.chance(0.5) {
				r.DaysOfWeek = append(r.DaysOfWeek, d)
			}
		}
	}
	if g.chance(0.15) {
		d := time.Date(2026, time.Month(1+g.r.IntN(12)), 1+g.r.IntN(28), 0, 0, 0, 0, time.UTC)
		r.StartDate = d.Format(time.DateOnly)
		if g.chance(0.7) {
			r.EndDate = d.AddDate(0, 0, 1+g.r.IntN(60)).Format(time.DateOnly)
		}
	}
	bounds := func(max int64) (*int64, *int64) {
		var lo, hi *int64
		if g.chance(0.25) {
			lo = ptr(g.r.Int64N(max))
		}
		if g.chance(0.25) {
			v := g.r.Int64N(max) + 1
			if lo != nil {
				v += *lo
			}
			hi = &v
		}
		return lo, hi
	}
	lo, hi := bounds(30000)
	r.MinKWh, r.MaxKWh = (*Wh)(lo), (*Wh)(hi)
	lo, hi = bounds(22000)
	r.MinPower, r.MaxPower = (*Watts)(lo), (*Watts)(hi)
	lo, hi = bounds(64000)
	r.MinCurrent, r.MaxCurrent = (*MilliAmps)(lo), (*MilliAmps)(hi)
	r.MinDuration, r.MaxDuration = bounds(6 * 3600)
	return r
}

// session returns a random session in Zurich, sometimes across a DST change, with a
// register that never decreases.
func (g gen) session() Session {
	var start time.Time
	switch g.r.IntN(4) {
	case 0:
		start = time.Date(2026, 3, 28, 20+g.r.IntN(8), 0, 0, 0, zurich)
	case 1:
		start = time.Date(2026, 10, 24, 20+g.r.IntN(8), 0, 0, 0, zurich)
	default:
		start = time.Date(2026, 1, 1, 0, 0, 0, 0, zurich).Add(time.Duration(g.r.Int64N(365*86400)) * time.Second)
	}
	s := Session{Start: start, Location: zurich, ChargingPowerW: []int64{0, 0, 50}[g.r.IntN(3)]}
	first := start
	if g.chance(0.2) {
		first = start.Add(time.Duration(g.r.Int64N(600)-300) * time.Second)
	}
	s.Samples = g.extend([]Sample{{At: first, EnergyWh: g.r.Int64N(1_000_000)}}, g.r.IntN(40))
	if g.chance(0.1) {
		s.Samples = nil
	}
	s.End = start
	if len(s.Samples) > 0 && s.Samples[len(s.Samples)-1].At.After(start) {
		s.End = s.Samples[len(s.Samples)-1].At
	}
	s.End = s.End.Add(time.Duration(g.r.Int64N(2)*g.r.Int64N(3600)) * time.Second)
	if g.chance(0.1) {
		t := start
		for range g.r.IntN(4) {
			from := t.Add(time.Duration(g.r.Int64N(3600)) * time.Second)
			t = from.Add(time.Duration(g.r.Int64N(7200)) * time.Second)
			s.Charging = append(s.Charging, Interval{from, t})
		}
	}
	return s
}

// extend appends n readings after the last of samples.
func (g gen) extend(samples []Sample, n int) []Sample {
	out := append([]Sample(nil), samples...)
	for range n {
		last := out[len(out)-1]
		next := Sample{At: last.At.Add(time.Duration(g.r.Int64N(1800)) * time.Second), EnergyWh: last.EnergyWh}
		if g.chance(0.1) {
			next.At = last.At
		}
		if g.chance(0.7) {
			next.EnergyWh += g.r.Int64N(6000)
		}
		if g.chance(0.3) {
			next.PowerW = ptr(g.r.Int64N(25000))
		}
		out = append(out, next)
	}
	return out
}
