package tariff

import (
	"testing"
	"time"
)

var zurich = mustLocation("Europe/Zurich")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func ptr[T any](v T) *T { return &v }

// money reads a decimal amount ("0.2345") for a test table.
func money(s string) Micros {
	m, err := ParseMicros(s)
	if err != nil {
		panic(err)
	}
	return m
}

// vat reads a percentage ("8.1") for a test table.
func vat(s string) *VATRate {
	r, err := ParseVATRate(s)
	if err != nil {
		panic(err)
	}
	return &r
}

func comp(typ Dimension, price string, rate *VATRate, step int64) Component {
	return Component{Type: typ, Price: money(price), VAT: rate, StepSize: step}
}

func element(r *Restrictions, cs ...Component) Element {
	return Element{Components: cs, Restrictions: r}
}

func local(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, zurich)
	if err != nil {
		panic(err)
	}
	return t
}

// seg is a stretch of a meter timeline: how long, and how much energy flowed in it (0 for
// parking). power, if set, is reported with the sample that starts the stretch.
type seg struct {
	d     time.Duration
	wh    int64
	power *int64
}

// timeline returns a session from start with one sample at each end of a segment.
func timeline(start time.Time, segs ...seg) Session {
	s := Session{Start: start, End: start, Location: zurich}
	s.Samples = append(s.Samples, Sample{At: start})
	var e int64
	for _, g := range segs {
		s.Samples[len(s.Samples)-1].PowerW = g.power
		s.End = s.End.Add(g.d)
		e += g.wh
		s.Samples = append(s.Samples, Sample{At: s.End, EnergyWh: e})
	}
	return s
}

func charge(d time.Duration, wh int64) seg { return seg{d: d, wh: wh} }
func park(d time.Duration) seg             { return seg{d: d} }

func mustPrice(t *testing.T, tr Tariff, s Session) Cost {
	t.Helper()
	c, err := Price(tr, s)
	if err != nil {
		t.Fatalf("Price: %v", err)
	}
	if err := c.Check(); err != nil {
		t.Fatalf("Check: %v\n%+v", err, c)
	}
	return c
}
