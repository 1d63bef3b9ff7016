package metering

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/account"
)

// FieldError is one problem with a request. Field is the name of the property at fault as
// the REST API spells it ("from", "windows[2].to", "intervals[5].start").
type FieldError struct {
	Field   string
	Problem string
}

// Invalid is a request that was refused, with every problem found; an API answers it with
// 400 naming the first field.
type Invalid []FieldError

func (v Invalid) Error() string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = f.Field + ": " + f.Problem
	}
	return "metering: " + strings.Join(parts, "; ")
}

// Bounds of a query.
const (
	// MaxSeriesSpan is the longest window a series is asked for.
	MaxSeriesSpan = 366 * 24 * time.Hour
	// MaxSeriesIntervals bounds the quarter hours of all groups of one answer (a year of
	// 35,136 quarter hours for 56 groups), so that one request cannot take the server's
	// memory; narrow the window or group less.
	MaxSeriesIntervals = 2_000_000
	// MaxExternalIntervals bounds one import: a year and a little more.
	MaxExternalIntervals = 370 * 96
	maxExternalName      = 64
)

// SeriesInterval is one quarter hour of a group's series.
type SeriesInterval struct {
	Start    time.Time // UTC
	EnergyWh int64
	Quality  Quality // the worst of its transactions'; Missing when it had none
	// Sessions is how many transactions the group had in the quarter hour; 0 is idle.
	Sessions int
	// HT: the quarter hour is high tariff in the account's calendar.
	HT bool
}

// Series is the 15-minute energy of one group, every quarter hour of the window.
type Series struct {
	Key       SeriesKey
	Intervals []SeriesInterval
	TotalWh   int64
	HTWh      int64
	NTWh      int64
}

func checkWindow(bad Invalid, from, to time.Time) Invalid {
	onQuarter := func(t time.Time) bool { return t.Truncate(Quarter).Equal(t) }
	switch {
	case from.IsZero():
		bad = append(bad, FieldError{"from", "required"})
	case !onQuarter(from):
		bad = append(bad, FieldError{"from", "not on a quarter hour"})
	}
	switch {
	case to.IsZero():
		bad = append(bad, FieldError{"to", "required"})
	case !onQuarter(to):
		bad = append(bad, FieldError{"to", "not on a quarter hour"})
	}
	if !from.IsZero() && !to.IsZero() {
		switch {
		case !from.Before(to):
			bad = append(bad, FieldError{"to", "not after from"})
		case to.Sub(from) > MaxSeriesSpan:
			bad = append(bad, FieldError{"to", "more than 366 days after from"})
		}
	}
	return bad
}

