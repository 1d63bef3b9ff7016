// Package billing is what chargebook charges for charging: an account's tariffs and their
// versions, the price plans that give a tariff to the public, to a user group or to one user
// (at one station or at all of them), and the cost of every session with its lines, computed
// live while the car charges and finally at the stop. Session costs now, invoices later.
//
// The price itself is package tariff's: a pure function of a tariff version and the
// session's meter timeline. This package decides which plans and versions may price a
// session (those that applied when it started, recorded then, so that a later change of a
// tariff or a plan never touches a session under way), builds the meter timeline from the
// records of package station (Timeline), and keeps tariffs, plans and costs through a Store.
//
// A transaction to which no plan applies is not priced: its record says so, with the reason,
// and carries no amounts. That includes every transaction of an account that has no price
// plans at all, which charges nothing through chargebook; its costs read "unpriced", not 0.00,
// so that nobody takes a missing price for free charging (free charging is a free tariff).
//
// It is not about who may charge (package access), nor how records are stored (package
// store), nor HTTP (package api).
package billing

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/tariff"
)

// DefaultVAT is the VAT rate a price component or idle fee gets when the operator names
// none: the Swiss standard rate. A component without VAT is written with a rate of 0.
const DefaultVAT = tariff.SwissVAT

// Errors a Store or the Service returns where a caller must decide.
var (
	ErrNotFound = errors.New("billing: not found")
	// ErrRetired is returned for a change to a tariff that has been retired.
	ErrRetired = errors.New("billing: tariff retired")
)

// FieldError is one problem with a request to change tariffs or plans. Field is the name of
// the property at fault as the REST API spells it ("rules.elements[0].price_components[1].price",
// "groupId").
type FieldError struct {
	Field   string
	Problem string
}

// Invalid is a request that was refused, with every problem found.
type Invalid []FieldError

func (v Invalid) Error() string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = f.Field + ": " + f.Problem
	}
	return "billing: " + strings.Join(parts, "; ")
}

// Tariff is a tariff of an account, with its versions.
//
// A version is never changed once stored: a change of prices is a new version valid from a
// later time, and a session is priced by the version in force when it started. A retired
// tariff prices no session that starts after its retirement, and gets no new version.
type Tariff struct {
	ID        int64
	AccountID int64
	Name      string
	Currency  string // the account's, ISO 4217
	CreatedAt time.Time
	RetiredAt time.Time // zero: in use
	Versions  []Version // oldest first
}

// Version is one version of a tariff.
type Version struct {
	TariffID int64
	Version  int // 1, 2, ...
	// ValidFrom is when the version takes effect for sessions that start; zero: always.
	ValidFrom time.Time
	CreatedAt time.Time
	// Rules are the prices, with ID (the tariff's id in decimal), Version, Currency and
	// ValidFrom filled in from the fields above.
	Rules tariff.Tariff
}

// Current is the version in force at t; false when none is (all start later).
func (t Tariff) Current(at time.Time) (Version, bool) {
	rules := make([]tariff.Tariff, len(t.Versions))
	for i, v := range t.Versions {
		rules[i] = v.Rules
	}
	r, ok := tariff.InForce(rules, at)
	if !ok {
		return Version{}, false
	}
	for _, v := range t.Versions {
		if v.Version == r.Version {
			return v, true
		}
	}
	return Version{}, false
}

// Retired reports whether the tariff was retired at or before t.
func (t Tariff) Retired(at time.Time) bool { return !t.RetiredAt.IsZero() && !at.Before(t.RetiredAt) }

// Plan gives a tariff to an audience: everyone (tariff.Public), the members of a user group
// (tariff.Group) or one user (tariff.User), at one station or at every station of the
// account, for sessions that start within its validity.
//
// Which plan prices a session is tariff.Choose's precedence: the user's own plan, else the
// cheapest of their groups' plans for this very session, else the public plan. A plan of a
// station replaces the account-wide plan of the same audience (and the same user or group)
// at that station.
type Plan struct {
	ID        int64
	AccountID int64
	TariffID  int64
	Audience  tariff.Audience
	UserID    int64 // for tariff.User
	GroupID   int64 // for tariff.Group
	// StationID is the station the plan is for; 0 for every station of the account.
	StationID     int64
	ChargePointID string // the station's, for display; "" for every station
	// ValidFrom (inclusive) and ValidTo (exclusive) bound the session starts the plan
	// prices; zero: unbounded.
	ValidFrom, ValidTo time.Time
	CreatedAt          time.Time
	// DeletedAt is when the plan was deleted; it prices no session that starts later.
	DeletedAt time.Time
}

// Deleted reports whether the plan was deleted at or before t.
func (p Plan) Deleted(at time.Time) bool { return !p.DeletedAt.IsZero() && !at.Before(p.DeletedAt) }

// Status is where a session's cost stands.
type Status string

