package csms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
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
	"github.com/chargebook/chargebook/internal/station"
)

// ---- 1. URL handling ----

func TestStationURL(t *testing.T) {
	tests := []struct {
		name string
		path string // {key} stands for the account key
		// wantID is the charge point id registered; "" when the upgrade must fail with 404.
		wantID string
	}{
		{"canonical", "/api/Ocpp16/{key}/CP1", "CP1"},
		{"trailing slash", "/api/Ocpp16/{key}/CP1/", "CP1"},
		{"lower case prefix", "/api/ocpp16/{key}/CP1", "CP1"},
		{"upper case prefix", "/API/OCPP16/{key}/CP1", "CP1"},
		{"escaped id", "/api/Ocpp16/{key}/CP%2001", "CP 01"},
		{"escaped id trailing slash", "/api/Ocpp16/{key}/CP%2001/", "CP 01"},
		{"unknown account key", "/api/Ocpp16/nosuchaccountkey/CP1", ""},
		{"missing id", "/api/Ocpp16/{key}/", ""},
		{"missing id and slash", "/api/Ocpp16/{key}", ""},
		{"missing key and id", "/api/Ocpp16/", ""},
		{"control character in id", "/api/Ocpp16/{key}/CP%0A1", ""},
		{"id of 65 characters", "/api/Ocpp16/{key}/" + strings.Repeat("x", 65), ""},
		{"id of 64 characters", "/api/Ocpp16/{key}/" + strings.Repeat("x", 64), strings.Repeat("x", 64)},
		// The id must not contain '/' (csms.parsePath); escaping it must not get it through.
		{"escaped slash in id", "/api/Ocpp16/{key}/CP%2F01", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			url := e.base + strings.ReplaceAll(tc.path, "{key}", e.acct.Key)
			if tc.wantID == "" {
				ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
				defer cancel()
				ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
				if err == nil {
					ws.CloseNow()
					t.Fatalf("upgrade of %s succeeded, want HTTP 404", tc.path)
				}
				if resp == nil || resp.StatusCode != http.StatusNotFound {
					t.Fatalf("upgrade of %s: %v (response %v), want HTTP 404", tc.path, err, resp)
				}
				if ids := e.stations(); len(ids) != 0 {
					t.Errorf("stations registered after a refused upgrade: %q", ids)
				}
				return
			}
			c := dial(t, url, nil)
			c.heartbeat()
			if got := e.stations(); !slices.Equal(got, []string{tc.wantID}) {
				t.Fatalf("stations = %q, want [%q]", got, tc.wantID)
			}
			st := e.station(tc.wantID)
			if !st.Connected || st.Registration != station.Accepted {
				t.Errorf("station connected=%v registration=%s, want connected and Accepted", st.Connected, st.Registration)
			}
			if !e.srv.Connected(e.acct.ID, tc.wantID) {
				t.Errorf("Server.Connected(%q) = false", tc.wantID)
			}
		})
	}
}

// OCPP-J 1.6 section 3.1.2: a station that offers no ocpp1.6 subprotocol gets a handshake
// without one, and is then disconnected.
func TestSubprotocol(t *testing.T) {
	tests := []struct {
		name    string
		offered []string
		want    string // the subprotocol selected; "" means the connection must be refused
	}{
		{"none offered", nil, ""},
		{"ocpp2.0.1", []string{"ocpp2.0.1"}, ""},
		{"ocpp1.5 and ocpp2.0.1", []string{"ocpp1.5", "ocpp2.0.1"}, ""},
		// coder/websocket selects a subprotocol whatever its letter case; once the handshake
		// has agreed on it, the station must be served.
		{"letter case differs", []string{"OCPP1.6"}, "OCPP1.6"},
		{"ocpp1.6 among others", []string{"ocpp2.0.1", "ocpp1.6"}, "ocpp1.6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			ws, resp, err := websocket.Dial(ctx, e.url("CP1"), &websocket.DialOptions{Subprotocols: tc.offered})
			if err != nil {
				t.Fatalf("handshake: %v (response %v)", err, resp)
			}
			defer ws.CloseNow()
			if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != tc.want {
				t.Errorf("Sec-WebSocket-Protocol = %q, want %q", got, tc.want)
			}
			if tc.want != "" {
				rc := &rawClient{t: t, ws: ws}
				if f := rc.send(`[2,"hb","Heartbeat",{}]`); f.Type != ocpp.CallResult || f.ID != "hb" {
					t.Fatalf("Heartbeat answered with %+v", f)
				}
				return
			}
			_, data, err := ws.Read(ctx)
			if err == nil {
				t.Fatalf("read a message %s, want the connection closed", data)
			}
			if got := websocket.CloseStatus(err); got != websocket.StatusProtocolError {
				t.Errorf("closed with %v (%v), want %v", got, err, websocket.StatusProtocolError)
			}
			if ids := e.stations(); len(ids) != 0 {
				t.Errorf("stations registered after a refused subprotocol: %q", ids)
			}
		})
	}
}

// ---- 2. Auto-registration and BootNotification ----

const fullBoot = `{"chargePointVendor":"VendorX","chargePointModel":"Model Y","chargePointSerialNumber":"CPS-0001",` +
	`"chargeBoxSerialNumber":"CBS-0002","firmwareVersion":"1.2.3-rc4","iccid":"8941000000000000001",` +
	`"imsi":"228010000000001","meterType":"EEM-350","meterSerialNumber":"MS-77"}`

func TestFirstConnectionRegistersStation(t *testing.T) {
	e := newEnv(t)
	before := time.Now()
	c := dial(t, e.url("CP-NEW"), nil)
	var st station.Station
	waitFor(t, "the station to be registered", func() bool {
		s, err := e.store.StationByChargePointID(e.ctx, e.acct.ID, "CP-NEW")
		st = s
		return err == nil && s.Connected
	})
	if st.Registration != station.Accepted {
		t.Errorf("registration = %s, want Accepted", st.Registration)
	}
	if st.Validation != account.Strict {
		t.Errorf("validation = %s, want the account's %s", st.Validation, account.Strict)
	}
	within(t, "CreatedAt", st.CreatedAt, before, time.Now())
	within(t, "ConnectionChangedAt", st.ConnectionChangedAt, before, time.Now())
	if !st.LastBootAt.IsZero() {
		t.Errorf("LastBootAt = %v before any BootNotification", st.LastBootAt)
	}
	evs := e.events(st.ID, "Connected")
	if len(evs) != 1 || evs[0].Note != "first connection: registered as Accepted" {
		t.Errorf("Connected events = %+v, want one noting the registration", evs)
	}

	before = time.Now()
	resp, id := c.mustCall("BootNotification", fullBoot)
	after := time.Now()
	boot := mustDecode[ocpp.BootNotificationResponse](t, resp)
	if boot.Status != ocpp.RegistrationStatusAccepted {
		t.Errorf("status = %s, want Accepted", boot.Status)
	}
	if boot.Interval != int(testHeartbeatInterval/time.Second) {
		t.Errorf("interval = %d, want the account's %d", boot.Interval, int(testHeartbeatInterval/time.Second))
	}
	within(t, "currentTime", boot.CurrentTime.Time, before.Truncate(time.Millisecond), after)

	st = e.station("CP-NEW")
	want := station.BootInfo{
		Vendor: "VendorX", Model: "Model Y", ChargePointSerial: "CPS-0001", ChargeBoxSerial: "CBS-0002",
		FirmwareVersion: "1.2.3-rc4", ICCID: "8941000000000000001", IMSI: "228010000000001",
		MeterType: "EEM-350", MeterSerial: "MS-77",
	}
	if st.Boot != want {
		t.Errorf("boot info = %+v, want %+v", st.Boot, want)
	}
	within(t, "LastBootAt", st.LastBootAt, before, after)
	evs = e.events(st.ID, "BootNotification")
	if len(evs) != 1 {
		t.Fatalf("BootNotification events = %+v, want 1", evs)
	}
	if src := evs[0].Source; src.Action != "BootNotification" || src.MessageID != id || string(src.Payload) != fullBoot {
		t.Errorf("boot event source = %+v, want action BootNotification, id %q and the payload sent", src, id)
	}

	// A second connection of the station does not register it again.
	c.conn.Close(websocket.StatusNormalClosure, "")
	<-c.conn.Done()
	dial(t, e.url("CP-NEW"), nil).heartbeat()
	if ids := e.stations(); !slices.Equal(ids, []string{"CP-NEW"}) {
		t.Errorf("stations = %q after a reconnection", ids)
	}
	if st2 := e.station("CP-NEW"); st2.ID != st.ID || st2.Boot != want {
		t.Errorf("station after reconnection = %+v, want the same record", st2)
	}
}

