package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/chargebook/chargebook/internal/account"
)

func (p *Portal) accountRoutes() []Route {
	return []Route{
		{"GET", "/ocpp", Member, p.ocppPage},
		{"GET", "/tokens", Member, p.tokensPage},
		{"POST", "/tokens", Manager, p.createToken},
		{"POST", "/tokens/{id}/revoke", Manager, p.revokeToken},
		{"GET", "/users", Member, p.usersPage},
		{"POST", "/users", Owner, p.addUser},
		{"POST", "/users/{id}/role", Owner, p.setRole},
		{"POST", "/users/{id}/remove", Owner, p.removeUser},
	}
}

// baseURL is the server's address as the browser (and so the chargers) reach it: the
// configured public URL, else the request's scheme and host.
func (p *Portal) baseURL(r *http.Request) string {
	if p.deps.PublicURL != "" {
		return p.deps.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// ocppURL is the account's station URL, to paste into chargers.
func (p *Portal) ocppURL(c *Ctx) string {
	base := p.baseURL(c.R)
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		base = "wss://" + rest
	} else if rest, ok := strings.CutPrefix(base, "http://"); ok {
		base = "ws://" + rest
	}
	// csms.PathPrefix; not imported, so that the portal does not depend on the transport.
	return base + "/api/Ocpp16/" + c.Account.Key + "/"
}

func (p *Portal) ocppPage(c *Ctx) error {
	v := c.view(p.ocppURL(c))
	v.Tab = "ocpp"
	return c.Render("ocpp.html", v)
}

// tokensData is the data of the API tokens page.
type tokensData struct {
	Tokens []account.Token
	// Secret is the token just made, shown this once.
	Secret string
	APIURL string
}

func (p *Portal) tokensView(c *Ctx, secret string) (*View, error) {
	toks, err := p.deps.Store.Tokens(c.R.Context(), c.Account.ID)
	if err != nil {
		return nil, err
	}
	v := c.view(&tokensData{Tokens: toks, Secret: secret, APIURL: p.baseURL(c.R) + "/api/v1/"})
	v.Tab = "tokens"
	return v, nil
}

func (p *Portal) tokensPage(c *Ctx) error {
	v, err := p.tokensView(c, "")
	if err != nil {
		return err
	}
	return c.Render("tokens.html", v)
}

func (p *Portal) createToken(c *Ctx) error {
	f := c.Form()
	name := f.Get("name")
	if name == "" {
		f.Fail("name", "form.required")
	} else if len(name) > 100 {
		f.Fail("name", "form.tooLong")
	}
	if !f.OK() {
		v, err := p.tokensView(c, "")
		if err != nil {
			return err
		}
		v.Form = f
		return c.execute(http.StatusUnprocessableEntity, "tokens.html", "", v)
	}
	tok, secret := account.NewToken(c.Account.ID, name, p.deps.Now())
	if _, err := p.deps.Store.CreateToken(c.R.Context(), tok); err != nil {
		return err
	}
	// The secret is shown in this answer and never again: no redirect, no reload.
	v, err := p.tokensView(c, secret)
	if err != nil {
		return err
	}
	return c.Render("tokens.html", v)
}

// pathID is the {id} of the path.
func pathID(c *Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.R.PathValue("id"), 10, 64)
	if err != nil {
		return 0, ErrNotFound
	}
	return id, nil
}

func (p *Portal) revokeToken(c *Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := p.deps.Store.RevokeToken(c.R.Context(), c.Account.ID, id, p.deps.Now()); err != nil {
		return err
	}
	return c.Redirect("/tokens")
}

func (p *Portal) usersView(c *Ctx) (*View, error) {
	ops, err := p.deps.Store.Operators(c.R.Context(), c.Account.ID)
	if err != nil {
		return nil, err
	}
	v := c.view(ops)
	v.Tab = "users"
	return v, nil
}

func (p *Portal) usersPage(c *Ctx) error {
	v, err := p.usersView(c)
	if err != nil {
		return err
	}
	return c.Render("users.html", v)
}

var roles = []account.Role{account.RoleOwner, account.RoleManager, account.RoleReadOnly}

// addUser adds an operator to the account with a password the owner gives them.
func (p *Portal) addUser(c *Ctx) error {
	f := c.Form()
	email := strings.ToLower(f.Get("email"))
	password := f.Values.Get("password")
	role := account.Role(f.Get("role"))
	checkEmail(f, "email", email)
	checkPassword(f, "password", "password", password, password)
	if !role.Valid() {
		f.Fail("role", "form.required")
	}
	var hash string
	if f.OK() {
		var err error
		if hash, err = account.HashPassword(password); err != nil {
			return err
		}
		_, err = p.deps.Store.AddOperator(c.R.Context(), account.Operator{
			AccountID: c.Account.ID, Email: email, PasswordHash: hash, Role: role, CreatedAt: p.deps.Now(),
		})
		if errors.Is(err, account.ErrDuplicate) {
			f.Fail("email", "signup.taken")
		} else if err != nil {
			return err
		}
	}
	if !f.OK() {
		v, err := p.usersView(c)
		if err != nil {
			return err
		}
		v.Form = f
		return c.execute(http.StatusUnprocessableEntity, "users.html", "", v)
	}
	return c.Redirect("/users")
}

// userFailed shows the users page with a message about the list.
func (p *Portal) userFailed(c *Ctx, message string) error {
	v, err := p.usersView(c)
	if err != nil {
		return err
	}
	v.Form = &Form{}
	v.Form.Fail("", message)
	return c.execute(http.StatusConflict, "users.html", "", v)
}

func (p *Portal) setRole(c *Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	role := account.Role(c.R.FormValue("role"))
	if !role.Valid() {
		return HTTPError{http.StatusBadRequest, "error.badRequest"}
	}
	err = p.deps.Store.SetOperatorRole(c.R.Context(), c.Account.ID, id, role)
	if errors.Is(err, account.ErrLastOwner) {
		return p.userFailed(c, "users.lastOwner")
	}
	if err != nil {
		return err
	}
	return c.Redirect("/users")
}

func (p *Portal) removeUser(c *Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	err = p.deps.Store.DeleteOperator(c.R.Context(), c.Account.ID, id)
	if errors.Is(err, account.ErrLastOwner) {
		return p.userFailed(c, "users.lastOwner")
	}
	if err != nil {
		return err
	}
	if id == c.Operator.ID {
		return c.Redirect("/")
	}
	return c.Redirect("/users")
}
