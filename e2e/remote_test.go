package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
)

// The remote control cases: the operator has chargebook act through the REST API, the
// charge point answers and acts on the answer.

// wantOperation checks the record of an operation: answered with the response given (as
// JSON), asked by the test's token.
func wantOperation(t *testing.T, op apiOperation, action, request, response string) {
	t.Helper()
	if op.Action != action || op.Status != "Answered" || op.Failure != nil || op.FinishedAt == nil {
		t.Errorf("%s recorded as %+v, want Answered", action, op)
	}
	if len(op.Actor) < len("token:") || op.Actor[:len("token:")] != "token:" {
		t.Errorf("%s recorded as asked by %q, want the API token", action, op.Actor)
	}
	if request != "" {
		wantJSON(t, action+" request recorded", op.Request, request)
	}
	wantJSON(t, action+" response recorded", op.Response, response)
}

// remoteStartScript answers RemoteStartTransaction Accepted and then starts as a charger with
// AuthorizeRemoteTxRequests true does: Authorize, StartTransaction, Charging.
func remoteStartScript(cp *chargePoint, meterStart int, at time.Time) {
	cp.onCall("RemoteStartTransaction", func(call rpc.Call) answer {
		req := decodeCall[ocpp.RemoteStartTransactionRequest](cp, call)
		connector := 1
		if req.ConnectorID != nil {
			connector = *req.ConnectorID
		}
		return reply(&ocpp.RemoteStartTransactionResponse{Status: ocpp.RemoteStartStopStatusAccepted}).then(func(cp *chargePoint) {
			cp.emit(
				&ocpp.AuthorizeRequest{IdTag: req.IdTag},
				startRequest(connector, req.IdTag, meterStart, at),
				statusRequest(connector, ocpp.ChargePointStatusCharging),
			)
		})
	})
}

