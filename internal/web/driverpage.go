package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/station"
)

// The driver's page: a driver opens the personal link an operator made for them
// (account.DriverLink) and gets a driver session, separate from operators' sessions, that
// shows their own charging sessions (those of their user's tags) and nothing else: the one
// under way with its power, energy and cost so far, and past ones with receipts.

// driverCookie holds a driver session's secret; its SHA-256 is stored.
const driverCookie = "chargebook_driver"

// DriverSessionLifetime is how long a driver stays logged in, at most until their link
// expires.
const DriverSessionLifetime = 30 * 24 * time.Hour

func (p *Portal) driverPageRoutes() []Route {
	// Public: a driver is not an operator. Each handler checks the driver session itself.
	return []Route{
		{"GET", "/d/{token}", Public, p.openDriverLink},
		{"GET", "/me", Public, p.mePage},
		{"GET", "/me/live", Public, p.meLive},
		{"GET", "/me/sessions/{id}", Public, p.receipt},
		{"POST", "/me/logout", Public, p.meLogout},
	}
}

// errDriverLoggedOut is the page of a driver whose session or link is no longer valid.
var errDriverLoggedOut = HTTPError{http.StatusForbidden, "me.loggedOut"}

// openDriverLink starts a driver session with a valid link.
func (p *Portal) openDriverLink(c *Ctx) error {
	if p.deps.DriverLinks == nil {
		return ErrNotFound
	}
	secret := c.R.PathValue("token")
	if !account.LooksLikeToken(secret) {
		return HTTPError{http.StatusNotFound, "me.linkInvalid"}
	}
	now := p.deps.Now()
	l, err := p.deps.DriverLinks.UseDriverLink(c.R.Context(), account.HashToken(secret), now)
	if errors.Is(err, account.ErrNotFound) {
		return HTTPError{http.StatusNotFound, "me.linkInvalid"}
	}
	if err != nil {
		return err
	}
	tok, sessionSecret := account.NewToken(l.AccountID, "", now)
	expires := now.Add(DriverSessionLifetime)
	if l.ExpiresAt.Before(expires) {
		expires = l.ExpiresAt
	}
	if err := p.deps.DriverLinks.CreateDriverSession(c.R.Context(), account.DriverSession{LinkID: l.ID, Hash: tok.Hash, CreatedAt: now, ExpiresAt: expires}); err != nil {
		return err
	}
	http.SetCookie(c.W, &http.Cookie{
		Name: driverCookie, Value: sessionSecret, Path: "/", MaxAge: int(expires.Sub(now) / time.Second),
		HttpOnly: true, Secure: p.secure(c.R), SameSite: http.SameSiteLaxMode,
	})
	// The link leaves the address bar and the history.
	return c.Redirect("/me")
}

// driver is the driver of a request's driver session.
type driver struct {
	Link account.DriverLink
	User access.User
	Tags []string
}

// driverSession finds the driver of the request's cookie and sets the account and its time
// zone on c; errDriverLoggedOut when there is none.
func (p *Portal) driverSession(c *Ctx) (driver, error) {
	// Operators' pages and drivers' are apart: an operator's cookie means nothing here.
	c.Operator = account.Operator{}
	if p.deps.DriverLinks == nil || p.deps.AccessRules == nil {
		return driver{}, errDriverLoggedOut
	}
	ck, err := c.R.Cookie(driverCookie)
	if err != nil || !account.LooksLikeToken(ck.Value) {
		return driver{}, errDriverLoggedOut
	}
	ctx := c.R.Context()
	l, err := p.deps.DriverLinks.DriverSessionLink(ctx, account.HashToken(ck.Value), p.deps.Now())
	if errors.Is(err, account.ErrNotFound) {
		return driver{}, errDriverLoggedOut
	}
	if err != nil {
		return driver{}, err
	}
	acct, err := p.deps.Store.AccountByID(ctx, l.AccountID)
	if err != nil {
		return driver{}, err
	}
	u, err := p.deps.AccessRules.User(ctx, l.AccountID, l.UserID)
	if errors.Is(err, station.ErrNotFound) {
		return driver{}, errDriverLoggedOut
	}
	if err != nil {
		return driver{}, err
	}
	c.Account = acct
	if loc, err := time.LoadLocation(acct.TimeZone); err == nil {
		c.loc = loc
	}
	d := driver{Link: l, User: u, Tags: []string{}}
	owners, err := p.deps.AccessRules.TagUsers(ctx, l.AccountID)
	if err != nil {
		return driver{}, err
	}
	for tag, id := range owners {
		if id == u.ID {
			d.Tags = append(d.Tags, tag)
		}
	}
	return d, nil
}

// liveSession is a driver's session under way.
type liveSession struct {
	Row     sessionRow
	Power   string // "7.4 kW", "—"
	Energy  string
	Cost    string
	Elapsed string
}

// meData is the data of the driver's page.
type meData struct {
	Name    string
	Live    []liveSession
	Past    []sessionRow
	Account string
	// Poll is how often the live part asks again, as htmx writes it ("5s").
	Poll string
	Now  time.Time
}

