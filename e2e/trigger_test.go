package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
)

// The TriggerMessage cases.

// triggerScript answers TriggerMessage Accepted and then sends the message asked for, as a
// charger does.
func triggerScript(cp *chargePoint, txID *int) {
	cp.onCall("TriggerMessage", func(call rpc.Call) answer {
		req := decodeCall[ocpp.TriggerMessageRequest](cp, call)
		connector := 1
		if req.ConnectorID != nil {
			connector = *req.ConnectorID
		}
		var msg any
		switch req.RequestedMessage {
		case ocpp.MessageTriggerBootNotification:
			msg = bootRequest()
		case ocpp.MessageTriggerHeartbeat:
			msg = &ocpp.HeartbeatRequest{}
		case ocpp.MessageTriggerStatusNotification:
			st := statusRequest(connector, ocpp.ChargePointStatusAvailable)
			st.Info = "triggered"
			msg = st
		case ocpp.MessageTriggerMeterValues:
			mv := registerReading(connector, 0, time.Now(), 4242)
			mv.MeterValue[0].SampledValue[0].Context = ocpp.ReadingContextTrigger
			if txID != nil {
				mv.TransactionID = txID
			}
			msg = mv
		case ocpp.MessageTriggerDiagnosticsStatusNotification:
			msg = &ocpp.DiagnosticsStatusNotificationRequest{Status: ocpp.DiagnosticsStatusIdle}
		case ocpp.MessageTriggerFirmwareStatusNotification:
			msg = &ocpp.FirmwareStatusNotificationRequest{Status: ocpp.FirmwareStatusIdle}
		}
		return reply(&ocpp.TriggerMessageResponse{Status: ocpp.TriggerMessageStatusAccepted}).then(func(cp *chargePoint) { cp.emit(msg) })
	})
}

// trigger asks for a message through the REST API and checks that the charger answered
// Accepted and then sent it.
func trigger(t *testing.T, sys *system, cp *chargePoint, body string, action string) {
	t.Helper()
	m := cp.mark()
	r := sys.call("POST", "/api/v1/stations/"+cp.id+"/trigger", body, http.StatusOK, nil)
	wantJSON(t, "trigger answer", r.body, `{"status":"Accepted"}`)
	cp.settle()
	cp.wantFlow(m, "CS>CP TriggerMessage.req", "CP>CS TriggerMessage.conf", "CP>CS "+action+".req", "CS>CP "+action+".conf")
	wantJSON(t, "TriggerMessage on the wire", cp.received(m, "TriggerMessage")[0].Payload, body)
	wantOperation(t, sys.lastOperation(cp.id, "TriggerMessage"), "TriggerMessage", body, `{"status":"Accepted"}`)
}

func TestTC_054_TriggerMessage(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-054")
	cp.bootAvailable(1)
	triggerScript(cp, nil)

	t.Run("BootNotification", func(t *testing.T) {
		before := sys.station("CP-054")
		trigger(t, sys, cp, `{"requestedMessage":"BootNotification"}`, "BootNotification")
		after := sys.station("CP-054")
		if after.LastBootAt == nil || !after.LastBootAt.After(*before.LastBootAt) {
			t.Errorf("lastBootAt %v, want after %v", val(after.LastBootAt), *before.LastBootAt)
		}
		if n := len(sys.events("CP-054", "BootNotification")); n != 2 {
			t.Errorf("%d BootNotification events, want 2", n)
		}
	})
	t.Run("Heartbeat", func(t *testing.T) {
		before := now()
		trigger(t, sys, cp, `{"requestedMessage":"Heartbeat"}`, "Heartbeat")
		if st := sys.station("CP-054"); st.LastSeenAt == nil || st.LastSeenAt.Before(before) {
			t.Errorf("lastSeenAt %v, want at or after %v", val(st.LastSeenAt), before)
		}
	})
	t.Run("StatusNotification", func(t *testing.T) {
		trigger(t, sys, cp, `{"requestedMessage":"StatusNotification","connectorId":1}`, "StatusNotification")
		if c := sys.connector("CP-054", 1); c.Status != "Available" || c.Info != "triggered" {
			t.Errorf("connector 1 stored as %+v, want the triggered status", c)
		}
	})
	t.Run("MeterValues", func(t *testing.T) {
		trigger(t, sys, cp, `{"requestedMessage":"MeterValues","connectorId":1}`, "MeterValues")
		mvs := sys.stationMeterValues("CP-054")
		if len(mvs) != 1 || mvs[0].Context != "Trigger" || mvs[0].ConnectorID != 1 || mvs[0].TransactionID != 0 || mvs[0].RawValue != "4242" {
			t.Errorf("meter values stored %+v, want the triggered reading", mvs)
		}
	})
	t.Run("DiagnosticsStatusNotification", func(t *testing.T) {
		trigger(t, sys, cp, `{"requestedMessage":"DiagnosticsStatusNotification"}`, "DiagnosticsStatusNotification")
		if evs := sys.events("CP-054", "DiagnosticsStatusNotification"); len(evs) != 1 || evs[0].Note != "Idle" {
			t.Errorf("DiagnosticsStatusNotification events %+v", evs)
		}
	})
	t.Run("FirmwareStatusNotification", func(t *testing.T) {
		trigger(t, sys, cp, `{"requestedMessage":"FirmwareStatusNotification"}`, "FirmwareStatusNotification")
		if evs := sys.events("CP-054", "FirmwareStatusNotification"); len(evs) != 1 || evs[0].Note != "Idle" {
			t.Errorf("FirmwareStatusNotification events %+v", evs)
		}
	})
}

