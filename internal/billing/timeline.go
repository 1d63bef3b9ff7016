package billing

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/tariff"
)

// Applicable returns the plans that may price a session that driver d starts at station
// stationID at `at`, each with the version of its tariff in force then: the plans valid at
// `at` (not deleted, within their validity, their tariff not retired and with a version in
// force) at that station or at every station, a station's own plan replacing the
// account-wide plan of the same audience and subject, narrowed by tariff.Candidates to one
// tier: the user's own plans, else their groups', else the public ones. None when no plan
// applies.
func Applicable(plans []Plan, tariffs []Tariff, d tariff.Driver, stationID int64, at time.Time) []Candidate {
	byID := make(map[int64]Tariff, len(tariffs))
	for _, t := range tariffs {
		byID[t.ID] = t
	}
	type subject struct {
		audience    tariff.Audience
		user, group int64
	}
	valid := func(p Plan) bool {
		t, ok := byID[p.TariffID]
		if !ok || p.Deleted(at) || t.Retired(at) || at.Before(p.ValidFrom) || (!p.ValidTo.IsZero() && !at.Before(p.ValidTo)) {
			return false
		}
		_, ok = t.Current(at)
		return ok
	}
	own := map[subject]bool{} // audiences the station has plans of its own for
	for _, p := range plans {
		if p.StationID != 0 && p.StationID == stationID && valid(p) {
			own[subject{p.Audience, p.UserID, p.GroupID}] = true
		}
	}
	var tps []tariff.Plan
	tariffOf := map[string]int64{}
	for _, p := range plans {
		if !valid(p) || (p.StationID != 0 && p.StationID != stationID) ||
			(p.StationID == 0 && own[subject{p.Audience, p.UserID, p.GroupID}]) {
			continue
		}
		tp := tariff.Plan{ID: strconv.FormatInt(p.ID, 10), Audience: p.Audience, ValidFrom: p.ValidFrom, ValidTo: p.ValidTo}
		switch p.Audience {
		case tariff.User:
			tp.Subject = strconv.FormatInt(p.UserID, 10)
		case tariff.Group:
			tp.Subject = strconv.FormatInt(p.GroupID, 10)
		}
		for _, v := range byID[p.TariffID].Versions {
			tp.Versions = append(tp.Versions, v.Rules)
		}
		tps = append(tps, tp)
		tariffOf[tp.ID] = p.TariffID
	}
	var out []Candidate
	for _, c := range tariff.Candidates(tps, d, at) {
		id, _ := strconv.ParseInt(c.Plan.ID, 10, 64)
		out = append(out, Candidate{PlanID: id, TariffID: tariffOf[c.Plan.ID], TariffVersion: c.Tariff.Version})
	}
	return out
}

// Measurands read from a transaction's meter values besides the energy register.
const powerMeasurand = "Power.Active.Import"

