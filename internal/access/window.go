package access

import (
	"fmt"
	"strings"
	"time"
)

// Weekdays is a set of days of the week; bit i is time.Weekday(i), so Sun is bit 0.
type Weekdays uint8

// The days, and the sets windows use most.
const (
	Sun Weekdays = 1 << iota
	Mon
	Tue
	Wed
	Thu
	Fri
	Sat

	MonFri   = Mon | Tue | Wed | Thu | Fri
	Weekend  = Sat | Sun
	EveryDay = MonFri | Weekend
)

// Days is the set of the given days.
func Days(ds ...time.Weekday) Weekdays {
	var w Weekdays
	for _, d := range ds {
		w |= 1 << (d % 7)
	}
	return w
}

// Has reports whether d is in the set.
func (w Weekdays) Has(d time.Weekday) bool { return w&(1<<(d%7)) != 0 }

// dayNames are in the order people read a week in Switzerland: Monday first.
var dayNames = [7]struct {
	name string
	day  time.Weekday
}{
	{"Mon", time.Monday}, {"Tue", time.Tuesday}, {"Wed", time.Wednesday}, {"Thu", time.Thursday},
	{"Fri", time.Friday}, {"Sat", time.Saturday}, {"Sun", time.Sunday},
}

// String writes the set Monday first, with runs of three or more days as ranges:
// "Mon-Fri", "Sat,Sun", "Mon,Wed-Sun". ParseWeekdays reads it back.
func (w Weekdays) String() string {
	var parts []string
	for i := 0; i < 7; {
		if !w.Has(dayNames[i].day) {
			i++
			continue
		}
		j := i
		for j+1 < 7 && w.Has(dayNames[j+1].day) {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, dayNames[i].name+"-"+dayNames[j].name)
		case j == i+1:
			parts = append(parts, dayNames[i].name, dayNames[j].name)
		default:
			parts = append(parts, dayNames[i].name)
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// ParseWeekdays reads a list of days and ranges such as "Mon-Fri", "Sat,Sun" or "Fri-Mon"
// (a range may wrap past Sunday). Names are the English three-letter ones, in any case.
// The empty string is the empty set.
func ParseWeekdays(s string) (Weekdays, error) {
	var w Weekdays
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		from, to, isRange := strings.Cut(strings.TrimSpace(part), "-")
		i, ok := dayIndex(from)
		if !ok {
			return 0, fmt.Errorf("access: weekdays %q: unknown day %q", s, strings.TrimSpace(from))
		}
		j := i
		if isRange {
			if j, ok = dayIndex(to); !ok {
				return 0, fmt.Errorf("access: weekdays %q: unknown day %q", s, strings.TrimSpace(to))
			}
		}
		for k := i; ; k = (k + 1) % 7 {
			w |= 1 << dayNames[k].day
			if k == j {
				break
			}
		}
	}
	return w, nil
}

func dayIndex(name string) (int, bool) {
	name = strings.TrimSpace(name)
	for i, d := range dayNames {
		if strings.EqualFold(name, d.name) {
			return i, true
		}
	}
	return 0, false
}

// MarshalText writes the set as String does.
func (w Weekdays) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText reads the set as ParseWeekdays does.
func (w *Weekdays) UnmarshalText(b []byte) error {
	v, err := ParseWeekdays(string(b))
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// Window is a weekly time window in local time (the time zone the Rules are built with).
//
// It opens on each day of Days at Start and closes at End the same day; an End earlier than
// Start closes on the next day (Fri 22:00-06:00 runs into Saturday morning), and End may be
// "24:00". Start equal to End is rejected: use 00:00-24:00 for a whole day. The days and the
// date lists name the day a window opens, also for one that runs past midnight.
//
// Times are wall-clock times, which matters twice a year. A window opens the first moment
// the local clock shows Start or later, and closes the first moment it shows End or later,
// so that each opening is one unbroken stretch of real time:
//   - when the clock springs forward (Zurich, last Sunday of March, 02:00 → 03:00) a window
//     01:00-04:00 lasts 2 real hours, and one that opens at 02:30, a time that does not
//     exist that day, opens at 03:00;
//   - when it falls back (last Sunday of October, 03:00 → 02:00) 01:00-04:00 lasts 4 real
//     hours, covering both 02:30s; a window that ends at 02:30 ends at the first of them
//     and does not reopen at the second.
type Window struct {
	Days  Weekdays
	Start string // "HH:MM", 00:00 to 23:59
	End   string // "HH:MM", 00:01 to 24:00
	// ExceptDates are days ("YYYY-MM-DD", local) the window does not open, such as holidays.
	ExceptDates []string
	// ExtraDates are days it opens although they are not in Days.
	ExtraDates []string
}

// Contains reports whether the window is open at t in loc. An invalid window contains nothing.
func (w Window) Contains(t time.Time, loc *time.Location) bool {
	_, ok := w.NextEnd(t, loc)
	return ok
}

// NextEnd is when the opening of the window that contains t closes; ok is false when the
// window is not open at t (or is invalid).
func (w Window) NextEnd(t time.Time, loc *time.Location) (end time.Time, ok bool) {
	cw, err := compileWindow(w)
	if err != nil || loc == nil {
		return time.Time{}, false
	}
	u := t.Unix()
	z := newZone(loc, u)
	e, ok := cw.endAt(u, &z)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(e, 0).In(loc), true
}

const day = 24 * 60 * 60 // seconds

// window is a Window ready to be checked. Its day numbers count days since 1970-01-01 and
// its times are "wall seconds": local clock readings as seconds since 1970-01-01 00:00.
type window struct {
	days   Weekdays
	start  int64 // seconds after midnight of the day it opens
	end    int64 // seconds after that same midnight; above one day when it runs past midnight
	except map[int64]bool
	extra  map[int64]bool
	label  string // "Mon-Fri 07:00-18:00"
	// reason is the audience's label and the window's, for Decision.Reason.
	reason string
}

func compileWindow(w Window) (window, error) {
	start, okS := parseClock(w.Start, false)
	end, okE := parseClock(w.End, true)
	switch {
	case !okS:
		return window{}, fmt.Errorf("start %q is not a time HH:MM from 00:00 to 23:59", w.Start)
	case !okE:
		return window{}, fmt.Errorf("end %q is not a time HH:MM from 00:00 to 24:00", w.End)
	case start == end:
		return window{}, fmt.Errorf("start and end are both %s: use 00:00-24:00 for a whole day", w.Start)
	}
	if end == 0 {
		end = day // 22:00-00:00 closes at midnight
	}
	if end < start {
		end += day
	}
	cw := window{days: w.Days & EveryDay, start: start, end: end}
	var err error
	if cw.except, err = parseDates(w.ExceptDates); err != nil {
		return window{}, err
	}
	if cw.extra, err = parseDates(w.ExtraDates); err != nil {
		return window{}, err
	}
	for _, s := range w.ExceptDates {
		if n, _ := parseDate(s); cw.extra[n] {
			return window{}, fmt.Errorf("date %s is both an exception and an extra date", s)
		}
	}
	if cw.days == 0 && len(cw.extra) == 0 {
		return window{}, fmt.Errorf("no days and no extra dates: the window never opens")
	}
	cw.label = windowLabel(w)
	return cw, nil
}

func windowLabel(w Window) string {
	times := w.Start + "-" + w.End
	if w.Days&EveryDay != 0 {
		return w.Days.String() + " " + times
	}
	if len(w.ExtraDates) <= 3 {
		return times + " on " + strings.Join(w.ExtraDates, ",")
	}
	return fmt.Sprintf("%s on %d dates", times, len(w.ExtraDates))
}

// parseClock reads "HH:MM" as seconds after midnight; "24:00" only when allowed.
func parseClock(s string, allow24 bool) (int64, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range [4]int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int64(s[0]-'0')*10 + int64(s[1]-'0')
	m := int64(s[3]-'0')*10 + int64(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && (m != 0 || !allow24)) {
		return 0, false
	}
	return h*3600 + m*60, true
}

func parseDates(ss []string) (map[int64]bool, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	m := make(map[int64]bool, len(ss))
	for _, s := range ss {
		n, err := parseDate(s)
		if err != nil {
			return nil, err
		}
		m[n] = true
	}
	return m, nil
}

// parseDate reads "YYYY-MM-DD" as a day number.
func parseDate(s string) (int64, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("date %q is not a date YYYY-MM-DD", s)
	}
	return floorDiv(t.Unix(), day), nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// weekday of day number n; day 0, 1970-01-01, was a Thursday.
func weekday(n int64) time.Weekday {
	return time.Weekday(((n % 7) + 7 + 4) % 7)
}

// opens reports whether the window opens on day n.
func (w *window) opens(n int64) bool {
	if w.extra[n] {
		return true
	}
	if w.except[n] {
		return false
	}
	return w.days.Has(weekday(n))
}

// endAt returns the end of the opening of w that contains instant u (Unix seconds), if one does.
func (w *window) endAt(u int64, z *zone) (int64, bool) {
	n := floorDiv(z.wall(u), day)
	lo, hi := n, n
	if w.end > day {
		lo = n - 1 // yesterday's opening may run into today
	}
	if !z.steady(u) {
		// Near a change of offset a clock set back past midnight reads today's date again
		// after tomorrow's openings began; look at both neighbours.
		lo, hi = n-1, n+1
	}
	for d := lo; d <= hi; d++ {
		if !w.opens(d) {
			continue
		}
		if u < z.resolve(d*day+w.start) {
			continue
		}
		if e := z.resolve(d*day + w.end); u < e {
			return e, true
		}
	}
	return 0, false
}

// wouldContain reports whether w would be open at u were it not for its exception dates,
// and on which day; it explains an Invalid decision.
func (w *window) wouldContain(u int64, z *zone) (int64, bool) {
	n := floorDiv(z.wall(u), day)
	for d := n - 1; d <= n+1; d++ {
		if !w.except[d] || !w.days.Has(weekday(d)) {
			continue
		}
		if u >= z.resolve(d*day+w.start) && u < z.resolve(d*day+w.end) {
			return d, true
		}
	}
	return 0, false
}

// zone converts between instants and wall seconds in a location. Most of the year the
// offset does not change for days, and the conversion is an addition; it remembers the
// stretch around the instant it was made for where that holds.
type zone struct {
	loc *time.Location
	off int64
	// lo and hi bound the instants at least a day away from a change of offset: there, a
	// wall time maps to exactly one instant and the instant to the wall time by off.
	lo, hi int64
}

func newZone(loc *time.Location, u int64) zone {
	t := time.Unix(u, 0).In(loc)
	_, off := t.Zone()
	start, end := t.ZoneBounds()
	z := zone{loc: loc, off: int64(off), lo: minInt64, hi: maxInt64}
	if !start.IsZero() {
		z.lo = start.Unix() + day
	}
	if !end.IsZero() {
		z.hi = end.Unix() - day
	}
	return z
}

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)

func (z *zone) steady(u int64) bool { return z.lo <= u && u < z.hi }

// wall is the local clock reading at instant u, in wall seconds.
func (z *zone) wall(u int64) int64 {
	if z.steady(u) {
		return u + z.off
	}
	_, off := time.Unix(u, 0).In(z.loc).Zone()
	return u + int64(off)
}

// resolve is the first instant at which the local clock shows wall time w or later: the
// instant itself on ordinary days, the first of the two when the clock falls back, and the
// moment the clock jumps when it springs forward over w.
func (z *zone) resolve(w int64) int64 {
	if u := w - z.off; z.steady(u) {
		return u
	}
	// Offsets that can apply to w are those in effect a day either side: no zone changes
	// its offset twice in two days.
	_, o1 := time.Unix(w-day, 0).In(z.loc).Zone()
	_, o2 := time.Unix(w+day, 0).In(z.loc).Zone()
	best, found := int64(0), false
	for _, o := range [2]int64{int64(o1), int64(o2)} {
		u := w - o
		if _, ou := time.Unix(u, 0).In(z.loc).Zone(); int64(ou) == o && (!found || u < best) {
			best, found = u, true
		}
	}
	if found {
		return best
	}
	// w falls in the gap the clock skips: the answer is the moment of the jump, which
	// starts the zone that w read with the earlier (smaller) offset lands in.
	u := w - min(int64(o1), int64(o2))
	if start, _ := time.Unix(u, 0).In(z.loc).ZoneBounds(); !start.IsZero() {
		return start.Unix()
	}
	return u
}
