package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/server"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

// quiet keeps the server's expected warnings out of the test output; a logger writing to t
// would also panic when a connection logs after its test has ended.
var quiet = slog.New(slog.DiscardHandler)

// waitTimeout bounds every wait: generous, as other builds share the machine.
const waitTimeout = 10 * time.Second

// heartbeatInterval is the account's, chosen to differ from account.DefaultHeartbeatInterval
// and station.PendingRetryInterval, so that a BootNotification answer shows where its
// interval came from.
const heartbeatInterval = 90 * time.Second

// newOperator is account.New run once: bcrypt is slow under the race detector, and every
// test stores the same account in a database of its own.
var newOperator = sync.OnceValues(func() (operatorAccount, error) {
	a, op, err := account.New("E2E operator", "e2e@example.com", "correct horse battery", time.Now())
	return operatorAccount{a, op}, err
})

type operatorAccount struct {
	acct account.Account
	op   account.Operator
}

// system is a central system wired as cmd/chargebook/serve.go wires it, on a loopback port,
// with a fresh SQLite database, one operator account and an API token of that account.
type system struct {
	t        *testing.T
	ctx      context.Context
	store    *store.Store
	endpoint *csms.Server // the OCPP endpoint
	acct     account.Account
	token    string
	url      string // http://127.0.0.1:port
	app      *server.Server
}

// systemConfig is what a test may change before the system starts.
type systemConfig struct {
	// callTimeout is serve's --call-timeout: how long an operation waits for a station.
	callTimeout time.Duration
}

func newSystem(t *testing.T, configure ...func(*systemConfig)) *system {
	t.Helper()
	cfg := systemConfig{callTimeout: waitTimeout}
	for _, f := range configure {
		f(&cfg)
	}
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
	pair, err := newOperator()
	if err != nil {
		t.Fatalf("new account: %v", err)
	}
	a := pair.acct
	a.HeartbeatInterval = heartbeatInterval
	a, _, err = st.CreateAccount(ctx, a, pair.op)
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	tok, secret := account.NewToken(a.ID, "e2e", time.Now())
	if _, err := st.CreateToken(ctx, tok); err != nil {
		t.Fatalf("create token: %v", err)
	}

	// Wired by package server, as `chargebook serve` is, with serve's defaults for what the
	// test does not change.
	app := server.New(st, server.Config{
		RPC:    rpc.Options{CallTimeout: cfg.callTimeout, PingInterval: 30 * time.Second, MaxFrameBytes: 256 << 10, Logger: quiet},
		Logger: quiet,
	})
	ocppServer := app.OCPP
	hs := httptest.NewServer(app.Handler)
	t.Cleanup(hs.Close)
	// Cleanups run last first: charge points hang up, then the server shuts down, then the
	// HTTP server and the store close.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &system{t: t, ctx: ctx, store: st, endpoint: ocppServer, acct: a, token: secret, url: hs.URL, app: app}
}

// stationURL is the URL a charger with that id is configured with.
func (s *system) stationURL(chargePointID string) string {
	return "ws" + strings.TrimPrefix(s.url, "http") + csms.PathPrefix + s.acct.Key + "/" + url.PathEscape(chargePointID)
}

// waitFor polls cond until it holds, or fails the test.
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

// ---- The REST API ----

type response struct {
	status int
	body   []byte
	header http.Header
}

// do sends a request to the REST API with the account's token.
func (s *system) do(method, path, body string) response {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 2*waitTimeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, rd)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, body: b, header: resp.Header}
}

// call sends a request that must be answered with status, and decodes the answer into out
// unless it is nil.
func (s *system) call(method, path, body string, status int, out any) response {
	s.t.Helper()
	r := s.do(method, path, body)
	if r.status != status {
		s.t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, bytes.TrimSpace(r.body), status)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			s.t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
	return r
}

func (s *system) get(path string, out any) { s.t.Helper(); s.call("GET", path, "", http.StatusOK, out) }

// operate posts an OCPP request payload to a station's operations endpoint and returns the
// station's response payload, which must come with status 200.
func (s *system) operate(chargePointID, action, payload string) json.RawMessage {
	s.t.Helper()
	r := s.call("POST", "/api/v1/stations/"+chargePointID+"/operations/"+action, payload, http.StatusOK, nil)
	return r.body
}

