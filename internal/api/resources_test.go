package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/api"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/station"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// field reads a property of a decoded object by a dotted path ("boot.chargePointVendor",
// "connectors.0.status").
func field(t *testing.T, v any, path string) any {
	t.Helper()
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				t.Fatalf("no property %q (of %s)", p, path)
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(x) {
				t.Fatalf("no element %q (of %s) in %d", p, path, len(x))
			}
			v = x[i]
		default:
			t.Fatalf("%s: %T has no %q", path, v, p)
		}
	}
	return v
}

// wantFields checks properties of a decoded object; numbers are compared as text.
func wantFields(t *testing.T, what string, v any, want map[string]any) {
	t.Helper()
	for path, w := range want {
		got := field(t, v, path)
		if n, ok := got.(json.Number); ok {
			got = string(n)
			if wn, ok := w.(json.Number); ok {
				w = string(wn)
			} else if wi, ok := w.(int64); ok {
				w = itoa(wi)
			} else if wi, ok := w.(int); ok {
				w = strconv.Itoa(wi)
			}
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %s = %#v, want %#v", what, path, got, w)
		}
	}
}

func chargePointIDs(t *testing.T, list []any) []string {
	t.Helper()
	var ids []string
	for _, s := range list {
		ids = append(ids, field(t, s, "chargePointId").(string))
	}
	return ids
}

