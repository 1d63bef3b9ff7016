package tariff

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// OCPIParty is the CPO that publishes tariffs over OCPI, and when a tariff last changed.
type OCPIParty struct {
	CountryCode string    // ISO 3166 alpha-2, e.g. "CH"
	PartyID     string    // three characters, e.g. "CBK"
	LastUpdated time.Time // OCPI last_updated
}

// OCPITariff is an OCPI 2.2.1 Tariff object, ready for encoding/json.
type OCPITariff struct {
	CountryCode   string      `json:"country_code"`
	PartyID       string      `json:"party_id"`
	ID            string      `json:"id"`
	Currency      string      `json:"currency"`
	MinPrice      *PriceLimit `json:"min_price,omitempty"`
	MaxPrice      *PriceLimit `json:"max_price,omitempty"`
	Elements      []Element   `json:"elements"`
	StartDateTime *time.Time  `json:"start_date_time,omitempty"`
	EndDateTime   *time.Time  `json:"end_date_time,omitempty"`
	LastUpdated   time.Time   `json:"last_updated"`
}

var (
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
	partyRE   = regexp.MustCompile(`^[A-Z0-9]{3}$`)
)

// ToOCPI exports the tariff as an OCPI 2.2.1 Tariff. Prices are decimals excl. VAT, VAT in
// percent, as OCPI has them. What OCPI 2.2.1 cannot say is left out: the idle fee (OCPI has
// no grace period after charging; describe it in tariff_alt_text), the payable rounding and
// the version (OCPI replaces a tariff under the same id). A free tariff becomes OCPI's free
// tariff: one FLAT component at 0.00.
//
// It fails on a tariff that does not validate, on an id longer than OCPI's 36 characters and
// on a price with more than the 4 decimals OCPI numbers carry.
func (t Tariff) ToOCPI(p OCPIParty) (OCPITariff, error) {
	if err := t.Validate(); err != nil {
		return OCPITariff{}, err
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("tariff: ocpi: "+format, args...)) }
	if !countryRE.MatchString(p.CountryCode) {
		bad("country_code %q is not two capital letters", p.CountryCode)
	}
	if !partyRE.MatchString(p.PartyID) {
		bad("party_id %q is not three characters", p.PartyID)
	}
	if len(t.ID) > 36 {
		bad("id %q is longer than 36 characters", t.ID)
	}
	o := OCPITariff{
		CountryCode: p.CountryCode, PartyID: p.PartyID, ID: t.ID, Currency: t.CurrencyCode(),
		MinPrice: t.MinPrice, MaxPrice: t.MaxPrice,
		LastUpdated: p.LastUpdated.UTC().Truncate(time.Second),
	}
	if !t.ValidFrom.IsZero() {
		v := t.ValidFrom.UTC().Truncate(time.Second)
		o.StartDateTime = &v
	}
	if t.ValidTo != nil {
		v := t.ValidTo.UTC().Truncate(time.Second)
		o.EndDateTime = &v
	}
	fourDecimals := func(field string, m Micros) {
		if m%100 != 0 {
			bad("%s %s has more than 4 decimals", field, m)
		}
	}
	for _, l := range []struct {
		name string
		p    *PriceLimit
	}{{"min_price", t.MinPrice}, {"max_price", t.MaxPrice}} {
		if l.p != nil {
			fourDecimals(l.name+".excl_vat", l.p.ExclVAT)
			if l.p.InclVAT != nil {
				fourDecimals(l.name+".incl_vat", *l.p.InclVAT)
			}
		}
	}
	if t.Free {
		o.Elements = []Element{{Components: []Component{{Type: Flat, Price: 0, StepSize: 1}}}}
	}
	for i, el := range t.Elements {
		out := Element{Restrictions: el.Restrictions}
		for j, c := range el.Components {
			fourDecimals(fmt.Sprintf("elements[%d].price_components[%d].price", i, j), c.Price)
			// OCPI requires step_size; 1 is the finest and what OCPI advises for
			// compatibility with 3.0, which drops it.
			c.StepSize = max(c.StepSize, 1)
			out.Components = append(out.Components, c)
		}
		o.Elements = append(o.Elements, out)
	}
	if err := errors.Join(errs...); err != nil {
		return OCPITariff{}, err
	}
	return o, nil
}