func TestApproveNewStations(t *testing.T) {
	e := newEnv(t, func(c envConfig) { c.acct.ApproveNewStations = true })
	c := dial(t, e.url("CP-PENDING"), nil)

	resp, _ := c.mustCall("BootNotification", `{"chargePointVendor":"V","chargePointModel":"M"}`)
	boot := mustDecode[ocpp.BootNotificationResponse](t, resp)
	if boot.Status != ocpp.RegistrationStatusPending {
		t.Errorf("status = %s, want Pending", boot.Status)
	}
	if boot.Interval != int(station.PendingRetryInterval/time.Second) {
		t.Errorf("interval = %d, want the retry interval %d", boot.Interval, int(station.PendingRetryInterval/time.Second))
	}
	st := e.station("CP-PENDING")
	if st.Registration != station.Pending {
		t.Errorf("registration = %s, want Pending", st.Registration)
	}
	if st.Boot.Vendor != "V" || st.Boot.Model != "M" {
		t.Errorf("boot info of a pending station = %+v, want it kept", st.Boot)
	}

	for _, m := range []struct{ action, payload string }{
		{"Heartbeat", `{}`},
		{"StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Available"}`},
		{"Authorize", `{"idTag":"TAG"}`},
	} {
		if ce := c.callError(m.action, m.payload); ce.Code != ocpp.SecurityError {
			t.Errorf("%s of a pending station: %s, want SecurityError", m.action, ce.Code)
		}
	}
	if cs, err := e.store.Connectors(e.ctx, st.ID); err != nil || len(cs) != 0 {
		t.Errorf("connectors of a pending station = %+v, %v: want none stored", cs, err)
	}

	if err := e.store.SetRegistration(e.ctx, e.acct.ID, st.ID, station.Accepted); err != nil {
		t.Fatal(err)
	}
	resp, _ = c.mustCall("BootNotification", `{"chargePointVendor":"V","chargePointModel":"M"}`)
	boot = mustDecode[ocpp.BootNotificationResponse](t, resp)
	if boot.Status != ocpp.RegistrationStatusAccepted || boot.Interval != int(testHeartbeatInterval/time.Second) {
		t.Errorf("boot after approval = %s interval %d, want Accepted interval %d", boot.Status, boot.Interval, int(testHeartbeatInterval/time.Second))
	}
	c.heartbeat()
}

func TestRejectedStation(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.url("CP-REJ"), nil)
	c.heartbeat()
	st := e.station("CP-REJ")
	if err := e.store.SetRegistration(e.ctx, e.acct.ID, st.ID, station.Rejected); err != nil {
		t.Fatal(err)
	}
	resp, _ := c.mustCall("BootNotification", `{"chargePointVendor":"V","chargePointModel":"M"}`)
	if boot := mustDecode[ocpp.BootNotificationResponse](t, resp); boot.Status != ocpp.RegistrationStatusRejected {
		t.Errorf("status = %s, want Rejected", boot.Status)
	}
	if ce := c.callError("Heartbeat", `{}`); ce.Code != ocpp.SecurityError {
		t.Errorf("Heartbeat of a rejected station: %s, want SecurityError", ce.Code)
	}
}

// ---- 3. Every charge point message, answered and kept ----

func TestHeartbeat(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	c.heartbeat()
	before := time.Now()
	resp, _ := c.mustCall("Heartbeat", `{}`)
	after := time.Now()
	hb := mustDecode[ocpp.HeartbeatResponse](t, resp)
	within(t, "currentTime", hb.CurrentTime.Time, before.Truncate(time.Millisecond), after)
	within(t, "LastSeenAt", e.station("CP1").LastSeenAt, before.Truncate(time.Millisecond), after)
}

func TestStatusNotification(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	msgs := []string{
		`{"connectorId":0,"errorCode":"NoError","status":"Available"}`,
		`{"connectorId":1,"errorCode":"NoError","status":"Preparing","timestamp":"2025-05-01T10:00:00Z"}`,
		`{"connectorId":2,"errorCode":"GroundFailure","info":"RCD tripped","status":"Faulted",` +
			`"timestamp":"2025-05-01T10:00:01.250+02:00","vendorId":"com.vendor","vendorErrorCode":"E-42"}`,
		`{"connectorId":1,"errorCode":"NoError","status":"Charging","timestamp":"2025-05-01T10:05:00.000Z"}`,
	}
	before := time.Now()
	for _, m := range msgs {
		resp, _ := c.mustCall("StatusNotification", m)
		mustDecode[ocpp.StatusNotificationResponse](t, resp)
	}
	after := time.Now()
	st := e.station("CP1")

	got, err := e.store.Connectors(e.ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []station.ConnectorStatus{
		{StationID: st.ID, ConnectorID: 0, Status: "Available", ErrorCode: "NoError"},
		{StationID: st.ID, ConnectorID: 1, Status: "Charging", ErrorCode: "NoError",
			Timestamp: time.Date(2025, 5, 1, 10, 5, 0, 0, time.UTC)},
		{StationID: st.ID, ConnectorID: 2, Status: "Faulted", ErrorCode: "GroundFailure", Info: "RCD tripped",
			VendorID: "com.vendor", VendorErrorCode: "E-42", Timestamp: time.Date(2025, 5, 1, 8, 0, 1, 250e6, time.UTC)},
	}
	if len(got) != len(want) {
		t.Fatalf("connectors = %+v, want %+v", got, want)
	}
	for i := range want {
		within(t, "ReceivedAt", got[i].ReceivedAt, before, after)
		got[i].ReceivedAt = time.Time{}
		if got[i] != want[i] {
			t.Errorf("connector %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	hist, err := e.store.StatusHistory(e.ctx, st.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != len(msgs) {
		t.Fatalf("status history has %d entries, want %d", len(hist), len(msgs))
	}
	// Newest first: the last Charging, then the fault, Preparing, Available.
	wantHist := []struct {
		connector int
		status    string
	}{{1, "Charging"}, {2, "Faulted"}, {1, "Preparing"}, {0, "Available"}}
	for i, w := range wantHist {
		if hist[i].ConnectorID != w.connector || hist[i].Status != w.status {
			t.Errorf("history[%d] = connector %d %s, want connector %d %s", i, hist[i].ConnectorID, hist[i].Status, w.connector, w.status)
		}
	}
	if hist[1].Info != "RCD tripped" || hist[1].VendorErrorCode != "E-42" || hist[1].VendorID != "com.vendor" {
		t.Errorf("history keeps %+v, want info, vendorId and vendorErrorCode", hist[1])
	}
}

func TestAuthorize(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	expires := now.Add(24 * time.Hour)
	for _, tag := range []station.IdTag{
		{AccountID: e.acct.ID, IdTag: "BLOCKED", Blocked: true},
		{AccountID: e.acct.ID, IdTag: "EXPIRED", ExpiresAt: now.Add(-time.Hour)},
		{AccountID: e.acct.ID, IdTag: "CHILD", ParentIdTag: "PARENT", ExpiresAt: expires},
		{AccountID: e.acct.ID, IdTag: "KNOWN"},
	} {
		if err := e.store.SaveIdTag(e.ctx, tag); err != nil {
			t.Fatal(err)
		}
	}
	c := dial(t, e.url("CP1"), nil)
	tests := []struct {
		tag        string
		status     ocpp.AuthorizationStatus
		parent     string
		expiryDate time.Time
	}{
		{"NEWTAG", ocpp.AuthorizationStatusAccepted, "", time.Time{}},
		{"KNOWN", ocpp.AuthorizationStatusAccepted, "", time.Time{}},
		{"BLOCKED", ocpp.AuthorizationStatusBlocked, "", time.Time{}},
		{"EXPIRED", ocpp.AuthorizationStatusExpired, "", now.Add(-time.Hour)},
		{"CHILD", ocpp.AuthorizationStatusAccepted, "PARENT", expires},
	}
	for _, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			resp, _ := c.mustCall("Authorize", fmt.Sprintf(`{"idTag":%q}`, tc.tag))
			info := mustDecode[ocpp.AuthorizeResponse](t, resp).IdTagInfo
			if info.Status != tc.status || info.ParentIdTag != tc.parent {
				t.Errorf("idTagInfo = %+v, want status %s parent %q", info, tc.status, tc.parent)
			}
			var gotExpiry time.Time
			if info.ExpiryDate != nil {
				gotExpiry = info.ExpiryDate.Time
			}
			if !gotExpiry.Equal(tc.expiryDate) {
				t.Errorf("expiryDate = %v, want %v", gotExpiry, tc.expiryDate)
			}
		})
	}

	tags, err := e.store.IdTags(e.ctx, e.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(tags, func(tag station.IdTag) bool { return tag.IdTag == "NEWTAG" })
	if i < 0 {
		t.Fatalf("the unknown tag was not recorded: %+v", tags)
	}
	if tags[i].Known || tags[i].Blocked || tags[i].FirstSeenAt.IsZero() || tags[i].LastSeenAt.IsZero() {
		t.Errorf("unknown tag recorded as %+v, want unknown, not blocked, with the time seen", tags[i])
	}
	within(t, "FirstSeenAt", tags[i].FirstSeenAt, now, time.Now())
}

func TestStartAndStopTransaction(t *testing.T) {
	e := newEnv(t)
	if err := e.store.SaveIdTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: "BLOCKED", Blocked: true}); err != nil {
		t.Fatal(err)
	}
	c := dial(t, e.url("CP1"), nil)
	c.heartbeat()
	st := e.station("CP1")

	startPayload := `{"connectorId":2,"idTag":"TAG1","meterStart":1000,"reservationId":7,"timestamp":"2025-05-01T10:00:00.000Z"}`
	resp, startID := c.mustCall("StartTransaction", startPayload)
	start := mustDecode[ocpp.StartTransactionResponse](t, resp)
	if start.IdTagInfo.Status != ocpp.AuthorizationStatusAccepted {
		t.Errorf("idTagInfo = %+v, want Accepted", start.IdTagInfo)
	}
	txID := int64(start.TransactionID)
	tx := e.transaction(txID)
	if tx.StationID != st.ID || tx.ChargePointID != "CP1" || tx.ConnectorID != 2 || tx.IdTag != "TAG1" ||
		tx.MeterStartWh != 1000 || deref(tx.ReservationID) != 7 || tx.Stopped ||
		!tx.StartedAt.Equal(time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("started transaction = %+v", tx)
	}

	stopPayload := `{"idTag":"TAG1","meterStop":5000,"timestamp":"2025-05-01T11:00:00.000Z","transactionId":` +
		strconv.FormatInt(txID, 10) + `,"reason":"EVDisconnected","transactionData":[` +
		`{"timestamp":"2025-05-01T10:00:00.000Z","sampledValue":[{"value":"1000","context":"Transaction.Begin"}]},` +
		`{"timestamp":"2025-05-01T11:00:00.000Z","sampledValue":[{"value":"5.000","unit":"kWh","context":"Transaction.End"},` +
		`{"value":"32.5","measurand":"SoC","unit":"Percent","location":"EV","context":"Transaction.End"}]}]}`
	resp, stopID := c.mustCall("StopTransaction", stopPayload)
	stop := mustDecode[ocpp.StopTransactionResponse](t, resp)
	if stop.IdTagInfo == nil || stop.IdTagInfo.Status != ocpp.AuthorizationStatusAccepted {
		t.Errorf("stop idTagInfo = %+v, want Accepted", stop.IdTagInfo)
	}
	tx = e.transaction(txID)
	if !tx.Stopped || tx.MeterStopWh != 5000 || deref(tx.EnergyWh) != int64(4000) || tx.StopReason != "EVDisconnected" ||
		tx.StopIdTag != "TAG1" || !tx.StoppedAt.Equal(time.Date(2025, 5, 1, 11, 0, 0, 0, time.UTC)) || len(tx.Flags) != 0 {
		t.Errorf("stopped transaction = %+v, energy %v", tx, deref(tx.EnergyWh))
	}

	mvs, err := e.store.MeterValues(e.ctx, e.acct.ID, station.MeterValueFilter{TransactionID: txID})
	if err != nil {
		t.Fatal(err)
	}
	type mv struct {
		ts                                 time.Time
		measurand, context, unit, location string
		raw, rawUnit                       string
		milli                              any
	}
	wantMV := []mv{
		{time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC), station.DefaultMeasurand, "Transaction.Begin", "Wh", "Outlet", "1000", "", int64(1000000)},
		{time.Date(2025, 5, 1, 11, 0, 0, 0, time.UTC), station.DefaultMeasurand, "Transaction.End", "Wh", "Outlet", "5.000", "kWh", int64(5000000)},
		{time.Date(2025, 5, 1, 11, 0, 0, 0, time.UTC), "SoC", "Transaction.End", "Percent", "EV", "32.5", "Percent", int64(32500)},
	}
	if len(mvs) != len(wantMV) {
		t.Fatalf("transaction meter values = %+v, want %d", mvs, len(wantMV))
	}
	for i, w := range wantMV {
		g := mvs[i]
		got := mv{g.Timestamp, g.Measurand, g.Context, g.Unit, g.Location, g.RawValue, g.RawUnit, deref(g.Milli)}
		if got != w || g.TransactionID != txID || g.StationID != st.ID || g.ConnectorID != 2 {
			t.Errorf("meter value %d = %+v (tx %d station %d connector %d), want %+v of transaction %d, connector 2",
				i, got, g.TransactionID, g.StationID, g.ConnectorID, w, txID)
		}
	}

	evs := e.transactionEvents(txID)
	wantEv := []struct{ kind, action, id, payload string }{
		{"Started", "StartTransaction", startID, startPayload},
		{"Stopped", "StopTransaction", stopID, stopPayload},
	}
	checkTxEvents(t, evs, wantEv)

	// A blocked tag gets Blocked, but the transaction the station has started is kept.
	resp, _ = c.mustCall("StartTransaction", `{"connectorId":1,"idTag":"BLOCKED","meterStart":0,"timestamp":"2025-05-01T12:00:00Z"}`)
	blocked := mustDecode[ocpp.StartTransactionResponse](t, resp)
	if blocked.IdTagInfo.Status != ocpp.AuthorizationStatusBlocked {
		t.Errorf("idTagInfo of a blocked tag = %+v, want Blocked", blocked.IdTagInfo)
	}
	if tx := e.transaction(int64(blocked.TransactionID)); tx.IdTag != "BLOCKED" || tx.Stopped {
		t.Errorf("transaction of a blocked tag = %+v, want kept open", tx)
	}
}

func checkTxEvents(t *testing.T, got []station.TransactionEvent, want []struct{ kind, action, id, payload string }) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("transaction events = %+v, want %d", got, len(want))
		return
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.kind || g.Source.Action != w.action || g.Source.MessageID != w.id {
			t.Errorf("event %d = %s from %s %q, want %s from %s %q", i, g.Kind, g.Source.Action, g.Source.MessageID, w.kind, w.action, w.id)
		}
		if w.payload != "" && string(g.Source.Payload) != w.payload {
			t.Errorf("event %d payload = %s, want %s", i, g.Source.Payload, w.payload)
		}
		if g.Source.ReceivedAt.IsZero() {
			t.Errorf("event %d has no receive time", i)
		}
	}
}

func TestMeterValues(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	c.heartbeat()
	st := e.station("CP1")

	payload := `{"connectorId":1,"transactionId":4711,"meterValue":[` +
		`{"timestamp":"2025-05-01T10:00:00.000Z","sampledValue":[` +
		`{"value":"12.345","context":"Sample.Clock","format":"Raw","measurand":"Energy.Active.Import.Register","location":"Outlet","unit":"kWh"},` +
		`{"value":"7.2","context":"Sample.Periodic","measurand":"Power.Active.Import","phase":"L1","location":"Inlet","unit":"kW"},` +
		`{"value":"16.1","measurand":"Current.Import","phase":"L2","unit":"A"},` +
		`{"value":"230.5","measurand":"Voltage","phase":"L3-N","unit":"V"},` +
		`{"value":"41","measurand":"Temperature","location":"Body","unit":"Celsius"},` +
		`{"value":"0A1B2C","format":"SignedData","context":"Transaction.End"}]},` +
		`{"timestamp":"2025-05-01T10:15:00.000Z","sampledValue":[{"value":"12500"},{"value":"11","measurand":"Power.Active.Import"}]}]}`
	resp, _ := c.mustCall("MeterValues", payload)
	mustDecode[ocpp.MeterValuesResponse](t, resp)

	got, err := e.store.MeterValues(e.ctx, e.acct.ID, station.MeterValueFilter{StationID: st.ID})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(15 * time.Minute)
	mv := func(ts time.Time, measurand, phase, context, location, format, raw, rawUnit, unit string, milli *int64) station.MeterValue {
		return station.MeterValue{StationID: st.ID, ConnectorID: 1, TransactionID: 4711, Timestamp: ts,
			Measurand: measurand, Phase: phase, Context: context, Location: location, Format: format,
			RawValue: raw, RawUnit: rawUnit, Unit: unit, Milli: milli}
	}
	want := []station.MeterValue{
		mv(t0, "Energy.Active.Import.Register", "", "Sample.Clock", "Outlet", "Raw", "12.345", "kWh", "Wh", ptr[int64](12345000)),
		mv(t0, "Power.Active.Import", "L1", "Sample.Periodic", "Inlet", "Raw", "7.2", "kW", "W", ptr[int64](7200000)),
		mv(t0, "Current.Import", "L2", "Sample.Periodic", "Outlet", "Raw", "16.1", "A", "A", ptr[int64](16100)),
		mv(t0, "Voltage", "L3-N", "Sample.Periodic", "Outlet", "Raw", "230.5", "V", "V", ptr[int64](230500)),
		mv(t0, "Temperature", "", "Sample.Periodic", "Body", "Raw", "41", "Celsius", "Celsius", ptr[int64](41000)),
		mv(t0, "Energy.Active.Import.Register", "", "Transaction.End", "Outlet", "SignedData", "0A1B2C", "", "Wh", nil),
		// Nothing but the value: the defaults of the specification.
		mv(t1, "Energy.Active.Import.Register", "", "Sample.Periodic", "Outlet", "Raw", "12500", "", "Wh", ptr[int64](12500000)),
		// A power reading without a unit is in W, not in the Wh of the specification's default.
		mv(t1, "Power.Active.Import", "", "Sample.Periodic", "Outlet", "Raw", "11", "", "W", ptr[int64](11000)),
	}
	if len(got) != len(want) {
		t.Fatalf("stored %d values, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g := got[i]
		g.ID = 0
		if fmt.Sprint(deref(g.Milli)) != fmt.Sprint(deref(want[i].Milli)) {
			t.Errorf("value %d: Milli = %v, want %v", i, deref(g.Milli), deref(want[i].Milli))
		}
		g.Milli, want[i].Milli = nil, nil
		if g != want[i] {
			t.Errorf("value %d = %+v\nwant      %+v", i, g, want[i])
		}
	}
}

func TestDataTransfer(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	payload := `{"vendorId":"com.example","messageId":"Hello","data":"{\"a\":1}"}`
	resp, id := c.mustCall("DataTransfer", payload)
	dt := mustDecode[ocpp.DataTransferResponse](t, resp)
	if dt.Status != ocpp.DataTransferStatusUnknownVendorId {
		t.Errorf("status = %s, want UnknownVendorId", dt.Status)
	}
	evs := e.events(e.station("CP1").ID, "DataTransfer")
	if len(evs) != 1 {
		t.Fatalf("DataTransfer events = %+v, want 1", evs)
	}
	ev := evs[0]
	if ev.Note != "vendorId=com.example messageId=Hello" || ev.Source.Action != "DataTransfer" ||
		ev.Source.MessageID != id || string(ev.Source.Payload) != payload {
		t.Errorf("event = %+v, want the vendor and message ids, and the message", ev)
	}
}

func TestStatusNotificationEvents(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	tests := []struct {
		action, payload, note string
		resp                  any
	}{
		{"DiagnosticsStatusNotification", `{"status":"Uploading"}`, "Uploading", &ocpp.DiagnosticsStatusNotificationResponse{}},
		{"DiagnosticsStatusNotification", `{"status":"UploadFailed"}`, "UploadFailed", &ocpp.DiagnosticsStatusNotificationResponse{}},
		{"FirmwareStatusNotification", `{"status":"Downloading"}`, "Downloading", &ocpp.FirmwareStatusNotificationResponse{}},
		{"FirmwareStatusNotification", `{"status":"InstallationFailed"}`, "InstallationFailed", &ocpp.FirmwareStatusNotificationResponse{}},
	}
	var ids []string
	for _, tc := range tests {
		resp, id := c.mustCall(tc.action, tc.payload)
		if fmt.Sprintf("%T", resp) != fmt.Sprintf("%T", tc.resp) {
			t.Errorf("%s answered with %T", tc.action, resp)
		}
		ids = append(ids, id)
	}
	stID := e.station("CP1").ID
	for _, action := range []string{"DiagnosticsStatusNotification", "FirmwareStatusNotification"} {
		evs := e.events(stID, action)
		slices.Reverse(evs) // oldest first, as sent
		var want []int
		for i, tc := range tests {
			if tc.action == action {
				want = append(want, i)
			}
		}
		if len(evs) != len(want) {
			t.Fatalf("%s events = %+v, want %d", action, evs, len(want))
		}
		for j, i := range want {
			if evs[j].Note != tests[i].note || evs[j].Source.MessageID != ids[i] || string(evs[j].Source.Payload) != tests[i].payload {
				t.Errorf("%s event %d = %+v, want note %q, id %q", action, j, evs[j], tests[i].note, ids[i])
			}
		}
	}
}

// ---- 4. What real chargers do with transactions ----

func TestStartTransactionRetried(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	payload := `{"connectorId":1,"idTag":"TAG1","meterStart":2500,"timestamp":"2025-05-01T10:00:00.123Z"}`
	resp, id1 := c.mustCall("StartTransaction", payload)
	first := mustDecode[ocpp.StartTransactionResponse](t, resp)
	// The reply was lost: the charger sends the same message again, under a new id.
	resp, id2 := c.mustCall("StartTransaction", payload)
	second := mustDecode[ocpp.StartTransactionResponse](t, resp)
	if first.TransactionID != second.TransactionID {
		t.Errorf("retried start got transaction %d, the first %d", second.TransactionID, first.TransactionID)
	}
	if second.IdTagInfo.Status != ocpp.AuthorizationStatusAccepted {
		t.Errorf("retried start idTagInfo = %+v", second.IdTagInfo)
	}
	if txs := e.transactions(station.TransactionFilter{}); len(txs) != 1 {
		t.Errorf("%d transactions stored, want 1: %+v", len(txs), txs)
	}
	checkTxEvents(t, e.transactionEvents(int64(first.TransactionID)), []struct{ kind, action, id, payload string }{
		{"Started", "StartTransaction", id1, payload},
		{"StartRetried", "StartTransaction", id2, payload},
	})

	// A start that differs (another meterStart) is another transaction.
	resp, _ = c.mustCall("StartTransaction", `{"connectorId":1,"idTag":"TAG1","meterStart":2501,"timestamp":"2025-05-01T10:00:00.123Z"}`)
	if third := mustDecode[ocpp.StartTransactionResponse](t, resp); third.TransactionID == first.TransactionID {
		t.Errorf("a different start got the same transaction %d", third.TransactionID)
	}
}

func TestLateTransactionsOrderedByStart(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	// The charger was offline: it sends its queued transactions when it is back, the
	// newest first here, each start followed by its stop.
	starts := []string{"2025-05-03T08:00:00Z", "2025-05-01T08:00:00Z", "2025-05-02T08:00:00Z"}
	var ids []int
	for i, ts := range starts {
		resp, _ := c.mustCall("StartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":"TAG%d","meterStart":%d,"timestamp":%q}`, i, i*1000, ts))
		id := mustDecode[ocpp.StartTransactionResponse](t, resp).TransactionID
		ids = append(ids, id)
		stopAt, _ := time.Parse(time.RFC3339, ts)
		c.mustCall("StopTransaction", fmt.Sprintf(`{"meterStop":%d,"timestamp":%q,"transactionId":%d}`, i*1000+500, stopAt.Add(time.Hour).Format(time.RFC3339), id))
	}
	txs := e.transactions(station.TransactionFilter{})
	var got []int
	for _, tx := range txs {
		got = append(got, int(tx.ID))
	}
	// Newest start first: 3 May (ids[0]), 2 May (ids[2]), 1 May (ids[1]).
	if want := []int{ids[0], ids[2], ids[1]}; !slices.Equal(got, want) {
		t.Errorf("transactions in order %v, want %v (by start timestamp, newest first)", got, want)
	}
	for _, tx := range txs {
		if !tx.Stopped || deref(tx.EnergyWh) != int64(500) || len(tx.Flags) != 0 {
			t.Errorf("transaction %d = %+v, want stopped with 500 Wh and no flags", tx.ID, tx)
		}
	}
	// The filter on start times works on the stations' timestamps too.
	from := time.Date(2025, 5, 2, 0, 0, 0, 0, time.UTC)
	if mid := e.transactions(station.TransactionFilter{From: from, To: from.Add(24 * time.Hour)}); len(mid) != 1 || int(mid[0].ID) != ids[2] {
		t.Errorf("transactions started on 2 May = %+v, want only %d", mid, ids[2])
	}
}

