// Package storetest is the behaviour every chargebook store must have, written as a test
// suite that each database adapter runs against its own database: the doc comments of
// account.Store and station.Store turned into tests.
//
// It is test code only; production code never imports it.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/station"
)

// Store is what the suite tests: both stores of chargebook in one.
type Store interface {
	account.Store
	station.Store
}

// Run runs the suite. open returns a new, empty store for one test and arranges for it to be
// closed when the test ends. The tests run in parallel, each on its own store.
//
// Stores keep times to the millisecond, so the suite uses whole milliseconds.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"Accounts", testAccounts},
		{"Stations", testStations},
		{"BootConnectionTouch", testBootConnectionTouch},
		{"Status", testStatus},
		{"Events", testEvents},
		{"IdTags", testIdTags},
		{"StartTransaction", testStartTransaction},
		{"StartTransactionConcurrentRetries", testStartConcurrentRetries},
		{"StopTransaction", testStopTransaction},
		{"StopRegisterReset", testStopRegisterReset},
		{"StopUnknownTransaction", testStopUnknown},
		{"CloseOpenTransactions", testCloseOpen},
		{"TransactionsOrderAndFilters", testTransactionsOrder},
		{"Operations", testOperations},
		{"AccountScoping", testAccountScoping},
		{"MeterValues", testMeterValues},
		{"ConcurrentWrites", testConcurrentWrites},
		{"Tokens", testTokens},
		{"Billing", testBilling},
		{"Access", testAccess},
		{"Series", testSeries},
		{"Portal", testPortal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// t0 is the suite's epoch: times are t0 plus minutes.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func newAccount(t *testing.T, s Store, email string) account.Account {
	t.Helper()
	a, _ := newAccountOperator(t, s, email)
	return a
}

func newAccountOperator(t *testing.T, s Store, email string) (account.Account, account.Operator) {
	t.Helper()
	a := account.Account{
		Key:               account.NewKey(),
		Name:              "Account of " + email,
		TimeZone:          account.DefaultTimeZone,
		Currency:          account.DefaultCurrency,
		HeartbeatInterval: account.DefaultHeartbeatInterval,
		StationValidation: account.Strict,
		CreatedAt:         at(0),
	}
	// Not a real bcrypt hash: hashing is slow and not what is tested.
	op := account.Operator{Email: email, PasswordHash: "hash-of-" + email, Role: account.RoleOwner, CreatedAt: at(0)}
	a, op, err := s.CreateAccount(context.Background(), a, op)
	must(t, err)
	return a, op
}

func newStation(t *testing.T, s Store, accountID int64, chargePointID string) station.Station {
	t.Helper()
	st, _, err := s.RegisterStation(context.Background(), accountID, chargePointID, station.Accepted, account.Strict, at(0))
	must(t, err)
	return st
}

// src is the Source of a message received at minute m.
func src(action string, m int) station.Source {
	id := fmt.Sprintf("%s-%d", action, m)
	return station.Source{
		Action:     action,
		MessageID:  id,
		Payload:    []byte(fmt.Sprintf(`[2,%q,%q,{"m":%d}]`, id, action, m)),
		ReceivedAt: at(m),
	}
}

// register is an energy register reading of wh Wh at minute m.
func register(stationID int64, connector int, transactionID int64, m int, wh int64) station.MeterValue {
	return station.MeterValue{
		StationID:     stationID,
		ConnectorID:   connector,
		TransactionID: transactionID,
		Timestamp:     at(m),
		Measurand:     "Energy.Active.Import.Register",
		Context:       "Sample.Periodic",
		Location:      "Outlet",
		Format:        "Raw",
		RawValue:      fmt.Sprint(wh),
		RawUnit:       "Wh",
		Unit:          "Wh",
		Milli:         ptr(wh * 1000),
	}
}

func start(accountID, stationID int64, connector int, idTag string, meterStart int64, m int) station.StartTx {
	return station.StartTx{
		AccountID:    accountID,
		StationID:    stationID,
		ConnectorID:  connector,
		IdTag:        idTag,
		MeterStartWh: meterStart,
		StartedAt:    at(m),
		Source:       src("StartTransaction", m),
	}
}

func stop(accountID, stationID, transactionID int64, meterStop int64, m int, data ...station.MeterValue) station.StopTx {
	return station.StopTx{
		AccountID:     accountID,
		StationID:     stationID,
		TransactionID: transactionID,
		IdTag:         "TAG",
		MeterStopWh:   meterStop,
		StoppedAt:     at(m),
		Reason:        "Local",
		Data:          data,
		Source:        src("StopTransaction", m),
	}
}

func mustStart(t *testing.T, s Store, st station.StartTx) station.Transaction {
	t.Helper()
	tx, retried, err := s.StartTransaction(context.Background(), st)
	must(t, err)
	if retried {
		t.Fatalf("start %+v: retried", st)
	}
	return tx
}

func mustStop(t *testing.T, s Store, sp station.StopTx) station.Transaction {
	t.Helper()
	tx, err := s.StopTransaction(context.Background(), sp)
	must(t, err)
	return tx
}

