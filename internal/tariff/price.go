package tariff

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"time"
)

// Session is what Price needs to know of a charging session: when, where (for local time)
// and the meter readings. It is a plain value; the caller builds it from OCPP
// StartTransaction, MeterValues and StopTransaction.
type Session struct {
	// Start is when the session started; End is when it stopped, or now for a live cost.
	// Instants are taken to the second (the unit of OCPI time steps).
	Start, End time.Time
	// Location is the account's time zone (Europe/Zurich), in which time-of-day, day-of-week
	// and date restrictions are read.
	Location *time.Location
	// Samples are readings of the energy register, in time order, the register never
	// decreasing (the caller normalises units and session-relative registers). The first
	// should be at Start with meterStart, and for a final cost the last at End with
	// meterStop. Readings outside [Start, End] are interpolated to those instants.
	Samples []Sample
	// Charging, if not nil, says when the vehicle was charging (from StatusNotification
	// Charging vs SuspendedEV/SuspendedEVSE); the rest of the session is parking. If nil,
	// a stretch between two samples is charging when the register rose over it, or when the
	// power reported at its first sample is at least ChargingPowerW (if that is set); before
	// the first two samples the session is taken to be charging, and after the last one to go
	// on as it was.
	Charging []Interval
	// ChargingPowerW, if positive, counts a stretch as charging from its reported power even
	// when the register, with its 1 Wh resolution, did not move.
	ChargingPowerW int64
}

// Sample is one reading of the energy register.
type Sample struct {
	At       time.Time
	EnergyWh int64
	// PowerW is the active power reported with the reading, if any. It holds until the next
	// sample; without it the power of a stretch is its average, energy over time.
	PowerW *int64
}

// Interval is a half-open span of time [From, To).
type Interval struct {
	From, To time.Time
}

// ErrInvalidSession is wrapped by the errors Price returns for a session it cannot price.
var ErrInvalidSession = errors.New("invalid session")

// MaxSessionDuration bounds the sessions Price accepts; a longer one is a data error (a
// missed StopTransaction), not a charge.
const MaxSessionDuration = 366 * 24 * time.Hour

// maxRegister bounds the energy register (a petawatt-hour), which keeps energy × 3600 s/h
// within int64.
const maxRegister = 1_000_000_000_000_000

// Price computes the cost of session s under tariff t. It is a pure function of its
// arguments: the live cost during a session and the final cost at its stop are the same
// computation with a different End and more samples.
//
// The session is cut into periods at every sample, every local time-of-day boundary of a
// restriction, every local midnight and time-zone change, every min/max duration instant and
// every min/max kWh crossing (the instant found by linear interpolation of the register,
// rounded up to the second, with the energy split exactly at the threshold). Each period is
// charging or parking (see Session.Charging). For each dimension the first element whose
// restrictions hold at the start of the period prices it (OCPI); FLAT is charged once, by the
// first element with a FLAT component that matches in any period of the session.
//
// Step sizes follow OCPI 2.2.1: the quantity billed for a dimension is rounded up to a
// multiple of the step size of the last element that priced it, at the end of the session,
// and also when the dimension switches to no element (becomes free); the padding is billed
// at that element's price. Elements used earlier are billed for exactly what they priced.
// One consequence, which the OCPI step-size example itself shows, is that the cost of a
// session can go down when it runs into an element with a smaller step or a lower price.
//
// See Cost for how amounts are rounded, limited by min/max price and split into lines.
func Price(t Tariff, s Session) (Cost, error) {
	c, err := compile(t)
	if err != nil {
		return Cost{}, err
	}
	p, err := newPricer(c, s)
	if err != nil {
		return Cost{}, err
	}
	p.run(s) // a free tariff has no elements: this only measures the session
	return p.cost()
}

// pricer holds the state of one pricing sweep.
type pricer struct {
	c          *compiled
	start, end int64 // Unix seconds
	e0         int64 // register at start
	explicit   bool  // charging state from Session.Charging
	charging   []span

	zones          []zone  // time-zone offsets over the session
	bounds         []int64 // instants where restrictions may change, in (start, end), sorted
	thr            []int64 // register values where kWh restrictions change, sorted
	zi, bi, ti, ci int

	maskKey int // bi for which mask was computed, -1 for none
	mask    uint64

	qty  [][numDims]int64 // billed quantity per element and dimension (Wh or s)
	cur  [numDims]int     // element that priced the dimension last, -1 for none
	step [numDims]int64   // its step size
	cum  [numDims]int64   // billed quantity per dimension so far
	flat int              // element whose FLAT component is charged, -1 for none yet

	energy, chargingS, parkingS int64
	idleS                       int64
	inStretch                   bool  // in a stretch of not charging (idle from charging end)
	stretchFrom                 int64 // its start
}