// The records of the REST API, with the fields the tests read.

type apiStation struct {
	ChargePointID string
	Registration  string
	Connected     bool
	LastSeenAt    *time.Time
	LastBootAt    *time.Time
	Boot          struct {
		ChargePointVendor       string
		ChargePointModel        string
		ChargePointSerialNumber string
		FirmwareVersion         string
		MeterType               string
		MeterSerialNumber       string
	}
	Connectors []apiConnector
}

type apiConnector struct {
	ConnectorID int
	Status      string
	ErrorCode   string
	Info        string
	Timestamp   *time.Time
	ReceivedAt  time.Time
}

type apiEvent struct {
	ID         int64
	Kind       string
	Note       string
	Action     string
	MessageID  string
	Payload    json.RawMessage
	ReceivedAt time.Time
}

type apiTransaction struct {
	TransactionID int64
	ChargePointID string
	ConnectorID   int
	IdTag         string
	ReservationID *int
	MeterStart    int64
	StartedAt     time.Time
	Active        bool
	MeterStop     *int64
	StoppedAt     *time.Time
	StopReason    *string
	StopIdTag     *string
	EnergyWh      *int64
	Flags         []string
	CreatedAt     time.Time
	Events        []apiEvent
}

// String is the transaction in brief, for failure messages.
func (tx apiTransaction) String() string {
	return fmt.Sprintf("transaction %d of %s connector %d, idTag %s: active %v, meterStart %d meterStop %v, started %s stopped %v, reason %v, energy %v Wh, reservation %v, flags %v",
		tx.TransactionID, tx.ChargePointID, tx.ConnectorID, tx.IdTag, tx.Active, tx.MeterStart, val(tx.MeterStop),
		tx.StartedAt.Format(time.RFC3339Nano), val(tx.StoppedAt), val(tx.StopReason), val(tx.EnergyWh), val(tx.ReservationID), tx.Flags)
}

// String is the event in brief, for failure messages.
func (e apiEvent) String() string {
	return fmt.Sprintf("{%s %q %s %s}", e.Kind, e.Note, e.Action, e.Payload)
}

type apiMeterValue struct {
	ConnectorID   int
	TransactionID *int64
	Timestamp     time.Time
	Measurand     string
	Context       string
	RawValue      string
	RawUnit       string
	Unit          string
	Value         *json.Number
}

type apiOperation struct {
	ID               int64
	ChargePointID    string
	Action           string
	Actor            string
	Request          json.RawMessage
	Status           string
	Response         json.RawMessage
	Failure          *string
	ErrorCode        *string
	ErrorDescription *string
	FinishedAt       *time.Time
}

// String is the operation in brief, for failure messages.
func (op apiOperation) String() string {
	return fmt.Sprintf("{operation %d %s by %s: %s %s -> %s failure %v %v}", op.ID, op.Action, op.Actor, op.Request, op.Status, op.Response, val(op.Failure), val(op.ErrorCode))
}

type apiConfigKey struct {
	Key            string
	Value          *string
	Readonly       bool
	Unknown        bool
	RebootRequired bool
}

type apiReservation struct {
	ID            int64
	ChargePointID string
	ReservationID int
	ConnectorID   int
	IdTag         string
	ParentIdTag   *string
	ExpiresAt     time.Time
	State         string
	TransactionID *int64
	OperationID   int64
}

type apiProfile struct {
	ConnectorID     int
	ChargingProfile ocpp.ChargingProfile
	OperationID     int64
}

type apiLocalList struct {
	Version        *int
	EntriesVersion *int
	Entries        []struct {
		IdTag       string
		Status      string
		ParentIdTag *string
		ExpiryDate  *time.Time
	}
}

type apiFirmwareRequest struct {
	ID            int64
	OperationID   int64
	Location      string
	RetrieveDate  time.Time
	Retries       *int
	RetryInterval *int
	Status        string
	Open          bool
}

