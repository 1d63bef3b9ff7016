package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/metering/loadprofile"
	"github.com/chargebook/chargebook/internal/station"
)

// Energy: the 15-minute series of the account per station or per driver, with the HT/NT
// split of its calendar, as a chart, totals and CSV.
func (p *Portal) energyRoutes() []Route {
	return []Route{
		{"GET", "/energy", Member, p.energyPage},
		{"GET", "/energy.csv", Member, p.energyCSV},
		{"POST", "/energy/calendar", Manager, p.saveCalendar},
	}
}

// energyRequest is the energy page's filter.
type energyRequest struct {
	From, To  time.Time // local midnights, To exclusive
	By        metering.GroupBy
	StationID int64
	Station   string
}

// energyRow is one group's totals.
type energyRow struct {
	Name              string
	HT, NT, Total     int64
	HTText, NTText    string
	TotalText         string
	StationID, UserID int64
}

// energyData is the data of the energy page.
type energyData struct {
	Rows     []energyRow
	Total    energyRow
	Chart    string // JSON: Unix seconds, HT kWh and NT kWh per quarter hour
	Stations []station.Station
	Calendar []gridDay
	Query    string
}

// readEnergyRequest reads the filter; the period defaults to the last seven days.
func (p *Portal) readEnergyRequest(c *Ctx, f *Form) energyRequest {
	today := p.deps.Now().In(c.loc)
	midnight := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, c.loc)
	er := energyRequest{From: midnight.AddDate(0, 0, -6), To: midnight.AddDate(0, 0, 1), By: metering.GroupStation}
	day := func(name string) (time.Time, bool) {
		s := f.Get(name)
		if s == "" {
			return time.Time{}, false
		}
		t, err := time.ParseInLocation("2006-01-02", s, c.loc)
		if err != nil {
			f.Fail(name, "form.date")
			return time.Time{}, false
		}
		return t, true
	}
	if t, ok := day("from"); ok {
		er.From = t
	}
	if t, ok := day("to"); ok {
		er.To = t.AddDate(0, 0, 1)
	}
	switch {
	case !er.To.After(er.From):
		f.Fail("to", "form.dateAfter")
	case er.To.Sub(er.From) > metering.MaxSeriesSpan:
		f.Fail("to", "energy.tooLong")
	}
	switch f.Get("by") {
	case "", "station":
	case "user":
		er.By = metering.GroupUser
	default:
		f.Fail("by", "form.choose")
	}
	if s := f.Get("station"); s != "" {
		st, err := p.deps.Store.StationByChargePointID(c.R.Context(), c.Account.ID, s)
		if err != nil {
			f.Fail("station", "form.choose")
		} else {
			er.StationID, er.Station = st.ID, st.ChargePointID
		}
	}
	return er
}

func (p *Portal) series(c *Ctx, er energyRequest) ([]metering.Series, error) {
	en, err := p.energy()
	if err != nil {
		return nil, err
	}
	return en.Series(c.R.Context(), c.Account, metering.SeriesFilter{From: er.From.UTC(), To: er.To.UTC(), StationID: er.StationID}, er.By)
}

func seriesName(k metering.SeriesKey) string {
	switch {
	case k.ChargePointID != "":
		return k.ChargePointID
	case k.UserName != "":
		return k.UserName
	}
	return k.IdTag
}