func TestTC_010_RemoteStartCablePluggedInFirst(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-010")
	cp.bootAvailable(2)
	t0 := now().Truncate(time.Second)
	remoteStartScript(cp, 700, t0)

	m := cp.mark()
	cp.status(2, ocpp.ChargePointStatusPreparing) // the cable is plugged in first
	r := sys.call("POST", "/api/v1/stations/CP-010/remote-start", `{"connectorId":2,"idTag":"TAG-010"}`, http.StatusOK, nil)
	wantJSON(t, "remote-start answer", r.body, `{"status":"Accepted"}`)
	cp.settle()
	cp.wantFlow(m,
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CS>CP RemoteStartTransaction.req", "CP>CS RemoteStartTransaction.conf",
		"CP>CS Authorize.req", "CS>CP Authorize.conf",
		"CP>CS StartTransaction.req", "CS>CP StartTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	req := request[ocpp.RemoteStartTransactionRequest](cp, m)
	if req.IdTag != "TAG-010" || val(req.ConnectorID) != 2 || req.ChargingProfile != nil {
		t.Errorf("RemoteStartTransaction on the wire: %+v", req)
	}
	wantOperation(t, sys.lastOperation("CP-010", "RemoteStartTransaction"), "RemoteStartTransaction",
		`{"connectorId":2,"idTag":"TAG-010"}`, `{"status":"Accepted"}`)
	txs := sys.transactions("station=CP-010")
	if len(txs) != 1 || !txs[0].Active || txs[0].ConnectorID != 2 || txs[0].IdTag != "TAG-010" ||
		txs[0].MeterStart != 700 || !txs[0].StartedAt.Equal(t0) {
		t.Errorf("transactions %+v, want one active on connector 2 for TAG-010", txs)
	}
	if c := sys.connector("CP-010", 2); c.Status != "Charging" {
		t.Errorf("connector 2 is %s, want Charging", c.Status)
	}
}

func TestTC_011_1_RemoteStartFirst(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-011-1")
	cp.bootAvailable(1)
	t0 := now().Truncate(time.Second)
	cp.on("RemoteStartTransaction", reply(&ocpp.RemoteStartTransactionResponse{Status: ocpp.RemoteStartStopStatusAccepted}).then(
		func(cp *chargePoint) {
			cp.emit(&ocpp.AuthorizeRequest{IdTag: "TAG-011"}, statusRequest(1, ocpp.ChargePointStatusPreparing))
		}))

	m := cp.mark()
	sys.call("POST", "/api/v1/stations/CP-011-1/remote-start", `{"idTag":"TAG-011"}`, http.StatusOK, nil)
	cp.settle()
	// The driver plugs in.
	tx := cp.start(1, "TAG-011", 0, t0).TransactionID
	cp.status(1, ocpp.ChargePointStatusCharging)
	cp.wantFlow(m,
		"CS>CP RemoteStartTransaction.req", "CP>CS RemoteStartTransaction.conf",
		"CP>CS Authorize.req", "CS>CP Authorize.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StartTransaction.req", "CS>CP StartTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	if req := request[ocpp.RemoteStartTransactionRequest](cp, m); req.IdTag != "TAG-011" || req.ConnectorID != nil {
		t.Errorf("RemoteStartTransaction on the wire: %+v, want TAG-011 without a connector", req)
	}
	if got := sys.transaction(tx); !got.Active || got.IdTag != "TAG-011" {
		t.Errorf("transaction stored as %+v", got)
	}
}

func TestTC_011_2_RemoteStartTimeOut(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-011-2")
	cp.bootAvailable(1)
	cp.on("RemoteStartTransaction", reply(&ocpp.RemoteStartTransactionResponse{Status: ocpp.RemoteStartStopStatusAccepted}).then(
		func(cp *chargePoint) {
			cp.emit(&ocpp.AuthorizeRequest{IdTag: "TAG-011-2"}, statusRequest(1, ocpp.ChargePointStatusPreparing))
		}))

	m := cp.mark()
	r := sys.call("POST", "/api/v1/stations/CP-011-2/remote-start", `{"connectorId":1,"idTag":"TAG-011-2"}`, http.StatusOK, nil)
	wantJSON(t, "remote-start answer", r.body, `{"status":"Accepted"}`)
	cp.settle()
	// Nobody plugs in: ConnectionTimeOut passes.
	cp.status(1, ocpp.ChargePointStatusAvailable)
	cp.wantFlow(m,
		"CS>CP RemoteStartTransaction.req", "CP>CS RemoteStartTransaction.conf",
		"CP>CS Authorize.req", "CS>CP Authorize.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	if txs := sys.transactions("station=CP-011-2"); len(txs) != 0 {
		t.Errorf("transactions %+v, want none", txs)
	}
	if got := sys.statuses("CP-011-2", 1); !slices.Equal(got, []string{"Available", "Preparing", "Available"}) {
		t.Errorf("connector 1 went through %v", got)
	}
	wantOperation(t, sys.lastOperation("CP-011-2", "RemoteStartTransaction"), "RemoteStartTransaction", "", `{"status":"Accepted"}`)
}

func TestTC_012_RemoteStop(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-012")
	cp.bootAvailable(1)
	t0 := now().Add(-time.Hour).Truncate(time.Second)
	tx := cp.charge(1, "TAG-012", 1000, t0)
	stopAt := now().Truncate(time.Second)
	cp.onCall("RemoteStopTransaction", func(call rpc.Call) answer {
		req := decodeCall[ocpp.RemoteStopTransactionRequest](cp, call)
		return reply(&ocpp.RemoteStopTransactionResponse{Status: ocpp.RemoteStartStopStatusAccepted}).then(func(cp *chargePoint) {
			cp.emit(stopRequest(req.TransactionID, 9000, stopAt, ocpp.ReasonRemote, ""),
				statusRequest(1, ocpp.ChargePointStatusFinishing))
		})
	})

	m := cp.mark()
	r := sys.call("POST", "/api/v1/stations/CP-012/remote-stop", fmt.Sprintf(`{"transactionId":%d}`, tx), http.StatusOK, nil)
	wantJSON(t, "remote-stop answer", r.body, `{"status":"Accepted"}`)
	cp.settle()
	cp.wantFlow(m,
		"CS>CP RemoteStopTransaction.req", "CP>CS RemoteStopTransaction.conf",
		"CP>CS StopTransaction.req", "CS>CP StopTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	if req := request[ocpp.RemoteStopTransactionRequest](cp, m); req.TransactionID != tx {
		t.Errorf("RemoteStopTransaction for %d, want %d", req.TransactionID, tx)
	}
	got := sys.transaction(tx)
	if got.Active || val(got.StopReason) != "Remote" || val(got.EnergyWh) != int64(8000) || !got.StoppedAt.Equal(stopAt) {
		t.Errorf("transaction stored as %+v, want stopped Remote with 8000 Wh", got)
	}
	wantOperation(t, sys.lastOperation("CP-012", "RemoteStopTransaction"), "RemoteStopTransaction",
		fmt.Sprintf(`{"transactionId":%d}`, tx), `{"status":"Accepted"}`)
}

// resetCase is TC_013 (Hard) and TC_014 (Soft): Reset on the wire with its type; without a
// transaction the charger reboots; with one, it stops it with the reset's reason first.
func resetCase(t *testing.T, typ ocpp.ResetType, reason ocpp.Reason) {
	for _, withTx := range []bool{false, true} {
		name := "without transaction"
		if withTx {
			name = "with transaction"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sys := newSystem(t)
			cpID := "CP-RESET-" + string(typ)
			cp := sys.connect(cpID)
			cp.bootAvailable(1)
			tx := 0
			t0 := now().Add(-time.Hour).Truncate(time.Second)
			if withTx {
				tx = cp.charge(1, "TAG-RESET", 300, t0)
			}
			bootsBefore := len(sys.events(cpID, "BootNotification"))
			cp.on("Reset", reply(&ocpp.ResetResponse{Status: ocpp.ResetStatusAccepted}))

			m := cp.mark()
			r := sys.call("POST", "/api/v1/stations/"+cpID+"/reset", fmt.Sprintf(`{"type":%q}`, typ), http.StatusOK, nil)
			wantJSON(t, "reset answer", r.body, `{"status":"Accepted"}`)
			if req := request[ocpp.ResetRequest](cp, m); req.Type != typ {
				t.Errorf("Reset type %s on the wire, want %s", req.Type, typ)
			}
			stopAt := now().Truncate(time.Second)
			if withTx {
				cp.stop(tx, 1300, stopAt, reason, "")
				cp.status(1, ocpp.ChargePointStatusFinishing)
			}
			if resp := cp.reboot(); resp.Status != ocpp.RegistrationStatusAccepted {
				t.Errorf("BootNotification after the reset: %s", resp.Status)
			}
			cp.status(0, ocpp.ChargePointStatusAvailable)
			cp.status(1, ocpp.ChargePointStatusAvailable)

			want := []string{"CS>CP Reset.req", "CP>CS Reset.conf"}
			if withTx {
				want = append(want, "CP>CS StopTransaction.req", "CS>CP StopTransaction.conf",
					"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf")
			}
			want = append(want, "CP>CS BootNotification.req", "CS>CP BootNotification.conf",
				"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
				"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf")
			cp.wantFlow(m, want...)
			wantOperation(t, sys.lastOperation(cpID, "Reset"), "Reset", fmt.Sprintf(`{"type":%q}`, typ), `{"status":"Accepted"}`)
			if got := len(sys.events(cpID, "BootNotification")); got != bootsBefore+1 {
				t.Errorf("%d BootNotification events, want %d", got, bootsBefore+1)
			}
			if st := sys.station(cpID); !st.Connected || st.Registration != "Accepted" {
				t.Errorf("station after the reboot: %+v", st)
			}
			if withTx {
				got := sys.transaction(tx)
				if got.Active || val(got.StopReason) != string(reason) || val(got.EnergyWh) != int64(1000) ||
					!got.StoppedAt.Equal(stopAt) || len(got.Flags) != 0 {
					t.Errorf("transaction stored as %+v, want stopped with %s before the reboot, 1000 Wh, no flags", got, reason)
				}
			}
		})
	}
}