type apiDiagnosticsRequest struct {
	ID          int64
	OperationID int64
	Location    string
	FileName    *string
	Status      string
	Open        bool
}

type apiIdTag struct {
	IdTag       string
	ParentIdTag *string
	Blocked     bool
	Known       bool
	Status      string
}

func (s *system) station(chargePointID string) apiStation {
	s.t.Helper()
	var st apiStation
	s.get("/api/v1/stations/"+chargePointID, &st)
	return st
}

// connector returns a connector's current status; it fails the test if there is none.
func (s *system) connector(chargePointID string, connectorID int) apiConnector {
	s.t.Helper()
	for _, c := range s.station(chargePointID).Connectors {
		if c.ConnectorID == connectorID {
			return c
		}
	}
	s.t.Fatalf("station %s has no status for connector %d", chargePointID, connectorID)
	return apiConnector{}
}

// statuses returns the statuses a connector went through, oldest first.
func (s *system) statuses(chargePointID string, connectorID int) []string {
	s.t.Helper()
	var body struct{ StatusHistory []apiConnector }
	s.get("/api/v1/stations/"+chargePointID+"/status-history?limit=1000", &body)
	var out []string
	for _, c := range slices.Backward(body.StatusHistory) {
		if c.ConnectorID == connectorID {
			out = append(out, c.Status)
		}
	}
	return out
}

