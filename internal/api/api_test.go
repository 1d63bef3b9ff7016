package api_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/chargebook/chargebook/internal/api"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

// quiet keeps expected warnings out of the test output; a logger writing to t would also
// panic when a connection logs after its test ended.
var quiet = slog.New(slog.DiscardHandler)

// waitTimeout bounds every wait on the server; generous, as other builds share the machine.
const waitTimeout = 10 * time.Second

// t0 is the tests' epoch: records are made at t0 plus minutes.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

// clock is the API's clock, moved by the tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is the API and the OCPP endpoint on one loopback server, as serve.go wires them, over
// a SQLite database of its own with two accounts, each with a token.
type env struct {
	t      *testing.T
	ctx    context.Context
	store  *store.Store
	clock  *clock
	api    *api.API
	url    string // http://127.0.0.1:port
	acct   account.Account
	other  account.Account
	token  string // of acct
	otherT string // of other
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "chargebook.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	e := &env{t: t, ctx: ctx, store: st, clock: &clock{now: at(60 * 24)}}
	e.acct, e.token = e.newAccount("a@example.com")
	e.other, e.otherT = e.newAccount("b@example.com")

	svc := station.NewService(st, station.TagAuthorizer{Store: st}, time.Now, quiet)
	ocppServer := csms.New(st, svc, csms.Options{Logger: quiet, RPC: rpc.Options{Logger: quiet}})
	e.api = api.New(api.Deps{Accounts: st, Stations: st, Live: ocppServer, Now: e.clock.Now, Logger: quiet})
	mux := http.NewServeMux()
	mux.Handle(api.Prefix, e.api)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if csms.IsStationPath(r.URL.Path) {
			ocppServer.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	// Cleanups run last first: station connections end before the server and the store.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := ocppServer.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	e.url = hs.URL
	return e
}

// newAccount stores an account with a token and returns both. The password hash is not a
// real one: bcrypt is slow under the race detector and not what is tested.
func (e *env) newAccount(email string) (account.Account, string) {
	e.t.Helper()
	a, _, err := e.store.CreateAccount(e.ctx, account.Account{
		Key: account.NewKey(), Name: email, TimeZone: account.DefaultTimeZone, Currency: account.DefaultCurrency,
		HeartbeatInterval: account.DefaultHeartbeatInterval, StationValidation: account.Strict, CreatedAt: at(0),
	}, account.Operator{Email: email, PasswordHash: "x", Role: account.RoleOwner, CreatedAt: at(0)})
	if err != nil {
		e.t.Fatal(err)
	}
	return a, e.newToken(a.ID)
}

func (e *env) newToken(accountID int64) string {
	e.t.Helper()
	tok, secret := account.NewToken(accountID, "test", at(0))
	if _, err := e.store.CreateToken(e.ctx, tok); err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// response is an answer of the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body, numbers as json.Number.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return v
}

// do sends a request with the token (none if empty) and a body (none if empty).
func (e *env) do(method, path, token, body string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// call sends a request as the first account and wants the status; it returns the body.
func (e *env) call(method, path, body string, status int) map[string]any {
	e.t.Helper()
	r := e.do(method, path, e.token, body)
	if r.status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		e.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return r.json(e.t)
}

// wantError checks an error answer: status, code, field, and that the message mentions
// what it says in (if given).
func wantError(t *testing.T, what string, r response, status int, code, field, mentions string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d: %s", what, r.status, status, r.body)
		return
	}
	var body struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Error == nil {
		t.Errorf("%s: not an error body: %s", what, r.body)
		return
	}
	if body.Error.Code != code || body.Error.Field != field || body.Error.Message == "" {
		t.Errorf("%s: error %+v, want code %q field %q", what, *body.Error, code, field)
	}
	if mentions != "" && !strings.Contains(body.Error.Message, mentions) {
		t.Errorf("%s: message %q does not mention %q", what, body.Error.Message, mentions)
	}
}

// src is the Source of a message received at minute m.
func src(action string, m int) station.Source {
	return station.Source{Action: action, MessageID: action + "-1", Payload: []byte(`{"m":1}`), ReceivedAt: at(m)}
}

func ptr[T any](v T) *T { return &v }

// fixture is what seed stores.
type fixture struct {
	cp1, cp2, otherCP station.Station
	stopped, active   station.Transaction
	otherTx           station.Transaction
}

// seed stores, for the first account, station CP-1 with a boot, two connector statuses, a
// finished transaction with meter values and an active one, and CP-2 that never booted;
// for the other account, station CP-9 with a transaction and the tag OTHERTAG.
func (e *env) seed() fixture {
	e.t.Helper()
	s, ctx := e.store, e.ctx
	must := func(err error) {
		e.t.Helper()
		if err != nil {
			e.t.Fatal(err)
		}
	}
	var f fixture
	var err error
	f.cp1, _, err = s.RegisterStation(ctx, e.acct.ID, "CP-1", station.Accepted, account.Strict, at(0))
	must(err)
	f.cp2, _, err = s.RegisterStation(ctx, e.acct.ID, "CP-2", station.Pending, account.Lenient, at(0))
	must(err)
	f.otherCP, _, err = s.RegisterStation(ctx, e.other.ID, "CP-9", station.Accepted, account.Strict, at(0))
	must(err)
	must(s.RecordBoot(ctx, f.cp1.ID, station.BootInfo{Vendor: "Zaptec", Model: "Go", FirmwareVersion: "1.2.3",
		ChargePointSerial: "SN1", ICCID: "8941"}, src("BootNotification", 1)))
	must(s.RecordStatus(ctx, station.ConnectorStatus{StationID: f.cp1.ID, ConnectorID: 1, Status: "Charging",
		ErrorCode: "NoError", Timestamp: at(2)}, src("StatusNotification", 2)))
	must(s.RecordStatus(ctx, station.ConnectorStatus{StationID: f.cp1.ID, ConnectorID: 0, Status: "Available",
		ErrorCode: "NoError"}, src("StatusNotification", 3)))
	must(s.RecordEvent(ctx, station.Event{StationID: f.cp1.ID, Kind: "Rejected", Note: "malformed",
		Source: station.Source{Action: "MeterValues", MessageID: "x", Payload: []byte(`{not json`), ReceivedAt: at(4)}}))

	f.stopped, _, err = s.StartTransaction(ctx, station.StartTx{AccountID: e.acct.ID, StationID: f.cp1.ID,
		ConnectorID: 1, IdTag: "TAG1", MeterStartWh: 1000, StartedAt: at(10), Source: src("StartTransaction", 10)})
	must(err)
	must(s.AddMeterValues(ctx, []station.MeterValue{
		{StationID: f.cp1.ID, ConnectorID: 1, TransactionID: f.stopped.ID, Timestamp: at(20),
			Measurand: "Energy.Active.Import.Register", Context: "Sample.Periodic", Location: "Outlet", Format: "Raw",
			RawValue: "2.5", RawUnit: "kWh", Unit: "Wh", Milli: ptr(int64(2500000))},
		{StationID: f.cp1.ID, ConnectorID: 1, TransactionID: f.stopped.ID, Timestamp: at(20),
			Measurand: "Current.Import", Phase: "L1", Context: "Sample.Periodic", Location: "Outlet", Format: "Raw",
			RawValue: "15.625", RawUnit: "A", Unit: "A", Milli: ptr(int64(15625))},
		{StationID: f.cp1.ID, ConnectorID: 1, TransactionID: f.stopped.ID, Timestamp: at(25),
			Measurand: "Energy.Active.Import.Register", Context: "Sample.Periodic", Location: "Outlet", Format: "SignedData",
			RawValue: "AAEC", RawUnit: "Wh", Unit: "Wh"},
	}))
	f.stopped, err = s.StopTransaction(ctx, station.StopTx{AccountID: e.acct.ID, StationID: f.cp1.ID,
		TransactionID: f.stopped.ID, IdTag: "TAG1", MeterStopWh: 5000, StoppedAt: at(30), Reason: "EVDisconnected",
		Source: src("StopTransaction", 30)})
	must(err)
	f.active, _, err = s.StartTransaction(ctx, station.StartTx{AccountID: e.acct.ID, StationID: f.cp1.ID,
		ConnectorID: 2, IdTag: "TAG2", MeterStartWh: 7000, StartedAt: at(40), ReservationID: ptr(3),
		Source: src("StartTransaction", 40)})
	must(err)
	f.otherTx, _, err = s.StartTransaction(ctx, station.StartTx{AccountID: e.other.ID, StationID: f.otherCP.ID,
		ConnectorID: 1, IdTag: "TAG1", MeterStartWh: 0, StartedAt: at(50), Source: src("StartTransaction", 50)})
	must(err)
	must(s.SaveIdTag(ctx, station.IdTag{AccountID: e.other.ID, IdTag: "OTHERTAG"}))
	return f
}

// testStation is a charge point connected over a real websocket with package rpc.
type testStation struct {
	t    *testing.T
	conn *rpc.Conn
}

// dial connects a station of the first account, answering every CALL of the central system
// with NotImplemented, until the test ends.
func (e *env) dial(chargePointID string) *testStation {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	u := "ws" + strings.TrimPrefix(e.url, "http") + csms.PathPrefix + e.acct.Key + "/" + chargePointID
	conn, err := rpc.Dial(ctx, u, rpc.Options{Logger: quiet, CallTimeout: waitTimeout}, nil)
	if err != nil {
		e.t.Fatalf("dial %s: %v", u, err)
	}
	go conn.Serve(context.Background(), func(ctx context.Context, call rpc.Call) (json.RawMessage, error) {
		return nil, ocpp.Errorf(ocpp.NotImplemented, "test station does not implement %s", call.Action)
	})
	e.t.Cleanup(func() {
		conn.Close(websocket.StatusNormalClosure, "")
		<-conn.Done()
	})
	return &testStation{t: e.t, conn: conn}
}

// call sends a CALL and returns the decoded CALLRESULT.
func (s *testStation) call(action, payload string) any {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	raw, err := s.conn.Call(ctx, action, []byte(payload))
	if err != nil {
		s.t.Fatalf("%s: %v", action, err)
	}
	resp, _, err := ocpp.DecodeResponse(action, raw, ocpp.Strict)
	if err != nil {
		s.t.Fatalf("%s: answer %s: %v", action, raw, err)
	}
	return resp
}

func (s *testStation) boot() ocpp.RegistrationStatus {
	s.t.Helper()
	resp := s.call("BootNotification", `{"chargePointVendor":"Zaptec","chargePointModel":"Go"}`)
	return resp.(*ocpp.BootNotificationResponse).Status
}

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

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	f := e.seed()
	ok := e.do("GET", "/api/v1/stations", e.token, "")
	if ok.status != http.StatusOK {
		t.Fatalf("valid token: %d %s", ok.status, ok.body)
	}

	revoked := e.newToken(e.acct.ID)
	tokens, err := e.store.Tokens(e.ctx, e.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.RevokeToken(e.ctx, e.acct.ID, tokens[len(tokens)-1].ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	_, unknown := account.NewToken(e.acct.ID, "", at(0))

	for _, tc := range []struct {
		name, header string
		code         string
	}{
		{"no header", "", api.CodeUnauthorized},
		{"basic auth", "Basic YTpi", api.CodeInvalidToken},
		{"bearer without token", "Bearer", api.CodeInvalidToken},
		{"not a token", "Bearer hello", api.CodeInvalidToken},
		{"token of the right shape, unknown", "Bearer " + unknown, api.CodeInvalidToken},
		{"token with a character changed", "Bearer " + e.token[:len(e.token)-1] + flip(e.token[len(e.token)-1]), api.CodeInvalidToken},
		{"revoked token", "Bearer " + revoked, api.CodeInvalidToken},
	} {
		for _, path := range []string{"/api/v1/stations", "/api/v1/stations/CP-1", "/api/v1/transactions/1", "/api/v1/id-tags"} {
			req, _ := http.NewRequest("GET", e.url+path, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			wantError(t, tc.name+" "+path, response{resp.StatusCode, resp.Header, b}, http.StatusUnauthorized, tc.code, "", "")
			challenge := resp.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, `Bearer realm="chargebook"`) ||
				strings.Contains(challenge, "invalid_token") != (tc.code == api.CodeInvalidToken) {
				t.Errorf("%s: WWW-Authenticate %q", tc.name, challenge)
			}
		}
	}

	// The scheme is case-insensitive (RFC 7235).
	req, _ := http.NewRequest("GET", e.url+"/api/v1/stations", nil)
	req.Header.Set("Authorization", "bearer "+e.token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("lower-case bearer: %v %v", resp.Status, err)
	} else {
		resp.Body.Close()
	}

	// A token sees its own account only.
	other := e.do("GET", "/api/v1/stations", e.otherT, "")
	stations := other.json(t)["stations"].([]any)
	if len(stations) != 1 || stations[0].(map[string]any)["chargePointId"] != f.otherCP.ChargePointID {
		t.Errorf("the other account's token sees %v", stations)
	}
}

// flip returns another character of the token alphabet.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestTokenLastUsedIsThrottled(t *testing.T) {
	e := newEnv(t)
	lastUsed := func() time.Time {
		t.Helper()
		tok, err := e.store.TokenByHash(e.ctx, account.HashToken(e.token))
		if err != nil {
			t.Fatal(err)
		}
		return tok.LastUsedAt
	}
	if !lastUsed().IsZero() {
		t.Fatal("a new token has been used")
	}
	first := e.clock.Now()
	e.call("GET", "/api/v1/stations", "", http.StatusOK)
	if got := lastUsed(); !got.Equal(first) {
		t.Errorf("after the first request last used is %v, want %v", got, first)
	}
	e.clock.advance(30 * time.Second)
	e.call("GET", "/api/v1/stations", "", http.StatusOK)
	if got := lastUsed(); !got.Equal(first) {
		t.Errorf("a request within a minute wrote last used %v", got)
	}
	e.clock.advance(31 * time.Second)
	e.call("GET", "/api/v1/id-tags", "", http.StatusOK)
	if got, want := lastUsed(), first.Add(61*time.Second); !got.Equal(want) {
		t.Errorf("a minute later last used is %v, want %v", got, want)
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	e := newEnv(t)
	e.seed()
	wantError(t, "unknown path", e.do("GET", "/api/v1/nothing", e.token, ""), http.StatusNotFound, api.CodeNotFound, "", "/api/v1/nothing")
	wantError(t, "unknown path without a token", e.do("GET", "/api/v1/stations/CP-1/nothing", "", ""), http.StatusNotFound, api.CodeNotFound, "", "")
	r := e.do("DELETE", "/api/v1/stations/CP-1", e.token, "")
	wantError(t, "DELETE of a station", r, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, "", "DELETE")
	if got := r.header.Get("Allow"); got != "GET, HEAD, PATCH" {
		t.Errorf("Allow: %q", got)
	}
	wantError(t, "POST of the station list", e.do("POST", "/api/v1/stations", e.token, "{}"), http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, "", "")
}