func eventKinds(t *testing.T, s Store, accountID, transactionID int64) []string {
	t.Helper()
	evs, err := s.TransactionEvents(context.Background(), accountID, transactionID)
	must(t, err)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

func ids(txs []station.Transaction) []int64 {
	out := []int64{}
	for _, tx := range txs {
		out = append(out, tx.ID)
	}
	return out
}

func testAccounts(t *testing.T, s Store) {
	ctx := context.Background()
	n, err := s.CountAccounts(ctx)
	must(t, err)
	equal(t, "count of a new store", n, 0)

	a, op := newAccountOperator(t, s, "owner@example.com")
	if a.ID == 0 || op.ID == 0 || op.AccountID != a.ID {
		t.Fatalf("ids: account %d, operator %d of account %d", a.ID, op.ID, op.AccountID)
	}
	got, err := s.AccountByKey(ctx, a.Key)
	must(t, err)
	equal(t, "by key", got, a)
	got, err = s.AccountByID(ctx, a.ID)
	must(t, err)
	equal(t, "by id", got, a)
	gotOp, err := s.OperatorByEmail(ctx, "owner@example.com")
	must(t, err)
	equal(t, "operator", gotOp, op)

	_, _, err = s.CreateAccount(ctx, account.Account{Key: account.NewKey(), Name: "x", CreatedAt: at(1)},
		account.Operator{Email: "owner@example.com", PasswordHash: "h", Role: account.RoleOwner, CreatedAt: at(1)})
	wantErr(t, err, account.ErrDuplicate, "second account with the same e-mail address")
	n, err = s.CountAccounts(ctx)
	must(t, err)
	equal(t, "count after a duplicate", n, 1)

	newAccount(t, s, "other@example.com")
	n, err = s.CountAccounts(ctx)
	must(t, err)
	equal(t, "count", n, 2)

	a.Name = "Renamed"
	a.TimeZone = "Europe/Berlin"
	a.Currency = "EUR"
	a.ApproveNewStations = true
	a.HeartbeatInterval = 90 * time.Second
	a.StationValidation = account.Lenient
	a.Key = account.NewKey()
	must(t, s.UpdateAccount(ctx, a))
	got, err = s.AccountByID(ctx, a.ID)
	must(t, err)
	equal(t, "updated", got, a)

	wantErr(t, s.UpdateAccount(ctx, account.Account{ID: a.ID + 1000, Key: account.NewKey()}), account.ErrNotFound, "update of an unknown account")
	_, err = s.AccountByKey(ctx, "no-such-key")
	wantErr(t, err, account.ErrNotFound, "unknown key")
	_, err = s.AccountByID(ctx, a.ID+1000)
	wantErr(t, err, account.ErrNotFound, "unknown id")
	_, err = s.OperatorByEmail(ctx, "nobody@example.com")
	wantErr(t, err, account.ErrNotFound, "unknown e-mail address")
}

func testStations(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	b := newAccount(t, s, "b@example.com")

	st, created, err := s.RegisterStation(ctx, a.ID, "CP-2", station.Pending, account.Lenient, at(1))
	must(t, err)
	if !created || st.ID == 0 {
		t.Fatalf("first registration: created %v, id %d", created, st.ID)
	}
	want := station.Station{ID: st.ID, AccountID: a.ID, ChargePointID: "CP-2", Registration: station.Pending,
		Validation: account.Lenient, CreatedAt: at(1)}
	equal(t, "registered", st, want)

	again, created, err := s.RegisterStation(ctx, a.ID, "CP-2", station.Accepted, account.Strict, at(2))
	must(t, err)
	if created {
		t.Error("second registration created a station")
	}
	equal(t, "second registration", again, want)

	other, created, err := s.RegisterStation(ctx, b.ID, "CP-2", station.Accepted, account.Strict, at(2))
	must(t, err)
	if !created || other.ID == st.ID {
		t.Errorf("same charge point id in another account: created %v, id %d (first %d)", created, other.ID, st.ID)
	}
	cp1 := newStation(t, s, a.ID, "CP-1")

	got, err := s.StationByChargePointID(ctx, a.ID, "CP-2")
	must(t, err)
	equal(t, "by charge point id", got, want)
	_, err = s.StationByChargePointID(ctx, b.ID, "CP-1")
	wantErr(t, err, station.ErrNotFound, "charge point id of another account")

	list, err := s.Stations(ctx, a.ID)
	must(t, err)
	equal(t, "stations by charge point id", []int64{list[0].ID, list[1].ID}, []int64{cp1.ID, st.ID})
	equal(t, "number of stations", len(list), 2)

	must(t, s.SetRegistration(ctx, a.ID, st.ID, station.Rejected))
	must(t, s.SetValidation(ctx, a.ID, st.ID, account.Strict))
	got, err = s.StationByChargePointID(ctx, a.ID, "CP-2")
	must(t, err)
	equal(t, "registration", got.Registration, station.Rejected)
	equal(t, "validation", got.Validation, account.Strict)

	wantErr(t, s.SetRegistration(ctx, b.ID, st.ID, station.Accepted), station.ErrNotFound, "registration through another account")
	wantErr(t, s.SetValidation(ctx, b.ID, st.ID, account.Lenient), station.ErrNotFound, "validation through another account")
	got, err = s.StationByChargePointID(ctx, a.ID, "CP-2")
	must(t, err)
	equal(t, "registration after another account tried", got.Registration, station.Rejected)

	_, _, err = s.RegisterStation(ctx, b.ID+1000, "CP-9", station.Accepted, account.Strict, at(3))
	if err == nil {
		t.Error("registered a station in an account that does not exist")
	}
}

func testBootConnectionTouch(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	st := newStation(t, s, a.ID, "CP-1")

	boot := station.BootInfo{Vendor: "V", Model: "M", ChargePointSerial: "CPS", ChargeBoxSerial: "CBS",
		FirmwareVersion: "1.2.3", ICCID: "IC", IMSI: "IM", MeterType: "MT", MeterSerial: "MS"}
	bootSrc := src("BootNotification", 5)
	must(t, s.RecordBoot(ctx, st.ID, boot, bootSrc))
	must(t, s.RecordConnection(ctx, st.ID, true, at(4), "from 192.0.2.1"))
	must(t, s.RecordConnection(ctx, st.ID, true, at(6), "reconnected"))
	must(t, s.TouchStation(ctx, st.ID, at(8)))
	must(t, s.TouchStation(ctx, st.ID, at(7)))

	got, err := s.StationByChargePointID(ctx, a.ID, "CP-1")
	must(t, err)
	equal(t, "boot info", got.Boot, boot)
	equal(t, "last boot", got.LastBootAt, at(5))
	equal(t, "connected", got.Connected, true)
	equal(t, "connection changed at the first connection", got.ConnectionChangedAt, at(4))
	equal(t, "last seen never goes back", got.LastSeenAt, at(8))

	must(t, s.RecordConnection(ctx, st.ID, false, at(9), "closed"))
	got, err = s.StationByChargePointID(ctx, a.ID, "CP-1")
	must(t, err)
	equal(t, "disconnected", got.Connected, false)
	equal(t, "connection changed at the disconnection", got.ConnectionChangedAt, at(9))

	evs, err := s.Events(ctx, st.ID, 0)
	must(t, err)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	equal(t, "events, newest first", kinds, []string{"Disconnected", "Connected", "BootNotification", "Connected"})
	equal(t, "boot event source", evs[2].Source, bootSrc)
	equal(t, "connection event note", evs[0].Note, "closed")
	equal(t, "connection event time", evs[0].Source.ReceivedAt, at(9))

	wantErr(t, s.RecordBoot(ctx, st.ID+1000, boot, bootSrc), station.ErrNotFound, "boot of an unknown station")
	wantErr(t, s.RecordConnection(ctx, st.ID+1000, true, at(1), ""), station.ErrNotFound, "connection of an unknown station")
	wantErr(t, s.TouchStation(ctx, st.ID+1000, at(1)), station.ErrNotFound, "touch of an unknown station")
}

func testStatus(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	st := newStation(t, s, a.ID, "CP-1")

	s1 := station.ConnectorStatus{StationID: st.ID, ConnectorID: 1, Status: "Available", ErrorCode: "NoError",
		Timestamp: at(1), ReceivedAt: at(1)}
	s2 := station.ConnectorStatus{StationID: st.ID, ConnectorID: 2, Status: "Faulted", ErrorCode: "GroundFailure",
		Info: "info", VendorID: "vendor", VendorErrorCode: "E42", ReceivedAt: at(2)} // no timestamp sent
	s3 := station.ConnectorStatus{StationID: st.ID, ConnectorID: 1, Status: "Preparing", ErrorCode: "NoError",
		Timestamp: at(3), ReceivedAt: at(3)}
	for i, cs := range []station.ConnectorStatus{s1, s2, s3} {
		must(t, s.RecordStatus(ctx, cs, src("StatusNotification", i+1)))
	}

	got, err := s.Connectors(ctx, st.ID)
	must(t, err)
	equal(t, "current status", got, []station.ConnectorStatus{s3, s2})
	hist, err := s.StatusHistory(ctx, st.ID, 0)
	must(t, err)
	equal(t, "history, newest first", hist, []station.ConnectorStatus{s3, s2, s1})
	hist, err = s.StatusHistory(ctx, st.ID, 2)
	must(t, err)
	equal(t, "history with limit", hist, []station.ConnectorStatus{s3, s2})

	other := newStation(t, s, a.ID, "CP-2")
	got, err = s.Connectors(ctx, other.ID)
	must(t, err)
	equal(t, "connectors of a station that sent no status", len(got), 0)
	wantErr(t, s.RecordStatus(ctx, station.ConnectorStatus{StationID: st.ID + 1000, ConnectorID: 1, Status: "Available"},
		src("StatusNotification", 9)), station.ErrNotFound, "status of an unknown station")
	_, err = s.Connectors(ctx, st.ID+1000)
	wantErr(t, err, station.ErrNotFound, "connectors of an unknown station")
	_, err = s.StatusHistory(ctx, st.ID+1000, 0)
	wantErr(t, err, station.ErrNotFound, "history of an unknown station")
}

func testEvents(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	other := newStation(t, s, a.ID, "CP-2")

	var want []station.Event
	for i, kind := range []string{"DataTransfer", "FirmwareStatusNotification", "ValidationWarning"} {
		e := station.Event{StationID: st.ID, Kind: kind, Source: src(kind, i+1), Note: "note " + kind}
		must(t, s.RecordEvent(ctx, e))
		want = append([]station.Event{e}, want...)
	}
	must(t, s.RecordEvent(ctx, station.Event{StationID: other.ID, Kind: "DataTransfer", Source: src("DataTransfer", 9)}))

	got, err := s.Events(ctx, st.ID, 0)
	must(t, err)
	for i := range got {
		if got[i].ID == 0 {
			t.Errorf("event %d has no id", i)
		}
		got[i].ID = 0
	}
	equal(t, "events, newest first", got, want)
	got, err = s.Events(ctx, st.ID, 1)
	must(t, err)
	equal(t, "events with limit", len(got), 1)
	equal(t, "newest event", got[0].Kind, "ValidationWarning")
	wantErr(t, s.RecordEvent(ctx, station.Event{StationID: st.ID + 1000, Kind: "DataTransfer"}), station.ErrNotFound, "event of an unknown station")
	_, err = s.Events(ctx, st.ID+1000, 0)
	wantErr(t, err, station.ErrNotFound, "events of an unknown station")
}

func testIdTags(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	b := newAccount(t, s, "b@example.com")

	tag, err := s.SeeIdTag(ctx, a.ID, "TAG1", at(1))
	must(t, err)
	equal(t, "first sight", tag, station.IdTag{AccountID: a.ID, IdTag: "TAG1", FirstSeenAt: at(1), LastSeenAt: at(1)})
	tag, err = s.SeeIdTag(ctx, a.ID, "TAG1", at(5))
	must(t, err)
	equal(t, "second sight", tag, station.IdTag{AccountID: a.ID, IdTag: "TAG1", FirstSeenAt: at(1), LastSeenAt: at(5)})

	must(t, s.SaveIdTag(ctx, station.IdTag{AccountID: a.ID, IdTag: "TAG1", ParentIdTag: "GROUP",
		ExpiresAt: at(1000), Blocked: true, Known: true}))
	saved := station.IdTag{AccountID: a.ID, IdTag: "TAG1", ParentIdTag: "GROUP", ExpiresAt: at(1000),
		Blocked: true, Known: true, FirstSeenAt: at(1), LastSeenAt: at(5)}
	tag, err = s.SeeIdTag(ctx, a.ID, "TAG1", at(6))
	must(t, err)
	saved.LastSeenAt = at(6)
	equal(t, "a registered tag seen again", tag, saved)

	must(t, s.SaveIdTag(ctx, station.IdTag{AccountID: a.ID, IdTag: "TAG0", Known: true}))
	_, err = s.SeeIdTag(ctx, b.ID, "TAG1", at(7))
	must(t, err)

	tags, err := s.IdTags(ctx, a.ID)
	must(t, err)
	equal(t, "tags of the account", tags, []station.IdTag{{AccountID: a.ID, IdTag: "TAG0", Known: true}, saved})
	tags, err = s.IdTags(ctx, b.ID)
	must(t, err)
	equal(t, "the same tag in another account is its own, unknown",
		tags, []station.IdTag{{AccountID: b.ID, IdTag: "TAG1", FirstSeenAt: at(7), LastSeenAt: at(7)}})
}

func testStartTransaction(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	st := newStation(t, s, a.ID, "CP-1")

	sa := start(a.ID, st.ID, 2, "TAG", 1000, 10)
	sa.ReservationID = ptr(7)
	tx := mustStart(t, s, sa)
	if tx.ID == 0 {
		t.Fatal("transaction has no id")
	}
	want := station.Transaction{ID: tx.ID, AccountID: a.ID, StationID: st.ID, ChargePointID: "CP-1",
		ConnectorID: 2, IdTag: "TAG", ReservationID: ptr(7), MeterStartWh: 1000, StartedAt: at(10),
		CreatedAt: at(10), UpdatedAt: at(10)}
	equal(t, "started", tx, want)

	retry := sa
	retry.Source = src("StartTransaction", 11)
	again, retried, err := s.StartTransaction(ctx, retry)
	must(t, err)
	if !retried {
		t.Error("identical start not seen as a retry")
	}
	equal(t, "retried start", again, want)

	later := start(a.ID, st.ID, 2, "TAG", 1000, 20)
	if other := mustStart(t, s, later); other.ID == tx.ID {
		t.Error("a start with another timestamp got the same transaction")
	}
	got, err := s.Transaction(ctx, a.ID, tx.ID)
	must(t, err)
	equal(t, "read back", got, want)

	evs, err := s.TransactionEvents(ctx, a.ID, tx.ID)
	must(t, err)
	if len(evs) != 2 {
		t.Fatalf("events: %+v", evs)
	}
	equal(t, "first event", []any{evs[0].Kind, evs[0].TransactionID, evs[0].Source}, []any{"Started", tx.ID, sa.Source})
	equal(t, "second event", []any{evs[1].Kind, evs[1].Source}, []any{"StartRetried", retry.Source})
}

func testStartConcurrentRetries(t *testing.T, s Store) {
	a := newAccount(t, s, "a@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	const n = 20
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		seen    = map[int64]int{}
		retries int
	)
	for range n {
		wg.Go(func() {
			tx, retried, err := s.StartTransaction(context.Background(), start(a.ID, st.ID, 1, "TAG", 5, 3))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen[tx.ID]++
			if retried {
				retries++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != 1 || retries != n-1 {
		t.Errorf("%d identical starts at once: transactions %v, %d retries", n, seen, retries)
	}
}

func testStopTransaction(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	tx := mustStart(t, s, start(a.ID, st.ID, 1, "TAG", 1000, 0))
	must(t, s.AddMeterValues(ctx, []station.MeterValue{
		register(st.ID, 1, tx.ID, 10, 1500),
		register(st.ID, 1, tx.ID, 20, 2000),
	}))

	end := register(0, 0, 0, 30, 2600)
	end.Context = "Transaction.End"
	sp := stop(a.ID, st.ID, tx.ID, 2600, 30, end)
	sp.IdTag = "OTHER"
	got := mustStop(t, s, sp)
	want := tx
	want.Stopped = true
	want.MeterStopWh = 2600
	want.StoppedAt = at(30)
	want.StopReason = "Local"
	want.StopIdTag = "OTHER"
	want.EnergyWh = ptr[int64](1600)
	want.UpdatedAt = at(30)
	equal(t, "stopped", got, want)
	read, err := s.Transaction(ctx, a.ID, tx.ID)
	must(t, err)
	equal(t, "read back", read, want)

	values, err := s.MeterValues(ctx, a.ID, station.MeterValueFilter{TransactionID: tx.ID})
	must(t, err)
	if len(values) != 3 {
		t.Fatalf("values of the transaction: %+v", values)
	}
	last := values[2]
	last.ID = 0
	end.StationID, end.ConnectorID, end.TransactionID = st.ID, 1, tx.ID
	equal(t, "transactionData stored with the transaction", last, end)

	// The reply was lost and the station sends the same stop again.
	retry := sp
	retry.Source = src("StopTransaction", 31)
	again := mustStop(t, s, retry)
	equal(t, "retried stop", again, want)
	values, err = s.MeterValues(ctx, a.ID, station.MeterValueFilter{TransactionID: tx.ID})
	must(t, err)
	equal(t, "values after a retried stop", len(values), 3)

	// A different second stop does not change a stopped transaction.
	odd := stop(a.ID, st.ID, tx.ID, 9999, 40)
	again = mustStop(t, s, odd)
	equal(t, "second, different stop", again, want)

	equal(t, "events", eventKinds(t, s, a.ID, tx.ID), []string{"Started", "Stopped", "StopRetried", "StopIgnored"})
	evs, err := s.TransactionEvents(ctx, a.ID, tx.ID)
	must(t, err)
	equal(t, "stop event source", evs[1].Source, sp.Source)
}

func testStopRegisterReset(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	st := newStation(t, s, a.ID, "CP-1")

	tests := []struct {
		name       string
		readings   []int64 // stored before the stop
		data       []int64 // in the stop's transactionData
		meterStop  int64
		wantEnergy *int64
	}{
		{"readings prove the energy", []int64{5200, 5800}, nil, 100, ptr[int64](800)},
		{"transactionData proves the energy", []int64{5100}, []int64{5300}, 100, ptr[int64](300)},
		{"no reading", nil, nil, 100, nil},
		{"readings below the start", []int64{4000}, nil, 100, nil},
	}
	for i, tc := range tests {
		tx := mustStart(t, s, start(a.ID, st.ID, 1, "TAG", 5000, i*100))
		var stored, data []station.MeterValue
		for j, wh := range tc.readings {
			stored = append(stored, register(st.ID, 1, tx.ID, i*100+j+1, wh))
		}
		for j, wh := range tc.data {
			data = append(data, register(0, 0, 0, i*100+50+j, wh))
		}
		must(t, s.AddMeterValues(ctx, stored))
		got := mustStop(t, s, stop(a.ID, st.ID, tx.ID, tc.meterStop, i*100+60, data...))
		equal(t, tc.name+": energy", got.EnergyWh, tc.wantEnergy)
		equal(t, tc.name+": flags", got.Flags, []station.Flag{station.FlagRegisterReset})
		equal(t, tc.name+": meterStop as sent", got.MeterStopWh, tc.meterStop)
	}
}

func testStopUnknown(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	known := mustStart(t, s, start(a.ID, st.ID, 1, "TAG", 0, 0))
	reported := known.ID + 777

	must(t, s.AddMeterValues(ctx, []station.MeterValue{
		register(st.ID, 3, reported, 11, 10500),
		register(st.ID, 3, reported, 10, 10000),
	}))
	sp := stop(a.ID, st.ID, reported, 11000, 30, register(0, 0, 0, 30, 11000))
	got := mustStop(t, s, sp)
	if got.ID == 0 || got.ID == known.ID {
		t.Fatalf("record of the unknown transaction has id %d", got.ID)
	}
	want := station.Transaction{ID: got.ID, AccountID: a.ID, StationID: st.ID, ChargePointID: "CP-1",
		ConnectorID: 3, IdTag: "TAG", MeterStartWh: 10000, StartedAt: at(10), Stopped: true,
		MeterStopWh: 11000, StoppedAt: at(30), StopReason: "Local", StopIdTag: "TAG",
		EnergyWh: ptr[int64](1000), Flags: []station.Flag{station.FlagUnknownStart},
		ReportedTransactionID: ptr(reported), CreatedAt: at(30), UpdatedAt: at(30)}
	equal(t, "created from the stop", got, want)

	values, err := s.MeterValues(ctx, a.ID, station.MeterValueFilter{TransactionID: got.ID})
	must(t, err)
	equal(t, "values naming the unknown transaction are its values", len(values), 3)

	again := mustStop(t, s, sp)
	equal(t, "repeated unknown stop", again.ID, got.ID)
	all, err := s.Transactions(ctx, a.ID, station.TransactionFilter{})
	must(t, err)
	equal(t, "transactions", len(all), 2)

	bare := mustStop(t, s, stop(a.ID, st.ID, reported+1, 500, 40))
	equal(t, "unknown stop without readings: energy", bare.EnergyWh, (*int64)(nil))
	equal(t, "unknown stop without readings: flags", bare.Flags, []station.Flag{station.FlagUnknownStart})
	equal(t, "unknown stop without readings: reported id", bare.ReportedTransactionID, ptr(reported+1))
	equal(t, "unknown stop without readings: started", bare.StartedAt, at(40))
	equal(t, "events", eventKinds(t, s, a.ID, got.ID), []string{"CreatedFromStop", "StopRetried"})
}

func testCloseOpen(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	other := newStation(t, s, a.ID, "CP-2")

	open := mustStart(t, s, start(a.ID, st.ID, 1, "TAG", 2000, 0))
	must(t, s.AddMeterValues(ctx, []station.MeterValue{
		register(st.ID, 1, open.ID, 10, 2200),
		register(st.ID, 1, open.ID, 20, 2400),
	}))
	bare := mustStart(t, s, start(a.ID, st.ID, 2, "TAG", 300, 5))
	done := mustStart(t, s, start(a.ID, st.ID, 3, "TAG", 0, 1))
	done = mustStop(t, s, stop(a.ID, st.ID, done.ID, 10, 2))
	after := mustStart(t, s, start(a.ID, st.ID, 4, "TAG", 0, 50))
	elsewhere := mustStart(t, s, start(a.ID, other.ID, 1, "TAG", 0, 1))
	// Station clocks are off; what counts is when the central system received the start.
	fast := start(a.ID, st.ID, 5, "TAG", 0, 100)
	fast.Source.ReceivedAt = at(6)
	fastTx := mustStart(t, s, fast)
	slow := start(a.ID, st.ID, 6, "TAG", 0, -100)
	slow.Source.ReceivedAt = at(41)
	slowTx := mustStart(t, s, slow)

	bootSrc := src("BootNotification", 45)
	closed, err := s.CloseOpenTransactions(ctx, st.ID, at(40), "PowerLoss", bootSrc)
	must(t, err)
	equal(t, "closed, by their own start", ids(closed), []int64{open.ID, bare.ID, fastTx.ID})

	want := open
	want.Stopped = true
	want.MeterStopWh = 2400
	want.StoppedAt = at(40)
	want.StopReason = "PowerLoss"
	want.EnergyWh = ptr[int64](400)
	want.Flags = []station.Flag{station.FlagClosedOnBoot}
	want.UpdatedAt = at(45)
	equal(t, "closed on the last reading", closed[0], want)
	got, err := s.Transaction(ctx, a.ID, open.ID)
	must(t, err)
	equal(t, "read back", got, want)

	wantBare := bare
	wantBare.Stopped = true
	wantBare.MeterStopWh = 300
	wantBare.StoppedAt = at(40)
	wantBare.StopReason = "PowerLoss"
	wantBare.Flags = []station.Flag{station.FlagClosedOnBoot}
	wantBare.UpdatedAt = at(45)
	equal(t, "closed without a reading", closed[1], wantBare)

	for _, tc := range []struct {
		name string
		want station.Transaction
	}{{"stopped before", done}, {"started after", after}, {"of another station", elsewhere}, {"received after", slowTx}} {
		got, err := s.Transaction(ctx, a.ID, tc.want.ID)
		must(t, err)
		equal(t, tc.name, got, tc.want)
	}
	evs, err := s.TransactionEvents(ctx, a.ID, open.ID)
	must(t, err)
	equal(t, "close event", []any{evs[1].Kind, evs[1].Note, evs[1].Source}, []any{"ClosedOnBoot", "PowerLoss", bootSrc})

	closed, err = s.CloseOpenTransactions(ctx, st.ID, at(40), "PowerLoss", bootSrc)
	must(t, err)
	equal(t, "closed twice", len(closed), 0)

	// The station's queued StopTransaction arrives after the boot.
	sp := stop(a.ID, st.ID, open.ID, 2500, 30)
	sp.Reason = "EVDisconnected"
	stopped := mustStop(t, s, sp)
	want.MeterStopWh = 2500
	want.StoppedAt = at(30)
	want.StopReason = "EVDisconnected"
	want.StopIdTag = "TAG"
	want.EnergyWh = ptr[int64](500)
	want.Flags = []station.Flag{station.FlagClosedOnBoot, station.FlagStoppedAfterClose}
	want.UpdatedAt = at(30)
	equal(t, "stop after the close", stopped, want)

	mustStop(t, s, sp)
	got, err = s.Transaction(ctx, a.ID, open.ID)
	must(t, err)
	equal(t, "stop after the close, repeated", got, want)
	equal(t, "events", eventKinds(t, s, a.ID, open.ID), []string{"Started", "ClosedOnBoot", "StoppedAfterClose", "StopRetried"})

	// A register reset estimated on boot is not kept once the real stop comes.
	third := newStation(t, s, a.ID, "CP-3")
	reset := mustStart(t, s, start(a.ID, third.ID, 1, "TAG", 9000, 100))
	must(t, s.AddMeterValues(ctx, []station.MeterValue{register(third.ID, 1, reset.ID, 101, 10)}))
	closed, err = s.CloseOpenTransactions(ctx, third.ID, at(110), "Reboot", src("BootNotification", 110))
	must(t, err)
	equal(t, "estimate over a reset", []any{ids(closed), closed[0].EnergyWh, closed[0].Flags},
		[]any{[]int64{reset.ID}, (*int64)(nil), []station.Flag{station.FlagRegisterReset, station.FlagClosedOnBoot}})
	got = mustStop(t, s, stop(a.ID, third.ID, reset.ID, 9100, 105))
	equal(t, "real stop over the estimate", []any{got.EnergyWh, got.Flags},
		[]any{ptr[int64](100), []station.Flag{station.FlagClosedOnBoot, station.FlagStoppedAfterClose}})
}

func testTransactionsOrder(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	st2 := newStation(t, s, a.ID, "CP-2")

	t1 := mustStart(t, s, start(a.ID, st.ID, 1, "ALICE", 0, 0))
	t2 := mustStart(t, s, start(a.ID, st.ID, 1, "BOB", 0, 120))
	// Sent late, from the station's queue: it started between the other two.
	t3 := mustStart(t, s, start(a.ID, st2.ID, 1, "ALICE", 0, 60))
	mustStop(t, s, stop(a.ID, st.ID, t1.ID, 10, 30))

	tests := []struct {
		name string
		f    station.TransactionFilter
		want []int64
	}{
		{"all, by their own start", station.TransactionFilter{}, []int64{t2.ID, t3.ID, t1.ID}},
		{"open", station.TransactionFilter{Open: ptr(true)}, []int64{t2.ID, t3.ID}},
		{"stopped", station.TransactionFilter{Open: ptr(false)}, []int64{t1.ID}},
		{"station", station.TransactionFilter{StationID: st2.ID}, []int64{t3.ID}},
		{"id tag", station.TransactionFilter{IdTag: "ALICE"}, []int64{t3.ID, t1.ID}},
		{"from", station.TransactionFilter{From: at(60)}, []int64{t2.ID, t3.ID}},
		{"to", station.TransactionFilter{To: at(60)}, []int64{t1.ID}},
		{"from and to", station.TransactionFilter{From: at(1), To: at(121)}, []int64{t2.ID, t3.ID}},
		{"limit", station.TransactionFilter{Limit: 2}, []int64{t2.ID, t3.ID}},
		{"everything", station.TransactionFilter{StationID: st.ID, IdTag: "BOB", Open: ptr(true), From: at(0), To: at(200), Limit: 5}, []int64{t2.ID}},
		{"nothing", station.TransactionFilter{IdTag: "CAROL"}, []int64{}},
	}
	for _, tc := range tests {
		got, err := s.Transactions(ctx, a.ID, tc.f)
		must(t, err)
		equal(t, tc.name, ids(got), tc.want)
	}
}

func testAccountScoping(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	b := newAccount(t, s, "b@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	newStation(t, s, b.ID, "CP-1")
	tx := mustStart(t, s, start(a.ID, st.ID, 1, "TAG", 0, 0))
	must(t, s.AddMeterValues(ctx, []station.MeterValue{register(st.ID, 1, tx.ID, 1, 5)}))

	_, err := s.Transaction(ctx, b.ID, tx.ID)
	wantErr(t, err, station.ErrNotFound, "transaction of another account")
	_, err = s.Transaction(ctx, a.ID, tx.ID+1000)
	wantErr(t, err, station.ErrNotFound, "unknown transaction")
	_, err = s.TransactionEvents(ctx, b.ID, tx.ID)
	wantErr(t, err, station.ErrNotFound, "events of a transaction of another account")
	_, err = s.TransactionEvents(ctx, a.ID, tx.ID+1000)
	wantErr(t, err, station.ErrNotFound, "events of an unknown transaction")
	_, err = s.MeterValues(ctx, b.ID, station.MeterValueFilter{StationID: st.ID})
	wantErr(t, err, station.ErrNotFound, "values of a station of another account")
	_, err = s.MeterValues(ctx, b.ID, station.MeterValueFilter{TransactionID: tx.ID})
	wantErr(t, err, station.ErrNotFound, "values of a transaction of another account")
	values, err := s.MeterValues(ctx, b.ID, station.MeterValueFilter{})
	must(t, err)
	equal(t, "values of the other account", len(values), 0)
	txs, err := s.Transactions(ctx, b.ID, station.TransactionFilter{})
	must(t, err)
	equal(t, "transactions of the other account", len(txs), 0)
	txs, err = s.Transactions(ctx, b.ID, station.TransactionFilter{StationID: st.ID})
	must(t, err)
	equal(t, "transactions of the other account's station", len(txs), 0)

	values, err = s.MeterValues(ctx, a.ID, station.MeterValueFilter{})
	must(t, err)
	equal(t, "values of the account", len(values), 1)
}

func testMeterValues(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	other := newStation(t, s, a.ID, "CP-2")
	tx := mustStart(t, s, start(a.ID, st.ID, 2, "TAG", 0, 0))

	power := station.MeterValue{StationID: st.ID, ConnectorID: 2, TransactionID: tx.ID, Timestamp: at(3),
		Measurand: "Power.Active.Import", Phase: "L1-N", Context: "Sample.Clock", Location: "Inlet",
		Format: "Raw", RawValue: "7.2", RawUnit: "kW", Unit: "W", Milli: ptr[int64](7200000)}
	signed := station.MeterValue{StationID: st.ID, ConnectorID: 2, TransactionID: tx.ID, Timestamp: at(1),
		Measurand: "Energy.Active.Import.Register", Context: "Transaction.Begin", Location: "Outlet",
		Format: "SignedData", RawValue: "AAECAw==", Unit: "Wh"}
	station0 := station.MeterValue{StationID: st.ID, ConnectorID: 0, Timestamp: at(2),
		Measurand: "Temperature", Context: "Sample.Periodic", Location: "Body", Format: "Raw",
		RawValue: "-5.5", RawUnit: "Celsius", Unit: "Celsius", Milli: ptr[int64](-5500)}
	elsewhere := register(other.ID, 1, 0, 2, 42)
	must(t, s.AddMeterValues(ctx, []station.MeterValue{power, signed}))
	must(t, s.AddMeterValues(ctx, []station.MeterValue{station0, elsewhere}))
	must(t, s.AddMeterValues(ctx, nil))

	// More values than one statement takes.
	var many []station.MeterValue
	for i := range 250 {
		many = append(many, register(other.ID, 1, 0, 100+i, int64(i)))
	}
	must(t, s.AddMeterValues(ctx, many))

	get := func(f station.MeterValueFilter) []station.MeterValue {
		t.Helper()
		got, err := s.MeterValues(ctx, a.ID, f)
		must(t, err)
		for i := range got {
			if got[i].ID == 0 {
				t.Errorf("value %d has no id", i)
			}
			got[i].ID = 0
		}
		return got
	}
	equal(t, "station, in timestamp order", get(station.MeterValueFilter{StationID: st.ID}),
		[]station.MeterValue{signed, station0, power})
	equal(t, "transaction", get(station.MeterValueFilter{TransactionID: tx.ID}), []station.MeterValue{signed, power})
	equal(t, "from and to", get(station.MeterValueFilter{StationID: st.ID, From: at(2), To: at(3)}),
		[]station.MeterValue{station0})
	equal(t, "limit", get(station.MeterValueFilter{StationID: st.ID, Limit: 1}), []station.MeterValue{signed})
	equal(t, "many", len(get(station.MeterValueFilter{StationID: other.ID})), 251)
	equal(t, "account", len(get(station.MeterValueFilter{})), 254)
}

func testConcurrentWrites(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tag := fmt.Sprintf("TAG%02d", i)
			tx, _, err := s.StartTransaction(ctx, start(a.ID, st.ID, 1, tag, 0, i))
			if err != nil {
				t.Error(err)
				return
			}
			values := make([]station.MeterValue, 4)
			for j := range values {
				values[j] = register(st.ID, 1, tx.ID, i, int64(j))
			}
			if err := s.AddMeterValues(ctx, values); err != nil {
				t.Error(err)
			}
			if err := s.RecordEvent(ctx, station.Event{StationID: st.ID, Kind: "DataTransfer", Source: src("DataTransfer", i)}); err != nil {
				t.Error(err)
			}
			if _, err := s.SeeIdTag(ctx, a.ID, tag, at(i)); err != nil {
				t.Error(err)
			}
			if err := s.TouchStation(ctx, st.ID, at(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	values, err := s.MeterValues(ctx, a.ID, station.MeterValueFilter{StationID: st.ID})
	must(t, err)
	equal(t, "values", len(values), 4*n)
	txs, err := s.Transactions(ctx, a.ID, station.TransactionFilter{})
	must(t, err)
	equal(t, "transactions", len(txs), n)
	evs, err := s.Events(ctx, st.ID, 0)
	must(t, err)
	equal(t, "events", len(evs), n)
	tags, err := s.IdTags(ctx, a.ID)
	must(t, err)
	equal(t, "id tags", len(tags), n)
	got, err := s.StationByChargePointID(ctx, a.ID, "CP-1")
	must(t, err)
	equal(t, "last seen", got.LastSeenAt, at(n-1))
}
