package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/tariff"
)

// Prices (package billing): tariffs in versions, the price plans that give them to the
// public, to user groups and to users, the cost of every transaction (final, or an estimate
// while it charges), and the cost of a session made up to show a tariff.
//
// Amounts of money are integers in minor units of the account's currency (Rappen for CHF).
// A tariff's rules are written as an OCPI 2.2.1 tariff is (snake_case names, prices as
// decimal numbers in the currency's main unit per kWh, per hour or per session, VAT in
// percent), plus chargebook's idle fee, rounding and free charging, so that an OCPI tariff
// can be pasted in and GET /tariffs/{tariffId}/ocpi gives one back.

// Billing is what the API needs of package billing; *billing.Service implements it.
type Billing interface {
	CreateTariff(ctx context.Context, acct account.Account, name string, validFrom time.Time, rules tariff.Tariff) (billing.Tariff, error)
	ChangeTariff(ctx context.Context, acct account.Account, tariffID int64, name string, validFrom time.Time, rules tariff.Tariff) (billing.Tariff, error)
	RetireTariff(ctx context.Context, accountID, tariffID int64) (billing.Tariff, error)
	Tariff(ctx context.Context, accountID, tariffID int64) (billing.Tariff, error)
	Tariffs(ctx context.Context, accountID int64) ([]billing.Tariff, error)
	CreatePlan(ctx context.Context, p billing.Plan) (billing.Plan, error)
	DeletePlan(ctx context.Context, accountID, planID int64) error
	Plans(ctx context.Context, accountID int64) ([]billing.Plan, error)
	Cost(ctx context.Context, acct account.Account, transactionID int64) (billing.SessionCost, error)
	Preview(ctx context.Context, acct account.Account, tariffID int64, rules tariff.Tariff, h billing.Hypothetical) (tariff.Cost, error)
}

// CodeTariffRetired is the 409 of a change to a retired tariff.
const CodeTariffRetired = "tariff_retired"

// CodeNotExportable is the 422 of a tariff that OCPI cannot express.
const CodeNotExportable = "not_exportable"

// The OCPI party a tariff is exported as unless the request names another.
const (
	defaultOCPICountry = "CH"
	defaultOCPIParty   = "CBK"
)

func (a *API) tariffRoutes() []Route {
	return []Route{
		{Method: "GET", Path: Prefix + "tariffs", Handle: a.listTariffs},
		{Method: "POST", Path: Prefix + "tariffs", Handle: a.createTariff},
		{Method: "GET", Path: Prefix + "tariffs/{tariffId}", Handle: a.getTariff},
		{Method: "PUT", Path: Prefix + "tariffs/{tariffId}", Handle: a.changeTariff},
		{Method: "DELETE", Path: Prefix + "tariffs/{tariffId}", Handle: a.retireTariff},
		{Method: "GET", Path: Prefix + "tariffs/{tariffId}/ocpi", Query: []string{"version", "countryCode", "partyId"}, Handle: a.tariffOCPI},
		// Not under /tariffs/: a fixed segment beside {tariffId} would clash in http.ServeMux
		// with the 405 answers New registers for each path.
		{Method: "POST", Path: Prefix + "tariff-preview", Handle: a.previewTariff},
		{Method: "GET", Path: Prefix + "price-plans", Handle: a.listPlans},
		{Method: "POST", Path: Prefix + "price-plans", Handle: a.createPlan},
		{Method: "DELETE", Path: Prefix + "price-plans/{planId}", Handle: a.deletePlan},
		{Method: "GET", Path: Prefix + "transactions/{transactionId}/cost", Handle: a.transactionCost},
	}
}

// billing returns the billing service, or the 503 of a server that has none.
func (a *API) billing() (Billing, error) {
	if a.deps.Billing == nil {
		return nil, Errorf(http.StatusServiceUnavailable, CodeUnavailable, "", "this server keeps no prices")
	}
	return a.deps.Billing, nil
}

// rulesJSON is a tariff's prices in OCPI 2.2.1 form, where optional properties are left out
// rather than null.
type rulesJSON struct {
	Elements []tariff.Element   `json:"elements"`
	MinPrice *tariff.PriceLimit `json:"min_price,omitempty"`
	MaxPrice *tariff.PriceLimit `json:"max_price,omitempty"`
	IdleFee  *tariff.IdleFee    `json:"idle_fee,omitempty"`
	Rounding tariff.Rounding    `json:"rounding"`
	Free     bool               `json:"free"`
}

