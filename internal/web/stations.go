package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

func (p *Portal) stationRoutes() []Route {
	return []Route{
		{"GET", "/stations", Member, p.stationsPage},
		{"GET", "/stations/live", Member, p.stationsLive},
		{"GET", "/stations/{station}", Member, p.stationPage},
		{"GET", "/stations/{station}/live", Member, p.stationLive},
		{"POST", "/stations/{station}/approve", Manager, p.approve},
		{"POST", "/stations/{station}/configuration/refresh", Manager, p.refreshConfiguration},
		{"POST", "/stations/{station}/configuration/change", Manager, p.changeConfiguration},
		{"POST", "/stations/{station}/billing-metering", Manager, p.billingMetering},
		{"POST", "/stations/{station}/reset", Manager, p.reset},
		{"POST", "/stations/{station}/remote-start", Manager, p.remoteStart},
		{"POST", "/stations/{station}/remote-stop", Manager, p.remoteStop},
		{"POST", "/stations/{station}/unlock", Manager, p.unlock},
		{"POST", "/stations/{station}/availability", Manager, p.availability},
		{"POST", "/stations/{station}/password", Manager, p.setStationPassword},
		{"POST", "/stations/{station}/password/remove", Manager, p.removeStationPassword},
	}
}

// connectorView is a connector as the pages show it.
type connectorView struct {
	ID     int
	Status string // the OCPP status, or "Offline"
	Since  time.Time
	Error  string // the error code, unless NoError
}

// stationRow is a station of the list with its live values.
type stationRow struct {
	Station    station.Station
	Connected  bool
	Connectors []connectorView
	Power      string // "11.0 kW" or "—"
	Today      string // "12.40 kWh" or "—"
}

func (p *Portal) connected(st station.Station) bool {
	if p.deps.Live == nil {
		return st.Connected
	}
	return p.deps.Live.Connected(st.AccountID, st.ChargePointID)
}

// row reads a station's live values.
func (p *Portal) row(ctx context.Context, st station.Station) (stationRow, error) {
	r := stationRow{Station: st, Connected: p.connected(st), Power: "—", Today: "—"}
	conns, err := p.deps.Store.Connectors(ctx, st.ID)
	if err != nil {
		return r, err
	}
	for _, cs := range conns {
		if cs.ConnectorID == 0 && len(conns) > 1 {
			continue // the station as a whole; its connectors say more
		}
		cv := connectorView{ID: cs.ConnectorID, Status: cs.Status, Since: cs.Timestamp}
		if cv.Since.IsZero() {
			cv.Since = cs.ReceivedAt
		}
		if cs.ErrorCode != "" && cs.ErrorCode != "NoError" {
			cv.Error = cs.ErrorCode
		}
		if !r.Connected {
			cv.Status, cv.Since = "Offline", st.ConnectionChangedAt
		}
		r.Connectors = append(r.Connectors, cv)
	}
	if r.Connected {
		if w, ok, err := p.power(ctx, st, conns); err != nil {
			return r, err
		} else if ok {
			r.Power = funcs["kw"].(func(float64) string)(w)
		}
	}
	if p.deps.Metering != nil {
		if wh, ok, err := p.deps.Metering.EnergyToday(ctx, st.AccountID, st.ChargePointID); err != nil {
			return r, err
		} else if ok {
			r.Today = funcs["kwh"].(func(int64) string)(wh)
		}
	}
	return r, nil
}

// power is the station's active power now: from the metering service, or else the latest
// Power.Active.Import of its charging connectors in the last five minutes.
func (p *Portal) power(ctx context.Context, st station.Station, conns []station.ConnectorStatus) (float64, bool, error) {
	if p.deps.Metering != nil {
		return p.deps.Metering.StationPower(ctx, st.AccountID, st.ChargePointID)
	}
	charging := make(map[int]bool)
	for _, cs := range conns {
		if cs.Status == "Charging" {
			charging[cs.ConnectorID] = true
		}
	}
	if len(charging) == 0 {
		return 0, true, nil
	}
	now := p.deps.Now()
	mvs, err := p.deps.Store.MeterValues(ctx, st.AccountID, station.MeterValueFilter{StationID: st.ID, From: now.Add(-5 * time.Minute)})
	if err != nil {
		return 0, false, err
	}
	points := powerPoints(mvs)
	latest := make(map[int]powerPoint)
	for _, pt := range points {
		if charging[pt.connector] {
			latest[pt.connector] = pt
		}
	}
	if len(latest) == 0 {
		return 0, false, nil
	}
	var sum float64
	for _, pt := range latest {
		sum += pt.watts
	}
	return sum, true, nil
}

