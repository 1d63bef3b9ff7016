package tariff

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	good := func() Tariff {
		return Tariff{ID: "t", Currency: "CHF", Elements: []Element{
			element(&Restrictions{StartTime: "22:00", EndTime: "06:00"}, comp(Energy, "0.20", vat81, 1)),
			element(nil, comp(Energy, "0.30", vat81, 1), comp(Flat, "1", vat81, 0)),
		}}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("good tariff: %v", err)
	}
	r0 := func(t *Tariff) *Restrictions { return t.Elements[0].Restrictions }
	tests := []struct {
		field  string // the field the error must name
		mutate func(t *Tariff)
	}{
		{"id", func(t *Tariff) { t.ID = "" }},
		{"currency", func(t *Tariff) { t.Currency = "chf" }},
		{"elements", func(t *Tariff) { t.Elements = nil }},
		{"elements", func(t *Tariff) { t.Elements = make([]Element, MaxElements+1) }},
		{"elements[1].price_components", func(t *Tariff) { t.Elements[1].Components = nil }},
		{"elements[1].price_components[0].price", func(t *Tariff) { t.Elements[1].Components[0].Price = -1 }},
		{"elements[1].price_components[0].type", func(t *Tariff) { t.Elements[1].Components[0].Type = "KWH" }},
		{"elements[1].price_components[1].type", func(t *Tariff) { t.Elements[1].Components[1].Type = Energy }},
		{"elements[1].price_components[0].vat", func(t *Tariff) { t.Elements[1].Components[0].VAT = ptr[VATRate](10001) }},
		{"elements[1].price_components[0].vat", func(t *Tariff) { t.Elements[1].Components[0].VAT = ptr[VATRate](-1) }},
		{"elements[1].price_components[0].step_size", func(t *Tariff) { t.Elements[1].Components[0].StepSize = -1 }},
		{"elements[0].restrictions.start_time", func(t *Tariff) { r0(t).StartTime = "24:00" }},
		{"elements[0].restrictions.end_time", func(t *Tariff) { r0(t).EndTime = "6:00" }},
		{"elements[0].restrictions.end_time", func(t *Tariff) { r0(t).EndTime = "22:00" }},
		{"elements[0].restrictions.start_date", func(t *Tariff) { r0(t).StartDate = "2026-02-30" }},
		{"elements[0].restrictions.end_date", func(t *Tariff) { r0(t).StartDate, r0(t).EndDate = "2026-03-01", "2026-03-01" }},
		{"elements[0].restrictions.min_kwh", func(t *Tariff) { r0(t).MinKWh, r0(t).MaxKWh = ptr[Wh](5000), ptr[Wh](1000) }},
		{"elements[0].restrictions.min_power", func(t *Tariff) { r0(t).MinPower, r0(t).MaxPower = ptr[Watts](5), ptr[Watts](5) }},
		{"elements[0].restrictions.min_current", func(t *Tariff) { r0(t).MinCurrent = ptr[MilliAmps](-1) }},
		{"elements[0].restrictions.max_duration", func(t *Tariff) { r0(t).MaxDuration = ptr[int64](maxRestriction + 1) }},
		{"elements[0].restrictions.min_duration", func(t *Tariff) { r0(t).MinDuration, r0(t).MaxDuration = ptr[int64](60), ptr[int64](30) }},
		{"elements[0].restrictions.day_of_week[0]", func(t *Tariff) { r0(t).DaysOfWeek = []DayOfWeek{"MON"} }},
		{"elements[0].restrictions.day_of_week[1]", func(t *Tariff) { r0(t).DaysOfWeek = []DayOfWeek{Monday, Monday} }},
		{"elements[0].restrictions.reservation", func(t *Tariff) { r0(t).Reservation = "MAYBE" }},
		{"min_price.excl_vat", func(t *Tariff) { t.MinPrice = &PriceLimit{ExclVAT: -1} }},
		{"max_price.incl_vat", func(t *Tariff) { t.MaxPrice = &PriceLimit{ExclVAT: 10, InclVAT: ptr[Micros](9)} }},
		{"min_price.excl_vat", func(t *Tariff) { t.MinPrice, t.MaxPrice = &PriceLimit{ExclVAT: 10}, &PriceLimit{ExclVAT: 5} }},
		{"idle_fee.basis", func(t *Tariff) { t.IdleFee = &IdleFee{PricePerHour: 1} }},
		{"idle_fee.grace_minutes", func(t *Tariff) { t.IdleFee = &IdleFee{Basis: IdleFromChargingEnd, GraceMinutes: -1} }},
		{"idle_fee.price_per_hour", func(t *Tariff) { t.IdleFee = &IdleFee{Basis: IdleFromChargingEnd, PricePerHour: -1} }},
		{"rounding.mode", func(t *Tariff) { t.Rounding.Mode = "BANKERS" }},
		{"rounding.payable_step", func(t *Tariff) { t.Rounding.PayableStep = -5 }},
		{"free", func(t *Tariff) { t.Free = true }},
		{"end_date_time", func(t *Tariff) { t.ValidFrom = time.Unix(100, 0); t.ValidTo = ptr(time.Unix(100, 0)) }},
	}
	for _, tc := range tests {
		tr := good()
		tc.mutate(&tr)
		err := tr.Validate()
		if !errors.Is(err, ErrInvalidTariff) {
			t.Errorf("%s: err %v, want ErrInvalidTariff", tc.field, err)
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "tariff: "+tc.field+": ") {
			t.Errorf("err %q does not name %s", err, tc.field)
		}
	}
}