type zone struct{ to, off int64 }
type span struct{ from, to int64 }

// matchState is what the dynamic restrictions of an element are checked against.
type matchState struct {
	consumed, elapsed, power int64
	mask                     uint64
}

func newPricer(c *compiled, s Session) (*pricer, error) {
	bad := func(format string, args ...any) (*pricer, error) {
		return nil, fmt.Errorf("tariff: session: %w: %s", ErrInvalidSession, fmt.Sprintf(format, args...))
	}
	if s.Location == nil {
		return bad("no location")
	}
	if s.End.Before(s.Start) {
		return bad("end %s before start %s", s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339))
	}
	if s.End.Sub(s.Start) > MaxSessionDuration {
		return bad("longer than %s", MaxSessionDuration)
	}
	for i, x := range s.Samples {
		if x.EnergyWh < 0 || x.EnergyWh > maxRegister {
			return bad("samples[%d]: energy %d Wh out of range 0-%d", i, x.EnergyWh, int64(maxRegister))
		}
		if x.PowerW != nil && *x.PowerW < 0 {
			return bad("samples[%d]: negative power", i)
		}
		if i > 0 && x.At.Before(s.Samples[i-1].At) {
			return bad("samples[%d]: before the sample preceding it", i)
		}
		if i > 0 && x.EnergyWh < s.Samples[i-1].EnergyWh {
			return bad("samples[%d]: energy register decreases", i)
		}
	}
	p := &pricer{
		c: c, start: s.Start.Unix(), end: s.End.Unix(),
		explicit: s.Charging != nil, maskKey: -1, flat: -1,
		qty: make([][numDims]int64, len(c.elems)),
		cur: [numDims]int{-1, -1, -1},
	}
	for i, iv := range s.Charging {
		sp := span{iv.From.Unix(), iv.To.Unix()}
		if sp.to < sp.from || (i > 0 && sp.from < p.charging[i-1].to) {
			return bad("charging[%d]: not after the interval preceding it, or ends before it starts", i)
		}
		p.charging = append(p.charging, sp)
	}
	p.e0 = registerAt(s.Samples, p.start)
	p.cutPoints(s.Location)
	return p, nil
}