func TestStopUnknownTransaction(t *testing.T) {
	for _, reported := range []int64{99999, -1} {
		t.Run(strconv.FormatInt(reported, 10), func(t *testing.T) {
			e := newEnv(t)
			c := dial(t, e.url("CP1"), nil)
			payload := fmt.Sprintf(`{"idTag":"TAG1","meterStop":8000,"timestamp":"2025-05-01T12:00:00Z","transactionId":%d,"reason":"Local",`+
				`"transactionData":[{"timestamp":"2025-05-01T11:00:00Z","sampledValue":[{"value":"6000"}]},`+
				`{"timestamp":"2025-05-01T12:00:00Z","sampledValue":[{"value":"8000"}]}]}`, reported)
			resp, id := c.mustCall("StopTransaction", payload)
			stop := mustDecode[ocpp.StopTransactionResponse](t, resp)
			if stop.IdTagInfo == nil || stop.IdTagInfo.Status != ocpp.AuthorizationStatusAccepted {
				t.Errorf("idTagInfo = %+v, want Accepted", stop.IdTagInfo)
			}
			txs := e.transactions(station.TransactionFilter{})
			if len(txs) != 1 {
				t.Fatalf("transactions = %+v, want one created from the stop", txs)
			}
			tx := txs[0]
			if !tx.HasFlag(station.FlagUnknownStart) || deref(tx.ReportedTransactionID) != reported {
				t.Errorf("transaction flags %v reported id %v, want %s and %d", tx.Flags, deref(tx.ReportedTransactionID), station.FlagUnknownStart, reported)
			}
			if tx.ID == reported {
				t.Errorf("the record took the unknown id %d as its own", reported)
			}
			if !tx.Stopped || tx.MeterStopWh != 8000 || tx.StopReason != "Local" || tx.IdTag != "TAG1" ||
				!tx.StartedAt.Equal(time.Date(2025, 5, 1, 11, 0, 0, 0, time.UTC)) || tx.MeterStartWh != 6000 ||
				deref(tx.EnergyWh) != int64(2000) {
				t.Errorf("transaction from the stop = %+v energy %v, want started 11:00 at 6000 Wh, 2000 Wh charged", tx, deref(tx.EnergyWh))
			}
			// The same stop again (its reply lost) changes nothing, and is logged.
			_, id2 := c.mustCall("StopTransaction", payload)
			if txs := e.transactions(station.TransactionFilter{}); len(txs) != 1 || txs[0].MeterStopWh != 8000 {
				t.Errorf("after a repeated stop: %+v, want the one transaction unchanged", txs)
			}
			checkTxEvents(t, e.transactionEvents(tx.ID), []struct{ kind, action, id, payload string }{
				{"CreatedFromStop", "StopTransaction", id, payload},
				{"StopRetried", "StopTransaction", id2, payload},
			})
		})
	}
}

