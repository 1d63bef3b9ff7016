package metering_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

// t0 is Monday 2 March 2026 09:00 UTC, 10:00 in Zurich (HT).
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func mins(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

// clock is a settable now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type env struct {
	t        testing.TB
	ctx      context.Context
	store    *store.Store
	clock    *clock
	stations *station.Service
	svc      *metering.Service
	acct     account.Account
	sess     *station.Session
}

// newEnv opens a store with an account and station CP-1, and a station service that tells
// a metering service of what it stores, as the server wires them.
func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "chargebook.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, ctx: ctx, store: st, clock: &clock{t: t0}}
	e.acct, _, err = st.CreateAccount(ctx, account.Account{Key: account.NewKey(), Name: "a", TimeZone: "Europe/Zurich",
		Currency: "CHF", StationValidation: account.Strict, CreatedAt: t0},
		account.Operator{Email: "a@example.com", PasswordHash: "h", Role: account.RoleOwner, CreatedAt: t0})
	e.must(err)
	cp, _, err := st.RegisterStation(ctx, e.acct.ID, "CP-1", station.Accepted, account.Strict, t0)
	e.must(err)
	e.sess = &station.Session{Account: e.acct, Station: cp}
	e.stations = station.NewService(st, station.TagAuthorizer{Store: st}, e.clock.now, nil)
	e.svc = e.newService(nil)
	return e
}

func (e *env) newService(ops metering.Operations) *metering.Service {
	svc := metering.NewService(metering.Deps{Store: e.store, Stations: e.store, Operations: ops, Now: e.clock.now})
	e.stations.SetMeterObserver(svc)
	e.stations.SetObserver(svc)
	return svc
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) handle(req any) any {
	e.t.Helper()
	action, _ := ocpp.ActionOf(req)
	resp, err := e.stations.Handle(e.ctx, e.sess, req, station.Source{Action: action, ReceivedAt: e.clock.now()})
	e.must(err)
	return resp
}

func (e *env) start(connector int, meterStart int, at time.Time) int {
	e.t.Helper()
	resp := e.handle(&ocpp.StartTransactionRequest{ConnectorID: connector, IdTag: "TAG", MeterStart: meterStart, Timestamp: ocpp.DateTime{Time: at}})
	return resp.(*ocpp.StartTransactionResponse).TransactionID
}

func (e *env) stop(tx, meterStop int, at time.Time) {
	e.t.Helper()
	e.handle(&ocpp.StopTransactionRequest{TransactionID: tx, MeterStop: meterStop, Timestamp: ocpp.DateTime{Time: at}})
}

// sample is one sampled value: measurand "" is the register in Wh.
type sample struct {
	measurand, phase, value, unit, context string
}

func (e *env) meterValues(connector, tx int, at time.Time, samples ...sample) {
	e.t.Helper()
	var svs []ocpp.SampledValue
	for _, s := range samples {
		svs = append(svs, ocpp.SampledValue{Value: s.value, Measurand: ocpp.Measurand(s.measurand), Phase: ocpp.Phase(s.phase),
			Unit: ocpp.UnitOfMeasure(s.unit), Context: ocpp.ReadingContext(s.context)})
	}
	req := &ocpp.MeterValuesRequest{ConnectorID: connector, MeterValue: []ocpp.MeterValue{{Timestamp: ocpp.DateTime{Time: at}, SampledValue: svs}}}
	if tx != 0 {
		req.TransactionID = &tx
	}
	e.handle(req)
}

func register(wh int64) sample { return sample{value: strconv.FormatInt(wh, 10)} }
func power(w int64) sample {
	return sample{measurand: "Power.Active.Import", value: strconv.FormatInt(w, 10), unit: "W"}
}

func (e *env) rebuild() int {
	e.t.Helper()
	n, err := e.svc.RebuildPending(e.ctx)
	e.must(err)
	return n
}

func (e *env) rows(tx int) []metering.SeriesRow {
	e.t.Helper()
	rows, err := e.store.Series(e.ctx, e.acct.ID, metering.SeriesFilter{From: mins(-60), To: mins(24 * 60), TransactionID: int64(tx)}, metering.GroupTransaction)
	e.must(err)
	return rows
}

func total(rows []metering.SeriesRow) int64 {
	var s int64
	for _, r := range rows {
		s += r.EnergyWh
	}
	return s
}

