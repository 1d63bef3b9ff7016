package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/metering"
)

// An account's HT/NT calendar and its imported external series (metering.Store).

// calendarWindowJSON is a metering.Window as metering_calendars.windows keeps it: the weekday
// by its English name and the times as HH:MM, or HH:MM:SS when they have seconds, from 00:00
// to 24:00.
type calendarWindowJSON struct {
	Day  string `json:"day"`
	From string `json:"from"`
	To   string `json:"to"`
}

func clockString(d time.Duration) (string, error) {
	if d < 0 || d > 24*time.Hour || d%time.Second != 0 {
		return "", fmt.Errorf("time of day %v is not whole seconds from 00:00 to 24:00", d)
	}
	h, m, s := d/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second
	if s != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", h, m, s), nil
	}
	return fmt.Sprintf("%02d:%02d", h, m), nil
}

func parseClock(s string) (time.Duration, error) {
	bad := fmt.Errorf("time of day %q", s)
	if len(s) != 5 && len(s) != 8 {
		return 0, bad
	}
	var parts [3]time.Duration // hours, minutes, seconds
	for i := 0; 3*i < len(s); i++ {
		a, b := s[3*i], s[3*i+1]
		if a < '0' || a > '9' || b < '0' || b > '9' || (3*i+2 < len(s) && s[3*i+2] != ':') {
			return 0, bad
		}
		parts[i] = time.Duration(a-'0')*10 + time.Duration(b-'0')
	}
	d := parts[0]*time.Hour + parts[1]*time.Minute + parts[2]*time.Second
	if parts[1] > 59 || parts[2] > 59 || d > 24*time.Hour {
		return 0, bad
	}
	return d, nil
}

func parseWeekday(s string) (time.Weekday, error) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if d.String() == s {
			return d, nil
		}
	}
	return 0, fmt.Errorf("weekday %q", s)
}