func TestStopBelowStartIsRegisterReset(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	tests := []struct {
		name       string
		meterStart int
		meterStop  int
		// values are register readings (Wh) the station sent during the transaction.
		values     []int
		wantEnergy any
	}{
		{"no readings", 50000, 120, nil, nil},
		{"readings before the reset", 50000, 120, []int{51000, 52500}, int64(2500)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			connector := i + 1
			resp, _ := c.mustCall("StartTransaction", fmt.Sprintf(`{"connectorId":%d,"idTag":"TAG","meterStart":%d,"timestamp":"2025-05-01T10:00:00Z"}`, connector, tc.meterStart))
			id := mustDecode[ocpp.StartTransactionResponse](t, resp).TransactionID
			for j, v := range tc.values {
				c.mustCall("MeterValues", fmt.Sprintf(`{"connectorId":%d,"transactionId":%d,"meterValue":[{"timestamp":"2025-05-01T10:%02d:00Z","sampledValue":[{"value":"%d"}]}]}`, connector, id, 10+j, v))
			}
			raw, _, err := c.call("StopTransaction", fmt.Sprintf(`{"meterStop":%d,"timestamp":"2025-05-01T11:00:00Z","transactionId":%d}`, tc.meterStop, id))
			if err != nil {
				t.Fatalf("StopTransaction: %v, want accepted", err)
			}
			if string(raw) != `{}` {
				t.Errorf("StopTransaction answered %s, want {}", raw)
			}
			tx := e.transaction(int64(id))
			if !tx.Stopped || !tx.HasFlag(station.FlagRegisterReset) || tx.MeterStopWh != int64(tc.meterStop) {
				t.Errorf("transaction = %+v, want stopped at %d with %s", tx, tc.meterStop, station.FlagRegisterReset)
			}
			if fmt.Sprint(deref(tx.EnergyWh)) != fmt.Sprint(tc.wantEnergy) {
				t.Errorf("energy = %v, want %v", deref(tx.EnergyWh), tc.wantEnergy)
			}
			if tx.EnergyWh != nil && *tx.EnergyWh < 0 {
				t.Errorf("negative energy %d", *tx.EnergyWh)
			}
		})
	}
}

