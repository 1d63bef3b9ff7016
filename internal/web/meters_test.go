package web_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
	"github.com/chargebook/chargebook/internal/web"
)

// TestMeters: the stations pages' power and today's energy come from the metering service,
// on a real store with messages handled by the station service.
func TestMeters(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "chargebook.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// 14:00 in Zurich: the session below started today.
	now := time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	acct, _, err := st.CreateAccount(ctx, account.Account{Key: account.NewKey(), Name: "a", TimeZone: "Europe/Zurich", Currency: "CHF",
		HeartbeatInterval: time.Minute, StationValidation: account.Strict}, account.Operator{Email: "m@a.example", PasswordHash: passwordHash(), Role: account.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	cp, _, err := st.RegisterStation(ctx, acct.ID, "CP-1", station.Accepted, account.Strict, now)
	if err != nil {
		t.Fatal(err)
	}
	svc := station.NewService(st, station.TagAuthorizer{Store: st}, clock, quiet)
	meters := metering.NewService(metering.Deps{Store: st, Stations: st, Now: clock})
	svc.SetMeterObserver(meters)
	svc.SetObserver(meters)
	sess := &station.Session{Account: acct, Station: cp}
	handle := func(req any) any {
		action, _ := ocpp.ActionOf(req)
		resp, err := svc.Handle(ctx, sess, req, station.Source{Action: action, ReceivedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	start := now.Add(-30 * time.Minute)
	tx := handle(&ocpp.StartTransactionRequest{ConnectorID: 1, IdTag: "TAG", MeterStart: 100_000, Timestamp: ocpp.DateTime{Time: start}}).(*ocpp.StartTransactionResponse).TransactionID
	for m := 1; m <= 30; m++ {
		handle(&ocpp.MeterValuesRequest{ConnectorID: 1, TransactionID: &tx, MeterValue: []ocpp.MeterValue{{
			Timestamp: ocpp.DateTime{Time: start.Add(time.Duration(m) * time.Minute)},
			SampledValue: []ocpp.SampledValue{
				{Value: strconv.Itoa(100_000 + m*184)},
				{Value: "11040", Measurand: "Power.Active.Import", Unit: "W"},
			},
		}}})
	}
	if _, err := meters.RebuildPending(ctx); err != nil {
		t.Fatal(err)
	}

	m := web.Meters{Service: meters, Store: st, Now: clock}
	w, ok, err := m.StationPower(ctx, acct.ID, "CP-1")
	if err != nil || !ok || w != 11040 {
		t.Errorf("StationPower = %v, %v, %v; want 11040 W", w, ok, err)
	}
	wh, ok, err := m.EnergyToday(ctx, acct.ID, "CP-1")
	if err != nil || !ok || wh != 30*184 {
		t.Errorf("EnergyToday = %v, %v, %v; want %d Wh", wh, ok, err, 30*184)
	}
	// Ten minutes without a sample: the figure is stale, so not known.
	now = now.Add(10 * time.Minute)
	if w, ok, err := m.StationPower(ctx, acct.ID, "CP-1"); err != nil || ok {
		t.Errorf("StationPower ten minutes later = %v, %v, %v; want unknown", w, ok, err)
	}
	if _, _, err := m.StationPower(ctx, acct.ID+1, "CP-1"); err == nil {
		t.Error("StationPower of another account's station: no error")
	}
}