func TestStations(t *testing.T) {
	e := newEnv(t)
	e.seed()

	list := e.call("GET", "/api/v1/stations", "", http.StatusOK)["stations"].([]any)
	if got := chargePointIDs(t, list); !reflect.DeepEqual(got, []string{"CP-1", "CP-2"}) {
		t.Fatalf("stations %v", got)
	}
	wantFields(t, "CP-1 in the list", list[0], map[string]any{
		"registration": "Accepted", "validation": "strict", "connected": false,
		"boot.chargePointVendor": "Zaptec", "boot.firmwareVersion": "1.2.3", "boot.iccid": "8941",
		"lastBootAt": rfc(at(1)), "createdAt": rfc(at(0)), "lastSeenAt": nil,
	})
	wantFields(t, "CP-2 in the list", list[1], map[string]any{
		"registration": "Pending", "validation": "lenient", "lastBootAt": nil, "boot.chargePointVendor": "",
	})
	if _, ok := list[0].(map[string]any)["connectors"]; ok {
		t.Error("the list has connectors")
	}

	cp1 := e.call("GET", "/api/v1/stations/CP-1", "", http.StatusOK)
	wantFields(t, "CP-1", cp1, map[string]any{
		"chargePointId": "CP-1", "boot.chargePointModel": "Go", "boot.chargePointSerialNumber": "SN1",
		"connectors.0.connectorId": 0, "connectors.0.status": "Available", "connectors.0.timestamp": nil,
		"connectors.0.receivedAt":  rfc(at(3)),
		"connectors.1.connectorId": 1, "connectors.1.status": "Charging", "connectors.1.errorCode": "NoError",
		"connectors.1.timestamp": rfc(at(2)),
	})
	cp2 := e.call("GET", "/api/v1/stations/CP-2", "", http.StatusOK)
	if c := cp2["connectors"].([]any); len(c) != 0 {
		t.Errorf("CP-2 connectors %v, want []", c)
	}

	events := e.call("GET", "/api/v1/stations/CP-1/events", "", http.StatusOK)["events"].([]any)
	if len(events) != 2 {
		t.Fatalf("events %v", events)
	}
	wantFields(t, "newest event", events[0], map[string]any{
		"kind": "Rejected", "note": "malformed", "action": "MeterValues", "payload": "{not json", "receivedAt": rfc(at(4)),
	})
	wantFields(t, "boot event", events[1], map[string]any{
		"kind": "BootNotification", "action": "BootNotification", "messageId": "BootNotification-1",
		"payload.m": 1,
	})
	events = e.call("GET", "/api/v1/stations/CP-1/events?limit=1", "", http.StatusOK)["events"].([]any)
	if len(events) != 1 || field(t, events[0], "kind") != "Rejected" {
		t.Errorf("events with limit 1: %v", events)
	}

	hist := e.call("GET", "/api/v1/stations/CP-1/status-history", "", http.StatusOK)["statusHistory"].([]any)
	if len(hist) != 2 || field(t, hist[0], "connectorId") != json.Number("0") || field(t, hist[1], "status") != "Charging" {
		t.Errorf("status history %v", hist)
	}
	hist = e.call("GET", "/api/v1/stations/CP-1/status-history?limit=1", "", http.StatusOK)["statusHistory"].([]any)
	if len(hist) != 1 {
		t.Errorf("status history with limit 1: %v", hist)
	}

	// Another account's station, or none, is not found on every route, for reads and writes.
	for _, path := range []string{"/api/v1/stations/CP-9", "/api/v1/stations/CP-9/events", "/api/v1/stations/CP-9/status-history", "/api/v1/stations/nope"} {
		wantError(t, path, e.do("GET", path, e.token, ""), http.StatusNotFound, api.CodeNotFound, "chargePointId", "")
	}
	wantError(t, "PATCH of another account's station", e.do("PATCH", "/api/v1/stations/CP-9", e.token, `{"registration":"Rejected"}`),
		http.StatusNotFound, api.CodeNotFound, "chargePointId", "CP-9")
	if st, _ := e.store.StationByChargePointID(e.ctx, e.other.ID, "CP-9"); st.Registration != station.Accepted {
		t.Errorf("another account's station was changed: %s", st.Registration)
	}
	if got := e.do("GET", "/api/v1/stations/CP-9", e.otherT, ""); got.status != http.StatusOK {
		t.Errorf("its own account: %d", got.status)
	}

	for _, tc := range []struct{ query, param string }{
		{"limit=0", "limit"}, {"limit=1001", "limit"}, {"limit=ten", "limit"}, {"limit=1&limit=2", "limit"},
		{"since=2025-01-01T00:00:00Z", "since"}, {"x=1", "x"},
	} {
		wantError(t, "events?"+tc.query, e.do("GET", "/api/v1/stations/CP-1/events?"+tc.query, e.token, ""),
			http.StatusBadRequest, api.CodeInvalidParameter, tc.param, tc.param)
	}
	wantError(t, "status-history?limit=-1", e.do("GET", "/api/v1/stations/CP-1/status-history?limit=-1", e.token, ""),
		http.StatusBadRequest, api.CodeInvalidParameter, "limit", "")
	wantError(t, "query on a route without parameters", e.do("GET", "/api/v1/stations?limit=1", e.token, ""),
		http.StatusBadRequest, api.CodeInvalidParameter, "limit", "takes no query parameters")
	wantError(t, "malformed query", e.do("GET", "/api/v1/stations/CP-1/events?limit=%zz", e.token, ""),
		http.StatusBadRequest, api.CodeInvalidParameter, "", "")
}

// TestStationConnected: "connected" is whether the station is connected now.
func TestStationConnected(t *testing.T) {
	e := newEnv(t)
	cp := e.dial("CP-LIVE")
	if got := cp.boot(); got != ocpp.RegistrationStatusAccepted {
		t.Fatalf("boot: %s", got)
	}
	st := e.call("GET", "/api/v1/stations/CP-LIVE", "", http.StatusOK)
	wantFields(t, "connected station", st, map[string]any{"connected": true, "boot.chargePointVendor": "Zaptec", "registration": "Accepted"})
	if st["connectionChangedAt"] == nil {
		t.Error("connectionChangedAt is null")
	}
	cp.conn.CloseNow()
	waitFor(t, "the API to see the station disconnected", func() bool {
		return e.call("GET", "/api/v1/stations/CP-LIVE", "", http.StatusOK)["connected"] == false
	})
}

