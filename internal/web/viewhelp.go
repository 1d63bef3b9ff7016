package web

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/tariff"
)

// Helpers the templates of the conditions, tariffs, drivers, sessions and energy pages use.

// Err is the mistake found in a field, translated; "" when none.
func (v *View) Err(name string) string {
	if v.Form == nil || v.Form.Errors[name] == "" {
		return ""
	}
	return v.T(v.Form.Errors[name])
}

// Val is what the form has in a field.
func (v *View) Val(name string) string {
	if v.Form == nil || v.Form.Values == nil {
		return ""
	}
	return v.Form.Values.Get(name)
}

// Checked tells whether a checkbox or option of the form has the value.
func (v *View) Checked(name, value string) bool {
	if v.Form == nil || v.Form.Values == nil {
		return false
	}
	for _, s := range v.Form.Values[name] {
		if s == value {
			return true
		}
	}
	return false
}

// Money writes an amount in minor units: "CHF 9.35".
func (v *View) Money(currency string, minor int64) string { return money(currency, minor) }

// UnitPrice writes a price per unit: "0.35".
func (v *View) UnitPrice(m tariff.Micros) string { return unitPrice(m) }

// KWh writes Wh as kWh.
func (v *View) KWh(wh int64) string { return kwhText(wh) }

// Seconds writes a duration in seconds as "1 h 05 min".
func (v *View) Seconds(s int64) string { return durationText(time.Duration(s) * time.Second) }

// LineLabel is the name of a cost line's type.
func (v *View) LineLabel(t tariff.LineType) string { return v.T("line." + string(t)) }

// LineQuantity writes a line's quantity in its unit.
func (v *View) LineQuantity(l tariff.Line) string {
	switch l.Type {
	case tariff.LineEnergy:
		return kwhText(l.Quantity)
	case tariff.LineTime, tariff.LineParkingTime, tariff.LineIdleFee:
		return durationText(time.Duration(l.Quantity) * time.Second)
	case tariff.LineRounding:
		return ""
	}
	return fmt.Sprint(l.Quantity)
}

// LineUnit is the unit a line's price is per.
func (v *View) LineUnit(t tariff.LineType) string {
	switch t {
	case tariff.LineEnergy:
		return "/kWh"
	case tariff.LineTime, tariff.LineParkingTime, tariff.LineIdleFee:
		return "/h"
	}
	return ""
}

// Windows writes access windows for people; "always" for none.
func (v *View) Windows(ws []access.Window) string {
	if len(ws) == 0 {
		return v.T("conditions.always")
	}
	return windowsText(v, ws)
}

// Date writes a time as a date in the account's zone, for a date input.
func (v *View) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(v.loc).Format("2006-01-02")
}

// Before tells whether a is before b, for templates.
func (v *View) Before(a, b time.Time) bool { return a.Before(b) }

// LangName is the name of a language tag in the page's language.
func (v *View) LangName(tag string) string {
	if tag == "" {
		return "—"
	}
	return v.T("lang." + tag)
}

// Modes are the access modes a station can have, most open first.
func (v *View) Modes() []string {
	return []string{string(access.ModePublic), string(access.ModeMembers), string(access.ModePrivate)}
}

// InGroup tells whether the user is a member of the group.
func (v *View) InGroup(u access.User, group int64) bool { return slices.Contains(u.GroupIDs, group) }

// formFailed re-renders a page's view with the form's mistakes, with 422.
func formFailed(c *Ctx, page string, v *View, f *Form) error {
	v.Form = f
	return c.execute(http.StatusUnprocessableEntity, page, "", v)
}
