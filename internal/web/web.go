// Package web is chargebook's portal: the web pages station operators work in, served by the
// same binary on the same port as the stations and the REST API, mounted at "/". Pages are
// rendered on the server with html/template, embedded in the binary with the static files;
// htmx (vendored, see static/vendor.sh) swaps parts of pages, server-sent events carry live
// values, uPlot (vendored too) draws charts. There is no front-end build.
//
// It is a sibling of package api, not a client of it: both read and change the same records
// through the same services (station.Store, operation.Service, ...). It decides nothing about
// charging itself.
//
// # Who may do what
//
// Operators log in with their e-mail address and password; a server-side session (a random
// secret in an HttpOnly, SameSite=Lax cookie, Secure under TLS; only its SHA-256 stored)
// keeps them logged in for SessionLifetime. Every request is checked against its Route's
// Access before its handler runs: Public, Member (any operator of the account, the
// read-only role included), Manager (owners and managers: everything that changes
// something) or Owner (the account's operators and their roles). Unsafe methods (POST) are
// refused with 403 for read-only operators unless the route is one of the few Member routes
// an operator needs for themselves (log out, their own password); TestAuthorization walks
// the whole route table to keep it so. Cross-origin unsafe requests are refused by
// http.CrossOriginProtection before any handler runs. A path with {station} has its station
// resolved in the operator's account; another account's station is a 404.
//
// # Adding a page
//
//  1. Write templates/<name>.html defining "title" and "content" (see stations.html). It is
//     parsed together with layout.html and parts.html, whose templates ("field", "submit",
//     "flash", ...) it may use. Its data is a *View: {{.T "key"}} translates, {{.Data}} is
//     what the handler passed, {{.Time t}} formats a time in the account's zone,
//     {{.CanChange}} tells whether to show the controls that change things.
//  2. Add its texts to messages.go, in English and German (TestMessages checks that every
//     key a template uses exists in both).
//  3. Add its routes to a table like stationRoutes (a method of *Portal returning []Route)
//     and append it in (*Portal).routes. A handler is func(*Ctx) error: it reads c.R, c.Account,
//     c.Operator, c.Station, and ends with c.Render(name, data), c.Partial(name, block, data)
//     for an htmx swap, c.Redirect(path), or an error (ErrNotFound and station.ErrNotFound
//     give the 404 page; HTTPError a status of its own; anything else is logged and a 500).
//  4. Forms: parse with c.Form(), validate on the server, and on a mistake re-render the page
//     with form.Fail(field, key), key a message key; the field shows the message next to it and keeps
//     what was typed (see signup in auth.go).
//  5. A tab in the navigation is one line in layout.html.
//  6. Add the routes to the table of TestAuthorization (web_test.go) with a request each.
//
// Texts are English or German, chosen by the cookie the language switch sets, else by the
// browser's Accept-Language (de for any German, else en).
package web

//go:generate sh static/vendor.sh

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the portal reads and changes. *store.Store implements it.
type Store interface {
	account.Store
	account.OperatorStore
	account.TokenStore
	station.Store
	// SetStationPassword sets account.HashToken of the password the station must present
	// with OCPP Basic authentication; "" removes it.
	SetStationPassword(ctx context.Context, accountID, stationID int64, hash string, at time.Time) error
	StationPassword(ctx context.Context, accountID int64, chargePointID string) (hash string, setAt time.Time, err error)
}

// Operations sends remote operations and reads their records; *operation.Service
// implements it.
type Operations interface {
	Execute(ctx context.Context, r operation.Request) (operation.Result, error)
	Operations(ctx context.Context, accountID int64, f operation.OperationFilter) ([]operation.Operation, error)
	Configuration(ctx context.Context, accountID int64, chargePointID string) ([]operation.ConfigKey, error)
}

// Live tells whether a station is connected now; *csms.Server implements it.
type Live interface {
	Connected(accountID int64, chargePointID string) bool
}