// powerPoint is the active power of one connector at one time.
type powerPoint struct {
	connector int
	at        time.Time
	watts     float64
}

// powerPoints reads Power.Active.Import out of meter values in timestamp order: the total
// where the station sent one, else the sum of its phases.
func powerPoints(mvs []station.MeterValue) []powerPoint {
	type key struct {
		connector int
		at        time.Time
	}
	total := make(map[key]float64)
	phases := make(map[key]float64)
	var order []key
	for _, mv := range mvs {
		if mv.Measurand != "Power.Active.Import" || mv.Milli == nil || mv.Unit != "W" {
			continue
		}
		k := key{mv.ConnectorID, mv.Timestamp}
		if _, seen := total[k]; !seen {
			if _, seen := phases[k]; !seen {
				order = append(order, k)
			}
		}
		w := float64(*mv.Milli) / 1000
		if mv.Phase == "" {
			total[k] = w
		} else if strings.HasPrefix(mv.Phase, "L") && !strings.Contains(mv.Phase, "-") {
			phases[k] += w
		}
	}
	out := make([]powerPoint, 0, len(order))
	for _, k := range order {
		w, ok := total[k]
		if !ok {
			w = phases[k]
		}
		out = append(out, powerPoint{k.connector, k.at, w})
	}
	return out
}

