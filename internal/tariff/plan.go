package tariff

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Audience says whom a plan is for.
type Audience string

const (
	Public Audience = "PUBLIC" // every driver
	Group  Audience = "GROUP"  // the members of one user group
	User   Audience = "USER"   // one user (eCarUp's "special user")
)

// Plan gives a tariff, in versions, to an audience for a time: eCarUp's price plans and
// special-user prices. In OCPI terms each plan is a tariff of its own.
type Plan struct {
	ID       string   `json:"id"`
	Audience Audience `json:"audience"`
	// Subject is the user ID (USER) or group ID (GROUP); empty for PUBLIC.
	Subject string `json:"subject,omitempty"`
	// ValidFrom (inclusive) and ValidTo (exclusive) bound the session starts the plan
	// applies to; zero means unbounded.
	ValidFrom time.Time `json:"valid_from,omitzero"`
	ValidTo   time.Time `json:"valid_to,omitzero"`
	// Versions are the plan's tariff over time; InForce picks one.
	Versions []Tariff `json:"versions"`
}

// Driver is who started a session, as far as prices are concerned.
type Driver struct {
	UserID   string
	GroupIDs []string
}

// Candidate is a plan that may price a session, with its tariff version in force.
type Candidate struct {
	Plan   Plan
	Tariff Tariff
}

// Choice is the plan that prices a session, and the cost under it.
type Choice struct {
	Plan   Plan
	Tariff Tariff
	Cost   Cost
}

// ErrNoPlan is returned by Choose when no plan applies to the driver: the station is not
// open to them.
var ErrNoPlan = errors.New("tariff: no price plan applies")

// InForce returns the version of a tariff that prices a session started at `at`: of the
// versions valid then (ValidFrom ≤ at < ValidTo), the one that took effect last, and of
// those the highest Version. A change therefore applies to sessions that start after it,
// never to one under way.
func InForce(versions []Tariff, at time.Time) (Tariff, bool) {
	best := -1
	for i, v := range versions {
		if at.Before(v.ValidFrom) || (v.ValidTo != nil && !at.Before(*v.ValidTo)) {
			continue
		}
		if best < 0 || v.ValidFrom.After(versions[best].ValidFrom) ||
			(v.ValidFrom.Equal(versions[best].ValidFrom) && v.Version > versions[best].Version) {
			best = i
		}
	}
	if best < 0 {
		return Tariff{}, false
	}
	return versions[best], true
}

// Candidates returns the plans that may price a session started at `at` by driver d, with
// their versions in force, by eCarUp's precedence: the user's own plans if any applies,
// else the plans of the user's groups, else the public plans. A plan with no version in
// force at `at` does not apply.
func Candidates(plans []Plan, d Driver, at time.Time) []Candidate {
	var tiers [3][]Candidate // user, group, public
	for _, p := range plans {
		if at.Before(p.ValidFrom) || (!p.ValidTo.IsZero() && !at.Before(p.ValidTo)) {
			continue
		}
		tier := -1
		switch p.Audience {
		case User:
			if d.UserID != "" && p.Subject == d.UserID {
				tier = 0
			}
		case Group:
			if p.Subject != "" && slices.Contains(d.GroupIDs, p.Subject) {
				tier = 1
			}
		case Public:
			tier = 2
		}
		if tier < 0 {
			continue
		}
		if t, ok := InForce(p.Versions, at); ok {
			tiers[tier] = append(tiers[tier], Candidate{Plan: p, Tariff: t})
		}
	}
	for _, t := range tiers {
		if len(t) > 0 {
			return t
		}
	}
	return nil
}

// Choose returns the plan that prices session s for driver d, and its cost.
//
// An individual price beats group prices, and group prices beat the public price
// (Candidates). When several plans remain (a driver in two groups), the cheapest wins, and
// "cheapest" means the lowest payable amount for this very session, priced under each: a
// plan cheap per kWh but with a start fee loses on a short session and wins on a long one,
// as the driver would expect. On a tie the earlier plan in the list wins. The winner may
// change while a session goes on; the live cost shown is then still the lowest, and where
// the cost under every plan only grows (see Price), so does the lowest of them.
//
// A free plan (a Free tariff) costs 0 and so wins among its tier.
func Choose(plans []Plan, d Driver, s Session) (Choice, error) {
	cands := Candidates(plans, d, s.Start)
	if len(cands) == 0 {
		return Choice{}, ErrNoPlan
	}
	var best Choice
	for i, c := range cands {
		cost, err := Price(c.Tariff, s)
		if err != nil {
			return Choice{}, fmt.Errorf("tariff: plan %q: %w", c.Plan.ID, err)
		}
		if i == 0 {
			best = Choice{Plan: c.Plan, Tariff: c.Tariff, Cost: cost}
			continue
		}
		if cost.Currency != best.Cost.Currency {
			return Choice{}, fmt.Errorf("tariff: plans %q and %q: currencies %s and %s cannot be compared",
				best.Plan.ID, c.Plan.ID, best.Cost.Currency, cost.Currency)
		}
		if cost.Payable < best.Cost.Payable {
			best = Choice{Plan: c.Plan, Tariff: c.Tariff, Cost: cost}
		}
	}
	return best, nil
}