func encodeCalendar(ws []metering.Window) (string, error) {
	out := make([]calendarWindowJSON, len(ws))
	for i, w := range ws {
		if w.Day < time.Sunday || w.Day > time.Saturday {
			return "", fmt.Errorf("window %d: weekday %d", i, int(w.Day))
		}
		from, err := clockString(w.From)
		if err != nil {
			return "", fmt.Errorf("window %d: from: %w", i, err)
		}
		to, err := clockString(w.To)
		if err != nil {
			return "", fmt.Errorf("window %d: to: %w", i, err)
		}
		out[i] = calendarWindowJSON{Day: w.Day.String(), From: from, To: to}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func decodeCalendar(s string) ([]metering.Window, error) {
	var in []calendarWindowJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("calendar %q: %w", s, err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]metering.Window, len(in))
	for i, w := range in {
		var err error
		if out[i].Day, err = parseWeekday(w.Day); err == nil {
			if out[i].From, err = parseClock(w.From); err == nil {
				out[i].To, err = parseClock(w.To)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("calendar window %d: %w", i, err)
		}
	}
	return out, nil
}

// Calendar returns the account's HT windows in the order they were set; an empty calendar
// (everything NT) is nil windows and ok.
func (s *Store) Calendar(ctx context.Context, accountID int64) ([]metering.Window, bool, error) {
	var js string
	err := s.read.QueryRowContext(ctx, `SELECT windows FROM metering_calendars WHERE account_id = $1`, accountID).Scan(&js)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: calendar of account %d: %w", accountID, err)
	}
	ws, err := decodeCalendar(js)
	if err != nil {
		return nil, false, fmt.Errorf("store: calendar of account %d: %w", accountID, err)
	}
	return ws, true, nil
}

// SetCalendar replaces the account's HT windows. Times of day must be whole seconds from
// 00:00 to 24:00, as the column keeps them.
func (s *Store) SetCalendar(ctx context.Context, accountID int64, windows []metering.Window, at time.Time) error {
	js, err := encodeCalendar(windows)
	if err != nil {
		return fmt.Errorf("store: set calendar of account %d: %w", accountID, err)
	}
	if at.IsZero() {
		at = s.now()
	}
	err = s.w.do(ctx, func(t *wtx) error {
		_, err := t.exec(`INSERT INTO metering_calendars (account_id, windows, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (account_id) DO UPDATE SET windows = excluded.windows, updated_at = excluded.updated_at`,
			accountID, js, ms(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set calendar of account %d: %w", accountID, err)
	}
	return nil
}

// ImportExternal stores the quarter hours of the account's external series name, replacing
// those it has; of two intervals with the same start, the later in intervals counts.
func (s *Store) ImportExternal(ctx context.Context, accountID int64, name string, intervals []metering.ExternalInterval, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	last := make(map[int64]int, len(intervals))
	for i, iv := range intervals {
		last[ms(iv.Start)] = i
	}
	// PostgreSQL's upsert must not meet the same row twice in one statement.
	uniq := make([]metering.ExternalInterval, 0, len(last))
	for i, iv := range intervals {
		if last[ms(iv.Start)] == i {
			uniq = append(uniq, iv)
		}
	}
	err := s.w.do(ctx, func(t *wtx) error {
		for chunk := range slices.Chunk(uniq, markRows(t, 3)) {
			if err := upsertExternal(t, accountID, name, chunk, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: import external series %q: %w", name, err)
	}
	return nil
}

func upsertExternal(t *wtx, accountID int64, name string, intervals []metering.ExternalInterval, at time.Time) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO external_intervals (account_id, name, interval_start, energy_wh, quality, imported_at) VALUES `)
	args := make([]any, 0, 3+3*len(intervals))
	args = append(args, accountID, name, ms(at))
	for i, iv := range intervals {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, ms(iv.Start), iv.EnergyWh, int(iv.Quality))
		n := len(args)
		fmt.Fprintf(&b, "($1, $2, $%d, $%d, $%d, $3)", n-2, n-1, n)
	}
	b.WriteString(` ON CONFLICT (account_id, name, interval_start) DO UPDATE SET energy_wh = excluded.energy_wh,
		quality = excluded.quality, imported_at = excluded.imported_at`)
	_, err := t.exec(b.String(), args...)
	return err
}

// ExternalSeries returns the quarter hours of the account's external series name in
// [from, to), in order; a zero from or to does not bound.
func (s *Store) ExternalSeries(ctx context.Context, accountID int64, name string, from, to time.Time) ([]metering.ExternalInterval, error) {
	var w where
	w.add("account_id = ?", accountID)
	w.add("name = ?", name)
	if !from.IsZero() {
		w.add("interval_start >= ?", ms(from))
	}
	if !to.IsZero() {
		w.add("interval_start < ?", ms(to))
	}
	rows, err := s.read.QueryContext(ctx, `SELECT interval_start, energy_wh, quality FROM external_intervals`+
		w.sql()+` ORDER BY interval_start`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("store: external series %q: %w", name, err)
	}
	defer rows.Close()
	var out []metering.ExternalInterval
	for rows.Next() {
		var (
			start   int64
			iv      metering.ExternalInterval
			quality int
		)
		if err := rows.Scan(&start, &iv.EnergyWh, &quality); err != nil {
			return nil, fmt.Errorf("store: external series %q: %w", name, err)
		}
		iv.Start, iv.Quality = fromMS(start), metering.Quality(quality)
		out = append(out, iv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: external series %q: %w", name, err)
	}
	return out, nil
}

// ExternalSeriesNames returns the names of the account's external series, sorted bytewise.
func (s *Store) ExternalSeriesNames(ctx context.Context, accountID int64) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT DISTINCT name FROM external_intervals WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: external series names: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("store: external series names: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: external series names: %w", err)
	}
	// The databases' collations differ; bytewise is the same everywhere.
	slices.Sort(out)
	return out, nil
}
