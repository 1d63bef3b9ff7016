package metering

import "time"

// Date is a civil date, without a time or a location.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// QuarterHours returns the UTC starts of the quarter hours of day in loc, from local
// midnight to the next local midnight: 96 on most days, 92 or 100 on the days the clocks
// change (Europe/Zurich 2026-03-29: 92, 2026-10-25: 100).
func QuarterHours(day Date, loc *time.Location) []time.Time {
	from := time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, loc).UTC()
	to := time.Date(day.Year, day.Month, day.Day+1, 0, 0, 0, 0, loc).UTC()
	qs := make([]time.Time, 0, int(to.Sub(from)/Quarter))
	for t := from; t.Before(to); t = t.Add(Quarter) {
		qs = append(qs, t)
	}
	return qs
}