func TestStoredSeriesSumsToEnergy(t *testing.T) {
	e := newEnv(t)
	tx := e.start(1, 10_000, mins(5))
	for m := 10; m <= 75; m += 5 {
		e.meterValues(1, tx, mins(m), register(10_000+int64(m-5)*40))
	}
	e.stop(tx, 12_810, mins(77))
	if n := e.rebuild(); n != 1 {
		t.Fatalf("rebuilt %d transactions, want 1", n)
	}
	stored, err := e.store.Transaction(e.ctx, e.acct.ID, int64(tx))
	e.must(err)
	rows := e.rows(tx)
	if stored.EnergyWh == nil || total(rows) != *stored.EnergyWh || *stored.EnergyWh != 2810 {
		t.Fatalf("series sums to %d Wh, transaction has %v", total(rows), stored.EnergyWh)
	}
	if len(rows) != 6 || !rows[0].Start.Equal(mins(0)) || !rows[5].Start.Equal(mins(75)) {
		t.Errorf("rows %+v, want the quarter hours 09:00..10:15", rows)
	}
	// Nothing left to do: a second pass rebuilds nothing.
	if n := e.rebuild(); n != 0 {
		t.Errorf("second pass rebuilt %d", n)
	}
}

func TestLateMeterValuesChangeTheSeries(t *testing.T) {
	e := newEnv(t)
	tx := e.start(1, 0, mins(0))
	e.stop(tx, 3000, mins(60))
	e.rebuild()
	before := e.rows(tx)
	if total(before) != 3000 || len(before) != 4 || before[0].EnergyWh != 750 {
		t.Fatalf("series without readings %+v, want 750 Wh each quarter hour", before)
	}
	// The station was offline: its queued readings arrive after the stop, with older
	// timestamps. All of the energy was charged in the first quarter hour.
	e.clock.add(2 * time.Hour)
	e.meterValues(1, tx, mins(15), sample{value: "3000", context: "Sample.Clock"})
	e.meterValues(1, tx, mins(30), sample{value: "3000", context: "Sample.Clock"})
	if n := e.rebuild(); n != 1 {
		t.Fatalf("rebuilt %d, want 1", n)
	}
	after := e.rows(tx)
	want := []int64{3000, 0, 0, 0}
	for i, r := range after {
		if i >= len(want) || r.EnergyWh != want[i] {
			t.Fatalf("series after late readings %+v, want %v", after, want)
		}
	}
	// The same values again (a retry) mark it again; the rebuild gives the same rows.
	e.meterValues(1, tx, mins(15), sample{value: "3000", context: "Sample.Clock"})
	if n := e.rebuild(); n != 1 {
		t.Fatalf("rebuilt %d, want 1", n)
	}
	if again := e.rows(tx); !reflect.DeepEqual(again, after) {
		t.Errorf("rebuilt again %+v, want %+v", again, after)
	}
}

