package web

import (
	"context"
	"fmt"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/station"
)

// MeteringService is what Meters needs of package metering's service; *metering.Service
// implements it.
type MeteringService interface {
	LivePower(ctx context.Context, acct account.Account, stationID int64) ([]metering.Power, error)
	Series(ctx context.Context, acct account.Account, f metering.SeriesFilter, by metering.GroupBy) ([]metering.Series, error)
	SetupBillingMetering(ctx context.Context, acct account.Account, st station.Station, requestedBy string) (metering.SetupReport, error)
}

// Meters gives the stations pages their Metering and BillingMetering from the metering
// service: live power, the energy of today's stored series, and the billing-grade setup.
type Meters struct {
	Service MeteringService
	Store   Store
	Now     func() time.Time
}

var (
	_ Metering        = Meters{}
	_ BillingMetering = Meters{}
)

func (m Meters) lookup(ctx context.Context, accountID int64, chargePointID string) (account.Account, station.Station, error) {
	acct, err := m.Store.AccountByID(ctx, accountID)
	if err != nil {
		return account.Account{}, station.Station{}, fmt.Errorf("meters: account: %w", err)
	}
	st, err := m.Store.StationByChargePointID(ctx, accountID, chargePointID)
	if err != nil {
		return account.Account{}, station.Station{}, fmt.Errorf("meters: station: %w", err)
	}
	return acct, st, nil
}

// StationPower is the sum of the connectors' current power: 0 when none has reported any
// (nothing charges), unknown when every figure is stale, since a stale figure is not current.
func (m Meters) StationPower(ctx context.Context, accountID int64, chargePointID string) (float64, bool, error) {
	acct, st, err := m.lookup(ctx, accountID, chargePointID)
	if err != nil {
		return 0, false, err
	}
	ps, err := m.Service.LivePower(ctx, acct, st.ID)
	if err != nil {
		return 0, false, fmt.Errorf("meters: live power: %w", err)
	}
	var sum int64
	known := len(ps) == 0
	for _, p := range ps {
		if !p.Stale {
			sum += p.PowerW
			known = true
		}
	}
	return float64(sum), known, nil
}

// EnergyToday is the station's stored series since local midnight in the account's zone.
func (m Meters) EnergyToday(ctx context.Context, accountID int64, chargePointID string) (int64, bool, error) {
	acct, st, err := m.lookup(ctx, accountID, chargePointID)
	if err != nil {
		return 0, false, err
	}
	loc, err := time.LoadLocation(acct.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	now := m.Now().In(loc)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).UTC()
	to := now.UTC().Truncate(metering.Quarter).Add(metering.Quarter)
	series, err := m.Service.Series(ctx, acct, metering.SeriesFilter{From: from, To: to, StationID: st.ID}, metering.GroupNone)
	if err != nil {
		return 0, false, fmt.Errorf("meters: energy today: %w", err)
	}
	var wh int64
	for _, s := range series {
		wh += s.TotalWh
	}
	return wh, true, nil
}

// SetupBillingMetering runs the metering service's setup and reports each key with the
// value it has now and what the station answered.
func (m Meters) SetupBillingMetering(ctx context.Context, accountID int64, chargePointID, actor string) ([]KeyResult, error) {
	acct, st, err := m.lookup(ctx, accountID, chargePointID)
	if err != nil {
		return nil, err
	}
	report, err := m.Service.SetupBillingMetering(ctx, acct, st, actor)
	out := make([]KeyResult, 0, len(report.Keys))
	for _, k := range report.Keys {
		r := KeyResult{Key: k.Key, Value: k.Wanted, Status: k.Outcome}
		if k.Outcome == metering.OutcomeUnchanged || k.Outcome == metering.OutcomeReadOnly {
			r.Value = k.Before
		}
		if k.Error != "" {
			r.Status += ": " + k.Error
		}
		out = append(out, r)
	}
	return out, err
}