func (p *Portal) liveSessions(c *Ctx, d driver) ([]liveSession, error) {
	rows, err := p.sessionRows(c, c.Account, sessionFilter{Tags: d.Tags, Open: true, Limit: 10})
	if err != nil {
		return nil, err
	}
	out := make([]liveSession, 0, len(rows))
	for _, r := range rows {
		ls := liveSession{Row: r, Power: "—", Energy: r.Energy(), Cost: r.Payable(), Elapsed: r.Duration()}
		if w, ok, err := p.txPower(c, r.Tx); err != nil {
			return nil, err
		} else if ok {
			ls.Power = funcs["kw"].(func(float64) string)(w)
		}
		if ls.Energy == "—" {
			if wh, ok, err := p.txEnergy(c, r.Tx); err != nil {
				return nil, err
			} else if ok {
				ls.Energy = kwhText(wh)
			}
		}
		out = append(out, ls)
	}
	return out, nil
}

// txPower is the power of an open transaction's connector now: from the metering service,
// else its latest Power.Active.Import of the last five minutes.
func (p *Portal) txPower(c *Ctx, tx station.Transaction) (float64, bool, error) {
	ctx := c.R.Context()
	if p.deps.Energy != nil {
		ps, err := p.deps.Energy.LivePower(ctx, c.Account, tx.StationID)
		if err != nil {
			return 0, false, err
		}
		for _, pw := range ps {
			if pw.ConnectorID == tx.ConnectorID && !pw.Stale {
				return float64(pw.PowerW), true, nil
			}
		}
	}
	mvs, err := p.deps.Store.MeterValues(ctx, c.Account.ID, station.MeterValueFilter{TransactionID: tx.ID, From: p.deps.Now().Add(-5 * time.Minute)})
	if err != nil {
		return 0, false, err
	}
	pts := powerPoints(mvs)
	if len(pts) == 0 {
		return 0, false, nil
	}
	return pts[len(pts)-1].watts, true, nil
}

// txEnergy is what an open transaction charged so far, from its energy register.
func (p *Portal) txEnergy(c *Ctx, tx station.Transaction) (int64, bool, error) {
	mvs, err := p.deps.Store.MeterValues(c.R.Context(), c.Account.ID, station.MeterValueFilter{TransactionID: tx.ID})
	if err != nil {
		return 0, false, err
	}
	var last *int64
	for _, mv := range mvs {
		if mv.Measurand == "Energy.Active.Import.Register" && mv.Phase == "" && mv.Unit == "Wh" && mv.Milli != nil {
			wh := *mv.Milli/1000 - tx.MeterStartWh
			last = &wh
		}
	}
	if last == nil || *last < 0 {
		return 0, false, nil
	}
	return *last, true, nil
}

func (p *Portal) meData(c *Ctx, d driver, withPast bool) (*meData, error) {
	md := &meData{Name: d.User.Name, Account: c.Account.Name, Now: p.deps.Now(),
		Poll: strconv.Itoa(max(1, int(p.deps.LiveInterval/time.Second))) + "s"}
	var err error
	if md.Live, err = p.liveSessions(c, d); err != nil {
		return nil, err
	}
	if withPast {
		rows, err := p.sessionRows(c, c.Account, sessionFilter{Tags: d.Tags, Limit: 100})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if r.Tx.Stopped {
				md.Past = append(md.Past, r)
			}
		}
	}
	return md, nil
}

func (p *Portal) mePage(c *Ctx) error {
	d, err := p.driverSession(c)
	if err != nil {
		return err
	}
	md, err := p.meData(c, d, true)
	if err != nil {
		return err
	}
	return c.Render("me.html", md)
}

// meLive is the live part of the driver's page, which htmx asks for again and again.
func (p *Portal) meLive(c *Ctx) error {
	d, err := p.driverSession(c)
	if err != nil {
		return err
	}
	md, err := p.meData(c, d, false)
	if err != nil {
		return err
	}
	return c.Partial("me.html", "live", md)
}

// receipt is one of the driver's sessions, printable.
func (p *Portal) receipt(c *Ctx) error {
	d, err := p.driverSession(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.R.PathValue("id"), 10, 64)
	if err != nil {
		return ErrNotFound
	}
	sd, err := p.sessionData(c, c.Account, id, d.Tags)
	if err != nil {
		return err
	}
	sd.Back = "/me"
	sd.Row.Driver = d.User.Name
	return c.Render("receipt.html", sd)
}

func (p *Portal) meLogout(c *Ctx) error {
	if ck, err := c.R.Cookie(driverCookie); err == nil && p.deps.DriverLinks != nil {
		if err := p.deps.DriverLinks.DeleteDriverSession(c.R.Context(), account.HashToken(ck.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(c.W, &http.Cookie{Name: driverCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: p.secure(c.R), SameSite: http.SameSiteLaxMode})
	return c.Render("error.html", HTTPError{http.StatusOK, "me.loggedOutDone"})
}
