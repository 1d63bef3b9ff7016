package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/tariff"
)

// AccessRules changes who may charge where and when; *authz.Service implements it.
type AccessRules interface {
	Users(ctx context.Context, accountID int64) ([]access.User, error)
	User(ctx context.Context, accountID, id int64) (access.User, error)
	CreateUser(ctx context.Context, accountID int64, u access.User) (access.User, error)
	UpdateUser(ctx context.Context, accountID int64, u access.User) error
	DeleteUser(ctx context.Context, accountID, id int64) error
	Groups(ctx context.Context, accountID int64) ([]authz.Group, error)
	Group(ctx context.Context, accountID, id int64) (authz.Group, error)
	CreateGroup(ctx context.Context, accountID int64, g authz.Group) (authz.Group, error)
	UpdateGroup(ctx context.Context, accountID int64, g authz.Group) error
	DeleteGroup(ctx context.Context, accountID, id int64) error
	TagUsers(ctx context.Context, accountID int64) (map[string]int64, error)
	SaveTag(ctx context.Context, tag station.IdTag, userID int64) error
	StationRule(ctx context.Context, accountID, stationID int64) (rule access.StationRule, ok bool, err error)
	SaveStationRule(ctx context.Context, accountID int64, r access.StationRule) error
	Location(ctx context.Context, accountID int64) (*time.Location, error)
}

// Billing keeps tariffs and price plans and prices sessions; *billing.Service implements it.
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

// Energy gives the 15-minute series and the HT/NT calendar; *metering.Service implements it.
type Energy interface {
	Series(ctx context.Context, acct account.Account, f metering.SeriesFilter, by metering.GroupBy) ([]metering.Series, error)
	Calendar(ctx context.Context, acct account.Account) (metering.Calendar, error)
	SetCalendar(ctx context.Context, acct account.Account, windows []metering.Window) (metering.Calendar, error)
	LivePower(ctx context.Context, acct account.Account, stationID int64) ([]metering.Power, error)
}

var (
	_ AccessRules = (*authz.Service)(nil)
	_ Billing     = (*billing.Service)(nil)
	_ Energy      = (*metering.Service)(nil)
)

// errUnavailable is the page of a server wired without the service a page needs.
var errUnavailable = HTTPError{http.StatusServiceUnavailable, "error.unavailable"}

func (p *Portal) rules() (AccessRules, error) {
	if p.deps.AccessRules == nil {
		return nil, errUnavailable
	}
	return p.deps.AccessRules, nil
}

func (p *Portal) billing() (Billing, error) {
	if p.deps.Billing == nil {
		return nil, errUnavailable
	}
	return p.deps.Billing, nil
}

func (p *Portal) energy() (Energy, error) {
	if p.deps.Energy == nil {
		return nil, errUnavailable
	}
	return p.deps.Energy, nil
}

// notFound turns the not-founds of the services into the 404 page.
func notFound(err error) error {
	if errors.Is(err, billing.ErrNotFound) || errors.Is(err, station.ErrNotFound) || errors.Is(err, account.ErrNotFound) {
		return ErrNotFound
	}
	return err
}
