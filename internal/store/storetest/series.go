package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/station"
)

// testSeries is the behaviour of metering.Store, for stores that implement it. Its parts run
// one after the other on the store of the test, each on accounts of its own; the marks are
// the store's, so each part that reads them clears them first.
func testSeries(t *testing.T, s Store) {
	ms, ok := s.(metering.Store)
	if !ok {
		t.Fatalf("%T does not implement metering.Store", s)
	}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s Store, ms metering.Store)
	}{
		{"Marks", testSeriesMarks},
		{"MarksOfUnknownStart", testSeriesMarksUnknownStart},
		{"MarksOrder", testSeriesMarksOrder},
		{"Generation", testSeriesGeneration},
		{"Input", testSeriesInput},
		{"InputOpen", testSeriesInputOpen},
		{"Replace", testSeriesReplace},
		{"Grouping", testSeriesGrouping},
		{"Calendar", testSeriesCalendar},
		{"External", testSeriesExternal},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, s, ms) })
	}
}

// q is the start of the suite's quarter hour n.
func q(n int) time.Time { return at(15 * n) }

// pending returns every mark, clearing none.
func pending(t *testing.T, ms metering.Store) []metering.Pending {
	t.Helper()
	ps, err := ms.PendingSeries(context.Background(), 1000)
	must(t, err)
	return ps
}

// drain clears every mark.
func drain(t *testing.T, ms metering.Store) {
	t.Helper()
	for _, p := range pending(t, ms) {
		must(t, ms.ClearPending(context.Background(), p))
	}
	equal(t, "marks after clearing them all", len(pending(t, ms)), 0)
}

// marked returns the generation of the mark of (station, transaction); 0 when unmarked.
func marked(t *testing.T, ms metering.Store, stationID, transactionID int64) int64 {
	t.Helper()
	for _, p := range pending(t, ms) {
		if p.StationID == stationID && p.TransactionID == transactionID {
			return p.Generation
		}
	}
	return 0
}

// phase is a per-phase energy register reading of milli thousandths of a Wh at minute m.
func phase(stationID int64, connector int, transactionID int64, m int, ph string, milli int64) station.MeterValue {
	v := register(stationID, connector, transactionID, m, 0)
	v.Phase, v.Milli, v.RawValue = ph, ptr(milli), ""
	return v
}

