package simulator

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/station"
)

func fastConfig(url string) StationConfig {
	return StationConfig{
		URL: url, SampleInterval: 50 * time.Millisecond, Session: 500 * time.Millisecond,
		Idle: 100 * time.Millisecond, PowerW: 360_000, // 100 Wh a second, so a session is worth counting
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 100 * time.Millisecond, Seed: 7,
	}
}

func TestFleetSessionsAreStored(t *testing.T) {
	h := newHarness(t)
	f := New(Config{Station: fastConfig(h.url), Stations: 5, Prefix: "SIM-", ConnectRate: 1000})
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	if err := f.Run(ctx); err != nil {
		t.Fatal(err)
	}
	n := checkStored(t, h, f.Stations())
	if n < 10 {
		t.Errorf("only %d transactions in the run", n)
	}
	st := f.Stats()
	if st.Failed != 0 || st.Sent-st.Acked > uint64(len(f.Stations())) || st.Transactions != uint64(n) {
		t.Errorf("stats %+v, %d transactions", st, n)
	}
	if f.Stations()[0].ID() != "SIM-0001" {
		t.Errorf("first id %q", f.Stations()[0].ID())
	}
	stations, err := h.store.Stations(context.Background(), h.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stations {
		if s.Boot.Vendor != "Chargebook" || s.LastBootAt.IsZero() {
			t.Errorf("station %s boot %+v", s.ChargePointID, s.Boot)
		}
	}
	t.Logf("%d transactions, %+v", n, st)
}

func TestDropMidTransactionLosesNothing(t *testing.T) {
	h := newHarness(t)
	cfg := fastConfig(h.url)
	cfg.ID, cfg.Session, cfg.Idle = "DROP-1", 1500*time.Millisecond, 50*time.Millisecond
	s := NewStation(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	waitFor(t, waitLong, "a transaction with meter values", func() bool {
		tx, ok := s.ActiveTransaction(1)
		return ok && tx.ID != 0 && tx.MeterValues >= 2
	})
	h.down.Store(true)
	h.cut(s.ID())
	waitFor(t, waitLong, "messages queued while offline", func() bool { return s.Stats().Queued >= 3 })
	h.down.Store(false)
	waitFor(t, waitLong, "the queue delivered after reconnecting", func() bool {
		st := s.Stats()
		return st.Connected == 1 && st.Queued == 0 && st.Reconnects >= 1
	})
	waitFor(t, waitLong, "the transaction stopped", func() bool {
		txs := s.Transactions()
		return len(txs) > 0 && txs[0].Delivered
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.Close()
	checkStored(t, h, []*Station{s})
}

// Everything a station does while offline, its start included, reaches the central system
// in order after reconnecting; the stop names the id given for the queued start.
func TestOfflineTransactionIsDeliveredInOrder(t *testing.T) {
	h := newHarness(t)
	clock := NewManualClock(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))
	s := NewStation(StationConfig{URL: h.url, ID: "OFF-1", Clock: clock, PowerW: 3600, Steady: true, StartRegisterWh: 1000})
	defer s.Close()
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Boot(ctx); err != nil || r.Status != ocpp.RegistrationStatusAccepted || r.Interval != 300 {
		t.Fatalf("boot: %+v, %v", r, err)
	}
	if err := s.SendStatus(ctx, 1, ocpp.ChargePointStatusAvailable); err != nil {
		t.Fatal(err)
	}
	if err := s.Disconnect(); err != nil {
		t.Fatal(err)
	}

	tx, err := s.StartTransaction(ctx, 1, "TAG1")
	if !errors.Is(err, ErrQueued) || tx.ID != 0 || tx.MeterStart != 1000 {
		t.Fatalf("start offline: %+v, %v", tx, err)
	}
	for range 3 {
		clock.Advance(10 * time.Minute)
		if err := s.SendMeterValues(ctx, 1); !errors.Is(err, ErrQueued) {
			t.Fatalf("meter values offline: %v", err)
		}
	}
	clock.Advance(10 * time.Minute)
	tx, err = s.StopTransaction(ctx, 1, ocpp.ReasonEVDisconnected)
	if !errors.Is(err, ErrQueued) || tx.MeterStop != 1000+2400 || tx.EnergyWh() != 2400 {
		t.Fatalf("stop offline: %+v, %v", tx, err)
	}
	if _, err := s.Heartbeat(ctx); !errors.Is(err, ErrOffline) {
		t.Fatalf("heartbeat offline: %v", err)
	}
	if q := s.Stats().Queued; q != 5 {
		t.Fatalf("%d queued", q)
	}

	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	tx = s.Transactions()[0]
	if tx.ID == 0 || !tx.Delivered || tx.MeterValues != 3 {
		t.Fatalf("after flush: %+v", tx)
	}
	checkStored(t, h, []*Station{s})
	stored, err := h.store.Transaction(ctx, h.account.ID, int64(tx.ID))
	if err != nil {
		t.Fatal(err)
	}
	if !stored.StartedAt.Equal(clock.Now().Add(-40*time.Minute)) || !stored.StoppedAt.Equal(clock.Now()) || *stored.EnergyWh != 2400 {
		t.Errorf("stored %+v", stored)
	}
	values, err := h.store.MeterValues(ctx, h.account.ID, station.MeterValueFilter{TransactionID: int64(tx.ID)})
	if err != nil {
		t.Fatal(err)
	}
	var registers []string
	for _, v := range values {
		if v.Measurand == string(ocpp.MeasurandEnergyActiveImportRegister) {
			registers = append(registers, v.RawValue+"@"+v.Context)
		}
	}
	want := []string{"1600@Sample.Periodic", "2200@Sample.Periodic", "2800@Sample.Periodic", "3400@Transaction.End"}
	if !slices.Equal(registers, want) {
		t.Errorf("registers %v, want %v", registers, want)
	}
}

// frameLog records the frames a station sends.
type frameLog struct {
	mu     sync.Mutex
	frames []sentFrame
}

type sentFrame struct {
	at   time.Time
	text string
}

func (l *frameLog) onFrame(dir rpc.Direction, frame []byte) {
	if dir != rpc.Sent {
		return
	}
	l.mu.Lock()
	l.frames = append(l.frames, sentFrame{time.Now(), string(frame)})
	l.mu.Unlock()
}

func (l *frameLog) find(text string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.frames {
		if strings.Contains(f.text, text) {
			return f.text
		}
	}
	return ""
}

func (l *frameLog) times(action string, after time.Time) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Time
	for _, f := range l.frames {
		if strings.Contains(f.text, `"`+action+`"`) && f.at.After(after) {
			out = append(out, f.at)
		}
	}
	return out
}

func TestCentralSystemCalls(t *testing.T) {
	h := newHarness(t)
	var log frameLog
	cfg := fastConfig(h.url)
	cfg.ID, cfg.Session, cfg.Idle, cfg.SampleInterval = "CALLS-1", time.Minute, 10*time.Millisecond, 100*time.Millisecond
	cfg.RPC.OnFrame = log.onFrame
	s := NewStation(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		s.Close()
	}()
	waitFor(t, waitLong, "a transaction", func() bool {
		tx, ok := s.ActiveTransaction(1)
		return ok && tx.ID != 0
	})
	call := func(t *testing.T, req any) any { t.Helper(); return h.call(t, s.ID(), req) }

	t.Run("GetConfiguration", func(t *testing.T) {
		r := call(t, &ocpp.GetConfigurationRequest{Key: []string{"MeterValueSampleInterval", "NumberOfConnectors", "NoSuchKey"}}).(*ocpp.GetConfigurationResponse)
		want := []ocpp.KeyValue{{Key: "MeterValueSampleInterval", Value: "1"}, {Key: "NumberOfConnectors", Readonly: true, Value: "1"}}
		if !slices.Equal(r.ConfigurationKey, want) || !slices.Equal(r.UnknownKey, []string{"NoSuchKey"}) {
			t.Errorf("got %+v", r)
		}
		all := call(t, &ocpp.GetConfigurationRequest{}).(*ocpp.GetConfigurationResponse)
		if len(all.ConfigurationKey) != len(keyDefs) {
			t.Errorf("%d keys", len(all.ConfigurationKey))
		}
	})
	t.Run("ChangeConfiguration", func(t *testing.T) {
		for _, c := range []struct{ key, value string }{
			{"MeterValueSampleInterval", "-1"}, {"MeterValueSampleInterval", "soon"},
			{"MeterValuesSampledData", "Energy.Active.Import.Register,Temperature"},
			{"AuthorizeRemoteTxRequests", "yes"}, {"NumberOfConnectors", "2"},
			{"SupportedFeatureProfiles", "Core"},
		} {
			r := call(t, &ocpp.ChangeConfigurationRequest{Key: c.key, Value: c.value}).(*ocpp.ChangeConfigurationResponse)
			if r.Status != ocpp.ConfigurationStatusRejected {
				t.Errorf("%s=%s: %s", c.key, c.value, r.Status)
			}
		}
		r := call(t, &ocpp.ChangeConfigurationRequest{Key: "NoSuchKey", Value: "1"}).(*ocpp.ChangeConfigurationResponse)
		if r.Status != ocpp.ConfigurationStatusNotSupported {
			t.Errorf("unknown key: %s", r.Status)
		}
	})
	t.Run("MeterValueSampleInterval", func(t *testing.T) {
		before := time.Now()
		time.Sleep(600 * time.Millisecond)
		fast := len(log.times("MeterValues", before))
		r := call(t, &ocpp.ChangeConfigurationRequest{Key: "MeterValueSampleInterval", Value: "1"}).(*ocpp.ChangeConfigurationResponse)
		if r.Status != ocpp.ConfigurationStatusAccepted {
			t.Fatalf("change: %s", r.Status)
		}
		changed := time.Now()
		time.Sleep(2200 * time.Millisecond)
		slow := log.times("MeterValues", changed)
		if fast < 4 || len(slow) < 1 || len(slow) > 3 {
			t.Errorf("%d MeterValues in 600ms at 100ms, %d in 2.2s at 1s", fast, len(slow))
		}
		for i := 1; i < len(slow); i++ {
			if d := slow[i].Sub(slow[i-1]); d < 900*time.Millisecond {
				t.Errorf("MeterValues %v apart after the change", d)
			}
		}
		if v, _ := s.ConfigValue("MeterValueSampleInterval"); v != "1" || s.SampleInterval() != time.Second {
			t.Errorf("interval %s, %v", v, s.SampleInterval())
		}
	})
	t.Run("TriggerMessage", func(t *testing.T) {
		before := time.Now()
		for _, m := range []ocpp.MessageTrigger{ocpp.MessageTriggerHeartbeat, ocpp.MessageTriggerMeterValues, ocpp.MessageTriggerStatusNotification} {
			r := call(t, &ocpp.TriggerMessageRequest{RequestedMessage: m}).(*ocpp.TriggerMessageResponse)
			if r.Status != ocpp.TriggerMessageStatusAccepted {
				t.Errorf("%s: %s", m, r.Status)
			}
		}
		r := call(t, &ocpp.TriggerMessageRequest{RequestedMessage: ocpp.MessageTriggerDiagnosticsStatusNotification}).(*ocpp.TriggerMessageResponse)
		if r.Status != ocpp.TriggerMessageStatusNotImplemented {
			t.Errorf("diagnostics: %s", r.Status)
		}
		waitFor(t, waitLong, "triggered messages", func() bool {
			return len(log.times("Heartbeat", before)) == 1 && len(log.times("StatusNotification", before)) >= 2 &&
				len(log.times("Trigger", before)) == 1
		})
	})
	t.Run("Unsupported", func(t *testing.T) {
		_, err := h.srv.Call(ctx, h.account.ID, s.ID(), &ocpp.GetLocalListVersionRequest{})
		var ce *rpc.CallError
		if !errors.As(err, &ce) || ce.Code != ocpp.NotSupported {
			t.Errorf("GetLocalListVersion: %v", err)
		}
		r := call(t, &ocpp.DataTransferRequest{VendorID: "com.example"}).(*ocpp.DataTransferResponse)
		if r.Status != ocpp.DataTransferStatusUnknownVendorId {
			t.Errorf("DataTransfer: %s", r.Status)
		}
	})
	t.Run("Reset", func(t *testing.T) {
		waitFor(t, waitLong, "a transaction", func() bool {
			tx, ok := s.ActiveTransaction(1)
			return ok && tx.ID != 0
		})
		tx, _ := s.ActiveTransaction(1)
		r := call(t, &ocpp.ResetRequest{Type: ocpp.ResetTypeSoft}).(*ocpp.ResetResponse)
		if r.Status != ocpp.ResetStatusAccepted {
			t.Fatalf("reset: %s", r.Status)
		}
		waitFor(t, waitLong, "the stop and a new boot", func() bool {
			return s.Transactions()[tx.Local-1].Delivered && s.Connected() && s.Stats().Connects >= 2 &&
				len(log.times("BootNotification", time.Time{})) >= 2
		})
		if got := s.Transactions()[tx.Local-1].StopReason; got != ocpp.ReasonSoftReset {
			t.Errorf("stop reason %s", got)
		}
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil
	checkStored(t, h, []*Station{s})
}

func TestClockAligned(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		now      string
		interval time.Duration
		want     string
	}{
		{"2025-03-01T10:07:00Z", 15 * time.Minute, "2025-03-01T10:15:00Z"},
		{"2025-03-01T10:15:00Z", 15 * time.Minute, "2025-03-01T10:30:00Z"},
		{"2025-03-01T23:50:00Z", 7 * time.Hour, "2025-03-02T00:00:00Z"},
		{"2025-03-01T12:00:00+02:00", time.Hour, "2025-03-01T11:00:00Z"},
	} {
		if got := nextAligned(at(c.now), c.interval); !got.Equal(at(c.want)) {
			t.Errorf("nextAligned(%s, %v) = %v, want %s", c.now, c.interval, got, c.want)
		}
	}
	if !nextAligned(time.Now(), 0).IsZero() {
		t.Error("interval 0 gives an instant")
	}
}

func TestClockAlignedMeterValues(t *testing.T) {
	h := newHarness(t)
	var log frameLog
	clock := NewManualClock(time.Date(2025, 3, 1, 10, 14, 0, 0, time.UTC))
	cfg := StationConfig{URL: h.url, ID: "ALIGN-1", Clock: clock, AlignedInterval: 15 * time.Minute,
		Session: 24 * time.Hour, Idle: time.Millisecond, SampleInterval: time.Hour}
	cfg.RPC.OnFrame = log.onFrame
	s := NewStation(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		s.Close()
	}()
	// The station's loops may not be waiting on the clock yet when it moves, so it moves in
	// small steps until what is awaited has happened.
	tick := func(step time.Duration, what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			clock.Advance(step)
			time.Sleep(time.Millisecond)
		}
	}
	tick(time.Millisecond, "a transaction", func() bool {
		tx, ok := s.ActiveTransaction(1)
		return ok && tx.ID != 0
	})
	if len(log.times("Sample.Clock", time.Time{})) != 0 {
		t.Fatal("clock-aligned values before 10:15")
	}
	end := time.Date(2025, 3, 1, 10, 16, 0, 0, time.UTC)
	tick(time.Second, "10:16", func() bool { return !clock.Now().Before(end) })
	waitFor(t, waitLong, "a clock-aligned MeterValues", func() bool {
		return len(log.times("Sample.Clock", time.Time{})) == 1
	})
	if f := log.find("Sample.Clock"); !strings.Contains(f, `"timestamp":"2025-03-01T10:15:0`) {
		t.Errorf("clock-aligned values at the wrong time: %s", f)
	}
	tx, _ := s.ActiveTransaction(1)
	if tx.MeterValues != 1 || tx.Samples != 1 {
		t.Errorf("aligned values on the transaction: %+v", tx)
	}
}

// The central system's commands, on a station driven step by step so that nothing else
// happens in between.
func TestRemoteControl(t *testing.T) {
	h := newHarness(t)
	var log frameLog
	cfg := StationConfig{URL: h.url, ID: "REMOTE-1", Connectors: 2}
	cfg.RPC.OnFrame = log.onFrame
	s := NewStation(cfg)
	defer s.Close()
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Boot(ctx); err != nil {
		t.Fatal(err)
	}
	call := func(t *testing.T, req any) any { t.Helper(); return h.call(t, s.ID(), req) }
	two := 2

	r := call(t, &ocpp.RemoteStartTransactionRequest{ConnectorID: &two, IdTag: "REMOTE"}).(*ocpp.RemoteStartTransactionResponse)
	if r.Status != ocpp.RemoteStartStopStatusAccepted {
		t.Fatalf("remote start: %s", r.Status)
	}
	waitFor(t, waitLong, "the remote start", func() bool {
		tx, ok := s.ActiveTransaction(2)
		return ok && tx.IdTag == "REMOTE" && tx.ID != 0
	})
	if r := call(t, &ocpp.RemoteStartTransactionRequest{ConnectorID: &two, IdTag: "OTHER"}).(*ocpp.RemoteStartTransactionResponse); r.Status != ocpp.RemoteStartStopStatusRejected {
		t.Errorf("remote start on a busy connector: %s", r.Status)
	}
	// Inoperative is scheduled for the end of the transaction.
	if r := call(t, &ocpp.ChangeAvailabilityRequest{ConnectorID: 2, Type: ocpp.AvailabilityTypeInoperative}).(*ocpp.ChangeAvailabilityResponse); r.Status != ocpp.AvailabilityStatusScheduled {
		t.Errorf("change availability: %s", r.Status)
	}
	tx, _ := s.ActiveTransaction(2)
	if r := call(t, &ocpp.RemoteStopTransactionRequest{TransactionID: tx.ID + 1000}).(*ocpp.RemoteStopTransactionResponse); r.Status != ocpp.RemoteStartStopStatusRejected {
		t.Errorf("remote stop of an unknown transaction: %s", r.Status)
	}
	if r := call(t, &ocpp.RemoteStopTransactionRequest{TransactionID: tx.ID}).(*ocpp.RemoteStopTransactionResponse); r.Status != ocpp.RemoteStartStopStatusAccepted {
		t.Fatalf("remote stop: %s", r.Status)
	}
	waitFor(t, waitLong, "the remote stop", func() bool {
		return s.Transactions()[0].Delivered && len(log.times("Unavailable", time.Time{})) == 1
	})
	if got := s.Transactions()[0].StopReason; got != ocpp.ReasonRemote {
		t.Errorf("stop reason %s", got)
	}
	if _, err := s.StartTransaction(ctx, 2, "TAG"); !errors.Is(err, ErrBusy) {
		t.Errorf("start on an inoperative connector: %v", err)
	}
	if r := call(t, &ocpp.ChangeAvailabilityRequest{ConnectorID: 2, Type: ocpp.AvailabilityTypeOperative}).(*ocpp.ChangeAvailabilityResponse); r.Status != ocpp.AvailabilityStatusAccepted {
		t.Errorf("change availability: %s", r.Status)
	}

	if _, err := s.StartTransaction(ctx, 1, "TAG"); err != nil {
		t.Fatal(err)
	}
	if r := call(t, &ocpp.UnlockConnectorRequest{ConnectorID: 1}).(*ocpp.UnlockConnectorResponse); r.Status != ocpp.UnlockStatusUnlocked {
		t.Errorf("unlock: %s", r.Status)
	}
	if r := call(t, &ocpp.UnlockConnectorRequest{ConnectorID: 3}).(*ocpp.UnlockConnectorResponse); r.Status != ocpp.UnlockStatusNotSupported {
		t.Errorf("unlock of no connector: %s", r.Status)
	}
	waitFor(t, waitLong, "the unlock", func() bool { return s.Transactions()[1].Delivered })
	if got := s.Transactions()[1].StopReason; got != ocpp.ReasonUnlockCommand {
		t.Errorf("stop reason %s", got)
	}

	if _, err := s.StartTransaction(ctx, 1, "TAG"); err != nil {
		t.Fatal(err)
	}
	if r := call(t, &ocpp.ResetRequest{Type: ocpp.ResetTypeHard}).(*ocpp.ResetResponse); r.Status != ocpp.ResetStatusAccepted {
		t.Errorf("reset: %s", r.Status)
	}
	waitFor(t, waitLong, "the reset", func() bool { return !s.Connected() && s.Transactions()[2].Delivered })
	if got := s.Transactions()[2].StopReason; got != ocpp.ReasonHardReset {
		t.Errorf("stop reason %s", got)
	}
	if s.Registration() != ocpp.RegistrationStatusAccepted {
		t.Errorf("registration %s", s.Registration())
	}
	checkStored(t, h, []*Station{s})
}