// registerAt is the register at instant t: the earliest reading at t, or interpolated
// between the readings around t, or the nearest reading.
func registerAt(samples []Sample, t int64) int64 {
	if len(samples) == 0 {
		return 0
	}
	i, _ := slices.BinarySearchFunc(samples, t, func(x Sample, t int64) int {
		return cmpInt(x.At.Unix(), t)
	}) // first sample at or after t
	switch {
	case i == 0:
		return samples[0].EnergyWh
	case i == len(samples):
		return samples[i-1].EnergyWh
	}
	return interp(samples[i-1].At.Unix(), samples[i].At.Unix(), samples[i-1].EnergyWh, samples[i].EnergyWh, t)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// interp is the register at t between readings (t0, e0) and (t1, e1), t0 ≤ t ≤ t1: linear,
// rounded down to the Wh, so that it never decreases and cut pieces add up exactly.
func interp(t0, t1, e0, e1, t int64) int64 {
	if t <= t0 {
		return e0
	}
	if t >= t1 {
		return e1
	}
	return e0 + mulDiv(e1-e0, t-t0, t1-t0)
}

// cutPoints lists the instants and register values at which an element may switch on or off.
func (p *pricer) cutPoints(loc *time.Location) {
	c := p.c
	if c.anyCalendar {
		// Local time is Unix time plus the zone's offset, constant between two zone changes;
		// so within one offset a time of day recurs every 86,400 s, and a DST day simply has
		// one zone change in it (02:30 on the autumn day comes twice, on the spring day not at
		// all).
		for t := p.start; ; {
			lt := time.Unix(t, 0).In(loc)
			_, off := lt.Zone()
			_, zoneEnd := lt.ZoneBounds()
			to := p.end
			if u := zoneEnd.Unix(); !zoneEnd.IsZero() && u > t && u < p.end {
				to = u
			}
			p.zones = append(p.zones, zone{to: to, off: int64(off)})
			for _, pt := range c.todPoints {
				u := t + mod(pt-(t+int64(off)), secondsPerDay)
				for ; u < to; u += secondsPerDay {
					if u > p.start {
						p.bounds = append(p.bounds, u)
					}
				}
			}
			if to >= p.end {
				break
			}
			p.bounds = append(p.bounds, to)
			t = to
		}
	}
	for _, d := range c.durPoints {
		if u := p.start + d; u > p.start && u < p.end {
			p.bounds = append(p.bounds, u)
		}
	}
	for _, sp := range p.charging {
		for _, u := range []int64{sp.from, sp.to} {
			if u > p.start && u < p.end {
				p.bounds = append(p.bounds, u)
			}
		}
	}
	slices.Sort(p.bounds)
	p.bounds = slices.Compact(p.bounds)
	for _, wh := range c.whPoints {
		p.thr = append(p.thr, p.e0+wh)
	}
}

// run sweeps the session from start to end, stretch by stretch between samples.
func (p *pricer) run(s Session) {
	p.tryFlat(p.state(p.start, p.e0, 0))
	samples := s.Samples
	n := len(samples)
	// Until two readings tell whether energy flows, the session is taken to be charging, as
	// a session starts to: a live cost then does not bill parking for the first minute and
	// take it back when the first meter value arrives.
	if n == 0 {
		p.stretch(p.start, p.end, 0, 0, 0, true)
		p.finish()
		return
	}
	at := func(i int) int64 { return samples[i].At.Unix() }
	if first := at(0); first > p.start {
		p.stretch(p.start, min(first, p.end), p.e0, p.e0, 0, true)
	}
	lastPower, lastCharging := int64(0), true
	if pw := samples[0].PowerW; pw != nil {
		lastPower = *pw
		if s.ChargingPowerW > 0 {
			lastCharging = *pw >= s.ChargingPowerW
		}
	}
	for i := 0; i+1 < n; i++ {
		t0, t1 := at(i), at(i+1)
		e0, e1 := samples[i].EnergyWh, samples[i+1].EnergyWh
		if t1 < p.start || (t1 == p.start && t0 < t1) {
			continue
		}
		if t0 > p.end || (t0 == p.end && t0 < t1) {
			break
		}
		power := int64(0)
		if pw := samples[i].PowerW; pw != nil {
			power = *pw
		} else if t1 > t0 {
			power = mulDiv(e1-e0, 3600, t1-t0)
		}
		charging := e1 > e0 || (s.ChargingPowerW > 0 && samples[i].PowerW != nil && *samples[i].PowerW >= s.ChargingPowerW)
		lo, hi := max(t0, p.start), min(t1, p.end)
		elo, ehi := interp(t0, t1, e0, e1, lo), interp(t0, t1, e0, e1, hi)
		if t0 == t1 {
			elo, ehi = e0, e1 // a jump of the register at one instant
		}
		p.stretch(lo, hi, elo, ehi, power, charging)
		lastPower, lastCharging = power, charging
		if pw := samples[i+1].PowerW; pw != nil {
			lastPower = *pw
			if s.ChargingPowerW > 0 {
				lastCharging = *pw >= s.ChargingPowerW
			}
		}
	}
	// After the last reading, for a live cost, the session is taken to go on as it was; the
	// next reading will tell how much energy flowed.
	if last := at(n - 1); last < p.end {
		e := samples[n-1].EnergyWh
		p.stretch(max(last, p.start), p.end, e, e, lastPower, lastCharging)
	}
	p.finish()
}

// stretch prices [t0, t1) over which the register goes linearly from e0 to e1, cutting it at
// the boundaries and kWh thresholds inside it.
func (p *pricer) stretch(t0, t1, e0, e1, power int64, charging bool) {
	dt, de := t1-t0, e1-e0
	curT, curE := t0, e0
	for {
		for p.bi < len(p.bounds) && p.bounds[p.bi] <= curT {
			p.bi++
		}
		for p.ti < len(p.thr) && p.thr[p.ti] <= curE {
			p.ti++
		}
		nt, ne := t1, e1
		if p.bi < len(p.bounds) && p.bounds[p.bi] < t1 {
			nt = p.bounds[p.bi]
			ne = e0 + mulDiv(de, nt-t0, dt)
		}
		if p.ti < len(p.thr) && p.thr[p.ti] <= ne {
			// The first second at which the interpolated register reaches the threshold;
			// the energy is cut at the threshold itself so that each side is billed exactly.
			r, tc := p.thr[p.ti], t0
			if dt > 0 {
				tc = t0 + mulDivCeil(r-e0, dt, de)
			}
			nt, ne = tc, r
		}
		p.period(curT, nt, curE, ne, power, charging)
		if nt == t1 && ne == e1 {
			return
		}
		curT, curE = nt, ne
	}
}

// period prices [t0, t1), over which no restriction changes, with e1-e0 Wh charged.
func (p *pricer) period(t0, t1, e0, e1, power int64, charging bool) {
	dur, wh := t1-t0, e1-e0
	if dur == 0 && wh == 0 {
		return
	}
	if p.explicit {
		charging = p.chargingAt(t0)
	}
	st := p.state(t0, e0, power)
	p.tryFlat(st)
	if wh > 0 {
		p.add(dimEnergy, wh, st)
		p.energy += wh
	}
	if charging {
		p.inStretch = false
		if dur > 0 {
			p.add(dimTime, dur, st)
			p.chargingS += dur
		}
		return
	}
	if dur == 0 {
		return
	}
	p.add(dimParking, dur, st)
	p.parkingS += dur
	if f := p.c.t.IdleFee; f != nil && f.Basis == IdleFromChargingEnd {
		if !p.inStretch {
			p.inStretch, p.stretchFrom = true, t0
		}
		if from := max(t0, p.stretchFrom+f.GraceMinutes*60); t1 > from {
			p.idleS += t1 - from
		}
	}
}

func (p *pricer) chargingAt(t int64) bool {
	for p.ci < len(p.charging) && p.charging[p.ci].to <= t {
		p.ci++
	}
	return p.ci < len(p.charging) && p.charging[p.ci].from <= t
}

// state is the state at instant t, where the register reads e, for the restriction checks.
func (p *pricer) state(t, e, power int64) matchState {
	return matchState{consumed: e - p.e0, elapsed: t - p.start, power: power, mask: p.calendarMask(t)}
}

// calendarMask has bit i set when element i's time, day and date restrictions hold at t.
// Between two bounds nothing calendar-related changes, so it is computed once per bound.
func (p *pricer) calendarMask(t int64) uint64 {
	if !p.c.anyCalendar {
		return ^uint64(0)
	}
	for p.bi < len(p.bounds) && p.bounds[p.bi] <= t {
		p.bi++
	}
	if p.maskKey == p.bi {
		return p.mask
	}
	for p.zi+1 < len(p.zones) && p.zones[p.zi].to <= t {
		p.zi++
	}
	local := t + p.zones[p.zi].off
	day := floorDiv(local, secondsPerDay)
	tod := local - day*secondsPerDay
	weekday := mod(day+3, 7) // 1970-01-01 was a Thursday
	var m uint64
	for i := range p.c.elems {
		if p.c.elems[i].calendar(day, tod, weekday) {
			m |= 1 << i
		}
	}
	p.maskKey, p.mask = p.bi, m
	return m
}

func (p *pricer) match(elem int, st matchState) bool {
	e := &p.c.elems[elem]
	return st.mask&(1<<elem) != 0 &&
		st.consumed >= e.minWh && st.consumed < e.maxWh &&
		st.elapsed >= e.minDur && st.elapsed < e.maxDur &&
		st.power >= e.minPow && st.power < e.maxPow
}

func (p *pricer) tryFlat(st matchState) {
	if p.flat >= 0 {
		return
	}
	for _, r := range p.c.flats {
		if p.match(r.elem, st) {
			p.flat = r.elem
			return
		}
	}
}

// add bills q (Wh or s) of a dimension to the first element that matches.
func (p *pricer) add(dim int, q int64, st matchState) {
	elem := -1
	var step int64
	for _, r := range p.c.dims[dim] {
		if p.match(r.elem, st) {
			elem, step = r.elem, r.comp.StepSize
			break
		}
	}
	if elem != p.cur[dim] {
		if elem < 0 {
			p.pad(dim) // switching to no element: OCPI applies the step of the one left
		}
		p.cur[dim] = elem
		p.step[dim] = step
	}
	if elem >= 0 {
		p.qty[elem][dim] += q
		p.cum[dim] += q
	}
}

// pad rounds the billed quantity of a dimension up to the step of the element that priced
// it last, billing the difference to that element.
func (p *pricer) pad(dim int) {
	elem, step := p.cur[dim], p.step[dim]
	if elem < 0 || step <= 1 {
		return
	}
	if r := p.cum[dim] % step; r != 0 {
		p.qty[elem][dim] += step - r
		p.cum[dim] += step - r
	}
}

func (p *pricer) finish() {
	for d := range numDims {
		p.pad(d)
	}
	if f := p.c.t.IdleFee; f != nil && f.Basis == IdleFromSessionStart {
		p.idleS = max(0, p.end-p.start-f.GraceMinutes*60)
	}
	if f := p.c.t.IdleFee; f != nil && f.StepSize > 1 && p.idleS%f.StepSize != 0 {
		p.idleS += f.StepSize - p.idleS%f.StepSize
	}
}

// mulDiv is ⌊a·b/c⌋ for a, b ≥ 0, c > 0 and a·b/c < 2^63, without overflow in a·b.
func mulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

// mulDivCeil is ⌈a·b/c⌉ under the same conditions.
func mulDivCeil(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, r := bits.Div64(hi, lo, uint64(c))
	if r != 0 {
		q++
	}
	return int64(q)
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