// Metering is what the portal shows of the metering service. Without it, power is read
// from the stations' latest Power.Active.Import meter values and today's energy is "—".
type Metering interface {
	// StationPower is the station's active power now, in W; ok is false when not known.
	StationPower(ctx context.Context, accountID int64, chargePointID string) (watts float64, ok bool, err error)
	// EnergyToday is what the station delivered since midnight in the account's time zone.
	EnergyToday(ctx context.Context, accountID int64, chargePointID string) (wh int64, ok bool, err error)
}

// BillingMetering sets a station up for billing-grade metering (sample interval, measurands,
// clock-aligned data) and says, per configuration key, what the station answered.
type BillingMetering interface {
	SetupBillingMetering(ctx context.Context, accountID int64, chargePointID, actor string) ([]KeyResult, error)
}

// KeyResult is the station's answer for one configuration key.
type KeyResult struct {
	Key    string
	Value  string
	Status string // Accepted, RebootRequired, Rejected, NotSupported, or why it was not sent
}

// Deps are what the portal works with.
type Deps struct {
	Store      Store
	Operations Operations
	Live       Live
	// Metering and BillingMetering are optional; see their doc.
	Metering        Metering
	BillingMetering BillingMetering
	// AccessRules, Billing and Energy are the services of the conditions, tariffs,
	// drivers, sessions and energy pages; without one, its pages answer 503.
	AccessRules AccessRules
	Billing     Billing
	Energy      Energy
	// DriverLinks keeps the drivers' personal links; without it, drivers have no page.
	DriverLinks account.DriverLinkStore
	// PublicURL is the server's address as chargers and browsers reach it, e.g.
	// https://charge.example.com; empty: from each request's scheme and host.
	PublicURL string
	// LiveInterval is how often live pages get new values; 5 s by default.
	LiveInterval time.Duration
	// LoginLimit bounds failed log-ins; DefaultLoginLimit when zero.
	LoginLimit LoginLimit
	Now        func() time.Time
	Logger     *slog.Logger
}

// Access says who may use a route.
type Access int

// The levels of access, each including those after it.
const (
	Public  Access = iota // anyone, logged in or not
	Member                // any operator of the account, read-only included
	Manager               // owners and managers: changes
	Owner                 // owners: the account's operators and roles
)

// HandlerFunc handles a request that passed its Route's checks.
type HandlerFunc func(c *Ctx) error

// Route is one page or action of the portal.
type Route struct {
	Method string // GET or POST
	// Path is an http.ServeMux pattern; {station} is resolved in the operator's account.
	Path   string
	Access Access
	Handle HandlerFunc
}

// Portal serves the portal. It is an http.Handler.
type Portal struct {
	deps    Deps
	handler http.Handler
	table   []Route
	pages   map[string]*template.Template
	static  fs.FS
	// staticVersion changes whenever a static file does, so that their URLs can be cached
	// for good.
	staticVersion string
	limiter       *limiter
}

// New returns the portal with its routes.
func New(d Deps) (*Portal, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.LiveInterval <= 0 {
		d.LiveInterval = 5 * time.Second
	}
	if d.LoginLimit == (LoginLimit{}) {
		d.LoginLimit = DefaultLoginLimit
	}
	d.PublicURL = strings.TrimSuffix(d.PublicURL, "/")
	p := &Portal{deps: d, limiter: newLimiter(d.LoginLimit)}
	var err error
	if p.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	if p.static, err = fs.Sub(staticFS, "static"); err != nil {
		return nil, err
	}
	h := sha256.New()
	fs.WalkDir(p.static, ".", func(name string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			b, _ := fs.ReadFile(p.static, name)
			h.Write(b)
		}
		return nil
	})
	p.staticVersion = hex.EncodeToString(h.Sum(nil))[:12]

	mux := http.NewServeMux()
	p.table = p.routes()
	for _, rt := range p.table {
		mux.Handle(rt.Method+" "+rt.Path, p.wrap(rt))
	}
	mux.HandleFunc("GET /static/{file}", p.serveStatic)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c := p.newCtx(w, r)
		p.fail(c, ErrNotFound)
	})
	// Unsafe requests from another origin are refused before any handler runs; together
	// with SameSite=Lax cookies this is the portal's CSRF protection.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := p.newCtx(w, r)
		p.fail(c, HTTPError{Status: http.StatusForbidden, Message: "error.crossOrigin"})
	}))
	p.handler = securityHeaders(cop.Handler(mux))
	return p, nil
}

