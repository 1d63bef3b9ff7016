package station

import (
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestNormalizeSample(t *testing.T) {
	ts := time.Date(2026, 3, 29, 1, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		in   Sample
		want MeterValue
	}{
		{"bare value is an energy register in Wh", Sample{Timestamp: ts, Value: "1234"},
			MeterValue{Measurand: DefaultMeasurand, Context: DefaultContext, Location: DefaultLocation, Format: DefaultFormat, Unit: "Wh", RawValue: "1234", Milli: ptr[int64](1234000)}},
		{"kWh to Wh keeps the raw value", Sample{Timestamp: ts, Value: "12.3456", Unit: "kWh"},
			MeterValue{Measurand: DefaultMeasurand, Context: DefaultContext, Location: DefaultLocation, Format: DefaultFormat, Unit: "Wh", RawUnit: "kWh", RawValue: "12.3456", Milli: ptr[int64](12345600)}},
		{"kW to W, phase kept", Sample{Timestamp: ts, Value: "7.4", Unit: "kW", Measurand: "Power.Active.Import", Phase: "L1"},
			MeterValue{Measurand: "Power.Active.Import", Phase: "L1", Context: DefaultContext, Location: DefaultLocation, Format: DefaultFormat, Unit: "W", RawUnit: "kW", RawValue: "7.4", Milli: ptr[int64](7400000)}},
		{"power without unit is W", Sample{Timestamp: ts, Value: "11000", Measurand: "Power.Active.Import"},
			MeterValue{Measurand: "Power.Active.Import", Context: DefaultContext, Location: DefaultLocation, Format: DefaultFormat, Unit: "W", RawValue: "11000", Milli: ptr[int64](11000000)}},
		{"current in A with context and location", Sample{Timestamp: ts, Value: "15.95", Measurand: "Current.Import", Unit: "A", Context: "Sample.Clock", Location: "Inlet"},
			MeterValue{Measurand: "Current.Import", Context: "Sample.Clock", Location: "Inlet", Format: DefaultFormat, Unit: "A", RawUnit: "A", RawValue: "15.95", Milli: ptr[int64](15950)}},
		{"signed data is kept but not read", Sample{Timestamp: ts, Value: "0a1b2c", Format: "SignedData"},
			MeterValue{Measurand: DefaultMeasurand, Context: DefaultContext, Location: DefaultLocation, Format: "SignedData", Unit: "Wh", RawValue: "0a1b2c"}},
		{"not a number is kept but not read", Sample{Timestamp: ts, Value: "n/a", Measurand: "SoC"},
			MeterValue{Measurand: "SoC", Context: DefaultContext, Location: DefaultLocation, Format: DefaultFormat, Unit: "Percent", RawValue: "n/a"}},
		{"NaN is not a reading", Sample{Timestamp: ts, Value: "NaN"},
			MeterValue{Measurand: DefaultMeasurand, Context: DefaultContext, Location: DefaultLocation, Format: DefaultFormat, Unit: "Wh", RawValue: "NaN"}},
		{"negative export", Sample{Timestamp: ts, Value: "-0.0005", Unit: "kWh", Measurand: "Energy.Active.Export.Register"},
			MeterValue{Measurand: "Energy.Active.Export.Register", Context: DefaultContext, Location: DefaultLocation, Format: DefaultFormat, Unit: "Wh", RawUnit: "kWh", RawValue: "-0.0005", Milli: ptr[int64](-500)}},
		{"reactive kvarh", Sample{Timestamp: ts, Value: "2", Unit: "kvarh", Measurand: "Energy.Reactive.Import.Register"},
			MeterValue{Measurand: "Energy.Reactive.Import.Register", Context: DefaultContext, Location: DefaultLocation, Format: DefaultFormat, Unit: "varh", RawUnit: "kvarh", RawValue: "2", Milli: ptr[int64](2000000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NormalizeSample(tt.in)
			tt.want.Timestamp = ts.UTC()
			if got.Timestamp != tt.want.Timestamp || got.Timestamp.Location() != time.UTC {
				t.Errorf("timestamp %v, want %v in UTC", got.Timestamp, tt.want.Timestamp)
			}
			if (got.Milli == nil) != (tt.want.Milli == nil) || (got.Milli != nil && *got.Milli != *tt.want.Milli) {
				t.Errorf("milli %v, want %v", deref(got.Milli), deref(tt.want.Milli))
			}
			got.Milli, tt.want.Milli = nil, nil
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestMeterValueWh(t *testing.T) {
	for _, tt := range []struct {
		milli *int64
		unit  string
		want  int64
		ok    bool
	}{
		{ptr[int64](12345600), "Wh", 12346, true},
		{ptr[int64](12345499), "Wh", 12345, true},
		{ptr[int64](-1500), "Wh", -2, true},
		{ptr[int64](1000), "W", 0, false},
		{nil, "Wh", 0, false},
	} {
		got, ok := MeterValue{Milli: tt.milli, Unit: tt.unit}.Wh()
		if got != tt.want || ok != tt.ok {
			t.Errorf("Wh(%v %s) = %d %v, want %d %v", deref(tt.milli), tt.unit, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSettleEnergy(t *testing.T) {
	tests := []struct {
		name              string
		start, stop       int64
		lastRegister      *int64
		wantEnergy        *int64
		wantRegisterReset bool
	}{
		{"normal", 1000, 5500, nil, ptr[int64](4500), false},
		{"nothing charged", 1000, 1000, nil, ptr[int64](0), false},
		{"reset without readings is unknown", 1000, 200, nil, nil, true},
		{"reset with readings counts what was proven", 1000, 0, ptr[int64](3000), ptr[int64](2000), true},
		{"reset with readings below start is unknown", 1000, 0, ptr[int64](500), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, flags := SettleEnergy(tt.start, tt.stop, tt.lastRegister)
			if (e == nil) != (tt.wantEnergy == nil) || (e != nil && *e != *tt.wantEnergy) {
				t.Errorf("energy %v, want %v", deref(e), deref(tt.wantEnergy))
			}
			if e != nil && *e < 0 {
				t.Errorf("negative energy %d", *e)
			}
			reset := len(flags) == 1 && flags[0] == FlagRegisterReset
			if reset != tt.wantRegisterReset || (!reset && len(flags) > 0) {
				t.Errorf("flags %v, want register reset %v", flags, tt.wantRegisterReset)
			}
		})
	}
}

func FuzzSettleEnergy(f *testing.F) {
	f.Add(int64(0), int64(10), int64(5), true)
	f.Add(int64(100), int64(10), int64(500), false)
	f.Fuzz(func(t *testing.T, start, stop, last int64, haveLast bool) {
		if start < 0 || stop < 0 || last < 0 {
			return // registers are never negative on the wire that reaches here
		}
		var lp *int64
		if haveLast {
			lp = &last
		}
		e, _ := SettleEnergy(start, stop, lp)
		if e != nil && *e < 0 {
			t.Fatalf("SettleEnergy(%d, %d, %v) = %d", start, stop, deref(lp), *e)
		}
	})
}

func TestDecideTag(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		tag       IdTag
		want      AuthStatus
		wantCache time.Time
	}{
		{"unknown tag is accepted", IdTag{IdTag: "A"}, AuthAccepted, time.Time{}},
		{"blocked", IdTag{Blocked: true, ExpiresAt: now.Add(time.Hour)}, AuthBlocked, time.Time{}},
		{"expired at the instant", IdTag{ExpiresAt: now}, AuthExpired, now},
		{"expired before", IdTag{ExpiresAt: now.Add(-time.Second)}, AuthExpired, now.Add(-time.Second)},
		{"valid until later may be cached until then", IdTag{ExpiresAt: now.Add(time.Hour), ParentIdTag: "P"}, AuthAccepted, now.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DecideTag(tt.tag, now)
			if d.Status != tt.want || !d.CacheUntil.Equal(tt.wantCache) || d.ParentIdTag != tt.tag.ParentIdTag {
				t.Errorf("got %+v, want %s until %v parent %q", d, tt.want, tt.wantCache, tt.tag.ParentIdTag)
			}
		})
	}
}
