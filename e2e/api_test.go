package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/api"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
)

// The REST API's answers when the station cannot answer. internal/api tests these on a
// station that never connected and one whose answer comes late; here the station goes
// away in the ways real ones do.

// wantAPIError checks an error answer of the REST API.
func wantAPIError(t *testing.T, what string, r response, status int, code string) {
	t.Helper()
	var body struct{ Error api.Error }
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != status || body.Error.Code != code {
		t.Errorf("%s: %d %s, want %d with code %s", what, r.status, r.body, status, code)
	}
	if !strings.HasPrefix(r.header.Get("Location"), "/api/v1/operations/") {
		t.Errorf("%s: Location %q, want the operation's record", what, r.header.Get("Location"))
	}
}

func TestAPI_OperationToDisconnectedStation(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-GONE")
	cp.bootAvailable(1)
	cp.on("Reset", reply(&ocpp.ResetResponse{Status: ocpp.ResetStatusAccepted}))

	t.Run("after it hung up", func(t *testing.T) {
		cp.hangUp()
		r := sys.do("POST", "/api/v1/stations/CP-GONE/reset", `{"type":"Soft"}`)
		wantAPIError(t, "reset of a disconnected station", r, http.StatusConflict, api.CodeStationNotConnected)
		op := sys.lastOperation("CP-GONE", "Reset")
		if op.Status != "Failed" || val(op.Failure) != "NotConnected" || string(op.Response) != "null" {
			t.Errorf("operation recorded as %v, want Failed NotConnected", op)
		}
		if st := sys.station("CP-GONE"); st.Connected {
			t.Errorf("station listed as connected")
		}
	})
	t.Run("while it was asked", func(t *testing.T) {
		cp.dial()
		cp.boot()
		// The charger loses its connection while it handles the request.
		cp.onCall("Reset", func(rpc.Call) answer {
			cp.current().conn.CloseNow()
			return reply(&ocpp.ResetResponse{Status: ocpp.ResetStatusAccepted})
		})
		r := sys.do("POST", "/api/v1/stations/CP-GONE/reset", `{"type":"Hard"}`)
		wantAPIError(t, "reset of a station that went away", r, http.StatusConflict, api.CodeStationNotConnected)
		if op := sys.lastOperation("CP-GONE", "Reset"); op.Status != "Failed" || val(op.Failure) != "NotConnected" {
			t.Errorf("operation recorded as %v, want Failed NotConnected", op)
		}
	})
}

func TestAPI_StationTimeout(t *testing.T) {
	t.Parallel()
	const callTimeout = 300 * time.Millisecond
	sys := newSystem(t, func(c *systemConfig) { c.callTimeout = callTimeout })
	cp := sys.connect("CP-SLOW")
	cp.bootAvailable(1)
	cp.onCall("Reset", func(rpc.Call) answer {
		time.Sleep(2 * callTimeout)
		return reply(&ocpp.ResetResponse{Status: ocpp.ResetStatusAccepted})
	})
	cp.on("ClearCache", reply(&ocpp.ClearCacheResponse{Status: ocpp.ClearCacheStatusAccepted}))

	m := cp.mark()
	r := sys.do("POST", "/api/v1/stations/CP-SLOW/reset", `{"type":"Soft"}`)
	wantAPIError(t, "reset of a slow station", r, http.StatusGatewayTimeout, api.CodeStationTimeout)
	var op apiOperation
	sys.get(r.header.Get("Location"), &op)
	if op.Status != "Failed" || val(op.Failure) != "Timeout" || string(op.Response) != "null" {
		t.Errorf("operation recorded as %v, want Failed Timeout", op)
	}
	// The late answer is dropped, the connection stays, and the next operation goes through.
	waitFor(t, "the late Reset.conf", func() bool { return len(cp.since(m)) == 2 })
	wantJSON(t, "ClearCache answer", sys.operate("CP-SLOW", "ClearCache", ""), `{"status":"Accepted"}`)
	cp.wantFlow(m, "CS>CP Reset.req", "CP>CS Reset.conf", "CS>CP ClearCache.req", "CP>CS ClearCache.conf")
	sys.get(r.header.Get("Location"), &op)
	if op.Status != "Failed" || val(op.Failure) != "Timeout" {
		t.Errorf("after the late answer the operation is %v, want it still Failed Timeout", op)
	}
	if !sys.station("CP-SLOW").Connected {
		t.Errorf("station not connected after a timed-out operation")
	}
}