func (p *Portal) energyView(c *Ctx, f *Form, cal []gridDay) (*View, error) {
	en, err := p.energy()
	if err != nil {
		return nil, err
	}
	ctx := c.R.Context()
	q := c.R.URL.Query()
	qf := &Form{Values: q}
	er := p.readEnergyRequest(c, qf)
	d := &energyData{Calendar: cal}
	if d.Stations, err = p.deps.Store.Stations(ctx, c.Account.ID); err != nil {
		return nil, err
	}
	if d.Calendar == nil {
		calendar, err := en.Calendar(ctx, c.Account)
		if err != nil {
			return nil, err
		}
		d.Calendar = calendarGrid("c", calendar)
	}
	qv := url.Values{"from": {er.From.Format("2006-01-02")}, "to": {er.To.AddDate(0, 0, -1).Format("2006-01-02")}, "by": {string(er.By)}}
	if er.Station != "" {
		qv.Set("station", er.Station)
	}
	d.Query = qv.Encode()
	if qf.OK() {
		ss, err := p.series(c, er)
		var bad metering.Invalid
		switch {
		case errors.As(err, &bad):
			qf.Fail("to", "energy.tooLong")
		case err != nil:
			return nil, err
		}
		chart := struct {
			T  []int64   `json:"t"`
			HT []float64 `json:"ht"`
			NT []float64 `json:"nt"`
		}{}
		for g, s := range ss {
			row := energyRow{Name: seriesName(s.Key), HT: s.HTWh, NT: s.NTWh, Total: s.TotalWh, StationID: s.Key.StationID, UserID: s.Key.UserID}
			d.Rows = append(d.Rows, row)
			d.Total.HT += s.HTWh
			d.Total.NT += s.NTWh
			d.Total.Total += s.TotalWh
			for i, iv := range s.Intervals {
				if g == 0 {
					chart.T = append(chart.T, iv.Start.Unix())
					chart.HT = append(chart.HT, 0)
					chart.NT = append(chart.NT, 0)
				}
				if iv.HT {
					chart.HT[i] += float64(iv.EnergyWh) / 1000
				} else {
					chart.NT[i] += float64(iv.EnergyWh) / 1000
				}
			}
		}
		b, _ := json.Marshal(chart)
		d.Chart = string(b)
	}
	for i := range d.Rows {
		fill(&d.Rows[i])
	}
	fill(&d.Total)
	v := c.view(d)
	v.Tab = "energy"
	// The filter shows what was asked for; the calendar what was typed.
	vals := url.Values{"from": {er.From.Format("2006-01-02")}, "to": {er.To.AddDate(0, 0, -1).Format("2006-01-02")},
		"by": {string(er.By)}, "station": {er.Station}}
	for k, vs := range q {
		vals[k] = vs
	}
	form := &Form{Values: vals, Errors: qf.Errors}
	if f != nil {
		for k, vs := range f.Values {
			form.Values[k] = vs
		}
		for k, e := range f.Errors {
			form.Fail(k, e)
		}
	}
	v.Form = form
	return v, nil
}

func fill(r *energyRow) {
	r.HTText, r.NTText, r.TotalText = kwhText(r.HT), kwhText(r.NT), kwhText(r.Total)
}

func (p *Portal) energyPage(c *Ctx) error {
	v, err := p.energyView(c, nil, nil)
	if err != nil {
		return err
	}
	status := 200
	if !v.Form.OK() {
		status = 422
	}
	return c.execute(status, "energy.html", "", v)
}

// energyCSV writes the series as loadprofile.WriteCSV does; excel=1 for Swiss Excel.
func (p *Portal) energyCSV(c *Ctx) error {
	f := queryForm(c)
	er := p.readEnergyRequest(c, f)
	if !f.OK() {
		return HTTPError{400, "error.badRequest"}
	}
	ss, err := p.series(c, er)
	var bad metering.Invalid
	if errors.As(err, &bad) {
		return HTTPError{400, "energy.tooLong"}
	}
	if err != nil {
		return err
	}
	opts := loadprofile.CSVOptions{Location: c.loc, Station: er.By == metering.GroupStation, User: er.By == metering.GroupUser}
	if f.Get("excel") == "1" {
		opts.Separator, opts.DecimalComma, opts.BOM = ';', true, true
	}
	profiles := make([]loadprofile.Profile, len(ss))
	for i, s := range ss {
		pr := loadprofile.Profile{Station: s.Key.ChargePointID, User: s.Key.UserName, Points: make([]loadprofile.Point, len(s.Intervals))}
		if pr.User == "" {
			pr.User = s.Key.IdTag
		}
		for j, iv := range s.Intervals {
			q := iv.Quality.String()
			if iv.Sessions == 0 {
				q = loadprofile.Idle
			}
			pr.Points[j] = loadprofile.Point{Start: iv.Start.UTC(), EnergyWh: iv.EnergyWh, Quality: q, HT: iv.HT}
		}
		profiles[i] = pr
	}
	var b bytes.Buffer
	if err := loadprofile.WriteCSV(&b, profiles, opts); err != nil {
		return err
	}
	name := "energy-" + er.From.Format("2006-01-02") + "_" + er.To.AddDate(0, 0, -1).Format("2006-01-02") + ".csv"
	c.W.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
	c.W.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	c.W.Write(b.Bytes())
	return nil
}

// saveCalendar stores the HT hours of the week.
func (p *Portal) saveCalendar(c *Ctx) error {
	en, err := p.energy()
	if err != nil {
		return err
	}
	f := c.Form()
	grid := readGrid(f, "c")
	windows := calendarWindows(f, grid)
	if f.OK() {
		if windows == nil {
			windows = []metering.Window{}
		}
		_, err := en.SetCalendar(c.R.Context(), c.Account, windows)
		var bad metering.Invalid
		switch {
		case err == nil:
			return c.Redirect("/energy?saved=" + strconv.FormatInt(p.deps.Now().Unix(), 10) + "#calendar")
		case errors.As(err, &bad):
			f.Fail("", bad.Error())
		default:
			return err
		}
	}
	v, err := p.energyView(c, f, grid)
	if err != nil {
		return err
	}
	return formFailed(c, "energy.html", v, v.Form)
}
