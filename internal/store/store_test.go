package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
	"github.com/chargebook/chargebook/internal/store/storetest"
)

func openSQLite(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "chargebook.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return openSQLite(t) })
}

func TestPostgres(t *testing.T) {
	admin := postgresAdmin(t)
	storetest.Run(t, func(t *testing.T) storetest.Store { return openPostgres(t, admin) })
}

// postgresAdmin connects to the PostgreSQL server the tests create their databases on, or
// skips the test when there is none, except in CI, where the suite must run.
func postgresAdmin(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("CHARGEBOOK_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	db, err := sql.Open("pgx", dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL at %s is not reachable (set CHARGEBOOK_TEST_POSTGRES): %v", dsn, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dsn
}

// openPostgres opens a store on a database of its own, dropped when the test ends, so that
// tests and concurrent runs never see each other's rows.
func openPostgres(t testing.TB, adminDSN string) *store.Store {
	t.Helper()
	ctx := context.Background()
	var b [8]byte
	rand.Read(b[:])
	name := fmt.Sprintf("chargebook_test_%x", b)
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(adminDSN)
	if err != nil {
		t.Fatalf("CHARGEBOOK_TEST_POSTGRES must be a URL: %v", err)
	}
	u.Path = "/" + name
	s, err := store.OpenPostgres(ctx, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// dialects runs fn on a fresh SQLite store and, when it is reachable, a fresh PostgreSQL one.
func dialects(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, openPostgres(t, postgresAdmin(t))) })
}

