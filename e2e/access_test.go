package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/api"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/server"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

// accessClock is the access rules' clock: the time Authorize is decided at, and the time
// the access service looks for ended windows and builds local lists at. StartTransaction
// is decided at the station's timestamp, which the test sends.
type accessClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *accessClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *accessClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// atClock decides Authorize at the clock's time rather than when the message arrived, so
// that the test can charge on a Monday morning whatever day it runs.
type atClock struct {
	station.Authorizer
	clock *accessClock
}

func (a atClock) Authorize(ctx context.Context, req station.AuthRequest) (station.Decision, error) {
	if !req.Starting {
		req.At = a.clock.Now()
	}
	return a.Authorizer.Authorize(ctx, req)
}

// newAccessSystem is newSystem wired as serve.go wires the access rules: the authz
// Authorizer answers the stations, the API changes the rules through authz.Service, whose
// loop runs every few milliseconds on the test's clock.
func newAccessSystem(t *testing.T, clock *accessClock) *system {
	t.Helper()
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

	authorizer := authz.NewAuthorizer(st, quiet)
	svc := station.NewService(st, atClock{authorizer, clock}, time.Now, quiet)
	ocppServer := csms.New(st, svc, csms.Options{
		RPC:    rpc.Options{CallTimeout: waitTimeout, PingInterval: 30 * time.Second, MaxFrameBytes: 256 << 10, Logger: quiet},
		Logger: quiet,
	})
	ops := operation.NewService(st, csms.Sender{Server: ocppServer}, time.Now, quiet)
	svc.SetObserver(ops)
	rules := authz.NewService(authz.Deps{Authorizer: authorizer, Store: st, Stations: st, Operations: ops, Live: ocppServer,
		Now: clock.Now, Interval: 20 * time.Millisecond, Logger: quiet})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rules.Run(runCtx)
	}()
	hs := httptest.NewServer(server.Routes(ocppServer, api.New(api.Deps{Accounts: st, Stations: st, Live: ocppServer,
		Operations: ops, Access: rules, Logger: quiet})))
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
		defer cancel()
		if err := ocppServer.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	// The loop stops first: it sends to the stations and writes to the store.
	t.Cleanup(func() {
		stop()
		<-done
	})
	return &system{t: t, ctx: ctx, store: st, endpoint: ocppServer, acct: a, token: secret, url: hs.URL}
}