func (r rulesJSON) tariff() tariff.Tariff {
	return tariff.Tariff{Elements: r.Elements, MinPrice: r.MinPrice, MaxPrice: r.MaxPrice, IdleFee: r.IdleFee, Rounding: r.Rounding, Free: r.Free}
}

func toRulesJSON(t tariff.Tariff) rulesJSON {
	r := rulesJSON{Elements: t.Elements, MinPrice: t.MinPrice, MaxPrice: t.MaxPrice, IdleFee: t.IdleFee, Rounding: t.Rounding, Free: t.Free}
	if r.Elements == nil {
		r.Elements = []tariff.Element{}
	}
	return r
}

type tariffJSON struct {
	TariffID  int64      `json:"tariffId"`
	Name      string     `json:"name"`
	Currency  string     `json:"currency"`
	CreatedAt time.Time  `json:"createdAt"`
	RetiredAt *time.Time `json:"retiredAt"`
	// CurrentVersion is the version that prices a session starting now; null when the
	// tariff is retired or its first version starts later.
	CurrentVersion *int          `json:"currentVersion"`
	Versions       []versionJSON `json:"versions"`
}

type versionJSON struct {
	Version   int        `json:"version"`
	ValidFrom *time.Time `json:"validFrom"`
	CreatedAt time.Time  `json:"createdAt"`
	Rules     rulesJSON  `json:"rules"`
}

func (a *API) toTariffJSON(t billing.Tariff) tariffJSON {
	now := a.deps.Now()
	out := tariffJSON{TariffID: t.ID, Name: t.Name, Currency: t.Currency, CreatedAt: t.CreatedAt.UTC(),
		RetiredAt: jsonTime(t.RetiredAt), Versions: make([]versionJSON, 0, len(t.Versions))}
	if v, ok := t.Current(now); ok && !t.Retired(now) {
		out.CurrentVersion = &v.Version
	}
	for _, v := range t.Versions {
		out.Versions = append(out.Versions, versionJSON{Version: v.Version, ValidFrom: jsonTime(v.ValidFrom),
			CreatedAt: v.CreatedAt.UTC(), Rules: toRulesJSON(v.Rules)})
	}
	return out
}

// tariffBody is the body of POST /tariffs and PUT /tariffs/{tariffId}.
type tariffBody struct {
	Name      string     `json:"name"`
	ValidFrom *time.Time `json:"validFrom"`
	Rules     *rulesJSON `json:"rules"`
}

func decodeTariffBody(r *http.Request) (tariffBody, time.Time, error) {
	var body tariffBody
	if err := decodeWithRules(r, &body); err != nil {
		return body, time.Time{}, err
	}
	if body.Rules == nil {
		return body, time.Time{}, invalidField("rules", "missing: the tariff's prices, as an OCPI tariff's elements")
	}
	var from time.Time
	if body.ValidFrom != nil {
		from = body.ValidFrom.UTC()
	}
	return body, from, nil
}

// decimalScales are the decimal properties of a tariff's rules, with the number of decimals
// package tariff reads them to.
var decimalScales = map[string]int{
	"price": 6, "excl_vat": 6, "incl_vat": 6, "price_per_hour": 6, "vat": 2,
	"min_kwh": 3, "max_kwh": 3, "min_current": 3, "max_current": 3, "min_power": 3, "max_power": 3,
}

