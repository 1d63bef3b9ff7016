package metering

import (
	"errors"
	"slices"
	"time"
)

// The reading contexts of the anchors TransactionSeries adds.
const (
	ContextBegin = "Transaction.Begin"
	ContextEnd   = "Transaction.End"
)

// ErrSpan is returned by TransactionSeries for a transaction whose span has no series: no
// start time, or a stop before its start (a station clock that jumped back).
var ErrSpan = errors.New("metering: transaction has no start, or stops before it starts")

// TransactionSeries returns the 15-minute series of one transaction: the quarter hours from
// the one of its start to the last one it has data in, without the leading and trailing
// quarter hours that carry none (a quarter hour inside the span left without data by a
// register reset is kept, Missing). readings are the register readings the store has for
// it (Store.SeriesInput); their order does not matter and the slice is not modified.
//
// meterStart is anchored as a Transaction.Begin reading at StartedAt and, once stopped,
// meterStop as a Transaction.End reading at StoppedAt; readings before the start or after
// the stop are ignored. The anchors are never dropped by the unit heuristic: they are what
// the transaction is settled on. So for a transaction without a register reset whose
// readings lie within [meterStart, meterStop] and do not decrease, the intervals sum to
// exactly meterStop - meterStart, which is station.SettleEnergy's EnergyWh.
//
// A register reset (a reading below the one before it) ends a segment, as in Build: the
// energy of each segment is counted, the energy between the last reading before the drop
// and the first after it is not. SettleEnergy instead counts, when meterStop is below
// meterStart, only the highest reading minus meterStart, that is the energy up to the
// reset; the series then holds more than the transaction's EnergyWh, namely also what was
// charged after the reset. When meterStop is at or above meterStart despite a reset in the
// readings, SettleEnergy's meterStop - meterStart and the series' sum differ by what the
// reset hid. Neither is adjusted to the other: the series says what the readings prove.
//
// Chargers that break the specification are read as follows (docs "billing-and-metering"
// §4.4):
//
//   - Session-relative register (Grizzl-E, lbbrhzn/ocpp#2093): MeterValues count from 0 at
//     the start while meterStart and meterStop are the lifetime register. When every
//     reading is below meterStart and, once stopped, meterStop is meterStart plus the last
//     reading plus at most what could be charged since it (while open: the first reading
//     is no more than could be charged since the start), meterStart is added to every
//     reading. A genuine reset before the first reading looks the same; it is read as
//     session-relative, which counts what it plausibly is.
//   - meterStop 0 with readings above meterStart (MicroOcpp, matth-x/MicroOcpp#73, a
//     library that cannot read the meter at the stop): the Transaction.End anchor is
//     dropped and the series ends at the last reading, as SettleEnergy falls back to the
//     highest reading. When meterStart is 0 too, SettleEnergy says 0 and the series holds
//     what the readings prove.
//   - Values 1000x off (a kWh value labelled Wh, OpenEVSE#703): the unit heuristic of
//     Options, applied to the readings but not to the anchors.
//   - Clock-aligned readings a few seconds off the boundary (EVerest/libocpp#445):
//     Options.ClockTolerance.
func TransactionSeries(span Span, readings []Reading, opts Options) ([]Interval, error) {
	start := span.StartedAt.UTC()
	stop := span.StoppedAt.UTC()
	if start.IsZero() || span.Stopped && stop.Before(start) {
		return nil, ErrSpan
	}
	opts = opts.withDefaults()
	rs := make([]Reading, 0, len(readings))
	for _, r := range readings {
		r.At = r.At.UTC()
		if r.At.Before(start) || span.Stopped && r.At.After(stop) {
			continue
		}
		rs = append(rs, r)
	}
	slices.SortStableFunc(rs, compareReading)
	if sessionRelative(span, rs, opts) {
		for i := range rs {
			rs[i].Wh += span.MeterStartWh
		}
	}
	begin := Reading{At: start, Wh: span.MeterStartWh, Context: ContextBegin}
	var end *Reading
	if span.Stopped && !stopUnread(span, rs) {
		end = &Reading{At: stop, Wh: span.MeterStopWh, Context: ContextEnd}
	}
	rs = anchored(rs, begin, end, opts)

	last := rs[len(rs)-1].At
	ivs, err := Build(rs, start.Truncate(Quarter), last.Truncate(Quarter).Add(Quarter), Options{
		ClockTolerance: opts.ClockTolerance, GapThreshold: opts.GapThreshold, MaxPowerW: opts.MaxPowerW, KeepSuspect: true,
	})
	if err != nil {
		return nil, err
	}
	first := slices.IndexFunc(ivs, func(iv Interval) bool { return iv.Quality != Missing })
	if first < 0 {
		return nil, nil
	}
	n := len(ivs)
	for ivs[n-1].Quality == Missing {
		n--
	}
	return ivs[first:n], nil
}

// sessionRelative reports whether the readings, sorted, look like a register counted from
// 0 at the start of the transaction (Grizzl-E).
func sessionRelative(span Span, rs []Reading, opts Options) bool {
	if span.MeterStartWh <= 0 || len(rs) == 0 {
		return false
	}
	for _, r := range rs {
		if r.Wh < 0 || r.Wh >= span.MeterStartWh {
			return false
		}
	}
	if span.Stopped {
		lastR := rs[len(rs)-1]
		rest := span.MeterStopWh - span.MeterStartWh - lastR.Wh
		slack := max(10, lastR.Wh/100) // rounding of kWh values
		rise := mulDiv(opts.MaxPowerW, int64(span.StoppedAt.Sub(lastR.At)/time.Second), 3600)
		return rest >= -slack && rest <= rise+slack
	}
	firstR := rs[0]
	rise := mulDiv(opts.MaxPowerW, int64(firstR.At.Sub(span.StartedAt)/time.Second), 3600)
	return firstR.Wh <= rise+10
}

// stopUnread reports whether meterStop is a 0 sent by a charger that could not read its
// meter (MicroOcpp): 0 while readings went above meterStart.
func stopUnread(span Span, rs []Reading) bool {
	if span.MeterStopWh != 0 {
		return false
	}
	for _, r := range rs {
		if r.Wh > span.MeterStartWh {
			return true
		}
	}
	return false
}

// anchored returns the sorted readings rs with the anchors, without duplicates and without
// the readings the unit heuristic finds 1000x off; the anchors are always kept.
func anchored(rs []Reading, begin Reading, end *Reading, opts Options) []Reading {
	type entry struct {
		Reading
		anchor bool
	}
	all := make([]entry, 0, len(rs)+2)
	for _, r := range rs {
		all = append(all, entry{Reading: r})
	}
	all = append(all, entry{begin, true})
	if end != nil {
		all = append(all, entry{*end, true})
	}
	slices.SortStableFunc(all, func(a, b entry) int { return compareReading(a.Reading, b.Reading) })
	out := make([]Reading, 0, len(all))
	for _, e := range all {
		if len(out) > 0 && sameReading(e.Reading, out[len(out)-1]) {
			continue
		}
		if !e.anchor && !opts.KeepSuspect && len(out) > 0 && suspect(out[len(out)-1], e.Reading, opts.MaxPowerW) {
			continue
		}
		out = append(out, e.Reading)
	}
	return out
}
