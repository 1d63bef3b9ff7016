// Package metering turns the energy register readings of one meter (one connector or one
// transaction) into a 15-minute energy series, splits such a series by tariff window, and
// keeps the stored series of every transaction current.
//
// Its functions are pure: Build, TransactionSeries (a transaction's series, with the quirks
// of real chargers), LivePower (a connector's power from its meter values),
// PlanBillingMetering (the configuration billing-grade data needs), Split and QuarterHours
// read no clock, no database, start no goroutine and do no I/O, so that they can be tested
// by table and fuzzed. The Service is their one user with state: its Run rebuilds the series
// the Store marks pending as meter values, starts and stops are stored; it answers series,
// calendar and external-series queries, follows live power in memory as the station service
// tells it of stored values, and sets stations up for billing-grade meter values through
// remote operations. Storage is the Store's (package store); reading MeterValues off the
// wire and normalising them to Wh is package station's; exporting load profiles (SDAT, CSV)
// is package loadprofile's.
//
// Build's algorithm follows docs "billing-and-metering" §3.6 and the charger pitfalls of §4.4:
//
//   - Readings are sorted by (time, Wh, context), so late readings arriving out of order
//     give the same result as readings in order; exact duplicates are dropped.
//   - A register that drops (meter reset or replacement) starts a new segment: the energy
//     of a segment is its last minus its first reading, never negative; the energy between
//     the last reading before a drop and the first after it is unknown and not counted.
//   - A reading that is 1000x off the last kept reading (a kWh value labelled Wh, or the
//     reverse) is ignored; see Options.MaxPowerW.
//   - At each UTC quarter-hour boundary inside a segment the register is taken from a
//     Sample.Clock reading within Options.ClockTolerance of it (closest wins), or else
//     interpolated linearly between the readings around it and rounded down to integer
//     Wh. Rounding down a nondecreasing line keeps the boundary values nondecreasing, and
//     since each interval's energy is the difference of two boundary values, the sum of
//     the intervals telescopes to exactly the energy between the first and last reading
//     of each segment (clipped to the requested window): no Wh is lost or invented.
package metering

import (
	"cmp"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"time"
)

// Quarter is the length of an interval.
const Quarter = 15 * time.Minute

// ContextClock is the OCPP reading context of clock-aligned readings.
const ContextClock = "Sample.Clock"

// Reading is one energy register reading in Wh.
type Reading struct {
	At      time.Time
	Wh      int64
	Context string // OCPP ReadingContext: Sample.Clock, Sample.Periodic, Transaction.Begin, ...
}

// Quality says how an interval's energy was obtained; a higher value is worse.
type Quality uint8

const (
	// Missing: no reading covers any part of the interval; its energy is 0.
	Missing Quality = iota
	// Measured: both ends of every part of the interval are actual readings, or
	// clock-aligned readings within the tolerance of the quarter-hour boundary.
	Measured
	// Interpolated: at least one end was interpolated between readings.
	Interpolated
	// Estimated: part of the interval lies in a gap between readings longer than
	// Options.GapThreshold.
	Estimated
)

func (q Quality) String() string {
	switch q {
	case Missing:
		return "missing"
	case Measured:
		return "measured"
	case Interpolated:
		return "interpolated"
	case Estimated:
		return "estimated"
	}
	return fmt.Sprintf("Quality(%d)", uint8(q))
}

// Interval is the energy of one quarter hour.
type Interval struct {
	Start    time.Time // UTC, on a quarter hour
	EnergyWh int64
	Quality  Quality
}

