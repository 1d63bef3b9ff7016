package tariff

import (
	"testing"
	"time"
)

// benchTariff is a realistic operator tariff: a day price on weekdays with a time fee, a
// cheaper night price, and a default with parking after charging and a start fee.
func benchTariff() Tariff {
	return Tariff{ID: "bench", Rounding: Rounding{PayableStep: 5},
		Elements: []Element{
			element(&Restrictions{StartTime: "07:00", EndTime: "20:00", DaysOfWeek: Weekdays},
				comp(Energy, "0.35", vat81, 1), comp(Time, "0.60", vat81, 60)),
			element(&Restrictions{StartTime: "22:00", EndTime: "06:00"},
				comp(Energy, "0.22", vat81, 1)),
			element(nil, comp(Energy, "0.29", vat81, 1), comp(ParkingTime, "2.40", vat81, 300), comp(Flat, "1.00", vat81, 1)),
		},
		IdleFee: &IdleFee{PricePerHour: money("6"), VAT: vat81, GraceMinutes: 30, Basis: IdleFromChargingEnd},
	}
}

// benchSession is 10,000 readings 10 s apart (27.8 h, over two midnights' worth of
// boundaries), charging at a varying power with pauses, reported with each reading.
func benchSession(n int) Session {
	start := local("2026-03-27 16:00") // Friday, into the weekend
	s := Session{Start: start, Location: zurich, Samples: make([]Sample, n)}
	var e int64 = 1_234_567
	for i := range n {
		at := start.Add(time.Duration(i) * 10 * time.Second)
		p := int64(0)
		if (i/360)%4 != 3 { // an hour in four is a pause
			p = 3000 + int64(i%700)*10
		}
		s.Samples[i] = Sample{At: at, EnergyWh: e, PowerW: ptr(p)}
		e += p * 10 / 3600
	}
	s.End = s.Samples[n-1].At
	return s
}

func BenchmarkPrice10kSamples(b *testing.B) {
	tr, s := benchTariff(), benchSession(10_000)
	c, err := Price(tr, s)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Check(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Price(tr, s); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPrice10kSamples keeps the benchmark's session honest: it is priced, adds up, and the
// lines are the expected ones.
func TestPrice10kSamples(t *testing.T) {
	c := mustPrice(t, benchTariff(), benchSession(10_000))
	types := map[LineType]bool{}
	for _, l := range c.Lines {
		types[l.Type] = true
	}
	for _, want := range []LineType{LineEnergy, LineTime, LineParkingTime, LineFlat, LineIdleFee} {
		if !types[want] {
			t.Errorf("no %s line: %+v", want, c.Lines)
		}
	}
	if c.DurationS != 99990 {
		t.Errorf("duration %d", c.DurationS)
	}
}
