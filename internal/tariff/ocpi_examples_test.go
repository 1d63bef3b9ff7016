package tariff

import (
	"encoding/json"
	"testing"
	"time"
)

// The worked examples of the OCPI 2.2.1 tariffs module (mod_tariffs.asciidoc and its
// examples/*.json), amounts in euro cents excl. and incl. VAT.

var (
	energy025 = comp(Energy, "0.25", vat("10"), 1)
	startFee  = comp(Flat, "0.50", vat("20"), 1)
)

// complexTariffJSON is the tariff of OCPI's complex example (tariff_4_complex), in OCPI
// JSON: the JSON of a Tariff reads it as it is.
const complexTariffJSON = `{
  "id": "14", "currency": "EUR",
  "elements": [
    {"price_components": [{"type": "FLAT", "price": 2.50, "vat": 15.0, "step_size": 1}]},
    {"price_components": [{"type": "TIME", "price": 1.00, "vat": 20.0, "step_size": 900}],
     "restrictions": {"max_current": 32.00}},
    {"price_components": [{"type": "TIME", "price": 2.00, "vat": 20.0, "step_size": 600}],
     "restrictions": {"min_current": 32.00, "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]}},
    {"price_components": [{"type": "TIME", "price": 1.25, "vat": 20.0, "step_size": 600}],
     "restrictions": {"min_current": 32.00, "day_of_week": ["SATURDAY", "SUNDAY"]}},
    {"price_components": [{"type": "PARKING_TIME", "price": 5.00, "vat": 10.0, "step_size": 300}],
     "restrictions": {"start_time": "09:00", "end_time": "18:00", "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]}},
    {"price_components": [{"type": "PARKING_TIME", "price": 6.00, "vat": 10.0, "step_size": 300}],
     "restrictions": {"start_time": "10:00", "end_time": "17:00", "day_of_week": ["SATURDAY"]}}
  ],
  "tax_included": "NO", "last_updated": "2015-06-29T20:39:09Z"
}`

// stepSizeTariff is OCPI's step-size example (tariff_14_step_size): charging 1.20/h before
// 17:00 in steps of 30 min, 2.40/h after in steps of 15 min, parking 1.00/h until 20:00.
var stepSizeTariff = Tariff{ID: "22", Currency: "EUR", Elements: []Element{
	element(&Restrictions{StartTime: "00:00", EndTime: "17:00"}, comp(Time, "1.20", nil, 1800), comp(ParkingTime, "1.00", nil, 900)),
	element(&Restrictions{StartTime: "17:00", EndTime: "20:00"}, comp(Time, "2.40", nil, 900), comp(ParkingTime, "1.00", nil, 900)),
	element(&Restrictions{StartTime: "20:00", EndTime: "23:59"}, comp(Time, "2.40", nil, 900)),
}}