// TestApproveStation: a station of an account that approves new stations is Pending until
// PATCH accepts it; its next BootNotification is then Accepted.
func TestApproveStation(t *testing.T) {
	e := newEnv(t)
	e.acct.ApproveNewStations = true
	if err := e.store.UpdateAccount(e.ctx, e.acct); err != nil {
		t.Fatal(err)
	}
	cp := e.dial("CP-NEW")
	if got := cp.boot(); got != ocpp.RegistrationStatusPending {
		t.Fatalf("first boot: %s, want Pending", got)
	}
	wantFields(t, "new station", e.call("GET", "/api/v1/stations/CP-NEW", "", http.StatusOK),
		map[string]any{"registration": "Pending", "connected": true})

	st := e.call("PATCH", "/api/v1/stations/CP-NEW", `{"registration":"Accepted"}`, http.StatusOK)
	wantFields(t, "approved", st, map[string]any{"registration": "Accepted", "validation": "strict", "connected": true})
	if got := cp.boot(); got != ocpp.RegistrationStatusAccepted {
		t.Errorf("boot after approval: %s, want Accepted", got)
	}

	st = e.call("PATCH", "/api/v1/stations/CP-NEW", `{"validation":"lenient"}`, http.StatusOK)
	wantFields(t, "lenient", st, map[string]any{"registration": "Accepted", "validation": "lenient"})
	e.call("PATCH", "/api/v1/stations/CP-NEW", `{}`, http.StatusOK)
	stored, err := e.store.StationByChargePointID(e.ctx, e.acct.ID, "CP-NEW")
	if err != nil || stored.Registration != station.Accepted || stored.Validation != account.Lenient {
		t.Errorf("stored %+v %v", stored, err)
	}

	st = e.call("PATCH", "/api/v1/stations/CP-NEW", `{"registration":"Rejected","validation":"strict"}`, http.StatusOK)
	wantFields(t, "rejected", st, map[string]any{"registration": "Rejected", "validation": "strict"})
	if got := cp.boot(); got != ocpp.RegistrationStatusRejected {
		t.Errorf("boot after rejection: %s, want Rejected", got)
	}
}

