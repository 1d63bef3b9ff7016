package authz_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

// lists returns the SendLocalList requests sent since the last take, by station.
func (e *env) lists() map[string][]*ocpp.SendLocalListRequest {
	out := map[string][]*ocpp.SendLocalListRequest{}
	for _, s := range e.fleet.take() {
		if r, ok := s.req.(*ocpp.SendLocalListRequest); ok {
			out[s.chargePointID] = append(out[s.chargePointID], r)
		}
	}
	return out
}

// summary writes a list as "TAG:Status@15:04" entries, "TAG" for a removal.
func (e *env) summary(r *ocpp.SendLocalListRequest) []string {
	var out []string
	for _, d := range r.LocalAuthorizationList {
		s := d.IdTag
		if d.IdTagInfo != nil {
			s += ":" + string(d.IdTagInfo.Status)
			if d.IdTagInfo.ExpiryDate != nil {
				s += "@" + d.IdTagInfo.ExpiryDate.In(e.zurich).Format("15:04")
			}
		}
		out = append(out, s)
	}
	return out
}

func (e *env) connect(chargePointID string) {
	e.fleet.mu.Lock()
	e.fleet.connected[chargePointID] = true
	e.fleet.mu.Unlock()
}

// knowVersion has the station report its local list version.
func (e *env) knowVersion(chargePointID string) {
	e.t.Helper()
	if _, err := e.ops.Execute(e.ctx, operation.Request{AccountID: e.acct.ID, ChargePointID: chargePointID, Actor: "test",
		Action: "GetLocalListVersion"}); err != nil {
		e.t.Fatal(err)
	}
	e.fleet.take()
}

func TestLocalListFollowsChanges(t *testing.T) {
	e := newEnv(t)
	members, unknown, offline := e.station("MEMBERS"), e.station("UNKNOWN-VERSION"), e.station("OFFLINE")
	for _, cp := range []string{"MEMBERS", "UNKNOWN-VERSION"} {
		e.connect(cp)
	}
	e.knowVersion("MEMBERS")
	employees := e.group("Employees")
	erik := e.user("Erik", employees)
	e.tag("ERIK1", erik.ID)
	e.tag("LONER", 0)
	for _, st := range []station.Station{members, unknown, offline} {
		e.rule(access.StationRule{StationID: st.ID, Mode: access.ModeMembers, Grants: []access.Grant{{GroupID: employees, Windows: office}}})
	}

	// The first sync is a full update; only stations with a known version get one.
	authz.SyncChanged(e.ctx, e.svc)
	got := e.lists()
	if len(got) != 1 || len(got["MEMBERS"]) != 1 {
		t.Fatalf("first sync sent %v", got)
	}
	first := got["MEMBERS"][0]
	if first.UpdateType != ocpp.UpdateTypeFull || first.ListVersion != 1 || !slices.Equal(e.summary(first), []string{"ERIK1:Accepted@18:00"}) {
		t.Errorf("first sync: %s v%d %v", first.UpdateType, first.ListVersion, e.summary(first))
	}

	// A change sends the difference.
	e.tag("ERIK2", erik.ID)
	authz.SyncChanged(e.ctx, e.svc)
	got = e.lists()
	if r := got["MEMBERS"]; len(r) != 1 || r[0].UpdateType != ocpp.UpdateTypeDifferential || r[0].ListVersion != 2 ||
		!slices.Equal(e.summary(r[0]), []string{"ERIK2:Accepted@18:00"}) {
		t.Errorf("after a new tag: %v", got)
	}
	if err := e.svc.DeleteUser(e.ctx, e.acct.ID, erik.ID); err != nil {
		t.Fatal(err)
	}
	authz.SyncChanged(e.ctx, e.svc)
	if r := e.lists()["MEMBERS"]; len(r) != 1 || !slices.Equal(e.summary(r[0]), []string{"ERIK1", "ERIK2"}) {
		t.Errorf("after deleting the user: %v", r)
	}

	// Nothing changed: nothing is sent, and an explicit sync says so.
	authz.SyncChanged(e.ctx, e.svc)
	if got := e.lists(); len(got) != 0 {
		t.Errorf("without a change: %v", got)
	}
	res, err := e.svc.SyncLocalList(e.ctx, e.acct.ID, "MEMBERS")
	if err != nil || res.Skipped != authz.SkippedUpToDate || res.Operation != nil {
		t.Errorf("explicit sync when up to date: %+v %v", res, err)
	}

	// An explicit sync sends a station whose version is unknown its full list.
	res, err = e.svc.SyncLocalList(e.ctx, e.acct.ID, "UNKNOWN-VERSION")
	if err != nil || res.UpdateType != ocpp.UpdateTypeFull || res.Status != ocpp.UpdateStatusAccepted || res.Operation == nil ||
		res.Operation.Actor != authz.Actor {
		t.Errorf("explicit sync of a station whose version is unknown: %+v %v", res, err)
	}
	if r := e.lists()["UNKNOWN-VERSION"]; len(r) != 1 || r[0].ListVersion != 1 || len(r[0].LocalAuthorizationList) != 0 {
		t.Errorf("explicit sync sent %v", r)
	}
	if _, err := e.svc.SyncLocalList(e.ctx, e.acct.ID, "OFFLINE"); err == nil {
		t.Error("explicit sync of a station that is not connected: no error")
	}
	if _, err := e.svc.SyncLocalList(e.ctx, e.other.ID, "MEMBERS"); err == nil {
		t.Error("explicit sync of another account's station: no error")
	}
}

