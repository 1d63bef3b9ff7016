package metering

import (
	"time"

	"github.com/chargebook/chargebook/internal/station"
)

// MeasurandPower is the OCPP measurand of the active power a connector draws.
const MeasurandPower = "Power.Active.Import"

// The sources of a Power.
const (
	// SourcePowerMeasured: the station sent Power.Active.Import (the total, or the sum of its
	// phases at one timestamp).
	SourcePowerMeasured = "measured"
	// SourcePowerRegister: the slope of the energy register between two readings.
	SourcePowerRegister = "register"
	// SourcePowerStopped: the connector's transaction stopped; it draws nothing.
	SourcePowerStopped = "stopped"
)

// StaleAfter is how old a power reading may be before it is Stale: MeterValueSampleInterval
// is at most 60 s in billing-grade setup (PlanBillingMetering), so three samples missed.
const StaleAfter = 3 * time.Minute

// minSlopeSpan is the least time between the two register readings a power is taken from:
// registers in whole Wh read a few seconds apart give a power that jumps by kilowatts.
const minSlopeSpan = 10 * time.Second

// Power is what one connector draws now, as far as its meter values tell.
type Power struct {
	StationID     int64
	ChargePointID string
	ConnectorID   int
	TransactionID int64 // of the newest value it was taken from; 0 for none
	PowerW        int64
	Source        string // SourcePowerMeasured, SourcePowerRegister or SourcePowerStopped
	SampledAt     time.Time
	// Stale: SampledAt is more than StaleAfter before the time asked for; the station has
	// stopped sending, or lost its connection.
	Stale bool
}

// isPower reports whether v is an active import power the connector draws, in W: the total
// (no phase) or one of the three phases to neutral.
func isPower(v station.MeterValue) bool {
	return v.Measurand == MeasurandPower && v.Unit == "W" && v.Milli != nil && outlet(v) && phaseIndex(v.Phase) >= 0
}

// isRegister reports whether v is a total energy register reading of the connector.
func isRegister(v station.MeterValue) bool {
	return v.IsEnergyRegister() && outlet(v)
}

// outlet: the connector's own meter; Inlet, EV, Cable and Body values are not what the
// connector delivers (docs "billing-and-metering" §3.6).
func outlet(v station.MeterValue) bool {
	return v.Location == "" || v.Location == station.DefaultLocation
}

// phaseIndex is 0 for the total, 1..3 for a phase (L1 or L1-N, ...), -1 for what is not
// summed (N, line to line).
func phaseIndex(phase string) int {
	switch phase {
	case "":
		return 0
	case "L1", "L1-N":
		return 1
	case "L2", "L2-N":
		return 2
	case "L3", "L3-N":
		return 3
	}
	return -1
}

// LivePower returns the power of one connector from its recent meter values, in any order:
// the newest Power.Active.Import the station sent (its total, or else the sum of its phases
// at that timestamp), or else, if newer, the slope of the energy register between its
// newest reading and the newest one at least 10 s before it (W = ΔWh·3600/Δs). ok is false
// when the values tell neither. The result's station and connector are those of the
// values; ChargePointID is left to the caller. Stale is set against now.
func LivePower(values []station.MeterValue, now time.Time) (p Power, ok bool) {
	measured, okM := measuredPower(values)
	slope, okR := registerPower(values)
	switch {
	case okM && (!okR || !slope.SampledAt.After(measured.SampledAt)):
		p, ok = measured, true
	case okR:
		p, ok = slope, true
	default:
		return Power{}, false
	}
	p.Stale = now.Sub(p.SampledAt) > StaleAfter
	return p, true
}

func measuredPower(values []station.MeterValue) (Power, bool) {
	var newest time.Time
	for _, v := range values {
		if isPower(v) && v.Timestamp.After(newest) {
			newest = v.Timestamp
		}
	}
	if newest.IsZero() {
		return Power{}, false
	}
	// At the newest timestamp: the total if sent, else one value per phase, summed.
	var byPhase [4]*station.MeterValue
	for i := range values {
		v := &values[i]
		if isPower(*v) && v.Timestamp.Equal(newest) {
			if k := phaseIndex(v.Phase); byPhase[k] == nil {
				byPhase[k] = v
			}
		}
	}
	var milli int64
	var from *station.MeterValue
	if byPhase[0] != nil {
		milli, from = *byPhase[0].Milli, byPhase[0]
	} else {
		for _, v := range byPhase[1:] {
			if v != nil {
				milli += *v.Milli
				from = v
			}
		}
	}
	return Power{
		StationID: from.StationID, ConnectorID: from.ConnectorID, TransactionID: from.TransactionID,
		PowerW: roundMilli(milli), Source: SourcePowerMeasured, SampledAt: newest,
	}, true
}

func registerPower(values []station.MeterValue) (Power, bool) {
	last := -1
	for i, v := range values {
		if isRegister(v) && (last < 0 || v.Timestamp.After(values[last].Timestamp)) {
			last = i
		}
	}
	if last < 0 {
		return Power{}, false
	}
	b := values[last]
	prev := -1
	for i, v := range values {
		if isRegister(v) && b.Timestamp.Sub(v.Timestamp) >= minSlopeSpan && (prev < 0 || v.Timestamp.After(values[prev].Timestamp)) {
			prev = i
		}
	}
	if prev < 0 {
		return Power{}, false
	}
	a := values[prev]
	d := *b.Milli - *a.Milli
	if d < 0 {
		return Power{}, false // a register reset: no power to tell
	}
	// mWh·3600/ms is W.
	w := mulDiv(d, 3600, int64(b.Timestamp.Sub(a.Timestamp)/time.Millisecond))
	return Power{
		StationID: b.StationID, ConnectorID: b.ConnectorID, TransactionID: b.TransactionID,
		PowerW: w, Source: SourcePowerRegister, SampledAt: b.Timestamp,
	}, true
}

// roundMilli rounds thousandths to the nearest whole, half away from zero.
func roundMilli(m int64) int64 {
	if m >= 0 {
		return (m + 500) / 1000
	}
	return (m - 500) / 1000
}
