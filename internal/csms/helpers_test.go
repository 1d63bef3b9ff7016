package csms_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

// quiet keeps the expected warnings (rejected frames, closed connections) out of the test
// output; a logger writing to t would also panic when a connection logs after its test ended.
var quiet = slog.New(slog.DiscardHandler)

// testHeartbeatInterval is the account's heartbeat interval in every test, chosen to differ
// from account.DefaultHeartbeatInterval and station.PendingRetryInterval.
const testHeartbeatInterval = 123 * time.Second

// waitTimeout bounds every wait on the server; generous, as other builds share the machine.
const waitTimeout = 10 * time.Second

// newAccount is account.New run once: bcrypt costs a noticeable time under the race
// detector, and each test stores the same account in a database of its own.
var newAccount = sync.OnceValues(func() (accountPair, error) {
	a, op, err := account.New("Test operator", "operator@example.com", "correct horse battery", time.Now())
	return accountPair{a, op}, err
})

type accountPair struct {
	acct account.Account
	op   account.Operator
}

// testEnv is a central system as serve.go wires it, on a loopback port, with an account and
// a SQLite database of its own.
type testEnv struct {
	t     *testing.T
	ctx   context.Context
	store *store.Store
	srv   *csms.Server
	acct  account.Account
	// base is the server's address as ws://127.0.0.1:port.
	base string
}

// envConfig lets a test change the account and the endpoint's options before they are used.
type envConfig struct {
	acct *account.Account
	opts *csms.Options
}

func newEnv(t *testing.T, configure ...func(envConfig)) *testEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "chargebook.db"), quiet)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})

	pair, err := newAccount()
	if err != nil {
		t.Fatalf("new account: %v", err)
	}
	a := pair.acct
	a.HeartbeatInterval = testHeartbeatInterval
	opts := csms.Options{Logger: quiet, RPC: rpc.Options{Logger: quiet}}
	for _, c := range configure {
		c(envConfig{acct: &a, opts: &opts})
	}
	a, _, err = st.CreateAccount(ctx, a, pair.op)
	if err != nil {
		t.Fatalf("create account: %v", err)
	}

	svc := station.NewService(st, station.TagAuthorizer{Store: st}, time.Now, quiet)
	srv := csms.New(st, svc, opts)
	hs := httptest.NewServer(routes(srv))
	t.Cleanup(hs.Close)
	// Cleanups run last first: the endpoint is shut down before the HTTP server and the
	// store, so that no handler writes to a closed store.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testEnv{
		t: t, ctx: ctx, store: st, srv: srv, acct: a,
		base: "ws" + strings.TrimPrefix(hs.URL, "http"),
	}
}