func testSeriesMarks(t *testing.T, s Store, ms metering.Store) {
	ctx := context.Background()
	drain(t, ms)
	a := newAccount(t, s, "marks@example.com")
	st := newStation(t, s, a.ID, "CP-1")

	tx := mustStart(t, s, start(a.ID, st.ID, 1, "TAG", 1000, 0))
	equal(t, "marked by the start", pending(t, ms), []metering.Pending{{StationID: st.ID, TransactionID: tx.ID, Generation: 1}})

	_, retried, err := s.StartTransaction(ctx, start(a.ID, st.ID, 1, "TAG", 1000, 0))
	must(t, err)
	equal(t, "retried start", retried, true)
	equal(t, "marked again by the retried start", marked(t, ms, st.ID, tx.ID), int64(2))

	must(t, s.AddMeterValues(ctx, []station.MeterValue{register(st.ID, 1, tx.ID, 5, 1100), register(st.ID, 1, tx.ID, 6, 1200)}))
	equal(t, "marked once by a message of two readings", marked(t, ms, st.ID, tx.ID), int64(3))

	soc := register(st.ID, 1, tx.ID, 7, 0)
	soc.Measurand, soc.Unit = "SoC", "Percent"
	must(t, s.AddMeterValues(ctx, []station.MeterValue{soc}))
	equal(t, "not marked by a value the series is not built from", marked(t, ms, st.ID, tx.ID), int64(3))

	drain(t, ms)
	// Clock-aligned readings without a transaction id: inside the span of the connector's
	// transaction, on another connector, before the start.
	must(t, s.AddMeterValues(ctx, []station.MeterValue{register(st.ID, 2, 0, 8, 50)}))
	must(t, s.AddMeterValues(ctx, []station.MeterValue{register(st.ID, 1, 0, -5, 900)}))
	equal(t, "marks by readings outside the span or on another connector", len(pending(t, ms)), 0)
	must(t, s.AddMeterValues(ctx, []station.MeterValue{phase(st.ID, 1, 0, 8, "L1", 400_000)}))
	equal(t, "marked by a phase reading without a transaction id in the open span", marked(t, ms, st.ID, tx.ID), int64(1))

	drain(t, ms)
	mustStop(t, s, stop(a.ID, st.ID, tx.ID, 2000, 30))
	equal(t, "marked by the stop", marked(t, ms, st.ID, tx.ID), int64(1))

	drain(t, ms)
	// A clock-aligned reading the station uploads late, inside the stopped span, and one
	// after it.
	must(t, s.AddMeterValues(ctx, []station.MeterValue{register(st.ID, 1, 0, 31, 2001)}))
	equal(t, "marks by a reading after the stop", len(pending(t, ms)), 0)
	must(t, s.AddMeterValues(ctx, []station.MeterValue{register(st.ID, 1, 0, 30, 2000)}))
	equal(t, "marked by a late reading inside the stopped span", pending(t, ms),
		[]metering.Pending{{StationID: st.ID, TransactionID: tx.ID, Generation: 1}})

	// Closed on boot, and the real stop that replaces the estimate.
	drain(t, ms)
	open := mustStart(t, s, start(a.ID, st.ID, 2, "TAG", 0, 40))
	drain(t, ms)
	closed, err := s.CloseOpenTransactions(ctx, st.ID, at(60), "Reboot", src("BootNotification", 60))
	must(t, err)
	equal(t, "closed", ids(closed), []int64{open.ID})
	equal(t, "marked by the close on boot", marked(t, ms, st.ID, open.ID), int64(1))
	drain(t, ms)
	mustStop(t, s, stop(a.ID, st.ID, open.ID, 100, 50))
	equal(t, "marked by the stop after the close", marked(t, ms, st.ID, open.ID), int64(1))
}