// routes is the portal's route table; files that add pages append theirs.
func (p *Portal) routes() []Route {
	return slices.Concat(
		p.authRoutes(),
		p.stationRoutes(),
		p.accountRoutes(),
		p.conditionRoutes(),
		p.tariffRoutes(),
		p.driverRoutes(),
		p.sessionRoutes(),
		p.energyRoutes(),
		p.driverPageRoutes(),
	)
}

// Routes returns every route of the portal.
func (p *Portal) Routes() []Route { return slices.Clone(p.table) }

func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		// htmx and uPlot set inline styles; no inline scripts are used.
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		h.ServeHTTP(w, r)
	})
}

// ErrNotFound is the 404 page.
var ErrNotFound = errors.New("not found")

// HTTPError is an error page with a status and a message key.
type HTTPError struct {
	Status  int
	Message string // a key of messages
}

func (e HTTPError) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

// Ctx is one request to a route, after its checks.
type Ctx struct {
	W        http.ResponseWriter
	R        *http.Request
	Lang     Lang
	Account  account.Account
	Operator account.Operator // zero when not logged in
	// Station is the station {station} names, resolved in the account.
	Station station.Station

	p           *Portal
	sessionHash string
	loc         *time.Location
}

// LoggedIn reports whether an operator is logged in.
func (c *Ctx) LoggedIn() bool { return c.Operator.ID != 0 }

// HTMX reports whether the request comes from htmx and wants a part of a page.
func (c *Ctx) HTMX() bool { return c.R.Header.Get("HX-Request") == "true" }

// Actor is how remote operations record the operator: "operator:7".
func (c *Ctx) Actor() string { return fmt.Sprintf("operator:%d", c.Operator.ID) }

func (p *Portal) newCtx(w http.ResponseWriter, r *http.Request) *Ctx {
	return &Ctx{W: w, R: r, p: p, Lang: langOf(r), loc: time.UTC}
}

// wrap runs the checks of rt, then its handler.
func (p *Portal) wrap(rt Route) http.Handler {
	resolveStation := strings.Contains(rt.Path, "{station}")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		c := p.newCtx(w, r)
		if err := p.authenticate(c); err != nil {
			p.fail(c, err)
			return
		}
		err := func() error {
			if rt.Access > Public && !c.LoggedIn() {
				return errLogin
			}
			switch {
			case rt.Access == Owner && c.Operator.Role != account.RoleOwner:
				return HTTPError{http.StatusForbidden, "error.ownersOnly"}
			case rt.Access >= Manager && !c.Operator.Role.CanChange():
				return HTTPError{http.StatusForbidden, "error.readOnly"}
			}
			if resolveStation {
				st, err := p.deps.Store.StationByChargePointID(r.Context(), c.Account.ID, r.PathValue("station"))
				if err != nil {
					return err
				}
				c.Station = st
			}
			return rt.Handle(c)
		}()
		if err != nil {
			p.fail(c, err)
		}
	})
}

// errLogin sends an anonymous request to the log-in page.
var errLogin = errors.New("log in first")