func TestTC_013_HardReset(t *testing.T) {
	t.Parallel()
	resetCase(t, ocpp.ResetTypeHard, ocpp.ReasonHardReset)
}

func TestTC_014_SoftReset(t *testing.T) {
	t.Parallel()
	resetCase(t, ocpp.ResetTypeSoft, ocpp.ReasonSoftReset)
}

// unlockCase sends UnlockConnector for a connector and checks the wire and the record.
func unlockCase(t *testing.T, sys *system, cp *chargePoint, connectorID int, status ocpp.UnlockStatus) int {
	t.Helper()
	m := cp.mark()
	r := sys.call("POST", "/api/v1/stations/"+cp.id+"/unlock", fmt.Sprintf(`{"connectorId":%d}`, connectorID), http.StatusOK, nil)
	want := fmt.Sprintf(`{"status":%q}`, status)
	wantJSON(t, "unlock answer", r.body, want)
	if req := request[ocpp.UnlockConnectorRequest](cp, m); req.ConnectorID != connectorID {
		t.Errorf("UnlockConnector for connector %d, want %d", req.ConnectorID, connectorID)
	}
	wantOperation(t, sys.lastOperation(cp.id, "UnlockConnector"), "UnlockConnector",
		fmt.Sprintf(`{"connectorId":%d}`, connectorID), want)
	return m
}

