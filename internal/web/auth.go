package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chargebook/chargebook/internal/account"
)

// SessionLifetime is how long a log-in lasts.
const SessionLifetime = 14 * 24 * time.Hour

// sessionCookie holds the session's secret.
const sessionCookie = "chargebook_session"

func (p *Portal) authRoutes() []Route {
	return []Route{
		{"GET", "/{$}", Public, p.start},
		{"POST", "/login", Public, p.login},
		{"GET", "/signup", Public, p.signupPage},
		{"POST", "/signup", Public, p.signup},
		{"POST", "/logout", Member, p.logout},
		{"GET", "/lang/{lang}", Public, p.setLang},
		{"GET", "/password", Member, p.passwordPage},
		{"POST", "/password", Member, p.changePassword},
	}
}

// authenticate finds the operator of the request's session cookie, if any.
func (p *Portal) authenticate(c *Ctx) error {
	ck, err := c.R.Cookie(sessionCookie)
	if err != nil || !account.LooksLikeToken(ck.Value) {
		return nil
	}
	ctx := c.R.Context()
	hash := account.HashToken(ck.Value)
	sess, err := p.deps.Store.SessionByHash(ctx, hash, p.deps.Now())
	if errors.Is(err, account.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	op, err := p.deps.Store.OperatorByID(ctx, sess.OperatorID)
	if errors.Is(err, account.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	acct, err := p.deps.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return err
	}
	c.Operator, c.Account, c.sessionHash = op, acct, hash
	if loc, err := time.LoadLocation(acct.TimeZone); err == nil {
		c.loc = loc
	}
	return nil
}

// startSession logs the operator in: a new session and its cookie.
func (p *Portal) startSession(c *Ctx, op account.Operator) error {
	now := p.deps.Now()
	// A session secret has the shape of an API token: 192 random bits.
	tok, secret := account.NewToken(op.AccountID, "", now)
	_, err := p.deps.Store.CreateSession(c.R.Context(), account.Session{
		OperatorID: op.ID, AccountID: op.AccountID, Hash: tok.Hash, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime),
	})
	if err != nil {
		return err
	}
	http.SetCookie(c.W, &http.Cookie{
		Name: sessionCookie, Value: secret, Path: "/", MaxAge: int(SessionLifetime / time.Second),
		HttpOnly: true, Secure: p.secure(c.R), SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// secure is whether cookies get the Secure attribute: when the browser came over TLS.
func (p *Portal) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(p.deps.PublicURL, "https://")
}

// next is where to go after logging in: a path of the portal, never another site.
func next(r *http.Request) string {
	n := r.FormValue("next")
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") {
		return "/stations"
	}
	return n
}

// loginData is the data of the log-in page.
type loginData struct{ Next string }

// start is the start page: the log-in form, or the stations for an operator logged in.
func (p *Portal) start(c *Ctx) error {
	if c.LoggedIn() {
		return c.Redirect("/stations")
	}
	return c.Render("login.html", loginData{Next: c.R.URL.Query().Get("next")})
}

func (p *Portal) login(c *Ctx) error {
	f := c.Form()
	email := strings.ToLower(f.Get("email"))
	password := f.Values.Get("password")
	data := loginData{Next: f.Get("next")}
	if email == "" {
		f.Fail("email", "form.required")
	}
	if password == "" {
		f.Fail("password", "form.required")
	}
	if !f.OK() {
		return c.RenderForm("login.html", data, f)
	}
	ip := clientIP(c.R)
	if wait := p.limiter.blocked(ip, email, p.deps.Now()); wait > 0 {
		f.Fail("", c.T("login.tooMany", int(wait.Minutes())+1))
		c.W.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return c.renderStatusForm(http.StatusTooManyRequests, "login.html", data, f)
	}
	op, err := p.deps.Store.OperatorByEmail(c.R.Context(), email)
	if err != nil && !errors.Is(err, account.ErrNotFound) {
		return err
	}
	if err != nil || !account.CheckPassword(op.PasswordHash, password) {
		if err != nil {
			// As slow as a wrong password, so that timing does not tell who has an account.
			account.CheckPassword(dummyHash, password)
		}
		p.limiter.fail(ip, email, p.deps.Now())
		f.Fail("", "login.wrong")
		return c.RenderForm("login.html", data, f)
	}
	p.limiter.succeed(email)
	if err := p.startSession(c, op); err != nil {
		return err
	}
	return c.Redirect(next(c.R))
}

// dummyHash is a bcrypt hash of nothing anyone types.
var dummyHash, _ = account.HashPassword("no-one-has-this-password")

func (p *Portal) signupPage(c *Ctx) error {
	if c.LoggedIn() {
		return c.Redirect("/stations")
	}
	return c.Render("signup.html", nil)
}

// signup makes a new operator account with its owner, as account.New does, and logs in.
func (p *Portal) signup(c *Ctx) error {
	f := c.Form()
	name, email := f.Get("name"), strings.ToLower(f.Get("email"))
	password, confirm := f.Values.Get("password"), f.Values.Get("confirm")
	checkEmail(f, "email", email)
	checkPassword(f, "password", "confirm", password, confirm)
	if !f.OK() {
		return c.RenderForm("signup.html", nil, f)
	}
	a, op, err := account.New(name, email, password, p.deps.Now())
	if err != nil {
		f.Fail("email", "form.email")
		return c.RenderForm("signup.html", nil, f)
	}
	_, op, err = p.deps.Store.CreateAccount(c.R.Context(), a, op)
	if errors.Is(err, account.ErrDuplicate) {
		f.Fail("email", "signup.taken")
		return c.RenderForm("signup.html", nil, f)
	}
	if err != nil {
		return err
	}
	if err := p.startSession(c, op); err != nil {
		return err
	}
	return c.Redirect("/ocpp")
}

// checkEmail finds the mistakes of an e-mail address.
func checkEmail(f *Form, field, email string) {
	if email == "" {
		f.Fail(field, "form.required")
	} else if !strings.Contains(email, "@") || strings.ContainsAny(email, " <>\"") {
		f.Fail(field, "form.email")
	}
}

// checkPassword finds the mistakes of a new password and its confirmation.
func checkPassword(f *Form, field, confirmField, password, confirm string) {
	switch {
	case len(password) < account.MinPasswordLength:
		f.Fail(field, "form.passwordShort")
	case len(password) > 72:
		f.Fail(field, "form.passwordLong")
	case password != confirm:
		f.Fail(confirmField, "form.passwordMismatch")
	}
}

func (p *Portal) logout(c *Ctx) error {
	if err := p.deps.Store.DeleteSession(c.R.Context(), c.sessionHash); err != nil {
		return err
	}
	http.SetCookie(c.W, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: p.secure(c.R), SameSite: http.SameSiteLaxMode})
	return c.Redirect("/")
}

