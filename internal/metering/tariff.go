package metering

import "time"

// Window is a weekly high-tariff (HT) window: on Day, wall-clock time From until To,
// both as durations since local midnight (7*time.Hour is 07:00, 24*time.Hour the end of
// the day).
type Window struct {
	Day      time.Weekday
	From, To time.Duration
}

// Calendar says which quarter hours are high tariff (HT): those in one of its weekly
// windows, read on the wall clock of Loc (UTC if nil); all others are low tariff (NT).
// Reading the wall clock keeps it right on DST days: on 2026-03-30 in Europe/Zurich 07:00
// is 05:00 UTC, a week earlier it was 06:00 UTC; the repeated hour of an autumn night is
// NT both times.
type Calendar struct {
	Loc *time.Location
	HT  []Window
}

// SwissStandard returns the common Swiss HT schedule: Monday to Friday 07:00-20:00 and
// Saturday 07:00-13:00 in loc, NT otherwise.
func SwissStandard(loc *time.Location) Calendar {
	c := Calendar{Loc: loc}
	for d := time.Monday; d <= time.Friday; d++ {
		c.HT = append(c.HT, Window{Day: d, From: 7 * time.Hour, To: 20 * time.Hour})
	}
	c.HT = append(c.HT, Window{Day: time.Saturday, From: 7 * time.Hour, To: 13 * time.Hour})
	return c
}

// IsHT reports whether the instant t falls in a high-tariff window.
func (c Calendar) IsHT(t time.Time) bool {
	loc := c.Loc
	if loc == nil {
		loc = time.UTC
	}
	l := t.In(loc)
	wall := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute + time.Duration(l.Second())*time.Second
	for _, w := range c.HT {
		if w.Day == l.Weekday() && wall >= w.From && wall < w.To {
			return true
		}
	}
	return false
}

// Split sums the energy of the intervals by tariff. An interval counts whole in the
// tariff of its start; windows on quarter hours (as tariffs are) never cut an interval in
// any location whose offset is a whole quarter hour, as Switzerland's is.
func Split(intervals []Interval, cal Calendar) (ht, nt int64) {
	for _, iv := range intervals {
		if cal.IsHT(iv.Start) {
			ht += iv.EnergyWh
		} else {
			nt += iv.EnergyWh
		}
	}
	return ht, nt
}