func TestBootClosesOpenTransaction(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	c.mustCall("BootNotification", `{"chargePointVendor":"V","chargePointModel":"M"}`)

	startAt := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	startPayload := fmt.Sprintf(`{"connectorId":1,"idTag":"TAG1","meterStart":1000,"timestamp":%q}`, startAt.Format(time.RFC3339))
	resp, startID := c.mustCall("StartTransaction", startPayload)
	txID := int64(mustDecode[ocpp.StartTransactionResponse](t, resp).TransactionID)
	mvPayload := fmt.Sprintf(`{"connectorId":1,"transactionId":%d,"meterValue":[{"timestamp":%q,"sampledValue":[{"value":"3.5","unit":"kWh"}]}]}`,
		txID, startAt.Add(30*time.Minute).Format(time.RFC3339))
	c.mustCall("MeterValues", mvPayload)

	// The station reboots without stopping its transaction: it comes back on a new connection.
	c.conn.CloseNow()
	c = dial(t, e.url("CP1"), nil)
	bootPayload := `{"chargePointVendor":"V","chargePointModel":"M","firmwareVersion":"2"}`
	before := time.Now()
	resp, bootID := c.mustCall("BootNotification", bootPayload)
	after := time.Now()
	if boot := mustDecode[ocpp.BootNotificationResponse](t, resp); boot.Status != ocpp.RegistrationStatusAccepted {
		t.Fatalf("boot status = %s", boot.Status)
	}
	tx := e.transaction(txID)
	if !tx.Stopped || tx.StopReason != string(ocpp.ReasonReboot) || !tx.HasFlag(station.FlagClosedOnBoot) {
		t.Errorf("transaction after boot = %+v, want stopped with reason Reboot and %s", tx, station.FlagClosedOnBoot)
	}
	within(t, "StoppedAt", tx.StoppedAt, before, after)
	if tx.MeterStopWh != 3500 || deref(tx.EnergyWh) != int64(2500) {
		t.Errorf("estimate = meterStop %d energy %v, want the last reading 3500 and 2500 Wh", tx.MeterStopWh, deref(tx.EnergyWh))
	}
	if open := e.transactions(station.TransactionFilter{Open: ptr(true)}); len(open) != 0 {
		t.Errorf("open transactions after boot: %+v", open)
	}

	// The station kept its StopTransaction and sends it now: it replaces the estimate.
	stopAt := startAt.Add(50 * time.Minute)
	stopPayload := fmt.Sprintf(`{"idTag":"TAG1","meterStop":4200,"timestamp":%q,"transactionId":%d,"reason":"PowerLoss"}`, stopAt.Format(time.RFC3339), txID)
	resp, stopID := c.mustCall("StopTransaction", stopPayload)
	mustDecode[ocpp.StopTransactionResponse](t, resp)
	tx = e.transaction(txID)
	if !tx.HasFlag(station.FlagClosedOnBoot) || !tx.HasFlag(station.FlagStoppedAfterClose) {
		t.Errorf("flags = %v, want %s and %s", tx.Flags, station.FlagClosedOnBoot, station.FlagStoppedAfterClose)
	}
	if tx.StopReason != "PowerLoss" || tx.MeterStopWh != 4200 || deref(tx.EnergyWh) != int64(3200) || !tx.StoppedAt.Equal(stopAt) {
		t.Errorf("transaction after the late stop = %+v energy %v, want the station's stop", tx, deref(tx.EnergyWh))
	}

	checkTxEvents(t, e.transactionEvents(txID), []struct{ kind, action, id, payload string }{
		{"Started", "StartTransaction", startID, startPayload},
		{"ClosedOnBoot", "BootNotification", bootID, bootPayload},
		{"StoppedAfterClose", "StopTransaction", stopID, stopPayload},
	})
}