// Timeline is the session tariff.Price prices for transaction tx, from its meter values,
// in time zone loc, up to `end` for an open transaction (a live cost) and up to its stop for
// a stopped one:
//   - meterStart at the start, then the transaction's readings of the energy register
//     (station.MeterValue.IsEnergyRegister) strictly between start and end, in time order,
//     then, for a stopped transaction, meterStop at the stop;
//   - a register never goes down: a reading below the one before it (a glitch, a value
//     from the charger's previous session) is taken as the one before it, and a reading
//     above meterStop as meterStop;
//   - a meterStop below meterStart (a register reset) is replaced by meterStart plus the
//     energy the store settled (station.SettleEnergy); a transaction whose energy could not
//     be told is not priced;
//   - the active power reported with a reading (Power.Active.Import of no phase, in W) goes
//     with it, for tariffs that restrict by power.
//
// A transaction whose start the central system never saw is not priced. Times are the
// station's, as it sent them.
func Timeline(tx station.Transaction, values []station.MeterValue, end time.Time, loc *time.Location) (tariff.Session, error) {
	if tx.HasFlag(station.FlagUnknownStart) {
		return tariff.Session{}, errors.New("the start of the transaction is unknown: its StopTransaction named a transaction never started here")
	}
	start := tx.StartedAt
	final := int64(-1)
	if tx.Stopped {
		end = tx.StoppedAt
		switch {
		case tx.MeterStopWh >= tx.MeterStartWh:
			final = tx.MeterStopWh
		case tx.EnergyWh != nil:
			final = tx.MeterStartWh + *tx.EnergyWh
		default:
			return tariff.Session{}, fmt.Errorf("meterStop %d Wh is below meterStart %d Wh and no reading tells the energy charged", tx.MeterStopWh, tx.MeterStartWh)
		}
		if end.Before(start) {
			return tariff.Session{}, fmt.Errorf("stopped at %s, before it started at %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
		}
	} else if end.Before(start) {
		end = start // the station's clock is ahead of ours
	}
	power := map[int64]int64{} // Unix ms -> W
	var readings []station.MeterValue
	for _, v := range values {
		switch {
		case v.IsEnergyRegister():
			if v.Timestamp.After(start) && v.Timestamp.Before(end) {
				readings = append(readings, v)
			}
		case v.Measurand == powerMeasurand && v.Phase == "" && v.Unit == "W" && v.Milli != nil && *v.Milli >= 0:
			power[v.Timestamp.UnixMilli()] = *v.Milli / 1000
		}
	}
	slices.SortStableFunc(readings, func(a, b station.MeterValue) int { return a.Timestamp.Compare(b.Timestamp) })
	powerAt := func(t time.Time) *int64 {
		if w, ok := power[t.UnixMilli()]; ok {
			return &w
		}
		return nil
	}
	s := tariff.Session{Start: start, End: end, Location: loc}
	s.Samples = append(s.Samples, tariff.Sample{At: start, EnergyWh: tx.MeterStartWh, PowerW: powerAt(start)})
	level := tx.MeterStartWh
	for _, r := range readings {
		wh, _ := r.Wh()
		wh = max(wh, level)
		if final >= 0 {
			wh = min(wh, final)
		}
		level = wh
		s.Samples = append(s.Samples, tariff.Sample{At: r.Timestamp, EnergyWh: wh, PowerW: powerAt(r.Timestamp)})
	}
	if final >= 0 {
		s.Samples = append(s.Samples, tariff.Sample{At: end, EnergyWh: final})
	}
	return s, nil
}

// Hypothetical is a session made up to show what a tariff costs: it starts at Start, charges
// EnergyWh at constant power for its first Charging, and stays parked for the rest of
// Duration.
type Hypothetical struct {
	Start    time.Time
	Duration time.Duration
	Charging time.Duration
	EnergyWh int64
}

// maxHypothetical bounds a preview: a week is far beyond any real session.
const maxHypothetical = 7 * 24 * time.Hour

// check names the property of a preview request that is wrong (durationMinutes,
// chargingMinutes, energyWh).
func (h Hypothetical) check() Invalid {
	var bad Invalid
	if h.Start.IsZero() {
		bad = append(bad, FieldError{"start", "missing"})
	}
	if h.Duration <= 0 || h.Duration > maxHypothetical {
		bad = append(bad, FieldError{"durationMinutes", fmt.Sprintf("must be from 1 to %d", int(maxHypothetical/time.Minute))})
	}
	if h.Charging < 0 || h.Charging > h.Duration {
		bad = append(bad, FieldError{"chargingMinutes", "must be from 0 to durationMinutes"})
	}
	switch {
	case h.EnergyWh < 0 || h.EnergyWh > 10_000_000:
		bad = append(bad, FieldError{"energyWh", "must be from 0 to 10000000"})
	case h.EnergyWh > 0 && h.Charging == 0:
		bad = append(bad, FieldError{"chargingMinutes", "energy is charged, so it must be above 0"})
	}
	return bad
}

// Session is the hypothetical session in time zone loc.
func (h Hypothetical) Session(loc *time.Location) tariff.Session {
	s := tariff.Session{Start: h.Start, End: h.Start.Add(h.Duration), Location: loc}
	s.Samples = []tariff.Sample{{At: h.Start}}
	if h.Charging > 0 {
		s.Samples = append(s.Samples, tariff.Sample{At: h.Start.Add(h.Charging), EnergyWh: h.EnergyWh})
	}
	if h.Charging < h.Duration {
		s.Samples = append(s.Samples, tariff.Sample{At: s.End, EnergyWh: h.EnergyWh})
	}
	return s
}
