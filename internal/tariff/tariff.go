package tariff

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Dimension is what a price component charges for (OCPI TariffDimensionType).
type Dimension string

const (
	Energy      Dimension = "ENERGY"       // per kWh; step_size in Wh
	Flat        Dimension = "FLAT"         // once per session; no step
	Time        Dimension = "TIME"         // per hour of charging; step_size in seconds
	ParkingTime Dimension = "PARKING_TIME" // per hour connected but not charging; step_size in seconds
)

// DayOfWeek is an OCPI DayOfWeek.
type DayOfWeek string

const (
	Monday    DayOfWeek = "MONDAY"
	Tuesday   DayOfWeek = "TUESDAY"
	Wednesday DayOfWeek = "WEDNESDAY"
	Thursday  DayOfWeek = "THURSDAY"
	Friday    DayOfWeek = "FRIDAY"
	Saturday  DayOfWeek = "SATURDAY"
	Sunday    DayOfWeek = "SUNDAY"
)

// Weekdays and Weekend are the usual day_of_week lists.
var (
	Weekdays = []DayOfWeek{Monday, Tuesday, Wednesday, Thursday, Friday}
	Weekend  = []DayOfWeek{Saturday, Sunday}
)

// dayIndex numbers the days from Monday = 0, as the pricing loop does.
var dayIndex = map[DayOfWeek]int{Monday: 0, Tuesday: 1, Wednesday: 2, Thursday: 3, Friday: 4, Saturday: 5, Sunday: 6}

// DefaultCurrency is the currency of a tariff that names none.
const DefaultCurrency = "CHF"

// MaxElements bounds the elements of a tariff; the pricing loop keeps one bit per element.
// Real tariffs have a handful.
const MaxElements = 64

// Tariff is a versioned price list. Its elements, components, restrictions and price limits
// are those of an OCPI 2.2.1 Tariff, with the same JSON names, so that ToOCPI can export it;
// IdleFee, Rounding, Free and Version are what an eCarUp-like operator needs beyond OCPI.
//
// A tariff is never edited in place once a session may have used it: a change is a new
// version with a later ValidFrom, and a session is priced by the version in force when it
// started (see InForce).
type Tariff struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	// Currency is an ISO 4217 code; empty means DefaultCurrency (CHF).
	Currency string `json:"currency,omitempty"`
	// ValidFrom is when this version takes effect (OCPI start_date_time); zero means always.
	ValidFrom time.Time `json:"start_date_time,omitzero"`
	// ValidTo, if set, is when this version stops applying to new sessions (OCPI end_date_time).
	ValidTo *time.Time `json:"end_date_time,omitempty"`

	// Elements are evaluated in order: per dimension, the first element with a component of
	// that dimension whose restrictions match is the one that prices it.
	Elements []Element `json:"elements"`
	// MinPrice and MaxPrice bound the session cost of the elements (not the idle fee).
	MinPrice *PriceLimit `json:"min_price,omitempty"`
	MaxPrice *PriceLimit `json:"max_price,omitempty"`

	// IdleFee is a penalty for occupying the charger; OCPI 2.2.1 cannot express it.
	IdleFee *IdleFee `json:"idle_fee,omitempty"`
	// Rounding says how the payable amount is rounded (0.05 CHF or exact).
	Rounding Rounding `json:"rounding,omitzero"`
	// Free means the session costs nothing at all; a free tariff has no elements, limits or
	// idle fee.
	Free bool `json:"free,omitempty"`
}

// Element is an OCPI TariffElement.
type Element struct {
	Components   []Component   `json:"price_components"`
	Restrictions *Restrictions `json:"restrictions,omitempty"`
}

// Component is an OCPI PriceComponent.
type Component struct {
	Type Dimension `json:"type"`
	// Price per unit excluding VAT: per kWh (ENERGY), per hour (TIME, PARKING_TIME) or per
	// session (FLAT), in Micros so that four or more decimals stay exact.
	Price Micros `json:"price"`
	// VAT is the rate for this component; nil means no VAT applies, which OCPI distinguishes
	// from 0 %.
	VAT *VATRate `json:"vat,omitempty"`
	// StepSize is the billing granularity in Wh (ENERGY) or seconds (TIME, PARKING_TIME);
	// 0 and 1 both mean the finest. See Price for when it is applied.
	StepSize int64 `json:"step_size"`
}