// A BootNotification on a connection that has booted already was asked for (TriggerMessage):
// the station did not reboot, and its transactions go on.
func TestSecondBootOnSameConnectionKeepsTransactions(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	c.mustCall("BootNotification", `{"chargePointVendor":"V","chargePointModel":"M"}`)
	resp, _ := c.mustCall("StartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":"TAG1","meterStart":1000,"timestamp":%q}`,
		time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)))
	txID := int64(mustDecode[ocpp.StartTransactionResponse](t, resp).TransactionID)
	c.mustCall("BootNotification", `{"chargePointVendor":"V","chargePointModel":"M"}`)
	if tx := e.transaction(txID); tx.Stopped || len(tx.Flags) > 0 {
		t.Errorf("a triggered boot closed the transaction: %+v", tx)
	}
}

// A charger's clock is often off. A transaction that was open when the station booted has
// been lost whatever timestamp the station gave its start.
func TestBootClosesOpenTransactionOfStationWithFastClock(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	c.mustCall("BootNotification", `{"chargePointVendor":"V","chargePointModel":"M"}`)
	// The station's clock is an hour ahead of the central system's.
	startAt := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	resp, _ := c.mustCall("StartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":"TAG1","meterStart":1000,"timestamp":%q}`, startAt.Format(time.RFC3339)))
	txID := int64(mustDecode[ocpp.StartTransactionResponse](t, resp).TransactionID)
	c.conn.CloseNow()
	c = dial(t, e.url("CP1"), nil)
	c.mustCall("BootNotification", `{"chargePointVendor":"V","chargePointModel":"M"}`)
	if tx := e.transaction(txID); !tx.Stopped || !tx.HasFlag(station.FlagClosedOnBoot) {
		t.Errorf("transaction started (by the station's clock) at %v is still open after the station rebooted: %+v", startAt, tx)
	}
}

// ---- 5. Errors on the wire ----

func TestWireErrors(t *testing.T) {
	e := newEnv(t)
	rc := dialRaw(t, e.url("CP1"))
	if f := rc.send(`[2,"boot","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]`); f.Type != ocpp.CallResult {
		t.Fatalf("boot answered %+v", f)
	}
	_, unknownType := ocpp.ParseFrame([]byte(`[5,"x","Heartbeat",{}]`))
	if unknownType == nil {
		t.Fatal("ocpp.ParseFrame accepts message type 5")
	}
	tests := []struct {
		name   string
		frame  string
		wantID string
		code   ocpp.ErrorCode
	}{
		{"unknown action", `[2,"e1","FlyToTheMoon",{}]`, "e1", ocpp.NotImplemented},
		{"action is case-sensitive", `[2,"e2","heartbeat",{}]`, "e2", ocpp.NotImplemented},
		{"central system action", `[2,"e3","Reset",{"type":"Hard"}]`, "e3", ocpp.NotSupported},
		{"central system action with bad payload", `[2,"e3b","RemoteStartTransaction",{}]`, "e3b", ocpp.NotSupported},
		{"required field missing", `[2,"e4","BootNotification",{"chargePointVendor":"V"}]`, "e4", ocpp.OccurenceConstraintViolation},
		{"required sampledValue missing", `[2,"e4b","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2025-05-01T10:00:00Z"}]}]`, "e4b", ocpp.OccurenceConstraintViolation},
		{"string for an integer", `[2,"e5","StatusNotification",{"connectorId":"1","errorCode":"NoError","status":"Available"}]`, "e5", ocpp.TypeConstraintViolation},
		{"integer for a string", `[2,"e5b","Authorize",{"idTag":12345}]`, "e5b", ocpp.TypeConstraintViolation},
		{"fraction for an integer", `[2,"e5c","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":10.5,"timestamp":"2025-05-01T10:00:00Z"}]`, "e5c", ocpp.TypeConstraintViolation},
		{"bad enum", `[2,"e6","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Sleeping"}]`, "e6", ocpp.PropertyConstraintViolation},
		{"bad enum in sampled value", `[2,"e6b","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2025-05-01T10:00:00Z","sampledValue":[{"value":"1","unit":"kwh"}]}]}]`, "e6b", ocpp.PropertyConstraintViolation},
		{"string too long", `[2,"e7","Authorize",{"idTag":"ABCDEFGHIJKLMNOPQRSTU"}]`, "e7", ocpp.PropertyConstraintViolation},
		{"bad date-time", `[2,"e8","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":0,"timestamp":"yesterday"}]`, "e8", ocpp.PropertyConstraintViolation},
		{"date-time without offset", `[2,"e8b","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":0,"timestamp":"2025-05-01T10:00:00"}]`, "e8b", ocpp.PropertyConstraintViolation},
		{"unknown property", `[2,"e9","Heartbeat",{"foo":1}]`, "e9", ocpp.FormationViolation},
		{"not JSON", `this is not json`, ocpp.UnknownMessageID, ocpp.FormationViolation},
		{"truncated frame", `[2,"e10","Heartbeat",{}`, ocpp.UnknownMessageID, ocpp.FormationViolation},
		{"not an array", `{"id":"e11"}`, ocpp.UnknownMessageID, ocpp.FormationViolation},
		{"payload not an object", `[2,"e12","Heartbeat",[]]`, "e12", ocpp.FormationViolation},
		{"unknown message type id", `[5,"x","Heartbeat",{}]`, "x", unknownType.Code},
		{"start on connector 0", `[2,"e13","StartTransaction",{"connectorId":0,"idTag":"T","meterStart":0,"timestamp":"2025-05-01T10:00:00Z"}]`, "e13", ocpp.PropertyConstraintViolation},
		{"negative connector", `[2,"e14","StatusNotification",{"connectorId":-1,"errorCode":"NoError","status":"Available"}]`, "e14", ocpp.PropertyConstraintViolation},
	}
	parent := t
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc.t = t
			defer func() { rc.t = parent }()
			f := rc.send(tc.frame)
			if f.Type != ocpp.CallError {
				t.Fatalf("answer = %+v, want a CALLERROR", f)
			}
			if f.ID != tc.wantID {
				t.Errorf("answer id = %q, want %q", f.ID, tc.wantID)
			}
			if f.ErrorCode != tc.code {
				t.Errorf("error code = %s (%s), want %s", f.ErrorCode, f.ErrorDescription, tc.code)
			}
			if f.ErrorDescription == "" {
				t.Errorf("no error description")
			}
			if !json.Valid(f.ErrorDetails) || strings.TrimSpace(string(f.ErrorDetails))[0] != '{' {
				t.Errorf("errorDetails = %s, want an object", f.ErrorDetails)
			}
			// The connection stays usable.
			hbID := fmt.Sprintf("hb%d", i)
			if f := rc.send(`[2,"` + hbID + `","Heartbeat",{}]`); f.Type != ocpp.CallResult || f.ID != hbID {
				t.Fatalf("Heartbeat after the error answered %+v", f)
			}
		})
	}
	// Nothing of a rejected message reached the records.
	st := e.station("CP1")
	if cs, _ := e.store.Connectors(e.ctx, st.ID); len(cs) != 0 {
		t.Errorf("connectors = %+v after rejected status notifications", cs)
	}
	if txs := e.transactions(station.TransactionFilter{}); len(txs) != 0 {
		t.Errorf("transactions = %+v after rejected starts", txs)
	}
	if rej := e.events(st.ID, "Rejected"); len(rej) == 0 {
		t.Errorf("no Rejected event kept")
	} else if ev := rej[len(rej)-1]; ev.Source.MessageID != "e1" || ev.Source.Action != "FlyToTheMoon" || !strings.Contains(ev.Note, string(ocpp.NotImplemented)) {
		t.Errorf("first Rejected event = %+v, want the unknown action e1", ev)
	}
}