func setup(t testing.TB, s *store.Store) (account.Account, station.Station) {
	t.Helper()
	ctx := context.Background()
	a, _, err := s.CreateAccount(ctx, account.Account{Key: account.NewKey(), Name: "A", CreatedAt: time.UnixMilli(1)},
		account.Operator{Email: "a@example.com", PasswordHash: "h", Role: account.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := s.RegisterStation(ctx, a.ID, "CP-1", station.Accepted, account.Strict, time.UnixMilli(1))
	if err != nil {
		t.Fatal(err)
	}
	return a, st
}

func values(stationID int64, n int, at time.Time) []station.MeterValue {
	out := make([]station.MeterValue, n)
	for i := range out {
		milli := int64(i) * 1000
		out[i] = station.MeterValue{StationID: stationID, ConnectorID: 1, Timestamp: at,
			Measurand: "Energy.Active.Import.Register", Context: "Sample.Periodic", Location: "Outlet",
			Format: "Raw", RawValue: fmt.Sprint(i), RawUnit: "Wh", Unit: "Wh", Milli: &milli}
	}
	return out
}

// A write that fails must not fail the writes committed with it.
func TestBadWriteDoesNotFailBatch(t *testing.T) {
	dialects(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, st := setup(t, s)
		const n = 200
		var (
			wg       sync.WaitGroup
			bad, ok  atomic.Int64
			notFound atomic.Int64
		)
		for i := range n {
			wg.Go(func() {
				switch i % 10 {
				case 0: // a station that does not exist: the foreign key fails
					if s.AddMeterValues(ctx, values(st.ID+1000, 2, time.UnixMilli(int64(i+1)))) != nil {
						bad.Add(1)
					}
				case 1: // rejected without a failing statement
					if errors.Is(s.SetRegistration(ctx, a.ID+1000, st.ID, station.Pending), station.ErrNotFound) {
						notFound.Add(1)
					}
				default:
					if err := s.AddMeterValues(ctx, values(st.ID, 2, time.UnixMilli(int64(i+1)))); err != nil {
						t.Error(err)
						return
					}
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if bad.Load() != n/10 || notFound.Load() != n/10 {
			t.Errorf("%d of %d bad writes failed, %d of %d rejected", bad.Load(), n/10, notFound.Load(), n/10)
		}
		got, err := s.MeterValues(ctx, a.ID, station.MeterValueFilter{StationID: st.ID})
		if err != nil {
			t.Fatal(err)
		}
		if want := int(ok.Load()) * 2; len(got) != want {
			t.Errorf("%d values stored, want %d", len(got), want)
		}
	})
}

func TestClosed(t *testing.T) {
	s, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "c.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, st := setup(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	err = s.AddMeterValues(context.Background(), values(st.ID, 1, time.UnixMilli(1)))
	if !errors.Is(err, store.ErrClosed) {
		t.Errorf("write after close: %v, want ErrClosed", err)
	}
}

// A caller that gives up gets its context's error; the write may still commit.
func TestCallerGivesUp(t *testing.T) {
	s := openSQLite(t)
	_, st := setup(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.AddMeterValues(ctx, values(st.ID, 1, time.UnixMilli(1))); !errors.Is(err, context.Canceled) {
		t.Errorf("write with a canceled context: %v", err)
	}
}

// What a store committed is in the file: a new store on the file, opened while the first is
// still running and after it closed, reads it all back.
func TestSQLiteDurable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "durable.db")
	s, err := store.OpenSQLite(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, st := setup(t, s)
	tx, _, err := s.StartTransaction(ctx, station.StartTx{AccountID: a.ID, StationID: st.ID, ConnectorID: 1,
		IdTag: "TAG", MeterStartWh: 100, StartedAt: time.UnixMilli(1000),
		Source: station.Source{Action: "StartTransaction", MessageID: "m1", Payload: []byte(`{"x":1}`), ReceivedAt: time.UnixMilli(1001)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddMeterValues(ctx, values(st.ID, 4, time.UnixMilli(2000))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SeeIdTag(ctx, a.ID, "TAG", time.UnixMilli(999)); err != nil {
		t.Fatal(err)
	}

	check := func(name string) {
		t.Helper()
		r, err := store.OpenSQLite(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if got, err := r.AccountByKey(ctx, a.Key); err != nil || got.ID != a.ID {
			t.Errorf("%s: account: %+v, %v", name, got, err)
		}
		if got, err := r.Transaction(ctx, a.ID, tx.ID); err != nil || got.MeterStartWh != 100 {
			t.Errorf("%s: transaction: %+v, %v", name, got, err)
		}
		if got, err := r.TransactionEvents(ctx, a.ID, tx.ID); err != nil || len(got) != 1 || string(got[0].Source.Payload) != `{"x":1}` {
			t.Errorf("%s: transaction events: %+v, %v", name, got, err)
		}
		if got, err := r.MeterValues(ctx, a.ID, station.MeterValueFilter{StationID: st.ID}); err != nil || len(got) != 4 {
			t.Errorf("%s: meter values: %d, %v", name, len(got), err)
		}
		if got, err := r.IdTags(ctx, a.ID); err != nil || len(got) != 1 {
			t.Errorf("%s: id tags: %+v, %v", name, got, err)
		}
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no write-ahead log: %v", err)
	}
	check("while the writer is open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("after close")
}

func BenchmarkAddMeterValues(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchAddMeterValues(b, openSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchAddMeterValues(b, openPostgres(b, postgresAdmin(b))) })
}

// benchAddMeterValues sends MeterValues calls of 4 sampled values from many stations at once,
// as the transport does, each waiting for its commit.
func benchAddMeterValues(b *testing.B, s *store.Store) {
	_, st := setup(b, s)
	var clock atomic.Int64
	b.SetParallelism(64) // many stations per core, each waiting for its commit
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := s.AddMeterValues(ctx, values(st.ID, 4, time.UnixMilli(clock.Add(1)))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

func BenchmarkAddTransactionMeterValues(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchAddTransactionMeterValues(b, openSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchAddTransactionMeterValues(b, openPostgres(b, postgresAdmin(b))) })
}

// benchAddTransactionMeterValues is benchAddMeterValues with the values naming one of 256
// open transactions, which marks their series, and a clock-aligned reading without a
// transaction id in every tenth call, which marks the transaction of its connector.
func benchAddTransactionMeterValues(b *testing.B, s *store.Store) {
	a, st := setup(b, s)
	ctx := context.Background()
	const open = 256
	txs := make([]int64, open)
	for i := range txs {
		tx, _, err := s.StartTransaction(ctx, station.StartTx{AccountID: a.ID, StationID: st.ID,
			ConnectorID: i + 1, IdTag: "TAG", StartedAt: time.UnixMilli(1),
			Source: station.Source{Action: "StartTransaction", MessageID: "m", Payload: []byte(`{}`), ReceivedAt: time.UnixMilli(1)}})
		if err != nil {
			b.Fatal(err)
		}
		txs[i] = tx.ID
	}
	var clock atomic.Int64
	clock.Store(1)
	b.SetParallelism(64)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := clock.Add(1)
			vs := values(st.ID, 4, time.UnixMilli(n))
			c := int(n % open)
			for i := range vs {
				vs[i].ConnectorID = c + 1
				if n%10 != 0 {
					vs[i].TransactionID = txs[c]
				}
			}
			if err := s.AddMeterValues(ctx, vs); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

func BenchmarkStartTransaction(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchStartTransaction(b, openSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchStartTransaction(b, openPostgres(b, postgresAdmin(b))) })
}

func benchStartTransaction(b *testing.B, s *store.Store) {
	a, st := setup(b, s)
	var clock atomic.Int64
	b.SetParallelism(64)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			ms := clock.Add(1)
			_, _, err := s.StartTransaction(ctx, station.StartTx{AccountID: a.ID, StationID: st.ID,
				ConnectorID: 1, IdTag: "TAG", MeterStartWh: ms, StartedAt: time.UnixMilli(ms),
				Source: station.Source{Action: "StartTransaction", MessageID: "m", Payload: []byte(`{}`), ReceivedAt: time.UnixMilli(ms)}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
