package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

// newServer runs the real endpoint and store in the test process and returns the account's
// OCPP URL.
func newServer(t *testing.T) (string, *store.Store, account.Account) {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "chargebook.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	a, op, err := account.New("load", "load@example.com", "loadtest-password", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if a, _, err = st.CreateAccount(ctx, a, op); err != nil {
		t.Fatal(err)
	}
	srv := csms.New(st, station.NewService(st, station.TagAuthorizer{Store: st}, time.Now, logger), csms.Options{Logger: logger})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		hs.Close()
		st.Close()
	})
	return "ws://" + hs.Listener.Addr().String() + csms.PathPrefix + a.Key + "/", st, a
}

func TestCallsInProcess(t *testing.T) {
	url, st, a := newServer(t)
	var log bytes.Buffer
	rep, err := Run(context.Background(), Options{
		Mode: ModeCalls, Stations: 20, Duration: time.Second, Warmup: 200 * time.Millisecond,
		URL: url, Log: &log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s%+v", log.String(), rep)
	if rep.Connected != 20 || rep.Calls < 100 || rep.Errors != 0 || rep.P50ms <= 0 || rep.P99ms < rep.P50ms || rep.Processes != 1 {
		t.Errorf("report %+v", rep)
	}
	// The stations' transactions were started and stopped, and their values kept.
	txs, err := st.Transactions(context.Background(), a.ID, station.TransactionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 20 {
		t.Fatalf("%d transactions", len(txs))
	}
	for _, tx := range txs {
		if !tx.Stopped || tx.EnergyWh == nil || *tx.EnergyWh <= 0 || len(tx.Flags) != 0 {
			t.Errorf("transaction %+v", tx)
		}
	}
	values, err := st.MeterValues(context.Background(), a.ID, station.MeterValueFilter{TransactionID: txs[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(values) < 4*10 {
		t.Errorf("%d values stored for a transaction", len(values))
	}

	var out bytes.Buffer
	if err := rep.Print(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var back map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &back); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out.String())
	}
	for _, k := range []string{"mode", "stations", "duration_s", "calls", "calls_per_sec", "p50_ms", "p99_ms", "errors", "server_rss_mib", "server_rss_per_station_kib"} {
		if _, ok := back[k]; !ok {
			t.Errorf("no %s in %s", k, lines[len(lines)-1])
		}
	}
}

func TestIdleInProcess(t *testing.T) {
	url, _, _ := newServer(t)
	rep, err := Run(context.Background(), Options{
		Mode: ModeIdle, Stations: 50, Duration: 300 * time.Millisecond, URL: url,
		ServerPID: os.Getpid(), // the server runs in this process
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Connected != 50 || rep.Live != 50 || rep.Dropped != 0 || rep.ServerRSSMiB <= 0 || rep.ServerRSSPerStationKiB <= 0 {
		t.Errorf("report %+v", rep)
	}
}

// The worker protocol, with the worker in a goroutine instead of a process.
func TestWorkerProtocol(t *testing.T) {
	url, _, _ := newServer(t)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- Worker(context.Background(), inR, outW); outW.Close() }()
	enc := json.NewEncoder(inW)
	dec := json.NewDecoder(outR)
	cfg := Config{Mode: ModeCalls, URL: url, First: 101, Stations: 5}
	if err := enc.Encode(workerMessage{Config: &cfg}); err != nil {
		t.Fatal(err)
	}
	var m workerMessage
	if err := dec.Decode(&m); err != nil || m.Ready == nil || m.Ready.Connected != 5 {
		t.Fatalf("ready: %+v %v", m, err)
	}
	now := time.Now()
	w := Window{Start: now, Measure: now.Add(100 * time.Millisecond), End: now.Add(600 * time.Millisecond)}
	if err := enc.Encode(workerMessage{Window: &w}); err != nil {
		t.Fatal(err)
	}
	m = workerMessage{}
	if err := dec.Decode(&m); err != nil || m.Result == nil || m.Result.Calls == 0 || m.Result.Errors != 0 {
		t.Fatalf("result: %+v %v", m.Result, err)
	}
	var h Histogram
	h.MergeData(m.Result.Latency)
	if h.Count() != m.Result.Calls {
		t.Errorf("histogram holds %d calls, result says %d", h.Count(), m.Result.Calls)
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