func TestLenientValidation(t *testing.T) {
	firmware := strings.Repeat("f", 60)
	boot := `{"chargePointVendor":"V","chargePointModel":"M","firmwareVersion":"` + firmware + `"}`

	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	if ce := c.callError("BootNotification", boot); ce.Code != ocpp.PropertyConstraintViolation {
		t.Errorf("strict: %s, want PropertyConstraintViolation", ce.Code)
	}
	st := e.station("CP1")
	if err := e.store.SetValidation(e.ctx, e.acct.ID, st.ID, account.Lenient); err != nil {
		t.Fatal(err)
	}
	c.conn.Close(websocket.StatusNormalClosure, "")
	<-c.conn.Done()

	c = dial(t, e.url("CP1"), nil)
	resp, id := c.mustCall("BootNotification", boot)
	if b := mustDecode[ocpp.BootNotificationResponse](t, resp); b.Status != ocpp.RegistrationStatusAccepted {
		t.Errorf("lenient: status %s, want Accepted", b.Status)
	}
	if got := e.station("CP1").Boot.FirmwareVersion; got != firmware {
		t.Errorf("firmware version stored as %q, want it whole", got)
	}
	warns := e.events(st.ID, "ValidationWarning")
	if len(warns) != 1 {
		t.Fatalf("ValidationWarning events = %+v, want 1", warns)
	}
	if w := warns[0]; w.Source.MessageID != id || w.Source.Action != "BootNotification" || !strings.Contains(w.Note, "firmwareVersion") {
		t.Errorf("warning = %+v, want it to name firmwareVersion and message %q", w, id)
	}
	// Lenient mode still refuses what it cannot read.
	if ce := c.callError("BootNotification", `{"chargePointVendor":"V"}`); ce.Code != ocpp.OccurenceConstraintViolation {
		t.Errorf("lenient, model missing: %s, want OccurenceConstraintViolation", ce.Code)
	}
}

// A charger whose BootNotification is refused sends it again on the same connection. The
// operator who switches the station to lenient mode must not have to wait for the charger
// to reconnect, which it may never do.
func TestValidationChangeAppliesToNextMessage(t *testing.T) {
	boot := `{"chargePointVendor":"V","chargePointModel":"M","firmwareVersion":"` + strings.Repeat("f", 60) + `"}`
	e := newEnv(t)
	c := dial(t, e.url("CP1"), nil)
	if ce := c.callError("BootNotification", boot); ce.Code != ocpp.PropertyConstraintViolation {
		t.Errorf("strict: %s, want PropertyConstraintViolation", ce.Code)
	}
	if err := e.store.SetValidation(e.ctx, e.acct.ID, e.station("CP1").ID, account.Lenient); err != nil {
		t.Fatal(err)
	}
	raw, _, err := c.call("BootNotification", boot)
	if err != nil {
		t.Fatalf("BootNotification retried after the switch to lenient: %v, want Accepted", err)
	}
	if resp, _, err := ocpp.DecodeResponse("BootNotification", raw, ocpp.Strict); err != nil ||
		resp.(*ocpp.BootNotificationResponse).Status != ocpp.RegistrationStatusAccepted {
		t.Errorf("BootNotification answered %s", raw)
	}
}

// ---- 6. Connections ----

func TestSecondConnectionReplacesFirst(t *testing.T) {
	e := newEnv(t)
	first := dial(t, e.url("CP1"), nil)
	first.heartbeat()
	second := dial(t, e.url("CP1"), nil)
	if got := first.closeStatus(); got != websocket.StatusPolicyViolation {
		t.Errorf("first connection closed with %v, want %v", got, websocket.StatusPolicyViolation)
	}
	second.heartbeat()
	resp, _ := second.mustCall("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Available"}`)
	mustDecode[ocpp.StatusNotificationResponse](t, resp)
	if !e.srv.Connected(e.acct.ID, "CP1") {
		t.Error("Server.Connected = false with the second connection up")
	}
	st := e.station("CP1")
	if !st.Connected {
		t.Errorf("station recorded as disconnected with its second connection up")
	}
	// The events say connected, connected: the replaced connection's end is no disconnection.
	if dis := e.events(st.ID, "Disconnected"); len(dis) != 0 {
		t.Errorf("Disconnected events = %+v, want none", dis)
	}
	if con := e.events(st.ID, "Connected"); len(con) != 2 {
		t.Errorf("Connected events = %+v, want 2", con)
	}

	// Closing the second records the disconnection.
	second.conn.Close(websocket.StatusNormalClosure, "")
	<-second.conn.Done()
	waitFor(t, "the disconnection to be recorded", func() bool {
		return !e.station("CP1").Connected && !e.srv.Connected(e.acct.ID, "CP1")
	})
}

func TestGoroutinesReturnToBaseline(t *testing.T) {
	e := newEnv(t)
	// One connection first, so that what the server starts once (and keeps) is counted in.
	warm := dial(t, e.url("WARM"), nil)
	warm.heartbeat()
	warm.conn.Close(websocket.StatusNormalClosure, "")
	<-warm.conn.Done()
	waitFor(t, "the warm-up connection to end", func() bool { return !e.srv.Connected(e.acct.ID, "WARM") })
	baseline := runtime.NumGoroutine()

	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("CP%02d", i%25) // half of them replace an earlier connection
			conn, err := rpc.Dial(context.Background(), e.url(id), rpc.Options{Logger: quiet}, nil)
			if err != nil {
				errs <- err
				return
			}
			served := make(chan struct{})
			go func() {
				conn.Serve(context.Background(), func(ctx context.Context, call rpc.Call) (json.RawMessage, error) {
					return nil, ocpp.Errorf(ocpp.NotImplemented, "no")
				})
				close(served)
			}()
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			_, err = conn.Call(ctx, "Heartbeat", []byte(`{}`))
			cancel()
			if err != nil && !errors.Is(err, rpc.ErrClosed) { // ErrClosed: replaced meanwhile
				errs <- fmt.Errorf("%s: %w", id, err)
			}
			conn.Close(websocket.StatusNormalClosure, "")
			<-served
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitFor(t, "every station to be disconnected", func() bool {
		for i := range 25 {
			if e.srv.Connected(e.acct.ID, fmt.Sprintf("CP%02d", i)) {
				return false
			}
		}
		return true
	})
	deadline := time.Now().Add(waitTimeout)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before the connections:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
	// And every station is recorded as disconnected.
	sts, err := e.store.Stations(e.ctx, e.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.Connected {
			t.Errorf("station %s recorded as connected", st.ChargePointID)
		}
	}
}

func TestServerCall(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var got []rpc.Call
	c := dial(t, e.url("CP1"), func(ctx context.Context, call rpc.Call) (json.RawMessage, error) {
		mu.Lock()
		got = append(got, call)
		mu.Unlock()
		switch call.Action {
		case "GetConfiguration":
			return json.RawMessage(`{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"},` +
				`{"key":"NumberOfConnectors","readonly":true,"value":"2"}],"unknownKey":["Foo"]}`), nil
		case "Reset":
			return nil, ocpp.Errorf(ocpp.InternalError, "cannot reset now")
		}
		return nil, ocpp.Errorf(ocpp.NotImplemented, "no")
	})
	c.heartbeat()

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	resp, err := e.srv.Call(ctx, e.acct.ID, "CP1", &ocpp.GetConfigurationRequest{Key: []string{"HeartbeatInterval", "NumberOfConnectors", "Foo"}})
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	conf := mustDecode[ocpp.GetConfigurationResponse](t, resp)
	wantKeys := []ocpp.KeyValue{{Key: "HeartbeatInterval", Value: "300"}, {Key: "NumberOfConnectors", Readonly: true, Value: "2"}}
	if !slices.Equal(conf.ConfigurationKey, wantKeys) || !slices.Equal(conf.UnknownKey, []string{"Foo"}) {
		t.Errorf("response = %+v", conf)
	}
	mu.Lock()
	if len(got) != 1 || got[0].Action != "GetConfiguration" || string(got[0].Payload) != `{"key":["HeartbeatInterval","NumberOfConnectors","Foo"]}` {
		t.Errorf("station received %+v", got)
	}
	mu.Unlock()

	// A CALLERROR of the station comes back as an *rpc.CallError.
	_, err = e.srv.Call(ctx, e.acct.ID, "CP1", &ocpp.ResetRequest{Type: ocpp.ResetTypeSoft})
	var ce *rpc.CallError
	if !errors.As(err, &ce) || ce.Code != ocpp.InternalError || ce.Action != "Reset" {
		t.Errorf("Reset refused by the station: %v, want an *rpc.CallError InternalError", err)
	}
	// A request that does not validate is not sent.
	if _, err := e.srv.Call(ctx, e.acct.ID, "CP1", &ocpp.ChangeConfigurationRequest{Key: strings.Repeat("k", 51), Value: "1"}); err == nil {
		t.Error("Call sent a ChangeConfiguration with a 51-character key")
	}
	// The station is still served.
	c.heartbeat()
}

