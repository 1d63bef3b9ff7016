package loadprofile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Unit is the unit of the values of an imported series.
type Unit string

// The units ReadCSV reads. W and kW are the average power over the quarter hour, as some
// meters and portals export; their energy is a quarter of an hour's worth.
const (
	Wh  Unit = "Wh"
	KWh Unit = "kWh"
	W   Unit = "W"
	KW  Unit = "kW"
)

// whPer is the energy in Wh of one of the unit, exactly.
var whPer = map[Unit]*big.Rat{Wh: big.NewRat(1, 1), KWh: big.NewRat(1000, 1), W: big.NewRat(1, 4), KW: big.NewRat(250, 1)}

// ParseUnit reads a unit in any letter case ("kwh" is kWh).
func ParseUnit(s string) (Unit, bool) {
	for _, u := range []Unit{Wh, KWh, W, KW} {
		if strings.EqualFold(strings.TrimSpace(s), string(u)) {
			return u, true
		}
	}
	return "", false
}

// ImportOptions say how to read an external series. The zero value reads the common shapes
// without help, except where a file cannot tell: the unit (unless a column or the header
// names it) and whether its timestamps are starts or ends.
type ImportOptions struct {
	// Separator is ',', ';' or tab; 0 detects it from the first line: ';' if it has one,
	// else a tab if it has one, else ','.
	Separator rune
	// Decimal is the decimal separator, '.' or ','; 0 reads a value with a comma and no
	// point as having a decimal comma ("0,15"), any other with a decimal point.
	// Thousands separators are refused either way.
	Decimal rune
	// End says the timestamps are interval ends (the MST portal's "01.12.2014 00:15" is the
	// quarter hour from 00:00); they are interval starts otherwise.
	End bool
	// Location is the zone of timestamps written without an offset, read on its wall clock:
	// a time that the clocks skip in spring is an error; a time of the hour repeated in
	// autumn is the first of its two instants that comes after the previous row's, so
	// that rows in time order read right. A timestamp with an offset or Z is exact. Nil is
	// Europe/Zurich.
	Location *time.Location
	// Unit is the unit of the values; "" takes it from a unit column (otark's "unit"), or
	// from the value column's header ("energy_kwh", "Wert [kWh]"); an error if neither.
	Unit Unit
}

// Interval is the energy of one quarter hour of an imported series.
type Interval struct {
	Start    time.Time // UTC, on a quarter hour
	EnergyWh int64
}

// ImportError is an error in the input of ReadCSV. Line and Column count from 1; Column is
// the field's position in its line (0 when the error is about the whole line or file), and
// Name the field's header, if there is one.
type ImportError struct {
	Line, Column int
	Name         string
	Msg          string
}

