package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
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
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

// newOpsEnv is newEnv with remote operations, as serve.go wires them: the operation service
// sends through the OCPP endpoint, whose calls time out after callTimeout, and observes the
// station service. The operation service runs on the env's clock.
func newOpsEnv(t *testing.T, callTimeout time.Duration) *env {
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
	e := &env{t: t, ctx: ctx, store: st, clock: &clock{now: time.Now().UTC().Truncate(time.Millisecond)}}
	e.acct, e.token = e.newAccount("a@example.com")
	e.other, e.otherT = e.newAccount("b@example.com")

	svc := station.NewService(st, station.TagAuthorizer{Store: st}, time.Now, quiet)
	ocppServer := csms.New(st, svc, csms.Options{Logger: quiet, RPC: rpc.Options{Logger: quiet, CallTimeout: callTimeout}})
	ops := operation.NewService(st, csms.Sender{Server: ocppServer}, e.clock.Now, quiet)
	svc.SetObserver(ops)
	e.api = api.New(api.Deps{Accounts: st, Stations: st, Live: ocppServer, Operations: ops, Now: e.clock.Now, Logger: quiet})
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

// opStation is a charge point whose answers to the central system's CALLs the test sets.
type opStation struct {
	*testStation
	mu       sync.Mutex
	answers  map[string]string // action -> payload; a missing action is answered NotSupported
	delay    time.Duration
	received []rpc.Call
}

// connect connects a station of account a; its answer to a Heartbeat proves the central
// system has registered it.
func (e *env) connect(a account.Account, chargePointID string) *opStation {
	e.t.Helper()
	s := &opStation{answers: map[string]string{}}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	u := "ws" + strings.TrimPrefix(e.url, "http") + csms.PathPrefix + a.Key + "/" + chargePointID
	conn, err := rpc.Dial(ctx, u, rpc.Options{Logger: quiet, CallTimeout: waitTimeout}, nil)
	if err != nil {
		e.t.Fatalf("dial %s: %v", u, err)
	}
	go conn.Serve(context.Background(), func(ctx context.Context, call rpc.Call) (json.RawMessage, error) {
		s.mu.Lock()
		s.received = append(s.received, call)
		answer, ok := s.answers[call.Action]
		delay := s.delay
		s.mu.Unlock()
		time.Sleep(delay)
		if !ok {
			return nil, ocpp.Errorf(ocpp.NotSupported, "%s is not supported by this charger", call.Action)
		}
		return json.RawMessage(answer), nil
	})
	e.t.Cleanup(func() {
		conn.Close(websocket.StatusNormalClosure, "")
		<-conn.Done()
	})
	s.testStation = &testStation{t: e.t, conn: conn}
	s.call("Heartbeat", `{}`)
	return s
}

func (s *opStation) answer(action, payload string) {
	s.mu.Lock()
	s.answers[action] = payload
	s.mu.Unlock()
}

func (s *opStation) calls() []rpc.Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// last returns the last CALL the station received.
func (s *opStation) last() rpc.Call {
	s.t.Helper()
	calls := s.calls()
	if len(calls) == 0 {
		s.t.Fatal("the station received no CALL")
	}
	return calls[len(calls)-1]
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b []byte) bool {
	var va, vb any
	return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

// tokenID is the id of the first account's token.
func (e *env) tokenID() int64 {
	e.t.Helper()
	tok, err := e.store.TokenByHash(e.ctx, account.HashToken(e.token))
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.ID
}

func TestSendOperation(t *testing.T) {
	e := newOpsEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP-1")
	for _, tc := range []struct {
		action, request, response string
	}{
		{"Reset", `{"type":"Soft"}`, `{"status":"Accepted"}`},
		{"ChangeAvailability", `{"connectorId":0,"type":"Inoperative"}`, `{"status":"Scheduled"}`},
		{"ClearCache", ``, `{"status":"Rejected"}`},
		{"DataTransfer", `{"vendorId":"com.example","messageId":"ping","data":"1"}`, `{"status":"Accepted","data":"pong"}`},
		{"GetCompositeSchedule", `{"connectorId":1,"duration":600}`, `{"status":"Rejected"}`},
		{"TriggerMessage", `{"requestedMessage":"MeterValues","connectorId":1}`, `{"status":"NotImplemented"}`},
		{"UpdateFirmware", `{"location":"https://fw.example.com/2.0.bin","retrieveDate":"2030-01-01T00:00:00.000Z"}`, `{}`},
	} {
		cp.answer(tc.action, tc.response)
		r := e.do("POST", "/api/v1/stations/CP-1/operations/"+tc.action, e.token, tc.request)
		if r.status != http.StatusOK || !sameJSON(r.body, []byte(tc.response)) {
			t.Errorf("%s: %d %s, want the station's %s", tc.action, r.status, r.body, tc.response)
			continue
		}
		want := tc.request
		if want == "" {
			want = "{}"
		}
		if got := cp.last(); got.Action != tc.action || !sameJSON(got.Payload, []byte(want)) {
			t.Errorf("%s: the station received %s %s", tc.action, got.Action, got.Payload)
		}
		loc := r.header.Get("Location")
		if !strings.HasPrefix(loc, "/api/v1/operations/") {
			t.Errorf("%s: Location %q", tc.action, loc)
			continue
		}
		op := e.call("GET", loc, "", http.StatusOK)
		if op["action"] != tc.action || op["status"] != "Answered" || op["actor"] != fmt.Sprintf("token:%d", e.tokenID()) ||
			op["chargePointId"] != "CP-1" || op["failure"] != nil || op["finishedAt"] == nil {
			t.Errorf("%s: operation %v", tc.action, op)
		}
		if b, _ := json.Marshal(op["response"]); !sameJSON(b, []byte(tc.response)) {
			t.Errorf("%s: recorded response %s", tc.action, b)
		}
	}
}

func TestSendOperationRefused(t *testing.T) {
	e := newOpsEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP-1")
	foreign := e.connect(e.other, "CP-9")
	foreign.answer("Reset", `{"status":"Accepted"}`)
	if _, _, err := e.store.RegisterStation(e.ctx, e.acct.ID, "CP-OFF", station.Accepted, account.Strict, time.Now()); err != nil {
		t.Fatal(err)
	}
	reset := "/api/v1/stations/CP-1/operations/Reset"
	for _, tc := range []struct {
		what, method, path, token, body string
		status                          int
		code, field, mentions           string
	}{
		{"no token", "POST", reset, "", `{"type":"Soft"}`, 401, api.CodeUnauthorized, "", ""},
		{"wrong token", "POST", reset, "cb_" + strings.Repeat("A", 32), `{"type":"Soft"}`, 401, api.CodeInvalidToken, "", ""},
		{"another account's station", "POST", "/api/v1/stations/CP-9/operations/Reset", e.token, `{"type":"Soft"}`, 404, api.CodeNotFound, "chargePointId", "CP-9"},
		{"unknown station", "POST", "/api/v1/stations/CP-404/reset", e.token, `{"type":"Soft"}`, 404, api.CodeNotFound, "chargePointId", "CP-404"},
		{"malformed JSON", "POST", reset, e.token, `{"type":"Soft"`, 400, api.CodeMalformedJSON, "", "not valid JSON"},
		{"not an object", "POST", reset, e.token, `["Soft"]`, 400, api.CodeMalformedJSON, "", "not a JSON object"},
		{"value outside the enum", "POST", reset, e.token, `{"type":"soft"}`, 400, api.CodeInvalidField, "type", "Hard, Soft"},
		{"missing property", "POST", reset, e.token, `{}`, 400, api.CodeInvalidField, "type", "required"},
		{"unknown property", "POST", reset, e.token, `{"type":"Soft","when":"now"}`, 400, api.CodeUnknownField, "when", ""},
		{"nested property", "POST", "/api/v1/stations/CP-1/operations/SetChargingProfile", e.token,
			`{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16.25}]}}}`,
			400, api.CodeInvalidField, "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit", "multiple of 0.1"},
		{"rule beyond the schema", "POST", "/api/v1/stations/CP-1/operations/ChangeConfiguration", e.token,
			`{"key":"MeterValueSampleInterval","value":"half a minute"}`, 400, api.CodeInvalidField, "value", "whole number"},
		{"unknown action", "POST", "/api/v1/stations/CP-1/operations/Reboot", e.token, `{}`, 404, api.CodeNotFound, "action", "Reboot"},
		{"action in the wrong case", "POST", "/api/v1/stations/CP-1/operations/reset", e.token, `{"type":"Soft"}`, 404, api.CodeNotFound, "action", "case-sensitive"},
		{"action of a charge point", "POST", "/api/v1/stations/CP-1/operations/Heartbeat", e.token, `{}`, 400, api.CodeInvalidField, "action", "charge point"},
		{"station offline", "POST", "/api/v1/stations/CP-OFF/operations/Reset", e.token, `{"type":"Soft"}`, 409, api.CodeStationNotConnected, "", "not connected"},
		{"GET of an action", "GET", reset, e.token, "", 405, api.CodeMethodNotAllowed, "", "POST"},
	} {
		r := e.do(tc.method, tc.path, tc.token, tc.body)
		wantError(t, tc.what, r, tc.status, tc.code, tc.field, tc.mentions)
	}
	if calls := cp.calls(); len(calls) != 0 {
		t.Errorf("refused requests reached the station: %v", calls)
	}
	if calls := foreign.calls(); len(calls) != 0 {
		t.Errorf("a request reached another account's station: %v", calls)
	}
	// Only the offline station's request was sent, and recorded as failed.
	ops := e.call("GET", "/api/v1/operations", "", http.StatusOK)["operations"].([]any)
	if len(ops) != 1 {
		t.Fatalf("operations recorded: %v", ops)
	}
	if op := ops[0].(map[string]any); op["chargePointId"] != "CP-OFF" || op["status"] != "Failed" || op["failure"] != "NotConnected" {
		t.Errorf("offline operation: %v", op)
	}
	if ops := e.do("GET", "/api/v1/operations", e.otherT, "").json(t)["operations"].([]any); len(ops) != 0 {
		t.Errorf("the other account sees %v", ops)
	}
}

func TestSendOperationStationFails(t *testing.T) {
	e := newOpsEnv(t, 150*time.Millisecond)
	cp := e.connect(e.acct, "CP-1")

	// A CALLERROR is a 502 with the station's code and description.
	r := e.do("POST", "/api/v1/stations/CP-1/unlock", e.token, `{"connectorId":1}`)
	wantError(t, "CALLERROR", r, http.StatusBadGateway, api.CodeStationError, "", "NotSupported")
	var body struct {
		Error struct {
			StationErrorCode        string `json:"stationErrorCode"`
			StationErrorDescription string `json:"stationErrorDescription"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Error.StationErrorCode != "NotSupported" ||
		body.Error.StationErrorDescription != "UnlockConnector is not supported by this charger" {
		t.Errorf("CALLERROR body %s", r.body)
	}
	op := e.call("GET", r.header.Get("Location"), "", http.StatusOK)
	if op["failure"] != "CallError" || op["errorCode"] != "NotSupported" || op["response"] != nil {
		t.Errorf("CALLERROR recorded as %v", op)
	}

	// An answer that does not validate is a 502 too.
	cp.answer("Reset", `{"status":5}`)
	wantError(t, "invalid answer", e.do("POST", "/api/v1/stations/CP-1/reset", e.token, `{"type":"Hard"}`),
		http.StatusBadGateway, api.CodeInvalidResponse, "", "status")

	// An answer too late is a 504.
	cp.answer("Reset", `{"status":"Accepted"}`)
	cp.mu.Lock()
	cp.delay = 300 * time.Millisecond
	cp.mu.Unlock()
	r = e.do("POST", "/api/v1/stations/CP-1/reset", e.token, `{"type":"Hard"}`)
	wantError(t, "timeout", r, http.StatusGatewayTimeout, api.CodeStationTimeout, "", "did not answer")
	if op := e.call("GET", r.header.Get("Location"), "", http.StatusOK); op["failure"] != "Timeout" || op["status"] != "Failed" {
		t.Errorf("timeout recorded as %v", op)
	}
}

func TestShortcuts(t *testing.T) {
	e := newOpsEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP-1")
	for _, tc := range []struct {
		path, action, body, response string
	}{
		{"reset", "Reset", `{"type":"Hard"}`, `{"status":"Accepted"}`},
		{"remote-start", "RemoteStartTransaction", `{"connectorId":2,"idTag":"CARD"}`, `{"status":"Accepted"}`},
		{"remote-stop", "RemoteStopTransaction", `{"transactionId":12}`, `{"status":"Rejected"}`},
		{"unlock", "UnlockConnector", `{"connectorId":1}`, `{"status":"Unlocked"}`},
		{"trigger", "TriggerMessage", `{"requestedMessage":"Heartbeat"}`, `{"status":"Accepted"}`},
	} {
		cp.answer(tc.action, tc.response)
		r := e.do("POST", "/api/v1/stations/CP-1/"+tc.path, e.token, tc.body)
		if r.status != http.StatusOK || !sameJSON(r.body, []byte(tc.response)) {
			t.Errorf("%s: %d %s", tc.path, r.status, r.body)
		}
		if got := cp.last(); got.Action != tc.action || !sameJSON(got.Payload, []byte(tc.body)) {
			t.Errorf("%s: the station received %s %s", tc.path, got.Action, got.Payload)
		}
	}
	wantError(t, "remote-start without idTag", e.do("POST", "/api/v1/stations/CP-1/remote-start", e.token, `{"connectorId":1}`),
		http.StatusBadRequest, api.CodeInvalidField, "idTag", "")
	wantError(t, "remote-start with another profile than TxProfile", e.do("POST", "/api/v1/stations/CP-1/remote-start", e.token,
		`{"idTag":"CARD","chargingProfile":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":7400}]}}}`),
		http.StatusBadRequest, api.CodeInvalidField, "chargingProfile.chargingProfilePurpose", "TxProfile")
}

func TestConfigurationRoutes(t *testing.T) {
	e := newOpsEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP-1")
	if got := e.call("GET", "/api/v1/stations/CP-1/configuration", "", http.StatusOK)["configuration"].([]any); len(got) != 0 {
		t.Errorf("configuration before any refresh: %v", got)
	}
	cp.answer("GetConfiguration", `{"configurationKey":[
		{"key":"MeterValueSampleInterval","readonly":false,"value":"60"},
		{"key":"NumberOfConnectors","readonly":true,"value":"2"}],"unknownKey":[]}`)
	got := e.call("POST", "/api/v1/stations/CP-1/configuration/refresh", "", http.StatusOK)
	keys := configByKey(t, got)
	if keys["MeterValueSampleInterval"]["value"] != "60" || keys["NumberOfConnectors"]["readonly"] != true || len(keys) != 2 {
		t.Errorf("after refresh: %v", got)
	}
	if c := cp.last(); c.Action != "GetConfiguration" || !sameJSON(c.Payload, []byte(`{}`)) {
		t.Errorf("refresh sent %s %s", c.Action, c.Payload)
	}

	cp.answer("ChangeConfiguration", `{"status":"RebootRequired"}`)
	r := e.call("PUT", "/api/v1/stations/CP-1/configuration/keys/MeterValueSampleInterval", `{"value":"30"}`, http.StatusOK)
	if r["status"] != "RebootRequired" {
		t.Errorf("PUT answer %v", r)
	}
	if c := cp.last(); c.Action != "ChangeConfiguration" || !sameJSON(c.Payload, []byte(`{"key":"MeterValueSampleInterval","value":"30"}`)) {
		t.Errorf("PUT sent %s %s", c.Action, c.Payload)
	}
	keys = configByKey(t, e.call("GET", "/api/v1/stations/CP-1/configuration", "", http.StatusOK))
	if k := keys["MeterValueSampleInterval"]; k["value"] != "30" || k["rebootRequired"] != true {
		t.Errorf("after PUT: %v", k)
	}

	cp.answer("GetConfiguration", `{"unknownKey":["Foo"]}`)
	keys = configByKey(t, e.call("POST", "/api/v1/stations/CP-1/configuration/refresh", `{"key":["Foo"]}`, http.StatusOK))
	if k := keys["Foo"]; k["unknown"] != true || k["value"] != nil || len(keys) != 3 {
		t.Errorf("after a partial refresh: %v", keys)
	}

	put := "/api/v1/stations/CP-1/configuration/keys/MeterValueSampleInterval"
	wantError(t, "PUT without value", e.do("PUT", put, e.token, `{}`), 400, api.CodeInvalidField, "value", "required")
	wantError(t, "PUT with a number", e.do("PUT", put, e.token, `{"value":30}`), 400, api.CodeInvalidField, "value", "string")
	wantError(t, "PUT with another property", e.do("PUT", put, e.token, `{"value":"30","key":"x"}`), 400, api.CodeUnknownField, "key", "")
	wantError(t, "PUT of a value the key cannot take", e.do("PUT", put, e.token, `{"value":"soon"}`), 400, api.CodeInvalidField, "value", "whole number")
	wantError(t, "PUT of a key too long", e.do("PUT", "/api/v1/stations/CP-1/configuration/keys/"+strings.Repeat("K", 51), e.token, `{"value":"1"}`),
		400, api.CodeInvalidField, "key", "at most 50")
	wantError(t, "another account's configuration", e.do("GET", "/api/v1/stations/CP-1/configuration", e.otherT, ""), 404, api.CodeNotFound, "chargePointId", "")
}

func configByKey(t *testing.T, body map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, k := range body["configuration"].([]any) {
		m := k.(map[string]any)
		out[m["key"].(string)] = m
	}
	return out
}

func TestOperationLog(t *testing.T) {
	e := newOpsEnv(t, waitTimeout)
	cp1 := e.connect(e.acct, "CP-1")
	cp2 := e.connect(e.acct, "CP-2")
	e.connect(e.other, "CP-9")
	cp1.answer("Reset", `{"status":"Accepted"}`)
	cp2.answer("Reset", `{"status":"Accepted"}`)
	cp1.answer("ClearCache", `{"status":"Accepted"}`)
	e.call("POST", "/api/v1/stations/CP-1/reset", `{"type":"Soft"}`, http.StatusOK)
	e.call("POST", "/api/v1/stations/CP-2/reset", `{"type":"Soft"}`, http.StatusOK)
	e.call("POST", "/api/v1/stations/CP-1/operations/ClearCache", `{}`, http.StatusOK)
	actions := func(path string) []string {
		t.Helper()
		var out []string
		for _, op := range e.call("GET", path, "", http.StatusOK)["operations"].([]any) {
			m := op.(map[string]any)
			out = append(out, m["chargePointId"].(string)+" "+m["action"].(string))
		}
		return out
	}
	for path, want := range map[string][]string{
		"/api/v1/operations":                            {"CP-1 ClearCache", "CP-2 Reset", "CP-1 Reset"},
		"/api/v1/operations?station=CP-1":               {"CP-1 ClearCache", "CP-1 Reset"},
		"/api/v1/operations?action=Reset":               {"CP-2 Reset", "CP-1 Reset"},
		"/api/v1/operations?action=Reset&limit=1":       {"CP-2 Reset"},
		"/api/v1/stations/CP-1/operations":              {"CP-1 ClearCache", "CP-1 Reset"},
		"/api/v1/stations/CP-2/operations?action=Reset": {"CP-2 Reset"},
	} {
		if got := actions(path); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
	wantError(t, "log of another account's station", e.do("GET", "/api/v1/operations?station=CP-9", e.token, ""), 404, api.CodeNotFound, "station", "CP-9")
	wantError(t, "unknown action", e.do("GET", "/api/v1/operations?action=Reboot", e.token, ""), 400, api.CodeInvalidParameter, "action", "Reboot")
	wantError(t, "bad limit", e.do("GET", "/api/v1/operations?limit=0", e.token, ""), 400, api.CodeInvalidParameter, "limit", "")
	wantError(t, "unknown parameter", e.do("GET", "/api/v1/stations/CP-1/operations?station=CP-2", e.token, ""), 400, api.CodeInvalidParameter, "station", "")
	first := e.call("GET", "/api/v1/operations?limit=1", "", http.StatusOK)["operations"].([]any)[0].(map[string]any)
	id := first["id"].(json.Number).String()
	wantError(t, "another account's operation", e.do("GET", "/api/v1/operations/"+id, e.otherT, ""), 404, api.CodeNotFound, "operationId", "")
	wantError(t, "operation id not a number", e.do("GET", "/api/v1/operations/x", e.token, ""), 400, api.CodeInvalidField, "operationId", "")
	wantError(t, "unknown operation", e.do("GET", "/api/v1/operations/999", e.token, ""), 404, api.CodeNotFound, "operationId", "999")
}

func TestRecordRoutes(t *testing.T) {
	e := newOpsEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP-1")
	e.connect(e.other, "CP-9")
	expiry := e.clock.Now().Add(time.Hour).Format(time.RFC3339)

	cp.answer("ReserveNow", `{"status":"Accepted"}`)
	e.call("POST", "/api/v1/stations/CP-1/operations/ReserveNow", fmt.Sprintf(`{"connectorId":1,"expiryDate":%q,"idTag":"CARD","reservationId":7}`, expiry), http.StatusOK)
	e.call("POST", "/api/v1/stations/CP-1/operations/ReserveNow", fmt.Sprintf(`{"connectorId":2,"expiryDate":%q,"idTag":"OTHER","reservationId":8}`, e.clock.Now().Add(time.Minute).Format(time.RFC3339)), http.StatusOK)
	cp.answer("ReserveNow", `{"status":"Occupied"}`)
	e.call("POST", "/api/v1/stations/CP-1/operations/ReserveNow", fmt.Sprintf(`{"connectorId":1,"expiryDate":%q,"idTag":"CARD","reservationId":9}`, expiry), http.StatusOK)
	states := func(path string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, r := range e.call("GET", path, "", http.StatusOK)["reservations"].([]any) {
			m := r.(map[string]any)
			out[m["reservationId"].(json.Number).String()] = m["state"].(string)
		}
		return out
	}
	if got := states("/api/v1/reservations"); !reflect.DeepEqual(got, map[string]string{"7": "Reserved", "8": "Reserved", "9": "Occupied"}) {
		t.Errorf("reservations: %v", got)
	}
	// The start with reservation 7 uses it.
	start := cp.call("StartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":"CARD","meterStart":0,"reservationId":7,"timestamp":%q}`, time.Now().UTC().Format(time.RFC3339)))
	txID := start.(*ocpp.StartTransactionResponse).TransactionID
	used := e.call("GET", "/api/v1/stations/CP-1/reservations?state=Used", "", http.StatusOK)["reservations"].([]any)
	if len(used) != 1 || used[0].(map[string]any)["transactionId"].(json.Number).String() != fmt.Sprint(txID) {
		t.Errorf("used reservations: %v", used)
	}
	e.clock.advance(2 * time.Minute)
	if got := states("/api/v1/reservations?state=Expired"); !reflect.DeepEqual(got, map[string]string{"8": "Expired"}) {
		t.Errorf("expired reservations: %v", got)
	}
	if got := states("/api/v1/reservations?station=CP-1&state=Reserved"); len(got) != 0 {
		t.Errorf("reserved reservations: %v", got)
	}
	if got := e.do("GET", "/api/v1/reservations", e.otherT, "").json(t)["reservations"].([]any); len(got) != 0 {
		t.Errorf("the other account sees reservations %v", got)
	}
	wantError(t, "bad state", e.do("GET", "/api/v1/reservations?state=Booked", e.token, ""), 400, api.CodeInvalidParameter, "state", "Booked")
	wantError(t, "another account's station", e.do("GET", "/api/v1/reservations?station=CP-9", e.token, ""), 404, api.CodeNotFound, "station", "")

	cp.answer("SetChargingProfile", `{"status":"Accepted"}`)
	e.call("POST", "/api/v1/stations/CP-1/operations/SetChargingProfile", `{"connectorId":0,"csChargingProfiles":{"chargingProfileId":3,"stackLevel":1,
		"chargingProfilePurpose":"ChargePointMaxProfile","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A",
		"startSchedule":"2026-01-01T00:00:00Z","chargingSchedulePeriod":[{"startPeriod":0,"limit":32.0,"numberPhases":3}]}}}`, http.StatusOK)
	profiles := e.call("GET", "/api/v1/stations/CP-1/charging-profiles", "", http.StatusOK)["chargingProfiles"].([]any)
	if len(profiles) != 1 {
		t.Fatalf("charging profiles: %v", profiles)
	}
	p := profiles[0].(map[string]any)
	if cpf := p["chargingProfile"].(map[string]any); p["connectorId"].(json.Number).String() != "0" || cpf["chargingProfileId"].(json.Number).String() != "3" ||
		cpf["chargingSchedule"].(map[string]any)["startSchedule"] != "2026-01-01T00:00:00.000Z" {
		t.Errorf("charging profile: %v", p)
	}

	cp.answer("SendLocalList", `{"status":"Accepted"}`)
	e.call("POST", "/api/v1/stations/CP-1/operations/SendLocalList", `{"listVersion":4,"updateType":"Full","localAuthorizationList":[{"idTag":"CARD","idTagInfo":{"status":"Accepted","parentIdTag":"FLEET"}}]}`, http.StatusOK)
	list := e.call("GET", "/api/v1/stations/CP-1/local-list", "", http.StatusOK)
	if list["version"].(json.Number).String() != "4" || len(list["entries"].([]any)) != 1 {
		t.Errorf("local list: %v", list)
	}

	cp.answer("UpdateFirmware", `{}`)
	e.call("POST", "/api/v1/stations/CP-1/operations/UpdateFirmware", `{"location":"https://fw.example.com/2.0.bin","retrieveDate":"2030-01-01T00:00:00Z"}`, http.StatusOK)
	cp.call("FirmwareStatusNotification", `{"status":"Downloading"}`)
	fw := e.call("GET", "/api/v1/stations/CP-1/firmware-requests", "", http.StatusOK)["firmwareRequests"].([]any)
	if len(fw) != 1 || fw[0].(map[string]any)["status"] != "Downloading" || fw[0].(map[string]any)["open"] != true {
		t.Errorf("firmware requests: %v", fw)
	}
	cp.answer("GetDiagnostics", `{"fileName":"diag.tgz"}`)
	e.call("POST", "/api/v1/stations/CP-1/operations/GetDiagnostics", `{"location":"ftp://logs.example.com/"}`, http.StatusOK)
	cp.call("DiagnosticsStatusNotification", `{"status":"Uploaded"}`)
	dg := e.call("GET", "/api/v1/stations/CP-1/diagnostics-requests", "", http.StatusOK)["diagnosticsRequests"].([]any)
	if len(dg) != 1 || dg[0].(map[string]any)["status"] != "Uploaded" || dg[0].(map[string]any)["fileName"] != "diag.tgz" {
		t.Errorf("diagnostics requests: %v", dg)
	}
	for _, path := range []string{"charging-profiles", "local-list", "firmware-requests", "diagnostics-requests", "reservations", "operations", "configuration"} {
		wantError(t, path+" of another account", e.do("GET", "/api/v1/stations/CP-9/"+path, e.token, ""), 404, api.CodeNotFound, "chargePointId", "")
	}
}

// TestOperationsWithoutService: a server without remote operations answers 503 rather than
// failing.
func TestOperationsWithoutService(t *testing.T) {
	e := newEnv(t)
	e.seed()
	wantError(t, "send", e.do("POST", "/api/v1/stations/CP-1/reset", e.token, `{"type":"Soft"}`), 503, api.CodeUnavailable, "", "")
	wantError(t, "log", e.do("GET", "/api/v1/operations", e.token, ""), 503, api.CodeUnavailable, "", "")
}

// TestOpenAPIDescribesOperations checks the answers of the operation routes against the
// document, as TestOpenAPIDescribesResponses does for the others, and that the document's
// actions are those a central system sends.
func TestOpenAPIDescribesOperations(t *testing.T) {
	e := newOpsEnv(t, 200*time.Millisecond)
	doc := loadOpenAPI(t, e)
	base := doc.serverBase(t)
	cp := e.connect(e.acct, "CP-1")
	if _, _, err := e.store.RegisterStation(e.ctx, e.acct.ID, "CP-OFF", station.Accepted, account.Strict, time.Now()); err != nil {
		t.Fatal(err)
	}
	for action, answer := range map[string]string{
		"Reset": `{"status":"Accepted"}`, "GetConfiguration": `{"configurationKey":[{"key":"A","readonly":false,"value":"1"},{"key":"B","readonly":true}],"unknownKey":["C"]}`,
		"ChangeConfiguration": `{"status":"Accepted"}`, "ReserveNow": `{"status":"Accepted"}`, "SetChargingProfile": `{"status":"Accepted"}`,
		"SendLocalList": `{"status":"Accepted"}`, "UpdateFirmware": `{}`, "GetDiagnostics": `{}`, "RemoteStopTransaction": `{"status":"Accepted"}`,
		"RemoteStartTransaction": `{"status":"Accepted"}`, "TriggerMessage": `{"status":"Accepted"}`, "GetLocalListVersion": `{"listVersion":2}`,
		"CancelReservation": `{"status":"Rejected"}`,
	} {
		cp.answer(action, answer)
	}
	expiry := e.clock.Now().Add(time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		method, path, token, body string
	}{
		{"POST", "/api/v1/stations/CP-1/operations/Reset", e.token, `{"type":"Soft"}`},
		{"POST", "/api/v1/stations/CP-1/operations/ReserveNow", e.token, fmt.Sprintf(`{"connectorId":1,"expiryDate":%q,"idTag":"CARD","parentIdTag":"P","reservationId":1}`, expiry)},
		{"POST", "/api/v1/stations/CP-1/operations/CancelReservation", e.token, `{"reservationId":1}`},
		{"POST", "/api/v1/stations/CP-1/operations/SetChargingProfile", e.token, `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}}`},
		{"POST", "/api/v1/stations/CP-1/operations/SendLocalList", e.token, `{"listVersion":2,"updateType":"Full","localAuthorizationList":[{"idTag":"A","idTagInfo":{"status":"Accepted","expiryDate":"2030-01-01T00:00:00Z"}},{"idTag":"B","idTagInfo":{"status":"Blocked"}}]}`},
		{"POST", "/api/v1/stations/CP-1/operations/GetLocalListVersion", e.token, ``},
		{"POST", "/api/v1/stations/CP-1/operations/UpdateFirmware", e.token, `{"location":"https://fw.example.com/f.bin","retrieveDate":"2030-01-01T00:00:00Z","retries":2}`},
		{"POST", "/api/v1/stations/CP-1/operations/GetDiagnostics", e.token, `{"location":"ftp://logs.example.com/","startTime":"2026-01-01T00:00:00Z"}`},
		{"POST", "/api/v1/stations/CP-1/reset", e.token, `{"type":"Hard"}`},
		{"POST", "/api/v1/stations/CP-1/remote-start", e.token, `{"idTag":"CARD"}`},
		{"POST", "/api/v1/stations/CP-1/remote-stop", e.token, `{"transactionId":1}`},
		{"POST", "/api/v1/stations/CP-1/trigger", e.token, `{"requestedMessage":"Heartbeat"}`},
		{"POST", "/api/v1/stations/CP-1/configuration/refresh", e.token, ``},
		{"PUT", "/api/v1/stations/CP-1/configuration/keys/A", e.token, `{"value":"2"}`},
		{"GET", "/api/v1/stations/CP-1/configuration", e.token, ""},
		{"GET", "/api/v1/operations", e.token, ""},
		{"GET", "/api/v1/operations/1", e.token, ""},
		{"GET", "/api/v1/stations/CP-1/operations?action=Reset", e.token, ""},
		{"GET", "/api/v1/reservations", e.token, ""},
		{"GET", "/api/v1/stations/CP-1/reservations", e.token, ""},
		{"GET", "/api/v1/stations/CP-1/charging-profiles", e.token, ""},
		{"GET", "/api/v1/stations/CP-1/local-list", e.token, ""},
		{"GET", "/api/v1/stations/CP-OFF/local-list", e.token, ""},
		{"GET", "/api/v1/stations/CP-1/firmware-requests", e.token, ""},
		{"GET", "/api/v1/stations/CP-1/diagnostics-requests", e.token, ""},
		// Errors.
		{"POST", "/api/v1/stations/CP-1/unlock", e.token, `{"connectorId":1}`}, // 502 CALLERROR
		{"POST", "/api/v1/stations/CP-OFF/reset", e.token, `{"type":"Soft"}`},  // 409
		{"POST", "/api/v1/stations/CP-1/operations/Reset", e.token, `{"type":1}`},
		{"POST", "/api/v1/stations/CP-1/operations/Reboot", e.token, `{}`},
		{"POST", "/api/v1/stations/CP-1/operations/Reset", "", `{"type":"Soft"}`},
		{"PUT", "/api/v1/stations/CP-1/configuration/keys/A", e.token, `{}`},
		{"GET", "/api/v1/operations?action=x", e.token, ""},
		{"GET", "/api/v1/operations/999", e.token, ""},
		{"GET", "/api/v1/stations/CP-9/charging-profiles", e.token, ""},
	} {
		what := tc.method + " " + tc.path
		r := e.do(tc.method, tc.path, tc.token, tc.body)
		checkDocumented(t, doc, base, what, tc.method, tc.path, r)
	}
	// 504, last: the late answer holds the station up.
	cp.mu.Lock()
	cp.delay = 400 * time.Millisecond
	cp.mu.Unlock()
	r := e.do("POST", "/api/v1/stations/CP-1/reset", e.token, `{"type":"Soft"}`)
	if r.status != http.StatusGatewayTimeout {
		t.Errorf("timeout: %d %s", r.status, r.body)
	}
	checkDocumented(t, doc, base, "timeout", "POST", "/api/v1/stations/CP-1/reset", r)

	var want []any
	for _, a := range ocpp.Actions() {
		if a.SentBy(ocpp.CentralSystem) {
			want = append(want, a.Name)
		}
	}
	action := doc.resolve(t, map[string]any{"$ref": "#/components/parameters/action"})
	if got := action["schema"].(map[string]any)["enum"].([]any); !reflect.DeepEqual(got, want) {
		t.Errorf("the document's actions %v, want %v", got, want)
	}
}

// checkDocumented checks an answer against the document's schema for its status.
func checkDocumented(t *testing.T, doc openAPIDoc, base, what, method, path string, r response) {
	t.Helper()
	docPath := matchDocPath(t, doc, strings.TrimPrefix(strings.SplitN(path, "?", 2)[0], base))
	op, _, ok := doc.operation(t, docPath, method)
	if !ok {
		t.Errorf("%s: no operation in the document", what)
		return
	}
	resp, ok := op["responses"].(map[string]any)[fmt.Sprint(r.status)].(map[string]any)
	if !ok {
		t.Errorf("%s: status %d is not documented: %s", what, r.status, r.body)
		return
	}
	resp = doc.resolve(t, resp)
	media, _ := resp["content"].(map[string]any)["application/json"].(map[string]any)
	schema, _ := media["schema"].(map[string]any)
	if schema == nil {
		t.Errorf("%s: %d has no application/json schema", what, r.status)
		return
	}
	var body any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	for _, problem := range checkSchema(t, doc, schema, body, "body") {
		t.Errorf("%s: %s", what, problem)
	}
}