func TestServerCallNotConnected(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_, err := e.srv.Call(ctx, e.acct.ID, "NOBODY", &ocpp.GetConfigurationRequest{})
	if !errors.Is(err, csms.ErrNotConnected) {
		t.Errorf("Call to an unknown station: %v, want ErrNotConnected", err)
	}
	// A station that was connected, and is no more.
	c := dial(t, e.url("CP1"), nil)
	c.heartbeat()
	c.conn.Close(websocket.StatusNormalClosure, "")
	<-c.conn.Done()
	waitFor(t, "the station to be disconnected", func() bool { return !e.srv.Connected(e.acct.ID, "CP1") })
	if _, err := e.srv.Call(ctx, e.acct.ID, "CP1", &ocpp.GetConfigurationRequest{}); !errors.Is(err, csms.ErrNotConnected) {
		t.Errorf("Call to a disconnected station: %v, want ErrNotConnected", err)
	}
	// Another account's station of the same id is not this one.
	c = dial(t, e.url("CP2"), nil)
	c.heartbeat()
	if _, err := e.srv.Call(ctx, e.acct.ID+1, "CP2", &ocpp.GetConfigurationRequest{}); !errors.Is(err, csms.ErrNotConnected) {
		t.Errorf("Call to a station of another account: %v, want ErrNotConnected", err)
	}
}

// Commands are sent to stations from other goroutines (the portal, the API) at any time,
// also while a station is still connecting.
func TestServerCallWhileConnecting(t *testing.T) {
	e := newEnv(t)
	h := func(ctx context.Context, call rpc.Call) (json.RawMessage, error) {
		return json.RawMessage(`{"status":"Accepted"}`), nil
	}
	for i := range 5 {
		id := fmt.Sprintf("CP%d", i)
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			for ctx.Err() == nil {
				_, err := e.srv.Call(ctx, e.acct.ID, id, &ocpp.ClearCacheRequest{})
				if !errors.Is(err, csms.ErrNotConnected) {
					done <- err
					return
				}
				runtime.Gosched()
			}
			done <- ctx.Err()
		}()
		dial(t, e.url(id), h)
		if err := <-done; err != nil {
			t.Errorf("Call to %s as it connects: %v", id, err)
		}
	}
}

func TestShutdown(t *testing.T) {
	e := newEnv(t)
	clients := map[string]*stationClient{}
	for _, id := range []string{"CP1", "CP2", "CP3"} {
		clients[id] = dial(t, e.url(id), nil)
		clients[id].heartbeat()
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for id, c := range clients {
		if got := c.closeStatus(); got != websocket.StatusGoingAway {
			t.Errorf("%s closed with %v, want %v", id, got, websocket.StatusGoingAway)
		}
		// Shutdown returns once the disconnections are recorded.
		st := e.station(id)
		if st.Connected || e.srv.Connected(e.acct.ID, id) {
			t.Errorf("%s still connected after Shutdown", id)
		}
		dis := e.events(st.ID, "Disconnected")
		if len(dis) != 1 {
			t.Errorf("%s: Disconnected events = %+v, want 1", id, dis)
		} else if dis[0].Note != "server shut down" {
			t.Errorf("%s: disconnection noted as %q, want %q", id, dis[0].Note, "server shut down")
		}
	}
	// A station connecting after Shutdown is turned away and not recorded as connected.
	late := dial(t, e.url("LATE"), nil)
	if got := late.closeStatus(); got != websocket.StatusGoingAway {
		t.Errorf("connection after Shutdown closed with %v, want %v", got, websocket.StatusGoingAway)
	}
	if slices.Contains(e.stations(), "LATE") {
		t.Errorf("a station connecting after Shutdown was registered")
	}
}

// A station whose link died keeps its TCP connection open without answering anything, the
// close frame included. Shutdown must still return by its context's deadline.
func TestShutdownWithUnresponsiveStation(t *testing.T) {
	e := newEnv(t)
	dial(t, e.url("CP-ALIVE"), nil).heartbeat()
	// A raw websocket that nobody reads: the close frame is never answered.
	dead := dialRaw(t, e.url("CP-DEAD"))
	if f := dead.send(`[2,"hb","Heartbeat",{}]`); f.Type != ocpp.CallResult {
		t.Fatalf("Heartbeat answered %+v", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := e.srv.Shutdown(ctx)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Shutdown with a 500ms deadline took %v (err %v)", elapsed.Round(time.Millisecond), err)
	}
}

// A station whose link died reconnects on a new TCP connection while the old one is still
// open and answers nothing. The new connection may wait for the old one for ReplaceWait at
// most.
func TestReplaceUnresponsiveConnection(t *testing.T) {
	e := newEnv(t, func(c envConfig) { c.opts.ReplaceWait = 500 * time.Millisecond })
	dead := dialRaw(t, e.url("CP1"))
	if f := dead.send(`[2,"hb","Heartbeat",{}]`); f.Type != ocpp.CallResult {
		t.Fatalf("Heartbeat answered %+v", f)
	}
	start := time.Now()
	c := dial(t, e.url("CP1"), nil)
	c.heartbeat()
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("the new connection was served after %v, with ReplaceWait 500ms", elapsed.Round(time.Millisecond))
	}
	if !e.station("CP1").Connected {
		t.Error("station recorded as disconnected")
	}
}