// zurichTime is a wall time in the account's time zone, "2006-01-02 15:04".
// 2026-06-08 is a Monday.
func zurichTime(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(account.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// create posts a body and returns the id of what was created.
func (s *system) create(path, body string) int64 {
	s.t.Helper()
	var out struct{ ID int64 }
	s.call("POST", path, body, http.StatusCreated, &out)
	return out.ID
}

// wantInfo checks an idTagInfo: its status and expiry date (zero: none).
func wantInfo(t *testing.T, what string, got ocpp.IdTagInfo, status ocpp.AuthorizationStatus, expiry time.Time) {
	t.Helper()
	switch {
	case got.Status != status:
		t.Errorf("%s: status %s, want %s", what, got.Status, status)
	case expiry.IsZero() && got.ExpiryDate != nil:
		t.Errorf("%s: expiryDate %s, want none", what, got.ExpiryDate.Time)
	case !expiry.IsZero() && (got.ExpiryDate == nil || !got.ExpiryDate.Equal(expiry)):
		t.Errorf("%s: expiryDate %v, want %s", what, got.ExpiryDate, expiry.UTC())
	}
}

// TestAccessRules runs the access rules end to end: an office station for the Employees
// group on weekdays 07:00-18:00 that stops sessions at the end of their window, and a
// street station open to everyone on weekday evenings and weekends. Scripted stations get
// the answers the rules give at Authorize and StartTransaction, with the expiry they may
// cache them to; a session still running at 18:00 is stopped remotely; the office
// station's local list follows the rules.
func TestAccessRules(t *testing.T) {
	t.Parallel()
	clock := &accessClock{}
	monday10 := zurichTime(t, "2026-06-08 10:00")
	clock.Set(monday10)
	sys := newAccessSystem(t, clock)
	office, street := sys.connect("OFFICE"), sys.connect("STREET")
	office.bootAvailable(2)
	street.bootAvailable(1)

	employees := sys.create("/api/v1/groups", `{"name":"Employees"}`)
	erik := sys.create("/api/v1/users", fmt.Sprintf(`{"name":"Erik","email":"erik@example.ch","language":"de","groupIds":[%d]}`, employees))
	nora := sys.create("/api/v1/users", `{"name":"Nora"}`)
	expired := zurichTime(t, "2026-01-01 00:00")
	for tag, body := range map[string]string{
		"ERIK1":    fmt.Sprintf(`{"userId":%d}`, erik),
		"ERIK-OLD": fmt.Sprintf(`{"userId":%d,"expiresAt":%q}`, erik, expired.UTC().Format(time.RFC3339)),
		"LOST":     fmt.Sprintf(`{"userId":%d,"blocked":true}`, erik),
		"NORA1":    fmt.Sprintf(`{"userId":%d}`, nora),
	} {
		sys.call("PUT", "/api/v1/id-tags/"+tag, body, http.StatusCreated, nil)
	}
	sys.call("PUT", "/api/v1/stations/OFFICE/access", fmt.Sprintf(`{"mode":"members","windowEndPolicy":"stop_remotely",
		"grants":[{"groupId":%d,"windows":[{"days":"Mon-Fri","start":"07:00","end":"18:00","exceptDates":["2026-12-25"]}]}]}`, employees), http.StatusOK, nil)
	sys.call("PUT", "/api/v1/stations/STREET/access", `{"mode":"public","windows":[
		{"days":"Mon-Fri","start":"18:00","end":"24:00"},{"days":"Sat,Sun","start":"00:00","end":"24:00"}]}`, http.StatusOK, nil)

	// Authorize, decided at the clock's time.
	six, midnight := zurichTime(t, "2026-06-08 18:00"), zurichTime(t, "2026-06-09 00:00")
	const (
		accepted   = ocpp.AuthorizationStatusAccepted
		invalid    = ocpp.AuthorizationStatusInvalid
		blocked    = ocpp.AuthorizationStatusBlocked
		expiredSt  = ocpp.AuthorizationStatusExpired
		concurrent = ocpp.AuthorizationStatusConcurrentTx
	)
	for _, tc := range []struct {
		at     string
		cp     *chargePoint
		idTag  string
		status ocpp.AuthorizationStatus
		expiry time.Time
	}{
		{"2026-06-08 10:00", office, "ERIK1", accepted, six},
		{"2026-06-08 10:00", office, "erik1", accepted, six},
		{"2026-06-08 10:00", office, "NORA1", invalid, time.Time{}},
		{"2026-06-08 10:00", office, "STRANGER", invalid, time.Time{}},
		{"2026-06-08 10:00", office, "LOST", blocked, time.Time{}},
		{"2026-06-08 10:00", office, "ERIK-OLD", expiredSt, expired},
		{"2026-06-13 10:00", office, "ERIK1", invalid, time.Time{}},
		{"2026-12-25 10:00", office, "ERIK1", invalid, time.Time{}},
		{"2026-06-08 10:00", street, "STRANGER", invalid, time.Time{}},
		{"2026-06-08 19:00", street, "STRANGER", accepted, midnight},
		{"2026-06-08 19:00", street, "NORA1", accepted, midnight},
		{"2026-06-08 19:00", office, "ERIK1", invalid, time.Time{}},
		{"2026-06-13 10:00", street, "LOST", blocked, time.Time{}},
	} {
		clock.Set(zurichTime(t, tc.at))
		wantInfo(t, fmt.Sprintf("Authorize %s at %s %s", tc.idTag, tc.cp.id, tc.at), tc.cp.authorize(tc.idTag), tc.status, tc.expiry)
	}
	if got := sys.idTag("STRANGER"); got.Known {
		t.Errorf("the stranger's tag: %+v, want recorded as unknown", got)
	}

	// StartTransaction, decided at the station's timestamp.
	clock.Set(monday10)
	start := office.start(1, "ERIK1", 1000, monday10)
	wantInfo(t, "StartTransaction ERIK1 at OFFICE", start.IdTagInfo, accepted, six)
	again := office.start(1, "ERIK1", 1000, monday10)
	if again.TransactionID != start.TransactionID {
		t.Errorf("a repeated start: transaction %d, want %d", again.TransactionID, start.TransactionID)
	}
	wantInfo(t, "the same start repeated", again.IdTagInfo, accepted, six)
	evening := zurichTime(t, "2026-06-08 19:00")
	second := street.start(1, "ERIK1", 500, evening)
	wantInfo(t, "a second start of ERIK1 at STREET", second.IdTagInfo, concurrent, time.Time{})
	street.stop(second.TransactionID, 500, evening, ocpp.ReasonDeAuthorized, "")
	wantInfo(t, "StartTransaction NORA1 at OFFICE", office.start(2, "NORA1", 0, monday10).IdTagInfo, invalid, time.Time{})
	wantInfo(t, "StartTransaction STRANGER at STREET in the evening", street.start(1, "STRANGER", 0, evening).IdTagInfo, accepted, midnight)
	wantInfo(t, "StartTransaction LOST at STREET", street.start(1, "LOST", 0, evening).IdTagInfo, blocked, time.Time{})

	// At 18:00 the office session is stopped remotely, by the system.
	stopAt := six.Add(30 * time.Second)
	office.onCall("RemoteStopTransaction", func(call rpc.Call) answer {
		req := decodeCall[ocpp.RemoteStopTransactionRequest](office, call)
		return reply(&ocpp.RemoteStopTransactionResponse{Status: ocpp.RemoteStartStopStatusAccepted}).then(func(cp *chargePoint) {
			cp.emit(stopRequest(req.TransactionID, 9000, stopAt, ocpp.ReasonRemote, ""))
		})
	})
	m := office.mark()
	clock.Set(six.Add(-time.Minute))
	time.Sleep(100 * time.Millisecond) // a few rounds of the loop, which must not stop it yet
	if calls := office.received(m, "RemoteStopTransaction"); len(calls) != 0 {
		t.Fatalf("stopped before the end of the window: %v", calls)
	}
	clock.Set(stopAt)
	waitFor(t, "the office session to be stopped", func() bool { return !sys.transaction(start.TransactionID).Active })
	office.settle()
	if req := request[ocpp.RemoteStopTransactionRequest](office, m); req.TransactionID != start.TransactionID {
		t.Errorf("RemoteStopTransaction for %d, want %d", req.TransactionID, start.TransactionID)
	}
	op := sys.lastOperation("OFFICE", "RemoteStopTransaction")
	if op.Actor != authz.Actor || op.Status != "Answered" {
		t.Errorf("the remote stop recorded as %v", op)
	}

	// The office station's local list follows the rules once its version is known.
	clock.Set(monday10)
	var lists []*ocpp.SendLocalListRequest
	var listsMu sync.Mutex
	office.onCall("SendLocalList", func(call rpc.Call) answer {
		listsMu.Lock()
		lists = append(lists, decodeCall[ocpp.SendLocalListRequest](office, call))
		listsMu.Unlock()
		return reply(&ocpp.SendLocalListResponse{Status: ocpp.UpdateStatusAccepted})
	})
	sent := func(n int) *ocpp.SendLocalListRequest {
		t.Helper()
		waitFor(t, fmt.Sprintf("local list %d", n), func() bool {
			listsMu.Lock()
			defer listsMu.Unlock()
			return len(lists) >= n
		})
		listsMu.Lock()
		defer listsMu.Unlock()
		return lists[n-1]
	}
	office.on("GetLocalListVersion", reply(&ocpp.GetLocalListVersionResponse{ListVersion: 0}))
	sys.operate("OFFICE", "GetLocalListVersion", `{}`)
	sys.call("PUT", "/api/v1/id-tags/ERIK2", fmt.Sprintf(`{"userId":%d}`, erik), http.StatusCreated, nil)
	full := sent(1)
	wantList(t, "the first list", full, 1, ocpp.UpdateTypeFull,
		"ERIK-OLD:Expired@"+rfc3339(expired), "ERIK1:Accepted@"+rfc3339(six), "ERIK2:Accepted@"+rfc3339(six), "LOST:Blocked")
	sys.call("PATCH", "/api/v1/id-tags/ERIK2", `{"blocked":true}`, http.StatusOK, nil)
	wantList(t, "after blocking a tag", sent(2), 2, ocpp.UpdateTypeDifferential, "ERIK2:Blocked")
	sys.call("PATCH", fmt.Sprintf("/api/v1/users/%d", erik), `{"groupIds":[]}`, http.StatusOK, nil)
	wantList(t, "after Erik left Employees", sent(3), 3, ocpp.UpdateTypeDifferential, "ERIK-OLD", "ERIK1", "ERIK2", "LOST")
	waitFor(t, "the list recorded", func() bool { l := sys.localList("OFFICE"); return l.Version != nil && *l.Version == 3 })
	if l := sys.localList("OFFICE"); len(l.Entries) != 0 {
		t.Errorf("the office list: %+v, want empty", l.Entries)
	}
	// An explicit sync, of a station whose list version is unknown, sends its full list:
	// in the evening, every registered tag.
	clock.Set(evening)
	street.on("SendLocalList", reply(&ocpp.SendLocalListResponse{Status: ocpp.UpdateStatusAccepted}))
	var res struct {
		Sent       bool
		UpdateType string
		Entries    int
	}
	sys.call("POST", "/api/v1/stations/STREET/local-list/sync", "", http.StatusOK, &res)
	if !res.Sent || res.UpdateType != "Full" || res.Entries != 5 {
		t.Errorf("explicit sync of STREET: %+v, want a full list of the 5 registered tags", res)
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// wantList checks a SendLocalList: version, type and entries as "TAG:Status@expiry", "TAG"
// for a removal.
func wantList(t *testing.T, what string, got *ocpp.SendLocalListRequest, version int, typ ocpp.UpdateType, entries ...string) {
	t.Helper()
	var have []string
	for _, d := range got.LocalAuthorizationList {
		s := d.IdTag
		if d.IdTagInfo != nil {
			s += ":" + string(d.IdTagInfo.Status)
			if d.IdTagInfo.ExpiryDate != nil {
				s += "@" + rfc3339(d.IdTagInfo.ExpiryDate.Time)
			}
		}
		have = append(have, s)
	}
	if got.ListVersion != version || got.UpdateType != typ || !slices.Equal(have, entries) {
		t.Errorf("%s: version %d %s\n\t%s\nwant version %d %s\n\t%s", what, got.ListVersion, got.UpdateType,
			strings.Join(have, "\n\t"), version, typ, strings.Join(entries, "\n\t"))
	}
}