// A tariff written as JSON reads back to the same value, and the numbers are OCPI's decimals.
func TestJSONRoundTrip(t *testing.T) {
	from := local("2026-03-01 00:00")
	tr := Tariff{ID: "t", Version: 2, Currency: "CHF", ValidFrom: from,
		Elements: []Element{
			element(&Restrictions{StartTime: "07:00", EndTime: "20:00", DaysOfWeek: Weekdays, MinKWh: ptr[Wh](1500),
				MaxPower: ptr[Watts](22000), MaxCurrent: ptr[MilliAmps](32000), MinDuration: ptr[int64](600)},
				comp(Energy, "0.2345", vat81, 1), comp(Time, "1.5", vat81, 60)),
			element(nil, comp(Energy, "0.19", vat81, 1)),
		},
		MinPrice: &PriceLimit{ExclVAT: money("0.50")},
		MaxPrice: &PriceLimit{ExclVAT: money("50"), InclVAT: ptr(money("54.05"))},
		IdleFee:  &IdleFee{PricePerHour: money("6"), VAT: vat81, GraceMinutes: 240, Basis: IdleFromSessionStart},
		Rounding: Rounding{PayableStep: 5, Mode: HalfUp},
	}
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"price":0.2345`, `"vat":8.1`, `"min_kwh":1.5`, `"max_power":22`, `"max_current":32`,
		`"day_of_week":["MONDAY",`, `"incl_vat":54.05`, `"start_date_time":"2026-03-01T00:00:00+01:00"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	var back Tariff
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	back.ValidFrom = back.ValidFrom.In(zurich)
	tr.ValidFrom = tr.ValidFrom.In(zurich)
	if !reflect.DeepEqual(back, tr) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, tr)
	}
	if err := json.Unmarshal([]byte(`{"elements":[{"price_components":[{"type":"ENERGY","price":0.1234567}]}]}`), &back); err == nil {
		t.Error("a price with 7 decimals read without error")
	}
}

