package web_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
	"github.com/chargebook/chargebook/internal/web"
)

var quiet = slog.New(slog.DiscardHandler)

// sender answers every remote operation as a station that accepts it would, and says it is
// not connected for stations named "OFF".
type sender struct{}

func (sender) Send(ctx context.Context, accountID int64, cpID string, req any) (any, error) {
	if cpID == "OFF" {
		return nil, operation.ErrNotConnected
	}
	switch req.(type) {
	case *ocpp.ResetRequest:
		return &ocpp.ResetResponse{Status: "Accepted"}, nil
	case *ocpp.ChangeConfigurationRequest:
		return &ocpp.ChangeConfigurationResponse{Status: "RebootRequired"}, nil
	case *ocpp.GetConfigurationRequest:
		v := "60"
		return &ocpp.GetConfigurationResponse{ConfigurationKey: []ocpp.KeyValue{{Key: "HeartbeatInterval", Value: v}}}, nil
	case *ocpp.RemoteStartTransactionRequest:
		return &ocpp.RemoteStartTransactionResponse{Status: "Accepted"}, nil
	case *ocpp.RemoteStopTransactionRequest:
		return &ocpp.RemoteStopTransactionResponse{Status: "Rejected"}, nil
	case *ocpp.UnlockConnectorRequest:
		return &ocpp.UnlockConnectorResponse{Status: "Unlocked"}, nil
	case *ocpp.ChangeAvailabilityRequest:
		return &ocpp.ChangeAvailabilityResponse{Status: "Scheduled"}, nil
	}
	return nil, operation.ErrNotConnected
}

// live says every station but OFF is connected.
type live struct{}

func (live) Connected(accountID int64, cpID string) bool { return cpID != "OFF" }

// env is a portal on a SQLite store of its own, with two accounts: A (owner, manager,
// read-only operators; stations CP-1 and OFF) and B (its owner; station CP-B).
type env struct {
	t      *testing.T
	st     *store.Store
	portal *web.Portal
	srv    *httptest.Server
	a, b   account.Account
	now    time.Time
	// The services of the conditions, tariffs, drivers, sessions and energy pages.
	access   *authz.Service
	billing  *billing.Service
	metering *metering.Service
}

const password = "correct horse battery"