func TestOCPIWorkedExamples(t *testing.T) {
	var complexTariff Tariff
	if err := json.Unmarshal([]byte(complexTariffJSON), &complexTariff); err != nil {
		t.Fatal(err)
	}
	monday := local("2026-03-02 09:30")
	saturday := local("2026-03-07 13:30")
	amps := func(a int64) *int64 { return ptr(a * 230) } // power at 230 V per phase, summed

	tests := []struct {
		name       string
		tariff     Tariff
		session    Session
		net, gross int64
	}{{
		name:    "0.25/kWh 10% VAT, 20 kWh",
		tariff:  Tariff{ID: "8", Currency: "EUR", Elements: []Element{element(nil, energy025)}},
		session: timeline(monday, charge(2*time.Hour, 20000)),
		net:     500, gross: 550,
	}, {
		name:    "0.25/kWh + 0.50 start fee at 20%, 20 kWh",
		tariff:  Tariff{ID: "9", Currency: "EUR", Elements: []Element{element(nil, startFee), element(nil, energy025)}},
		session: timeline(monday, charge(2*time.Hour, 20000)),
		net:     550, gross: 610,
	}, {
		name: "+ parking 2.00/h at 20% in steps of 900 s, parked 40 min",
		tariff: Tariff{ID: "10", Currency: "EUR", Elements: []Element{
			element(nil, startFee), element(nil, energy025), element(nil, comp(ParkingTime, "2.00", vat("20"), 900)),
		}},
		session: timeline(monday, charge(2*time.Hour, 20000), park(40*time.Minute)),
		net:     700, gross: 790,
	}, {
		name:    "max price 10.00/11.00, 50 kWh",
		tariff:  maxPriceTariff(),
		session: timeline(monday, charge(5*time.Hour, 50000)),
		net:     1000, gross: 1100,
	}, {
		name:    "max price 10.00/11.00, 30 kWh",
		tariff:  maxPriceTariff(),
		session: timeline(monday, charge(3*time.Hour, 30000)),
		net:     800, gross: 885,
	}, {
		name:    "TIME 2.00/h 10% in steps of 60 s, 2.5 h",
		tariff:  Tariff{ID: "1", Currency: "EUR", Elements: []Element{element(nil, comp(Time, "2.00", vat("10"), 60))}},
		session: timeline(monday, charge(150*time.Minute, 11000)),
		net:     500, gross: 550,
	}, {
		name: "TIME 3.00/h + PARKING 5.00/h, 150 min charging + 42 min parking",
		tariff: Tariff{ID: "13", Currency: "EUR", Elements: []Element{element(nil,
			comp(Time, "3.00", vat("10"), 60), comp(ParkingTime, "5.00", vat("20"), 300))}},
		session: timeline(monday, charge(150*time.Minute, 11000), park(42*time.Minute)),
		net:     1125, gross: 1275,
	}, {
		name:   "complex, Monday 09:30, 2.45 h at 16 A + 42 min parking",
		tariff: complexTariff,
		session: timeline(monday,
			seg{d: 147 * time.Minute, wh: 9016, power: amps(16)}, seg{d: 42 * time.Minute, power: ptr[int64](0)}),
		net: 875, gross: 1000,
	}, {
		name:   "complex, Saturday 13:30, 1.9 h at 43 A + 71 min parking",
		tariff: complexTariff,
		session: timeline(saturday,
			seg{d: 114 * time.Minute, wh: 18791, power: amps(43)}, seg{d: 71 * time.Minute, power: ptr[int64](0)}),
		net: 1250, gross: 1413, // OCPI: "12.50 euro (excl. VAT) or 14,13 euro (incl. VAT)"
	}, {
		name: "max_duration: first 30 min free, 0.25 until 60 min, then 0.40; 40 min, 5 + 1.2 kWh",
		tariff: Tariff{ID: "2", Currency: "EUR", Elements: []Element{
			element(&Restrictions{MaxDuration: ptr[int64](1800)}, comp(Energy, "0.00", vat("20"), 1)),
			element(&Restrictions{MaxDuration: ptr[int64](3600)}, comp(Energy, "0.25", vat("20"), 1)),
			element(nil, comp(Energy, "0.40", vat("20"), 1)),
		}},
		session: timeline(monday, charge(30*time.Minute, 5000), charge(10*time.Minute, 1200)),
		net:     30, gross: 36,
	}, {
		name: "max_power: 1 kWh at 6 kW, 40 kWh at 48 kW, 0.5 kWh at 4 kW",
		tariff: Tariff{ID: "1", Currency: "EUR", Elements: []Element{
			element(&Restrictions{MaxPower: ptr[Watts](16000)}, comp(Energy, "0.20", vat("20"), 1)),
			element(&Restrictions{MaxPower: ptr[Watts](32000)}, comp(Energy, "0.35", vat("20"), 1)),
			element(nil, comp(Energy, "0.50", vat("20"), 1)),
		}},
		session: timeline(monday, charge(10*time.Minute, 1000), charge(50*time.Minute, 40000), charge(450*time.Second, 500)),
		net:     2030, gross: 2436,
	}, {
		name:    "step size across 17:00: plug in 16:55, charge 10 min, unplug",
		tariff:  stepSizeTariff,
		session: timeline(local("2026-03-02 16:55"), charge(10*time.Minute, 1000)),
		net:     50, gross: 50,
	}, {
		name:    "step size across 17:00: plug in 16:35, charge 35 min, unplug",
		tariff:  stepSizeTariff,
		session: timeline(local("2026-03-02 16:35"), charge(35*time.Minute, 3000)),
		net:     130, gross: 130,
	}, {
		name:    "step size, switching to free parking: 19:55, charge 10 min, park 2 min",
		tariff:  stepSizeTariff,
		session: timeline(local("2026-03-02 19:55"), charge(10*time.Minute, 1000), park(2*time.Minute)),
		net:     60, gross: 60,
	}, {
		name:    "min price 0.50/0.55, 20 kWh",
		tariff:  minPriceTariff(),
		session: timeline(monday, charge(2*time.Hour, 20000)),
		net:     500, gross: 550,
	}, {
		name:    "min price 0.50/0.55, 1 kWh",
		tariff:  minPriceTariff(),
		session: timeline(monday, charge(10*time.Minute, 1000)),
		net:     50, gross: 55,
	}, {
		name:    "min price 0.50/0.55, nothing charged",
		tariff:  minPriceTariff(),
		session: timeline(monday, park(10*time.Minute)),
		net:     50, gross: 55,
	}, {
		name:    "TIME 1.90/h 5.2% in steps of 300 s, 2.5 h (ad-hoc alt text example)",
		tariff:  Tariff{ID: "12", Currency: "EUR", Elements: []Element{element(nil, comp(Time, "1.90", vat("5.2"), 300))}},
		session: timeline(monday, charge(150*time.Minute, 11000)),
		net:     475, gross: 500,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustPrice(t, tc.tariff, tc.session)
			if c.TotalNet != tc.net || c.TotalGross != tc.gross {
				t.Errorf("net/gross = %d/%d, want %d/%d\nlines: %+v", c.TotalNet, c.TotalGross, tc.net, tc.gross, c.Lines)
			}
			if c.Rounding != 0 || c.Payable != c.TotalGross {
				t.Errorf("payable %d rounding %d, want exact", c.Payable, c.Rounding)
			}
		})
	}
}

