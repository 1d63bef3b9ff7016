package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/simulator"
	"github.com/chargebook/chargebook/internal/station"
)

// TestMeteringSeriesAddUpToTransactions runs simulated stations for hours of simulated time:
// MeterValues every 30 s, a central system that puts them on billing-grade metering (the
// stations learn ClockAlignedDataInterval 900 through ChangeConfiguration and start sending
// clock-aligned registers), and one station that goes offline for half an hour and delivers
// its queued values late. The stored 15-minute series of every transaction must add up to
// exactly its energy, and the account's series to the sum of all of them.
func TestMeteringSeriesAddUpToTransactions(t *testing.T) {
	s := newSystem(t)
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()

	// Simulated time starts on a morning in the past and runs 600 times the wall clock:
	// 30 s samples every 50 ms, a quarter hour every 1.5 s.
	const speed = 600
	start := time.Now().UTC().Add(-48 * time.Hour).Truncate(24 * time.Hour).Add(6 * time.Hour)
	fleet := simulator.New(simulator.Config{
		Stations: 5, Prefix: "MTR-",
		Station: simulator.StationConfig{
			URL:            strings.TrimSuffix(s.stationURL("x"), "x"),
			SampleInterval: 30 * time.Second,
			Session:        50 * time.Minute,
			Idle:           7 * time.Minute,
			Clock:          simulator.ScaledClock(start, speed),
			ReconnectMin:   200 * time.Millisecond,
			ReconnectMax:   time.Second,
			Seed:           7,
		},
	})
	runDone := make(chan error, 1)
	go func() { runDone <- fleet.Run(ctx) }()
	for _, st := range fleet.Stations() {
		waitFor(t, st.ID()+" connected", func() bool { return s.endpoint.Connected(s.acct.ID, st.ID()) })
	}

	// Billing-grade metering: the stations start without clock-aligned data.
	for _, sim := range fleet.Stations() {
		if v, _ := sim.ConfigValue("ClockAlignedDataInterval"); v != "0" {
			t.Fatalf("%s starts with ClockAlignedDataInterval %q, want 0", sim.ID(), v)
		}
		st, err := s.store.StationByChargePointID(s.ctx, s.acct.ID, sim.ID())
		if err != nil {
			t.Fatal(err)
		}
		report, err := s.app.Metering.SetupBillingMetering(s.ctx, s.acct, st, "e2e")
		if err != nil {
			t.Fatalf("setup %s: %v", sim.ID(), err)
		}
		outcomes := map[string]string{}
		for _, k := range report.Keys {
			outcomes[k.Key] = k.Outcome
		}
		if outcomes["ClockAlignedDataInterval"] != "Accepted" || outcomes["MeterValuesAlignedData"] == "" {
			t.Errorf("%s setup outcomes %v, want ClockAlignedDataInterval Accepted", sim.ID(), outcomes)
		}
		if v, _ := sim.ConfigValue("ClockAlignedDataInterval"); v != "900" {
			t.Errorf("%s ClockAlignedDataInterval = %q after the setup, want 900", sim.ID(), v)
		}
		if v, _ := sim.ConfigValue("MeterValuesSampledData"); !strings.Contains(v, "Power.Active.Import") || !strings.Contains(v, "Energy.Active.Import.Register") {
			t.Errorf("%s MeterValuesSampledData = %q after the setup, want the register and power", sim.ID(), v)
		}
	}

	// Three simulated hours, with MTR-0002 offline for about half an hour in the middle.
	time.Sleep(3 * time.Second)
	offline := fleet.Stations()[1]
	if err := offline.Disconnect(); err != nil {
		t.Logf("disconnect: %v", err)
	}
	time.Sleep(3 * time.Second)
	time.Sleep(12 * time.Second) // it reconnects by itself and delivers its queue
	cancel()                     // stations stop their running transactions and hang up
	if err := <-runDone; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("fleet: %v", err)
	}

	// Let the series catch up with everything stored.
	for i := 0; ; i++ {
		n, err := s.app.Metering.RebuildPending(s.ctx)
		if err != nil {
			t.Fatalf("rebuild: %v", err)
		}
		if n == 0 {
			break
		}
		if i > 50 {
			t.Fatal("series never caught up")
		}
	}

	txs, err := s.store.Transactions(s.ctx, s.acct.ID, station.TransactionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) < 10 {
		t.Fatalf("only %d transactions in three simulated hours", len(txs))
	}
	var sumWh int64
	from, to := start.Truncate(metering.Quarter), time.Time{}
	measured, stopped := 0, 0
	for _, tx := range txs {
		if !tx.Stopped || tx.EnergyWh == nil {
			t.Errorf("transaction %d on %s: stopped %v, energy %v; the fleet stops every session", tx.ID, tx.ChargePointID, tx.Stopped, tx.EnergyWh)
			continue
		}
		if tx.StopReason == "DeAuthorized" {
			t.Errorf("transaction %d on %s was deauthorized; every driver may charge here", tx.ID, tx.ChargePointID)
		}
		stopped++
		sumWh += *tx.EnergyWh
		if tx.StoppedAt.After(to) {
			to = tx.StoppedAt
		}
		series, err := s.app.Metering.Series(s.ctx, s.acct, metering.SeriesFilter{
			From: tx.StartedAt.Truncate(metering.Quarter), To: tx.StoppedAt.Truncate(metering.Quarter).Add(metering.Quarter),
			TransactionID: tx.ID,
		}, metering.GroupTransaction)
		if err != nil {
			t.Fatalf("series of %d: %v", tx.ID, err)
		}
		if len(series) != 1 {
			t.Errorf("transaction %d: %d series, want 1", tx.ID, len(series))
			continue
		}
		if series[0].TotalWh != *tx.EnergyWh {
			t.Errorf("transaction %d on %s (%v..%v): intervals add up to %d Wh, the transaction has %d Wh",
				tx.ID, tx.ChargePointID, tx.StartedAt, tx.StoppedAt, series[0].TotalWh, *tx.EnergyWh)
		}
		for _, iv := range series[0].Intervals {
			switch {
			case iv.Quality == metering.Measured && iv.Sessions == 1:
				measured++
			case iv.Quality == metering.Estimated:
				t.Errorf("transaction %d: quarter hour %v estimated, with samples every 30 s", tx.ID, iv.Start)
			}
		}
	}
	if measured == 0 {
		t.Error("no quarter hour was measured, although the stations send clock-aligned registers")
	}

	// The account's series over the whole run adds up to all the transactions.
	all, err := s.app.Metering.Series(s.ctx, s.acct, metering.SeriesFilter{
		From: from, To: to.Truncate(metering.Quarter).Add(metering.Quarter),
	}, metering.GroupNone)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].TotalWh != sumWh || all[0].HTWh+all[0].NTWh != sumWh {
		var got []int64
		for _, a := range all {
			got = append(got, a.TotalWh, a.HTWh, a.NTWh)
		}
		t.Errorf("account series totals (total, HT, NT) %v, want %d Wh in all", got, sumWh)
	}
	t.Logf("%d transactions, %d Wh, %d measured quarter hours", stopped, sumWh, measured)
}

// TestMeteringSetupNeedsAConnectedStation: billing-grade setup of a station that is not
// connected says so rather than pretending.
func TestMeteringSetupNeedsAConnectedStation(t *testing.T) {
	s := newSystem(t)
	sim := simulator.NewStation(simulator.StationConfig{URL: strings.TrimSuffix(s.stationURL("x"), "x"), ID: "MTR-OFF"})
	if err := sim.Connect(s.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Boot(s.ctx); err != nil {
		t.Fatal(err)
	}
	if err := sim.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	waitFor(t, "MTR-OFF disconnected", func() bool { return !s.endpoint.Connected(s.acct.ID, "MTR-OFF") })
	st, err := s.store.StationByChargePointID(s.ctx, s.acct.ID, "MTR-OFF")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.app.Metering.SetupBillingMetering(s.ctx, s.acct, st, "e2e")
	if !errors.Is(err, operation.ErrNotConnected) {
		t.Errorf("setup of a disconnected station: %v, want a not-connected error", err)
	}
}
