package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/account"
)

// Lang is a language of the portal's texts.
type Lang string

// The languages of the portal.
const (
	English Lang = "en"
	German  Lang = "de"
)

// langCookie keeps the language an operator chose with the switch.
const langCookie = "lang"

// langOf is the cookie's language, else the first of the browser's that the portal speaks.
func langOf(r *http.Request) Lang {
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "de" || c.Value == "en") {
		return Lang(c.Value)
	}
	return langFromHeader(r.Header.Get("Accept-Language"))
}

// langFromHeader picks de or en from an Accept-Language header by quality; en when
// neither is named.
func langFromHeader(h string) Lang {
	best, bestQ := English, -1.0
	for part := range strings.SplitSeq(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if (primary == "de" || primary == "en") && q > bestQ {
			best, bestQ = Lang(primary), q
		}
	}
	return best
}

// T translates a message key into the language, formatting args into it like fmt.Sprintf.
// An unknown key is shown as itself, so that a missing text is visible, not blank.
func T(lang Lang, key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	s := m[0]
	if lang == German {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// T translates into the request's language.
func (c *Ctx) T(key string, args ...any) string { return T(c.Lang, key, args...) }

// View is what every template gets.
type View struct {
	Lang     Lang
	Account  account.Account
	Operator account.Operator
	// Path is the request's path, for the language switch to come back to.
	Path string
	// Tab is the navigation tab to mark as current.
	Tab   string
	Flash string
	Form  *Form
	Data  any

	// HTMX is whether the request wants a part of a page.
	HTMX bool

	staticVersion string
	loc           *time.Location
}

// With is the view with other data, for a template that takes a part of the page's.
func (v *View) With(data any) *View {
	w := *v
	w.Data = data
	return &w
}

// Roles are the roles an operator can have, the most powerful first.
func (v *View) Roles() []account.Role { return roles }

func (c *Ctx) view(data any) *View {
	return &View{
		Lang: c.Lang, Account: c.Account, Operator: c.Operator, Path: c.R.URL.RequestURI(),
		Data: data, Form: &Form{}, HTMX: c.HTMX(), staticVersion: c.p.staticVersion, loc: c.loc,
	}
}

// T translates a message key.
func (v *View) T(key string, args ...any) string { return T(v.Lang, key, args...) }

// LoggedIn reports whether an operator is logged in.
func (v *View) LoggedIn() bool { return v.Operator.ID != 0 }

// CanChange tells whether to show the controls that change things.
func (v *View) CanChange() bool { return v.Operator.Role.CanChange() }

// IsOwner tells whether to show the controls of owners.
func (v *View) IsOwner() bool { return v.Operator.Role == account.RoleOwner }

// Static is the URL of an embedded static file.
func (v *View) Static(name string) string { return "/static/" + name + "?v=" + v.staticVersion }

// Time formats a time in the account's time zone, "—" for the zero time.
func (v *View) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(v.loc)
	if v.Lang == German {
		return t.Format("02.01.2006 15:04")
	}
	return t.Format("2 Jan 2006 15:04")
}

// Role is the name of a role in the language.
func (v *View) Role(r account.Role) string { return v.T("role." + string(r)) }

// Form is a submitted form: what was typed, and the mistakes found in it by field.
type Form struct {
	Values url.Values
	// Errors are message keys by field name; "" is the form as a whole.
	Errors map[string]string
}

// Form parses the request's form.
func (c *Ctx) Form() *Form {
	c.R.ParseForm()
	return &Form{Values: c.R.PostForm}
}

// Get is a field's value, trimmed.
func (f *Form) Get(name string) string { return strings.TrimSpace(f.Values.Get(name)) }

// Fail records a mistake in a field; message is a key of messages.
func (f *Form) Fail(field, message string) {
	if f.Errors == nil {
		f.Errors = make(map[string]string)
	}
	if _, ok := f.Errors[field]; !ok {
		f.Errors[field] = message
	}
}

// OK reports whether no mistake was found.
func (f *Form) OK() bool { return len(f.Errors) == 0 }

// Field is one input of a form as the "field" template draws it.
type Field struct {
	Name, Type, Label, Value, Error, Autocomplete, Hint string
	Required                                            bool
}

// Field describes an input for the "field" template: its label is the message labelKey,
// its value what was typed (never for passwords), its error the mistake found in it.
// Options after the label: "required", "autocomplete=...", "hint=<key>", "value=...".
func (v *View) Field(name, typ, labelKey string, opts ...string) Field {
	f := Field{Name: name, Type: typ, Label: v.T(labelKey)}
	for _, o := range opts {
		switch k, val, _ := strings.Cut(o, "="); k {
		case "required":
			f.Required = true
		case "autocomplete":
			f.Autocomplete = val
		case "hint":
			f.Hint = v.T(val)
		case "value":
			f.Value = val
		}
	}
	if v.Form != nil {
		if typ != "password" && v.Form.Values != nil {
			if _, sent := v.Form.Values[name]; sent {
				f.Value = v.Form.Values.Get(name)
			}
		}
		if e, ok := v.Form.Errors[name]; ok {
			f.Error = v.T(e)
		}
	}
	return f
}

// FormError is the mistake of the form as a whole, translated; "" when none.
func (v *View) FormError() string {
	if v.Form == nil || v.Form.Errors[""] == "" {
		return ""
	}
	return v.T(v.Form.Errors[""])
}

// StatusName is an OCPP status (Available, Charging, Accepted, ...) in the language; the
// status itself when it has no translation.
func (v *View) StatusName(s string) string {
	if _, ok := messages["status."+s]; ok {
		return v.T("status." + s)
	}
	return s
}
