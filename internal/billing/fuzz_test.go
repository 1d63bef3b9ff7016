package billing

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/tariff"
)

// FuzzTimeline feeds Timeline what stations send, readings in any order, at any time, of any
// value, and checks that tariff.Price takes every session it builds: whatever the readings, a
// transaction whose stop tells its energy is priced, and its energy is what it charged.
func FuzzTimeline(f *testing.F) {
	f.Add(int64(1000), int64(5000), int64(3600), []byte{10, 0, 0, 0, 0, 0, 7, 208})
	f.Add(int64(5000), int64(10), int64(60), []byte{})
	f.Add(int64(0), int64(0), int64(0), []byte{255, 255, 255, 255, 255, 255, 255, 255, 0})
	rules := tariff.Tariff{ID: "1", Elements: []tariff.Element{
		{Components: []tariff.Component{{Type: tariff.Energy, Price: 400_000, StepSize: 1}}, Restrictions: &tariff.Restrictions{StartTime: "18:00", EndTime: "06:00"}},
		{Components: []tariff.Component{{Type: tariff.Energy, Price: 300_000, StepSize: 1}, {Type: tariff.ParkingTime, Price: 1_000_000, StepSize: 60}}},
	}}
	zurich, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		f.Fatal(err)
	}
	start := time.Date(2026, 3, 28, 17, 0, 0, 0, zurich) // the night before a DST change
	f.Fuzz(func(t *testing.T, meterStart, meterStop, seconds int64, readings []byte) {
		if meterStart < 0 || meterStop < 0 || meterStart > 1e12 || meterStop > 1e12 || seconds < 0 || seconds > 7*86400 {
			return
		}
		tx := station.Transaction{ID: 1, MeterStartWh: meterStart, StartedAt: start, Stopped: true,
			MeterStopWh: meterStop, StoppedAt: start.Add(time.Duration(seconds) * time.Second)}
		if meterStop < meterStart {
			tx.Flags = []station.Flag{station.FlagRegisterReset}
			if len(readings)%2 == 1 {
				e := int64(readings[0]) * 100
				tx.EnergyWh = &e
			}
		}
		var values []station.MeterValue
		for len(readings) >= 8 {
			at := int64(binary.BigEndian.Uint16(readings[0:2])) * 10
			wh := int64(binary.BigEndian.Uint32(readings[2:6])) + meterStart - 1<<31
			m := wh * 1000
			v := station.MeterValue{Timestamp: start.Add(time.Duration(at-1000) * time.Second), Measurand: station.DefaultMeasurand, Unit: "Wh", Milli: &m}
			if readings[6]%4 == 0 {
				v.Measurand = "Power.Active.Import"
				v.Unit = "W"
			}
			values = append(values, v)
			readings = readings[8:]
		}
		s, err := Timeline(tx, values, time.Time{}, zurich)
		if err != nil {
			if tx.EnergyWh == nil && tx.HasFlag(station.FlagRegisterReset) {
				return
			}
			t.Fatalf("Timeline: %v", err)
		}
		c, err := tariff.Price(rules, s)
		if err != nil {
			t.Fatalf("Price of %+v: %v", s, err)
		}
		if err := c.Check(); err != nil {
			t.Fatal(err)
		}
		want := meterStop - meterStart
		if tx.EnergyWh != nil {
			want = *tx.EnergyWh
		}
		if c.EnergyWh != want {
			t.Errorf("energy %d Wh, want %d", c.EnergyWh, want)
		}
	})
}
