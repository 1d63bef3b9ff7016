package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/station"
)

// Sessions: the account's charging sessions, filtered, with their meter chart and their
// cost, and the filtered list as CSV.
func (p *Portal) sessionRoutes() []Route {
	return []Route{
		{"GET", "/sessions", Member, p.sessionsPage},
		{"GET", "/sessions.csv", Member, p.sessionsCSV},
		{"GET", "/sessions/{id}", Member, p.sessionPage},
	}
}

// The bounds of the list.
const (
	defaultSessionLimit = 100
	maxSessionLimit     = 5000
)

// sessionFilter selects sessions.
type sessionFilter struct {
	StationID int64
	Station   string // its charge point id, for the form
	User      int64
	IdTag     string
	From, To  time.Time // local days, To exclusive
	Open      bool
	Limit     int
	// Tags restricts the list to these idTags (a driver's own); nil: no restriction.
	Tags []string
}

// sessionRow is a session as the lists show it.
type sessionRow struct {
	Tx       station.Transaction
	Driver   string
	DriverID int64
	Cost     billing.SessionCost
	HasCost  bool
	now      time.Time
}

// Payable is the session's cost as the list shows it, "—" when unpriced.
func (r sessionRow) Payable() string {
	if !r.HasCost || !r.Cost.Priced() {
		return "—"
	}
	return money(r.Cost.Cost.Currency, r.Cost.Cost.Payable)
}

// Duration is how long the session lasted, or has lasted.
func (r sessionRow) Duration() string {
	end := r.Tx.StoppedAt
	if !r.Tx.Stopped {
		end = r.now
	}
	return durationText(end.Sub(r.Tx.StartedAt))
}

// Energy is the energy charged, "—" unknown; an open session's so far, from its cost.
func (r sessionRow) Energy() string {
	switch {
	case r.Tx.EnergyWh != nil:
		return kwhText(*r.Tx.EnergyWh)
	case !r.Tx.Stopped && r.HasCost && r.Cost.Priced():
		return kwhText(r.Cost.Cost.EnergyWh)
	}
	return "—"
}