// decodeWithRules is DecodeJSON for a body with a "rules" property, which also names the
// decimal of the rules that package tariff cannot read exactly (too many decimals, not a
// number): encoding/json does not say where an UnmarshalJSON failed.
func decodeWithRules(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return Errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "", "the body is larger than %d bytes", tooLarge.Limit)
		}
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	err = DecodeJSON(r, v)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeMalformedJSON {
		return err
	}
	var body struct {
		Rules any `json:"rules"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&body) != nil {
		return err
	}
	if field, problem, bad := badDecimal(body.Rules, "rules"); bad {
		return invalidField(field, "%s", problem)
	}
	return err
}

// badDecimal finds, in keys order, the first decimal property under v that does not read.
func badDecimal(v any, path string) (field, problem string, bad bool) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if scale, ok := decimalScales[k]; ok {
				var s string
				switch n := x[k].(type) {
				case json.Number:
					s = string(n)
				case string:
					s = n
				default:
					continue // null, or a wrong type DecodeJSON would have named
				}
				if _, err := tariff.ParseDecimal(s, scale); err != nil {
					return path + "." + k, fmt.Sprintf("%q is not a number with at most %d decimals", s, scale), true
				}
				continue
			}
			if f, p, bad := badDecimal(x[k], path+"."+k); bad {
				return f, p, true
			}
		}
	case []any:
		for i, e := range x {
			if f, p, bad := badDecimal(e, fmt.Sprintf("%s[%d]", path, i)); bad {
				return f, p, true
			}
		}
	}
	return "", "", false
}

// billingError turns the refusals of package billing into answers.
func billingError(err error, what string) error {
	var bad billing.Invalid
	switch {
	case errors.As(err, &bad):
		problems := make([]string, len(bad))
		for i, f := range bad {
			problems[i] = f.Field + ": " + f.Problem
		}
		return Errorf(http.StatusBadRequest, CodeInvalidField, bad[0].Field, "%s", strings.Join(problems, "; "))
	case errors.Is(err, billing.ErrNotFound):
		return Errorf(http.StatusNotFound, CodeNotFound, "", "no %s", what)
	case errors.Is(err, billing.ErrRetired):
		return Errorf(http.StatusConflict, CodeTariffRetired, "", "%s is retired: create a new tariff", what)
	}
	return err
}

// pathID reads a positive integer path wildcard, or a 400.
func pathID(r *http.Request, name, what string) (int64, error) {
	s := r.PathValue(name)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalidField(name, "%q is not a %s id (a positive integer)", s, what)
	}
	return id, nil
}

func (a *API) listTariffs(w http.ResponseWriter, r *http.Request) error {
	b, err := a.billing()
	if err != nil {
		return err
	}
	ts, err := b.Tariffs(r.Context(), Account(r).ID)
	if err != nil {
		return err
	}
	out := make([]tariffJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, a.toTariffJSON(t))
	}
	WriteJSON(w, http.StatusOK, struct {
		Tariffs []tariffJSON `json:"tariffs"`
	}{out})
	return nil
}

func (a *API) createTariff(w http.ResponseWriter, r *http.Request) error {
	b, err := a.billing()
	if err != nil {
		return err
	}
	body, from, err := decodeTariffBody(r)
	if err != nil {
		return err
	}
	t, err := b.CreateTariff(r.Context(), Account(r), body.Name, from, body.Rules.tariff())
	if err != nil {
		return billingError(err, "tariff")
	}
	w.Header().Set("Location", Prefix+"tariffs/"+strconv.FormatInt(t.ID, 10))
	WriteJSON(w, http.StatusCreated, a.toTariffJSON(t))
	return nil
}

func (a *API) getTariff(w http.ResponseWriter, r *http.Request) error {
	b, err := a.billing()
	if err != nil {
		return err
	}
	id, err := pathID(r, "tariffId", "tariff")
	if err != nil {
		return err
	}
	t, err := b.Tariff(r.Context(), Account(r).ID, id)
	if err != nil {
		return billingError(err, "tariff "+strconv.FormatInt(id, 10))
	}
	WriteJSON(w, http.StatusOK, a.toTariffJSON(t))
	return nil
}

func (a *API) changeTariff(w http.ResponseWriter, r *http.Request) error {
	b, err := a.billing()
	if err != nil {
		return err
	}
	id, err := pathID(r, "tariffId", "tariff")
	if err != nil {
		return err
	}
	body, from, err := decodeTariffBody(r)
	if err != nil {
		return err
	}
	t, err := b.ChangeTariff(r.Context(), Account(r), id, body.Name, from, body.Rules.tariff())
	if err != nil {
		return billingError(err, "tariff "+strconv.FormatInt(id, 10))
	}
	WriteJSON(w, http.StatusOK, a.toTariffJSON(t))
	return nil
}

func (a *API) retireTariff(w http.ResponseWriter, r *http.Request) error {
	b, err := a.billing()
	if err != nil {
		return err
	}
	id, err := pathID(r, "tariffId", "tariff")
	if err != nil {
		return err
	}
	t, err := b.RetireTariff(r.Context(), Account(r).ID, id)
	if err != nil {
		return billingError(err, "tariff "+strconv.FormatInt(id, 10))
	}
	WriteJSON(w, http.StatusOK, a.toTariffJSON(t))
	return nil
}

func (a *API) tariffOCPI(w http.ResponseWriter, r *http.Request) error {
	b, err := a.billing()
	if err != nil {
		return err
	}
	id, err := pathID(r, "tariffId", "tariff")
	if err != nil {
		return err
	}
	n, err := QueryInt(r, "version", 0, 1, 1<<30)
	if err != nil {
		return err
	}
	t, err := b.Tariff(r.Context(), Account(r).ID, id)
	if err != nil {
		return billingError(err, "tariff "+strconv.FormatInt(id, 10))
	}
	var v billing.Version
	switch cur, ok := t.Current(a.deps.Now()); {
	case n != 0:
		i := n - 1
		if i >= len(t.Versions) {
			return invalidParameter("version", "tariff %d has versions 1 to %d", id, len(t.Versions))
		}
		v = t.Versions[i]
	case ok:
		v = cur
	default:
		v = t.Versions[len(t.Versions)-1]
	}
	party := tariff.OCPIParty{CountryCode: defaultOCPICountry, PartyID: defaultOCPIParty, LastUpdated: v.CreatedAt}
	if s := r.URL.Query().Get("countryCode"); s != "" {
		party.CountryCode = s
	}
	if s := r.URL.Query().Get("partyId"); s != "" {
		party.PartyID = s
	}
	o, err := v.Rules.ToOCPI(party)
	if err != nil {
		return Errorf(http.StatusUnprocessableEntity, CodeNotExportable, "", "OCPI cannot express version %d of tariff %d: %v", v.Version, id, err)
	}
	WriteJSON(w, http.StatusOK, o)
	return nil
}

// tariffPreviewBody is a session made up to show what a tariff costs.
type tariffPreviewBody struct {
	TariffID        int64      `json:"tariffId"`
	Rules           *rulesJSON `json:"rules"`
	Start           *time.Time `json:"start"`
	DurationMinutes int64      `json:"durationMinutes"`
	EnergyWh        int64      `json:"energyWh"`
	// ChargingMinutes is how long the car charges, from the start; the rest is parking.
	// Default: the whole session.
	ChargingMinutes *int64 `json:"chargingMinutes"`
}

func (a *API) previewTariff(w http.ResponseWriter, r *http.Request) error {
	b, err := a.billing()
	if err != nil {
		return err
	}
	var body tariffPreviewBody
	if err := decodeWithRules(r, &body); err != nil {
		return err
	}
	var rules tariff.Tariff
	switch {
	case body.TariffID != 0 && body.Rules != nil:
		return invalidField("rules", "give either tariffId or rules, not both")
	case body.TariffID < 0:
		return invalidField("tariffId", "not a tariff id")
	case body.TariffID == 0 && body.Rules == nil:
		return invalidField("tariffId", "missing: give the tariffId of a tariff, or its rules")
	case body.Rules != nil:
		rules = body.Rules.tariff()
	}
	if body.Start == nil {
		return invalidField("start", "missing: when the session starts, e.g. 2026-03-07T18:00:00+01:00")
	}
	h := billing.Hypothetical{Start: *body.Start, Duration: minutes(body.DurationMinutes), EnergyWh: body.EnergyWh}
	h.Charging = h.Duration
	if body.ChargingMinutes != nil {
		h.Charging = minutes(*body.ChargingMinutes)
	}
	c, err := b.Preview(r.Context(), Account(r), body.TariffID, rules, h)
	if err != nil {
		return billingError(err, "tariff")
	}
	WriteJSON(w, http.StatusOK, toCostJSON(c))
	return nil
}

// minutes is n minutes, saturating far beyond any session rather than overflowing.
func minutes(n int64) time.Duration {
	const limit = int64(1 << 40)
	return time.Duration(max(-limit, min(n, limit))) * time.Minute
}

type planJSON struct {
	PlanID        int64      `json:"planId"`
	TariffID      int64      `json:"tariffId"`
	Audience      string     `json:"audience"`
	UserID        *int64     `json:"userId"`
	GroupID       *int64     `json:"groupId"`
	ChargePointID *string    `json:"chargePointId"`
	ValidFrom     *time.Time `json:"validFrom"`
	ValidTo       *time.Time `json:"validTo"`
	CreatedAt     time.Time  `json:"createdAt"`
}

// audiences are the audiences of a plan as the API writes them.
var audiences = map[tariff.Audience]string{tariff.Public: "public", tariff.Group: "group", tariff.User: "user"}

func toPlanJSON(p billing.Plan) planJSON {
	out := planJSON{PlanID: p.ID, TariffID: p.TariffID, Audience: audiences[p.Audience],
		ChargePointID: jsonString(p.ChargePointID), ValidFrom: jsonTime(p.ValidFrom), ValidTo: jsonTime(p.ValidTo),
		CreatedAt: p.CreatedAt.UTC()}
	if p.UserID != 0 {
		out.UserID = &p.UserID
	}
	if p.GroupID != 0 {
		out.GroupID = &p.GroupID
	}
	return out
}

type planBody struct {
	TariffID      int64      `json:"tariffId"`
	Audience      string     `json:"audience"`
	UserID        int64      `json:"userId"`
	GroupID       int64      `json:"groupId"`
	ChargePointID string     `json:"chargePointId"`
	ValidFrom     *time.Time `json:"validFrom"`
	ValidTo       *time.Time `json:"validTo"`
}

func (a *API) listPlans(w http.ResponseWriter, r *http.Request) error {
	b, err := a.billing()
	if err != nil {
		return err
	}
	ps, err := b.Plans(r.Context(), Account(r).ID)
	if err != nil {
		return err
	}
	out := make([]planJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, toPlanJSON(p))
	}
	WriteJSON(w, http.StatusOK, struct {
		PricePlans []planJSON `json:"pricePlans"`
	}{out})
	return nil
}

func (a *API) createPlan(w http.ResponseWriter, r *http.Request) error {
	b, err := a.billing()
	if err != nil {
		return err
	}
	var body planBody
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	acct := Account(r)
	p := billing.Plan{AccountID: acct.ID, TariffID: body.TariffID, UserID: body.UserID, GroupID: body.GroupID}
	for aud, name := range audiences {
		if strings.EqualFold(body.Audience, name) {
			p.Audience = aud
		}
	}
	if p.Audience == "" {
		return invalidField("audience", "%q is none of public, group, user", body.Audience)
	}
	if body.TariffID <= 0 {
		return invalidField("tariffId", "missing: the tariff the plan gives")
	}
	if body.ChargePointID != "" {
		st, err := a.station(r.Context(), acct.ID, body.ChargePointID)
		if err != nil {
			return notFoundAsField(err, "chargePointId", "no station %q", body.ChargePointID)
		}
		p.StationID = st.ID
	}
	if body.ValidFrom != nil {
		p.ValidFrom = body.ValidFrom.UTC()
	}
	if body.ValidTo != nil {
		p.ValidTo = body.ValidTo.UTC()
	}
	out, err := b.CreatePlan(r.Context(), p)
	if err != nil {
		return billingError(err, "tariff or station")
	}
	w.Header().Set("Location", Prefix+"price-plans/"+strconv.FormatInt(out.ID, 10))
	WriteJSON(w, http.StatusCreated, toPlanJSON(out))
	return nil
}

// notFoundAsField turns a not-found of something a body names into a 400 naming the property.
func notFoundAsField(err error, field, format string, args ...any) error {
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return invalidField(field, format, args...)
	}
	return err
}

func (a *API) deletePlan(w http.ResponseWriter, r *http.Request) error {
	b, err := a.billing()
	if err != nil {
		return err
	}
	id, err := pathID(r, "planId", "price plan")
	if err != nil {
		return err
	}
	if err := b.DeletePlan(r.Context(), Account(r).ID, id); err != nil {
		return billingError(err, "price plan "+strconv.FormatInt(id, 10))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sessionCostJSON is the cost of a transaction.
type sessionCostJSON struct {
	TransactionID int64 `json:"transactionId"`
	// Status is estimate (open: the cost so far, not stored), final (stored at the stop) or
	// unpriced (no cost; reason says why).
	Status   string     `json:"status"`
	Reason   *string    `json:"reason"`
	PlanID   *int64     `json:"planId"`
	UserID   *int64     `json:"userId"`
	PricedAt *time.Time `json:"pricedAt"`
	Cost     *costJSON  `json:"cost"`
}

type costJSON struct {
	TariffID        *int64     `json:"tariffId"` // null for rules previewed without a tariff
	TariffVersion   *int       `json:"tariffVersion"`
	Currency        string     `json:"currency"`
	TotalNet        int64      `json:"totalNet"`
	TotalVAT        int64      `json:"totalVat"`
	TotalGross      int64      `json:"totalGross"`
	Rounding        int64      `json:"rounding"`
	Payable         int64      `json:"payable"`
	EnergyWh        int64      `json:"energyWh"`
	DurationSeconds int64      `json:"durationSeconds"`
	ChargingSeconds int64      `json:"chargingSeconds"`
	ParkingSeconds  int64      `json:"parkingSeconds"`
	IdleSeconds     int64      `json:"idleSeconds"`
	Lines           []lineJSON `json:"lines"`
	VATByRate       []vatJSON  `json:"vatByRate"`
}

type lineJSON struct {
	Type    string `json:"type"`
	Element *int   `json:"element"`
	// Quantity is in QuantityUnit: Wh, s (seconds) or session.
	Quantity     int64           `json:"quantity"`
	QuantityUnit *string         `json:"quantityUnit"`
	UnitPrice    tariff.Micros   `json:"unitPrice"`
	VATRate      *tariff.VATRate `json:"vatRate"`
	Net          int64           `json:"net"`
	VAT          int64           `json:"vat"`
	Gross        int64           `json:"gross"`
}

type vatJSON struct {
	Rate *tariff.VATRate `json:"rate"`
	Net  int64           `json:"net"`
	VAT  int64           `json:"vat"`
}

// quantityUnits are the units of a line's quantity by its type.
var quantityUnits = map[tariff.LineType]string{
	tariff.LineEnergy: "Wh", tariff.LineTime: "s", tariff.LineParkingTime: "s", tariff.LineIdleFee: "s",
	tariff.LineFlat: "session", tariff.LineMinPrice: "session",
}

func toCostJSON(c tariff.Cost) *costJSON {
	out := &costJSON{Currency: c.Currency, TotalNet: c.TotalNet, TotalVAT: c.TotalVAT, TotalGross: c.TotalGross,
		Rounding: c.Rounding, Payable: c.Payable, EnergyWh: c.EnergyWh, DurationSeconds: c.DurationS,
		ChargingSeconds: c.ChargingS, ParkingSeconds: c.ParkingS, IdleSeconds: c.IdleS,
		Lines: make([]lineJSON, 0, len(c.Lines)), VATByRate: []vatJSON{}}
	if id, err := strconv.ParseInt(c.TariffID, 10, 64); err == nil && id > 0 {
		v := c.TariffVersion
		out.TariffID, out.TariffVersion = &id, &v
	}
	for _, l := range c.Lines {
		lj := lineJSON{Type: string(l.Type), Quantity: l.Quantity, UnitPrice: l.UnitPrice, VATRate: l.VATRate,
			Net: l.Net, VAT: l.VAT, Gross: l.Gross}
		if l.Element >= 0 {
			e := l.Element
			lj.Element = &e
		}
		if u, ok := quantityUnits[l.Type]; ok {
			lj.QuantityUnit = &u
		}
		out.Lines = append(out.Lines, lj)
	}
	for _, v := range c.VATByRate() {
		out.VATByRate = append(out.VATByRate, vatJSON{Rate: v.Rate, Net: v.Net, VAT: v.VAT})
	}
	return out
}

func (a *API) transactionCost(w http.ResponseWriter, r *http.Request) error {
	b, err := a.billing()
	if err != nil {
		return err
	}
	id, err := transactionID(r)
	if err != nil {
		return err
	}
	c, err := b.Cost(r.Context(), Account(r), id)
	if err != nil {
		return billingError(err, "transaction "+strconv.FormatInt(id, 10))
	}
	out := sessionCostJSON{TransactionID: c.TransactionID, Status: string(c.Status), Reason: jsonString(c.Reason),
		PricedAt: jsonTime(c.PricedAt)}
	if c.UserID != 0 {
		out.UserID = &c.UserID
	}
	if c.Priced() {
		out.PlanID = &c.PlanID
		out.Cost = toCostJSON(c.Cost)
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}