func TestTC_017_UnlockConnectorNoTransaction(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-017")
	cp.bootAvailable(1)
	cp.on("UnlockConnector", reply(&ocpp.UnlockConnectorResponse{Status: ocpp.UnlockStatusUnlocked}))
	m := unlockCase(t, sys, cp, 1, ocpp.UnlockStatusUnlocked)
	cp.wantFlow(m, "CS>CP UnlockConnector.req", "CP>CS UnlockConnector.conf")
}

func TestTC_018_UnlockConnectorWithTransaction(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-018")
	cp.bootAvailable(1)
	t0 := now().Add(-time.Hour).Truncate(time.Second)
	tx := cp.charge(1, "TAG-018", 0, t0)
	stopAt := now().Truncate(time.Second)
	cp.on("UnlockConnector", reply(&ocpp.UnlockConnectorResponse{Status: ocpp.UnlockStatusUnlocked}).then(func(cp *chargePoint) {
		cp.emit(stopRequest(tx, 2500, stopAt, ocpp.ReasonUnlockCommand, ""),
			statusRequest(1, ocpp.ChargePointStatusFinishing))
	}))

	m := unlockCase(t, sys, cp, 1, ocpp.UnlockStatusUnlocked)
	cp.settle()
	cp.wantFlow(m,
		"CS>CP UnlockConnector.req", "CP>CS UnlockConnector.conf",
		"CP>CS StopTransaction.req", "CS>CP StopTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	got := sys.transaction(tx)
	if got.Active || val(got.StopReason) != "UnlockCommand" || val(got.EnergyWh) != int64(2500) {
		t.Errorf("transaction stored as %+v, want stopped with UnlockCommand, 2500 Wh", got)
	}
}

func TestTC_030_UnlockFailure(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-030")
	cp.bootAvailable(1)
	cp.on("UnlockConnector", reply(&ocpp.UnlockConnectorResponse{Status: ocpp.UnlockStatusUnlockFailed}))
	m := unlockCase(t, sys, cp, 1, ocpp.UnlockStatusUnlockFailed)
	cp.wantFlow(m, "CS>CP UnlockConnector.req", "CP>CS UnlockConnector.conf")
}

func TestTC_031_UnlockUnknownConnector(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-031")
	cp.bootAvailable(1)
	cp.on("UnlockConnector", reply(&ocpp.UnlockConnectorResponse{Status: ocpp.UnlockStatusNotSupported}))
	m := unlockCase(t, sys, cp, 3, ocpp.UnlockStatusNotSupported)
	cp.wantFlow(m, "CS>CP UnlockConnector.req", "CP>CS UnlockConnector.conf")
	// Connector 0 is the whole station, which has no cable: chargebook refuses to send it.
	r := sys.do("POST", "/api/v1/stations/CP-031/unlock", `{"connectorId":0}`)
	if r.status != http.StatusBadRequest {
		t.Errorf("unlock of connector 0: %d %s, want 400", r.status, r.body)
	}
	if n := len(cp.received(m, "UnlockConnector")); n != 1 {
		t.Errorf("%d UnlockConnector on the wire, want 1", n)
	}
}

func TestTC_026_RemoteStartRejected(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-026")
	cp.bootAvailable(1)
	cp.on("RemoteStartTransaction", reply(&ocpp.RemoteStartTransactionResponse{Status: ocpp.RemoteStartStopStatusRejected}))

	m := cp.mark()
	r := sys.call("POST", "/api/v1/stations/CP-026/remote-start", `{"connectorId":1,"idTag":"TAG-026"}`, http.StatusOK, nil)
	wantJSON(t, "remote-start answer", r.body, `{"status":"Rejected"}`)
	cp.wantFlow(m, "CS>CP RemoteStartTransaction.req", "CP>CS RemoteStartTransaction.conf")
	wantOperation(t, sys.lastOperation("CP-026", "RemoteStartTransaction"), "RemoteStartTransaction",
		`{"connectorId":1,"idTag":"TAG-026"}`, `{"status":"Rejected"}`)
	if txs := sys.transactions("station=CP-026"); len(txs) != 0 {
		t.Errorf("transactions %+v, want none", txs)
	}
}

func TestTC_028_RemoteStopRejected(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-028")
	cp.bootAvailable(1)
	tx := cp.charge(1, "TAG-028", 0, now().Truncate(time.Second))
	cp.on("RemoteStopTransaction", reply(&ocpp.RemoteStopTransactionResponse{Status: ocpp.RemoteStartStopStatusRejected}))

	m := cp.mark()
	body := `{"transactionId":` + strconv.Itoa(tx) + `}`
	r := sys.call("POST", "/api/v1/stations/CP-028/remote-stop", body, http.StatusOK, nil)
	wantJSON(t, "remote-stop answer", r.body, `{"status":"Rejected"}`)
	cp.wantFlow(m, "CS>CP RemoteStopTransaction.req", "CP>CS RemoteStopTransaction.conf")
	wantOperation(t, sys.lastOperation("CP-028", "RemoteStopTransaction"), "RemoteStopTransaction", body, `{"status":"Rejected"}`)
	if got := sys.transaction(tx); !got.Active || got.StopReason != nil {
		t.Errorf("transaction %+v, want still active", got)
	}
}

func TestTC_061_ClearAuthorizationCache(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-061")
	cp.bootAvailable(1)
	for _, status := range []ocpp.ClearCacheStatus{ocpp.ClearCacheStatusAccepted, ocpp.ClearCacheStatusRejected} {
		cp.on("ClearCache", reply(&ocpp.ClearCacheResponse{Status: status}))
		m := cp.mark()
		got := sys.operate("CP-061", "ClearCache", "")
		want := fmt.Sprintf(`{"status":%q}`, status)
		wantJSON(t, "ClearCache answer", got, want)
		cp.wantFlow(m, "CS>CP ClearCache.req", "CP>CS ClearCache.conf")
		wantJSON(t, "ClearCache payload on the wire", cp.received(m, "ClearCache")[0].Payload, `{}`)
		wantOperation(t, sys.lastOperation("CP-061", "ClearCache"), "ClearCache", `{}`, want)
	}
}

func TestTC_064_DataTransfer(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-064")
	cp.bootAvailable(1)

	t.Run("charge point to central system", func(t *testing.T) {
		m := cp.mark()
		resp := sendAs[ocpp.DataTransferResponse](cp, &ocpp.DataTransferRequest{VendorID: "com.example.e2e", MessageID: "hello", Data: `{"n":1}`})
		cp.wantFlow(m, "CP>CS DataTransfer.req", "CS>CP DataTransfer.conf")
		// No vendor extension is implemented: the message is kept and answered UnknownVendorId.
		if resp.Status != ocpp.DataTransferStatusUnknownVendorId || resp.Data != "" {
			t.Errorf("DataTransfer answered %+v, want UnknownVendorId", resp)
		}
		evs := sys.events("CP-064", "DataTransfer")
		if len(evs) != 1 || evs[0].Note != "vendorId=com.example.e2e messageId=hello" {
			t.Fatalf("DataTransfer events %+v", evs)
		}
		wantJSON(t, "DataTransfer kept", evs[0].Payload, `{"vendorId":"com.example.e2e","messageId":"hello","data":"{\"n\":1}"}`)
	})
	t.Run("central system to charge point", func(t *testing.T) {
		cp.on("DataTransfer", reply(&ocpp.DataTransferResponse{Status: ocpp.DataTransferStatusAccepted, Data: "pong"}))
		m := cp.mark()
		got := sys.operate("CP-064", "DataTransfer", `{"vendorId":"com.example.e2e","messageId":"ping","data":"1"}`)
		wantJSON(t, "DataTransfer answer", got, `{"status":"Accepted","data":"pong"}`)
		cp.wantFlow(m, "CS>CP DataTransfer.req", "CP>CS DataTransfer.conf")
		if req := request[ocpp.DataTransferRequest](cp, m); req.VendorID != "com.example.e2e" || req.MessageID != "ping" || req.Data != "1" {
			t.Errorf("DataTransfer on the wire: %+v", req)
		}
		wantOperation(t, sys.lastOperation("CP-064", "DataTransfer"), "DataTransfer", "", `{"status":"Accepted","data":"pong"}`)
	})
}