// Options tune Build; the zero value uses the defaults.
type Options struct {
	// ClockTolerance is how far a Sample.Clock reading may be from the boundary it stands
	// for (meters sample every few seconds, EVerest/libocpp#445). Default 5 s; at most 7 min.
	ClockTolerance time.Duration
	// GapThreshold is the gap between readings beyond which interpolated energy is
	// Estimated. Default 2 h.
	GapThreshold time.Duration
	// MaxPowerW bounds the plausible power of the meter, for the unit heuristic. A reading
	// v is ignored as 1000x too small when 0 < v < p (p the last kept reading),
	// p >= 100 kWh and v*1000 lies within p-1000 .. p+rise+1000 (rise = MaxPowerW over the
	// time since p); below 100 kWh a drop is more likely a reset than a kWh value;
	// as 1000x too large when v > p+rise and v/1000 lies within p-1 .. p+rise+1. A drop
	// to 0 is always a reset. Default 1 MW.
	MaxPowerW int64
	// KeepSuspect turns the unit heuristic off.
	KeepSuspect bool
}

func (o Options) withDefaults() Options {
	if o.ClockTolerance <= 0 {
		o.ClockTolerance = 5 * time.Second
	}
	if o.ClockTolerance > 7*time.Minute {
		o.ClockTolerance = 7 * time.Minute
	}
	if o.GapThreshold <= 0 {
		o.GapThreshold = 2 * time.Hour
	}
	if o.MaxPowerW <= 0 {
		o.MaxPowerW = 1_000_000
	}
	return o
}

// ErrWindow is returned when start and end do not make a window of whole quarter hours.
var ErrWindow = errors.New("metering: window must be start < end, both on UTC quarter hours")

func compareReading(a, b Reading) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Wh, b.Wh); c != 0 {
		return c
	}
	return cmp.Compare(a.Context, b.Context)
}

func sameReading(a, b Reading) bool {
	return a.At.Equal(b.At) && a.Wh == b.Wh && a.Context == b.Context
}

// Build returns one Interval for every quarter hour in [start, end), in order. readings
// are those of one register (the caller anchors them with meterStart as
// Transaction.Begin and meterStop as Transaction.End); their order does not matter and
// the slice is not modified.
func Build(readings []Reading, start, end time.Time, opts Options) ([]Interval, error) {
	if !start.Before(end) || !start.Truncate(Quarter).Equal(start) || !end.Truncate(Quarter).Equal(end) {
		return nil, ErrWindow
	}
	opts = opts.withDefaults()
	start, end = start.UTC(), end.UTC()
	n := int(end.Sub(start) / Quarter)
	out := make([]Interval, n)
	for i := range out {
		out[i].Start = start.Add(time.Duration(i) * Quarter)
	}
	rs := clean(readings, opts)

	b := builder{rs: rs, out: out, start: start, end: end, opts: opts}
	segStart := 0
	for i := 1; i <= len(rs); i++ {
		if i == len(rs) || rs[i].Wh < rs[i-1].Wh {
			b.segment(segStart, i)
			segStart = i
		}
	}
	return out, nil
}

// clean sorts, drops duplicates and readings failing the unit heuristic, into one new slice.
func clean(readings []Reading, opts Options) []Reading {
	rs := make([]Reading, 0, len(readings))
	src := readings
	if !slices.IsSortedFunc(readings, compareReading) {
		src = slices.Clone(readings)
		slices.SortStableFunc(src, compareReading)
	}
	for i, r := range src {
		if i > 0 && sameReading(r, src[i-1]) {
			continue
		}
		if !opts.KeepSuspect && len(rs) > 0 && suspect(rs[len(rs)-1], r, opts.MaxPowerW) {
			continue
		}
		rs = append(rs, r)
	}
	return rs
}

// suspect reports whether r looks 1000x off relative to p, the last kept reading.
func suspect(p, r Reading, maxPowerW int64) bool {
	dt := r.At.Sub(p.At)
	rise := mulDiv(maxPowerW, int64(dt/time.Second), 3600)
	v := r.Wh
	switch {
	case v > 0 && v < p.Wh && p.Wh >= 100_000:
		if v > (p.Wh+rise+1000)/1000+1 {
			return false // cannot be in range; also guards v*1000 against overflow
		}
		c := v * 1000
		return c >= p.Wh-1000 && c <= p.Wh+rise+1000
	case v > p.Wh+rise:
		c := v / 1000
		return c >= p.Wh-1 && c <= p.Wh+rise+1
	}
	return false
}