// Series returns the energy of the account's transactions selected by f, summed per group,
// with every quarter hour of [f.From, f.To) (UTC quarter hours, at most 366 days apart),
// each marked HT or NT by the account's calendar. Without grouping there is always one
// series, of zeros if nothing was charged; with grouping, a group without energy in the
// window is not listed.
func (s *Service) Series(ctx context.Context, acct account.Account, f SeriesFilter, by GroupBy) ([]Series, error) {
	bad := checkWindow(nil, f.From, f.To)
	if f.ConnectorID < 0 {
		bad = append(bad, FieldError{"connectorId", "negative"})
	} else if f.ConnectorID > 0 && f.StationID == 0 {
		bad = append(bad, FieldError{"connectorId", "needs a station"})
	}
	switch by {
	case GroupNone, GroupStation, GroupConnector, GroupUser, GroupTransaction:
	default:
		bad = append(bad, FieldError{"groupBy", fmt.Sprintf("%q is none of station, connector, user, transaction", string(by))})
	}
	if len(bad) > 0 {
		return nil, bad
	}
	from, to := f.From.UTC(), f.To.UTC()
	f.From, f.To = from, to
	cal, err := s.Calendar(ctx, acct)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.Series(ctx, acct.ID, f, by)
	if err != nil {
		return nil, fmt.Errorf("metering: series: %w", err)
	}
	n := int(to.Sub(from) / Quarter)
	index := make(map[SeriesKey]int)
	var keys []SeriesKey
	if by == GroupNone {
		index[SeriesKey{}] = 0
		keys = append(keys, SeriesKey{})
	}
	for _, r := range rows {
		if _, ok := index[r.Key]; !ok {
			index[r.Key] = len(keys)
			keys = append(keys, r.Key)
		}
	}
	if len(keys)*n > MaxSeriesIntervals {
		return nil, Invalid{{"to", fmt.Sprintf("%d groups of %d quarter hours are more than %d intervals: narrow the window or group less",
			len(keys), n, MaxSeriesIntervals)}}
	}
	ht := make([]bool, n)
	for i := range ht {
		ht[i] = cal.IsHT(from.Add(time.Duration(i) * Quarter))
	}
	out := make([]Series, len(keys))
	for g, key := range keys {
		ivs := make([]SeriesInterval, n)
		for i := range ivs {
			ivs[i] = SeriesInterval{Start: from.Add(time.Duration(i) * Quarter), HT: ht[i]}
		}
		out[g] = Series{Key: key, Intervals: ivs}
	}
	for _, r := range rows {
		start := r.Start.UTC()
		if start.Before(from) || !start.Before(to) {
			continue
		}
		sr := &out[index[r.Key]]
		iv := &sr.Intervals[int(start.Sub(from)/Quarter)]
		iv.EnergyWh += r.EnergyWh
		iv.Quality = max(iv.Quality, r.Quality)
		iv.Sessions += r.Sessions
	}
	for g := range out {
		for _, iv := range out[g].Intervals {
			out[g].TotalWh += iv.EnergyWh
			if iv.HT {
				out[g].HTWh += iv.EnergyWh
			} else {
				out[g].NTWh += iv.EnergyWh
			}
		}
	}
	return out, nil
}

// Location is the account's time zone, Europe/Zurich if it names none.
func Location(acct account.Account) (*time.Location, error) {
	tz := acct.TimeZone
	if tz == "" {
		tz = account.DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("metering: time zone of account %d: %w", acct.ID, err)
	}
	return loc, nil
}

// Calendar returns the account's HT/NT calendar in its time zone: the windows it stored, or
// SwissStandard.
func (s *Service) Calendar(ctx context.Context, acct account.Account) (Calendar, error) {
	loc, err := Location(acct)
	if err != nil {
		return Calendar{}, err
	}
	windows, ok, err := s.store.Calendar(ctx, acct.ID)
	if err != nil {
		return Calendar{}, fmt.Errorf("metering: calendar: %w", err)
	}
	if !ok {
		return SwissStandard(loc), nil
	}
	return Calendar{Loc: loc, HT: windows}, nil
}

// SetCalendar stores the account's HT windows, sorted, and returns its calendar. Each window
// is on one day, from a quarter hour to a later one or the end of the day; windows of a day
// do not overlap. No windows makes every quarter hour NT.
func (s *Service) SetCalendar(ctx context.Context, acct account.Account, windows []Window) (Calendar, error) {
	if bad := checkWindows(windows); len(bad) > 0 {
		return Calendar{}, bad
	}
	loc, err := Location(acct)
	if err != nil {
		return Calendar{}, err
	}
	windows = slices.Clone(windows)
	slices.SortFunc(windows, compareWindow)
	if err := s.store.SetCalendar(ctx, acct.ID, windows, s.now().UTC()); err != nil {
		return Calendar{}, fmt.Errorf("metering: set calendar: %w", err)
	}
	return Calendar{Loc: loc, HT: windows}, nil
}

func compareWindow(a, b Window) int {
	if c := cmp.Compare(a.Day, b.Day); c != 0 {
		return c
	}
	return cmp.Compare(a.From, b.From)
}