// TestBadBodies: every body the API cannot take is a 400 that names the problem.
func TestBadBodies(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.call("PUT", "/api/v1/id-tags/TAG1", `{}`, http.StatusCreated)
	for _, tc := range []struct {
		method, path, body string
		code, field        string
		mentions           string
	}{
		{"PATCH", "/api/v1/stations/CP-1", `{"registration":"Maybe"}`, api.CodeInvalidField, "registration", `"Maybe"`},
		{"PATCH", "/api/v1/stations/CP-1", `{"registration":"accepted"}`, api.CodeInvalidField, "registration", "Accepted, Pending or Rejected"},
		{"PATCH", "/api/v1/stations/CP-1", `{"registration":null}`, api.CodeInvalidField, "registration", "null"},
		{"PATCH", "/api/v1/stations/CP-1", `{"validation":"loose"}`, api.CodeInvalidField, "validation", "strict or lenient"},
		{"PATCH", "/api/v1/stations/CP-1", `{"registration":1}`, api.CodeInvalidField, "registration", "a string"},
		{"PATCH", "/api/v1/stations/CP-1", `{"registration":"Accepted","approved":true}`, api.CodeUnknownField, "approved", `"approved"`},
		{"PATCH", "/api/v1/stations/CP-1", `{"registration":"Accepted"`, api.CodeMalformedJSON, "", "ends"},
		{"PATCH", "/api/v1/stations/CP-1", `{"registration":"Accepted",}`, api.CodeMalformedJSON, "", "byte"},
		{"PATCH", "/api/v1/stations/CP-1", `registration=Accepted`, api.CodeMalformedJSON, "", ""},
		{"PATCH", "/api/v1/stations/CP-1", `["Accepted"]`, api.CodeMalformedJSON, "", "JSON object"},
		{"PATCH", "/api/v1/stations/CP-1", `{} {}`, api.CodeMalformedJSON, "", "nothing after"},
		{"PATCH", "/api/v1/stations/CP-1", ``, api.CodeMalformedJSON, "", "empty"},
		{"PUT", "/api/v1/id-tags/NEW", `{"blocked":"yes"}`, api.CodeInvalidField, "blocked", "true or false"},
		{"PUT", "/api/v1/id-tags/NEW", `{"expiresAt":"tomorrow"}`, api.CodeInvalidField, "expiresAt", "RFC 3339"},
		{"PUT", "/api/v1/id-tags/NEW", `{"expiresAt":"2025-03-01 10:00"}`, api.CodeInvalidField, "expiresAt", "RFC 3339"},
		{"PUT", "/api/v1/id-tags/NEW", `{"parentIdTag":"ABCDEFGHIJKLMNOPQRSTU"}`, api.CodeInvalidField, "parentIdTag", "20"},
		{"PUT", "/api/v1/id-tags/NEW", `{"blocked":null}`, api.CodeInvalidField, "blocked", "null"},
		{"PUT", "/api/v1/id-tags/NEW", `{"blocked":true,"expires":"2025-01-01T00:00:00Z"}`, api.CodeUnknownField, "expires", ""},
		{"PUT", "/api/v1/id-tags/ABCDEFGHIJKLMNOPQRSTU", `{}`, api.CodeInvalidField, "idTag", "20"},
		{"PATCH", "/api/v1/id-tags/TAG1", `{"blocked":1}`, api.CodeInvalidField, "blocked", ""},
		{"PATCH", "/api/v1/id-tags/TAG1", `{"expiresAt":false}`, api.CodeInvalidField, "expiresAt", ""},
		{"PATCH", "/api/v1/id-tags/TAG1", `{"blocked":true`, api.CodeMalformedJSON, "", ""},
	} {
		what := tc.method + " " + tc.path + " " + tc.body
		wantError(t, what, e.do(tc.method, tc.path, e.token, tc.body), http.StatusBadRequest, tc.code, tc.field, tc.mentions)
	}
	if st, _ := e.store.StationByChargePointID(e.ctx, e.acct.ID, "CP-1"); st.Registration != station.Accepted || st.Validation != account.Strict {
		t.Errorf("a refused PATCH changed the station: %+v", st)
	}
	if tags, _ := e.store.IdTags(e.ctx, e.acct.ID); len(tags) != 1 || tags[0].Blocked {
		t.Errorf("refused PUTs and PATCHes stored tags: %+v", tags)
	}

	big := `{"registration":"` + strings.Repeat("A", 2<<20) + `"}`
	wantError(t, "a body of 2 MB", e.do("PATCH", "/api/v1/stations/CP-1", e.token, big), http.StatusRequestEntityTooLarge, api.CodeBodyTooLarge, "", "")
}