// fail answers a request whose handler failed, with a page, or for htmx a part of one.
func (p *Portal) fail(c *Ctx, err error) {
	var he HTTPError
	switch {
	case errors.Is(err, errLogin):
		if c.HTMX() || strings.Contains(c.R.Header.Get("Accept"), "text/event-stream") {
			c.W.Header().Set("HX-Redirect", "/")
			http.Error(c.W, c.T("error.loggedOut"), http.StatusUnauthorized)
			return
		}
		next := ""
		if c.R.Method == http.MethodGet && c.R.URL.Path != "/" {
			next = "?next=" + url.QueryEscape(c.R.URL.RequestURI())
		}
		http.Redirect(c.W, c.R, "/"+next, http.StatusSeeOther)
		return
	case errors.As(err, &he):
	case errors.Is(err, ErrNotFound), errors.Is(err, station.ErrNotFound), errors.Is(err, account.ErrNotFound):
		he = HTTPError{http.StatusNotFound, "error.notFound"}
	default:
		p.deps.Logger.Error("web: request failed", "method", c.R.Method, "path", c.R.URL.Path, "err", err)
		he = HTTPError{http.StatusInternalServerError, "error.internal"}
	}
	if c.HTMX() {
		c.W.Header().Set("HX-Retarget", "#flash")
		c.W.Header().Set("HX-Reswap", "innerHTML")
		c.renderStatus(he.Status, "error.html", "flash", he)
		return
	}
	c.renderStatus(he.Status, "error.html", "", he)
}

// Redirect answers with a redirect to a path of the portal (for htmx, a full-page one).
func (c *Ctx) Redirect(to string) error {
	if c.HTMX() {
		c.W.Header().Set("HX-Redirect", to)
		c.W.WriteHeader(http.StatusNoContent)
		return nil
	}
	http.Redirect(c.W, c.R, to, http.StatusSeeOther)
	return nil
}

// Render writes the page (templates/name) with data.
func (c *Ctx) Render(name string, data any) error {
	return c.renderStatus(http.StatusOK, name, "", data)
}

// Partial writes one template (block) of a page, for htmx to swap in.
func (c *Ctx) Partial(name, block string, data any) error {
	return c.renderStatus(http.StatusOK, name, block, data)
}

// RenderForm re-renders a page whose form has mistakes, with 422.
func (c *Ctx) RenderForm(name string, data any, f *Form) error {
	v := c.view(data)
	v.Form = f
	return c.execute(http.StatusUnprocessableEntity, name, "", v)
}

func (c *Ctx) renderStatus(status int, name, block string, data any) error {
	v, ok := data.(*View)
	if !ok {
		v = c.view(data)
	}
	return c.execute(status, name, block, v)
}

func (c *Ctx) execute(status int, name, block string, v *View) error {
	t := c.p.pages[name]
	if t == nil {
		return fmt.Errorf("web: no page %s", name)
	}
	if block == "" {
		block = "layout"
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, block, v); err != nil {
		return fmt.Errorf("web: render %s/%s: %w", name, block, err)
	}
	c.W.Header().Set("Content-Type", "text/html; charset=utf-8")
	c.W.Header().Set("Vary", "HX-Request, Accept-Language, Cookie")
	c.W.WriteHeader(status)
	_, err := c.W.Write([]byte(buf.String()))
	if err != nil {
		return nil // the client went away; nothing to tell it
	}
	return nil
}

// parseTemplates parses each page with the layout and the shared parts.
func parseTemplates() (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template)
	for _, n := range names {
		name := path.Base(n)
		if name == "layout.html" || name == "parts.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

var funcs = template.FuncMap{
	"pathEscape": url.PathEscape,
	"kw": func(w float64) string {
		return fmt.Sprintf("%.1f kW", w/1000)
	},
	"kwh": func(wh int64) string {
		return fmt.Sprintf("%.2f kWh", float64(wh)/1000)
	},
	// abbrev cuts s to at most n characters, ending in "…" when it cut.
	"abbrev": func(n int, s string) string {
		if utf8.RuneCountInString(s) <= n {
			return s
		}
		return string([]rune(s)[:n-1]) + "…"
	},
	"deref": func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	},
}

// serveStatic serves the embedded files; with the current version in the query they are
// cached for good.
func (p *Portal) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if r.URL.Query().Get("v") == p.staticVersion {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	if strings.HasSuffix(name, ".sh") {
		http.NotFound(w, r)
		return
	}
	http.ServeFileFS(w, r, p.static, name)
}
