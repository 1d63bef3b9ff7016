package operation_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

var quiet = slog.New(slog.DiscardHandler)

// waitTimeout bounds every wait; generous, as other builds share the machine.
const waitTimeout = 10 * time.Second

// clock is the operation service's clock, which tests move to see reservations expire.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// env is the central system as serve.go wires it, on a loopback port: the store, the
// station service observed by the operation service, the OCPP endpoint and its Sender.
type env struct {
	t     *testing.T
	ctx   context.Context
	store *store.Store
	srv   *csms.Server
	ops   *operation.Service
	clock *clock
	acct  account.Account
	other account.Account // a second account, whose stations the first must not reach
	base  string          // ws://127.0.0.1:port
}

// newEnv starts a central system whose calls to stations time out after callTimeout.
func newEnv(t *testing.T, callTimeout time.Duration) *env {
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
	newAcct := func(email string) account.Account {
		a := account.Account{
			Key: account.NewKey(), Name: email, TimeZone: account.DefaultTimeZone, Currency: account.DefaultCurrency,
			HeartbeatInterval: account.DefaultHeartbeatInterval, StationValidation: account.Strict, CreatedAt: time.Now(),
		}
		// Not a real bcrypt hash: nobody logs in here.
		a, _, err := st.CreateAccount(ctx, a, account.Operator{Email: email, PasswordHash: "x", Role: account.RoleOwner, CreatedAt: time.Now()})
		if err != nil {
			t.Fatalf("create account: %v", err)
		}
		return a
	}
	e := &env{t: t, ctx: ctx, store: st, clock: &clock{now: time.Now().UTC()},
		acct: newAcct("a@example.com"), other: newAcct("b@example.com")}

	svc := station.NewService(st, station.TagAuthorizer{Store: st}, time.Now, quiet)
	e.srv = csms.New(st, svc, csms.Options{Logger: quiet, RPC: rpc.Options{Logger: quiet, CallTimeout: callTimeout}})
	e.ops = operation.NewService(st, csms.Sender{Server: e.srv}, e.clock.Now, quiet)
	svc.SetObserver(e.ops)
	hs := httptest.NewServer(e.srv)
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	e.base = "ws" + strings.TrimPrefix(hs.URL, "http")
	return e
}

// fakeStation is a charge point on package rpc whose answers to the central system's CALLs
// the test sets, and which keeps what it received.
type fakeStation struct {
	t    *testing.T
	conn *rpc.Conn

	mu       sync.Mutex
	answer   func(call rpc.Call) (json.RawMessage, error)
	received []rpc.Call
}

// connect connects a station of account a as chargePointID; it answers every CALL with {}
// until told otherwise.
func (e *env) connect(a account.Account, chargePointID string) *fakeStation {
	e.t.Helper()
	fs := &fakeStation{t: e.t, answer: func(rpc.Call) (json.RawMessage, error) { return json.RawMessage(`{}`), nil }}
	ctx, cancel := context.WithTimeout(e.ctx, waitTimeout)
	defer cancel()
	conn, err := rpc.Dial(ctx, e.base+csms.PathPrefix+a.Key+"/"+chargePointID, rpc.Options{Logger: quiet, CallTimeout: waitTimeout}, nil)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	fs.conn = conn
	go conn.Serve(context.Background(), fs.handle)
	e.t.Cleanup(func() {
		conn.Close(websocket.StatusNormalClosure, "")
		<-conn.Done()
	})
	// The answer proves the central system has registered the connection.
	fs.call("Heartbeat", `{}`)
	return fs
}

func (fs *fakeStation) handle(ctx context.Context, call rpc.Call) (json.RawMessage, error) {
	fs.mu.Lock()
	fs.received = append(fs.received, call)
	answer := fs.answer
	fs.mu.Unlock()
	return answer(call)
}

// answers makes the station answer each action with the payload given, and anything else
// with {}.
func (fs *fakeStation) answers(byAction map[string]string) {
	fs.answerWith(func(call rpc.Call) (json.RawMessage, error) {
		if p, ok := byAction[call.Action]; ok {
			return json.RawMessage(p), nil
		}
		return json.RawMessage(`{}`), nil
	})
}

func (fs *fakeStation) answerWith(f func(call rpc.Call) (json.RawMessage, error)) {
	fs.mu.Lock()
	fs.answer = f
	fs.mu.Unlock()
}

// last returns the last CALL the station received.
func (fs *fakeStation) last() rpc.Call {
	fs.t.Helper()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.received) == 0 {
		fs.t.Fatalf("the station received no CALL")
	}
	return fs.received[len(fs.received)-1]
}

func (fs *fakeStation) count() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.received)
}

// call sends a CALL of the station and returns the central system's answer, which must be
// a CALLRESULT.
func (fs *fakeStation) call(action, payload string) json.RawMessage {
	fs.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	resp, err := fs.conn.Call(ctx, action, []byte(payload))
	if err != nil {
		fs.t.Fatalf("%s %s: %v", action, payload, err)
	}
	return resp
}

// exec executes action on chargePointID of the first account as "test".
func (e *env) exec(chargePointID, action, payload string) (operation.Result, error) {
	ctx, cancel := context.WithTimeout(e.ctx, waitTimeout)
	defer cancel()
	return e.ops.Execute(ctx, operation.Request{
		AccountID: e.acct.ID, ChargePointID: chargePointID, Actor: "test", Action: action, Payload: json.RawMessage(payload),
	})
}

// mustExec executes an operation that must be answered, and returns the record.
func (e *env) mustExec(chargePointID, action, payload string) operation.Result {
	e.t.Helper()
	res, err := e.exec(chargePointID, action, payload)
	if err != nil {
		e.t.Fatalf("%s %s: %v", action, payload, err)
	}
	return res
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// dateTime formats t as an OCPP dateTime.
func dateTime(t time.Time) string {
	b, _ := json.Marshal(ocpp.DateTime{Time: t})
	return string(b)
}
