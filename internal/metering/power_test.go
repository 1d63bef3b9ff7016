package metering

import (
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/station"
)

// mv is a normalised meter value of connector 1 of station 7 in transaction 9, at t0 plus
// sec seconds; "Wh" and "W" values are given in their unit.
func mv(sec int, measurand, phase, unit string, value int64) station.MeterValue {
	milli := value * 1000
	return station.MeterValue{
		StationID: 7, ConnectorID: 1, TransactionID: 9, Timestamp: t0.Add(time.Duration(sec) * time.Second),
		Measurand: measurand, Phase: phase, Unit: unit, Location: station.DefaultLocation, Format: "Raw", Milli: &milli,
	}
}

func reg(sec int, wh int64) station.MeterValue {
	return mv(sec, station.DefaultMeasurand, "", "Wh", wh)
}
func pw(sec int, phase string, w int64) station.MeterValue {
	return mv(sec, MeasurandPower, phase, "W", w)
}

func TestLivePower(t *testing.T) {
	inlet := pw(60, "", 3000)
	inlet.Location = "Inlet"
	tests := []struct {
		name   string
		values []station.MeterValue
		now    time.Time
		want   Power
		ok     bool
	}{
		{name: "nothing", values: nil, ok: false},
		{name: "one register reading: no slope", values: []station.MeterValue{reg(0, 1000)}, ok: false},
		{
			name:   "measured total",
			values: []station.MeterValue{pw(0, "", 7000), reg(0, 1000), pw(60, "", 11_000), reg(60, 1200)},
			want:   Power{PowerW: 11_000, Source: SourcePowerMeasured, SampledAt: t0.Add(time.Minute)},
			ok:     true,
		},
		{
			name:   "phases summed at the newest timestamp, an older total and N and line-to-line values left out",
			values: []station.MeterValue{pw(30, "", 1), pw(60, "L1-N", 3680), pw(60, "L2-N", 3690), pw(60, "L3-N", 3700), pw(60, "N", 50), pw(60, "L1-L2", 99)},
			want:   Power{PowerW: 11_070, Source: SourcePowerMeasured, SampledAt: t0.Add(time.Minute)},
			ok:     true,
		},
		{
			name:   "register slope: 185 Wh in 60 s is 11.1 kW",
			values: []station.MeterValue{reg(0, 10_000), reg(60, 10_185)},
			want:   Power{PowerW: 11_100, Source: SourcePowerRegister, SampledAt: t0.Add(time.Minute)},
			ok:     true,
		},
		{
			name: "register slope over readings at least 10 s apart",
			// 3 s apart would say 1.2 kW or 0; 10_000 at 0 s, 10_031 at 10 s: 11.16 kW.
			values: []station.MeterValue{reg(10, 10_031), reg(0, 10_000), reg(7, 10_021), reg(8, 10_021)},
			want:   Power{PowerW: 11_160, Source: SourcePowerRegister, SampledAt: t0.Add(10 * time.Second)},
			ok:     true,
		},
		{
			name:   "measured older than the register readings: the slope is newer",
			values: []station.MeterValue{pw(0, "", 7000), reg(60, 10_000), reg(120, 10_100)},
			want:   Power{PowerW: 6000, Source: SourcePowerRegister, SampledAt: t0.Add(2 * time.Minute)},
			ok:     true,
		},
		{
			name:   "a register reset tells no power",
			values: []station.MeterValue{reg(0, 10_000), reg(60, 5)},
			ok:     false,
		},
		{
			name:   "inlet power is not the connector's",
			values: []station.MeterValue{inlet, reg(0, 0), reg(60, 100)},
			want:   Power{PowerW: 6000, Source: SourcePowerRegister, SampledAt: t0.Add(time.Minute)},
			ok:     true,
		},
		{
			name:   "stale after 3 minutes",
			values: []station.MeterValue{pw(0, "", 7000)},
			now:    t0.Add(3*time.Minute + time.Second),
			want:   Power{PowerW: 7000, Source: SourcePowerMeasured, SampledAt: t0, Stale: true},
			ok:     true,
		},
		{
			name:   "not stale at 3 minutes",
			values: []station.MeterValue{pw(0, "", 7000)},
			now:    t0.Add(3 * time.Minute),
			want:   Power{PowerW: 7000, Source: SourcePowerMeasured, SampledAt: t0},
			ok:     true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = t0.Add(2 * time.Minute)
			}
			got, ok := LivePower(tt.values, now)
			if ok != tt.ok {
				t.Fatalf("ok %v, want %v (%+v)", ok, tt.ok, got)
			}
			if !ok {
				return
			}
			tt.want.StationID, tt.want.ConnectorID, tt.want.TransactionID = 7, 1, 9
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