// TestTC_054_TriggerMessageDuringTransaction: a charger asked for a BootNotification while it
// charges has not rebooted; its transaction goes on, and the MeterValues it is asked for
// belong to it.
func TestTC_054_TriggerMessageDuringTransaction(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-054-TX")
	cp.bootAvailable(1)
	t0 := now().Add(-time.Hour).Truncate(time.Second)
	tx := cp.charge(1, "TAG-054", 1000, t0)
	triggerScript(cp, &tx)

	trigger(t, sys, cp, `{"requestedMessage":"MeterValues","connectorId":1}`, "MeterValues")
	if mvs := sys.meterValues(tx); len(mvs) != 1 || num(mvs[0].Value) != "4242" || mvs[0].Context != "Trigger" {
		t.Errorf("meter values of the transaction %+v, want the triggered reading", mvs)
	}
	trigger(t, sys, cp, `{"requestedMessage":"BootNotification"}`, "BootNotification")
	got := sys.transaction(tx)
	if !got.Active || got.StopReason != nil || slices.Contains(got.Flags, "closed_on_boot") {
		t.Errorf("after a triggered BootNotification: %v; want it still active: the charger did not reboot", got)
	}
	cp.meter(1, tx, now(), 5000)
	cp.stop(tx, 5500, now().Truncate(time.Second), ocpp.ReasonLocal, "TAG-054")
	got = sys.transaction(tx)
	if val(got.StopReason) != "Local" || val(got.EnergyWh) != int64(4500) || slices.Contains(got.Flags, "stopped_after_close") {
		t.Errorf("after its StopTransaction: %v; want stopped Local, 4500 Wh, never closed on boot", got)
	}
}

func TestTC_055_TriggerMessageRejected(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-055")
	cp.bootAvailable(1)
	for _, status := range []ocpp.TriggerMessageStatus{ocpp.TriggerMessageStatusNotImplemented, ocpp.TriggerMessageStatusRejected} {
		cp.on("TriggerMessage", reply(&ocpp.TriggerMessageResponse{Status: status}))
		m := cp.mark()
		body := `{"requestedMessage":"DiagnosticsStatusNotification"}`
		r := sys.call("POST", "/api/v1/stations/CP-055/trigger", body, http.StatusOK, nil)
		want := fmt.Sprintf(`{"status":%q}`, status)
		wantJSON(t, "trigger answer", r.body, want)
		cp.wantFlow(m, "CS>CP TriggerMessage.req", "CP>CS TriggerMessage.conf")
		wantOperation(t, sys.lastOperation("CP-055", "TriggerMessage"), "TriggerMessage", body, want)
	}
	// A charger without TriggerMessage at all answers with a CALLERROR: a 502 naming it, and
	// the failure recorded.
	cp.on("TriggerMessage", refuse(ocpp.NotImplemented, "TriggerMessage is not implemented"))
	m := cp.mark()
	r := sys.do("POST", "/api/v1/stations/CP-055/trigger", `{"requestedMessage":"Heartbeat"}`)
	cp.wantFlow(m, "CS>CP TriggerMessage.req", "CP>CS TriggerMessage CALLERROR NotImplemented")
	var body struct {
		Error struct{ Code, StationErrorCode, StationErrorDescription string }
	}
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != http.StatusBadGateway || body.Error.Code != "station_error" ||
		body.Error.StationErrorCode != "NotImplemented" || body.Error.StationErrorDescription != "TriggerMessage is not implemented" {
		t.Errorf("trigger answered with a CALLERROR: %d %s, want 502 station_error naming NotImplemented", r.status, r.body)
	}
	if op := sys.lastOperation("CP-055", "TriggerMessage"); op.Status != "Failed" || val(op.Failure) != "CallError" ||
		val(op.ErrorCode) != "NotImplemented" || val(op.ErrorDescription) != "TriggerMessage is not implemented" {
		t.Errorf("operation recorded as %v, want Failed CallError NotImplemented", op)
	}
	if evs := sys.events("CP-055", "DiagnosticsStatusNotification"); len(evs) != 0 {
		t.Errorf("DiagnosticsStatusNotification events %+v, want none", evs)
	}
}