// tagOwners is the driver of each registered tag, by idTag, with their names.
func (p *Portal) tagOwners(c *Ctx, accountID int64) (map[string]int64, map[int64]string, error) {
	if p.deps.AccessRules == nil {
		return nil, nil, nil
	}
	ctx := c.R.Context()
	owners, err := p.deps.AccessRules.TagUsers(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	users, err := p.deps.AccessRules.Users(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[int64]string, len(users))
	for _, u := range users {
		names[u.ID] = u.Name
	}
	return owners, names, nil
}

// sessionRows reads the sessions f selects, newest first, with their drivers and costs.
func (p *Portal) sessionRows(c *Ctx, acct account.Account, f sessionFilter) ([]sessionRow, error) {
	ctx := c.R.Context()
	owners, names, err := p.tagOwners(c, acct.ID)
	if err != nil {
		return nil, err
	}
	tf := station.TransactionFilter{StationID: f.StationID, IdTag: f.IdTag, From: f.From, To: f.To}
	if f.Open {
		open := true
		tf.Open = &open
	}
	// A driver's sessions are those of their tags: a driver's page gives them (Tags), the
	// operator's filter a user.
	var tags map[string]bool
	switch {
	case f.Tags != nil:
		tags = map[string]bool{}
		for _, t := range f.Tags {
			tags[strings.ToLower(t)] = true
		}
	case f.User != 0:
		tags = map[string]bool{}
		for tag, u := range owners {
			if u == f.User {
				tags[strings.ToLower(tag)] = true
			}
		}
	default:
		tf.Limit = f.Limit
	}
	if tags != nil && len(tags) == 0 {
		return nil, nil
	}
	txs, err := p.deps.Store.Transactions(ctx, acct.ID, tf)
	if err != nil {
		return nil, err
	}
	var out []sessionRow
	for _, tx := range txs {
		if tags != nil && !tags[strings.ToLower(tx.IdTag)] {
			continue
		}
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
		r := sessionRow{Tx: tx, DriverID: owners[tx.IdTag], now: p.deps.Now()}
		r.Driver = names[r.DriverID]
		if p.deps.Billing != nil {
			c, err := p.deps.Billing.Cost(ctx, acct, tx.ID)
			if err != nil {
				return nil, err
			}
			r.Cost, r.HasCost = c, true
			if r.DriverID == 0 && c.UserID != 0 {
				r.DriverID, r.Driver = c.UserID, names[c.UserID]
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// sessionsData is the data of the sessions page.
type sessionsData struct {
	Rows     []sessionRow
	Stations []station.Station
	Users    []access.User
	Filter   sessionFilter
	// Query is the filter as a query string, for the CSV links.
	Query string
	More  bool // the list was cut at its limit
	Now   time.Time
}

// readSessionFilter reads the filter form (a GET form); mistakes are in f.
func (p *Portal) readSessionFilter(c *Ctx, f *Form) (sessionFilter, error) {
	sf := sessionFilter{Limit: defaultSessionLimit, IdTag: f.Get("tag"), Open: f.Get("open") != ""}
	if s := f.Get("station"); s != "" {
		st, err := p.deps.Store.StationByChargePointID(c.R.Context(), c.Account.ID, s)
		if err != nil {
			f.Fail("station", "form.choose")
		} else {
			sf.StationID, sf.Station = st.ID, st.ChargePointID
		}
	}
	if s := f.Get("driver"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			f.Fail("driver", "form.choose")
		}
		sf.User = id
	}
	day := func(name string) time.Time {
		s := f.Get(name)
		if s == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006-01-02", s, c.loc)
		if err != nil {
			f.Fail(name, "form.date")
		}
		return t
	}
	sf.From = day("from")
	if to := day("to"); !to.IsZero() {
		sf.To = to.AddDate(0, 0, 1)
	}
	if !sf.From.IsZero() && !sf.To.IsZero() && !sf.To.After(sf.From) {
		f.Fail("to", "form.dateAfter")
	}
	if s := f.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxSessionLimit {
			f.Fail("limit", "form.choose")
		} else {
			sf.Limit = n
		}
	}
	return sf, nil
}

// queryForm is the request's query as a form, for GET forms.
func queryForm(c *Ctx) *Form { return &Form{Values: c.R.URL.Query()} }

func (p *Portal) sessionsPage(c *Ctx) error {
	ctx := c.R.Context()
	f := queryForm(c)
	sf, err := p.readSessionFilter(c, f)
	if err != nil {
		return err
	}
	d := &sessionsData{Filter: sf, Now: p.deps.Now()}
	q := url.Values{}
	for _, k := range []string{"station", "driver", "tag", "from", "to", "open"} {
		if s := f.Get(k); s != "" {
			q.Set(k, s)
		}
	}
	d.Query = q.Encode()
	if d.Stations, err = p.deps.Store.Stations(ctx, c.Account.ID); err != nil {
		return err
	}
	if p.deps.AccessRules != nil {
		if d.Users, err = p.deps.AccessRules.Users(ctx, c.Account.ID); err != nil {
			return err
		}
	}
	if f.OK() {
		sf.Limit++
		if d.Rows, err = p.sessionRows(c, c.Account, sf); err != nil {
			return err
		}
		if len(d.Rows) == sf.Limit {
			d.Rows, d.More = d.Rows[:sf.Limit-1], true
		}
	}
	v := c.view(d)
	v.Tab, v.Form = "sessions", f
	status := 200
	if !f.OK() {
		status = 422
	}
	return c.execute(status, "sessions.html", "", v)
}

// sessionsCSV writes the filtered sessions (up to maxSessionLimit) as CSV, times in the
// account's zone; excel=1 for Excel in Swiss locales (semicolons, decimal commas, a BOM).
func (p *Portal) sessionsCSV(c *Ctx) error {
	f := queryForm(c)
	sf, err := p.readSessionFilter(c, f)
	if err != nil {
		return err
	}
	if !f.OK() {
		return HTTPError{400, "error.badRequest"}
	}
	if f.Get("limit") == "" {
		sf.Limit = maxSessionLimit
	}
	rows, err := p.sessionRows(c, c.Account, sf)
	if err != nil {
		return err
	}
	excel := f.Get("excel") == "1"
	var b bytes.Buffer
	if excel {
		b.WriteString("\ufeff")
	}
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	if excel {
		w.Comma = ';'
	}
	num := func(s string) string {
		if excel {
			return strings.Replace(s, ".", ",", 1)
		}
		return s
	}
	w.Write([]string{"transaction_id", "station", "connector", "id_tag", "driver", "started", "stopped", "duration_minutes",
		"energy_kwh", "cost", "currency", "cost_status"})
	for _, r := range rows {
		tx := r.Tx
		stopped, minutes := "", ""
		if tx.Stopped {
			stopped = tx.StoppedAt.In(c.loc).Format(time.RFC3339)
			minutes = strconv.FormatInt(int64(tx.StoppedAt.Sub(tx.StartedAt)/time.Minute), 10)
		}
		energy := ""
		if tx.EnergyWh != nil {
			energy = num(fmt.Sprintf("%d.%03d", *tx.EnergyWh/1000, *tx.EnergyWh%1000))
		}
		cost, currency, status := "", "", ""
		if r.HasCost {
			status = string(r.Cost.Status)
			if r.Cost.Priced() {
				cost = num(fmt.Sprintf("%d.%02d", r.Cost.Cost.Payable/100, r.Cost.Cost.Payable%100))
				currency = r.Cost.Cost.Currency
			}
		}
		w.Write([]string{strconv.FormatInt(tx.ID, 10), csvText(tx.ChargePointID), strconv.Itoa(tx.ConnectorID), csvText(tx.IdTag),
			csvText(r.Driver), tx.StartedAt.In(c.loc).Format(time.RFC3339), stopped, minutes, energy, cost, currency, status})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	name := "sessions-" + p.deps.Now().In(c.loc).Format("2006-01-02") + ".csv"
	c.W.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
	c.W.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	c.W.Write(b.Bytes())
	return nil
}

// csvText keeps a spreadsheet from running a cell as a formula (a chargePointId, an idTag
// or a name is chosen by someone else).
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// sessionData is the data of a session's page, and of a driver's receipt.
type sessionData struct {
	Row sessionRow
	// Chart is the JSON of the meter chart: Unix seconds, kW and kWh charged so far.
	Chart string
	Now   time.Time
	// Back is the list to go back to.
	Back string
}

// chartData is the meter chart of a session.
type chartData struct {
	T   []int64    `json:"t"`
	KW  []*float64 `json:"kw"`
	KWh []*float64 `json:"kwh"`
}

// sessionChart reads the transaction's power and energy register over time.
func (p *Portal) sessionChart(c *Ctx, acct account.Account, tx station.Transaction) (string, error) {
	mvs, err := p.deps.Store.MeterValues(c.R.Context(), acct.ID, station.MeterValueFilter{TransactionID: tx.ID, Limit: 20000})
	if err != nil {
		return "", err
	}
	type point struct {
		kw, kwh *float64
	}
	at := map[int64]*point{}
	var order []int64
	get := func(t time.Time) *point {
		k := t.Unix()
		if pt, ok := at[k]; ok {
			return pt
		}
		pt := &point{}
		at[k] = pt
		order = append(order, k)
		return pt
	}
	for _, pp := range powerPoints(mvs) {
		kw := pp.watts / 1000
		get(pp.at).kw = &kw
	}
	for _, mv := range mvs {
		if mv.Measurand == "Energy.Active.Import.Register" && mv.Phase == "" && mv.Unit == "Wh" && mv.Milli != nil {
			kwh := (float64(*mv.Milli)/1000 - float64(tx.MeterStartWh)) / 1000
			get(mv.Timestamp).kwh = &kwh
		}
	}
	slices.Sort(order)
	var d chartData
	for _, k := range order {
		d.T = append(d.T, k)
		d.KW = append(d.KW, at[k].kw)
		d.KWh = append(d.KWh, at[k].kwh)
	}
	b, err := json.Marshal(d)
	return string(b), err
}

func (p *Portal) sessionPage(c *Ctx) error {
	id, err := strconv.ParseInt(c.R.PathValue("id"), 10, 64)
	if err != nil {
		return ErrNotFound
	}
	d, err := p.sessionData(c, c.Account, id, nil)
	if err != nil {
		return err
	}
	d.Back = "/sessions"
	v := c.view(d)
	v.Tab = "sessions"
	return c.Render("session.html", v)
}

// sessionData reads one session of the account; with tags, only one of those tags'.
func (p *Portal) sessionData(c *Ctx, acct account.Account, id int64, tags []string) (*sessionData, error) {
	ctx := c.R.Context()
	tx, err := p.deps.Store.Transaction(ctx, acct.ID, id)
	if err != nil {
		return nil, notFound(err)
	}
	if tags != nil && !slices.ContainsFunc(tags, func(t string) bool { return strings.EqualFold(t, tx.IdTag) }) {
		return nil, ErrNotFound
	}
	owners, names, err := p.tagOwners(c, acct.ID)
	if err != nil {
		return nil, err
	}
	r := sessionRow{Tx: tx, DriverID: owners[tx.IdTag], now: p.deps.Now()}
	r.Driver = names[r.DriverID]
	if p.deps.Billing != nil {
		if r.Cost, err = p.deps.Billing.Cost(ctx, acct, tx.ID); err != nil {
			return nil, err
		}
		r.HasCost = true
	}
	d := &sessionData{Row: r, Now: p.deps.Now()}
	if d.Chart, err = p.sessionChart(c, acct, tx); err != nil {
		return nil, err
	}
	return d, nil
}