func checkWindows(windows []Window) Invalid {
	var bad Invalid
	for i, w := range windows {
		field := fmt.Sprintf("windows[%d]", i)
		if w.Day < time.Sunday || w.Day > time.Saturday {
			bad = append(bad, FieldError{field + ".day", fmt.Sprintf("%d is not a day of the week", int(w.Day))})
		}
		onQuarter := func(d time.Duration) bool { return d%Quarter == 0 }
		switch {
		case w.From < 0 || w.From >= 24*time.Hour:
			bad = append(bad, FieldError{field + ".from", "not within the day"})
		case !onQuarter(w.From):
			bad = append(bad, FieldError{field + ".from", "not on a quarter hour"})
		}
		switch {
		case w.To <= w.From:
			bad = append(bad, FieldError{field + ".to", "not after from"})
		case w.To > 24*time.Hour:
			bad = append(bad, FieldError{field + ".to", "after the end of the day"})
		case !onQuarter(w.To):
			bad = append(bad, FieldError{field + ".to", "not on a quarter hour"})
		}
		for j, o := range windows[:i] {
			if o.Day == w.Day && w.From < o.To && o.From < w.To {
				bad = append(bad, FieldError{field, fmt.Sprintf("overlaps windows[%d]", j)})
			}
		}
	}
	return bad
}

func checkExternalName(bad Invalid, name string) Invalid {
	ok := len(name) >= 1 && len(name) <= maxExternalName
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			ok = false
		}
	}
	if !ok {
		bad = append(bad, FieldError{"name", fmt.Sprintf("1 to %d of a-z, 0-9, - and _", maxExternalName)})
	}
	return bad
}

// ImportExternal stores the quarter hours of an external series of the account (a building's
// PV production, its total consumption meter), replacing those it has. name is 1 to 64 of
// a-z, 0-9, - and _; each interval starts on a UTC quarter hour, once, with non-negative
// energy. An interval without a quality is Measured: it was given.
func (s *Service) ImportExternal(ctx context.Context, acct account.Account, name string, intervals []ExternalInterval) error {
	bad := checkExternalName(nil, name)
	if len(intervals) > MaxExternalIntervals {
		bad = append(bad, FieldError{"intervals", fmt.Sprintf("more than %d: import in parts", MaxExternalIntervals)})
		return bad
	}
	seen := make(map[time.Time]int, len(intervals))
	ivs := make([]ExternalInterval, len(intervals))
	for i, iv := range intervals {
		field := fmt.Sprintf("intervals[%d]", i)
		iv.Start = iv.Start.UTC()
		switch j, dup := seen[iv.Start]; {
		case iv.Start.IsZero():
			bad = append(bad, FieldError{field + ".start", "required"})
		case !iv.Start.Truncate(Quarter).Equal(iv.Start):
			bad = append(bad, FieldError{field + ".start", "not on a quarter hour"})
		case dup:
			bad = append(bad, FieldError{field + ".start", fmt.Sprintf("the same as intervals[%d]", j)})
		}
		seen[iv.Start] = i
		if iv.EnergyWh < 0 {
			bad = append(bad, FieldError{field + ".energyWh", "negative"})
		}
		if iv.Quality > Estimated {
			bad = append(bad, FieldError{field + ".quality", "unknown"})
		}
		if iv.Quality == Missing {
			iv.Quality = Measured
		}
		ivs[i] = iv
	}
	if len(bad) > 0 {
		return bad
	}
	slices.SortFunc(ivs, func(a, b ExternalInterval) int { return a.Start.Compare(b.Start) })
	if err := s.store.ImportExternal(ctx, acct.ID, name, ivs, s.now().UTC()); err != nil {
		return fmt.Errorf("metering: import %s: %w", name, err)
	}
	return nil
}

// ExternalSeries returns the stored quarter hours of the account's external series in
// [from, to); the window is checked as for Series.
func (s *Service) ExternalSeries(ctx context.Context, acct account.Account, name string, from, to time.Time) ([]ExternalInterval, error) {
	if bad := checkWindow(checkExternalName(nil, name), from, to); len(bad) > 0 {
		return nil, bad
	}
	ivs, err := s.store.ExternalSeries(ctx, acct.ID, name, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("metering: external series %s: %w", name, err)
	}
	return ivs, nil
}

// ExternalSeriesNames returns the names of the account's external series.
func (s *Service) ExternalSeriesNames(ctx context.Context, acct account.Account) ([]string, error) {
	names, err := s.store.ExternalSeriesNames(ctx, acct.ID)
	if err != nil {
		return nil, fmt.Errorf("metering: external series: %w", err)
	}
	return names, nil
}