func TestTransactions(t *testing.T) {
	e := newEnv(t)
	f := e.seed()
	ids := func(query string) []string {
		t.Helper()
		var out []string
		for _, tx := range e.call("GET", "/api/v1/transactions"+query, "", http.StatusOK)["transactions"].([]any) {
			out = append(out, string(field(t, tx, "transactionId").(json.Number)))
		}
		return out
	}
	stopped, active := itoa(f.stopped.ID), itoa(f.active.ID)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{active, stopped}},
		{"?station=CP-1", []string{active, stopped}},
		{"?station=CP-2", nil},
		{"?idTag=TAG1", []string{stopped}},
		{"?idTag=NOBODY", nil},
		{"?active=true", []string{active}},
		{"?active=false", []string{stopped}},
		{"?from=" + rfc(at(10)), []string{active, stopped}},
		{"?from=" + rfc(at(11)), []string{active}},
		{"?to=" + rfc(at(40)), []string{stopped}},
		{"?from=" + url.QueryEscape("2025-03-01T11:15:00+01:00") + "&to=" + rfc(at(41)), []string{active}},
		{"?limit=1", []string{active}},
		{"?station=CP-1&idTag=TAG2&active=true&from=" + rfc(at(0)) + "&to=" + rfc(at(100)) + "&limit=5", []string{active}},
	} {
		if got := ids(tc.query); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("transactions%s: %v, want %v", tc.query, got, tc.want)
		}
	}
	list := e.call("GET", "/api/v1/transactions", "", http.StatusOK)["transactions"].([]any)
	wantFields(t, "active in the list", list[0], map[string]any{
		"chargePointId": "CP-1", "connectorId": 2, "idTag": "TAG2", "reservationId": 3, "meterStart": 7000,
		"startedAt": rfc(at(40)), "active": true, "meterStop": nil, "stoppedAt": nil, "stopReason": nil,
		"stopIdTag": nil, "energyWh": nil, "flags": []any{}, "reportedTransactionId": nil,
	})
	if _, ok := list[0].(map[string]any)["events"]; ok {
		t.Error("the list has events")
	}

	tx := e.call("GET", "/api/v1/transactions/"+stopped, "", http.StatusOK)
	wantFields(t, "stopped transaction", tx, map[string]any{
		"transactionId": f.stopped.ID, "chargePointId": "CP-1", "connectorId": 1, "idTag": "TAG1",
		"reservationId": nil, "meterStart": 1000, "startedAt": rfc(at(10)), "active": false,
		"meterStop": 5000, "stoppedAt": rfc(at(30)), "stopReason": "EVDisconnected", "stopIdTag": "TAG1",
		"energyWh": 4000, "flags": []any{}, "createdAt": rfc(at(10)), "updatedAt": rfc(at(30)),
		"events.0.kind": "Started", "events.0.action": "StartTransaction", "events.0.payload.m": 1,
		"events.1.kind": "Stopped", "events.1.receivedAt": rfc(at(30)),
	})
	if n := len(tx["events"].([]any)); n != 2 {
		t.Errorf("%d events, want 2", n)
	}

	mvs := e.call("GET", "/api/v1/transactions/"+stopped+"/meter-values", "", http.StatusOK)["meterValues"].([]any)
	if len(mvs) != 3 {
		t.Fatalf("meter values %v", mvs)
	}
	wantFields(t, "energy reading", mvs[0], map[string]any{
		"connectorId": 1, "transactionId": f.stopped.ID, "timestamp": rfc(at(20)),
		"measurand": "Energy.Active.Import.Register", "phase": "", "context": "Sample.Periodic",
		"location": "Outlet", "format": "Raw", "rawValue": "2.5", "rawUnit": "kWh", "unit": "Wh", "value": json.Number("2500"),
	})
	wantFields(t, "current", mvs[1], map[string]any{"phase": "L1", "unit": "A", "value": json.Number("15.625")})
	wantFields(t, "signed data", mvs[2], map[string]any{"format": "SignedData", "value": nil})
	mvs = e.call("GET", "/api/v1/transactions/"+stopped+"/meter-values?from="+rfc(at(21)), "", http.StatusOK)["meterValues"].([]any)
	if len(mvs) != 1 {
		t.Errorf("meter values from minute 21: %v", mvs)
	}
	mvs = e.call("GET", "/api/v1/transactions/"+stopped+"/meter-values?to="+rfc(at(21))+"&limit=1", "", http.StatusOK)["meterValues"].([]any)
	if len(mvs) != 1 {
		t.Errorf("meter values to minute 21, limit 1: %v", mvs)
	}
	if mvs := e.call("GET", "/api/v1/transactions/"+active+"/meter-values", "", http.StatusOK)["meterValues"].([]any); len(mvs) != 0 {
		t.Errorf("meter values of the active transaction: %v", mvs)
	}

	// Another account's transaction, or its station as a filter, is not found.
	other := itoa(f.otherTx.ID)
	for _, path := range []string{"/api/v1/transactions/" + other, "/api/v1/transactions/" + other + "/meter-values", "/api/v1/transactions/999999"} {
		wantError(t, path, e.do("GET", path, e.token, ""), http.StatusNotFound, api.CodeNotFound, "transactionId", "")
	}
	wantError(t, "filter by another account's station", e.do("GET", "/api/v1/transactions?station=CP-9", e.token, ""),
		http.StatusNotFound, api.CodeNotFound, "station", "CP-9")
	if got := e.do("GET", "/api/v1/transactions/"+other, e.otherT, ""); got.status != http.StatusOK {
		t.Errorf("its own account: %d", got.status)
	}
	otherList := e.do("GET", "/api/v1/transactions?idTag=TAG1", e.otherT, "").json(t)["transactions"].([]any)
	if len(otherList) != 1 || field(t, otherList[0], "transactionId") != json.Number(other) {
		t.Errorf("the other account's TAG1 transactions: %v", otherList)
	}

	for _, tc := range []struct{ path, param, mentions string }{
		{"/api/v1/transactions?active=yes", "active", `"yes"`},
		{"/api/v1/transactions?active=1", "active", ""},
		{"/api/v1/transactions?from=2025-03-01", "from", "RFC 3339"},
		{"/api/v1/transactions?from=2025-03-01T10:00:00+01:00", "from", "%2B"},
		{"/api/v1/transactions?to=yesterday", "to", ""},
		{"/api/v1/transactions?from=" + rfc(at(10)) + "&to=" + rfc(at(10)), "to", "later than from"},
		{"/api/v1/transactions?limit=0", "limit", ""},
		{"/api/v1/transactions?limit=1001", "limit", "1000"},
		{"/api/v1/transactions?stationId=CP-1", "stationId", "station, idTag, active, from, to, limit"},
		{"/api/v1/transactions/" + stopped + "/meter-values?from=now", "from", ""},
		{"/api/v1/transactions/" + stopped + "/meter-values?limit=100001", "limit", ""},
		{"/api/v1/transactions/" + stopped + "/meter-values?station=CP-1", "station", ""},
	} {
		wantError(t, tc.path, e.do("GET", tc.path, e.token, ""), http.StatusBadRequest, api.CodeInvalidParameter, tc.param, tc.mentions)
	}
	for _, id := range []string{"abc", "0", "-1", "1.5", "99999999999999999999"} {
		wantError(t, "transaction "+id, e.do("GET", "/api/v1/transactions/"+id, e.token, ""), http.StatusBadRequest, api.CodeInvalidField, "transactionId", "")
	}
}

