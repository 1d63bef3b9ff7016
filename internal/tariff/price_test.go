package tariff

import (
	"errors"
	"testing"
	"time"
)

var vat81 = ptr(SwissVAT)

// swiss is a CHF tariff rounded to 0.05 CHF.
func swiss(elems ...Element) Tariff {
	return Tariff{ID: "ch", Elements: elems, Rounding: Rounding{PayableStep: 5}}
}

func TestSwissCases(t *testing.T) {
	night := &Restrictions{StartTime: "22:00", EndTime: "06:00"}
	tests := []struct {
		name    string
		tariff  Tariff
		session Session
		// net, VAT, rounding, payable in Rappen
		net, vat, rounding, payable int64
		check                       func(t *testing.T, c Cost)
	}{{
		name:    "8.1% VAT, 20 kWh at 0.45: 9.00 + 0.729 VAT → 9.73 → 9.75 payable",
		tariff:  swiss(element(nil, comp(Energy, "0.45", vat81, 1))),
		session: timeline(local("2026-05-04 08:00"), charge(2*time.Hour, 20000)),
		net:     900, vat: 73, rounding: 2, payable: 975,
	}, {
		name:    "exact price per kWh with 4 decimals: 12.345 kWh at 0.2345 = 2.8949...",
		tariff:  swiss(element(nil, comp(Energy, "0.2345", vat81, 1))),
		session: timeline(local("2026-05-04 08:00"), charge(2*time.Hour, 12345)),
		// 2.894903 + 0.234487 VAT = 3.12939: net and gross are rounded, the VAT is the difference
		net: 289, vat: 24, rounding: 2, payable: 315,
	}, {
		name:    "0.05 rounding up: 12.34 → 12.35 with a +0.01 rounding line",
		tariff:  swiss(element(nil, comp(Flat, "12.34", nil, 1))),
		session: timeline(local("2026-05-04 08:00"), park(time.Minute)),
		net:     1234, rounding: 1, payable: 1235,
		check: func(t *testing.T, c Cost) {
			last := c.Lines[len(c.Lines)-1]
			if last.Type != LineRounding || last.Gross != 1 || last.Net != 0 || last.VAT != 0 {
				t.Errorf("last line %+v, want a ROUNDING line of +1", last)
			}
		},
	}, {
		name:    "0.05 rounding down: 12.32 → 12.30",
		tariff:  swiss(element(nil, comp(Flat, "12.32", nil, 1))),
		session: timeline(local("2026-05-04 08:00"), park(time.Minute)),
		net:     1232, rounding: -2, payable: 1230,
	}, {
		name: "0.05 rounding, mode DOWN: 12.34 → 12.30",
		tariff: Tariff{ID: "d", Elements: []Element{element(nil, comp(Flat, "12.34", nil, 1))},
			Rounding: Rounding{PayableStep: 5, Mode: Down}},
		session: timeline(local("2026-05-04 08:00")),
		net:     1234, rounding: -4, payable: 1230,
	}, {
		name: "0.05 rounding, mode UP: 12.31 → 12.35",
		tariff: Tariff{ID: "u", Elements: []Element{element(nil, comp(Flat, "12.31", nil, 1))},
			Rounding: Rounding{PayableStep: 5, Mode: Up}},
		session: timeline(local("2026-05-04 08:00")),
		net:     1231, rounding: 4, payable: 1235,
	}, {
		name:    "no payable rounding: exact to the Rappen",
		tariff:  Tariff{ID: "x", Elements: []Element{element(nil, comp(Flat, "12.34", vat81, 1))}},
		session: timeline(local("2026-05-04 08:00")),
		net:     1234, vat: 100, payable: 1334, // 0.99954 VAT → 1.00
	}, {
		name: "idle fee from session start: 2 h grace, 3 h session → 1 h at 1.20",
		tariff: Tariff{ID: "i", Elements: []Element{element(nil, comp(Energy, "0.30", vat81, 1))},
			IdleFee: &IdleFee{PricePerHour: money("1.20"), VAT: vat81, GraceMinutes: 120, Basis: IdleFromSessionStart}},
		session: timeline(local("2026-05-04 08:00"), charge(150*time.Minute, 10000), park(30*time.Minute)),
		net:     300 + 120, vat: 34, payable: 454, // VAT 0.243 + 0.0972 = 0.3402
		check: func(t *testing.T, c Cost) {
			if l := lineOf(c, LineIdleFee); l.Quantity != 3600 || l.Net != 120 {
				t.Errorf("idle line %+v, want 3600 s, 1.20", l)
			}
		},
	}, {
		name: "idle fee from charging end: charge 1 h, park 2 h, grace 60 min → 1 h",
		tariff: Tariff{ID: "i", Elements: []Element{element(nil, comp(Energy, "0.30", nil, 1))},
			IdleFee: &IdleFee{PricePerHour: money("2.00"), GraceMinutes: 60, Basis: IdleFromChargingEnd}},
		session: timeline(local("2026-05-04 08:00"), charge(time.Hour, 10000), park(2*time.Hour)),
		net:     300 + 200, payable: 500,
	}, {
		name: "idle fee from charging end: each stretch has its grace; a wait before charging too",
		tariff: Tariff{ID: "i", Elements: []Element{element(nil, comp(Energy, "0.30", nil, 1))},
			IdleFee: &IdleFee{PricePerHour: money("6.00"), GraceMinutes: 30, Basis: IdleFromChargingEnd, StepSize: 600}},
		session: timeline(local("2026-05-04 08:00"),
			park(20*time.Minute), charge(time.Hour, 10000), park(45*time.Minute), charge(time.Hour, 10000), park(31*time.Minute)),
		// idle 15 + 1 = 16 min → 20 min in steps of 10 → 2.00
		net: 600 + 200, payable: 800,
		check: func(t *testing.T, c Cost) {
			if c.IdleS != 1200 {
				t.Errorf("idle %d s, want 1200", c.IdleS)
			}
		},
	}, {
		name: "18:00 local boundary: 0.30 until 18:00, 0.20 after; 17:00-19:00 at 11 kW",
		tariff: swiss(
			element(&Restrictions{StartTime: "07:00", EndTime: "18:00"}, comp(Energy, "0.30", vat81, 1)),
			element(nil, comp(Energy, "0.20", vat81, 1))),
		session: timeline(local("2026-05-04 17:00"), charge(2*time.Hour, 22000)),
		net:     550, vat: 45, payable: 595, // 3.30 + 2.20, VAT 0.4455
		check: func(t *testing.T, c Cost) {
			if len(c.Lines) != 2 || c.Lines[0].Quantity != 11000 || c.Lines[1].Quantity != 11000 {
				t.Errorf("lines %+v, want 11 kWh each side of 18:00", c.Lines)
			}
		},
	}, {
		name: "DST spring 2026-03-29: 00:00-08:00 local is 7 h, 5 of them night",
		tariff: Tariff{ID: "n", Elements: []Element{
			element(night, comp(Time, "1.00", nil, 1)), element(nil, comp(Time, "2.00", nil, 1))}},
		session: timeline(local("2026-03-29 00:00"), charge(7*time.Hour, 7000)),
		net:     900, payable: 900,
	}, {
		name: "DST autumn 2026-10-25: 00:00-08:00 local is 9 h, 7 of them night",
		tariff: Tariff{ID: "n", Elements: []Element{
			element(night, comp(Time, "1.00", nil, 1)), element(nil, comp(Time, "2.00", nil, 1))}},
		session: timeline(local("2026-10-25 00:00"), charge(9*time.Hour, 9000)),
		net:     1100, payable: 1100,
	}, {
		name: "DST autumn: 02:00-03:00 local happens twice",
		tariff: Tariff{ID: "h", Elements: []Element{
			element(&Restrictions{StartTime: "02:00", EndTime: "03:00"}, comp(Time, "10.00", nil, 1))}},
		session: timeline(local("2026-10-25 00:00"), charge(6*time.Hour, 6000)),
		net:     2000, payable: 2000,
	}, {
		name: "DST spring: 02:00-03:00 local does not happen",
		tariff: Tariff{ID: "h", Elements: []Element{
			element(&Restrictions{StartTime: "02:00", EndTime: "03:00"}, comp(Time, "10.00", nil, 1))}},
		session: timeline(local("2026-03-29 00:00"), charge(4*time.Hour, 4000)),
		net:     0, payable: 0,
	}, {
		name: "midnight Friday → Saturday with a weekend price",
		tariff: Tariff{ID: "w", Elements: []Element{
			element(&Restrictions{DaysOfWeek: Weekend}, comp(Energy, "0.20", nil, 1)),
			element(nil, comp(Energy, "0.30", nil, 1))}},
		session: timeline(local("2026-03-06 23:00"), charge(2*time.Hour, 20000)),
		net:     500, payable: 500, // 10 kWh × 0.30 + 10 kWh × 0.20
	}, {
		name: "midnight with a wrapping FRIDAY 22:00-06:00 element: the day is that of the instant",
		tariff: Tariff{ID: "w", Elements: []Element{
			element(&Restrictions{StartTime: "22:00", EndTime: "06:00", DaysOfWeek: []DayOfWeek{Friday}}, comp(Energy, "0.10", nil, 1)),
			element(nil, comp(Energy, "0.30", nil, 1))}},
		session: timeline(local("2026-03-06 23:00"), charge(2*time.Hour, 20000)),
		net:     400, payable: 400, // Friday 23-24 at 0.10, Saturday 00-01 at 0.30
	}, {
		name: "date range, end exclusive: a price for 2026-03-06 only",
		tariff: Tariff{ID: "d", Elements: []Element{
			element(&Restrictions{StartDate: "2026-03-06", EndDate: "2026-03-07"}, comp(Energy, "0.10", nil, 1)),
			element(nil, comp(Energy, "0.30", nil, 1))}},
		session: timeline(local("2026-03-06 23:00"), charge(2*time.Hour, 20000)),
		net:     400, payable: 400,
	}, {
		name: "first kWh free: the threshold is crossed inside a sample interval, energy cut exactly",
		tariff: Tariff{ID: "k", Elements: []Element{
			element(&Restrictions{MaxKWh: ptr[Wh](1000)}, comp(Energy, "0.00", nil, 1)),
			element(nil, comp(Energy, "0.30", nil, 1))}},
		session: timeline(local("2026-05-04 08:00"), charge(7*time.Minute, 10007)),
		net:     270, payable: 270, // 9.007 kWh × 0.30 = 2.7021
		check: func(t *testing.T, c Cost) {
			if c.Lines[0].Quantity != 1000 || c.Lines[1].Quantity != 9007 {
				t.Errorf("lines %+v, want 1000 Wh free and 9007 Wh paid", c.Lines)
			}
		},
	}, {
		name: "energy step 1 kWh on the last element only",
		tariff: Tariff{ID: "s", Elements: []Element{
			element(&Restrictions{EndTime: "12:00"}, comp(Energy, "0.20", nil, 1000)),
			element(nil, comp(Energy, "0.40", nil, 1000))}},
		session: timeline(local("2026-05-04 11:00"), charge(time.Hour, 1500), charge(time.Hour, 1100)),
		net:     30 + 60, payable: 90, // 1.5 kWh at 0.20; 2.6 kWh in all, billed 3: 1.5 kWh at 0.40
	}, {
		name:    "free tariff",
		tariff:  Tariff{ID: "f", Free: true},
		session: timeline(local("2026-05-04 08:00"), charge(time.Hour, 11000), park(time.Hour)),
		check: func(t *testing.T, c Cost) {
			if len(c.Lines) != 0 || c.EnergyWh != 11000 || c.ParkingS != 3600 {
				t.Errorf("free cost %+v, want no lines and the session measured", c)
			}
		},
	}, {
		name:    "a tariff of zero prices costs nothing and shows the quantities",
		tariff:  Tariff{ID: "z", Elements: []Element{element(nil, comp(Energy, "0", nil, 1), comp(Flat, "0", nil, 1))}},
		session: timeline(local("2026-05-04 08:00"), charge(time.Hour, 11000)),
		check: func(t *testing.T, c Cost) {
			if len(c.Lines) != 2 || c.Lines[0].Quantity != 11000 {
				t.Errorf("lines %+v", c.Lines)
			}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustPrice(t, tc.tariff, tc.session)
			if c.TotalNet != tc.net || c.TotalVAT != tc.vat || c.Rounding != tc.rounding || c.Payable != tc.payable {
				t.Errorf("net %d VAT %d rounding %d payable %d, want %d %d %d %d\nlines: %+v",
					c.TotalNet, c.TotalVAT, c.Rounding, c.Payable, tc.net, tc.vat, tc.rounding, tc.payable, c.Lines)
			}
			if c.Currency != "CHF" && tc.tariff.Currency == "" {
				t.Errorf("currency %q, want CHF by default", c.Currency)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func lineOf(c Cost, typ LineType) Line {
	for _, l := range c.Lines {
		if l.Type == typ {
			return l
		}
	}
	return Line{}
}

func TestDSTDurations(t *testing.T) {
	tr := Tariff{ID: "t", Elements: []Element{element(nil, comp(Time, "1", nil, 1))}}
	for _, tc := range []struct {
		day  string
		want int64
	}{{"2026-03-29", 7 * 3600}, {"2026-10-25", 9 * 3600}, {"2026-05-04", 8 * 3600}} {
		s := Session{Start: local(tc.day + " 00:00"), End: local(tc.day + " 08:00"), Location: zurich,
			Charging: []Interval{{local(tc.day + " 00:00"), local(tc.day + " 08:00")}}}
		c := mustPrice(t, tr, s)
		if c.DurationS != tc.want || c.ChargingS != tc.want {
			t.Errorf("%s: duration %d, charging %d, want %d", tc.day, c.DurationS, c.ChargingS, tc.want)
		}
	}
}

// A live cost is the same computation with End = now: after the last reading the session is
// taken to go on as it was, and the cost grows with every reading.
func TestLiveCost(t *testing.T) {
	tr := swiss(element(nil, comp(Energy, "0.30", vat81, 1), comp(ParkingTime, "2.00", vat81, 60)))
	start := local("2026-05-04 08:00")
	full := timeline(start, charge(30*time.Minute, 5000), charge(30*time.Minute, 5000), park(30*time.Minute))
	var last int64 = -1
	for now := start; !now.After(full.End); now = now.Add(5 * time.Minute) {
		s := full
		s.End = now
		s.Samples = nil
		for _, x := range full.Samples {
			if !x.At.After(now) {
				s.Samples = append(s.Samples, x)
			}
		}
		c := mustPrice(t, tr, s)
		if c.Payable < last {
			t.Errorf("at %s the live cost fell from %d to %d", now.Format("15:04"), last, c.Payable)
		}
		last = c.Payable
	}
	if final := mustPrice(t, tr, full); final.Payable != last {
		t.Errorf("final %d, last live %d", final.Payable, last)
	}
}

func TestExplicitChargingIntervals(t *testing.T) {
	tr := Tariff{ID: "t", Elements: []Element{element(nil, comp(Time, "1.00", nil, 1), comp(ParkingTime, "4.00", nil, 1))}}
	start := local("2026-05-04 08:00")
	// The register moves only in the first hour, but the station reported Charging for 90 min.
	s := timeline(start, charge(time.Hour, 10000), park(time.Hour))
	s.Charging = []Interval{{start, start.Add(90 * time.Minute)}}
	c := mustPrice(t, tr, s)
	if c.ChargingS != 5400 || c.ParkingS != 1800 || c.TotalNet != 150+200 {
		t.Errorf("charging %d s parking %d s net %d, want 5400, 1800, 350", c.ChargingS, c.ParkingS, c.TotalNet)
	}
}

func TestChargingPowerThreshold(t *testing.T) {
	tr := Tariff{ID: "t", Elements: []Element{element(nil, comp(Time, "1.00", nil, 1), comp(ParkingTime, "4.00", nil, 1))}}
	start := local("2026-05-04 08:00")
	// A trickle the 1 Wh register does not show between two samples a minute apart.
	s := timeline(start, seg{d: time.Minute, power: ptr[int64](40)}, seg{d: time.Minute, power: ptr[int64](0)})
	if c := mustPrice(t, tr, s); c.ChargingS != 0 {
		t.Errorf("without threshold: charging %d s, want 0", c.ChargingS)
	}
	s.ChargingPowerW = 30
	if c := mustPrice(t, tr, s); c.ChargingS != 60 || c.ParkingS != 60 {
		t.Errorf("with threshold: charging %d s, parking %d s, want 60, 60", c.ChargingS, c.ParkingS)
	}
}

func TestSamplesOutsideTheSession(t *testing.T) {
	tr := Tariff{ID: "t", Elements: []Element{element(nil, comp(Energy, "1.00", nil, 1))}}
	start := local("2026-05-04 08:00")
	s := timeline(start.Add(-time.Hour), charge(4*time.Hour, 4000)) // 1 kWh/h from 07:00 to 11:00
	s.Start, s.End = start, start.Add(2*time.Hour)
	c := mustPrice(t, tr, s)
	if c.EnergyWh != 2000 || c.TotalNet != 200 {
		t.Errorf("energy %d net %d, want 2000 Wh and 2.00", c.EnergyWh, c.TotalNet)
	}
}

func TestSessionErrors(t *testing.T) {
	tr := Tariff{ID: "t", Elements: []Element{element(nil, comp(Energy, "1.00", nil, 1))}}
	start := local("2026-05-04 08:00")
	ok := timeline(start, charge(time.Hour, 1000))
	for name, mutate := range map[string]func(s *Session){
		"no location":        func(s *Session) { s.Location = nil },
		"end before start":   func(s *Session) { s.End = start.Add(-time.Second) },
		"register decreases": func(s *Session) { s.Samples[0].EnergyWh = 2000 },
		"negative register":  func(s *Session) { s.Samples[0].EnergyWh = -1 },
		"samples out of order": func(s *Session) {
			s.Samples[0].At, s.Samples[1].At = s.Samples[1].At, s.Samples[0].At
		},
		"too long": func(s *Session) { s.End = start.Add(MaxSessionDuration + time.Hour) },
		"overlapping charge": func(s *Session) {
			s.Charging = []Interval{{start, start.Add(time.Hour)}, {start, start.Add(time.Hour)}}
		},
	} {
		s := ok
		s.Samples = append([]Sample(nil), ok.Samples...)
		mutate(&s)
		if _, err := Price(tr, s); !errors.Is(err, ErrInvalidSession) {
			t.Errorf("%s: err %v, want ErrInvalidSession", name, err)
		}
	}
	if _, err := Price(Tariff{}, ok); !errors.Is(err, ErrInvalidTariff) {
		t.Errorf("invalid tariff: err %v, want ErrInvalidTariff", err)
	}
}

func TestZeroLengthSession(t *testing.T) {
	tr := swiss(element(nil, comp(Flat, "1.00", vat81, 1), comp(Energy, "0.30", vat81, 1)))
	start := local("2026-05-04 08:00")
	c := mustPrice(t, tr, Session{Start: start, End: start, Location: zurich})
	if c.TotalNet != 100 || c.Payable != 110 { // the start fee shows at once; 1.081 → 1.10
		t.Errorf("net %d payable %d, want 100, 110", c.TotalNet, c.Payable)
	}
}

func TestVATByRate(t *testing.T) {
	tr := Tariff{ID: "t", Elements: []Element{
		element(nil, comp(Flat, "1.00", nil, 1), comp(Energy, "0.30", vat("8.1"), 1), comp(ParkingTime, "1.00", vat("2.6"), 1)),
	}}
	c := mustPrice(t, tr, timeline(local("2026-05-04 08:00"), charge(time.Hour, 10000), park(time.Hour)))
	got := c.VATByRate()
	want := []VATTotal{{nil, 100, 0}, {vat("2.6"), 100, 3}, {vat("8.1"), 300, 24}}
	if len(got) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i := range want {
		if rateKey(got[i].Rate) != rateKey(want[i].Rate) || got[i].Net != want[i].Net || got[i].VAT != want[i].VAT {
			t.Errorf("rate %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestCheckFindsBrokenCosts(t *testing.T) {
	good := Cost{Currency: "CHF", Lines: []Line{{Type: LineEnergy, Net: 100, VAT: 8, Gross: 108}, {Type: LineRounding, Gross: 2}},
		TotalNet: 100, TotalVAT: 8, TotalGross: 108, Rounding: 2, Payable: 110}
	if err := good.Check(); err != nil {
		t.Fatalf("good cost: %v", err)
	}
	for name, mutate := range map[string]func(c *Cost){
		"line gross":      func(c *Cost) { c.Lines[0].Gross++ },
		"total net":       func(c *Cost) { c.TotalNet++ },
		"payable":         func(c *Cost) { c.Payable++ },
		"rounding line":   func(c *Cost) { c.Lines = c.Lines[:1] },
		"negative line":   func(c *Cost) { c.Lines[0].Net, c.Lines[0].VAT = -1, 109 },
		"no currency":     func(c *Cost) { c.Currency = "" },
		"rounding amount": func(c *Cost) { c.Lines[1].Gross = 3 },
	} {
		c := good
		c.Lines = append([]Line(nil), good.Lines...)
		mutate(&c)
		if c.Check() == nil {
			t.Errorf("%s: Check found nothing", name)
		}
	}
}

func TestMinPriceLine(t *testing.T) {
	c := mustPrice(t, minPriceTariff(), timeline(local("2026-05-04 08:00"), park(time.Minute)))
	if len(c.Lines) != 1 || c.Lines[0].Type != LineMinPrice || c.Lines[0].Net != 50 || c.Lines[0].VAT != 5 {
		t.Errorf("lines %+v, want one MIN_PRICE line of 0.50 + 0.05", c.Lines)
	}
}

// The cap spreads over the lines in proportion and leaves the idle fee alone.
func TestMaxPriceSplitAndIdleFee(t *testing.T) {
	tr := maxPriceTariff()
	tr.IdleFee = &IdleFee{PricePerHour: money("3"), Basis: IdleFromSessionStart, GraceMinutes: 300}
	c := mustPrice(t, tr, timeline(local("2026-05-04 08:00"), charge(5*time.Hour, 50000), park(time.Hour)))
	// 13.00 capped to 10.00: flat 0.50 → 0.3846, energy 12.50 → 9.6154; VAT capped to 1.00.
	want := map[LineType][2]int64{LineFlat: {38, 7}, LineEnergy: {962, 93}, LineIdleFee: {300, 0}}
	for _, l := range c.Lines {
		if w := want[l.Type]; l.Net != w[0] || l.VAT != w[1] {
			t.Errorf("%s: net %d VAT %d, want %d %d", l.Type, l.Net, l.VAT, w[0], w[1])
		}
	}
	if c.TotalNet != 1300 || c.TotalGross != 1400 {
		t.Errorf("net %d gross %d, want 13.00 and 14.00 (10.00/11.00 capped + 3.00 idle)", c.TotalNet, c.TotalGross)
	}
}
