package tariff

import (
	"math"
	"slices"
	"time"
)

// The dimensions priced over time, as indexes into per-dimension arrays.
const (
	dimEnergy = iota
	dimTime
	dimParking
	numDims
)

var dimOf = map[Dimension]int{Energy: dimEnergy, Time: dimTime, ParkingTime: dimParking}

const secondsPerDay = 86400

// compiled is a validated tariff turned into integers, so the pricing loop compares numbers
// instead of parsing strings.
type compiled struct {
	t     Tariff
	elems []celem
	// dims lists, per dimension, the elements that have a component of it, in tariff order:
	// the first that matches prices the dimension.
	dims  [numDims][]cref
	flats []cref
	// Points at which an element may switch on or off, from which Price cuts the session.
	todPoints   []int64 // seconds after local midnight, 0 included
	durPoints   []int64 // seconds after session start
	whPoints    []int64 // Wh charged since session start
	anyCalendar bool    // some element depends on local time, day or date
}

// cref is a component of an element.
type cref struct {
	elem int
	comp Component
}

// celem is an element's restrictions; unset bounds are the widest values.
type celem struct {
	hasTOD           bool
	todStart, todEnd int64 // seconds after local midnight, end exclusive
	days             uint8 // bit d set: applies on day d (Monday = 0); 0: every day
	startDay, endDay int64 // days since 1970-01-01 local, end exclusive
	minWh, maxWh     int64
	minDur, maxDur   int64
	minPow, maxPow   int64 // W, current bounds folded in
}

func compile(t Tariff) (*compiled, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	c := &compiled{t: t, todPoints: []int64{0}}
	for i, el := range t.Elements {
		ce := celem{
			startDay: math.MinInt64, endDay: math.MaxInt64,
			maxWh: math.MaxInt64, maxDur: math.MaxInt64, maxPow: math.MaxInt64,
		}
		r := el.Restrictions
		if r != nil && r.Reservation != "" {
			// A reservation element prices the reservation, never the session; keep it out
			// of every dimension (and keep its index, so lines name the right element).
			c.elems = append(c.elems, ce)
			continue
		}
		if r != nil {
			if r.StartTime != "" || r.EndTime != "" {
				ce.hasTOD, ce.todStart, ce.todEnd = true, 0, secondsPerDay
				if r.StartTime != "" {
					ce.todStart = hhmm(r.StartTime)
				}
				if r.EndTime != "" {
					ce.todEnd = hhmm(r.EndTime)
				}
				c.todPoints = append(c.todPoints, ce.todStart, ce.todEnd%secondsPerDay)
			}
			for _, d := range r.DaysOfWeek {
				ce.days |= 1 << dayIndex[d]
			}
			if r.StartDate != "" {
				ce.startDay = epochDay(r.StartDate)
			}
			if r.EndDate != "" {
				ce.endDay = epochDay(r.EndDate)
			}
			c.anyCalendar = c.anyCalendar || ce.hasTOD || ce.days != 0 || r.StartDate != "" || r.EndDate != ""
			if r.MinKWh != nil {
				ce.minWh = int64(*r.MinKWh)
				c.whPoints = append(c.whPoints, ce.minWh)
			}
			if r.MaxKWh != nil {
				ce.maxWh = int64(*r.MaxKWh)
				c.whPoints = append(c.whPoints, ce.maxWh)
			}
			if r.MinDuration != nil {
				ce.minDur = *r.MinDuration
				c.durPoints = append(c.durPoints, ce.minDur)
			}
			if r.MaxDuration != nil {
				ce.maxDur = *r.MaxDuration
				c.durPoints = append(c.durPoints, ce.maxDur)
			}
			if r.MinPower != nil {
				ce.minPow = int64(*r.MinPower)
			}
			if r.MaxPower != nil {
				ce.maxPow = int64(*r.MaxPower)
			}
			// I ≥ x ⇔ P ≥ 230·x, and for a whole number of watts P ≥ y ⇔ P ≥ ⌈y⌉ (likewise
			// for <), so a current bound becomes an exact power bound.
			if r.MinCurrent != nil {
				ce.minPow = max(ce.minPow, ceilDiv(int64(*r.MinCurrent)*230, 1000))
			}
			if r.MaxCurrent != nil {
				ce.maxPow = min(ce.maxPow, ceilDiv(int64(*r.MaxCurrent)*230, 1000))
			}
		}
		c.elems = append(c.elems, ce)
		for _, comp := range el.Components {
			if comp.Type == Flat {
				c.flats = append(c.flats, cref{i, comp})
			} else {
				d := dimOf[comp.Type]
				c.dims[d] = append(c.dims[d], cref{i, comp})
			}
		}
	}
	for _, s := range []*[]int64{&c.todPoints, &c.durPoints, &c.whPoints} {
		slices.Sort(*s)
		*s = slices.Compact(*s)
	}
	return c, nil
}

// calendar reports whether the element's time, day and date restrictions hold at a local
// day (days since 1970-01-01), second of that day and weekday (Monday = 0).
func (e *celem) calendar(day, tod, weekday int64) bool {
	if e.hasTOD {
		if e.todStart < e.todEnd {
			if tod < e.todStart || tod >= e.todEnd {
				return false
			}
		} else if tod < e.todStart && tod >= e.todEnd { // wraps past midnight
			return false
		}
	}
	if e.days != 0 && e.days&(1<<weekday) == 0 {
		return false
	}
	return day >= e.startDay && day < e.endDay
}

func hhmm(s string) int64 {
	return int64((s[0]-'0')*10+(s[1]-'0'))*3600 + int64((s[3]-'0')*10+(s[4]-'0'))*60
}

func epochDay(date string) int64 {
	d, _ := time.Parse(time.DateOnly, date) // validated
	return d.Unix() / secondsPerDay
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) == (b < 0) {
		q++
	}
	return q
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