func TestIdTags(t *testing.T) {
	e := newEnv(t)
	e.seed()
	if tags := e.call("GET", "/api/v1/id-tags", "", http.StatusOK)["idTags"].([]any); len(tags) != 0 {
		t.Fatalf("tags of a new account: %v", tags)
	}
	expires := e.clock.Now().Add(24 * time.Hour)

	tag := e.call("PUT", "/api/v1/id-tags/CARD-1", fmt.Sprintf(`{"parentIdTag":"FLEET","expiresAt":%q}`, rfc(expires)), http.StatusCreated)
	wantFields(t, "created", tag, map[string]any{
		"idTag": "CARD-1", "parentIdTag": "FLEET", "expiresAt": rfc(expires), "blocked": false, "known": true,
		"status": "Accepted", "firstSeenAt": nil, "lastSeenAt": nil,
	})
	// A replacement clears what it leaves out.
	tag = e.call("PUT", "/api/v1/id-tags/CARD-1", `{"blocked":true}`, http.StatusOK)
	wantFields(t, "replaced", tag, map[string]any{"parentIdTag": nil, "expiresAt": nil, "blocked": true, "status": "Blocked"})

	// A tag only seen at a station can be blocked; it becomes known and keeps when it was seen.
	if _, err := e.store.SeeIdTag(e.ctx, e.acct.ID, "SEEN", at(5)); err != nil {
		t.Fatal(err)
	}
	wantFields(t, "seen tag", e.call("GET", "/api/v1/id-tags/SEEN", "", http.StatusOK),
		map[string]any{"known": false, "status": "Accepted", "firstSeenAt": rfc(at(5))})
	tag = e.call("PATCH", "/api/v1/id-tags/SEEN", `{"blocked":true}`, http.StatusOK)
	wantFields(t, "seen tag blocked", tag, map[string]any{"known": true, "blocked": true, "status": "Blocked",
		"firstSeenAt": rfc(at(5)), "lastSeenAt": rfc(at(5))})
	tag = e.call("PATCH", "/api/v1/id-tags/SEEN", `{"blocked":false,"parentIdTag":"P"}`, http.StatusOK)
	wantFields(t, "unblocked", tag, map[string]any{"blocked": false, "status": "Accepted", "parentIdTag": "P"})
	tag = e.call("PATCH", "/api/v1/id-tags/SEEN", fmt.Sprintf(`{"expiresAt":%q}`, rfc(e.clock.Now())), http.StatusOK)
	wantFields(t, "expired", tag, map[string]any{"status": "Expired", "expiresAt": rfc(e.clock.Now()), "parentIdTag": "P"})
	tag = e.call("PATCH", "/api/v1/id-tags/SEEN", `{"expiresAt":null,"parentIdTag":null}`, http.StatusOK)
	wantFields(t, "expiry removed", tag, map[string]any{"status": "Accepted", "expiresAt": nil, "parentIdTag": nil, "blocked": false})
	e.call("PATCH", "/api/v1/id-tags/SEEN", `{"blocked":true}`, http.StatusOK)

	// What the API stored is what stations are told.
	stored, err := e.store.SeeIdTag(e.ctx, e.acct.ID, "SEEN", at(6))
	if err != nil {
		t.Fatal(err)
	}
	if d := station.DecideTag(stored, at(6)); d.Status != station.AuthBlocked {
		t.Errorf("a station is told %s", d.Status)
	}

	tags := e.call("GET", "/api/v1/id-tags", "", http.StatusOK)["idTags"].([]any)
	var names []string
	for _, tg := range tags {
		names = append(names, field(t, tg, "idTag").(string))
	}
	if !reflect.DeepEqual(names, []string{"CARD-1", "SEEN"}) {
		t.Errorf("tags %v", names)
	}
	wantFields(t, "GET", e.call("GET", "/api/v1/id-tags/CARD-1", "", http.StatusOK), map[string]any{"blocked": true})

	// Tags of another account are not found, and a PUT makes the account a tag of its own.
	wantError(t, "GET of another account's tag", e.do("GET", "/api/v1/id-tags/OTHERTAG", e.token, ""), http.StatusNotFound, api.CodeNotFound, "idTag", "OTHERTAG")
	wantError(t, "PATCH of another account's tag", e.do("PATCH", "/api/v1/id-tags/OTHERTAG", e.token, `{"blocked":true}`), http.StatusNotFound, api.CodeNotFound, "idTag", "")
	wantError(t, "PATCH of no tag", e.do("PATCH", "/api/v1/id-tags/NONE", e.token, `{"blocked":true}`), http.StatusNotFound, api.CodeNotFound, "idTag", "")
	e.call("PUT", "/api/v1/id-tags/OTHERTAG", `{"blocked":true}`, http.StatusCreated)
	otherTags, err := e.store.IdTags(e.ctx, e.other.ID)
	if err != nil || len(otherTags) != 1 || otherTags[0].Blocked {
		t.Errorf("the other account's OTHERTAG: %+v %v", otherTags, err)
	}

	// Tags with characters that need escaping in a path.
	e.call("PUT", "/api/v1/id-tags/"+url.PathEscape("A B/C"), `{}`, http.StatusCreated)
	wantFields(t, "escaped tag", e.call("GET", "/api/v1/id-tags/A%20B%2FC", "", http.StatusOK), map[string]any{"idTag": "A B/C"})
}