func (e *ImportError) Error() string {
	var b strings.Builder
	b.WriteString("loadprofile: read csv: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
			if e.Name != "" {
				fmt.Fprintf(&b, " (%s)", e.Name)
			}
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// maxImportRows bounds the rows read: ten years of quarter hours.
const maxImportRows = 10 * 366 * 96

// Header names ReadCSV recognises, lowercased, without a unit suffix.
var (
	dateNames  = []string{"date", "datum", "tag"}
	timeNames  = []string{"time", "zeit", "uhrzeit"}
	stampNames = []string{"timestamp", "datetime", "zeitstempel", "zeitpunkt", "start", "end", "from", "to", "von", "bis",
		"interval_start_utc", "interval_start", "interval_end", "interval_start_local", "interval_end_local"}
	valueNames = []string{"value", "wert", "energy", "energie", "consumption", "verbrauch", "production", "produktion", "", "messwert"}
	unitNames  = []string{"unit", "einheit"}
)

// layout says which fields of a row hold what; -1 is none.
type layout struct {
	stamp, date, clock, value, unit int
	names                           []string // header names, by field
	unit0                           Unit     // the unit the value column's header names
}

func (l layout) name(i int) string {
	if i >= 0 && i < len(l.names) {
		return l.names[i]
	}
	return ""
}

// ReadCSV reads an external 15-minute series (a building's PV production or its total
// consumption) from CSV, and returns its quarter hours in time order.
//
// A first line whose first field is not a date or timestamp is a header; columns are then
// found by their names (date/datum, time/zeit, timestamp/start/end/von/bis, value/wert/
// energy/..., unit/einheit, in English or German, any letter case), as far as they can be.
// Otherwise, and for what the names do not tell, the fields are by position: a timestamp
// then a value, or a date, a time of day and a value.
//
// Timestamps: RFC 3339 ("2026-03-29T01:00:00Z", "2026-10-25T02:15:00+01:00"), or without an
// offset "2006-01-02 15:04", "2006-01-02T15:04", "02.01.2006 15:04", each with or without
// seconds, or a date ("2006-01-02", "02.01.2006", "20060102") and a time of day ("15:04",
// "15:04:05", "24:00" for the end of the day) in two columns. Values are plain decimals.
//
// A row whose start is not on a quarter hour, a quarter hour given twice, a negative or
// empty value, or a field that does not read is an *ImportError naming its line and
// column. W and kW values are rounded to the nearest Wh.
func ReadCSV(r io.Reader, opts ImportOptions) ([]Interval, error) {
	loc := opts.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation("Europe/Zurich"); err != nil {
			return nil, fmt.Errorf("loadprofile: read csv: %w", err)
		}
	}
	if opts.Unit != "" {
		if _, ok := whPer[opts.Unit]; !ok {
			return nil, fmt.Errorf("loadprofile: read csv: unit %q: want Wh, kWh, W or kW", opts.Unit)
		}
	}
	if opts.Decimal != 0 && opts.Decimal != '.' && opts.Decimal != ',' {
		return nil, fmt.Errorf("loadprofile: read csv: decimal separator %q: want '.' or ','", opts.Decimal)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("loadprofile: read csv: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	sep := opts.Separator
	if sep == 0 {
		first, _, _ := bytes.Cut(data, []byte("\n"))
		switch {
		case bytes.IndexByte(first, ';') >= 0:
			sep = ';'
		case bytes.IndexByte(first, '\t') >= 0:
			sep = '\t'
		default:
			sep = ','
		}
	}
	if sep != ',' && sep != ';' && sep != '\t' {
		return nil, fmt.Errorf("loadprofile: read csv: separator %q: want ',', ';' or tab", sep)
	}
	if sep == opts.Decimal {
		return nil, fmt.Errorf("loadprofile: read csv: the separator and the decimal separator are both %q", sep)
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = sep
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true

	var (
		lay    *layout
		out    []Interval
		lineOf = make(map[time.Time]int)
		prev   time.Time // the previous row's timestamp, for the autumn hour
		rows   int
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &ImportError{Line: pe.Line, Column: 0, Msg: pe.Err.Error()}
			}
			return nil, fmt.Errorf("loadprofile: read csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if allEmpty(rec) {
			continue
		}
		if lay == nil {
			l, isHeader, err := findLayout(rec, opts)
			if err != nil {
				return nil, &ImportError{Line: line, Msg: err.Error()}
			}
			lay = &l
			if isHeader {
				continue
			}
		}
		rows++
		if rows > maxImportRows {
			return nil, &ImportError{Line: line, Msg: fmt.Sprintf("more than %d rows", maxImportRows)}
		}
		fail := func(col int, format string, args ...any) error {
			return &ImportError{Line: line, Column: col + 1, Name: lay.name(col), Msg: fmt.Sprintf(format, args...)}
		}
		field := func(col int) (string, error) {
			if col >= len(rec) {
				return "", &ImportError{Line: line, Column: col + 1, Name: lay.name(col), Msg: fmt.Sprintf("missing: the line has %d fields", len(rec))}
			}
			return strings.TrimSpace(rec[col]), nil
		}

		// The timestamp, as a wall clock (and an instant if it has an offset).
		var w wall
		if lay.stamp >= 0 {
			s, err := field(lay.stamp)
			if err != nil {
				return nil, err
			}
			if w, err = parseStamp(s); err != nil {
				return nil, fail(lay.stamp, "%v", err)
			}
		} else {
			ds, err := field(lay.date)
			if err != nil {
				return nil, err
			}
			d, err := parseDate(ds)
			if err != nil {
				return nil, fail(lay.date, "%v", err)
			}
			ts, err := field(lay.clock)
			if err != nil {
				return nil, err
			}
			c, err := parseClock(ts)
			if err != nil {
				return nil, fail(lay.clock, "%v", err)
			}
			w = wall{t: d.Add(c)}
		}
		stampCol := lay.stamp
		if stampCol < 0 {
			stampCol = lay.clock
		}
		at, err := w.resolve(loc, prev)
		if err != nil {
			return nil, fail(stampCol, "%v", err)
		}
		prev = at
		start := at
		if opts.End {
			start = at.Add(-Quarter)
		}
		if !onQuarter(start) {
			return nil, fail(stampCol, "%s is not on a quarter hour", at.In(loc).Format(time.RFC3339))
		}

		// The value, in Wh.
		unit := opts.Unit
		if unit == "" {
			unit = lay.unit0
		}
		if unit == "" && lay.unit >= 0 {
			us, err := field(lay.unit)
			if err != nil {
				return nil, err
			}
			u, ok := ParseUnit(us)
			if !ok {
				return nil, fail(lay.unit, "unit %q: want Wh, kWh, W or kW", us)
			}
			unit = u
		}
		if unit == "" {
			return nil, &ImportError{Line: line, Msg: "the unit is not known: name it (Wh, kWh, W or kW) in the options, a unit column or the value column's header"}
		}
		vs, err := field(lay.value)
		if err != nil {
			return nil, err
		}
		if vs == "" {
			return nil, fail(lay.value, "empty value")
		}
		comma := opts.Decimal == ',' || (opts.Decimal == 0 && strings.Contains(vs, ",") && !strings.Contains(vs, "."))
		v, err := parseDecimal(vs, comma)
		if err != nil {
			return nil, fail(lay.value, "value %q is not a plain decimal number", vs)
		}
		if v.Sign() < 0 {
			return nil, fail(lay.value, "value %s is negative", vs)
		}
		wh, ok := roundRat(v.Mul(v, whPer[unit]))
		if !ok {
			return nil, fail(lay.value, "value %s is too large", vs)
		}
		if l, dup := lineOf[start]; dup {
			return nil, fail(stampCol, "the quarter hour from %s is given twice, on lines %d and %d", start.In(loc).Format(time.RFC3339), l, line)
		}
		lineOf[start] = line
		out = append(out, Interval{Start: start.UTC(), EnergyWh: wh})
	}
	if lay == nil || len(out) == 0 {
		return nil, &ImportError{Msg: "no rows"}
	}
	slices.SortFunc(out, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	return out, nil
}

func allEmpty(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// findLayout finds the layout from the first non-empty record: by names if it is a header,
// by position from the record itself if it is data.
func findLayout(rec []string, opts ImportOptions) (layout, bool, error) {
	l := layout{stamp: -1, date: -1, clock: -1, value: -1, unit: -1}
	first := strings.TrimSpace(rec[0])
	_, errStamp := parseStamp(first)
	_, errDate := parseDate(first)
	if errStamp != nil && errDate != nil {
		// A header.
		l.names = make([]string, len(rec))
		for i, f := range rec {
			name := strings.TrimSpace(f)
			l.names[i] = name
			base, unit := splitUnit(strings.ToLower(name))
			switch {
			case l.stamp < 0 && slices.Contains(stampNames, base) && unit == "":
				l.stamp = i
			case l.date < 0 && slices.Contains(dateNames, base) && unit == "":
				l.date = i
			case l.clock < 0 && slices.Contains(timeNames, base) && unit == "":
				l.clock = i
			case l.unit < 0 && slices.Contains(unitNames, base) && unit == "":
				l.unit = i
			case l.value < 0 && slices.Contains(valueNames, base) && (base != "" || unit != ""):
				l.value = i
				l.unit0 = unit
			}
		}
		switch {
		case l.date >= 0 && l.clock >= 0:
			l.stamp = -1
		case l.stamp >= 0:
			l.date, l.clock = -1, -1
		case l.date >= 0:
			// A date column whose values may be full timestamps ("Datum: 01.12.2014 00:15").
			l.stamp, l.date, l.clock = l.date, -1, -1
		default:
			l.stamp = 0
		}
		if l.value < 0 {
			next := max(l.stamp, l.clock) + 1
			if next >= len(rec) {
				return l, true, errors.New("no value column: name it value, wert or energy, or put it after the timestamp")
			}
			l.value = next
		}
		return l, true, nil
	}
	// Data: a date in the first field and a time of day in the second, or a timestamp.
	if errDate == nil && len(rec) >= 3 {
		if _, err := parseClock(strings.TrimSpace(rec[1])); err == nil {
			l.date, l.clock, l.value = 0, 1, 2
			return l, false, nil
		}
	}
	if len(rec) < 2 {
		return l, false, errors.New("a line needs a timestamp and a value")
	}
	l.stamp, l.value = 0, 1
	return l, false, nil
}

// splitUnit splits a header name such as "energy_kwh", "Wert [kWh]", "value (W)" or "kWh"
// into its base and unit; unit is "" when it names none.
func splitUnit(name string) (string, Unit) {
	name = strings.TrimSpace(name)
	for _, u := range []Unit{KWh, Wh, KW, W} {
		lu := strings.ToLower(string(u))
		for _, suffix := range []string{"_" + lu, " " + lu, "[" + lu + "]", "(" + lu + ")", " [" + lu + "]", " (" + lu + ")"} {
			if base, ok := strings.CutSuffix(name, suffix); ok {
				return strings.TrimSpace(base), u
			}
		}
		if name == lu {
			return "", u
		}
	}
	return name, ""
}

// wall is a timestamp as read: a wall clock (in t's fields, t in UTC), or an exact instant
// when the text had an offset.
type wall struct {
	t     time.Time
	exact bool
}

// Timestamp layouts without and with an offset.
var (
	stampLayouts = []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05",
		"2.1.2006 15:04", "2.1.2006 15:04:05"}
	offsetLayouts = []string{time.RFC3339, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04Z07:00", "2006-01-02 15:04Z07:00"}
	dateLayouts   = []string{"2006-01-02", "2.1.2006", "20060102"}
)

func parseStamp(s string) (wall, error) {
	for _, lay := range offsetLayouts {
		if t, err := time.Parse(lay, s); err == nil {
			return wall{t: t, exact: true}, nil
		}
	}
	// "24:00" is the end of the day: the next day's 00:00.
	extra := time.Duration(0)
	for _, h24 := range []string{" 24:00", " 24:00:00", "T24:00", "T24:00:00"} {
		if base, ok := strings.CutSuffix(s, h24); ok {
			s, extra = base+h24[:1]+"00:00", 24*time.Hour
		}
	}
	for _, lay := range stampLayouts {
		if t, err := time.Parse(lay, s); err == nil {
			return wall{t: t.Add(extra)}, nil
		}
	}
	return wall{}, fmt.Errorf("timestamp %q: want RFC 3339, 2006-01-02 15:04 or 02.01.2006 15:04", s)
}

func parseDate(s string) (time.Time, error) {
	for _, lay := range dateLayouts {
		if t, err := time.Parse(lay, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: want 2006-01-02, 02.01.2006 or 20060102", s)
}

// parseClock reads a time of day, "24:00" included, as the duration since midnight.
func parseClock(s string) (time.Duration, error) {
	if s == "24:00" || s == "24:00:00" {
		return 24 * time.Hour, nil
	}
	for _, lay := range []string{"15:04", "15:04:05"} {
		if t, err := time.Parse(lay, s); err == nil {
			return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second, nil
		}
	}
	return 0, fmt.Errorf("time of day %q: want 15:04 or 15:04:05", s)
}

// resolve returns the instant of w: exact, or its wall clock in loc. A wall clock the clocks
// skip is an error; one they show twice is the first of its instants after prev (the
// earlier one when prev is zero or after both).
func (w wall) resolve(loc *time.Location, prev time.Time) (time.Time, error) {
	if w.exact {
		return w.t.UTC(), nil
	}
	cands := instants(w.t, loc)
	switch len(cands) {
	case 0:
		return time.Time{}, fmt.Errorf("%s does not exist in %s (the clocks skip it)", w.t.Format("2006-01-02 15:04:05"), loc)
	case 1:
		return cands[0], nil
	}
	if !prev.IsZero() {
		for _, c := range cands {
			if c.After(prev) {
				return c, nil
			}
		}
	}
	return cands[0], nil
}

// instants returns the instants, in order, whose wall clock in loc is that of w (read in
// UTC): none in a spring gap, two in an autumn overlap, one otherwise. The offsets tried
// are those in force half a day before and after, enough for any zone changing its offset
// at most once a day.
func instants(w time.Time, loc *time.Location) []time.Time {
	var out []time.Time
	for _, probe := range []time.Time{w.Add(-12 * time.Hour), w.Add(12 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		c := w.Add(-time.Duration(off) * time.Second)
		l := c.In(loc)
		y1, m1, d1 := l.Date()
		y2, m2, d2 := w.Date()
		if y1 == y2 && m1 == m2 && d1 == d2 && l.Hour() == w.Hour() && l.Minute() == w.Minute() && l.Second() == w.Second() &&
			!slices.ContainsFunc(out, c.Equal) {
			out = append(out, c.UTC())
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}