const (
	// StatusOpen: the transaction is open; the plans that may price it are recorded, its
	// cost is not. Cost answers an estimate instead.
	StatusOpen Status = "open"
	// StatusEstimate: the cost of an open transaction so far, computed on request and not
	// stored.
	StatusEstimate Status = "estimate"
	// StatusFinal: the cost computed at the stop, stored with its lines.
	StatusFinal Status = "final"
	// StatusUnpriced: no cost; Reason says why (no plan applies, the meter readings cannot
	// be priced).
	StatusUnpriced Status = "unpriced"
)

// Candidate is a plan that may price a session, with the version of its tariff that was in
// force when the session started.
type Candidate struct {
	PlanID        int64
	TariffID      int64
	TariffVersion int
}

// SessionCost is the cost of one transaction: recorded at its start with the plans that may
// price it, completed at its stop with the cost.
type SessionCost struct {
	TransactionID int64
	AccountID     int64
	Status        Status
	Reason        string // for StatusUnpriced
	// UserID is the driver's user when the session started; 0 for none (a public driver),
	// and for every driver of an account that had no price plans then.
	UserID int64
	// Candidates are the plans that may price the session, recorded when it started: all of
	// one tier (the user's own, their groups', or the public ones), the cheapest of which
	// prices it.
	Candidates []Candidate
	// PlanID is the plan that priced the session (StatusEstimate and StatusFinal); the
	// tariff and its version are in Cost.
	PlanID int64
	Cost   tariff.Cost
	// RecordedAt is when the candidates were recorded; PricedAt when the cost was computed
	// (now, for an estimate), zero while open.
	RecordedAt time.Time
	PricedAt   time.Time
}

// Priced reports whether the record carries a cost.
func (c SessionCost) Priced() bool { return c.Status == StatusEstimate || c.Status == StatusFinal }

// Store keeps tariffs, plans and session costs. Every lookup is scoped to an account: a
// record of another account is ErrNotFound.
type Store interface {
	// CreateTariff stores a new tariff with its first version (t.Versions[0]) and returns
	// it with its id, the version numbered 1.
	CreateTariff(ctx context.Context, t Tariff) (Tariff, error)
	// AddTariffVersion stores v as the tariff's next version (numbered one above the last)
	// and renames the tariff unless name is empty. ErrRetired for a retired tariff.
	AddTariffVersion(ctx context.Context, accountID, tariffID int64, name string, v Version) (Tariff, error)
	// RetireTariff retires the tariff at `at`; retiring it again keeps the first time.
	RetireTariff(ctx context.Context, accountID, tariffID int64, at time.Time) (Tariff, error)
	Tariff(ctx context.Context, accountID, tariffID int64) (Tariff, error)
	// Tariffs returns the account's tariffs, retired ones included, by id.
	Tariffs(ctx context.Context, accountID int64) ([]Tariff, error)

	// CreatePlan stores a plan of the account; its tariff and station must be the account's
	// (ErrNotFound otherwise).
	CreatePlan(ctx context.Context, p Plan) (Plan, error)
	// DeletePlan marks the plan deleted at `at`; deleting it again keeps the first time.
	DeletePlan(ctx context.Context, accountID, planID int64, at time.Time) error
	// Plans returns the account's plans, deleted ones included, by id.
	Plans(ctx context.Context, accountID int64) ([]Plan, error)

	// RecordSessionCost stores the record of a transaction's start unless the transaction
	// has one already, and returns the record stored: the first one wins, so a retried
	// start keeps the plans of the first.
	RecordSessionCost(ctx context.Context, c SessionCost) (SessionCost, error)
	// SaveSessionCost replaces the status, reason, plan, cost and lines of a recorded
	// transaction (ErrNotFound if it has no record); its candidates stay.
	SaveSessionCost(ctx context.Context, c SessionCost) error
	SessionCost(ctx context.Context, accountID, transactionID int64) (SessionCost, error)
}

// Accounts gives the account a cost is computed for (its time zone); *store.Store
// implements it.
type Accounts interface {
	AccountByID(ctx context.Context, id int64) (account.Account, error)
}

// Stations reads the transactions and meter values costs are computed from; a station.Store
// does.
type Stations interface {
	Transaction(ctx context.Context, accountID, id int64) (station.Transaction, error)
	MeterValues(ctx context.Context, accountID int64, f station.MeterValueFilter) ([]station.MeterValue, error)
}

// Audiences says who a driver is, as far as prices are concerned, and which users and groups
// an account has.
type Audiences interface {
	// DriverOf is the user an idTag acts for and the user's groups, ids in decimal; the
	// zero Driver (a public driver) for a tag of no user.
	DriverOf(ctx context.Context, accountID int64, idTag string) (tariff.Driver, error)
	HasUser(ctx context.Context, accountID, userID int64) (bool, error)
	HasGroup(ctx context.Context, accountID, groupID int64) (bool, error)
}