// Restrictions is an OCPI TariffRestrictions. Times and dates are local to the session's
// Location. Unset fields do not restrict.
type Restrictions struct {
	// StartTime and EndTime are "HH:MM"; the element applies from StartTime (inclusive) to
	// EndTime (exclusive). EndTime before StartTime wraps past midnight. Either may be unset:
	// from midnight, or until midnight.
	StartTime string `json:"start_time,omitempty"`
	EndTime   string `json:"end_time,omitempty"`
	// StartDate and EndDate are "YYYY-MM-DD"; EndDate is exclusive.
	StartDate string `json:"start_date,omitempty"`
	EndDate   string `json:"end_date,omitempty"`
	// MinKWh (inclusive) and MaxKWh (exclusive) bound the energy charged so far in the session.
	MinKWh *Wh `json:"min_kwh,omitempty"`
	MaxKWh *Wh `json:"max_kwh,omitempty"`
	// MinCurrent (inclusive) and MaxCurrent (exclusive) bound the current summed over phases.
	// chargebook meters power, not current, so a current bound is read as a power bound at
	// 230 V per phase: P = I × 230 V, which holds for 1 and 3 phases alike.
	MinCurrent *MilliAmps `json:"min_current,omitempty"`
	MaxCurrent *MilliAmps `json:"max_current,omitempty"`
	// MinPower (inclusive) and MaxPower (exclusive) bound the charging power.
	MinPower *Watts `json:"min_power,omitempty"`
	MaxPower *Watts `json:"max_power,omitempty"`
	// MinDuration (inclusive) and MaxDuration (exclusive) bound the time since the session
	// started, in seconds.
	MinDuration *int64 `json:"min_duration,omitempty"`
	MaxDuration *int64 `json:"max_duration,omitempty"`
	// DaysOfWeek lists the local days on which the element applies; the day is that of the
	// instant priced, so a 22:00-06:00 element on FRIDAY covers Friday 22:00-24:00 and
	// Friday 00:00-06:00, not Saturday morning.
	DaysOfWeek []DayOfWeek `json:"day_of_week,omitempty"`
	// Reservation marks an element that prices a reservation (RESERVATION,
	// RESERVATION_EXPIRES); such elements never price a charging session and are kept only for
	// export.
	Reservation string `json:"reservation,omitempty"`
}

// PriceLimit is an OCPI 2.2.1 Price (OCPI 2.3 renames it PriceLimit): an amount excluding
// VAT and, optionally, including it.
type PriceLimit struct {
	ExclVAT Micros  `json:"excl_vat"`
	InclVAT *Micros `json:"incl_vat,omitempty"`
}

// IdleBasis says from when an idle fee's grace period runs.
type IdleBasis string

const (
	// IdleFromSessionStart is eCarUp's penalty: the grace period starts when the session
	// does, and every second after it is charged, charging or not.
	IdleFromSessionStart IdleBasis = "SESSION_START"
	// IdleFromChargingEnd charges only time connected but not charging: each stretch of it
	// gets its own grace period, so a car that is full and stays is charged, a car waiting
	// briefly for a scheduled start is not. Like OCPP 2.1 minIdleTime.
	IdleFromChargingEnd IdleBasis = "CHARGING_END"
)

// IdleFee is a per-hour penalty that starts after a grace period.
type IdleFee struct {
	PricePerHour Micros    `json:"price_per_hour"` // excluding VAT
	VAT          *VATRate  `json:"vat,omitempty"`
	GraceMinutes int64     `json:"grace_minutes"`
	Basis        IdleBasis `json:"basis"`
	// StepSize rounds the idle time up, in seconds; 0 and 1 mean to the second.
	StepSize int64 `json:"step_size,omitempty"`
}

// RoundingMode says how the payable amount is brought to a multiple of the payable step.
type RoundingMode string

const (
	HalfUp RoundingMode = "HALF_UP" // commercial rounding; the default
	Down   RoundingMode = "DOWN"    // never more than computed
	Up     RoundingMode = "UP"
)