// routes is the routing of cmd/chargebook/serve.go: station URLs, in any letter case, to the
// OCPP endpoint, everything else to the rest of the product.
func routes(ocppServer *csms.Server) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if csms.IsStationPath(r.URL.Path) {
			ocppServer.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// url is the station URL of chargePointID, unescaped as given.
func (e *testEnv) url(chargePointID string) string {
	return e.base + csms.PathPrefix + e.acct.Key + "/" + chargePointID
}

// station reads the station from the store, failing the test if it is not there.
func (e *testEnv) station(chargePointID string) station.Station {
	e.t.Helper()
	st, err := e.store.StationByChargePointID(e.ctx, e.acct.ID, chargePointID)
	if err != nil {
		e.t.Fatalf("station %q: %v", chargePointID, err)
	}
	return st
}

// stations returns the charge point ids of the account's stations.
func (e *testEnv) stations() []string {
	e.t.Helper()
	sts, err := e.store.Stations(e.ctx, e.acct.ID)
	if err != nil {
		e.t.Fatalf("stations: %v", err)
	}
	ids := make([]string, len(sts))
	for i, st := range sts {
		ids[i] = st.ChargePointID
	}
	return ids
}

// events returns the station's events of one kind, newest first.
func (e *testEnv) events(stationID int64, kind string) []station.Event {
	e.t.Helper()
	all, err := e.store.Events(e.ctx, stationID, 0)
	if err != nil {
		e.t.Fatalf("events: %v", err)
	}
	var out []station.Event
	for _, ev := range all {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func (e *testEnv) transaction(id int64) station.Transaction {
	e.t.Helper()
	tx, err := e.store.Transaction(e.ctx, e.acct.ID, id)
	if err != nil {
		e.t.Fatalf("transaction %d: %v", id, err)
	}
	return tx
}

func (e *testEnv) transactions(f station.TransactionFilter) []station.Transaction {
	e.t.Helper()
	txs, err := e.store.Transactions(e.ctx, e.acct.ID, f)
	if err != nil {
		e.t.Fatalf("transactions: %v", err)
	}
	return txs
}

func (e *testEnv) transactionEvents(id int64) []station.TransactionEvent {
	e.t.Helper()
	evs, err := e.store.TransactionEvents(e.ctx, e.acct.ID, id)
	if err != nil {
		e.t.Fatalf("events of transaction %d: %v", id, err)
	}
	return evs
}

// waitFor polls cond until it holds, failing the test after waitTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stationClient is a charge point speaking through package rpc, as the simulator does. It
// records the id of each CALL it sends, so that tests can find it in the store.
type stationClient struct {
	t      *testing.T
	conn   *rpc.Conn
	served chan error // what Serve returned

	mu         sync.Mutex
	lastCallID string
}

// dial connects a station client to url and serves it with h (nil: every CALL of the central
// system is answered NotImplemented) until the test ends.
func dial(t *testing.T, url string, h rpc.Handler) *stationClient {
	t.Helper()
	c, err := tryDial(t, url, h)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return c
}

func tryDial(t *testing.T, url string, h rpc.Handler) (*stationClient, error) {
	if h == nil {
		h = func(ctx context.Context, call rpc.Call) (json.RawMessage, error) {
			return nil, ocpp.Errorf(ocpp.NotImplemented, "test station does not implement %s", call.Action)
		}
	}
	sc := &stationClient{t: t, served: make(chan error, 1)}
	opts := rpc.Options{Logger: quiet, CallTimeout: waitTimeout, OnFrame: sc.onFrame}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, err := rpc.Dial(ctx, url, opts, nil)
	if err != nil {
		return nil, err
	}
	sc.conn = conn
	go func() { sc.served <- conn.Serve(context.Background(), h) }()
	t.Cleanup(func() {
		conn.Close(websocket.StatusNormalClosure, "")
		<-conn.Done()
	})
	return sc, nil
}

func (c *stationClient) onFrame(dir rpc.Direction, frame []byte) {
	if dir != rpc.Sent {
		return
	}
	f, err := ocpp.ParseFrame(frame)
	if err != nil || f.Type != ocpp.Call {
		return
	}
	c.mu.Lock()
	c.lastCallID = f.ID
	c.mu.Unlock()
}

// call sends a CALL with payload exactly as given and returns the CALLRESULT payload or the
// error, and the message id the CALL was sent with.
func (c *stationClient) call(action, payload string) (json.RawMessage, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	resp, err := c.conn.Call(ctx, action, []byte(payload))
	c.mu.Lock()
	id := c.lastCallID
	c.mu.Unlock()
	return resp, id, err
}

// mustCall sends a CALL that must be answered with a CALLRESULT, decodes the answer strictly
// with package ocpp (so the central system's answers are checked against the schema too),
// and returns it with the CALL's message id.
func (c *stationClient) mustCall(action, payload string) (any, string) {
	c.t.Helper()
	raw, id, err := c.call(action, payload)
	if err != nil {
		c.t.Fatalf("%s %s: %v", action, payload, err)
	}
	resp, _, err := ocpp.DecodeResponse(action, raw, ocpp.Strict)
	if err != nil {
		c.t.Fatalf("%s: answer %s does not validate: %v", action, raw, err)
	}
	return resp, id
}

// callError sends a CALL that must be answered with a CALLERROR, and returns it.
func (c *stationClient) callError(action, payload string) *rpc.CallError {
	c.t.Helper()
	raw, _, err := c.call(action, payload)
	var ce *rpc.CallError
	if !errors.As(err, &ce) {
		c.t.Fatalf("%s %s: want a CALLERROR, got %s, %v", action, payload, raw, err)
	}
	return ce
}

// heartbeat sends a Heartbeat; its answer proves the server registered the connection.
func (c *stationClient) heartbeat() {
	c.t.Helper()
	c.mustCall("Heartbeat", `{}`)
}

// closeStatus waits for the connection to end and returns the websocket status the server
// closed it with (-1 when it ended without a close frame).
func (c *stationClient) closeStatus() websocket.StatusCode {
	c.t.Helper()
	select {
	case err := <-c.served:
		return websocket.CloseStatus(err)
	case <-time.After(waitTimeout):
		c.t.Fatalf("connection was not closed")
		return -1
	}
}

// rawClient writes frames byte for byte with coder/websocket, for what package rpc would
// never send.
type rawClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, url string) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if ws.Subprotocol() != rpc.Subprotocol {
		t.Fatalf("server selected subprotocol %q", ws.Subprotocol())
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &rawClient{t: t, ws: ws}
}

// send writes frame as a text message and returns the frame the server answers with.
func (r *rawClient) send(frame string) ocpp.Frame {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := r.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		r.t.Fatalf("write %s: %v", frame, err)
	}
	typ, data, err := r.ws.Read(ctx)
	if err != nil {
		r.t.Fatalf("read the answer to %s: %v", frame, err)
	}
	if typ != websocket.MessageText {
		r.t.Fatalf("answer to %s is a %v message", frame, typ)
	}
	f, perr := ocpp.ParseFrame(data)
	if perr != nil {
		r.t.Fatalf("answer to %s does not parse: %s: %v", frame, data, perr)
	}
	return f
}

// mustDecode decodes a response of package ocpp into T, failing the test on a wrong type.
func mustDecode[T any](t *testing.T, resp any) *T {
	t.Helper()
	v, ok := resp.(*T)
	if !ok {
		t.Fatalf("response is %T, want %T", resp, v)
	}
	return v
}

// within fails the test unless got is within [from-slack, to+slack]; stored times lose
// everything below the millisecond.
func within(t *testing.T, what string, got, from, to time.Time) {
	t.Helper()
	const slack = time.Millisecond
	if got.Before(from.Add(-slack)) || got.After(to.Add(slack)) {
		t.Errorf("%s = %v, want between %v and %v", what, got, from, to)
	}
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