func maxPriceTariff() Tariff {
	return Tariff{ID: "16", Currency: "EUR",
		MaxPrice: &PriceLimit{ExclVAT: money("10"), InclVAT: ptr(money("11"))},
		Elements: []Element{element(nil, startFee), element(nil, energy025)},
	}
}

func minPriceTariff() Tariff {
	return Tariff{ID: "12", Currency: "EUR",
		MinPrice: &PriceLimit{ExclVAT: money("0.50"), InclVAT: ptr(money("0.55"))},
		Elements: []Element{element(nil, energy025)},
	}
}

// The complex example's lines: the 3 minutes billed beyond the 147 charged (step 900 s) and
// the 3 beyond the 42 parked (step 300 s), and VAT rounded once over the three rates.
func TestComplexExampleLines(t *testing.T) {
	var tr Tariff
	if err := json.Unmarshal([]byte(complexTariffJSON), &tr); err != nil {
		t.Fatal(err)
	}
	c := mustPrice(t, tr, timeline(local("2026-03-02 09:30"),
		seg{d: 147 * time.Minute, wh: 9016}, park(42*time.Minute))) // power from energy: 3680 W = 16 A
	want := []Line{
		{Type: LineFlat, Element: 0, Quantity: 1, UnitPrice: money("2.5"), VATRate: vat("15"), Net: 250, VAT: 38, Gross: 288},
		{Type: LineTime, Element: 1, Quantity: 150 * 60, UnitPrice: money("1"), VATRate: vat("20"), Net: 250, VAT: 50, Gross: 300},
		{Type: LineParkingTime, Element: 4, Quantity: 45 * 60, UnitPrice: money("5"), VATRate: vat("10"), Net: 375, VAT: 37, Gross: 412},
	}
	if len(c.Lines) != len(want) {
		t.Fatalf("lines %+v, want %+v", c.Lines, want)
	}
	for i := range want {
		if !sameLine(c.Lines[i], want[i]) {
			t.Errorf("line %d = %+v, want %+v", i, c.Lines[i], want[i])
		}
	}
	if c.TotalVAT != 125 {
		t.Errorf("VAT %d, want 125 (0.375 + 0.50 + 0.375, rounded once)", c.TotalVAT)
	}
}

func sameLine(a, b Line) bool {
	return a.Type == b.Type && a.Element == b.Element && a.Quantity == b.Quantity && a.UnitPrice == b.UnitPrice &&
		rateKey(a.VATRate) == rateKey(b.VATRate) && a.Net == b.Net && a.VAT == b.VAT && a.Gross == b.Gross
}

// OCPI's step-size example #1 says that the 2 minutes of parking after 17:05 are not billed
// because they are "within the extra 5 minutes of charging billed because of the step_size".
// Its complex example bills the 42 minutes of parking after 147 minutes of charging as 45,
// although 3 extra minutes of charging were billed. The two cannot both hold; chargebook
// follows the complex example and prices dimensions independently, so here the parking
// (1.00/h, step 15 min) adds 0.25.
func TestStepSizeParkingAfterCharging(t *testing.T) {
	c := mustPrice(t, stepSizeTariff, timeline(local("2026-03-02 16:55"), charge(10*time.Minute, 1000), park(2*time.Minute)))
	if c.TotalNet != 75 {
		t.Errorf("net %d, want 75: %+v", c.TotalNet, c.Lines)
	}
}

// OCPI's step-size rule makes a cost fall as a session goes on: 5 minutes before 17:00 bill
// 30 minutes at 1.20/h, but 10 minutes across 17:00 bill 5 at 1.20/h and 10 at 2.40/h.
func TestStepSizeCanLowerTheCost(t *testing.T) {
	s := timeline(local("2026-03-02 16:55"), charge(5*time.Minute, 500), charge(5*time.Minute, 500))
	full := mustPrice(t, stepSizeTariff, s)
	s.End = local("2026-03-02 17:00")
	s.Samples = s.Samples[:2]
	early := mustPrice(t, stepSizeTariff, s)
	if early.TotalNet != 60 || full.TotalNet != 50 {
		t.Errorf("16:55-17:00 %d, 16:55-17:05 %d; want 60 and 50", early.TotalNet, full.TotalNet)
	}
}