func TestLocalListVersionMismatch(t *testing.T) {
	e := newEnv(t)
	cp := e.station("CP1")
	e.connect("CP1")
	e.knowVersion("CP1")
	nora := e.user("Nora")
	e.rule(access.StationRule{StationID: cp.ID, Mode: access.ModeMembers, Grants: []access.Grant{{UserID: nora.ID}}})
	e.tag("NORA1", nora.ID)
	authz.SyncChanged(e.ctx, e.svc)
	e.lists()

	// The station refuses a differential update: its list is not the one recorded.
	e.fleet.answer = func(req any) (any, error) {
		if r, ok := req.(*ocpp.SendLocalListRequest); ok && r.UpdateType == ocpp.UpdateTypeDifferential {
			return &ocpp.SendLocalListResponse{Status: ocpp.UpdateStatusVersionMismatch}, nil
		}
		return nil, nil
	}
	e.tag("NORA2", nora.ID)
	res, err := e.svc.SyncLocalList(e.ctx, e.acct.ID, "CP1")
	if err != nil || res.UpdateType != ocpp.UpdateTypeFull || res.Status != ocpp.UpdateStatusAccepted {
		t.Errorf("after VersionMismatch: %+v %v", res, err)
	}
	r := e.lists()["CP1"]
	if len(r) != 2 || r[0].ListVersion != 2 || r[1].ListVersion != 3 || !slices.Equal(e.summary(r[1]), []string{"NORA1:Accepted", "NORA2:Accepted"}) {
		t.Errorf("sent %d lists: %+v", len(r), r)
	}
}

func TestStopAtWindowEnd(t *testing.T) {
	e := newEnv(t)
	stopping, finishing := e.station("STOPPING"), e.station("FINISHING")
	e.connect("STOPPING")
	e.connect("FINISHING")
	employees := e.group("Employees")
	erik := e.user("Erik", employees)
	nora := e.user("Nora")
	e.tag("ERIK1", erik.ID)
	e.tag("NORA1", nora.ID)
	for _, r := range []access.StationRule{
		{StationID: stopping.ID, Mode: access.ModeMembers, WindowEndPolicy: access.StopRemotely,
			Grants: []access.Grant{{GroupID: employees, Windows: office}, {UserID: nora.ID}}},
		{StationID: finishing.ID, Mode: access.ModeMembers, WindowEndPolicy: access.AllowFinish,
			Grants: []access.Grant{{GroupID: employees, Windows: office}}},
	} {
		e.rule(r)
	}
	erikTx := e.start(stopping, 1, "ERIK1", e.at("2026-06-08 17:00"))
	e.start(stopping, 2, "NORA1", e.at("2026-06-08 17:00")) // at all times: never stopped
	e.start(finishing, 1, "ERIK1", e.at("2026-06-08 17:30"))

	stops := func() []int {
		var out []int
		for _, s := range e.fleet.take() {
			if r, ok := s.req.(*ocpp.RemoteStopTransactionRequest); ok {
				out = append(out, r.TransactionID)
			}
		}
		return out
	}
	e.clock.Set(e.at("2026-06-08 17:59"))
	authz.StopEnded(e.ctx, e.svc)
	if got := stops(); len(got) != 0 {
		t.Errorf("before the end: stopped %v", got)
	}
	e.clock.Set(e.at("2026-06-08 18:00"))
	authz.StopEnded(e.ctx, e.svc)
	if got := stops(); !slices.Equal(got, []int{int(erikTx.ID)}) {
		t.Errorf("at the end: stopped %v, want %d", got, erikTx.ID)
	}
	ops, err := e.ops.Operations(e.ctx, e.acct.ID, operation.OperationFilter{Action: "RemoteStopTransaction"})
	if err != nil || len(ops) != 1 || ops[0].Actor != authz.Actor || ops[0].Status != operation.Answered {
		t.Errorf("recorded: %+v %v", ops, err)
	}
	// Asked again only after a while, while the transaction stays open.
	e.clock.Set(e.at("2026-06-08 18:01"))
	authz.StopEnded(e.ctx, e.svc)
	if got := stops(); len(got) != 0 {
		t.Errorf("a minute later: stopped %v", got)
	}
	e.clock.Set(e.at("2026-06-08 18:06"))
	authz.StopEnded(e.ctx, e.svc)
	if got := stops(); len(got) != 1 {
		t.Errorf("five minutes later: stopped %v", got)
	}
	// A station that is not connected is left for later; a grant that admits the tag now
	// again keeps the session.
	e.fleet.mu.Lock()
	e.fleet.connected["STOPPING"] = false
	e.fleet.mu.Unlock()
	e.clock.Set(e.at("2026-06-08 18:20"))
	authz.StopEnded(e.ctx, e.svc)
	if got := stops(); len(got) != 0 {
		t.Errorf("while not connected: stopped %v", got)
	}
	e.connect("STOPPING")
	e.rule(access.StationRule{StationID: stopping.ID, Mode: access.ModeMembers, WindowEndPolicy: access.StopRemotely,
		Grants: []access.Grant{{GroupID: employees}, {UserID: nora.ID}}})
	authz.StopEnded(e.ctx, e.svc)
	if got := stops(); len(got) != 0 {
		t.Errorf("after granting at all times: stopped %v", got)
	}
}