func TestToOCPI(t *testing.T) {
	tr := Tariff{ID: "home-2026", ValidFrom: time.Date(2026, 3, 1, 0, 0, 0, 0, zurich),
		Elements: []Element{element(&Restrictions{StartTime: "22:00", EndTime: "06:00"}, comp(Energy, "0.2345", vat81, 0))},
		IdleFee:  &IdleFee{PricePerHour: money("6"), Basis: IdleFromChargingEnd},
		Rounding: Rounding{PayableStep: 5},
	}
	o, err := tr.ToOCPI(OCPIParty{CountryCode: "CH", PartyID: "CBK", LastUpdated: time.Date(2026, 2, 20, 10, 0, 0, 5, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(o)
	want := `{"country_code":"CH","party_id":"CBK","id":"home-2026","currency":"CHF",` +
		`"elements":[{"price_components":[{"type":"ENERGY","price":0.2345,"vat":8.1,"step_size":1}],` +
		`"restrictions":{"start_time":"22:00","end_time":"06:00"}}],` +
		`"start_date_time":"2026-02-28T23:00:00Z","last_updated":"2026-02-20T10:00:00Z"}`
	if string(b) != want {
		t.Errorf("OCPI JSON\n got %s\nwant %s", b, want)
	}

	free, err := Tariff{ID: "free", Free: true}.ToOCPI(OCPIParty{CountryCode: "CH", PartyID: "CBK"})
	if err != nil || len(free.Elements) != 1 || free.Elements[0].Components[0].Type != Flat || free.Elements[0].Components[0].Price != 0 {
		t.Errorf("free tariff: %+v, %v; want one FLAT 0.00", free, err)
	}
	tr.Elements[0].Components[0].Price = money("0.23456")
	if _, err := tr.ToOCPI(OCPIParty{CountryCode: "CH", PartyID: "CBK"}); err == nil || !strings.Contains(err.Error(), "4 decimals") {
		t.Errorf("5-decimal price: err %v", err)
	}
	if _, err := tr.ToOCPI(OCPIParty{CountryCode: "che", PartyID: "CBK"}); err == nil {
		t.Error("bad country code accepted")
	}
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in    string
		scale int
		want  int64
		ok    bool
	}{
		{"0.2345", 6, 234500, true},
		{"8.1", 2, 810, true},
		{"10", 2, 1000, true},
		{"-1.5", 6, -1500000, true},
		{"2.50", 6, 2500000, true},
		{"1e-2", 6, 10000, true},
		{"2.5E+1", 6, 25000000, true},
		{"0.12345670", 6, 0, false},
		{"0.1234567", 6, 0, false},
		{"0.1234560", 6, 123456, true},
		{"1.", 2, 0, false},
		{".5", 2, 0, false},
		{"", 2, 0, false},
		{"1e", 2, 0, false},
		{"+1", 2, 0, false},
		{"0x10", 2, 0, false},
		{"9223372036854.775807", 6, 9223372036854775807, true},
		{"9223372036854.775808", 6, 0, false},
		{"1e300", 2, 0, false},
		{"0e300", 2, 0, false},
		{"000.000", 3, 0, true},
	} {
		got, err := ParseDecimal(tc.in, tc.scale)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDecimal(%q, %d) = %d, %v; want %d, ok %v", tc.in, tc.scale, got, err, tc.want, tc.ok)
		}
	}
	for v, want := range map[int64]string{2500000: "2.5", 234500: "0.2345", 0: "0", -10000: "-0.01", 1000000: "1"} {
		if got := formatDecimal(v, 6); got != want {
			t.Errorf("formatDecimal(%d) = %q, want %q", v, got, want)
		}
	}
}

// FuzzParseDecimal: whatever ParseDecimal accepts, formatDecimal writes back to the same value.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0.2345", "8.1", "-12.5e-3", "1e18", "0.000001", "9223372036854.775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseDecimal(s, 6)
		if err != nil {
			return
		}
		back, err := ParseDecimal(formatDecimal(v, 6), 6)
		if err != nil || back != v {
			t.Fatalf("%q → %d → %q → %d, %v", s, v, formatDecimal(v, 6), back, err)
		}
	})
}

// FuzzTariffJSON: a tariff read from any JSON either fails validation or prices a session
// into a cost that adds up, and exports to OCPI without panicking.
func FuzzTariffJSON(f *testing.F) {
	f.Add([]byte(complexTariffJSON))
	f.Add([]byte(`{"id":"t","elements":[{"price_components":[{"type":"ENERGY","price":0.2345,"vat":8.1,"step_size":100}],` +
		`"restrictions":{"start_time":"22:00","end_time":"06:00","min_kwh":1.5,"max_duration":3600}}],` +
		`"max_price":{"excl_vat":10,"incl_vat":10.81},"idle_fee":{"price_per_hour":6,"grace_minutes":60,"basis":"CHARGING_END"},` +
		`"rounding":{"payable_step":5}}`))
	f.Add([]byte(`{"id":"f","free":true}`))
	session := timeline(local("2026-03-28 21:00"),
		charge(3*time.Hour, 20000), park(time.Hour), charge(2*time.Hour, 5000), park(5*time.Hour))
	f.Fuzz(func(t *testing.T, b []byte) {
		var tr Tariff
		if json.Unmarshal(b, &tr) != nil || tr.Validate() != nil {
			return
		}
		c, err := Price(tr, session)
		if err != nil {
			if errors.Is(err, errAmount) {
				return // absurd prices
			}
			t.Fatalf("valid tariff not priced: %v", err)
		}
		if err := c.Check(); err != nil {
			t.Fatal(err)
		}
		_, _ = tr.ToOCPI(OCPIParty{CountryCode: "CH", PartyID: "CBK"})
	})
}
