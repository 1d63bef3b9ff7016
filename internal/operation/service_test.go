package operation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

// sample is a valid request of an action with an answer a station could give, and an
// invalid request with the field its error must name.
type sample struct {
	request, response string
	invalid, field    string
}

const profileJSON = `{"chargingProfileId":%d,"stackLevel":%d,"chargingProfilePurpose":%q,"chargingProfileKind":"Absolute",
	"chargingSchedule":{"chargingRateUnit":"A","startSchedule":"2026-11-24T00:00:00.000Z","chargingSchedulePeriod":[{"startPeriod":0,"limit":%s}]}}`

func profile(id, stack int, purpose, limit string) string {
	return fmt.Sprintf(profileJSON, id, stack, purpose, limit)
}

// samples covers every action a central system sends, those of the security extension too.
var samples = map[string]sample{
	"CancelReservation":  {`{"reservationId":1}`, `{"status":"Accepted"}`, `{"reservationId":"one"}`, "reservationId"},
	"CertificateSigned":  {`{"certificateChain":"-----BEGIN CERTIFICATE-----"}`, `{"status":"Accepted"}`, `{}`, "certificateChain"},
	"ChangeAvailability": {`{"connectorId":1,"type":"Inoperative"}`, `{"status":"Scheduled"}`, `{"connectorId":1,"type":"Off"}`, "type"},
	"ChangeConfiguration": {`{"key":"MeterValueSampleInterval","value":"30"}`, `{"status":"Accepted"}`,
		`{"key":"MeterValueSampleInterval","value":"thirty"}`, "value"},
	"ClearCache": {`{}`, `{"status":"Accepted"}`, `{"all":true}`, "all"},
	"ClearChargingProfile": {`{"connectorId":1,"chargingProfilePurpose":"TxDefaultProfile"}`, `{"status":"Accepted"}`,
		`{"stackLevel":"high"}`, "stackLevel"},
	"DataTransfer": {`{"vendorId":"com.example","messageId":"Hello","data":"x"}`, `{"status":"Accepted","data":"y"}`,
		`{"messageId":"Hello"}`, "vendorId"},
	"DeleteCertificate": {`{"certificateHashData":{"hashAlgorithm":"SHA256","issuerNameHash":"a","issuerKeyHash":"b","serialNumber":"c"}}`,
		`{"status":"NotFound"}`, `{"certificateHashData":{"hashAlgorithm":"MD5","issuerNameHash":"a","issuerKeyHash":"b","serialNumber":"c"}}`,
		"certificateHashData.hashAlgorithm"},
	"ExtendedTriggerMessage": {`{"requestedMessage":"Heartbeat"}`, `{"status":"Accepted"}`, `{"requestedMessage":"Reboot"}`, "requestedMessage"},
	"GetCompositeSchedule": {`{"connectorId":1,"duration":3600,"chargingRateUnit":"W"}`,
		`{"status":"Accepted","connectorId":1,"scheduleStart":"2026-11-24T12:00:00.000Z","chargingSchedule":{"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":11000.0}]}}`,
		`{"connectorId":1}`, "duration"},
	"GetConfiguration": {`{"key":["HeartbeatInterval"]}`, `{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"}]}`,
		`{"key":"HeartbeatInterval"}`, "key"},
	"GetDiagnostics": {`{"location":"ftp://logs.example.com/up/","retries":2,"startTime":"2026-11-20T00:00:00.000Z"}`, `{"fileName":"diag.zip"}`,
		`{"location":"not a uri"}`, "location"},
	"GetInstalledCertificateIds": {`{"certificateType":"CentralSystemRootCertificate"}`, `{"status":"NotFound"}`, `{}`, "certificateType"},
	"GetLocalListVersion":        {`{}`, `{"listVersion":3}`, `{"version":1}`, "version"},
	"GetLog": {`{"log":{"remoteLocation":"https://logs.example.com/"},"logType":"DiagnosticsLog","requestId":1}`, `{"status":"Accepted","filename":"log.txt"}`,
		`{"log":{"remoteLocation":"https://logs.example.com/"},"logType":"DiagnosticsLog"}`, "requestId"},
	"InstallCertificate": {`{"certificateType":"ManufacturerRootCertificate","certificate":"PEM"}`, `{"status":"Accepted"}`,
		`{"certificateType":"ManufacturerRootCertificate"}`, "certificate"},
	"RemoteStartTransaction": {`{"connectorId":1,"idTag":"TAG1"}`, `{"status":"Accepted"}`, `{"idTag":"THIS-TAG-IS-LONGER-THAN-20"}`, "idTag"},
	"RemoteStopTransaction":  {`{"transactionId":5}`, `{"status":"Rejected"}`, `{}`, "transactionId"},
	"ReserveNow": {`{"connectorId":1,"expiryDate":"2030-01-01T00:00:00.000Z","idTag":"TAG1","reservationId":1}`, `{"status":"Accepted"}`,
		`{"connectorId":1,"expiryDate":"tomorrow","idTag":"TAG1","reservationId":1}`, "expiryDate"},
	"Reset": {`{"type":"Soft"}`, `{"status":"Accepted"}`, `{"type":"soft"}`, "type"},
	"SendLocalList": {`{"listVersion":2,"updateType":"Full","localAuthorizationList":[{"idTag":"A","idTagInfo":{"status":"Accepted"}}]}`,
		`{"status":"Accepted"}`, `{"listVersion":2,"updateType":"Full","localAuthorizationList":[{"idTag":"A"}]}`, "localAuthorizationList[0].idTagInfo"},
	"SetChargingProfile": {`{"connectorId":1,"csChargingProfiles":` + profile(1, 0, "TxDefaultProfile", "16.5") + `}`, `{"status":"Accepted"}`,
		`{"connectorId":1,"csChargingProfiles":` + profile(1, 0, "TxDefaultProfile", "16.55") + `}`,
		"csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit"},
	"SignedUpdateFirmware": {`{"requestId":1,"firmware":{"location":"https://fw.example.com/f.bin","retrieveDateTime":"2026-11-25T00:00:00.000Z","signingCertificate":"PEM","signature":"sig"}}`,
		`{"status":"Accepted"}`, `{"requestId":1,"firmware":{"location":"https://fw.example.com/f.bin","retrieveDateTime":"2026-11-25T00:00:00.000Z","signingCertificate":"PEM"}}`,
		"firmware.signature"},
	"TriggerMessage":  {`{"requestedMessage":"StatusNotification","connectorId":1}`, `{"status":"Accepted"}`, `{"requestedMessage":"Reboot"}`, "requestedMessage"},
	"UnlockConnector": {`{"connectorId":1}`, `{"status":"Unlocked"}`, `{"connectorId":0}`, "connectorId"},
	"UpdateFirmware": {`{"location":"https://fw.example.com/f.bin","retrieveDate":"2026-11-25T00:00:00.000Z","retries":3}`, `{}`,
		`{"location":"https://fw.example.com/f.bin"}`, "retrieveDate"},
}