func testSeriesMarksUnknownStart(t *testing.T, s Store, ms metering.Store) {
	ctx := context.Background()
	drain(t, ms)
	a := newAccount(t, s, "unknown-start@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	known := mustStart(t, s, start(a.ID, st.ID, 1, "TAG", 0, 0))
	drain(t, ms)
	reported := known.ID + 500

	must(t, s.AddMeterValues(ctx, []station.MeterValue{register(st.ID, 1, reported, 10, 100), register(st.ID, 1, reported, 20, 300)}))
	equal(t, "values naming a transaction the store does not know", pending(t, ms),
		[]metering.Pending{{StationID: st.ID, TransactionID: reported, Generation: 1}})
	_, _, err := ms.SeriesInput(ctx, pending(t, ms)[0])
	wantErr(t, err, station.ErrNotFound, "series input of a transaction the store does not know")

	created := mustStop(t, s, stop(a.ID, st.ID, reported, 400, 30))
	ps := pending(t, ms)
	if len(ps) != 1 || ps[0].StationID != st.ID || ps[0].TransactionID != created.ID {
		t.Errorf("marks after the stop that creates transaction %d: %+v", created.ID, ps)
	}
	_, readings, err := ms.SeriesInput(ctx, metering.Pending{StationID: st.ID, TransactionID: created.ID})
	must(t, err)
	equal(t, "adopted readings", readings, []metering.Reading{
		{At: at(10), Wh: 100, Context: "Sample.Periodic"},
		{At: at(20), Wh: 300, Context: "Sample.Periodic"},
	})
}

func testSeriesMarksOrder(t *testing.T, s Store, ms metering.Store) {
	ctx := context.Background()
	drain(t, ms)
	a := newAccount(t, s, "order@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	first := mustStart(t, s, start(a.ID, st.ID, 1, "TAG", 0, 0))
	time.Sleep(3 * time.Millisecond) // marks are stamped to the millisecond
	second := mustStart(t, s, start(a.ID, st.ID, 2, "TAG", 0, 0))
	time.Sleep(3 * time.Millisecond)
	// Marked again, the first keeps its place: a transaction charging for hours must not
	// be pushed back by every MeterValues it sends.
	must(t, s.AddMeterValues(ctx, []station.MeterValue{register(st.ID, 1, first.ID, 5, 10)}))
	equal(t, "oldest first", pending(t, ms), []metering.Pending{
		{StationID: st.ID, TransactionID: first.ID, Generation: 2},
		{StationID: st.ID, TransactionID: second.ID, Generation: 1},
	})
	ps, err := ms.PendingSeries(ctx, 1)
	must(t, err)
	equal(t, "limit", ps, []metering.Pending{{StationID: st.ID, TransactionID: first.ID, Generation: 2}})

	must(t, ms.ClearPending(ctx, metering.Pending{StationID: st.ID, TransactionID: first.ID, Generation: 2}))
	time.Sleep(3 * time.Millisecond)
	must(t, s.AddMeterValues(ctx, []station.MeterValue{register(st.ID, 1, first.ID, 6, 20)}))
	equal(t, "a mark made after clearing is new", pending(t, ms), []metering.Pending{
		{StationID: st.ID, TransactionID: second.ID, Generation: 1},
		{StationID: st.ID, TransactionID: first.ID, Generation: 1},
	})
}

func testSeriesGeneration(t *testing.T, s Store, ms metering.Store) {
	ctx := context.Background()
	drain(t, ms)
	a := newAccount(t, s, "generation@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	tx := mustStart(t, s, start(a.ID, st.ID, 1, "TAG", 0, 0))
	p := pending(t, ms)[0]
	span, _, err := ms.SeriesInput(ctx, p)
	must(t, err)

	// Values arrive while the series is rebuilt from what was read before them.
	must(t, s.AddMeterValues(ctx, []station.MeterValue{register(st.ID, 1, tx.ID, 20, 500)}))
	must(t, ms.ReplaceSeries(ctx, p, span, []metering.Interval{{Start: q(0), EnergyWh: 1, Quality: metering.Measured}}))
	equal(t, "mark made during the rebuild", pending(t, ms),
		[]metering.Pending{{StationID: st.ID, TransactionID: tx.ID, Generation: p.Generation + 1}})
	must(t, ms.ClearPending(ctx, p))
	equal(t, "mark cleared with an old generation", len(pending(t, ms)), 1)

	p = pending(t, ms)[0]
	must(t, ms.ReplaceSeries(ctx, p, span, []metering.Interval{{Start: q(0), EnergyWh: 2, Quality: metering.Measured}}))
	equal(t, "marks after a rebuild of the current generation", len(pending(t, ms)), 0)
}

func testSeriesInput(t *testing.T, s Store, ms metering.Store) {
	ctx := context.Background()
	a := newAccount(t, s, "input@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	other := newStation(t, s, a.ID, "CP-2")
	tx := mustStart(t, s, start(a.ID, st.ID, 1, "TAG", 1000, 0))

	inlet := register(st.ID, 1, tx.ID, 20, 99_999)
	inlet.Location = "Inlet"
	power := register(st.ID, 1, tx.ID, 20, 7000)
	power.Measurand, power.Unit = "Power.Active.Import", "W"
	clock := register(st.ID, 1, 0, 15, 1500)
	clock.Context = metering.ContextClock
	kwh := register(st.ID, 1, tx.ID, 25, 0)
	kwh.RawValue, kwh.RawUnit, kwh.Milli = "1.7", "kWh", ptr[int64](1_700_000)
	must(t, s.AddMeterValues(ctx, []station.MeterValue{
		// A total and its phases: the total.
		register(st.ID, 1, tx.ID, 5, 1100),
		phase(st.ID, 1, tx.ID, 5, "L1", 400_000),
		phase(st.ID, 1, tx.ID, 5, "L2", 400_000),
		phase(st.ID, 1, tx.ID, 5, "L3", 400_000),
		// Phases only: their sum, rounded as a total is.
		phase(st.ID, 1, tx.ID, 10, "L1", 600_100),
		phase(st.ID, 1, tx.ID, 10, "L2", 400_200),
		phase(st.ID, 1, tx.ID, 10, "L3", 300_200),
		// Phase to neutral, and a neutral that is no share of the total.
		phase(st.ID, 1, tx.ID, 12, "L1-N", 700_000),
		phase(st.ID, 1, tx.ID, 12, "L2-N", 700_000),
		phase(st.ID, 1, tx.ID, 12, "N", 5_000_000),
		// An Inlet meter next to the Outlet one, and a power reading.
		register(st.ID, 1, tx.ID, 20, 1600), inlet, power,
		// Sent in kWh, normalised to Wh.
		kwh,
		// Without a transaction id on the connector: inside the span, before it, after it.
		clock,
		register(st.ID, 1, 0, -1, 999),
		register(st.ID, 1, 0, 31, 1801),
		// Another connector of the station, and another station naming the same id.
		register(st.ID, 2, 0, 16, 5555),
		register(other.ID, 1, tx.ID, 16, 6666),
	}))
	end := register(0, 0, 0, 30, 1800)
	end.Context = "Transaction.End"
	stopped := mustStop(t, s, stop(a.ID, st.ID, tx.ID, 1800, 30, end))

	span, readings, err := ms.SeriesInput(ctx, metering.Pending{StationID: st.ID, TransactionID: tx.ID, Generation: 7})
	must(t, err)
	equal(t, "span", span, metering.Span{TransactionID: tx.ID, AccountID: a.ID, StationID: st.ID, ConnectorID: 1,
		IdTag: "TAG", StartedAt: at(0), MeterStartWh: 1000, Stopped: true, StoppedAt: at(30), MeterStopWh: 1800,
		EnergyWh: ptr[int64](800)})
	equal(t, "energy as settled", span.EnergyWh, stopped.EnergyWh)
	equal(t, "readings", readings, []metering.Reading{
		{At: at(5), Wh: 1100, Context: "Sample.Periodic"},
		{At: at(10), Wh: 1301, Context: "Sample.Periodic"},
		{At: at(12), Wh: 1400, Context: "Sample.Periodic"},
		{At: at(15), Wh: 1500, Context: metering.ContextClock},
		{At: at(20), Wh: 1600, Context: "Sample.Periodic"},
		{At: at(25), Wh: 1700, Context: "Sample.Periodic"},
		{At: at(30), Wh: 1800, Context: "Transaction.End"},
	})

	for _, p := range []metering.Pending{
		{StationID: other.ID, TransactionID: tx.ID},
		{StationID: st.ID, TransactionID: tx.ID + 1000},
	} {
		_, _, err := ms.SeriesInput(ctx, p)
		wantErr(t, err, station.ErrNotFound, "series input of a transaction not of that station")
	}
}

func testSeriesInputOpen(t *testing.T, s Store, ms metering.Store) {
	ctx := context.Background()
	a := newAccount(t, s, "input-open@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	tx := mustStart(t, s, start(a.ID, st.ID, 2, "TAG", 100, 0))
	must(t, s.AddMeterValues(ctx, []station.MeterValue{
		register(st.ID, 2, 0, 0, 100),
		register(st.ID, 2, 0, 600, 5100),
		register(st.ID, 2, tx.ID, 601, 5110),
	}))
	span, readings, err := ms.SeriesInput(ctx, metering.Pending{StationID: st.ID, TransactionID: tx.ID})
	must(t, err)
	equal(t, "open span", []any{span.Stopped, span.StoppedAt, span.EnergyWh}, []any{false, time.Time{}, (*int64)(nil)})
	equal(t, "readings of an open transaction", readings, []metering.Reading{
		{At: at(0), Wh: 100, Context: "Sample.Periodic"},
		{At: at(600), Wh: 5100, Context: "Sample.Periodic"},
		{At: at(601), Wh: 5110, Context: "Sample.Periodic"},
	})
}

func testSeriesReplace(t *testing.T, s Store, ms metering.Store) {
	ctx := context.Background()
	a := newAccount(t, s, "replace@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	tx := mustStart(t, s, start(a.ID, st.ID, 1, "TAG", 0, 0))
	p := metering.Pending{StationID: st.ID, TransactionID: tx.ID}
	span, _, err := ms.SeriesInput(ctx, p)
	must(t, err)
	intervals := []metering.Interval{
		{Start: q(0), EnergyWh: 100, Quality: metering.Measured},
		{Start: q(1), EnergyWh: 0, Quality: metering.Missing},
		{Start: q(2), EnergyWh: 0, Quality: metering.Estimated},
		{Start: q(3), EnergyWh: 300, Quality: metering.Interpolated},
	}
	want := []metering.SeriesRow{
		{Key: metering.SeriesKey{TransactionID: tx.ID}, Interval: intervals[0], Sessions: 1},
		{Key: metering.SeriesKey{TransactionID: tx.ID}, Interval: intervals[2], Sessions: 1},
		{Key: metering.SeriesKey{TransactionID: tx.ID}, Interval: intervals[3], Sessions: 1},
	}
	series := func() []metering.SeriesRow {
		t.Helper()
		rows, err := ms.Series(ctx, a.ID, metering.SeriesFilter{}, metering.GroupTransaction)
		must(t, err)
		return rows
	}
	for i := range 2 {
		must(t, ms.ReplaceSeries(ctx, p, span, intervals))
		equal(t, "series after replacing it "+[]string{"once", "twice"}[i], series(), want)
	}
	must(t, ms.ReplaceSeries(ctx, p, span, intervals[3:]))
	equal(t, "series replaced by a shorter one", series(), want[2:])
	must(t, ms.ReplaceSeries(ctx, p, span, nil))
	equal(t, "series replaced by none", len(series()), 0)

	if err := ms.ReplaceSeries(ctx, metering.Pending{StationID: st.ID, TransactionID: tx.ID + 1}, span, intervals); err == nil {
		t.Errorf("replace with the span of another transaction: no error")
	}
}

func testSeriesGrouping(t *testing.T, s Store, ms metering.Store) {
	ctx := context.Background()
	us, ok := s.(userStore)
	if !ok {
		t.Fatalf("%T does not keep users", s)
	}
	a := newAccount(t, s, "grouping-a@example.com")
	b := newAccount(t, s, "grouping-b@example.com")
	cp1, cp2 := newStation(t, s, a.ID, "CP1"), newStation(t, s, a.ID, "CP2")
	foreign := newStation(t, s, b.ID, "CP1")
	ann, err := us.CreateAccessUser(ctx, a.ID, access.User{Name: "Ann"}, at(0))
	must(t, err)
	bob, err := us.CreateAccessUser(ctx, a.ID, access.User{Name: "Bob"}, at(0))
	must(t, err)
	must(t, us.SaveAccessTag(ctx, station.IdTag{AccountID: a.ID, IdTag: "ANN", Known: true}, ann.ID))
	must(t, us.SaveAccessTag(ctx, station.IdTag{AccountID: a.ID, IdTag: "ANN-KID", ParentIdTag: "ANN", Known: true}, 0))
	must(t, us.SaveAccessTag(ctx, station.IdTag{AccountID: a.ID, IdTag: "BOB", Known: true}, bob.ID))
	must(t, us.SaveAccessTag(ctx, station.IdTag{AccountID: a.ID, IdTag: "LONE", Known: true}, 0))
	must(t, us.SaveAccessTag(ctx, station.IdTag{AccountID: b.ID, IdTag: "ANN", Known: true}, 0))

	iv := func(n int, wh int64, quality metering.Quality) metering.Interval {
		return metering.Interval{Start: q(n), EnergyWh: wh, Quality: quality}
	}
	series := func(accountID int64, st station.Station, connector int, idTag string, ivs ...metering.Interval) int64 {
		t.Helper()
		tx := mustStart(t, s, start(accountID, st.ID, connector, idTag, 0, 0))
		p := metering.Pending{StationID: st.ID, TransactionID: tx.ID}
		span, _, err := ms.SeriesInput(ctx, p)
		must(t, err)
		must(t, ms.ReplaceSeries(ctx, p, span, ivs))
		return tx.ID
	}
	t1 := series(a.ID, cp1, 1, "ANN", iv(0, 100, metering.Measured), iv(1, 200, metering.Interpolated))
	t2 := series(a.ID, cp1, 2, "ann-kid", iv(0, 10, metering.Estimated), iv(1, 20, metering.Measured))
	t3 := series(a.ID, cp2, 1, "BOB", iv(1, 1000, metering.Measured))
	t4 := series(a.ID, cp2, 1, "LONE", iv(2, 5, metering.Measured))
	series(b.ID, foreign, 1, "ANN", iv(0, 7777, metering.Measured), iv(1, 7777, metering.Measured))

	row := func(k metering.SeriesKey, n int, wh int64, quality metering.Quality, sessions int) metering.SeriesRow {
		return metering.SeriesRow{Key: k, Interval: iv(n, wh, quality), Sessions: sessions}
	}
	none := metering.SeriesKey{}
	k1 := metering.SeriesKey{StationID: cp1.ID, ChargePointID: "CP1"}
	k2 := metering.SeriesKey{StationID: cp2.ID, ChargePointID: "CP2"}
	k11 := metering.SeriesKey{StationID: cp1.ID, ChargePointID: "CP1", ConnectorID: 1}
	k12 := metering.SeriesKey{StationID: cp1.ID, ChargePointID: "CP1", ConnectorID: 2}
	k21 := metering.SeriesKey{StationID: cp2.ID, ChargePointID: "CP2", ConnectorID: 1}
	kAnn := metering.SeriesKey{UserID: ann.ID, UserName: "Ann"}
	kBob := metering.SeriesKey{UserID: bob.ID, UserName: "Bob"}
	kLone := metering.SeriesKey{IdTag: "LONE"}
	kt := func(id int64) metering.SeriesKey { return metering.SeriesKey{TransactionID: id} }

	for _, tc := range []struct {
		name      string
		accountID int64
		f         metering.SeriesFilter
		by        metering.GroupBy
		want      []metering.SeriesRow
	}{
		{"everything", a.ID, metering.SeriesFilter{}, metering.GroupNone, []metering.SeriesRow{
			row(none, 0, 110, metering.Estimated, 2), row(none, 1, 1220, metering.Interpolated, 3), row(none, 2, 5, metering.Measured, 1)}},
		{"per station", a.ID, metering.SeriesFilter{}, metering.GroupStation, []metering.SeriesRow{
			row(k1, 0, 110, metering.Estimated, 2), row(k1, 1, 220, metering.Interpolated, 2),
			row(k2, 1, 1000, metering.Measured, 1), row(k2, 2, 5, metering.Measured, 1)}},
		{"per connector", a.ID, metering.SeriesFilter{}, metering.GroupConnector, []metering.SeriesRow{
			row(k11, 0, 100, metering.Measured, 1), row(k11, 1, 200, metering.Interpolated, 1),
			row(k12, 0, 10, metering.Estimated, 1), row(k12, 1, 20, metering.Measured, 1),
			row(k21, 1, 1000, metering.Measured, 1), row(k21, 2, 5, metering.Measured, 1)}},
		{"per user, a child tag for its parent's user, tags without one by idTag", a.ID, metering.SeriesFilter{}, metering.GroupUser, []metering.SeriesRow{
			row(kLone, 2, 5, metering.Measured, 1),
			row(kAnn, 0, 110, metering.Estimated, 2), row(kAnn, 1, 220, metering.Interpolated, 2),
			row(kBob, 1, 1000, metering.Measured, 1)}},
		{"per transaction", a.ID, metering.SeriesFilter{From: q(1), To: q(2)}, metering.GroupTransaction, []metering.SeriesRow{
			row(kt(t1), 1, 200, metering.Interpolated, 1), row(kt(t2), 1, 20, metering.Measured, 1), row(kt(t3), 1, 1000, metering.Measured, 1)}},
		{"from, to", a.ID, metering.SeriesFilter{From: q(1), To: q(2)}, metering.GroupNone, []metering.SeriesRow{
			row(none, 1, 1220, metering.Interpolated, 3)}},
		{"one connector", a.ID, metering.SeriesFilter{StationID: cp1.ID, ConnectorID: 2}, metering.GroupStation, []metering.SeriesRow{
			row(k1, 0, 10, metering.Estimated, 1), row(k1, 1, 20, metering.Measured, 1)}},
		{"one user's", a.ID, metering.SeriesFilter{UserID: ann.ID}, metering.GroupConnector, []metering.SeriesRow{
			row(k11, 0, 100, metering.Measured, 1), row(k11, 1, 200, metering.Interpolated, 1),
			row(k12, 0, 10, metering.Estimated, 1), row(k12, 1, 20, metering.Measured, 1)}},
		{"one idTag", a.ID, metering.SeriesFilter{IdTag: "BOB"}, metering.GroupNone, []metering.SeriesRow{
			row(none, 1, 1000, metering.Measured, 1)}},
		{"one transaction", a.ID, metering.SeriesFilter{TransactionID: t4}, metering.GroupUser, []metering.SeriesRow{
			row(kLone, 2, 5, metering.Measured, 1)}},
		{"the other account", b.ID, metering.SeriesFilter{}, metering.GroupStation, []metering.SeriesRow{
			row(metering.SeriesKey{StationID: foreign.ID, ChargePointID: "CP1"}, 0, 7777, metering.Measured, 1),
			row(metering.SeriesKey{StationID: foreign.ID, ChargePointID: "CP1"}, 1, 7777, metering.Measured, 1)}},
		{"the other account's user, and its tag of the same name", b.ID, metering.SeriesFilter{UserID: ann.ID}, metering.GroupNone, nil},
		{"another account's station", b.ID, metering.SeriesFilter{StationID: cp1.ID}, metering.GroupNone, nil},
		{"another account's transaction", b.ID, metering.SeriesFilter{TransactionID: t1}, metering.GroupNone, nil},
	} {
		got, err := ms.Series(ctx, tc.accountID, tc.f, tc.by)
		must(t, err)
		equal(t, tc.name, got, tc.want)
	}
	if _, err := ms.Series(ctx, a.ID, metering.SeriesFilter{}, "colour"); err == nil {
		t.Errorf("series by an unknown grouping: no error")
	}
}

func testSeriesCalendar(t *testing.T, s Store, ms metering.Store) {
	ctx := context.Background()
	a := newAccount(t, s, "calendar-a@example.com")
	b := newAccount(t, s, "calendar-b@example.com")
	calendar := func(accountID int64) ([]metering.Window, bool) {
		t.Helper()
		ws, ok, err := ms.Calendar(ctx, accountID)
		must(t, err)
		return ws, ok
	}
	_, ok := calendar(a.ID)
	equal(t, "calendar never set", ok, false)

	windows := append(metering.SwissStandard(nil).HT,
		metering.Window{Day: time.Sunday, From: 22*time.Hour + 30*time.Minute + 15*time.Second, To: 24 * time.Hour},
		metering.Window{Day: time.Sunday, From: 0, To: 45 * time.Minute})
	must(t, ms.SetCalendar(ctx, a.ID, windows, at(1)))
	got, ok := calendar(a.ID)
	equal(t, "calendar set", []any{got, ok}, []any{windows, true})
	_, ok = calendar(b.ID)
	equal(t, "another account's calendar", ok, false)

	must(t, ms.SetCalendar(ctx, a.ID, nil, at(2)))
	got, ok = calendar(a.ID)
	equal(t, "calendar without windows (all NT)", []any{len(got), ok}, []any{0, true})

	for _, w := range []metering.Window{
		{Day: time.Monday, From: 0, To: 25 * time.Hour},
		{Day: time.Monday, From: time.Millisecond, To: time.Hour},
		{Day: 7, From: 0, To: time.Hour},
	} {
		if err := ms.SetCalendar(ctx, a.ID, []metering.Window{w}, at(3)); err == nil {
			t.Errorf("calendar window %+v: no error", w)
		}
	}
	got, ok = calendar(a.ID)
	equal(t, "calendar after refused windows", []any{len(got), ok}, []any{0, true})
}

func testSeriesExternal(t *testing.T, s Store, ms metering.Store) {
	ctx := context.Background()
	a := newAccount(t, s, "external-a@example.com")
	b := newAccount(t, s, "external-b@example.com")
	e := func(n int, wh int64, quality metering.Quality) metering.ExternalInterval {
		return metering.ExternalInterval{Start: q(n), EnergyWh: wh, Quality: quality}
	}
	must(t, ms.ImportExternal(ctx, a.ID, "pv", []metering.ExternalInterval{
		e(2, 30, metering.Measured), e(0, 10, metering.Measured), e(1, 20, metering.Estimated)}, at(1)))
	must(t, ms.ImportExternal(ctx, a.ID, "grid", []metering.ExternalInterval{e(0, 5, metering.Measured)}, at(1)))
	// Again, with one quarter hour corrected (twice: the later counts) and one more.
	must(t, ms.ImportExternal(ctx, a.ID, "pv", []metering.ExternalInterval{
		e(1, 21, metering.Interpolated), e(3, 40, metering.Measured), e(1, 22, metering.Measured)}, at(2)))
	must(t, ms.ImportExternal(ctx, b.ID, "pv", []metering.ExternalInterval{e(0, 999, metering.Measured)}, at(1)))

	series := func(accountID int64, name string, from, to time.Time) []metering.ExternalInterval {
		t.Helper()
		got, err := ms.ExternalSeries(ctx, accountID, name, from, to)
		must(t, err)
		return got
	}
	equal(t, "pv", series(a.ID, "pv", time.Time{}, time.Time{}), []metering.ExternalInterval{
		e(0, 10, metering.Measured), e(1, 22, metering.Measured), e(2, 30, metering.Measured), e(3, 40, metering.Measured)})
	equal(t, "pv from, to", series(a.ID, "pv", q(1), q(3)), []metering.ExternalInterval{
		e(1, 22, metering.Measured), e(2, 30, metering.Measured)})
	equal(t, "grid", series(a.ID, "grid", time.Time{}, time.Time{}), []metering.ExternalInterval{e(0, 5, metering.Measured)})
	equal(t, "another account's pv", series(b.ID, "pv", time.Time{}, time.Time{}), []metering.ExternalInterval{e(0, 999, metering.Measured)})
	equal(t, "a series never imported", len(series(a.ID, "wind", time.Time{}, time.Time{})), 0)

	names, err := ms.ExternalSeriesNames(ctx, a.ID)
	must(t, err)
	equal(t, "names", names, []string{"grid", "pv"})
	names, err = ms.ExternalSeriesNames(ctx, b.ID)
	must(t, err)
	equal(t, "names of the other account", names, []string{"pv"})
}