func (p *Portal) rows(c *Ctx) ([]stationRow, error) {
	ctx := c.R.Context()
	sts, err := p.deps.Store.Stations(ctx, c.Account.ID)
	if err != nil {
		return nil, err
	}
	rows := make([]stationRow, 0, len(sts))
	for _, st := range sts {
		r, err := p.row(ctx, st)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func (p *Portal) stationsPage(c *Ctx) error {
	rows, err := p.rows(c)
	if err != nil {
		return err
	}
	v := c.view(rows)
	v.Tab = "stations"
	return c.Render("stations.html", v)
}

// stationsLive sends the list's rows again every LiveInterval.
func (p *Portal) stationsLive(c *Ctx) error {
	return p.stream(c, func(send func(event, data string) error) error {
		rows, err := p.rows(c)
		if err != nil {
			return err
		}
		html, err := c.block("stations.html", "rows", rows)
		if err != nil {
			return err
		}
		return send("rows", html)
	})
}

// stream answers with server-sent events: tick runs at once and then every LiveInterval
// until the client goes away.
func (p *Portal) stream(c *Ctx, tick func(send func(event, data string) error) error) error {
	flusher, ok := c.W.(http.Flusher)
	if !ok {
		return errors.New("web: streaming not supported")
	}
	h := c.W.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.W.WriteHeader(http.StatusOK)
	send := func(event, data string) error {
		var b strings.Builder
		fmt.Fprintf(&b, "event: %s\n", event)
		for line := range strings.SplitSeq(data, "\n") {
			fmt.Fprintf(&b, "data: %s\n", line)
		}
		b.WriteString("\n")
		if _, err := c.W.Write([]byte(b.String())); err != nil {
			return err
		}
		flusher.Flush()
		return nil
	}
	ticker := time.NewTicker(p.deps.LiveInterval)
	defer ticker.Stop()
	ctx := c.R.Context()
	for {
		if err := tick(send); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.deps.Logger.Warn("web: live values", "path", c.R.URL.Path, "err", err)
			return nil // the answer has started: an error page cannot follow
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// block renders one template of a page to a string, with the request's view.
func (c *Ctx) block(page, name string, data any) (string, error) {
	var b strings.Builder
	if err := c.p.pages[page].ExecuteTemplate(&b, name, c.view(data)); err != nil {
		return "", fmt.Errorf("web: render %s/%s: %w", page, name, err)
	}
	return b.String(), nil
}

// stationData is the data of the station page.
type stationData struct {
	Row          stationRow
	Open         []station.Transaction
	Recent       []station.Transaction
	Config       []operation.ConfigKey
	Operations   []operation.Operation
	PasswordSet  time.Time // zero: no password
	NewPassword  string    // shown once, right after it was made
	Result       *opResult
	ConfigResult *opResult
	Billing      []KeyResult
	// BillingMetering is whether the one-click setup is available.
	BillingMetering bool
	OCPPURL         string
}

func (p *Portal) stationData(c *Ctx) (*stationData, error) {
	ctx := c.R.Context()
	st := c.Station
	d := &stationData{BillingMetering: p.deps.BillingMetering != nil, OCPPURL: p.ocppURL(c)}
	var err error
	if d.Row, err = p.row(ctx, st); err != nil {
		return nil, err
	}
	open := true
	if d.Open, err = p.deps.Store.Transactions(ctx, c.Account.ID, station.TransactionFilter{StationID: st.ID, Open: &open}); err != nil {
		return nil, err
	}
	closed := false
	if d.Recent, err = p.deps.Store.Transactions(ctx, c.Account.ID, station.TransactionFilter{StationID: st.ID, Open: &closed, Limit: 10}); err != nil {
		return nil, err
	}
	if d.Config, err = p.deps.Operations.Configuration(ctx, c.Account.ID, st.ChargePointID); err != nil {
		return nil, err
	}
	if d.Operations, err = p.deps.Operations.Operations(ctx, c.Account.ID, operation.OperationFilter{ChargePointID: st.ChargePointID, Limit: 20}); err != nil {
		return nil, err
	}
	if _, d.PasswordSet, err = p.deps.Store.StationPassword(ctx, c.Account.ID, st.ChargePointID); err != nil {
		return nil, err
	}
	return d, nil
}

func (p *Portal) stationPage(c *Ctx) error {
	d, err := p.stationData(c)
	if err != nil {
		return err
	}
	return p.renderStation(c, d, http.StatusOK)
}

func (p *Portal) renderStation(c *Ctx, d *stationData, status int) error {
	v := c.view(d)
	v.Tab = "stations"
	return c.execute(status, "station.html", "", v)
}

// livePoint is one value of the power chart: Unix seconds and kW.
type livePoint struct {
	T  int64   `json:"t"`
	KW float64 `json:"kw"`
}

// stationLive sends the connectors and the power every LiveInterval; first the power of the
// last hour, for the chart to start with.
func (p *Portal) stationLive(c *Ctx) error {
	first := true
	return p.stream(c, func(send func(event, data string) error) error {
		ctx := c.R.Context()
		st, err := p.deps.Store.StationByChargePointID(ctx, c.Account.ID, c.Station.ChargePointID)
		if err != nil {
			return err
		}
		if first {
			first = false
			hist, err := p.powerHistory(ctx, st)
			if err != nil {
				return err
			}
			b, _ := json.Marshal(hist)
			if err := send("history", string(b)); err != nil {
				return err
			}
		}
		r, err := p.row(ctx, st)
		if err != nil {
			return err
		}
		html, err := c.block("station.html", "connectors", r)
		if err != nil {
			return err
		}
		if err := send("connectors", html); err != nil {
			return err
		}
		w, ok, err := p.power(ctx, st, nil)
		if !r.Connected {
			w, ok = 0, true
		} else if err == nil && p.deps.Metering == nil {
			conns, err2 := p.deps.Store.Connectors(ctx, st.ID)
			if err2 != nil {
				return err2
			}
			w, ok, err = p.power(ctx, st, conns)
		}
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		b, _ := json.Marshal(livePoint{T: p.deps.Now().Unix(), KW: w / 1000})
		return send("power", string(b))
	})
}

// powerHistory is the station's power in the last hour from its meter values, summed over
// connectors at each time a connector reported.
func (p *Portal) powerHistory(ctx context.Context, st station.Station) ([]livePoint, error) {
	now := p.deps.Now()
	mvs, err := p.deps.Store.MeterValues(ctx, st.AccountID, station.MeterValueFilter{StationID: st.ID, From: now.Add(-time.Hour)})
	if err != nil {
		return nil, err
	}
	last := make(map[int]float64)
	out := []livePoint{}
	for _, pt := range powerPoints(mvs) {
		last[pt.connector] = pt.watts
		var sum float64
		for _, w := range last {
			sum += w
		}
		lp := livePoint{T: pt.at.Unix(), KW: sum / 1000}
		if n := len(out); n > 0 && out[n-1].T == lp.T {
			out[n-1] = lp
		} else {
			out = append(out, lp)
		}
	}
	slices.SortStableFunc(out, func(a, b livePoint) int { return int(a.T - b.T) })
	return out, nil
}

func (p *Portal) approve(c *Ctx) error {
	if err := p.deps.Store.SetRegistration(c.R.Context(), c.Account.ID, c.Station.ID, station.Accepted); err != nil {
		return err
	}
	return c.Redirect("/stations/" + url.PathEscape(c.Station.ChargePointID))
}

// opResult is what the station answered to an operation, as the page says it.
type opResult struct {
	Action string
	OK     bool
	Text   string
}

// execute sends an operation and says what came of it.
func (p *Portal) execute(c *Ctx, action string, payload any) (*opResult, operation.Result, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, operation.Result{}, err
	}
	res, err := p.deps.Operations.Execute(c.R.Context(), operation.Request{
		AccountID: c.Account.ID, ChargePointID: c.Station.ChargePointID, Actor: c.Actor(), Action: action, Payload: b,
	})
	r := &opResult{Action: action}
	var se *operation.StationError
	var oe interface{ Error() string }
	switch {
	case err == nil:
		status := answerStatus(res.Operation.Response)
		r.OK = status == "" || status == "Accepted" || status == "Unlocked" || status == "Scheduled"
		if status == "" {
			r.Text = c.T("op.answered")
		} else {
			r.Text = c.T("op.status", c.T("status."+status))
		}
	case errors.Is(err, operation.ErrNotConnected):
		r.Text = c.T("op.notConnected")
	case errors.Is(err, operation.ErrTimeout):
		r.Text = c.T("op.timeout")
	case errors.As(err, &se):
		r.Text = c.T("op.callError", se.Code, se.Description)
	case res.Operation.ID == 0:
		// Refused before it was sent: the payload is not valid, which the forms should
		// have caught; say what package ocpp said.
		oe = err
		r.Text = c.T("op.invalid", oe.Error())
	default:
		return nil, res, err
	}
	return r, res, nil
}

// answerStatus is the status property most answers have; "" when there is none.
func answerStatus(resp json.RawMessage) string {
	var a struct {
		Status string `json:"status"`
	}
	json.Unmarshal(resp, &a)
	return a.Status
}

// operationDone answers an action: for htmx the result and the fresh operations log, else
// the whole station page.
func (p *Portal) operationDone(c *Ctx, r *opResult) error {
	d, err := p.stationData(c)
	if err != nil {
		return err
	}
	d.Result = r
	if c.HTMX() {
		return c.Partial("station.html", "actions-result", d)
	}
	return p.renderStation(c, d, http.StatusOK)
}

func (p *Portal) reset(c *Ctx) error {
	typ := c.R.FormValue("type")
	if typ != "Soft" && typ != "Hard" {
		return HTTPError{http.StatusBadRequest, "error.badRequest"}
	}
	r, _, err := p.execute(c, "Reset", map[string]string{"type": typ})
	if err != nil {
		return err
	}
	return p.operationDone(c, r)
}

// connectorField reads a connector number of the form.
func connectorField(f *Form, name string, min int) (int, bool) {
	n, err := strconv.Atoi(f.Get(name))
	if err != nil || n < min {
		f.Fail(name, "form.connector")
		return 0, false
	}
	return n, true
}

// formFailed answers an action whose form has mistakes.
func (p *Portal) formFailed(c *Ctx, f *Form) error {
	d, err := p.stationData(c)
	if err != nil {
		return err
	}
	v := c.view(d)
	v.Tab, v.Form = "stations", f
	if c.HTMX() {
		c.W.Header().Set("HX-Retarget", "#actions")
		return c.execute(http.StatusUnprocessableEntity, "station.html", "actions", v)
	}
	return c.execute(http.StatusUnprocessableEntity, "station.html", "", v)
}

func (p *Portal) remoteStart(c *Ctx) error {
	f := c.Form()
	conn, _ := connectorField(f, "connector", 1)
	idTag := f.Get("idTag")
	if idTag == "" {
		f.Fail("idTag", "form.required")
	} else if len(idTag) > 20 {
		f.Fail("idTag", "form.idTagLong")
	}
	if !f.OK() {
		return p.formFailed(c, f)
	}
	r, _, err := p.execute(c, "RemoteStartTransaction", map[string]any{"connectorId": conn, "idTag": idTag})
	if err != nil {
		return err
	}
	return p.operationDone(c, r)
}

func (p *Portal) remoteStop(c *Ctx) error {
	f := c.Form()
	id, err := strconv.ParseInt(f.Get("transaction"), 10, 64)
	if err != nil {
		return HTTPError{http.StatusBadRequest, "error.badRequest"}
	}
	r, _, err := p.execute(c, "RemoteStopTransaction", map[string]any{"transactionId": id})
	if err != nil {
		return err
	}
	return p.operationDone(c, r)
}

func (p *Portal) unlock(c *Ctx) error {
	f := c.Form()
	conn, ok := connectorField(f, "unlockConnector", 1)
	if !ok {
		return p.formFailed(c, f)
	}
	r, _, err := p.execute(c, "UnlockConnector", map[string]any{"connectorId": conn})
	if err != nil {
		return err
	}
	return p.operationDone(c, r)
}

func (p *Portal) availability(c *Ctx) error {
	f := c.Form()
	conn, ok := connectorField(f, "availabilityConnector", 0)
	typ := f.Get("type")
	if typ != "Operative" && typ != "Inoperative" {
		f.Fail("type", "form.required")
		ok = false
	}
	if !ok {
		return p.formFailed(c, f)
	}
	r, _, err := p.execute(c, "ChangeAvailability", map[string]any{"connectorId": conn, "type": typ})
	if err != nil {
		return err
	}
	return p.operationDone(c, r)
}

// configDone answers a configuration action: for htmx the table with the station's answer.
func (p *Portal) configDone(c *Ctx, r *opResult, billing []KeyResult) error {
	d, err := p.stationData(c)
	if err != nil {
		return err
	}
	d.ConfigResult, d.Billing = r, billing
	if c.HTMX() {
		return c.Partial("station.html", "configuration", d)
	}
	return p.renderStation(c, d, http.StatusOK)
}

func (p *Portal) refreshConfiguration(c *Ctx) error {
	r, _, err := p.execute(c, "GetConfiguration", map[string]any{})
	if err != nil {
		return err
	}
	return p.configDone(c, r, nil)
}

func (p *Portal) changeConfiguration(c *Ctx) error {
	f := c.Form()
	key, value := f.Get("key"), f.Values.Get("value")
	if key == "" || len(key) > 50 || len(value) > 500 {
		return HTTPError{http.StatusBadRequest, "error.badRequest"}
	}
	r, _, err := p.execute(c, "ChangeConfiguration", map[string]string{"key": key, "value": value})
	if err != nil {
		return err
	}
	r.Text = key + ": " + r.Text
	return p.configDone(c, r, nil)
}

func (p *Portal) billingMetering(c *Ctx) error {
	if p.deps.BillingMetering == nil {
		return HTTPError{http.StatusNotImplemented, "station.billingUnavailable"}
	}
	results, err := p.deps.BillingMetering.SetupBillingMetering(c.R.Context(), c.Account.ID, c.Station.ChargePointID, c.Actor())
	r := &opResult{Action: "billing", OK: err == nil, Text: c.T("station.billingDone")}
	if err != nil {
		r.Text = c.T("station.billingFailed", err.Error())
	}
	return p.configDone(c, r, results)
}

// setStationPassword makes a new random password for the station and shows it once.
func (p *Portal) setStationPassword(c *Ctx) error {
	// 32 characters of 64: the charger's AuthorizationKey takes up to 40 (OCPP 1.6 security
	// whitepaper), and a random secret needs no slow hash.
	_, secret := account.NewToken(c.Account.ID, "", p.deps.Now())
	password := strings.TrimPrefix(secret, account.TokenPrefix)
	if err := p.deps.Store.SetStationPassword(c.R.Context(), c.Account.ID, c.Station.ID, account.HashToken(password), p.deps.Now()); err != nil {
		return err
	}
	d, err := p.stationData(c)
	if err != nil {
		return err
	}
	d.NewPassword = password
	if c.HTMX() {
		return c.Partial("station.html", "password", d)
	}
	return p.renderStation(c, d, http.StatusOK)
}

func (p *Portal) removeStationPassword(c *Ctx) error {
	if err := p.deps.Store.SetStationPassword(c.R.Context(), c.Account.ID, c.Station.ID, "", p.deps.Now()); err != nil {
		return err
	}
	d, err := p.stationData(c)
	if err != nil {
		return err
	}
	if c.HTMX() {
		return c.Partial("station.html", "password", d)
	}
	return p.renderStation(c, d, http.StatusOK)
}