// passwordHash is hashed once: bcrypt is slow under the race detector.
var passwordHash = sync.OnceValue(func() string {
	h, err := account.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "chargebook.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, now: time.Now()}
	mk := func(email string) account.Account {
		a := account.Account{Key: account.NewKey(), Name: email, TimeZone: account.DefaultTimeZone, Currency: "CHF",
			HeartbeatInterval: time.Minute, StationValidation: account.Strict}
		a, _, err := st.CreateAccount(ctx, a, account.Operator{Email: email, PasswordHash: passwordHash(), Role: account.RoleOwner})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	e.a, e.b = mk("owner@a.example"), mk("owner@b.example")
	for email, role := range map[string]account.Role{"manager@a.example": account.RoleManager, "reader@a.example": account.RoleReadOnly} {
		if _, err := st.AddOperator(ctx, account.Operator{AccountID: e.a.ID, Email: email, PasswordHash: passwordHash(), Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []struct {
		acct int64
		id   string
	}{{e.a.ID, "CP-1"}, {e.a.ID, "OFF"}, {e.b.ID, "CP-B"}} {
		stn, _, err := st.RegisterStation(ctx, s.acct, s.id, station.Accepted, account.Strict, e.now)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.RecordStatus(ctx, station.ConnectorStatus{StationID: stn.ID, ConnectorID: 1, Status: "Charging", ErrorCode: "NoError", ReceivedAt: e.now},
			station.Source{Action: "StatusNotification", MessageID: "1", ReceivedAt: e.now}); err != nil {
			t.Fatal(err)
		}
	}
	ops := operation.NewService(st, sender{}, time.Now, quiet)
	authorizer := authz.NewAuthorizer(st, quiet)
	e.access = authz.NewService(authz.Deps{Authorizer: authorizer, Store: st, Stations: st, Logger: quiet})
	e.billing = billing.NewService(st, st, st, st, time.Now, quiet)
	e.metering = metering.NewService(metering.Deps{Store: st, Stations: st, Operations: ops, Logger: quiet})
	e.portal, err = web.New(web.Deps{Store: st, Operations: ops, Live: live{}, LiveInterval: 20 * time.Millisecond, Logger: quiet,
		LoginLimit:  web.LoginLimit{Window: time.Minute, PerEmail: 3, PerIP: 6},
		AccessRules: e.access, Billing: e.billing, Energy: e.metering, DriverLinks: st})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.portal)
	t.Cleanup(e.srv.Close)
	return e
}

// client is a browser of one operator: its cookie jar, no redirects followed.
type client struct {
	e    *env
	http *http.Client
}

func (e *env) anonymous() *client {
	return &client{e: e, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// login logs an operator in with the form, as a browser does.
func (e *env) login(email string) *client {
	e.t.Helper()
	c := e.anonymous()
	resp := c.post("/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("log in %s: %d %s", email, resp.StatusCode, body(resp))
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "chargebook_session" {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		e.t.Fatalf("session cookie %+v: want HttpOnly and SameSite=Lax", cookie)
	}
	u, _ := url.Parse(e.srv.URL)
	jar := &jar{cookies: map[string]*http.Cookie{}}
	jar.SetCookies(u, []*http.Cookie{cookie})
	c.http.Jar = jar
	return c
}

type jar struct {
	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

func (j *jar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(j.cookies, c.Name)
		} else {
			j.cookies[c.Name] = c
		}
	}
}

func (j *jar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for _, c := range j.cookies {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}

func (c *client) do(req *http.Request) *http.Response {
	c.e.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return resp
}

func (c *client) get(path string, header ...string) *http.Response {
	c.e.t.Helper()
	req, _ := http.NewRequest("GET", c.e.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

func (c *client) post(path string, form url.Values, header ...string) *http.Response {
	c.e.t.Helper()
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

func body(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}

func wantStatus(t *testing.T, what string, resp *http.Response, status int) string {
	t.Helper()
	b := body(resp)
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d\n%.400s", what, resp.StatusCode, status, b)
	}
	return b
}

func wantContains(t *testing.T, what, b string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(b, s) {
			t.Errorf("%s: no %q in\n%.2000s", what, s, b)
		}
	}
}

// samples are a request for each route of the portal, with a valid form where it takes one.
// {station} is filled in by the test.
var samples = map[string]url.Values{
	"GET /{$}":                         nil,
	"POST /login":                      {"email": {"x@example.com"}, "password": {"wrong password"}},
	"GET /signup":                      nil,
	"POST /signup":                     {"email": {"new@example.com"}, "password": {password}, "confirm": {password}},
	"POST /logout":                     {},
	"GET /lang/{lang}":                 nil,
	"GET /password":                    nil,
	"POST /password":                   {"current": {password}, "password": {password}, "confirm": {password}},
	"GET /stations":                    nil,
	"GET /stations/live":               nil,
	"GET /stations/{station}":          nil,
	"GET /stations/{station}/live":     nil,
	"POST /stations/{station}/approve": {},
	"POST /stations/{station}/configuration/refresh": {},
	"POST /stations/{station}/configuration/change":  {"key": {"HeartbeatInterval"}, "value": {"120"}},
	"POST /stations/{station}/billing-metering":      {},
	"POST /stations/{station}/reset":                 {"type": {"Soft"}},
	"POST /stations/{station}/remote-start":          {"connector": {"1"}, "idTag": {"TAG-1"}},
	"POST /stations/{station}/remote-stop":           {"transaction": {"1"}},
	"POST /stations/{station}/unlock":                {"unlockConnector": {"1"}},
	"POST /stations/{station}/availability":          {"availabilityConnector": {"0"}, "type": {"Inoperative"}},
	"POST /stations/{station}/password":              {},
	"POST /stations/{station}/password/remove":       {},
	"GET /ocpp":                nil,
	"GET /tokens":              nil,
	"POST /tokens":             {"name": {"export"}},
	"POST /tokens/{id}/revoke": {},
	"GET /users":               nil,
	"POST /users":              {"email": {"added@a.example"}, "password": {password}, "role": {"manager"}},
	"POST /users/{id}/role":    {"role": {"manager"}},
	"POST /users/{id}/remove":  {},

	"GET /stations/{station}/conditions":                    nil,
	"POST /stations/{station}/conditions/access":            {"mode": {"public"}},
	"POST /stations/{station}/conditions/grants":            {"grantee": {"u:1"}},
	"POST /stations/{station}/conditions/grants/remove":     {"grantee": {"u:1"}},
	"POST /stations/{station}/conditions/plans":             {"planTariff": {"1"}, "planAudience": {"public"}},
	"POST /stations/{station}/conditions/plans/{id}/remove": {},
	"GET /tariffs":                           nil,
	"POST /tariffs":                          {"name": {"Guests"}, "energy": {"0.35"}, "vat": {"8.1"}},
	"GET /tariffs/preview":                   nil,
	"GET /tariffs/{id}":                      nil,
	"POST /tariffs/{id}/versions":            {"energy": {"0.40"}, "vat": {"8.1"}},
	"POST /tariffs/{id}/retire":              {},
	"GET /drivers":                           nil,
	"POST /drivers":                          {"name": {"Anna"}},
	"GET /drivers/{id}":                      nil,
	"POST /drivers/{id}":                     {"name": {"Anna"}},
	"POST /drivers/{id}/remove":              {},
	"POST /drivers/{id}/links":               {"days": {"30"}},
	"POST /drivers/{id}/links/{link}/revoke": {},
	"GET /groups":                            nil,
	"POST /groups":                           {"groupName": {"Residents"}},
	"POST /groups/{id}":                      {"groupName": {"Residents"}},
	"POST /groups/{id}/remove":               {},
	"GET /tags":                              nil,
	"POST /tags":                             {"idTag": {"TAG-1"}},
	"POST /tags/{tag}/block":                 {"blocked": {"1"}},
	"GET /sessions":                          nil,
	"GET /sessions.csv":                      nil,
	"GET /sessions/{id}":                     nil,
	"GET /energy":                            nil,
	"GET /energy.csv":                        nil,
	"POST /energy/calendar":                  {},
	"GET /d/{token}":                         nil,
	"GET /me":                                nil,
	"GET /me/live":                           nil,
	"GET /me/sessions/{id}":                  nil,
	"POST /me/logout":                        {},
}

// memberPosts are the unsafe routes a read-only operator may use: they change only the
// operator's own session or password.
var memberPosts = map[string]bool{"POST /logout": true, "POST /password": true}

func path(pattern, stationID string) string {
	p := strings.TrimSuffix(pattern, "{$}")
	p = strings.ReplaceAll(p, "{station}", stationID)
	p = strings.ReplaceAll(p, "{lang}", "de")
	p = strings.ReplaceAll(p, "{tag}", "TAG-1")
	p = strings.ReplaceAll(p, "{link}", "1")
	p = strings.ReplaceAll(p, "{token}", "cb_nope")
	return strings.ReplaceAll(p, "{id}", "1")
}

// TestAuthorization walks every route: anonymous requests go to the log-in page (401 for
// htmx and live values), read-only operators get 403 on every unsafe route but their own,
// managers 403 on the owners' routes, and another account's station is a 404.
func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	anon := e.anonymous()
	reader := e.login("reader@a.example")
	manager := e.login("manager@a.example")
	ownerB := e.login("owner@b.example")
	for _, rt := range e.portal.Routes() {
		key := rt.Method + " " + rt.Path
		form, ok := samples[key]
		if !ok {
			t.Errorf("%s: no sample request in the table of TestAuthorization", key)
			continue
		}
		p := path(rt.Path, "CP-1")
		send := func(c *client, p string, header ...string) *http.Response {
			if rt.Method == "GET" {
				return c.get(p, header...)
			}
			return c.post(p, form, header...)
		}
		// Live values never end by themselves; their answers start at once.
		if strings.HasSuffix(rt.Path, "/live") {
			continue
		}
		if rt.Access > web.Public {
			resp := send(anon, p)
			body(resp)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/") {
				t.Errorf("%s anonymous: %d to %q, want 303 to the log-in page", key, resp.StatusCode, resp.Header.Get("Location"))
			}
			wantStatus(t, key+" anonymous htmx", send(anon, p, "HX-Request", "true"), http.StatusUnauthorized)
		}
		if rt.Method == "POST" && rt.Access >= web.Member {
			want := http.StatusForbidden
			if memberPosts[key] {
				if rt.Access != web.Member {
					t.Errorf("%s: listed as a member's route, but needs %v", key, rt.Access)
				}
				continue
			}
			if rt.Access < web.Manager {
				t.Errorf("%s: an unsafe route open to read-only operators", key)
			}
			wantStatus(t, key+" read-only", send(reader, p), want)
			if rt.Access == web.Owner {
				wantStatus(t, key+" manager", send(manager, p), want)
			}
		}
		if strings.Contains(rt.Path, "{station}") {
			wantStatus(t, key+" another account's station", send(ownerB, p), http.StatusNotFound)
			wantStatus(t, key+" no such station", send(manager, path(rt.Path, "NOPE")), http.StatusNotFound)
		}
	}
	// Read-only operators see every page.
	for _, p := range []string{"/stations", "/stations/CP-1", "/ocpp", "/tokens", "/users", "/password"} {
		b := wantStatus(t, "read-only GET "+p, reader.get(p), http.StatusOK)
		if strings.Contains(b, `action="/stations/CP-1/reset"`) || strings.Contains(b, `action="/tokens"`) {
			t.Errorf("read-only GET %s shows controls that change things", p)
		}
	}
	for p := range map[string]bool{"/stations/live": true, "/stations/CP-1/live": true} {
		wantStatus(t, "anonymous "+p, anon.get(p, "Accept", "text/event-stream"), http.StatusUnauthorized)
	}
}

// A cross-origin POST is refused before any handler runs, logged in or not.
func TestCrossOrigin(t *testing.T) {
	e := newEnv(t)
	owner := e.login("owner@a.example")
	wantStatus(t, "cross-site", owner.post("/tokens", url.Values{"name": {"x"}}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	wantStatus(t, "other origin", owner.post("/tokens", url.Values{"name": {"x"}}, "Origin", "https://evil.example"), http.StatusForbidden)
	wantStatus(t, "cross-site log-in", e.anonymous().post("/login", url.Values{"email": {"owner@a.example"}, "password": {password}}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	toks, _ := e.st.Tokens(context.Background(), e.a.ID)
	if len(toks) != 0 {
		t.Errorf("a cross-origin POST made %d tokens", len(toks))
	}
	resp := owner.post("/tokens", url.Values{"name": {"x"}}, "Sec-Fetch-Site", "same-origin")
	wantStatus(t, "same origin", resp, http.StatusOK)
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	anon := e.anonymous()
	b := wantStatus(t, "start page", anon.get("/"), http.StatusOK)
	wantContains(t, "start page", b, `name="email"`, `name="password"`, `href="/signup"`)
	resp := anon.get("/stations/CP-1")
	body(resp)
	if got := resp.Header.Get("Location"); got != "/?next=%2Fstations%2FCP-1" {
		t.Errorf("anonymous station page goes to %q", got)
	}
	b = wantStatus(t, "wrong password", anon.post("/login", url.Values{"email": {"owner@a.example"}, "password": {"not the password"}}), http.StatusUnprocessableEntity)
	wantContains(t, "wrong password", b, "The e-mail address or the password is wrong.", `value="owner@a.example"`)
	b = wantStatus(t, "empty", anon.post("/login", url.Values{"email": {""}}), http.StatusUnprocessableEntity)
	wantContains(t, "empty", b, `id="e-email"`, `id="e-password"`, `aria-invalid="true"`)

	// Logged in, with next; the session cookie's secret is not what is stored.
	resp = anon.post("/login", url.Values{"email": {"Owner@A.example"}, "password": {password}, "next": {"/tokens"}})
	body(resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tokens" {
		t.Errorf("log in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = anon.post("/login", url.Values{"email": {"owner@a.example"}, "password": {password}, "next": {"//evil.example/"}})
	body(resp)
	if resp.Header.Get("Location") != "/stations" {
		t.Errorf("log in with next to another site goes to %q", resp.Header.Get("Location"))
	}
	owner := e.login("owner@a.example")
	resp = owner.get("/")
	body(resp)
	if resp.Header.Get("Location") != "/stations" {
		t.Errorf("start page logged in goes to %q", resp.Header.Get("Location"))
	}
	resp = owner.post("/logout", url.Values{})
	body(resp)
	resp = owner.get("/stations")
	body(resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after log-out: %d", resp.StatusCode)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	anon := e.anonymous()
	for i := 0; i < 3; i++ {
		wantStatus(t, "wrong password", anon.post("/login", url.Values{"email": {"manager@a.example"}, "password": {"wrong password"}}), http.StatusUnprocessableEntity)
	}
	// Blocked for this address, even with the right password.
	b := wantStatus(t, "fourth try", anon.post("/login", url.Values{"email": {"manager@a.example"}, "password": {password}}), http.StatusTooManyRequests)
	wantContains(t, "fourth try", b, "Too many failed attempts. Please wait 1 minutes")
	// Another address from the same client still may, until the client's own limit.
	e.login("owner@a.example")
	for i := 0; i < 3; i++ {
		anon.post("/login", url.Values{"email": {"nobody@a.example"}, "password": {"wrong password"}})
	}
	wantStatus(t, "client blocked", anon.post("/login", url.Values{"email": {"reader@a.example"}, "password": {password}}), http.StatusTooManyRequests)
}

func TestSignup(t *testing.T) {
	e := newEnv(t)
	anon := e.anonymous()
	b := wantStatus(t, "form", anon.get("/signup"), http.StatusOK)
	wantContains(t, "form", b, `for="f-email"`, `autocomplete="new-password"`)
	b = wantStatus(t, "mistakes", anon.post("/signup", url.Values{"name": {"Hotel Bären"}, "email": {"not an address"}, "password": {"short"}, "confirm": {"short"}}), http.StatusUnprocessableEntity)
	wantContains(t, "mistakes", b, "This is not an e-mail address.", "The password needs at least 10 characters.", `value="Hotel Bären"`, `value="not an address"`)
	b = wantStatus(t, "mismatch", anon.post("/signup", url.Values{"email": {"x@example.com"}, "password": {password}, "confirm": {password + "!"}}), http.StatusUnprocessableEntity)
	wantContains(t, "mismatch", b, "The two passwords are not the same.")
	b = wantStatus(t, "taken", anon.post("/signup", url.Values{"email": {"owner@b.example"}, "password": {password}, "confirm": {password}}), http.StatusUnprocessableEntity)
	wantContains(t, "taken", b, "This e-mail address already has an account.")

	resp := anon.post("/signup", url.Values{"name": {"Hotel"}, "email": {"new@example.com"}, "password": {password}, "confirm": {password}})
	body(resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ocpp" {
		t.Fatalf("sign up: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	op, err := e.st.OperatorByEmail(context.Background(), "new@example.com")
	if err != nil || op.Role != account.RoleOwner {
		t.Fatalf("new operator %+v, %v", op, err)
	}
	acct, _ := e.st.AccountByID(context.Background(), op.AccountID)
	c := e.login("new@example.com")
	b = wantStatus(t, "OCPP page", c.get("/ocpp"), http.StatusOK)
	wantContains(t, "OCPP page", b, "ws://"+strings.TrimPrefix(e.srv.URL, "http://")+"/api/Ocpp16/"+acct.Key+"/", "{deviceid}")
	b = wantStatus(t, "no stations", c.get("/stations"), http.StatusOK)
	wantContains(t, "no stations", b, "No station has connected yet.")
}

func TestPasswordChange(t *testing.T) {
	e := newEnv(t)
	c1, c2 := e.login("manager@a.example"), e.login("manager@a.example")
	b := wantStatus(t, "wrong current", c1.post("/password", url.Values{"current": {"nope"}, "password": {"a new password"}, "confirm": {"a new password"}}), http.StatusUnprocessableEntity)
	wantContains(t, "wrong current", b, "This is not your current password.")
	resp := c1.post("/password", url.Values{"current": {password}, "password": {"a new password"}, "confirm": {"a new password"}})
	body(resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	wantStatus(t, "this session", c1.get("/stations"), http.StatusOK)
	resp = c2.get("/stations")
	body(resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the other session: %d, want logged out", resp.StatusCode)
	}
	wantStatus(t, "old password", e.anonymous().post("/login", url.Values{"email": {"manager@a.example"}, "password": {password}}), http.StatusUnprocessableEntity)
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	owner := e.login("owner@a.example")
	b := wantStatus(t, "bad", owner.post("/users", url.Values{"email": {"x"}, "password": {"short"}, "role": {"manager"}}), http.StatusUnprocessableEntity)
	wantContains(t, "bad", b, "This is not an e-mail address.", `value="x"`)
	resp := owner.post("/users", url.Values{"email": {"New@a.example"}, "password": {password}, "role": {"read-only"}})
	body(resp)
	added, err := e.st.OperatorByEmail(ctx, "new@a.example")
	if err != nil || added.Role != account.RoleReadOnly || added.AccountID != e.a.ID {
		t.Fatalf("added %+v, %v", added, err)
	}
	e.login("new@a.example")
	owner.post("/users/"+itoa(added.ID)+"/role", url.Values{"role": {"owner"}})
	if got, _ := e.st.OperatorByID(ctx, added.ID); got.Role != account.RoleOwner {
		t.Errorf("role %s, want owner", got.Role)
	}
	owner.post("/users/"+itoa(added.ID)+"/remove", url.Values{})
	if _, err := e.st.OperatorByID(ctx, added.ID); err == nil {
		t.Error("removed operator still there")
	}
	me, _ := e.st.OperatorByEmail(ctx, "owner@a.example")
	b = wantStatus(t, "last owner", owner.post("/users/"+itoa(me.ID)+"/role", url.Values{"role": {"manager"}}), http.StatusConflict)
	wantContains(t, "last owner", b, "An account needs at least one owner.")
	bOwner, _ := e.st.OperatorByEmail(ctx, "owner@b.example")
	wantStatus(t, "another account's operator", owner.post("/users/"+itoa(bOwner.ID)+"/remove", url.Values{}), http.StatusNotFound)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.login("manager@a.example")
	b := wantStatus(t, "no name", c.post("/tokens", url.Values{"name": {""}}), http.StatusUnprocessableEntity)
	wantContains(t, "no name", b, "Please fill this in.")
	b = wantStatus(t, "create", c.post("/tokens", url.Values{"name": {"billing export"}}), http.StatusOK)
	secret := regexp.MustCompile(`value="(cb_[A-Za-z0-9_-]{32})"`).FindStringSubmatch(b)
	if secret == nil {
		t.Fatalf("the new token is not shown:\n%s", b)
	}
	tok, err := e.st.TokenByHash(ctx, account.HashToken(secret[1]))
	if err != nil || tok.AccountID != e.a.ID || tok.Name != "billing export" {
		t.Fatalf("token %+v, %v", tok, err)
	}
	b = wantStatus(t, "list", c.get("/tokens"), http.StatusOK)
	wantContains(t, "list", b, "billing export", tok.Prefix)
	if strings.Contains(b, secret[1]) {
		t.Error("the list shows the secret again")
	}
	wantStatus(t, "another account's token", e.login("owner@b.example").post("/tokens/"+itoa(tok.ID)+"/revoke", url.Values{}), http.StatusNotFound)
	resp := c.post("/tokens/"+itoa(tok.ID)+"/revoke", url.Values{})
	body(resp)
	if _, err := e.st.TokenByHash(ctx, tok.Hash); err == nil {
		t.Error("revoked token still works")
	}
}

func TestStationPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.login("manager@a.example")
	b := wantStatus(t, "list", c.get("/stations"), http.StatusOK)
	wantContains(t, "list", b, `href="/stations/CP-1"`, "Charging", "Offline since")
	if strings.Contains(b, "CP-B") {
		t.Error("the list shows another account's station")
	}
	b = wantStatus(t, "page", c.get("/stations/CP-1"), http.StatusOK)
	wantContains(t, "page", b, "Connector 1", "Charging", "Not read yet.", `id="power-chart"`)

	// Remote operations show the station's answer; htmx gets the part to swap.
	b = wantStatus(t, "reset", c.post("/stations/CP-1/reset", url.Values{"type": {"Hard"}}, "HX-Request", "true"), http.StatusOK)
	wantContains(t, "reset", b, "Restart: the station answered Accepted.", `hx-swap-oob="true"`, "Reset")
	b = wantStatus(t, "not connected", c.post("/stations/OFF/reset", url.Values{"type": {"Soft"}}), http.StatusOK)
	wantContains(t, "not connected", b, "the station is not connected.")
	b = wantStatus(t, "remote start mistakes", c.post("/stations/CP-1/remote-start", url.Values{"connector": {"x"}, "idTag": {strings.Repeat("T", 21)}}, "HX-Request", "true"), http.StatusUnprocessableEntity)
	wantContains(t, "remote start mistakes", b, "Enter a connector number.", "An id tag has at most 20 characters.", `value="TTTTTTTTTTTTTTTTTTTTT"`)
	b = wantStatus(t, "configuration", c.post("/stations/CP-1/configuration/refresh", url.Values{}, "HX-Request", "true"), http.StatusOK)
	wantContains(t, "configuration", b, "HeartbeatInterval", `value="60"`)
	b = wantStatus(t, "change", c.post("/stations/CP-1/configuration/change", url.Values{"key": {"HeartbeatInterval"}, "value": {"120"}}, "HX-Request", "true"), http.StatusOK)
	wantContains(t, "change", b, "HeartbeatInterval: the station answered Accepted, takes effect after a restart.", `value="120"`)
	wantStatus(t, "billing metering without the service", c.post("/stations/CP-1/billing-metering", url.Values{}), http.StatusNotImplemented)

	// A station password is shown once, and only its hash is kept.
	b = wantStatus(t, "password", c.post("/stations/CP-1/password", url.Values{}, "HX-Request", "true"), http.StatusOK)
	m := regexp.MustCompile(`id="station-password" type="text" readonly value="([^"]+)"`).FindStringSubmatch(b)
	if m == nil {
		t.Fatalf("no password shown:\n%s", b)
	}
	hash, _, err := e.st.StationPassword(ctx, e.a.ID, "CP-1")
	if err != nil || hash != account.HashToken(m[1]) {
		t.Errorf("stored %q, %v; want the hash of %q", hash, err, m[1])
	}
	wantStatus(t, "remove password", c.post("/stations/CP-1/password/remove", url.Values{}), http.StatusOK)
	if hash, _, _ := e.st.StationPassword(ctx, e.a.ID, "CP-1"); hash != "" {
		t.Error("password not removed")
	}

	// A pending station is approved.
	st, _ := e.st.StationByChargePointID(ctx, e.a.ID, "CP-1")
	e.st.SetRegistration(ctx, e.a.ID, st.ID, station.Pending)
	wantContains(t, "pending", wantStatus(t, "pending", c.get("/stations/CP-1"), http.StatusOK), "Approve station")
	body(c.post("/stations/CP-1/approve", url.Values{}))
	if st, _ = e.st.StationByChargePointID(ctx, e.a.ID, "CP-1"); st.Registration != station.Accepted {
		t.Errorf("registration %s after approval", st.Registration)
	}
}

// Live values arrive as server-sent events.
func TestLive(t *testing.T) {
	e := newEnv(t)
	c := e.login("owner@a.example")
	for _, tc := range []struct{ path, event, want string }{
		{"/stations/live", "rows", `href="/stations/CP-1"`},
		{"/stations/CP-1/live", "connectors", "Connector 1"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+tc.path, nil)
		resp := c.do(req)
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		sc := bufio.NewScanner(resp.Body)
		events, found := 0, false
		for sc.Scan() && events < 4 {
			line := sc.Text()
			if line == "event: "+tc.event {
				events++
			}
			if strings.Contains(line, tc.want) {
				found = true
			}
		}
		cancel()
		resp.Body.Close()
		if events < 2 || !found {
			t.Errorf("%s: %d %s events, found %q: %v", tc.path, events, tc.event, tc.want, found)
		}
	}
}

func TestLanguage(t *testing.T) {
	e := newEnv(t)
	anon := e.anonymous()
	b := wantStatus(t, "German", anon.get("/", "Accept-Language", "de-CH,de;q=0.9,en;q=0.8"), http.StatusOK)
	wantContains(t, "German", b, `<html lang="de">`, "Anmelden", `href="/lang/en?next=%2f"`)
	b = wantStatus(t, "English preferred", anon.get("/", "Accept-Language", "fr-CH, en;q=0.9, de;q=0.8"), http.StatusOK)
	wantContains(t, "English preferred", b, `<html lang="en">`, "Log in")
	resp := anon.get("/lang/de?next=/signup")
	body(resp)
	if resp.Header.Get("Location") != "/signup" {
		t.Errorf("switch goes to %q", resp.Header.Get("Location"))
	}
	var lang *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "lang" {
			lang = ck
		}
	}
	if lang == nil || lang.Value != "de" {
		t.Fatalf("language cookie %+v", lang)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/", nil)
	req.AddCookie(lang)
	req.Header.Set("Accept-Language", "en")
	wantContains(t, "chosen German", body(anon.do(req)), "Anmelden")
}

// TestMessages checks that every text a template or handler names exists in both languages.
func TestMessages(t *testing.T) {
	keys := map[string]bool{}
	re := regexp.MustCompile(`(?:\.T|c\.T|Fail\([^,]+,|HTTPError\{[^,]+,|"hint=)\s*"([a-z]+\.[a-zA-Z.-]+)"`)
	files, _ := filepath.Glob("templates/*.html")
	gofiles, _ := filepath.Glob("*.go")
	for _, f := range append(files, gofiles...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = true
		}
		for _, m := range regexp.MustCompile(`"((?:label|hint)=)?([a-z]+\.[a-zA-Z]+\.label)"`).FindAllStringSubmatch(string(b), -1) {
			keys[m[2]] = true
		}
	}
	if len(keys) < 100 {
		t.Fatalf("found only %d keys: is the pattern right?", len(keys))
	}
	for k := range keys {
		m, ok := web.Messages()[k]
		if !ok {
			t.Errorf("message %q is used but not defined", k)
			continue
		}
		if m[0] == "" || m[1] == "" {
			t.Errorf("message %q lacks a language: %q", k, m)
		}
	}
}
