package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/api"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

// newAccessEnv is newOpsEnv with the access rules, as serve.go wires them: stations are
// answered by the authz Authorizer, and the API changes the rules through authz.Service.
// The API's clock is 2026-06-08 10:00 in Zurich, a Monday.
func newAccessEnv(t *testing.T) *env {
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
	e := &env{t: t, ctx: ctx, store: st, clock: &clock{now: zurich(t, "2026-06-08 10:00")}}
	e.acct, e.token = e.newAccount("a@example.com")
	e.other, e.otherT = e.newAccount("b@example.com")

	authorizer := authz.NewAuthorizer(st, quiet)
	svc := station.NewService(st, authorizer, time.Now, quiet)
	ocppServer := csms.New(st, svc, csms.Options{Logger: quiet, RPC: rpc.Options{Logger: quiet, CallTimeout: 2 * time.Second}})
	ops := operation.NewService(st, csms.Sender{Server: ocppServer}, e.clock.Now, quiet)
	svc.SetObserver(ops)
	rules := authz.NewService(authz.Deps{Authorizer: authorizer, Store: st, Stations: st, Operations: ops, Live: ocppServer,
		Now: e.clock.Now, Logger: quiet})
	e.api = api.New(api.Deps{Accounts: st, Stations: st, Live: ocppServer, Operations: ops, Access: rules, Now: e.clock.Now, Logger: quiet})
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

func zurich(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *env) registerStation(a account.Account, chargePointID string) {
	e.t.Helper()
	if _, _, err := e.store.RegisterStation(e.ctx, a.ID, chargePointID, station.Accepted, account.Strict, time.Now()); err != nil {
		e.t.Fatal(err)
	}
}

// plain is a decoded answer with its numbers as text, at any depth, for wantFields.
func plain(v any) any {
	switch x := v.(type) {
	case json.Number:
		return string(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// id is the id property of an answer.
func id(t *testing.T, body map[string]any) string {
	t.Helper()
	return fmt.Sprint(field(t, body, "id"))
}

func TestUsersAndGroups(t *testing.T) {
	e := newAccessEnv(t)
	employees := id(t, e.call("POST", "/api/v1/groups", `{"name":"Employees"}`, http.StatusCreated))
	residents := id(t, e.call("POST", "/api/v1/groups", `{"name":"Residents","members":[]}`, http.StatusCreated))

	r := e.do("POST", "/api/v1/users", e.token, `{"name":" Erik ","email":"erik@example.ch","language":"de-CH","groupIds":[`+employees+`]}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create user: %d %s", r.status, r.body)
	}
	erik := r.json(t)
	wantFields(t, "created user", plain(erik), map[string]any{"name": "Erik", "email": "erik@example.ch", "language": "de-CH",
		"blocked": false, "groupIds": []any{employees}, "idTags": []any{}})
	if loc := r.header.Get("Location"); loc != "/api/v1/users/"+id(t, erik) {
		t.Errorf("Location %q", loc)
	}
	nora := id(t, e.call("POST", "/api/v1/users", `{"name":"Nora"}`, http.StatusCreated))
	wantFields(t, "a user with defaults", plain(e.call("GET", "/api/v1/users/"+nora, "", http.StatusOK)),
		map[string]any{"email": nil, "language": nil, "groupIds": []any{}})

	e.call("PUT", "/api/v1/id-tags/ERIK1", `{"userId":`+id(t, erik)+`}`, http.StatusCreated)
	wantFields(t, "a user's tags", plain(e.call("GET", "/api/v1/users/"+id(t, erik), "", http.StatusOK)),
		map[string]any{"idTags": []any{"ERIK1"}})
	got := e.call("PATCH", "/api/v1/users/"+id(t, erik), `{"blocked":true,"groupIds":[`+residents+`,`+employees+`,`+residents+`]}`, http.StatusOK)
	wantFields(t, "patched user", plain(got), map[string]any{"name": "Erik", "blocked": true, "groupIds": []any{employees, residents}})

	list := e.call("GET", "/api/v1/users", "", http.StatusOK)
	if users := field(t, list, "users").([]any); len(users) != 2 {
		t.Errorf("users: %v", users)
	}
	wantFields(t, "group members", plain(e.call("GET", "/api/v1/groups/"+employees, "", http.StatusOK)),
		map[string]any{"name": "Employees", "members": []any{id(t, erik)}})
	e.call("PATCH", "/api/v1/groups/"+employees, `{"members":[`+nora+`]}`, http.StatusOK)
	wantFields(t, "a user after their group changed", plain(e.call("GET", "/api/v1/users/"+id(t, erik), "", http.StatusOK)),
		map[string]any{"groupIds": []any{residents}})
	wantFields(t, "renamed group", plain(e.call("PATCH", "/api/v1/groups/"+employees, `{"name":"Staff"}`, http.StatusOK)),
		map[string]any{"name": "Staff", "members": []any{nora}})
	if groups := field(t, e.call("GET", "/api/v1/groups", "", http.StatusOK), "groups").([]any); len(groups) != 2 {
		t.Errorf("groups: %v", groups)
	}

	// Deleting: a tag stands alone after its user is gone; a group's members stay users.
	if r := e.do("DELETE", "/api/v1/users/"+id(t, erik), e.token, ""); r.status != http.StatusNoContent {
		t.Errorf("delete user: %d %s", r.status, r.body)
	}
	wantError(t, "deleted user", e.do("GET", "/api/v1/users/"+id(t, erik), e.token, ""), 404, api.CodeNotFound, "userId", "")
	wantFields(t, "the tag of a deleted user", plain(e.call("GET", "/api/v1/id-tags/ERIK1", "", http.StatusOK)), map[string]any{"userId": nil})
	if r := e.do("DELETE", "/api/v1/groups/"+employees, e.token, ""); r.status != http.StatusNoContent {
		t.Errorf("delete group: %d %s", r.status, r.body)
	}
	wantError(t, "deleted group", e.do("GET", "/api/v1/groups/"+employees, e.token, ""), 404, api.CodeNotFound, "groupId", "")
	e.call("GET", "/api/v1/users/"+nora, "", http.StatusOK)
}

func TestAccessRefusals(t *testing.T) {
	e := newAccessEnv(t)
	e.registerStation(e.acct, "CP-1")
	e.registerStation(e.other, "CP-OTHER")
	employees := id(t, e.call("POST", "/api/v1/groups", `{"name":"Employees"}`, http.StatusCreated))
	erik := id(t, e.call("POST", "/api/v1/users", `{"name":"Erik","groupIds":[`+employees+`]}`, http.StatusCreated))
	// Another account's records, made with its token.
	r := e.do("POST", "/api/v1/users", e.otherT, `{"name":"Bob"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("other account's user: %d %s", r.status, r.body)
	}
	bob := id(t, r.json(t))
	r = e.do("POST", "/api/v1/groups", e.otherT, `{"name":"Guests"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("other account's group: %d %s", r.status, r.body)
	}
	guests := id(t, r.json(t))

	office := `{"days":"Mon-Fri","start":"07:00","end":"18:00"}`
	access := func(body string) response { return e.do("PUT", "/api/v1/stations/CP-1/access", e.token, body) }
	for _, tc := range []struct {
		what             string
		r                response
		status           int
		code, field, msg string
	}{
		// Users and groups.
		{"user without a name", e.do("POST", "/api/v1/users", e.token, `{"email":"x@example.com"}`), 400, api.CodeInvalidField, "name", "required"},
		{"user with an empty name", e.do("POST", "/api/v1/users", e.token, `{"name":"  "}`), 400, api.CodeInvalidField, "name", ""},
		{"bad e-mail", e.do("POST", "/api/v1/users", e.token, `{"name":"X","email":"not an address"}`), 400, api.CodeInvalidField, "email", ""},
		{"bad language", e.do("POST", "/api/v1/users", e.token, `{"name":"X","language":"German!"}`), 400, api.CodeInvalidField, "language", ""},
		{"unknown group", e.do("POST", "/api/v1/users", e.token, `{"name":"X","groupIds":[`+employees+`,999]}`), 400, api.CodeInvalidField, "groupIds[1]", "999"},
		{"another account's group", e.do("PATCH", "/api/v1/users/"+erik, e.token, `{"groupIds":[`+guests+`]}`), 400, api.CodeInvalidField, "groupIds[0]", ""},
		{"unknown property", e.do("PATCH", "/api/v1/users/"+erik, e.token, `{"nickname":"E"}`), 400, api.CodeUnknownField, "nickname", ""},
		{"unknown member", e.do("POST", "/api/v1/groups", e.token, `{"name":"G","members":[`+bob+`]}`), 400, api.CodeInvalidField, "members[0]", ""},
		{"group name taken", e.do("POST", "/api/v1/groups", e.token, `{"name":"employees"}`), 409, api.CodeConflict, "name", ""},
		{"another account's user", e.do("GET", "/api/v1/users/"+bob, e.token, ""), 404, api.CodeNotFound, "userId", ""},
		{"patch another account's user", e.do("PATCH", "/api/v1/users/"+bob, e.token, `{"blocked":true}`), 404, api.CodeNotFound, "userId", ""},
		{"delete another account's user", e.do("DELETE", "/api/v1/users/"+bob, e.token, ""), 404, api.CodeNotFound, "userId", ""},
		{"another account's group", e.do("GET", "/api/v1/groups/"+guests, e.token, ""), 404, api.CodeNotFound, "groupId", ""},
		{"delete another account's group", e.do("DELETE", "/api/v1/groups/"+guests, e.token, ""), 404, api.CodeNotFound, "groupId", ""},
		{"a user id that is none", e.do("GET", "/api/v1/users/x", e.token, ""), 404, api.CodeNotFound, "userId", ""},
		// Id tags.
		{"tag of an unknown user", e.do("PUT", "/api/v1/id-tags/T1", e.token, `{"userId":999}`), 400, api.CodeInvalidField, "userId", ""},
		{"tag of another account's user", e.do("PUT", "/api/v1/id-tags/T1", e.token, `{"userId":`+bob+`}`), 400, api.CodeInvalidField, "userId", ""},
		{"tags whose parents loop", func() response {
			e.call("PUT", "/api/v1/id-tags/LOOP-A", `{"parentIdTag":"LOOP-B"}`, http.StatusCreated)
			return e.do("PUT", "/api/v1/id-tags/LOOP-B", e.token, `{"parentIdTag":"LOOP-A"}`)
		}(), 400, api.CodeInvalidRules, "parentIdTag", "parent cycle"},
		{"a tag that differs from another only in case", e.do("PUT", "/api/v1/id-tags/loop-a", e.token, `{}`), 409, api.CodeConflict, "idTag", ""},
		// Station access.
		{"no mode", access(`{}`), 400, api.CodeInvalidField, "mode", ""},
		{"bad mode", access(`{"mode":"limited"}`), 400, api.CodeInvalidField, "mode", "limited"},
		{"bad policy", access(`{"mode":"members","windowEndPolicy":"stop"}`), 400, api.CodeInvalidField, "windowEndPolicy", ""},
		{"private without an owner", access(`{"mode":"private"}`), 400, api.CodeInvalidField, "ownerUserId", ""},
		{"owner of another account", access(`{"mode":"private","ownerUserId":` + bob + `}`), 400, api.CodeInvalidField, "ownerUserId", ""},
		{"private with grants", access(`{"mode":"private","ownerUserId":` + erik + `,"grants":[{"userId":` + erik + `}]}`), 400, api.CodeInvalidField, "grants", ""},
		{"station windows on a members station", access(`{"mode":"members","windows":[` + office + `]}`), 400, api.CodeInvalidField, "windows", ""},
		{"a grant of no one", access(`{"mode":"members","grants":[{"windows":[]}]}`), 400, api.CodeInvalidField, "grants[0]", ""},
		{"a grant of both", access(`{"mode":"members","grants":[{"userId":` + erik + `,"groupId":` + employees + `}]}`), 400, api.CodeInvalidField, "grants[0]", ""},
		{"unknown group", access(`{"mode":"members","grants":[{"userId":` + erik + `},{"groupId":999}]}`), 400, api.CodeInvalidField, "grants[1].groupId", "999"},
		{"another account's group", access(`{"mode":"members","grants":[{"groupId":` + guests + `}]}`), 400, api.CodeInvalidField, "grants[0].groupId", ""},
		{"another account's user", access(`{"mode":"members","grants":[{"userId":` + bob + `}]}`), 400, api.CodeInvalidField, "grants[0].userId", ""},
		{"a group granted twice", access(`{"mode":"members","grants":[{"groupId":` + employees + `},{"groupId":` + employees + `}]}`), 400, api.CodeInvalidField, "grants[1]", "grants[0]"},
		{"a start that is no time", access(`{"mode":"members","grants":[{"groupId":` + employees + `,"windows":[` + office + `,{"days":"Sat","start":"25:00","end":"26:00"}]}]}`),
			400, api.CodeInvalidField, "grants[0].windows[1].start", "25:00"},
		{"an end that is no time", access(`{"mode":"public","windows":[{"days":"Sat","start":"08:00","end":"8pm"}]}`), 400, api.CodeInvalidField, "windows[0].end", "8pm"},
		{"start and end equal", access(`{"mode":"public","windows":[{"days":"Sat","start":"08:00","end":"08:00"}]}`), 400, api.CodeInvalidField, "windows[0].end", ""},
		{"days that are none", access(`{"mode":"public","windows":[{"days":"Mon-Fry","start":"08:00","end":"09:00"}]}`), 400, api.CodeInvalidField, "windows[0].days", "Mon-Fry"},
		{"a date that is none", access(`{"mode":"public","windows":[{"days":"Mon","start":"08:00","end":"09:00","exceptDates":["2026-13-01"]}]}`), 400, api.CodeInvalidField, "windows[0]", "2026-13-01"},
		{"overlapping windows", access(`{"mode":"members","grants":[{"groupId":` + employees + `,"windows":[` + office + `,{"days":"Fri","start":"17:00","end":"22:00"}]}]}`),
			400, api.CodeInvalidField, "grants[0].windows[1]", "overlaps grants[0].windows[0]"},
		{"an unknown window property", access(`{"mode":"public","windows":[{"days":"Mon","start":"08:00","end":"09:00","holidays":[]}]}`), 400, api.CodeUnknownField, "holidays", ""},
		{"another account's station", e.do("PUT", "/api/v1/stations/CP-OTHER/access", e.token, `{"mode":"public"}`), 404, api.CodeNotFound, "chargePointId", ""},
		{"another account's station's rule", e.do("GET", "/api/v1/stations/CP-OTHER/access", e.token, ""), 404, api.CodeNotFound, "chargePointId", ""},
		{"sync another account's station", e.do("POST", "/api/v1/stations/CP-OTHER/local-list/sync", e.token, ""), 404, api.CodeNotFound, "chargePointId", ""},
		{"sync a station that is not connected", e.do("POST", "/api/v1/stations/CP-1/local-list/sync", e.token, ""), 409, api.CodeStationNotConnected, "", ""},
		{"sync with a body", e.do("POST", "/api/v1/stations/CP-1/local-list/sync", e.token, `{"full":true}`), 400, api.CodeMalformedJSON, "", ""},
		// Preview.
		{"preview at another account's station", e.do("POST", "/api/v1/authorize-preview", e.token, `{"chargePointId":"CP-OTHER","idTag":"X"}`), 404, api.CodeNotFound, "chargePointId", ""},
		{"preview without a tag", e.do("POST", "/api/v1/authorize-preview", e.token, `{"chargePointId":"CP-1"}`), 400, api.CodeInvalidField, "idTag", ""},
	} {
		wantError(t, tc.what, tc.r, tc.status, tc.code, tc.field, tc.msg)
	}

	// A user who owns a station is not deleted.
	e.call("PUT", "/api/v1/stations/CP-1/access", `{"mode":"private","ownerUserId":`+erik+`}`, http.StatusOK)
	wantError(t, "delete an owner", e.do("DELETE", "/api/v1/users/"+erik, e.token, ""), 409, api.CodeConflict, "", "CP-1")
}

func TestStationAccess(t *testing.T) {
	e := newAccessEnv(t)
	e.registerStation(e.acct, "CP-1")
	wantFields(t, "a station without a rule", plain(e.call("GET", "/api/v1/stations/CP-1/access", "", http.StatusOK)), map[string]any{
		"chargePointId": "CP-1", "configured": false, "mode": "public", "ownerUserId": nil, "grants": []any{}, "windows": []any{},
		"freeVending": false, "windowEndPolicy": "allow_finish", "timeZone": "Europe/Zurich",
	})
	employees := id(t, e.call("POST", "/api/v1/groups", `{"name":"Employees"}`, http.StatusCreated))
	olivia := id(t, e.call("POST", "/api/v1/users", `{"name":"Olivia"}`, http.StatusCreated))
	erik := id(t, e.call("POST", "/api/v1/users", `{"name":"Erik","groupIds":[`+employees+`]}`, http.StatusCreated))
	e.call("PUT", "/api/v1/id-tags/ERIK1", `{"userId":`+erik+`}`, http.StatusCreated)

	rule := `{"mode":"public","ownerUserId":` + olivia + `,"windowEndPolicy":"stop_remotely",
		"windows":[{"days":"Mon-Fri","start":"18:00","end":"24:00"},{"days":"Sat,Sun","start":"00:00","end":"24:00","exceptDates":[],"extraDates":[]}],
		"grants":[{"groupId":` + employees + `,"windows":[{"days":"Mon-Fri","start":"07:00","end":"18:00","exceptDates":["2026-12-25"]}]}]}`
	put := e.call("PUT", "/api/v1/stations/CP-1/access", rule, http.StatusOK)
	get := e.call("GET", "/api/v1/stations/CP-1/access", "", http.StatusOK)
	wantFields(t, "the rule as set", plain(get), map[string]any{
		"configured": true, "mode": "public", "ownerUserId": olivia, "windowEndPolicy": "stop_remotely",
		"windows": []any{
			map[string]any{"days": "Mon-Fri", "start": "18:00", "end": "24:00", "exceptDates": []any{}, "extraDates": []any{}},
			map[string]any{"days": "Sat,Sun", "start": "00:00", "end": "24:00", "exceptDates": []any{}, "extraDates": []any{}},
		},
		"grants": []any{map[string]any{"userId": nil, "groupId": employees, "windows": []any{
			map[string]any{"days": "Mon-Fri", "start": "07:00", "end": "18:00", "exceptDates": []any{"2026-12-25"}, "extraDates": []any{}},
		}}},
	})
	if fmt.Sprint(put) != fmt.Sprint(get) {
		t.Errorf("PUT answered %v, GET %v", put, get)
	}

	// The preview decides with the rule: an employee in office hours, until the evening
	// window of the public carries on.
	for _, tc := range []struct {
		body string
		want map[string]any
	}{
		{`{"chargePointId":"CP-1","idTag":"ERIK1"}`, map[string]any{"status": "Accepted", "userId": erik, "unknown": false,
			"expiryDate": rfc(zurich(t, "2026-06-09 00:00")), "at": rfc(zurich(t, "2026-06-08 10:00"))}},
		{`{"chargePointId":"CP-1","idTag":"ERIK1","at":"2026-12-25T09:00:00+01:00"}`, map[string]any{"status": "Invalid", "expiryDate": nil}},
		{`{"chargePointId":"CP-1","idTag":"STRANGER","at":"2026-06-08T19:00:00+02:00","starting":true}`, map[string]any{"status": "Accepted", "unknown": true,
			"expiryDate": rfc(zurich(t, "2026-06-09 00:00"))}},
		{`{"chargePointId":"CP-1","idTag":"STRANGER"}`, map[string]any{"status": "Invalid", "unknown": true}},
	} {
		got := e.call("POST", "/api/v1/authorize-preview", tc.body, http.StatusOK)
		wantFields(t, "preview "+tc.body, plain(got), tc.want)
		if reason, _ := got["reason"].(string); reason == "" {
			t.Errorf("preview %s: no reason", tc.body)
		}
	}
	tags, err := e.store.IdTags(e.ctx, e.acct.ID)
	if err != nil || len(tags) != 1 {
		t.Errorf("a preview records nothing: tags %v %v", tags, err)
	}

	// Removing the rule makes the station public again.
	wantFields(t, "after DELETE", plain(e.call("DELETE", "/api/v1/stations/CP-1/access", "", http.StatusOK)),
		map[string]any{"configured": false, "mode": "public", "grants": []any{}})
}

func TestIdTagUsers(t *testing.T) {
	e := newAccessEnv(t)
	erik := id(t, e.call("POST", "/api/v1/users", `{"name":"Erik"}`, http.StatusCreated))
	wantFields(t, "PUT with a user", plain(e.call("PUT", "/api/v1/id-tags/ERIK1", `{"userId":`+erik+`,"parentIdTag":"FLEET"}`, http.StatusCreated)),
		map[string]any{"userId": erik, "known": true, "parentIdTag": "FLEET"})
	wantFields(t, "PATCH without a user keeps it", plain(e.call("PATCH", "/api/v1/id-tags/ERIK1", `{"blocked":true}`, http.StatusOK)),
		map[string]any{"userId": erik, "blocked": true, "parentIdTag": "FLEET"})
	wantFields(t, "GET", plain(e.call("GET", "/api/v1/id-tags/ERIK1", "", http.StatusOK)), map[string]any{"userId": erik})
	wantFields(t, "PATCH null removes it", plain(e.call("PATCH", "/api/v1/id-tags/ERIK1", `{"userId":null}`, http.StatusOK)),
		map[string]any{"userId": nil})
	e.call("PATCH", "/api/v1/id-tags/ERIK1", `{"userId":`+erik+`}`, http.StatusOK)
	wantFields(t, "PUT without a user removes it", plain(e.call("PUT", "/api/v1/id-tags/ERIK1", `{}`, http.StatusOK)),
		map[string]any{"userId": nil, "parentIdTag": nil, "blocked": false})

	// A tag only seen at a station is unknown (known false) and has no user.
	cp := e.dial("CP-1")
	cp.boot()
	cp.call("Authorize", `{"idTag":"SEEN"}`)
	list := field(t, e.call("GET", "/api/v1/id-tags", "", http.StatusOK), "idTags").([]any)
	var seen map[string]any
	for _, x := range list {
		if m := x.(map[string]any); m["idTag"] == "SEEN" {
			seen = m
		}
	}
	wantFields(t, "a tag only seen", plain(seen), map[string]any{"known": false, "userId": nil})
}

func TestLocalListSyncRoute(t *testing.T) {
	e := newAccessEnv(t)
	cp := e.connect(e.acct, "CP-1")
	cp.answer("SendLocalList", `{"status":"Accepted"}`)
	nora := id(t, e.call("POST", "/api/v1/users", `{"name":"Nora"}`, http.StatusCreated))
	e.call("PUT", "/api/v1/id-tags/NORA1", `{"userId":`+nora+`}`, http.StatusCreated)
	e.call("PUT", "/api/v1/stations/CP-1/access", `{"mode":"members","grants":[{"userId":`+nora+`}]}`, http.StatusOK)

	r := e.do("POST", "/api/v1/stations/CP-1/local-list/sync", e.token, "")
	if r.status != http.StatusOK {
		t.Fatalf("sync: %d %s", r.status, r.body)
	}
	got := r.json(t)
	wantFields(t, "first sync", plain(got), map[string]any{"sent": true, "skipped": nil, "updateType": "Full", "status": "Accepted", "entries": "1"})
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/api/v1/operations/") || loc != "/api/v1/operations/"+fmt.Sprint(got["operationId"]) {
		t.Errorf("Location %q, operationId %v", loc, got["operationId"])
	}
	sent := cp.last()
	if sent.Action != "SendLocalList" || !sameJSON(sent.Payload, []byte(`{"listVersion":1,"updateType":"Full",
		"localAuthorizationList":[{"idTag":"NORA1","idTagInfo":{"status":"Accepted"}}]}`)) {
		t.Errorf("sent %s %s", sent.Action, sent.Payload)
	}
	op := e.call("GET", "/api/v1/operations/"+fmt.Sprint(got["operationId"]), "", http.StatusOK)
	wantFields(t, "the operation", plain(op), map[string]any{"actor": "system", "action": "SendLocalList", "status": "Answered"})
	wantFields(t, "second sync", plain(e.call("POST", "/api/v1/stations/CP-1/local-list/sync", "{}", http.StatusOK)),
		map[string]any{"sent": false, "updateType": nil, "operationId": nil, "skipped": authz.SkippedUpToDate})
}

func TestAccessWithoutService(t *testing.T) {
	e := newEnv(t)
	e.seed()
	wantError(t, "users", e.do("GET", "/api/v1/users", e.token, ""), 503, api.CodeUnavailable, "", "")
	wantError(t, "access", e.do("GET", "/api/v1/stations/CP-1/access", e.token, ""), 503, api.CodeUnavailable, "", "")
	wantError(t, "tag user", e.do("PUT", "/api/v1/id-tags/X", e.token, `{"userId":1}`), 503, api.CodeUnavailable, "userId", "")
	e.call("PUT", "/api/v1/id-tags/X", `{}`, http.StatusCreated)
}

// TestOpenAPIDescribesAccess checks the answers of the access routes against the document.
func TestOpenAPIDescribesAccess(t *testing.T) {
	e := newAccessEnv(t)
	doc := loadOpenAPI(t, e)
	base := doc.serverBase(t)
	cp := e.connect(e.acct, "CP-1")
	cp.answer("SendLocalList", `{"status":"Accepted"}`)
	e.registerStation(e.acct, "CP-OFF")
	group := id(t, e.call("POST", "/api/v1/groups", `{"name":"Employees"}`, http.StatusCreated))
	user := id(t, e.call("POST", "/api/v1/users", `{"name":"Erik","email":"erik@example.ch","groupIds":[`+group+`]}`, http.StatusCreated))
	e.call("PUT", "/api/v1/id-tags/ERIK1", `{"userId":`+user+`}`, http.StatusCreated)
	rule := `{"mode":"members","ownerUserId":` + user + `,"grants":[{"groupId":` + group + `,"windows":[{"days":"Mon-Fri","start":"07:00","end":"18:00"}]}]}`
	for _, tc := range []struct {
		method, path, token, body string
	}{
		{"GET", "/api/v1/users", e.token, ""},
		{"POST", "/api/v1/users", e.token, `{"name":"Nora","language":"fr"}`},
		{"GET", "/api/v1/users/" + user, e.token, ""},
		{"PATCH", "/api/v1/users/" + user, e.token, `{"blocked":false}`},
		{"GET", "/api/v1/groups", e.token, ""},
		{"POST", "/api/v1/groups", e.token, `{"name":"Residents","members":[` + user + `]}`},
		{"GET", "/api/v1/groups/" + group, e.token, ""},
		{"PATCH", "/api/v1/groups/" + group, e.token, `{"members":[` + user + `]}`},
		{"GET", "/api/v1/stations/CP-1/access", e.token, ""},
		{"PUT", "/api/v1/stations/CP-1/access", e.token, rule},
		{"GET", "/api/v1/stations/CP-1/access", e.token, ""},
		{"POST", "/api/v1/stations/CP-1/local-list/sync", e.token, ""},
		{"POST", "/api/v1/stations/CP-1/local-list/sync", e.token, ""},
		{"POST", "/api/v1/authorize-preview", e.token, `{"chargePointId":"CP-1","idTag":"ERIK1"}`},
		{"POST", "/api/v1/authorize-preview", e.token, `{"chargePointId":"CP-1","idTag":"X","at":"2026-06-13T10:00:00Z"}`},
		{"GET", "/api/v1/id-tags/ERIK1", e.token, ""},
		{"DELETE", "/api/v1/stations/CP-OFF/access", e.token, ""},
		// Errors.
		{"GET", "/api/v1/users", "", ""},
		{"GET", "/api/v1/users/999", e.token, ""},
		{"POST", "/api/v1/users", e.token, `{}`},
		{"POST", "/api/v1/groups", e.token, `{"name":"employees"}`},
		{"PUT", "/api/v1/stations/CP-1/access", e.token, `{"mode":"x"}`},
		{"DELETE", "/api/v1/users/" + user, e.token, ""},
		{"POST", "/api/v1/stations/CP-OFF/local-list/sync", e.token, ""},
		{"POST", "/api/v1/authorize-preview", e.token, `{"chargePointId":"CP-9","idTag":"X"}`},
	} {
		r := e.do(tc.method, tc.path, tc.token, tc.body)
		checkDocumented(t, doc, base, tc.method+" "+tc.path, tc.method, tc.path, r)
	}
}