func TestRunRebuildsWhenKicked(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	tx := e.start(1, 0, mins(0))
	e.stop(tx, 1000, mins(30))
	deadline := time.Now().Add(5 * time.Second)
	for total(e.rows(tx)) != 1000 {
		if time.Now().After(deadline) {
			t.Fatalf("Run did not build the series: %+v", e.rows(tx))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLivePower(t *testing.T) {
	e := newEnv(t)
	updates, cancel := e.svc.Subscribe(e.acct.ID)
	defer cancel()
	tx := e.start(1, 10_000, mins(0))
	e.clock.set(mins(1))
	e.meterValues(1, tx, mins(1), register(10_100), power(7400))
	// Connector 2 sends only its register: the slope of the newest two 10 s apart.
	tx2 := e.start(2, 50_000, mins(0))
	e.meterValues(2, tx2, mins(0), register(50_000))
	e.meterValues(2, tx2, mins(1), register(50_185))

	got, err := e.svc.LivePower(e.ctx, e.acct, e.sess.Station.ID)
	e.must(err)
	want := []metering.Power{
		{StationID: e.sess.Station.ID, ChargePointID: "CP-1", ConnectorID: 1, TransactionID: int64(tx), PowerW: 7400, Source: "measured", SampledAt: mins(1)},
		{StationID: e.sess.Station.ID, ChargePointID: "CP-1", ConnectorID: 2, TransactionID: int64(tx2), PowerW: 11_100, Source: "register", SampledAt: mins(1)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("live power\n%+v, want\n%+v", got, want)
	}
	// Two updates so far: connector 1, then connector 2's slope (its first reading tells none).
	var seen []metering.Power
	for len(seen) < 2 {
		seen = append(seen, <-updates)
	}
	if seen[0].PowerW != 7400 || seen[1].PowerW != 11_100 {
		t.Errorf("updates %+v", seen)
	}

	// After more than 3 minutes without values, stale.
	e.clock.set(mins(4).Add(time.Second))
	got, err = e.svc.LivePower(e.ctx, e.acct, e.sess.Station.ID)
	e.must(err)
	if len(got) != 2 || !got[0].Stale || !got[1].Stale {
		t.Errorf("after 3 minutes: %+v, want stale", got)
	}

	// A stop publishes 0 for its connector.
	e.stop(tx, 10_500, mins(4))
	if p := <-updates; p.ConnectorID != 1 || p.PowerW != 0 || p.Source != metering.SourcePowerStopped {
		t.Errorf("update on stop %+v", p)
	}

	// After a restart, nothing in memory: the last 10 minutes are read from the store, with
	// the stop.
	e.clock.set(mins(5))
	restarted := e.newService(nil)
	got, err = restarted.LivePower(e.ctx, e.acct, e.sess.Station.ID)
	e.must(err)
	if len(got) != 2 || got[0].PowerW != 0 || got[0].Source != "stopped" || got[1].PowerW != 11_100 || !got[1].Stale {
		t.Errorf("after a restart: %+v", got)
	}

	// Another account's station is not found.
	other := e.acct
	other.ID++
	if _, err := e.svc.LivePower(e.ctx, other, e.sess.Station.ID); !errors.Is(err, station.ErrNotFound) {
		t.Errorf("another account's station: %v", err)
	}
}

func TestSeriesGrid(t *testing.T) {
	e := newEnv(t)
	// 09:00..09:30 UTC on Monday 2 March is 10:00..10:30 in Zurich: HT. 1000 Wh.
	tx := e.start(1, 0, mins(0))
	e.stop(tx, 1000, mins(30))
	// Sunday 1 March, 09:00 UTC: NT. 400 Wh on connector 2.
	tx2 := e.start(2, 0, mins(-24*60))
	e.stop(tx2, 400, mins(-24*60+15))
	e.rebuild()

	from, to := mins(-24*60), mins(60)
	got, err := e.svc.Series(e.ctx, e.acct, metering.SeriesFilter{From: from, To: to}, metering.GroupNone)
	e.must(err)
	if len(got) != 1 {
		t.Fatalf("%d groups, want 1", len(got))
	}
	s := got[0]
	if len(s.Intervals) != 25*4 || s.TotalWh != 1400 || s.HTWh != 1000 || s.NTWh != 400 {
		t.Fatalf("%d intervals, total %d, HT %d, NT %d", len(s.Intervals), s.TotalWh, s.HTWh, s.NTWh)
	}
	first, idle, last := s.Intervals[0], s.Intervals[1], s.Intervals[96]
	if first.EnergyWh != 400 || first.Sessions != 1 || first.HT || first.Quality == metering.Missing {
		t.Errorf("Sunday's quarter hour %+v", first)
	}
	if idle.EnergyWh != 0 || idle.Sessions != 0 || idle.Quality != metering.Missing {
		t.Errorf("an idle quarter hour %+v", idle)
	}
	if !last.Start.Equal(mins(0)) || last.EnergyWh != 500 || last.Sessions != 1 || !last.HT {
		t.Errorf("Monday's first quarter hour %+v", last)
	}

	byConnector, err := e.svc.Series(e.ctx, e.acct, metering.SeriesFilter{From: from, To: to}, metering.GroupConnector)
	e.must(err)
	if len(byConnector) != 2 || byConnector[0].TotalWh+byConnector[1].TotalWh != 1400 {
		t.Errorf("by connector: %d groups", len(byConnector))
	}
	// Nothing charged, no grouping: one series of zeros.
	empty, err := e.svc.Series(e.ctx, e.acct, metering.SeriesFilter{From: mins(24 * 60), To: mins(25 * 60)}, metering.GroupNone)
	e.must(err)
	if len(empty) != 1 || len(empty[0].Intervals) != 4 || empty[0].TotalWh != 0 {
		t.Errorf("an empty window: %+v", empty)
	}
}

func TestSeriesInvalid(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		f     metering.SeriesFilter
		by    metering.GroupBy
		field string
	}{
		{metering.SeriesFilter{To: mins(15)}, "", "from"},
		{metering.SeriesFilter{From: mins(1), To: mins(15)}, "", "from"},
		{metering.SeriesFilter{From: mins(0), To: mins(16)}, "", "to"},
		{metering.SeriesFilter{From: mins(15), To: mins(15)}, "", "to"},
		{metering.SeriesFilter{From: mins(0), To: mins(367 * 24 * 60)}, "", "to"},
		{metering.SeriesFilter{From: mins(0), To: mins(15), ConnectorID: 1}, "", "connectorId"},
		{metering.SeriesFilter{From: mins(0), To: mins(15)}, "week", "groupBy"},
	}
	for _, tt := range tests {
		_, err := e.svc.Series(e.ctx, e.acct, tt.f, tt.by)
		var bad metering.Invalid
		if !errors.As(err, &bad) || bad[0].Field != tt.field {
			t.Errorf("%+v by %q: %v, want Invalid naming %s", tt.f, tt.by, err, tt.field)
		}
	}
}

func TestCalendar(t *testing.T) {
	e := newEnv(t)
	cal, err := e.svc.Calendar(e.ctx, e.acct)
	e.must(err)
	if cal.Loc.String() != "Europe/Zurich" || len(cal.HT) != 6 {
		t.Fatalf("default calendar %+v, want SwissStandard in Zurich", cal)
	}
	h := time.Hour
	bad := []struct {
		windows []metering.Window
		field   string
	}{
		{[]metering.Window{{Day: 7, From: 0, To: h}}, "windows[0].day"},
		{[]metering.Window{{Day: 1, From: 10 * time.Minute, To: h}}, "windows[0].from"},
		{[]metering.Window{{Day: 1, From: h, To: h}}, "windows[0].to"},
		{[]metering.Window{{Day: 1, From: h, To: 25 * h}}, "windows[0].to"},
		{[]metering.Window{{Day: 1, From: 7 * h, To: 12 * h}, {Day: 1, From: 11 * h, To: 20 * h}}, "windows[1]"},
	}
	for _, tt := range bad {
		_, err := e.svc.SetCalendar(e.ctx, e.acct, tt.windows)
		var inv metering.Invalid
		if !errors.As(err, &inv) || inv[0].Field != tt.field {
			t.Errorf("%+v: %v, want Invalid naming %s", tt.windows, err, tt.field)
		}
	}
	// Weekdays 06:00-22:00 and Sunday none: stored sorted and read back.
	windows := []metering.Window{{Day: time.Friday, From: 6 * h, To: 22 * h}, {Day: time.Monday, From: 6 * h, To: 12 * h}, {Day: time.Monday, From: 12 * h, To: 24 * h}}
	_, err = e.svc.SetCalendar(e.ctx, e.acct, windows)
	e.must(err)
	cal, err = e.svc.Calendar(e.ctx, e.acct)
	e.must(err)
	want := []metering.Window{windows[1], windows[2], windows[0]}
	if !reflect.DeepEqual(cal.HT, want) {
		t.Errorf("stored calendar %+v, want %+v", cal.HT, want)
	}
}

func TestExternalSeries(t *testing.T) {
	e := newEnv(t)
	ivs := []metering.ExternalInterval{{Start: mins(15), EnergyWh: 200}, {Start: mins(0), EnergyWh: 100, Quality: metering.Estimated}}
	e.must(e.svc.ImportExternal(e.ctx, e.acct, "pv-roof_1", ivs))
	got, err := e.svc.ExternalSeries(e.ctx, e.acct, "pv-roof_1", mins(0), mins(60))
	e.must(err)
	want := []metering.ExternalInterval{{Start: mins(0), EnergyWh: 100, Quality: metering.Estimated}, {Start: mins(15), EnergyWh: 200, Quality: metering.Measured}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("external series %+v, want %+v", got, want)
	}
	bad := []struct {
		name  string
		ivs   []metering.ExternalInterval
		field string
	}{
		{"PV", ivs, "name"},
		{"", ivs, "name"},
		{"pv", []metering.ExternalInterval{{Start: mins(1), EnergyWh: 1}}, "intervals[0].start"},
		{"pv", []metering.ExternalInterval{{Start: mins(0), EnergyWh: -1}}, "intervals[0].energyWh"},
		{"pv", []metering.ExternalInterval{{Start: mins(0)}, {Start: mins(0)}}, "intervals[1].start"},
	}
	for _, tt := range bad {
		err := e.svc.ImportExternal(e.ctx, e.acct, tt.name, tt.ivs)
		var inv metering.Invalid
		if !errors.As(err, &inv) || inv[0].Field != tt.field {
			t.Errorf("%q %+v: %v, want Invalid naming %s", tt.name, tt.ivs, err, tt.field)
		}
	}
}

// TestRunEndsSubscriptions: when the server shuts the service down, streams of live values
// end instead of holding the HTTP server's shutdown until its timeout.
func TestRunEndsSubscriptions(t *testing.T) {
	e := newEnv(t)
	ch, unsubscribe := e.svc.Subscribe(e.acct.ID)
	defer unsubscribe() // after the service closed it: must not close twice
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.svc.Run(ctx) }()
	cancel()
	<-done
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("got a value, want the subscription closed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscription still open after Run returned")
	}
}