// TestRun checks that Run syncs after a change, looks for ended windows on its own, and
// stops when asked.
func TestRun(t *testing.T) {
	e := newEnv(t)
	cp := e.station("CP1")
	e.connect("CP1")
	e.knowVersion("CP1")
	svc := authz.NewService(authz.Deps{Authorizer: e.auth, Store: e.store, Stations: e.store, Operations: e.ops, Live: e.fleet,
		Now: e.clock.Now, Interval: 5 * time.Millisecond, Logger: quiet})
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Run(ctx)
	}()
	nora := e.user("Nora")
	if err := svc.SaveTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: "NORA1"}, nora.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.SaveStationRule(e.ctx, e.acct.ID, access.StationRule{StationID: cp.ID, Mode: access.ModeMembers,
		WindowEndPolicy: access.StopRemotely, Grants: []access.Grant{{UserID: nora.ID, Windows: office}}}); err != nil {
		t.Fatal(err)
	}
	tx := e.start(cp, 1, "NORA1", e.at("2026-06-08 17:00"))
	e.clock.Set(e.at("2026-06-08 18:30"))
	var lists, stops int
	deadline := time.Now().Add(10 * time.Second)
	for (lists == 0 || stops == 0) && time.Now().Before(deadline) {
		for _, s := range e.fleet.take() {
			switch r := s.req.(type) {
			case *ocpp.SendLocalListRequest:
				lists++
			case *ocpp.RemoteStopTransactionRequest:
				if r.TransactionID == int(tx.ID) {
					stops++
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if lists == 0 || stops != 1 {
		t.Errorf("Run sent %d local lists and %d stops", lists, stops)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}

// TestResyncAsWindowsPass checks that lists follow the windows as time passes, without a
// change of the rules.
func TestResyncAsWindowsPass(t *testing.T) {
	e := newEnv(t)
	cp := e.station("CP1")
	e.connect("CP1")
	e.knowVersion("CP1")
	employees := e.group("Employees")
	erik := e.user("Erik", employees)
	e.tag("ERIK1", erik.ID)
	e.rule(access.StationRule{StationID: cp.ID, Mode: access.ModeMembers, Grants: []access.Grant{{GroupID: employees, Windows: office}}})
	authz.SyncChanged(e.ctx, e.svc)
	if r := e.lists()["CP1"]; len(r) != 1 || !slices.Equal(e.summary(r[0]), []string{"ERIK1:Accepted@18:00"}) {
		t.Fatalf("in office hours: %v", r)
	}
	e.clock.Set(e.at("2026-06-08 12:00"))
	authz.ResyncAll(e.ctx, e.svc)
	if got := e.lists(); len(got) != 0 {
		t.Errorf("within the same window: sent %v", got)
	}
	e.clock.Set(e.at("2026-06-08 18:00"))
	authz.ResyncAll(e.ctx, e.svc)
	if r := e.lists()["CP1"]; len(r) != 1 || r[0].UpdateType != ocpp.UpdateTypeDifferential || !slices.Equal(e.summary(r[0]), []string{"ERIK1"}) {
		t.Errorf("after the window closed: %v", r)
	}
	e.clock.Set(e.at("2026-06-09 07:00"))
	authz.ResyncAll(e.ctx, e.svc)
	if r := e.lists()["CP1"]; len(r) != 1 || !slices.Equal(e.summary(r[0]), []string{"ERIK1:Accepted@18:00"}) {
		t.Errorf("the next morning: %v", r)
	}
}
