package web

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/tariff"
)

// A weekly grid is how the pages edit weekly times (when a station is open, a grant's
// windows, the HT hours): a row per weekday, Monday first, each with a few from–to slots.
// Its inputs are named <prefix>-<day>-<slot>-from and -to, day 0 being Monday.

// gridSlots is how many from–to pairs a day has.
const gridSlots = 3

// week is the weekdays Monday first.
var week = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// gridDay is one row of a weekly grid.
type gridDay struct {
	Key   string // "day.mon", a message key
	Slots []gridSlot
}

// gridSlot is one from–to pair.
type gridSlot struct {
	From, To         string
	FromName, ToName string
	FromErr, ToErr   string // message keys
}

// emptyGrid is a grid with every slot empty.
func emptyGrid(prefix string) []gridDay {
	days := make([]gridDay, 7)
	for d := range days {
		days[d] = gridDay{Key: "day." + strings.ToLower(week[d].String()[:3])}
		for i := range gridSlots {
			days[d].Slots = append(days[d].Slots, gridSlot{
				FromName: fmt.Sprintf("%s-%d-%d-from", prefix, d, i),
				ToName:   fmt.Sprintf("%s-%d-%d-to", prefix, d, i),
			})
		}
	}
	return days
}

// dayIndex is the row of a weekday: Monday 0.
func dayIndex(d time.Weekday) int { return (int(d) + 6) % 7 }

// place puts a from–to pair in the first free slot of a day; false when the day is full.
func place(days []gridDay, d time.Weekday, from, to string) bool {
	row := &days[dayIndex(d)]
	for i := range row.Slots {
		if row.Slots[i].From == "" && row.Slots[i].To == "" {
			row.Slots[i].From, row.Slots[i].To = from, to
			return true
		}
	}
	return false
}

// accessGrid shows access windows in a grid; fits is false when they do not fit it (more
// windows a day than slots, or dates), which the page then says.
func accessGrid(prefix string, ws []access.Window) (days []gridDay, fits bool) {
	days, fits = emptyGrid(prefix), true
	for _, w := range ws {
		if len(w.ExceptDates) > 0 || len(w.ExtraDates) > 0 {
			fits = false
		}
		for _, d := range week {
			if w.Days.Has(d) && !place(days, d, w.Start, gridEnd(w.End)) {
				fits = false
			}
		}
	}
	return days, fits
}

// gridEnd is an end as a time input takes it: 24:00 is 00:00.
func gridEnd(s string) string {
	if s == "24:00" {
		return "00:00"
	}
	return s
}

// readGrid reads the slots of a grid from a form, with a mistake for each time that is not
// one. A slot with only one of its times is a mistake on the other.
func readGrid(f *Form, prefix string) []gridDay {
	days := emptyGrid(prefix)
	for d := range days {
		for i := range days[d].Slots {
			s := &days[d].Slots[i]
			s.From, s.To = f.Get(s.FromName), f.Get(s.ToName)
			switch {
			case s.From == "" && s.To == "":
				continue
			case s.From == "":
				s.FromErr = "form.required"
			case s.To == "":
				s.ToErr = "form.required"
			}
			if s.From != "" && !isClock(s.From) {
				s.FromErr = "form.time"
			}
			if s.To != "" && !isClock(s.To) {
				s.ToErr = "form.time"
			}
		}
	}
	return days
}

// isClock reports whether s is a time HH:MM from 00:00 to 23:59.
func isClock(s string) bool {
	_, ok := clockMinutes(s)
	return ok
}

