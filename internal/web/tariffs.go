package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/tariff"
)

func (p *Portal) tariffRoutes() []Route {
	return []Route{
		{"GET", "/tariffs", Member, p.tariffsPage},
		{"POST", "/tariffs", Manager, p.createTariff},
		{"GET", "/tariffs/preview", Member, p.tariffPreview},
		{"GET", "/tariffs/{id}", Member, p.tariffPage},
		{"POST", "/tariffs/{id}/versions", Manager, p.newTariffVersion},
		{"POST", "/tariffs/{id}/retire", Manager, p.retireTariff},
	}
}

// tariffRow is a tariff as the list shows it.
type tariffRow struct {
	Tariff  billing.Tariff
	Current *billing.Version // the version that prices a session starting now; nil: none
	Retired bool
}

// tariffsData is the data of the tariffs page.
type tariffsData struct {
	Rows    []tariffRow
	Plans   []planRow
	Preview *previewView
}

func (p *Portal) tariffRows(c *Ctx) ([]tariffRow, error) {
	b, err := p.billing()
	if err != nil {
		return nil, err
	}
	ts, err := b.Tariffs(c.R.Context(), c.Account.ID)
	if err != nil {
		return nil, err
	}
	now := p.deps.Now()
	rows := make([]tariffRow, 0, len(ts))
	for _, t := range ts {
		r := tariffRow{Tariff: t, Retired: t.Retired(now)}
		if v, ok := t.Current(now); ok && !r.Retired {
			r.Current = &v
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func (p *Portal) tariffsView(c *Ctx) (*View, error) {
	rows, err := p.tariffRows(c)
	if err != nil {
		return nil, err
	}
	plans, err := p.planRows(c, 0, rows)
	if err != nil {
		return nil, err
	}
	v := c.view(&tariffsData{Rows: rows, Plans: plans})
	v.Tab = "tariffs"
	return v, nil
}

func (p *Portal) tariffsPage(c *Ctx) error {
	v, err := p.tariffsView(c)
	if err != nil {
		return err
	}
	v.Form = &Form{Values: map[string][]string{"vat": {"8.1"}, "round": {"1"}}}
	return c.Render("tariffs.html", v)
}

// tariffForm reads the tariff form: the common prices, and an optional other price in a
// time window. Mistakes are recorded in f by field.
func tariffForm(f *Form) tariff.Tariff {
	if f.Get("free") != "" {
		return tariff.Tariff{Free: true}
	}
	price := func(name string) (tariff.Micros, bool) {
		m, set, ok := parseMoney(f.Get(name))
		if !ok {
			f.Fail(name, "form.price")
		}
		return m, set && ok
	}
	vat := tariff.VATRate(0)
	if s := strings.Replace(f.Get("vat"), ",", ".", 1); s == "" {
		f.Fail("vat", "form.required")
	} else if r, err := tariff.ParseVATRate(s); err != nil || r < 0 || r > 10000 {
		f.Fail("vat", "form.vat")
	} else {
		vat = r
	}
	component := func(typ tariff.Dimension, m tariff.Micros) tariff.Component {
		rate := vat
		return tariff.Component{Type: typ, Price: m, VAT: &rate}
	}
	var t tariff.Tariff
	energy, hasEnergy := price("energy")
	hourly, hasTime := price("time")
	fee, hasFee := price("fee")
	idle, hasIdle := price("idle")
	wEnergy, hasWEnergy := price("winEnergy")
	wTime, hasWTime := price("winTime")
	from, to, days := f.Get("winFrom"), f.Get("winTo"), f.Get("winDays")
	if hasWEnergy || hasWTime || from != "" || to != "" {
		switch {
		case from == "":
			f.Fail("winFrom", "form.required")
		case !isClock(from):
			f.Fail("winFrom", "form.time")
		}
		switch {
		case to == "":
			f.Fail("winTo", "form.required")
		case !isClock(to):
			f.Fail("winTo", "form.time")
		case to == from:
			f.Fail("winTo", "form.timeSame")
		}
		if !hasWEnergy && !hasWTime && f.Errors["winEnergy"] == "" {
			f.Fail("winEnergy", "tariffs.windowPrice")
		}
		el := tariff.Element{Restrictions: &tariff.Restrictions{StartTime: from, EndTime: to}}
		switch days {
		case "weekdays":
			el.Restrictions.DaysOfWeek = tariff.Weekdays
		case "weekend":
			el.Restrictions.DaysOfWeek = tariff.Weekend
		case "", "all":
		default:
			f.Fail("winDays", "form.choose")
		}
		if hasWEnergy {
			el.Components = append(el.Components, component(tariff.Energy, wEnergy))
		}
		if hasWTime {
			el.Components = append(el.Components, component(tariff.Time, wTime))
		}
		t.Elements = append(t.Elements, el)
	}
	var base tariff.Element
	if hasEnergy {
		base.Components = append(base.Components, component(tariff.Energy, energy))
	}
	if hasTime {
		base.Components = append(base.Components, component(tariff.Time, hourly))
	}
	if hasFee {
		base.Components = append(base.Components, component(tariff.Flat, fee))
	}
	if len(base.Components) > 0 {
		t.Elements = append(t.Elements, base)
	}
	if hasIdle {
		grace, err := strconv.Atoi(f.Get("idleGrace"))
		if f.Get("idleGrace") == "" {
			grace, err = 0, nil
		}
		if err != nil || grace < 0 || grace > 24*60 {
			f.Fail("idleGrace", "form.minutes")
		}
		rate := vat
		t.IdleFee = &tariff.IdleFee{PricePerHour: idle, VAT: &rate, GraceMinutes: int64(grace), Basis: tariff.IdleFromChargingEnd}
	}
	if len(t.Elements) == 0 && t.IdleFee == nil && f.OK() {
		f.Fail("energy", "tariffs.noPrice")
	}
	if f.Get("round") != "" {
		t.Rounding = tariff.Rounding{PayableStep: 5, Mode: tariff.HalfUp}
	}
	return t
}

// tariffValues writes a version's rules back into the form's fields, for its next version;
// ok is false for rules the form cannot show (made through the API).
func tariffValues(t tariff.Tariff) (vals map[string][]string, ok bool) {
	vals = map[string][]string{}
	set := func(k, v string) { vals[k] = []string{v} }
	if t.Free {
		set("free", "1")
		return vals, true
	}
	if t.Rounding.PayableStep == 5 {
		set("round", "1")
	}
	ok = true
	vat := ""
	note := func(c tariff.Component) {
		if c.VAT != nil {
			s := strings.TrimSuffix(c.VAT.String(), "%")
			if vat != "" && vat != s {
				ok = false
			}
			vat = s
		}
	}
	if len(t.Elements) > 2 {
		ok = false
	}
	plain := 0
	for i, el := range t.Elements {
		// The form's shape: an optional element with a time window first, then one without.
		window := el.Restrictions != nil
		if window && i != 0 {
			ok = false
		}
		if !window {
			plain++
		}
		if window {
			r := el.Restrictions
			set("winFrom", r.StartTime)
			set("winTo", r.EndTime)
			switch {
			case len(r.DaysOfWeek) == 0:
				set("winDays", "all")
			case sameDays(r.DaysOfWeek, tariff.Weekdays):
				set("winDays", "weekdays")
			case sameDays(r.DaysOfWeek, tariff.Weekend):
				set("winDays", "weekend")
			default:
				ok = false
			}
			if r.StartDate != "" || r.EndDate != "" || r.MinKWh != nil || r.MaxKWh != nil || r.MinPower != nil || r.MaxPower != nil ||
				r.MinCurrent != nil || r.MaxCurrent != nil || r.MinDuration != nil || r.MaxDuration != nil || r.Reservation != "" {
				ok = false
			}
		}
		for _, c := range el.Components {
			note(c)
			key := map[tariff.Dimension]string{tariff.Energy: "energy", tariff.Time: "time", tariff.Flat: "fee"}[c.Type]
			if key == "" || window && c.Type == tariff.Flat {
				ok = false
				continue
			}
			if window {
				key = "win" + strings.ToUpper(key[:1]) + key[1:]
			}
			set(key, unitPrice(c.Price))
		}
	}
	if f := t.IdleFee; f != nil {
		set("idle", unitPrice(f.PricePerHour))
		set("idleGrace", strconv.FormatInt(f.GraceMinutes, 10))
		if f.VAT != nil {
			vat = strings.TrimSuffix(f.VAT.String(), "%")
		}
	}
	if t.MinPrice != nil || t.MaxPrice != nil || plain > 1 {
		ok = false
	}
	if vat == "" {
		vat = "0"
	}
	set("vat", vat)
	return vals, ok
}

func sameDays(a, b []tariff.DayOfWeek) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// billingFailed records the problems package billing found in the form: those about the
// name and the validity by field, the others on the form as a whole.
func billingFailed(f *Form, err error) bool {
	var bad billing.Invalid
	if !errors.As(err, &bad) {
		return false
	}
	for _, fe := range bad {
		switch {
		case fe.Field == "name":
			f.Fail("name", "form.required")
		case fe.Field == "validFrom":
			f.Fail("validFrom", "tariffs.validFromPast")
		default:
			// Not a message key: T shows an unknown key as it is, here the problem in words.
			f.Fail("", fe.Field+": "+fe.Problem)
		}
	}
	return true
}

func (p *Portal) createTariff(c *Ctx) error {
	b, err := p.billing()
	if err != nil {
		return err
	}
	f := c.Form()
	name := f.Get("name")
	if name == "" {
		f.Fail("name", "form.required")
	} else if len(name) > 100 {
		f.Fail("name", "form.tooLong")
	}
	rules := tariffForm(f)
	if f.OK() {
		t, err := b.CreateTariff(c.R.Context(), c.Account, name, time.Time{}, rules)
		if err == nil {
			return c.Redirect("/tariffs/" + strconv.FormatInt(t.ID, 10))
		}
		if !billingFailed(f, err) {
			return err
		}
	}
	v, err := p.tariffsView(c)
	if err != nil {
		return err
	}
	return formFailed(c, "tariffs.html", v, f)
}

// tariffData is the data of a tariff's page.
type tariffData struct {
	Row tariffRow
	// Simple is whether the form can show the newest version's prices.
	Simple  bool
	Plans   []planRow
	Preview *previewView
	// Now is the local time a new version takes effect at by default.
	Now string
}

func (p *Portal) tariffOf(c *Ctx) (billing.Tariff, error) {
	b, err := p.billing()
	if err != nil {
		return billing.Tariff{}, err
	}
	id, err := strconv.ParseInt(c.R.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return billing.Tariff{}, ErrNotFound
	}
	t, err := b.Tariff(c.R.Context(), c.Account.ID, id)
	return t, notFound(err)
}

func (p *Portal) tariffView(c *Ctx, t billing.Tariff, f *Form) (*View, error) {
	now := p.deps.Now()
	row := tariffRow{Tariff: t, Retired: t.Retired(now)}
	if v, ok := t.Current(now); ok && !row.Retired {
		row.Current = &v
	}
	d := &tariffData{Row: row, Now: now.In(c.loc).Format("2006-01-02T15:04")}
	vals, ok := tariffValues(t.Versions[len(t.Versions)-1].Rules)
	d.Simple = ok
	plans, err := p.planRows(c, 0, []tariffRow{row})
	if err != nil {
		return nil, err
	}
	for _, pl := range plans {
		if pl.Plan.TariffID == t.ID {
			d.Plans = append(d.Plans, pl)
		}
	}
	if !row.Retired {
		d.Preview, err = p.preview(c, previewRequest{TariffID: t.ID})
		if err != nil {
			return nil, err
		}
		d.Preview.Fixed = true
	}
	v := c.view(d)
	v.Tab = "tariffs"
	if f == nil {
		f = &Form{Values: vals}
		if !ok {
			f.Values = map[string][]string{"vat": {"8.1"}, "round": {"1"}}
		}
	}
	v.Form = f
	return v, nil
}

func (p *Portal) tariffPage(c *Ctx) error {
	t, err := p.tariffOf(c)
	if err != nil {
		return err
	}
	v, err := p.tariffView(c, t, nil)
	if err != nil {
		return err
	}
	return c.Render("tariff.html", v)
}

func (p *Portal) newTariffVersion(c *Ctx) error {
	t, err := p.tariffOf(c)
	if err != nil {
		return err
	}
	f := c.Form()
	var from time.Time
	if s := f.Get("validFrom"); s != "" {
		from, err = time.ParseInLocation("2006-01-02T15:04", s, c.loc)
		if err != nil {
			f.Fail("validFrom", "form.dateTime")
		}
	}
	rules := tariffForm(f)
	if f.OK() {
		_, err := p.deps.Billing.ChangeTariff(c.R.Context(), c.Account, t.ID, f.Get("name"), from, rules)
		switch {
		case err == nil:
			return c.Redirect("/tariffs/" + strconv.FormatInt(t.ID, 10))
		case errors.Is(err, billing.ErrRetired):
			f.Fail("", "tariffs.retiredNoChange")
		case !billingFailed(f, err):
			return err
		}
	}
	v, err := p.tariffView(c, t, f)
	if err != nil {
		return err
	}
	return c.execute(http.StatusUnprocessableEntity, "tariff.html", "", v)
}

func (p *Portal) retireTariff(c *Ctx) error {
	t, err := p.tariffOf(c)
	if err != nil {
		return err
	}
	if _, err := p.deps.Billing.RetireTariff(c.R.Context(), c.Account.ID, t.ID); err != nil {
		return notFound(err)
	}
	return c.Redirect("/tariffs/" + strconv.FormatInt(t.ID, 10))
}

// rulesText describes a version's prices in a line: "CHF 0.35/kWh · CHF 2.00 per session ·
// 22:00–06:00: CHF 0.25/kWh".
func (v *View) RulesText(t tariff.Tariff) string {
	if t.Free {
		return v.T("tariffs.free")
	}
	cur := t.CurrencyCode()
	var parts []string
	for _, el := range t.Elements {
		var comps []string
		for _, c := range el.Components {
			switch c.Type {
			case tariff.Energy:
				comps = append(comps, cur+" "+unitPrice(c.Price)+"/kWh")
			case tariff.Time:
				comps = append(comps, cur+" "+unitPrice(c.Price)+"/h")
			case tariff.ParkingTime:
				comps = append(comps, v.T("tariffs.parkingPrice", cur+" "+unitPrice(c.Price)))
			case tariff.Flat:
				comps = append(comps, v.T("tariffs.feePrice", cur+" "+unitPrice(c.Price)))
			}
		}
		s := strings.Join(comps, ", ")
		if r := el.Restrictions; r != nil {
			var when []string
			if r.StartTime != "" || r.EndTime != "" {
				when = append(when, or(r.StartTime, "00:00")+"–"+or(r.EndTime, "24:00"))
			}
			switch {
			case len(r.DaysOfWeek) == 0:
			case sameDays(r.DaysOfWeek, tariff.Weekdays):
				when = append(when, v.T("tariffs.weekdays"))
			case sameDays(r.DaysOfWeek, tariff.Weekend):
				when = append(when, v.T("tariffs.weekend"))
			default:
				var ds []string
				for _, d := range r.DaysOfWeek {
					ds = append(ds, v.T("day."+strings.ToLower(string(d)[:3])))
				}
				when = append(when, strings.Join(ds, ", "))
			}
			if len(when) == 0 {
				when = append(when, v.T("tariffs.restricted"))
			}
			s = strings.Join(when, " ") + ": " + s
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	if f := t.IdleFee; f != nil {
		parts = append(parts, v.T("tariffs.idlePrice", cur+" "+unitPrice(f.PricePerHour), f.GraceMinutes))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " · ")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Latest is the tariff's newest version.
func (r tariffRow) Latest() billing.Version { return r.Tariff.Versions[len(r.Tariff.Versions)-1] }
