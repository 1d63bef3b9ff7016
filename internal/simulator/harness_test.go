package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

// harness is a central system in the test process: the real endpoint and store, on a
// t.TempDir() database, behind a handler that can cut connections and refuse new ones.
type harness struct {
	store   *store.Store
	srv     *csms.Server
	account account.Account
	url     string // the account's OCPP URL

	down  atomic.Bool // refuse new connections
	mu    sync.Mutex
	conns map[string][]net.Conn // by charge point id
}

type connKey struct{}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "chargebook.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	a, op, err := account.New("sim", "sim@example.com", "simulator-password", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a, _, err = st.CreateAccount(ctx, a, op)
	if err != nil {
		t.Fatal(err)
	}
	svc := station.NewService(st, station.TagAuthorizer{Store: st}, time.Now, logger)
	h := &harness{store: st, account: a, conns: make(map[string][]net.Conn)}
	h.srv = csms.New(st, svc, csms.Options{Logger: logger})
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.down.Load() {
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
			id := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
			h.mu.Lock()
			h.conns[id] = append(h.conns[id], c)
			h.mu.Unlock()
		}
		h.srv.ServeHTTP(w, r)
	}))
	hs.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, c)
	}
	hs.Start()
	h.url = "ws://" + hs.Listener.Addr().String() + csms.PathPrefix + a.Key + "/"
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		h.srv.Shutdown(sctx)
		hs.Close()
		st.Close()
	})
	return h
}

// call sends a command to a station through the central system, waiting for the station's
// connection to be registered there first.
func (h *harness) call(t *testing.T, id string, req any) any {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		resp, err := h.srv.Call(context.Background(), h.account.ID, id, req)
		if errors.Is(err, csms.ErrNotConnected) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("%T: %v", req, err)
		}
		return resp
	}
}

// cut closes the server side of a station's connections, as a network failure would.
func (h *harness) cut(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns[id] {
		c.Close()
	}
	h.conns[id] = nil
}

// checkStored compares what the stations say they sent with what the central system kept.
func checkStored(t *testing.T, h *harness, stations []*Station) (transactions int) {
	t.Helper()
	ctx := context.Background()
	stored, err := h.store.Transactions(ctx, h.account.ID, station.TransactionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byID := make(map[int64]station.Transaction, len(stored))
	for _, tx := range stored {
		byID[tx.ID] = tx
	}
	for _, s := range stations {
		if st := s.Stats(); st.Queued != 0 || st.Dropped != 0 {
			t.Errorf("%s: %d messages still queued, %d dropped", s.ID(), st.Queued, st.Dropped)
		}
		for _, sim := range s.Transactions() {
			transactions++
			if sim.Active || !sim.Delivered {
				t.Errorf("%s: transaction %d: active %v, delivered %v", s.ID(), sim.Local, sim.Active, sim.Delivered)
				continue
			}
			got, ok := byID[int64(sim.ID)]
			if !ok {
				t.Errorf("%s: transaction %d (id %d) not stored", s.ID(), sim.Local, sim.ID)
				continue
			}
			delete(byID, int64(sim.ID))
			if got.ChargePointID != s.ID() || got.ConnectorID != sim.Connector || got.IdTag != sim.IdTag ||
				got.MeterStartWh != sim.MeterStart || !got.Stopped || got.MeterStopWh != sim.MeterStop ||
				got.StopReason != string(sim.StopReason) || len(got.Flags) != 0 {
				t.Errorf("%s: stored transaction %+v, station sent %+v", s.ID(), got, sim)
			}
			if got.EnergyWh == nil || *got.EnergyWh != sim.EnergyWh() {
				t.Errorf("%s: transaction %d: stored energy %v, station charged %d Wh", s.ID(), sim.ID, got.EnergyWh, sim.EnergyWh())
			}
			values, err := h.store.MeterValues(ctx, h.account.ID, station.MeterValueFilter{TransactionID: int64(sim.ID)})
			if err != nil {
				t.Fatal(err)
			}
			// A message whose answer the station did not get in time (a slow CI machine) is
			// sent again and stored twice, as OCPP's retries allow; what counts is that every
			// acknowledged value is there, once distinct.
			distinct := make(map[string]bool)
			for _, v := range values {
				distinct[fmt.Sprint(v.Timestamp.UnixMilli(), v.Measurand, v.Phase, v.Context, v.Location, v.RawValue)] = true
			}
			if len(distinct) != sim.Samples {
				t.Errorf("%s: transaction %d: %d distinct sampled values stored, %d sent and acknowledged", s.ID(), sim.ID, len(distinct), sim.Samples)
			}
			var registers []int64
			sort.SliceStable(values, func(i, j int) bool { return values[i].Timestamp.Before(values[j].Timestamp) })
			for _, v := range values {
				if wh, ok := v.Wh(); ok && v.Measurand == "Energy.Active.Import.Register" {
					registers = append(registers, wh)
				}
			}
			for i, r := range registers {
				if r < sim.MeterStart || r > sim.MeterStop || i > 0 && r < registers[i-1] {
					t.Errorf("%s: transaction %d: registers %v not within %d..%d and rising", s.ID(), sim.ID, registers, sim.MeterStart, sim.MeterStop)
					break
				}
			}
		}
	}
	for id, tx := range byID {
		t.Errorf("stored transaction %d of %s was not sent by a station", id, tx.ChargePointID)
	}
	return transactions
}

// waitLong bounds waits for what a station does in reaction to a call. It is generous because
// CI runs the whole suite with the race detector on two cores; a passing wait ends as soon as
// its condition holds.
const waitLong = 10 * time.Second

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