// centralSystemActions are the actions a central system sends, by name.
func centralSystemActions(t *testing.T) []string {
	var names []string
	for _, a := range ocpp.Actions() {
		if a.SentBy(ocpp.CentralSystem) {
			names = append(names, a.Name)
			if _, ok := samples[a.Name]; !ok {
				t.Errorf("no sample of %s", a.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

func TestExecuteEveryAction(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	for _, action := range centralSystemActions(t) {
		t.Run(action, func(t *testing.T) {
			s := samples[action]
			cp.answers(map[string]string{action: s.response})
			before := time.Now()
			res, err := e.exec("CP1", action, s.request)
			if err != nil {
				t.Fatalf("execute: %v", err)
			}
			got := cp.last()
			if got.Action != action || !sameJSON(t, got.Payload, []byte(s.request)) {
				t.Errorf("station received %s %s, want %s", got.Action, got.Payload, s.request)
			}
			if name, _ := ocpp.ActionOf(res.Response); name != action || reflect.TypeOf(res.Response).Kind() != reflect.Pointer {
				t.Errorf("response is %T", res.Response)
			}
			op := res.Operation
			if op.Status != operation.Answered || op.Failure != "" || op.Action != action || op.Actor != "test" ||
				op.ChargePointID != "CP1" || op.AccountID != e.acct.ID || op.FinishedAt.Before(op.RequestedAt) ||
				op.RequestedAt.Before(before.Add(-time.Second)) {
				t.Errorf("operation %+v", op)
			}
			if !sameJSON(t, op.Request, []byte(s.request)) || !sameJSON(t, op.Response, []byte(s.response)) {
				t.Errorf("recorded request %s response %s, want %s and %s", op.Request, op.Response, s.request, s.response)
			}
			stored, err := e.ops.Operation(e.ctx, e.acct.ID, op.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stored, op) {
				t.Errorf("stored operation\n %+v\nwant %+v", stored, op)
			}
		})
	}
	ops, err := e.ops.Operations(e.ctx, e.acct.ID, operation.OperationFilter{ChargePointID: "CP1"})
	if err != nil || len(ops) != len(samples) {
		t.Errorf("operations of CP1: %d, %v; want %d", len(ops), err, len(samples))
	}
	ops, err = e.ops.Operations(e.ctx, e.acct.ID, operation.OperationFilter{Action: "Reset", Limit: 5})
	if err != nil || len(ops) != 1 || ops[0].Action != "Reset" {
		t.Errorf("Reset operations: %+v, %v", ops, err)
	}
	if ops, err := e.ops.Operations(e.ctx, e.other.ID, operation.OperationFilter{}); err != nil || len(ops) != 0 {
		t.Errorf("the other account sees %d operations, %v", len(ops), err)
	}
	_, err = e.ops.Operations(e.ctx, e.other.ID, operation.OperationFilter{ChargePointID: "CP1"})
	if !errors.Is(err, station.ErrNotFound) {
		t.Errorf("operations of another account's station: %v", err)
	}
}

// failedOp checks that res records a failure of the kind.
func failedOp(t *testing.T, e *env, res operation.Result, failure operation.Failure) operation.Operation {
	t.Helper()
	op := res.Operation
	if op.ID == 0 || op.Status != operation.Failed || op.Failure != failure || op.Response != nil || op.FinishedAt.IsZero() {
		t.Errorf("operation %+v, want failed with %s", op, failure)
	}
	stored, err := e.ops.Operation(e.ctx, e.acct.ID, op.ID)
	if err != nil || !reflect.DeepEqual(stored, op) {
		t.Errorf("stored %+v, %v\nwant %+v", stored, err, op)
	}
	if res.Response != nil {
		t.Errorf("response %v with a failure", res.Response)
	}
	return op
}

func TestExecuteCallError(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	cp.answerWith(func(call rpc.Call) (json.RawMessage, error) {
		return nil, ocpp.Errorf(ocpp.NotSupported, "%s is not supported here", call.Action)
	})
	for _, action := range centralSystemActions(t) {
		res, err := e.exec("CP1", action, samples[action].request)
		var se *operation.StationError
		if !errors.As(err, &se) || se.Code != "NotSupported" || se.Description != action+" is not supported here" {
			t.Errorf("%s: error %v, want the station's CALLERROR", action, err)
			continue
		}
		op := failedOp(t, e, res, operation.FailureCallError)
		if op.ErrorCode != "NotSupported" || op.ErrorDescription != action+" is not supported here" {
			t.Errorf("%s: recorded %s %q", action, op.ErrorCode, op.ErrorDescription)
		}
	}
}

func TestExecuteTimeout(t *testing.T) {
	e := newEnv(t, 100*time.Millisecond)
	cp := e.connect(e.acct, "CP1")
	// The station answers too late; its read loop is held up meanwhile, so the next CALL
	// waits for it too.
	cp.answerWith(func(call rpc.Call) (json.RawMessage, error) {
		time.Sleep(150 * time.Millisecond)
		return json.RawMessage(samples[call.Action].response), nil
	})
	for _, action := range centralSystemActions(t) {
		res, err := e.exec("CP1", action, samples[action].request)
		if !errors.Is(err, operation.ErrTimeout) {
			t.Errorf("%s: error %v, want ErrTimeout", action, err)
			continue
		}
		failedOp(t, e, res, operation.FailureTimeout)
	}
	// The late answers changed nothing recorded.
	time.Sleep(200 * time.Millisecond)
	if keys, err := e.ops.Configuration(e.ctx, e.acct.ID, "CP1"); err != nil || len(keys) != 0 {
		t.Errorf("configuration after late answers: %+v, %v", keys, err)
	}
}

func TestExecuteNotConnected(t *testing.T) {
	e := newEnv(t, waitTimeout)
	// CP1 was never connected; CP2 was and left.
	if _, _, err := e.store.RegisterStation(e.ctx, e.acct.ID, "CP1", station.Accepted, account.Strict, time.Now()); err != nil {
		t.Fatal(err)
	}
	cp2 := e.connect(e.acct, "CP2")
	cp2.conn.Close(1000, "")
	<-cp2.conn.Done()
	deadline := time.Now().Add(waitTimeout)
	for e.srv.Connected(e.acct.ID, "CP2") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for _, cp := range []string{"CP1", "CP2"} {
		for _, action := range centralSystemActions(t) {
			res, err := e.exec(cp, action, samples[action].request)
			if !errors.Is(err, operation.ErrNotConnected) {
				t.Errorf("%s %s: error %v, want ErrNotConnected", cp, action, err)
				continue
			}
			failedOp(t, e, res, operation.FailureNotConnected)
		}
	}
}

func TestExecuteRefused(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	e.connect(e.other, "CP9")
	refused := func(what string, err error, target error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Errorf("%s: error %v, want %v", what, err, target)
		}
	}
	for _, action := range centralSystemActions(t) {
		s := samples[action]
		_, err := e.exec("CP1", action, s.invalid)
		var oe *ocpp.Error
		if !errors.As(err, &oe) || !strings.HasPrefix(oe.Description, s.field+": ") {
			t.Errorf("%s %s: error %v, want one about %s", action, s.invalid, err, s.field)
		}
	}
	_, err := e.exec("CP1", "Reset", `{"type":"Soft"`)
	var oe *ocpp.Error
	if !errors.As(err, &oe) || oe.Code != ocpp.FormationViolation || !strings.Contains(oe.Description, "not valid JSON") {
		t.Errorf("malformed JSON: %v", err)
	}
	_, err = e.exec("CP1", "Reboot", `{}`)
	refused("unknown action", err, operation.ErrUnknownAction)
	_, err = e.exec("CP1", "reset", `{"type":"Soft"}`)
	refused("action in the wrong case", err, operation.ErrUnknownAction)
	_, err = e.exec("CP1", "Heartbeat", `{}`)
	refused("action of a charge point", err, operation.ErrNotCentralSystemAction)
	_, err = e.exec("CP9", "Reset", `{"type":"Soft"}`)
	refused("station of another account", err, station.ErrNotFound)
	_, err = e.exec("CP404", "Reset", `{"type":"Soft"}`)
	refused("unknown station", err, station.ErrNotFound)
	_, err = e.exec("CP1", "ReserveNow", fmt.Sprintf(`{"connectorId":1,"expiryDate":%s,"idTag":"T","reservationId":1}`, dateTime(e.clock.Now().Add(-time.Minute))))
	if !errors.As(err, &oe) || !strings.HasPrefix(oe.Description, "expiryDate: ") {
		t.Errorf("reservation in the past: %v", err)
	}

	if n := cp.count(); n != 0 {
		t.Errorf("the station received %d CALLs", n)
	}
	if ops, err := e.ops.Operations(e.ctx, e.acct.ID, operation.OperationFilter{}); err != nil || len(ops) != 0 {
		t.Errorf("refused requests were recorded: %+v, %v", ops, err)
	}
	// An empty payload is {}.
	cp.answers(map[string]string{"ClearCache": `{"status":"Accepted"}`})
	if _, err := e.exec("CP1", "ClearCache", ``); err != nil {
		t.Errorf("ClearCache without payload: %v", err)
	}
}

func TestExecuteCancelled(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	release := make(chan struct{})
	defer close(release)
	cp.answerWith(func(rpc.Call) (json.RawMessage, error) {
		<-release
		return json.RawMessage(`{"status":"Accepted"}`), nil
	})
	ctx, cancel := context.WithTimeout(e.ctx, 100*time.Millisecond)
	defer cancel()
	res, err := e.ops.Execute(ctx, operation.Request{AccountID: e.acct.ID, ChargePointID: "CP1", Action: "Reset", Payload: json.RawMessage(`{"type":"Hard"}`)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's", err)
	}
	// The outcome is recorded although the caller gave up.
	failedOp(t, e, res, operation.FailureError)
}

func TestConfigurationRecords(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	e.connect(e.acct, "CP2")
	config := func() map[string]operation.ConfigKey {
		t.Helper()
		keys, err := e.ops.Configuration(e.ctx, e.acct.ID, "CP1")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]operation.ConfigKey{}
		for _, k := range keys {
			k.UpdatedAt = time.Time{}
			out[k.Key] = k
		}
		return out
	}
	cp.answers(map[string]string{"GetConfiguration": `{"configurationKey":[
		{"key":"MeterValueSampleInterval","readonly":false,"value":"60"},
		{"key":"ClockAlignedDataInterval","readonly":false,"value":"0"},
		{"key":"NumberOfConnectors","readonly":true,"value":"2"},
		{"key":"AuthorizeRemoteTxRequests","readonly":false,"value":"true"}]}`})
	e.mustExec("CP1", "GetConfiguration", `{}`)
	want := map[string]operation.ConfigKey{
		"MeterValueSampleInterval":  {Key: "MeterValueSampleInterval", Value: "60"},
		"ClockAlignedDataInterval":  {Key: "ClockAlignedDataInterval", Value: "0"},
		"NumberOfConnectors":        {Key: "NumberOfConnectors", Value: "2", Readonly: true},
		"AuthorizeRemoteTxRequests": {Key: "AuthorizeRemoteTxRequests", Value: "true"},
	}
	if got := config(); !reflect.DeepEqual(got, want) {
		t.Errorf("after GetConfiguration:\n got %+v\nwant %+v", got, want)
	}

	cp.answers(map[string]string{"ChangeConfiguration": `{"status":"Accepted"}`})
	e.mustExec("CP1", "ChangeConfiguration", `{"key":"MeterValueSampleInterval","value":"30"}`)
	cp.answers(map[string]string{"ChangeConfiguration": `{"status":"RebootRequired"}`})
	e.mustExec("CP1", "ChangeConfiguration", `{"key":"ClockAlignedDataInterval","value":"900"}`)
	cp.answers(map[string]string{"ChangeConfiguration": `{"status":"Rejected"}`})
	e.mustExec("CP1", "ChangeConfiguration", `{"key":"AuthorizeRemoteTxRequests","value":"false"}`)
	cp.answers(map[string]string{"GetConfiguration": `{"configurationKey":[{"key":"NumberOfConnectors","readonly":true,"value":"2"}],"unknownKey":["Foo"]}`})
	e.mustExec("CP1", "GetConfiguration", `{"key":["NumberOfConnectors","Foo"]}`)
	want["MeterValueSampleInterval"] = operation.ConfigKey{Key: "MeterValueSampleInterval", Value: "30"}
	want["ClockAlignedDataInterval"] = operation.ConfigKey{Key: "ClockAlignedDataInterval", Value: "900", RebootRequired: true}
	want["Foo"] = operation.ConfigKey{Key: "Foo", Unknown: true}
	if got := config(); !reflect.DeepEqual(got, want) {
		t.Errorf("after changes and a partial GetConfiguration:\n got %+v\nwant %+v", got, want)
	}

	// A station that fails to answer changes nothing.
	cp.answerWith(func(rpc.Call) (json.RawMessage, error) { return nil, ocpp.Errorf(ocpp.InternalError, "busy") })
	if _, err := e.exec("CP1", "GetConfiguration", `{}`); err == nil {
		t.Fatal("GetConfiguration answered with a CALLERROR succeeded")
	}
	if got := config(); !reflect.DeepEqual(got, want) {
		t.Errorf("after a CALLERROR:\n got %+v\nwant %+v", got, want)
	}
	cp.answers(map[string]string{"GetConfiguration": `{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"}]}`})
	e.mustExec("CP1", "GetConfiguration", `{}`)
	if got := config(); !reflect.DeepEqual(got, map[string]operation.ConfigKey{"HeartbeatInterval": {Key: "HeartbeatInterval", Value: "300"}}) {
		t.Errorf("a full GetConfiguration replaces: %+v", got)
	}
	if keys, err := e.ops.Configuration(e.ctx, e.acct.ID, "CP2"); err != nil || len(keys) != 0 {
		t.Errorf("CP2's configuration: %+v, %v", keys, err)
	}
	if _, err := e.ops.Configuration(e.ctx, e.other.ID, "CP1"); !errors.Is(err, station.ErrNotFound) {
		t.Errorf("configuration through another account: %v", err)
	}
}

func TestReservationLifecycle(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	now := e.clock.Now()
	if err := e.store.SaveIdTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: "CHILD", ParentIdTag: "FLEET", Known: true}); err != nil {
		t.Fatal(err)
	}
	reserve := func(reservationID, connector int, idTag, parent string, expires time.Time, status string) {
		t.Helper()
		cp.answers(map[string]string{"ReserveNow": fmt.Sprintf(`{"status":%q}`, status)})
		p := fmt.Sprintf(`{"connectorId":%d,"expiryDate":%s,"idTag":%q,"reservationId":%d`, connector, dateTime(expires), idTag, reservationID)
		if parent != "" {
			p += fmt.Sprintf(`,"parentIdTag":%q`, parent)
		}
		e.mustExec("CP1", "ReserveNow", p+"}")
	}
	start := func(connector int, idTag string, reservationID int) int64 {
		t.Helper()
		resp := cp.call("StartTransaction", fmt.Sprintf(`{"connectorId":%d,"idTag":%q,"meterStart":0,"reservationId":%d,"timestamp":%s}`,
			connector, idTag, reservationID, dateTime(time.Now())))
		var r ocpp.StartTransactionResponse
		if err := json.Unmarshal(resp, &r); err != nil {
			t.Fatal(err)
		}
		return int64(r.TransactionID)
	}
	byID := func(f operation.ReservationFilter) map[int]operation.Reservation {
		t.Helper()
		rs, err := e.ops.Reservations(e.ctx, e.acct.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int]operation.Reservation{}
		for _, r := range rs {
			out[r.ReservationID] = r
		}
		return out
	}
	state := func(reservationID int) operation.ReservationState {
		t.Helper()
		return byID(operation.ReservationFilter{})[reservationID].State
	}

	reserve(1, 1, "TAG1", "", now.Add(time.Hour), "Accepted")
	reserve(2, 0, "TAG2", "FLEET", now.Add(time.Hour), "Accepted")
	reserve(3, 2, "TAG3", "", now.Add(time.Hour), "Occupied")
	reserve(4, 1, "TAG4", "", now.Add(10*time.Minute), "Accepted")
	reserve(5, 1, "TAG5", "", now.Add(time.Hour), "Accepted")
	r := byID(operation.ReservationFilter{})[1]
	if r.State != operation.Reserved || r.ConnectorID != 1 || r.IdTag != "TAG1" || !r.ExpiresAt.Equal(now.Add(time.Hour).Truncate(time.Millisecond)) || r.ChargePointID != "CP1" {
		t.Errorf("reservation 1: %+v", r)
	}
	if s := state(3); s != operation.Occupied {
		t.Errorf("refused reservation: %s", s)
	}

	// Reservation 1 on connector 1 for TAG1: another tag or another connector does not use it.
	start(1, "TAG9", 1)
	start(2, "TAG1", 1)
	if s := state(1); s != operation.Reserved {
		t.Errorf("reservation 1 after non-matching starts: %s", s)
	}
	tx := start(1, "tag1", 1)
	if r := byID(operation.ReservationFilter{})[1]; r.State != operation.Used || r.TransactionID == nil || *r.TransactionID != tx {
		t.Errorf("reservation 1 after its start: %+v", r)
	}
	// Reservation 2 is for any connector and the tags of FLEET.
	tx2 := start(2, "CHILD", 2)
	if r := byID(operation.ReservationFilter{})[2]; r.State != operation.Used || *r.TransactionID != tx2 {
		t.Errorf("reservation 2 used by a tag of its parent on any connector: %+v", r)
	}

	cp.answers(map[string]string{"CancelReservation": `{"status":"Rejected"}`})
	e.mustExec("CP1", "CancelReservation", `{"reservationId":5}`)
	if s := state(5); s != operation.Reserved {
		t.Errorf("reservation 5 after a rejected cancel: %s", s)
	}
	cp.answers(map[string]string{"CancelReservation": `{"status":"Accepted"}`})
	e.mustExec("CP1", "CancelReservation", `{"reservationId":5}`)
	if s := state(5); s != operation.Cancelled {
		t.Errorf("reservation 5 after an accepted cancel: %s", s)
	}

	// Reservation 4 expires after ten minutes.
	if got := byID(operation.ReservationFilter{State: operation.Reserved}); len(got) != 1 || got[4].State != operation.Reserved {
		t.Errorf("reserved now: %+v", got)
	}
	e.clock.Set(now.Add(10 * time.Minute))
	if s := state(4); s != operation.Expired {
		t.Errorf("reservation 4 at its expiry: %s", s)
	}
	if got := byID(operation.ReservationFilter{State: operation.Reserved}); len(got) != 0 {
		t.Errorf("reserved after the expiry: %+v", got)
	}
	if got := byID(operation.ReservationFilter{State: operation.Expired, ChargePointID: "CP1"}); len(got) != 1 || got[4].State != operation.Expired {
		t.Errorf("expired: %+v", got)
	}
	if got := byID(operation.ReservationFilter{State: operation.Used}); len(got) != 2 {
		t.Errorf("used: %+v", got)
	}
	if rs, err := e.ops.Reservations(e.ctx, e.other.ID, operation.ReservationFilter{}); err != nil || len(rs) != 0 {
		t.Errorf("the other account's reservations: %+v, %v", rs, err)
	}
	if _, err := e.ops.Reservations(e.ctx, e.other.ID, operation.ReservationFilter{ChargePointID: "CP1"}); !errors.Is(err, station.ErrNotFound) {
		t.Errorf("reservations of another account's station: %v", err)
	}
}

func TestReservationUsedByStartTime(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	now := e.clock.Now()
	expiry := now.Add(10 * time.Minute)
	cp.answers(map[string]string{"ReserveNow": `{"status":"Accepted"}`})
	e.mustExec("CP1", "ReserveNow", fmt.Sprintf(`{"connectorId":1,"expiryDate":%s,"idTag":"TAG1","reservationId":1}`, dateTime(expiry)))
	start := func(at time.Time) int64 {
		t.Helper()
		resp := cp.call("StartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":"TAG1","meterStart":0,"reservationId":1,"timestamp":%s}`, dateTime(at)))
		var r ocpp.StartTransactionResponse
		if err := json.Unmarshal(resp, &r); err != nil {
			t.Fatal(err)
		}
		return int64(r.TransactionID)
	}
	reservation := func() operation.Reservation {
		t.Helper()
		rs, err := e.ops.Reservations(e.ctx, e.acct.ID, operation.ReservationFilter{})
		if err != nil || len(rs) != 1 {
			t.Fatalf("reservations: %+v, %v", rs, err)
		}
		return rs[0]
	}

	// The station's own time of the start decides, not when it arrives.
	start(expiry)
	start(expiry.Add(time.Minute))
	if r := reservation(); r.State != operation.Reserved || r.TransactionID != nil {
		t.Errorf("reservation after starts at and after its expiry: %+v", r)
	}
	e.clock.Set(expiry.Add(time.Hour))
	if r := reservation(); r.State != operation.Expired {
		t.Errorf("reservation an hour after its expiry: %s", r.State)
	}
	tx := start(expiry.Add(-time.Millisecond)) // queued while offline, arriving late
	if r := reservation(); r.State != operation.Used || r.TransactionID == nil || *r.TransactionID != tx {
		t.Errorf("reservation after a start just before its expiry: %+v", r)
	}
}

func TestRemoteStartProfileFollowsStart(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	type key struct{ connector, id int }
	profiles := func() []key {
		t.Helper()
		ps, err := e.ops.ChargingProfiles(e.ctx, e.acct.ID, "CP1")
		if err != nil {
			t.Fatal(err)
		}
		out := []key{}
		for _, p := range ps {
			out = append(out, key{p.ConnectorID, p.Profile.ChargingProfileID})
		}
		return out
	}
	start := func(connector int, idTag string) {
		t.Helper()
		cp.call("StartTransaction", fmt.Sprintf(`{"connectorId":%d,"idTag":%q,"meterStart":0,"timestamp":%s}`,
			connector, idTag, dateTime(time.Now())))
	}
	cp.answers(map[string]string{"RemoteStartTransaction": `{"status":"Accepted"}`, "ClearChargingProfile": `{"status":"Accepted"}`})
	e.mustExec("CP1", "RemoteStartTransaction", `{"idTag":"TAG1","chargingProfile":`+profile(7, 0, "TxProfile", "10")+`}`)
	e.mustExec("CP1", "RemoteStartTransaction", `{"idTag":"TAG2","chargingProfile":`+profile(8, 1, "TxProfile", "10")+`}`)
	if got, want := profiles(), []key{{0, 7}, {0, 8}}; !reflect.DeepEqual(got, want) {
		t.Errorf("before the starts: %v, want %v", got, want)
	}

	start(1, "TAG3") // no remote start of its own
	start(2, "tag1")
	if got, want := profiles(), []key{{0, 8}, {2, 7}}; !reflect.DeepEqual(got, want) {
		t.Errorf("after TAG1's start on connector 2: %v, want %v", got, want)
	}
	// The station clears the TxProfiles of the connector: so does the record.
	e.mustExec("CP1", "ClearChargingProfile", `{"connectorId":2,"chargingProfilePurpose":"TxProfile"}`)
	if got, want := profiles(), []key{{0, 8}}; !reflect.DeepEqual(got, want) {
		t.Errorf("after clearing connector 2: %v, want %v", got, want)
	}
}

func TestChargingProfileRecords(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	type key struct {
		connector, id, stack int
		purpose              string
	}
	profiles := func() []key {
		t.Helper()
		ps, err := e.ops.ChargingProfiles(e.ctx, e.acct.ID, "CP1")
		if err != nil {
			t.Fatal(err)
		}
		out := []key{}
		for _, p := range ps {
			out = append(out, key{p.ConnectorID, p.Profile.ChargingProfileID, p.Profile.StackLevel, string(p.Profile.ChargingProfilePurpose)})
		}
		return out
	}
	set := func(connector, id, stack int, purpose, status string) {
		t.Helper()
		cp.answers(map[string]string{"SetChargingProfile": fmt.Sprintf(`{"status":%q}`, status)})
		e.mustExec("CP1", "SetChargingProfile", fmt.Sprintf(`{"connectorId":%d,"csChargingProfiles":%s}`, connector, profile(id, stack, purpose, "16")))
	}
	set(0, 1, 0, "ChargePointMaxProfile", "Accepted")
	set(1, 2, 0, "TxDefaultProfile", "Accepted")
	set(2, 3, 0, "TxDefaultProfile", "Accepted")
	set(1, 4, 1, "TxDefaultProfile", "Rejected")
	set(1, 5, 0, "TxDefaultProfile", "Accepted") // replaces 2: same connector, stack level, purpose
	set(1, 3, 2, "TxDefaultProfile", "Accepted") // replaces 3: same id
	want := []key{{0, 1, 0, "ChargePointMaxProfile"}, {1, 5, 0, "TxDefaultProfile"}, {1, 3, 2, "TxDefaultProfile"}}
	if got := profiles(); !reflect.DeepEqual(got, want) {
		t.Errorf("after SetChargingProfile:\n got %v\nwant %v", got, want)
	}

	cp.answers(map[string]string{"RemoteStartTransaction": `{"status":"Accepted"}`})
	e.mustExec("CP1", "RemoteStartTransaction", `{"connectorId":2,"idTag":"TAG1","chargingProfile":`+profile(7, 0, "TxProfile", "10")+`}`)
	cp.answers(map[string]string{"RemoteStartTransaction": `{"status":"Rejected"}`})
	e.mustExec("CP1", "RemoteStartTransaction", `{"connectorId":1,"idTag":"TAG1","chargingProfile":`+profile(8, 0, "TxProfile", "10")+`}`)
	want = append(want, key{2, 7, 0, "TxProfile"})
	if got := profiles(); !reflect.DeepEqual(got, want) {
		t.Errorf("after RemoteStartTransaction:\n got %v\nwant %v", got, want)
	}
	ps, _ := e.ops.ChargingProfiles(e.ctx, e.acct.ID, "CP1")
	if p := ps[len(ps)-1]; p.Profile.ChargingSchedule.ChargingSchedulePeriod[0].Limit != 10 || p.OperationID == 0 {
		t.Errorf("TxProfile record: %+v", p)
	}

	cp.answers(map[string]string{"ClearChargingProfile": `{"status":"Accepted"}`})
	e.mustExec("CP1", "ClearChargingProfile", `{"connectorId":1,"chargingProfilePurpose":"TxDefaultProfile","stackLevel":2}`)
	want = []key{{0, 1, 0, "ChargePointMaxProfile"}, {1, 5, 0, "TxDefaultProfile"}, {2, 7, 0, "TxProfile"}}
	if got := profiles(); !reflect.DeepEqual(got, want) {
		t.Errorf("after clearing by criteria:\n got %v\nwant %v", got, want)
	}
	e.mustExec("CP1", "ClearChargingProfile", `{"id":1}`)
	cp.answers(map[string]string{"ClearChargingProfile": `{"status":"Unknown"}`})
	e.mustExec("CP1", "ClearChargingProfile", `{"chargingProfilePurpose":"TxProfile"}`)
	want = []key{{1, 5, 0, "TxDefaultProfile"}}
	if got := profiles(); !reflect.DeepEqual(got, want) {
		t.Errorf("after clearing by id and an Unknown answer:\n got %v\nwant %v", got, want)
	}
	cp.answers(map[string]string{"ClearChargingProfile": `{"status":"Accepted"}`})
	e.mustExec("CP1", "ClearChargingProfile", `{}`)
	if got := profiles(); len(got) != 0 {
		t.Errorf("after clearing all: %v", got)
	}
	if _, err := e.ops.ChargingProfiles(e.ctx, e.other.ID, "CP1"); !errors.Is(err, station.ErrNotFound) {
		t.Errorf("profiles through another account: %v", err)
	}
}

func TestLocalListRecords(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	list := func() operation.LocalList {
		t.Helper()
		l, err := e.ops.LocalList(e.ctx, e.acct.ID, "CP1")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := list(); l.Version != nil || l.EntriesVersion != nil || l.Entries != nil {
		t.Errorf("local list before anything: %+v", l)
	}
	cp.answers(map[string]string{"GetLocalListVersion": `{"listVersion":0}`})
	e.mustExec("CP1", "GetLocalListVersion", `{}`)
	if l := list(); l.Version == nil || *l.Version != 0 || l.EntriesVersion != nil {
		t.Errorf("after GetLocalListVersion: %+v", l)
	}
	cp.answers(map[string]string{"SendLocalList": `{"status":"Accepted"}`})
	e.mustExec("CP1", "SendLocalList", `{"listVersion":1,"updateType":"Full","localAuthorizationList":[
		{"idTag":"A","idTagInfo":{"status":"Accepted"}},{"idTag":"B","idTagInfo":{"status":"Accepted","parentIdTag":"P"}}]}`)
	e.mustExec("CP1", "SendLocalList", `{"listVersion":2,"updateType":"Differential","localAuthorizationList":[
		{"idTag":"A"},{"idTag":"C","idTagInfo":{"status":"Blocked"}}]}`)
	l := list()
	wantEntries := []operation.LocalListEntry{{IdTag: "B", Status: "Accepted", ParentIdTag: "P"}, {IdTag: "C", Status: "Blocked"}}
	if *l.Version != 2 || *l.EntriesVersion != 2 || !reflect.DeepEqual(l.Entries, wantEntries) {
		t.Errorf("after a full and a differential update: %+v", l)
	}
	// What the station refuses changes nothing, and is recorded with its answer.
	for _, status := range []string{"VersionMismatch", "Failed"} {
		cp.answers(map[string]string{"SendLocalList": fmt.Sprintf(`{"status":%q}`, status)})
		res := e.mustExec("CP1", "SendLocalList", `{"listVersion":3,"updateType":"Differential","localAuthorizationList":[{"idTag":"B"}]}`)
		if r, ok := res.Response.(*ocpp.SendLocalListResponse); !ok || string(r.Status) != status || !strings.Contains(string(res.Operation.Response), status) {
			t.Errorf("%s answer: %+v %s", status, res.Response, res.Operation.Response)
		}
		if got := list(); !reflect.DeepEqual(got, l) {
			t.Errorf("after %s: %+v", status, got)
		}
	}
	// An accepted differential update applies to the entries known: B changes, D is new,
	// and the entries it names without idTagInfo are removed.
	desired := []operation.LocalListEntry{{IdTag: "B", Status: "Accepted", ParentIdTag: "P"}, {IdTag: "D", Status: "Accepted"}}
	var diff []ocpp.AuthorizationData
	for _, d := range desired {
		diff = append(diff, ocpp.AuthorizationData{IdTag: d.IdTag, IdTagInfo: &ocpp.IdTagInfo{Status: ocpp.AuthorizationStatus(d.Status), ParentIdTag: d.ParentIdTag}})
	}
	for _, old := range l.Entries {
		if old.IdTag != "B" && old.IdTag != "D" {
			diff = append(diff, ocpp.AuthorizationData{IdTag: old.IdTag})
		}
	}
	body, _ := json.Marshal(ocpp.SendLocalListRequest{ListVersion: 3, UpdateType: ocpp.UpdateTypeDifferential, LocalAuthorizationList: diff})
	cp.answers(map[string]string{"SendLocalList": `{"status":"Accepted"}`})
	e.mustExec("CP1", "SendLocalList", string(body))
	if got := list(); !reflect.DeepEqual(got.Entries, desired) || *got.Version != 3 {
		t.Errorf("after the computed differential update: %+v", got)
	}
}

func TestFirmwareAndDiagnosticsFollowNotifications(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	firmware := func() operation.FirmwareRequest {
		t.Helper()
		fs, err := e.ops.FirmwareRequests(e.ctx, e.acct.ID, "CP1")
		if err != nil || len(fs) == 0 {
			t.Fatalf("firmware requests: %+v, %v", fs, err)
		}
		return fs[0]
	}
	// A notification without a request is answered and changes nothing.
	cp.call("FirmwareStatusNotification", `{"status":"Idle"}`)

	res := e.mustExec("CP1", "UpdateFirmware", `{"location":"https://fw.example.com/v2.bin","retrieveDate":"2026-11-25T03:00:00.000Z","retries":3,"retryInterval":60}`)
	f := firmware()
	if f.Status != operation.StatusRequested || !f.Open || f.Location != "https://fw.example.com/v2.bin" || *f.Retries != 3 || *f.RetryInterval != 60 ||
		!f.RetrieveDate.Equal(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)) || f.OperationID != res.Operation.ID {
		t.Errorf("firmware request: %+v", f)
	}
	for _, status := range []string{"Downloading", "Downloaded", "Installing", "Installed"} {
		before := time.Now()
		cp.call("FirmwareStatusNotification", fmt.Sprintf(`{"status":%q}`, status))
		f := firmware()
		if f.Status != status || f.Open != (status != "Installed") || f.StatusAt.Before(before.Add(-time.Second)) {
			t.Errorf("after %s: %+v", status, f)
		}
	}
	// Once installed, the request is closed: a later status does not reopen it.
	cp.call("FirmwareStatusNotification", `{"status":"Downloading"}`)
	if f := firmware(); f.Status != "Installed" {
		t.Errorf("closed request changed: %+v", f)
	}
	e.mustExec("CP1", "UpdateFirmware", `{"location":"https://fw.example.com/v3.bin","retrieveDate":"2026-11-26T03:00:00.000Z"}`)
	cp.call("FirmwareStatusNotification", `{"status":"DownloadFailed"}`)
	if f := firmware(); f.Status != "DownloadFailed" || f.Open || f.Location != "https://fw.example.com/v3.bin" {
		t.Errorf("second request: %+v", f)
	}

	cp.answers(map[string]string{"GetDiagnostics": `{"fileName":"diag-2026.zip"}`})
	e.mustExec("CP1", "GetDiagnostics", `{"location":"ftp://logs.example.com/","startTime":"2026-11-20T00:00:00.000Z"}`)
	for _, status := range []string{"Uploading", "UploadFailed"} {
		cp.call("DiagnosticsStatusNotification", fmt.Sprintf(`{"status":%q}`, status))
	}
	cp.answers(map[string]string{"GetDiagnostics": `{}`})
	e.mustExec("CP1", "GetDiagnostics", `{"location":"ftp://logs.example.com/"}`)
	cp.call("DiagnosticsStatusNotification", `{"status":"Uploaded"}`) // no open request
	ds, err := e.ops.DiagnosticsRequests(e.ctx, e.acct.ID, "CP1")
	if err != nil || len(ds) != 2 {
		t.Fatalf("diagnostics requests: %+v, %v", ds, err)
	}
	if d := ds[0]; d.Status != operation.StatusNoDiagnostics || d.Open || d.FileName != "" {
		t.Errorf("request without diagnostics: %+v", d)
	}
	if d := ds[1]; d.Status != "UploadFailed" || d.Open || d.FileName != "diag-2026.zip" || !d.StartTime.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("diagnostics request: %+v", d)
	}
	if _, err := e.ops.FirmwareRequests(e.ctx, e.other.ID, "CP1"); !errors.Is(err, station.ErrNotFound) {
		t.Errorf("firmware requests through another account: %v", err)
	}
	if _, err := e.ops.DiagnosticsRequests(e.ctx, e.other.ID, "CP1"); !errors.Is(err, station.ErrNotFound) {
		t.Errorf("diagnostics requests through another account: %v", err)
	}
}

func TestExecuteInvalidResponse(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	// Answers are read leniently (an unknown status is let through), but not a number for a
	// status or a missing one.
	cp.answers(map[string]string{"Reset": `{"status":5}`, "ReserveNow": `{}`})
	for _, action := range []string{"Reset", "ReserveNow"} {
		res, err := e.exec("CP1", action, samples[action].request)
		if !errors.Is(err, operation.ErrInvalidResponse) {
			t.Errorf("%s: error %v, want ErrInvalidResponse", action, err)
			continue
		}
		op := failedOp(t, e, res, operation.FailureInvalidResponse)
		if !strings.Contains(op.ErrorDescription, "status") {
			t.Errorf("%s: description %q does not name the field", action, op.ErrorDescription)
		}
	}
	if rs, err := e.ops.Reservations(e.ctx, e.acct.ID, operation.ReservationFilter{}); err != nil || len(rs) != 0 {
		t.Errorf("an invalid answer made reservations: %+v, %v", rs, err)
	}
}

func TestExecuteConnectionLost(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	cp.answerWith(func(rpc.Call) (json.RawMessage, error) {
		cp.conn.CloseNow()
		return nil, errors.New("gone")
	})
	res, err := e.exec("CP1", "Reset", `{"type":"Hard"}`)
	if !errors.Is(err, operation.ErrNotConnected) {
		t.Fatalf("error %v, want ErrNotConnected", err)
	}
	op := failedOp(t, e, res, operation.FailureNotConnected)
	if !strings.Contains(op.ErrorDescription, "closed before the station answered") {
		t.Errorf("description %q", op.ErrorDescription)
	}
}

// TestInvalidResponseIsNoInvalidRequest: an answer that does not validate must not be taken
// for a request that does not (both are described by package ocpp).
func TestInvalidResponseIsNoInvalidRequest(t *testing.T) {
	e := newEnv(t, waitTimeout)
	cp := e.connect(e.acct, "CP1")
	cp.answers(map[string]string{"Reset": `{"status":5}`})
	_, err := e.exec("CP1", "Reset", `{"type":"Soft"}`)
	var oe *ocpp.Error
	if !errors.Is(err, operation.ErrInvalidResponse) || errors.As(err, &oe) {
		t.Errorf("error %v (%T in its chain: %v)", err, oe, oe != nil)
	}
}