// events returns the station's events of a kind, oldest first; all of them for "".
func (s *system) events(chargePointID, kind string) []apiEvent {
	s.t.Helper()
	var body struct{ Events []apiEvent }
	s.get("/api/v1/stations/"+chargePointID+"/events?limit=1000", &body)
	var out []apiEvent
	for _, e := range slices.Backward(body.Events) {
		if kind == "" || e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (s *system) transaction(id int) apiTransaction {
	s.t.Helper()
	var tx apiTransaction
	s.get("/api/v1/transactions/"+strconv.Itoa(id), &tx)
	return tx
}

// transactions lists transactions with the query parameters given ("station=CP-1&...").
func (s *system) transactions(query string) []apiTransaction {
	s.t.Helper()
	var body struct{ Transactions []apiTransaction }
	s.get("/api/v1/transactions?"+query, &body)
	return body.Transactions
}

func (s *system) meterValues(transactionID int) []apiMeterValue {
	s.t.Helper()
	var body struct{ MeterValues []apiMeterValue }
	s.get("/api/v1/transactions/"+strconv.Itoa(transactionID)+"/meter-values", &body)
	return body.MeterValues
}

// stationMeterValues returns every value the station sent, in a transaction or not. The API
// lists values by transaction only, so this reads the store.
func (s *system) stationMeterValues(chargePointID string) []station.MeterValue {
	s.t.Helper()
	st, err := s.store.StationByChargePointID(s.ctx, s.acct.ID, chargePointID)
	if err != nil {
		s.t.Fatalf("station %s: %v", chargePointID, err)
	}
	mvs, err := s.store.MeterValues(s.ctx, s.acct.ID, station.MeterValueFilter{StationID: st.ID})
	if err != nil {
		s.t.Fatalf("meter values of %s: %v", chargePointID, err)
	}
	return mvs
}

// operations returns the station's operations of an action, the newest first.
func (s *system) operations(chargePointID, action string) []apiOperation {
	s.t.Helper()
	var body struct{ Operations []apiOperation }
	s.get("/api/v1/stations/"+chargePointID+"/operations?action="+action, &body)
	return body.Operations
}

// lastOperation returns the station's newest operation of an action.
func (s *system) lastOperation(chargePointID, action string) apiOperation {
	s.t.Helper()
	ops := s.operations(chargePointID, action)
	if len(ops) == 0 {
		s.t.Fatalf("no %s operation recorded for %s", action, chargePointID)
	}
	return ops[0]
}

// configuration returns the station's last known configuration by key.
func (s *system) configuration(chargePointID string) map[string]apiConfigKey {
	s.t.Helper()
	var body struct{ Configuration []apiConfigKey }
	s.get("/api/v1/stations/"+chargePointID+"/configuration", &body)
	out := make(map[string]apiConfigKey, len(body.Configuration))
	for _, k := range body.Configuration {
		out[k.Key] = k
	}
	return out
}

// reservations returns the station's reservations, the newest first; query may add
// parameters ("state=Reserved").
func (s *system) reservations(chargePointID, query string) []apiReservation {
	s.t.Helper()
	var body struct{ Reservations []apiReservation }
	s.get("/api/v1/stations/"+chargePointID+"/reservations?"+query, &body)
	return body.Reservations
}

// reservation returns the station's newest record of an OCPP reservationId.
func (s *system) reservation(chargePointID string, reservationID int) apiReservation {
	s.t.Helper()
	for _, r := range s.reservations(chargePointID, "") {
		if r.ReservationID == reservationID {
			return r
		}
	}
	s.t.Fatalf("station %s has no reservation %d", chargePointID, reservationID)
	return apiReservation{}
}

func (s *system) profiles(chargePointID string) []apiProfile {
	s.t.Helper()
	var body struct{ ChargingProfiles []apiProfile }
	s.get("/api/v1/stations/"+chargePointID+"/charging-profiles", &body)
	return body.ChargingProfiles
}

func (s *system) localList(chargePointID string) apiLocalList {
	s.t.Helper()
	var l apiLocalList
	s.get("/api/v1/stations/"+chargePointID+"/local-list", &l)
	return l
}

func (s *system) firmwareRequests(chargePointID string) []apiFirmwareRequest {
	s.t.Helper()
	var body struct{ FirmwareRequests []apiFirmwareRequest }
	s.get("/api/v1/stations/"+chargePointID+"/firmware-requests", &body)
	return body.FirmwareRequests
}

func (s *system) diagnosticsRequests(chargePointID string) []apiDiagnosticsRequest {
	s.t.Helper()
	var body struct{ DiagnosticsRequests []apiDiagnosticsRequest }
	s.get("/api/v1/stations/"+chargePointID+"/diagnostics-requests", &body)
	return body.DiagnosticsRequests
}

func (s *system) idTag(tag string) apiIdTag {
	s.t.Helper()
	var out apiIdTag
	s.get("/api/v1/id-tags/"+url.PathEscape(tag), &out)
	return out
}

// ---- The scripted charge point ----

// chargePoint is a charge point whose side of each test case is scripted: it answers the
// central system's CALLs from a per-test script, records every frame on the wire, and sends
// typed requests with typed replies. Its connection can be dropped and made again, as a
// charger's is when it loses the network or reboots.
type chargePoint struct {
	t   *testing.T
	sys *system
	id  string
	// reacting counts the reactions (see answer.then) not yet finished.
	reacting sync.WaitGroup

	mu     sync.Mutex
	script map[string]func(rpc.Call) answer
	frames []frame
	links  int   // connections made so far
	link   *link // the current connection
}

// link is one websocket connection of a charge point. Message ids are per connection.
type link struct {
	n         int // 1 for the first connection
	conn      *rpc.Conn
	served    chan struct{}                 // closed when Serve has returned
	inCalls   map[string]string             // the central system's CALLs: id -> action
	outCalls  map[string]string             // ours
	reactions map[string]func(*chargePoint) // by the id of the CALL they follow
}

// frame is a data frame on the wire, as the charge point saw it.
type frame struct {
	Link      int
	Dir       rpc.Direction
	Type      ocpp.MessageType
	ID        string
	Action    string // of the CALL, or of the CALL a reply answers
	Payload   json.RawMessage
	ErrorCode ocpp.ErrorCode
}

// String writes a frame as the compliance test documents do: "CS>CP Reset.req",
// "CP>CS Reset.conf", "CP>CS Reset CALLERROR NotSupported".
func (f frame) String() string {
	dir := "CP>CS "
	if f.Dir == rpc.Received {
		dir = "CS>CP "
	}
	switch f.Type {
	case ocpp.Call:
		return dir + f.Action + ".req"
	case ocpp.CallResult:
		return dir + f.Action + ".conf"
	}
	return dir + f.Action + " CALLERROR " + string(f.ErrorCode)
}

// answer is the charge point's scripted answer to a CALL of the central system.
type answer struct {
	resp  any         // a response of package ocpp, sent as the CALLRESULT
	err   *ocpp.Error // or a CALLERROR
	after func(*chargePoint)
}

// reply answers with a CALLRESULT of resp, a response type of package ocpp.
func reply(resp any) answer { return answer{resp: resp} }

// refuse answers with a CALLERROR.
func refuse(code ocpp.ErrorCode, description string) answer {
	return answer{err: &ocpp.Error{Code: code, Description: description}}
}

// then makes the charge point run f once the answer is on the wire, as a charger acts on a
// request it has accepted. f runs on a goroutine of its own (a handler must not Call its own
// connection), after the answer is written; it must not fail the test with Fatal (use
// emit). Wait for it with settle.
func (a answer) then(f func(*chargePoint)) answer {
	a.after = f
	return a
}

// connect connects a charge point with that id; it does not boot.
func (s *system) connect(chargePointID string) *chargePoint {
	s.t.Helper()
	cp := &chargePoint{t: s.t, sys: s, id: chargePointID, script: map[string]func(rpc.Call) answer{}}
	cp.dial()
	s.t.Cleanup(cp.close)
	return cp
}

// on scripts the answer to every CALL of action.
func (cp *chargePoint) on(action string, a answer) {
	cp.onCall(action, func(rpc.Call) answer { return a })
}

// onCall scripts the answer to CALLs of action with a function of the CALL.
func (cp *chargePoint) onCall(action string, f func(rpc.Call) answer) {
	cp.mu.Lock()
	cp.script[action] = f
	cp.mu.Unlock()
}

// dial makes a new connection, which becomes the charge point's current one.
func (cp *chargePoint) dial() {
	cp.t.Helper()
	cp.mu.Lock()
	cp.links++
	l := &link{n: cp.links, served: make(chan struct{}), inCalls: map[string]string{},
		outCalls: map[string]string{}, reactions: map[string]func(*chargePoint){}}
	cp.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, err := rpc.Dial(ctx, cp.sys.stationURL(cp.id), rpc.Options{
		CallTimeout: waitTimeout, Logger: quiet,
		OnFrame: func(dir rpc.Direction, b []byte) { cp.onFrame(l, dir, b) },
	}, nil)
	if err != nil {
		cp.t.Fatalf("charge point %s: %v", cp.id, err)
	}
	l.conn = conn
	cp.mu.Lock()
	cp.link = l
	cp.mu.Unlock()
	go func() {
		defer close(l.served)
		conn.Serve(context.Background(), cp.handler(l))
		// Reactions to answers that never made it onto the wire will not run.
		cp.mu.Lock()
		n := len(l.reactions)
		clear(l.reactions)
		cp.mu.Unlock()
		for range n {
			cp.reacting.Done()
		}
	}()
}

func (cp *chargePoint) current() *link {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.link
}

// onFrame records a frame. It runs on the connection's reading or writing goroutine, the
// latter holding the write lock: a reaction started here writes only after the answer it
// follows.
func (cp *chargePoint) onFrame(l *link, dir rpc.Direction, data []byte) {
	f, perr := ocpp.ParseFrame(data)
	if perr != nil {
		cp.t.Errorf("charge point %s: malformed frame %s %s: %v", cp.id, dir, data, perr)
		return
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	fr := frame{Link: l.n, Dir: dir, Type: f.Type, ID: f.ID, Action: f.Action, Payload: f.Payload, ErrorCode: f.ErrorCode}
	switch {
	case f.Type == ocpp.Call && dir == rpc.Received:
		l.inCalls[f.ID] = f.Action
	case f.Type == ocpp.Call:
		l.outCalls[f.ID] = f.Action
	case dir == rpc.Sent:
		fr.Action = l.inCalls[f.ID]
		if react, ok := l.reactions[f.ID]; ok {
			delete(l.reactions, f.ID)
			go func() {
				defer cp.reacting.Done()
				react(cp)
			}()
		}
	default:
		fr.Action = l.outCalls[f.ID]
	}
	cp.frames = append(cp.frames, fr)
}

// handler answers the central system's CALLs from the script; an action the script does not
// have is answered NotSupported.
func (cp *chargePoint) handler(l *link) rpc.Handler {
	return func(ctx context.Context, call rpc.Call) (json.RawMessage, error) {
		cp.mu.Lock()
		script := cp.script[call.Action]
		cp.mu.Unlock()
		if script == nil {
			return nil, ocpp.Errorf(ocpp.NotSupported, "%s is not in this test's script", call.Action)
		}
		a := script(call)
		if a.after != nil {
			cp.reacting.Add(1)
			cp.mu.Lock()
			l.reactions[call.ID] = a.after
			cp.mu.Unlock()
		}
		if a.err != nil {
			return nil, a.err
		}
		b, err := ocpp.EncodePayload(a.resp)
		if err != nil {
			cp.t.Errorf("charge point %s: scripted answer to %s: %v", cp.id, call.Action, err)
			return nil, err
		}
		return b, nil
	}
}

// settle waits for the reactions of the answers given so far.
func (cp *chargePoint) settle() { cp.reacting.Wait() }

// hangUp closes the connection with a close handshake, as a charger does before it reboots,
// and waits until the central system has recorded the disconnection.
func (cp *chargePoint) hangUp() {
	cp.t.Helper()
	l := cp.current()
	l.conn.Close(websocket.StatusNormalClosure, "rebooting")
	cp.ended(l)
}

// drop cuts the connection without a close handshake, as a lost network or a power cut
// does, and waits until the central system has noticed.
func (cp *chargePoint) drop() {
	cp.t.Helper()
	l := cp.current()
	l.conn.CloseNow()
	cp.ended(l)
}

func (cp *chargePoint) ended(l *link) {
	cp.t.Helper()
	select {
	case <-l.served:
	case <-time.After(waitTimeout):
		cp.t.Fatalf("charge point %s: connection did not end", cp.id)
	}
	waitFor(cp.t, cp.id+" to be disconnected", func() bool { return !cp.sys.endpoint.Connected(cp.sys.acct.ID, cp.id) })
}

// reboot hangs up, connects again and sends its BootNotification, which must be accepted.
func (cp *chargePoint) reboot() *ocpp.BootNotificationResponse {
	cp.t.Helper()
	cp.hangUp()
	cp.dial()
	return cp.boot()
}

func (cp *chargePoint) close() {
	cp.settle()
	l := cp.current()
	l.conn.Close(websocket.StatusNormalClosure, "")
	<-l.served
}

// send sends a request of package ocpp and returns the central system's response, decoded
// strictly: what chargebook answers must be valid OCPP.
func (cp *chargePoint) send(req any) (any, error) {
	action, ok := ocpp.ActionOf(req)
	if !ok {
		return nil, fmt.Errorf("%T is not an OCPP request", req)
	}
	payload, err := ocpp.EncodePayload(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	raw, err := cp.current().conn.Call(ctx, action, payload)
	if err != nil {
		return nil, err
	}
	resp, _, err := ocpp.DecodeResponse(action, raw, ocpp.Strict)
	if err != nil {
		return nil, fmt.Errorf("%s.conf %s: %w", action, raw, err)
	}
	return resp, nil
}

// sendAs sends req and returns its response as *R, failing the test otherwise. Only for the
// test's goroutine.
func sendAs[R any](cp *chargePoint, req any) *R {
	cp.t.Helper()
	resp, err := cp.send(req)
	if err != nil {
		cp.t.Fatalf("charge point %s: %v", cp.id, err)
	}
	r, ok := resp.(*R)
	if !ok {
		cp.t.Fatalf("charge point %s: response %T, want *%T", cp.id, resp, *new(R))
	}
	return r
}

// emit sends requests in order, reporting a failure without stopping the test: for
// reactions, which run on goroutines of their own.
func (cp *chargePoint) emit(reqs ...any) {
	for _, req := range reqs {
		if _, err := cp.send(req); err != nil {
			cp.t.Errorf("charge point %s: %v", cp.id, err)
			return
		}
	}
}

// The typed requests of a charge point.

func bootRequest() *ocpp.BootNotificationRequest {
	return &ocpp.BootNotificationRequest{
		ChargePointVendor: "E2E Vendor", ChargePointModel: "E2E Model 2",
		ChargePointSerialNumber: "SN-0001", ChargeBoxSerialNumber: "BOX-0001", FirmwareVersion: "1.0.0",
		MeterType: "E2E meter", MeterSerialNumber: "M-0001",
	}
}

func statusRequest(connectorID int, status ocpp.ChargePointStatus) *ocpp.StatusNotificationRequest {
	return &ocpp.StatusNotificationRequest{ConnectorID: connectorID, Status: status,
		ErrorCode: ocpp.ChargePointErrorCodeNoError, Timestamp: &ocpp.DateTime{Time: time.Now()}}
}

func startRequest(connectorID int, idTag string, meterStart int, at time.Time) *ocpp.StartTransactionRequest {
	return &ocpp.StartTransactionRequest{ConnectorID: connectorID, IdTag: idTag, MeterStart: meterStart, Timestamp: ocpp.DateTime{Time: at}}
}

func stopRequest(transactionID, meterStop int, at time.Time, reason ocpp.Reason, idTag string) *ocpp.StopTransactionRequest {
	return &ocpp.StopTransactionRequest{TransactionID: transactionID, MeterStop: meterStop,
		Timestamp: ocpp.DateTime{Time: at}, Reason: reason, IdTag: idTag}
}

// registerReading is a MeterValues of the energy register, in Wh.
func registerReading(connectorID, transactionID int, at time.Time, wh int) *ocpp.MeterValuesRequest {
	req := &ocpp.MeterValuesRequest{ConnectorID: connectorID, MeterValue: []ocpp.MeterValue{{
		Timestamp: ocpp.DateTime{Time: at},
		SampledValue: []ocpp.SampledValue{{Value: strconv.Itoa(wh), Measurand: ocpp.MeasurandEnergyActiveImportRegister,
			Unit: ocpp.UnitOfMeasureWh, Context: ocpp.ReadingContextSamplePeriodic}},
	}}}
	if transactionID != 0 {
		req.TransactionID = &transactionID
	}
	return req
}

func (cp *chargePoint) boot() *ocpp.BootNotificationResponse {
	cp.t.Helper()
	return sendAs[ocpp.BootNotificationResponse](cp, bootRequest())
}

func (cp *chargePoint) status(connectorID int, status ocpp.ChargePointStatus) {
	cp.t.Helper()
	sendAs[ocpp.StatusNotificationResponse](cp, statusRequest(connectorID, status))
}

func (cp *chargePoint) authorize(idTag string) ocpp.IdTagInfo {
	cp.t.Helper()
	return sendAs[ocpp.AuthorizeResponse](cp, &ocpp.AuthorizeRequest{IdTag: idTag}).IdTagInfo
}

func (cp *chargePoint) start(connectorID int, idTag string, meterStart int, at time.Time) *ocpp.StartTransactionResponse {
	cp.t.Helper()
	return sendAs[ocpp.StartTransactionResponse](cp, startRequest(connectorID, idTag, meterStart, at))
}

func (cp *chargePoint) meter(connectorID, transactionID int, at time.Time, wh int) {
	cp.t.Helper()
	sendAs[ocpp.MeterValuesResponse](cp, registerReading(connectorID, transactionID, at, wh))
}

func (cp *chargePoint) stop(transactionID, meterStop int, at time.Time, reason ocpp.Reason, idTag string) *ocpp.StopTransactionResponse {
	cp.t.Helper()
	return sendAs[ocpp.StopTransactionResponse](cp, stopRequest(transactionID, meterStop, at, reason, idTag))
}

// bootAvailable boots (Accepted) and reports the station and its connectors Available.
func (cp *chargePoint) bootAvailable(connectors int) {
	cp.t.Helper()
	if got := cp.boot(); got.Status != ocpp.RegistrationStatusAccepted {
		cp.t.Fatalf("charge point %s: BootNotification %s", cp.id, got.Status)
	}
	for c := 0; c <= connectors; c++ {
		cp.status(c, ocpp.ChargePointStatusAvailable)
	}
}

// charge runs a local start on a connector (plug in, present the tag, start, charging) and
// returns the transaction's id.
func (cp *chargePoint) charge(connectorID int, idTag string, meterStart int, at time.Time) int {
	cp.t.Helper()
	cp.status(connectorID, ocpp.ChargePointStatusPreparing)
	if info := cp.authorize(idTag); info.Status != ocpp.AuthorizationStatusAccepted {
		cp.t.Fatalf("charge point %s: Authorize %s: %s", cp.id, idTag, info.Status)
	}
	resp := cp.start(connectorID, idTag, meterStart, at)
	if resp.IdTagInfo.Status != ocpp.AuthorizationStatusAccepted || resp.TransactionID <= 0 {
		cp.t.Fatalf("charge point %s: StartTransaction answered %+v", cp.id, resp)
	}
	cp.status(connectorID, ocpp.ChargePointStatusCharging)
	return resp.TransactionID
}

// ---- The wire ----

// mark is where the frames recorded from now on start.
func (cp *chargePoint) mark() int {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return len(cp.frames)
}

// since returns the frames recorded from mark on.
func (cp *chargePoint) since(mark int) []frame {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return slices.Clone(cp.frames[mark:])
}

// wantFlow checks the frames from mark on, written as frame.String writes them.
func (cp *chargePoint) wantFlow(mark int, want ...string) {
	cp.t.Helper()
	var got []string
	for _, f := range cp.since(mark) {
		got = append(got, f.String())
	}
	if !slices.Equal(got, want) {
		cp.t.Errorf("charge point %s: on the wire\n\t%s\nwant\n\t%s", cp.id, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// received returns the CALLs of action the central system sent from mark on.
func (cp *chargePoint) received(mark int, action string) []frame {
	var out []frame
	for _, f := range cp.since(mark) {
		if f.Dir == rpc.Received && f.Type == ocpp.Call && f.Action == action {
			out = append(out, f)
		}
	}
	return out
}

// request decodes, strictly, the one CALL of the request type R the central system sent
// from mark on, failing the test unless there is exactly one.
func request[R any](cp *chargePoint, mark int) *R {
	cp.t.Helper()
	action, ok := ocpp.ActionOf(new(R))
	if !ok {
		cp.t.Fatalf("%T is not an OCPP request", *new(R))
	}
	calls := cp.received(mark, action)
	if len(calls) != 1 {
		cp.t.Fatalf("charge point %s received %d %s, want 1", cp.id, len(calls), action)
	}
	req, _, err := ocpp.DecodeRequest(action, calls[0].Payload, ocpp.Strict)
	if err != nil {
		cp.t.Fatalf("charge point %s: %s %s: %v", cp.id, action, calls[0].Payload, err)
	}
	return req.(*R)
}

// decodeCall decodes, strictly, a CALL the central system sent, in a handler: a request
// that does not validate fails the test (with Error: a handler is not the test's goroutine)
// and decodes as the zero request.
func decodeCall[R any](cp *chargePoint, call rpc.Call) *R {
	req, _, err := ocpp.DecodeRequest(call.Action, call.Payload, ocpp.Strict)
	if err != nil {
		cp.t.Errorf("charge point %s: %s %s: %v", cp.id, call.Action, call.Payload, err)
		return new(R)
	}
	r, ok := req.(*R)
	if !ok {
		cp.t.Errorf("charge point %s: %s decodes as %T, not *%T", cp.id, call.Action, req, *new(R))
		return new(R)
	}
	return r
}

// ---- Values ----

func ptr[T any](v T) *T { return &v }

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b []byte) bool {
	var va, vb any
	return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

// wantJSON checks that got is the JSON value want.
func wantJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if !sameJSON(got, []byte(want)) {
		t.Errorf("%s: %s, want %s", what, bytes.TrimSpace(got), want)
	}
}

// val is *p, or a placeholder for nil, for messages.
func val[T any](p *T) any {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// num is a meter value's number as text, or a placeholder for none.
func num(n *json.Number) string {
	if n == nil {
		return "<nil>"
	}
	return n.String()
}

// now is the present to the millisecond, as records keep times.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// mustJSON marshals v.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