func clockMinutes(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// gridFailed copies the grid's mistakes into the form; false if there were any.
func gridFailed(f *Form, days []gridDay) bool {
	ok := true
	for _, d := range days {
		for _, s := range d.Slots {
			if s.FromErr != "" {
				f.Fail(s.FromName, s.FromErr)
				ok = false
			}
			if s.ToErr != "" {
				f.Fail(s.ToName, s.ToErr)
				ok = false
			}
		}
	}
	return !ok
}

// accessWindows turns a grid into access windows, one per from–to pair and the days that
// have it, and checks them as access.NewRules does: a pair whose start is its end, or two
// pairs open at the same time, are mistakes in the form.
func accessWindows(f *Form, days []gridDay, loc *time.Location) []access.Window {
	if gridFailed(f, days) {
		return nil
	}
	type pair struct{ from, to string }
	var order []pair
	byPair := map[pair]access.Weekdays{}
	where := map[pair]gridSlot{}
	for d, day := range days {
		for _, s := range day.Slots {
			if s.From == "" {
				continue
			}
			end := s.To
			if end == "00:00" {
				end = "24:00"
			}
			if s.From == end {
				f.Fail(s.ToName, "form.timeSame")
				continue
			}
			k := pair{s.From, end}
			if _, seen := byPair[k]; !seen {
				order = append(order, k)
				where[k] = s
			}
			byPair[k] |= access.Days(week[d])
		}
	}
	if !f.OK() {
		return nil
	}
	out := make([]access.Window, 0, len(order))
	for _, k := range order {
		w := access.Window{Days: byPair[k], Start: k.from, End: k.to}
		for _, o := range out {
			if windowsOverlap(loc, o, w) {
				f.Fail(where[k].FromName, "form.timeOverlap")
			}
		}
		out = append(out, w)
	}
	if !f.OK() {
		return nil
	}
	return out
}

// windowsOverlap reports whether access.NewRules finds two windows of one audience overlap.
func windowsOverlap(loc *time.Location, a, b access.Window) bool {
	_, err := access.NewRules(nil, nil, nil, []access.StationRule{{StationID: 1, Mode: access.ModePublic, StationWindows: []access.Window{a, b}}}, loc)
	return errors.Is(err, access.ErrOverlap)
}

// windowsText writes access windows for people: "Mon-Fri 07:00–18:00, Sat 08:00–12:00";
// "" for none.
func windowsText(v *View, ws []access.Window) string {
	parts := make([]string, 0, len(ws))
	for _, w := range ws {
		parts = append(parts, daysText(v, w.Days)+" "+w.Start+"–"+w.End)
	}
	return strings.Join(parts, ", ")
}

// daysText is a set of days in the language, with runs as ranges.
func daysText(v *View, w access.Weekdays) string {
	if w == access.EveryDay {
		return v.T("day.every")
	}
	var parts []string
	for i := 0; i < 7; {
		if !w.Has(week[i]) {
			i++
			continue
		}
		j := i
		for j+1 < 7 && w.Has(week[j+1]) {
			j++
		}
		name := func(k int) string { return v.T("day." + strings.ToLower(week[k].String()[:3])) }
		switch {
		case j-i >= 2:
			parts = append(parts, name(i)+"–"+name(j))
		case j == i+1:
			parts = append(parts, name(i), name(j))
		default:
			parts = append(parts, name(i))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// calendarGrid shows the HT windows of a metering calendar in a grid.
func calendarGrid(prefix string, c metering.Calendar) []gridDay {
	days := emptyGrid(prefix)
	for _, w := range c.HT {
		place(days, w.Day, durationClock(w.From), gridEnd(durationClock(w.To)))
	}
	return days
}

func durationClock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// calendarWindows turns a grid into HT windows: each on one day, on quarter hours, the end
// after the start (00:00 as an end is midnight).
func calendarWindows(f *Form, days []gridDay) []metering.Window {
	if gridFailed(f, days) {
		return nil
	}
	var out []metering.Window
	for d, day := range days {
		for _, s := range day.Slots {
			if s.From == "" {
				continue
			}
			from, _ := clockMinutes(s.From)
			to, _ := clockMinutes(s.To)
			if to == 0 {
				to = 24 * 60
			}
			switch {
			case from%15 != 0:
				f.Fail(s.FromName, "form.quarterHour")
			case to%15 != 0:
				f.Fail(s.ToName, "form.quarterHour")
			case to <= from:
				f.Fail(s.ToName, "form.timeAfter")
			}
			w := metering.Window{Day: week[d], From: time.Duration(from) * time.Minute, To: time.Duration(to) * time.Minute}
			for _, o := range out {
				if o.Day == w.Day && w.From < o.To && o.From < w.To {
					f.Fail(s.FromName, "form.timeOverlap")
				}
			}
			out = append(out, w)
		}
	}
	if !f.OK() {
		return nil
	}
	return out
}

// money writes an amount in minor units: "CHF 9.35".
func money(currency string, minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s %s%d.%02d", currency, sign, minor/100, minor%100)
}

// unitPrice writes a price per unit with two to four decimals: "0.35", "0.2345".
func unitPrice(m tariff.Micros) string {
	s := m.String()
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	return whole + "." + frac
}

// parseMoney reads a price the way people type it: "0.35", "0,35", "CHF 2"; "" is absent.
// ok is false for anything else, negative numbers and more than four decimals included.
func parseMoney(s string) (m tariff.Micros, set, ok bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "CHF"))
	if s == "" {
		return 0, false, true
	}
	s = strings.Replace(s, ",", ".", 1)
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return 0, true, false
	}
	if _, frac, _ := strings.Cut(s, "."); len(frac) > 4 {
		return 0, true, false
	}
	v, err := tariff.ParseMicros(s)
	if err != nil || v < 0 || v > 1_000_000_000_000 {
		return 0, true, false
	}
	return v, true, true
}

// kwhText writes Wh as kWh with two decimals.
func kwhText(wh int64) string { return fmt.Sprintf("%.2f kWh", float64(wh)/1000) }

// durationText writes a duration as 1 h 05 min, or 35 min.
func durationText(d time.Duration) string {
	if d > 0 && d < 30*time.Second {
		// A short test session would otherwise read "0 min".
		return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
	}
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %02d min", m/60, m%60)
}