// mulDiv returns a*b/c rounded down for a, b >= 0, c > 0, without overflowing when the
// result fits.
func mulDiv(a, b, c int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return 1<<63 - 1
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(q)
}

type builder struct {
	rs         []Reading
	out        []Interval
	start, end time.Time
	opts       Options
}

type point struct {
	t        time.Time
	wh       int64
	measured bool
}

// segment adds the energy of rs[i:j], whose register does not decrease, to out.
func (b *builder) segment(i, j int) {
	rs := b.rs[i:j]
	first, last := rs[0], rs[len(rs)-1]
	lo, hi := first.At, last.At
	if lo.Before(b.start) {
		lo = b.start
	}
	if hi.After(b.end) {
		hi = b.end
	}
	if !lo.Before(hi) {
		return
	}
	// k walks rs: rs[k] is the first reading at or after the time last evaluated.
	k := 0
	var prev point
	if lo.Equal(first.At) {
		prev = point{t: lo, wh: first.Wh, measured: true}
	} else {
		prev, k = b.at(rs, lo, k)
	}
	for t := lo.Truncate(Quarter).Add(Quarter); ; t = t.Add(Quarter) {
		var p point
		if !t.Before(hi) {
			if hi.Equal(last.At) {
				p = point{t: hi, wh: last.Wh, measured: true}
			} else {
				p, _ = b.at(rs, hi, k)
			}
		} else {
			p, k = b.at(rs, t, k)
		}
		b.add(rs, prev, p)
		prev = p
		if !t.Before(hi) {
			return
		}
	}
}

// at returns the register at boundary t inside rs, from k on.
func (b *builder) at(rs []Reading, t time.Time, k int) (point, int) {
	tol := b.opts.ClockTolerance
	for k < len(rs) && rs[k].At.Before(t) {
		k++
	}
	// Closest Sample.Clock reading within the tolerance, searched both ways from k.
	best, bestD := -1, tol+1
	for m := k - 1; m >= 0 && t.Sub(rs[m].At) <= tol; m-- {
		if d := t.Sub(rs[m].At); rs[m].Context == ContextClock && d < bestD {
			best, bestD = m, d
		}
	}
	for m := k; m < len(rs) && rs[m].At.Sub(t) <= tol; m++ {
		if d := rs[m].At.Sub(t); rs[m].Context == ContextClock && d < bestD {
			best, bestD = m, d
		}
	}
	if best >= 0 {
		return point{t: t, wh: rs[best].Wh, measured: true}, k
	}
	if k < len(rs) && rs[k].At.Equal(t) {
		return point{t: t, wh: rs[k].Wh, measured: true}, k
	}
	// rs[k-1].At < t < rs[k].At: t lies strictly inside the segment.
	a, c := rs[k-1], rs[k]
	wh := a.Wh + mulDiv(c.Wh-a.Wh, int64(t.Sub(a.At)), int64(c.At.Sub(a.At)))
	return point{t: t, wh: wh}, k
}

// add books the energy between p and q, both in the same quarter hour, to that quarter.
func (b *builder) add(rs []Reading, p, q point) {
	idx := int(p.t.Sub(b.start) / Quarter)
	iv := &b.out[idx]
	iv.EnergyWh += q.wh - p.wh
	quality := Interpolated
	if p.measured && q.measured {
		quality = Measured
	}
	if b.inGap(rs, p.t, q.t) {
		quality = Estimated
	}
	iv.Quality = max(iv.Quality, quality)
}

// inGap reports whether part of (from, to) lies between two readings further apart than
// the gap threshold.
func (b *builder) inGap(rs []Reading, from, to time.Time) bool {
	// First reading after from; the gap before it starts at or before from.
	k, _ := slices.BinarySearchFunc(rs, from, func(r Reading, t time.Time) int {
		if r.At.After(t) {
			return 1
		}
		return -1
	})
	for ; k < len(rs) && k > 0; k++ {
		if rs[k].At.Sub(rs[k-1].At) > b.opts.GapThreshold {
			return true
		}
		if !rs[k].At.Before(to) {
			return false
		}
	}
	return false
}