// Rounding is the rounding of the payable amount. Line amounts and totals are always to the
// minor unit; see Price.
type Rounding struct {
	// PayableStep is in minor units: 5 rounds to 0.05 CHF (the smallest Swiss coin); 0 and 1
	// leave the amount exact to the Rappen.
	PayableStep int64        `json:"payable_step,omitempty"`
	Mode        RoundingMode `json:"mode,omitempty"`
}

// ErrInvalidTariff is wrapped by every error Validate returns.
var ErrInvalidTariff = errors.New("invalid tariff")

// FieldError names the field of a tariff that is wrong, with the JSON path (e.g.
// "elements[1].price_components[0].vat").
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return "tariff: " + e.Field + ": " + e.Problem }
func (e *FieldError) Unwrap() error { return ErrInvalidTariff }

// CurrencyCode is the tariff's currency, DefaultCurrency when unset.
func (t Tariff) CurrencyCode() string {
	if t.Currency == "" {
		return DefaultCurrency
	}
	return t.Currency
}

var (
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	hhmmRE     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// Validate reports every problem of the tariff, each as a *FieldError, joined.
func (t Tariff) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if t.ID == "" {
		add("id", "empty")
	}
	if t.Version < 0 {
		add("version", "negative")
	}
	if t.Currency != "" && !currencyRE.MatchString(t.Currency) {
		add("currency", "%q is not an ISO 4217 code", t.Currency)
	}
	if t.ValidTo != nil && !t.ValidTo.After(t.ValidFrom) {
		add("end_date_time", "not after start_date_time")
	}
	if t.Free {
		if len(t.Elements) > 0 || t.MinPrice != nil || t.MaxPrice != nil || t.IdleFee != nil {
			add("free", "a free tariff has no elements, price limits or idle fee")
		}
	} else if len(t.Elements) == 0 {
		add("elements", "empty")
	}
	if len(t.Elements) > MaxElements {
		add("elements", "%d elements, at most %d", len(t.Elements), MaxElements)
	}
	for i, el := range t.Elements {
		validateElement(fmt.Sprintf("elements[%d]", i), el, add)
	}
	validatePrice("min_price", t.MinPrice, add)
	validatePrice("max_price", t.MaxPrice, add)
	if t.MinPrice != nil && t.MaxPrice != nil {
		if t.MinPrice.ExclVAT > t.MaxPrice.ExclVAT {
			add("min_price.excl_vat", "above max_price.excl_vat")
		}
		if t.MinPrice.InclVAT != nil && t.MaxPrice.InclVAT != nil && *t.MinPrice.InclVAT > *t.MaxPrice.InclVAT {
			add("min_price.incl_vat", "above max_price.incl_vat")
		}
	}
	if f := t.IdleFee; f != nil {
		if f.PricePerHour < 0 {
			add("idle_fee.price_per_hour", "negative")
		}
		validateVAT("idle_fee.vat", f.VAT, add)
		if f.GraceMinutes < 0 || f.GraceMinutes > maxRestriction/60 {
			add("idle_fee.grace_minutes", "out of range 0-%d", int64(maxRestriction/60))
		}
		if f.Basis != IdleFromSessionStart && f.Basis != IdleFromChargingEnd {
			add("idle_fee.basis", "unknown basis %q", f.Basis)
		}
		if f.StepSize < 0 || f.StepSize > maxRestriction {
			add("idle_fee.step_size", "out of range 0-%d", int64(maxRestriction))
		}
	}
	if t.Rounding.PayableStep < 0 || t.Rounding.PayableStep > maxRestriction {
		add("rounding.payable_step", "out of range 0-%d", int64(maxRestriction))
	}
	switch t.Rounding.Mode {
	case "", HalfUp, Down, Up:
	default:
		add("rounding.mode", "unknown mode %q", t.Rounding.Mode)
	}
	return errors.Join(errs...)
}