// setLang remembers the language chosen with the switch and goes back.
func (p *Portal) setLang(c *Ctx) error {
	l := c.R.PathValue("lang")
	if l != "de" && l != "en" {
		return ErrNotFound
	}
	http.SetCookie(c.W, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: p.secure(c.R), SameSite: http.SameSiteLaxMode})
	to := next(c.R)
	if c.R.FormValue("next") == "/" {
		to = "/"
	}
	http.Redirect(c.W, c.R, to, http.StatusSeeOther)
	return nil
}

func (p *Portal) passwordPage(c *Ctx) error {
	v := c.view(nil)
	v.Tab = "password"
	if c.R.URL.Query().Get("changed") == "1" {
		v.Flash = c.T("password.changed")
	}
	return c.Render("password.html", v)
}

// changePassword changes the operator's own password and ends their other sessions.
func (p *Portal) changePassword(c *Ctx) error {
	f := c.Form()
	current, password, confirm := f.Values.Get("current"), f.Values.Get("password"), f.Values.Get("confirm")
	if !account.CheckPassword(c.Operator.PasswordHash, current) {
		f.Fail("current", "password.wrongCurrent")
	}
	checkPassword(f, "password", "confirm", password, confirm)
	if !f.OK() {
		v := c.view(nil)
		v.Tab, v.Form = "password", f
		return c.execute(http.StatusUnprocessableEntity, "password.html", "", v)
	}
	hash, err := account.HashPassword(password)
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	if err := p.deps.Store.SetOperatorPassword(ctx, c.Account.ID, c.Operator.ID, hash); err != nil {
		return err
	}
	if err := p.deps.Store.DeleteOperatorSessions(ctx, c.Operator.ID, c.sessionHash, p.deps.Now()); err != nil {
		return err
	}
	return c.Redirect("/password?changed=1")
}

func (c *Ctx) renderStatusForm(status int, name string, data any, f *Form) error {
	v := c.view(data)
	v.Form = f
	return c.execute(status, name, "", v)
}

// clientIP is the address the request came from. X-Forwarded-For is not trusted: a client
// could set it to escape the limit.
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return host
}

// LoginLimit bounds failed log-ins within Window: PerEmail for one e-mail address, PerIP
// for one client address.
type LoginLimit struct {
	Window          time.Duration
	PerEmail, PerIP int
}

// DefaultLoginLimit: 5 wrong passwords for an address, or 20 from one client, in 15 minutes.
var DefaultLoginLimit = LoginLimit{Window: 15 * time.Minute, PerEmail: 5, PerIP: 20}

// limiter counts failed log-ins in memory, per client address and per e-mail address. It
// forgets them after the window; a restart forgets them all, which an attacker gains little
// from.
type limiter struct {
	limit LoginLimit
	mu    sync.Mutex
	fails map[string][]time.Time // "ip:..." or "email:..." -> failure times in the window
}

func newLimiter(l LoginLimit) *limiter {
	return &limiter{limit: l, fails: make(map[string][]time.Time)}
}

// recent drops the failures of key older than the window and returns those left.
func (l *limiter) recent(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.limit.Window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}

// blocked says how long the client or the address must wait; 0 when it may try.
func (l *limiter) blocked(ip, email string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for key, n := range map[string]int{"ip:" + ip: l.limit.PerIP, "email:" + email: l.limit.PerEmail} {
		if ts := l.recent(key, now); len(ts) >= n {
			wait = maxDuration(wait, ts[len(ts)-n].Add(l.limit.Window).Sub(now))
		}
	}
	return wait
}

func (l *limiter) fail(ip, email string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Bounded memory under a flood of addresses: forget the oldest entries' windows early.
	if len(l.fails) > 100_000 {
		for k := range l.fails {
			l.recent(k, now)
		}
		if len(l.fails) > 100_000 {
			clear(l.fails)
		}
	}
	for _, key := range []string{"ip:" + ip, "email:" + email} {
		l.fails[key] = append(l.fails[key], now)
	}
}

// succeed forgets the address's failures: its owner knows the password.
func (l *limiter) succeed(email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, "email:"+email)
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}