func validateElement(path string, el Element, add func(field, format string, args ...any)) {
	if len(el.Components) == 0 {
		add(path+".price_components", "empty")
	}
	seen := map[Dimension]bool{}
	for j, c := range el.Components {
		cp := fmt.Sprintf("%s.price_components[%d]", path, j)
		switch c.Type {
		case Energy, Flat, Time, ParkingTime:
		default:
			add(cp+".type", "unknown type %q", c.Type)
		}
		if seen[c.Type] {
			add(cp+".type", "%s twice in one element", c.Type)
		}
		seen[c.Type] = true
		if c.Price < 0 {
			add(cp+".price", "negative")
		}
		validateVAT(cp+".vat", c.VAT, add)
		if c.StepSize < 0 || c.StepSize > maxRestriction {
			add(cp+".step_size", "out of range 0-%d", int64(maxRestriction))
		}
	}
	r := el.Restrictions
	if r == nil {
		return
	}
	path += ".restrictions"
	for _, f := range []struct{ name, v string }{{"start_time", r.StartTime}, {"end_time", r.EndTime}} {
		if f.v != "" && !hhmmRE.MatchString(f.v) {
			add(path+"."+f.name, "%q is not HH:MM", f.v)
		}
	}
	if r.StartTime != "" && r.StartTime == r.EndTime {
		add(path+".end_time", "equal to start_time")
	}
	var start, end time.Time
	var err error
	if r.StartDate != "" {
		if start, err = time.Parse(time.DateOnly, r.StartDate); err != nil {
			add(path+".start_date", "%q is not YYYY-MM-DD", r.StartDate)
		}
	}
	if r.EndDate != "" {
		if end, err = time.Parse(time.DateOnly, r.EndDate); err != nil {
			add(path+".end_date", "%q is not YYYY-MM-DD", r.EndDate)
		}
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		add(path+".end_date", "not after start_date (end_date is exclusive)")
	}
	minMax(path, "kwh", (*int64)(r.MinKWh), (*int64)(r.MaxKWh), add)
	minMax(path, "current", (*int64)(r.MinCurrent), (*int64)(r.MaxCurrent), add)
	minMax(path, "power", (*int64)(r.MinPower), (*int64)(r.MaxPower), add)
	minMax(path, "duration", r.MinDuration, r.MaxDuration, add)
	days := map[DayOfWeek]bool{}
	for k, d := range r.DaysOfWeek {
		if _, ok := dayIndex[d]; !ok {
			add(fmt.Sprintf("%s.day_of_week[%d]", path, k), "unknown day %q", d)
		}
		if days[d] {
			add(fmt.Sprintf("%s.day_of_week[%d]", path, k), "%s twice", d)
		}
		days[d] = true
	}
	switch r.Reservation {
	case "", "RESERVATION", "RESERVATION_EXPIRES":
	default:
		add(path+".reservation", "unknown value %q", r.Reservation)
	}
}

// maxRestriction bounds numeric restrictions and step sizes (10^12 Wh, W, mA or seconds:
// far beyond any charger or session), which keeps the pricing arithmetic from overflowing.
const maxRestriction = 1_000_000_000_000

// minMax checks a min (inclusive) / max (exclusive) pair: an element with min ≥ max could
// never apply, which is a mistake rather than a way to switch it off.
func minMax(path, name string, lo, hi *int64, add func(field, format string, args ...any)) {
	if lo != nil && *lo < 0 {
		add(path+".min_"+name, "negative")
	}
	if hi != nil && *hi < 0 {
		add(path+".max_"+name, "negative")
	}
	for _, b := range []struct {
		v    *int64
		name string
	}{{lo, "min_"}, {hi, "max_"}} {
		if b.v != nil && *b.v > maxRestriction {
			add(path+"."+b.name+name, "above %d", int64(maxRestriction))
		}
	}
	if lo != nil && hi != nil && *lo >= *hi {
		add(path+".min_"+name, "not below max_%s", name)
	}
}

func validatePrice(field string, p *PriceLimit, add func(field, format string, args ...any)) {
	if p == nil {
		return
	}
	if p.ExclVAT < 0 {
		add(field+".excl_vat", "negative")
	}
	if p.InclVAT != nil && *p.InclVAT < p.ExclVAT {
		add(field+".incl_vat", "below excl_vat")
	}
}

func validateVAT(field string, r *VATRate, add func(field, format string, args ...any)) {
	if r != nil && (*r < 0 || *r > 10000) {
		add(field, "%s out of range 0-100%%", *r)
	}
}
