package authz_test

import (
	"errors"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/station"
)

func TestAuthorize(t *testing.T) {
	e := newEnv(t)
	members, public := e.station("MEMBERS"), e.station("PUBLIC")
	employees := e.group("Employees")
	erik := e.user("Erik", employees)
	nora := e.user("Nora")
	e.tag("ERIK1", erik.ID)
	e.tag("NORA1", nora.ID)
	if err := e.svc.SaveTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: "OLD", ExpiresAt: e.at("2026-01-01 00:00")}, erik.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SaveTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: "LOST", Blocked: true}, erik.ID); err != nil {
		t.Fatal(err)
	}
	e.rule(access.StationRule{StationID: members.ID, Mode: access.ModeMembers,
		Grants: []access.Grant{{GroupID: employees, Windows: office}}})

	monday, saturday := e.at("2026-06-08 10:00"), e.at("2026-06-13 10:00")
	tests := []struct {
		name     string
		st       station.Station
		idTag    string
		at       time.Time
		starting bool
		want     station.Decision
	}{
		{"employee in office hours, cached to their end", members, "ERIK1", monday, false,
			station.Decision{Status: station.AuthAccepted, CacheUntil: e.at("2026-06-08 18:00")}},
		{"employee on a Saturday", members, "ERIK1", saturday, false, station.Decision{Status: station.AuthInvalid}},
		{"user without a grant", members, "NORA1", monday, false, station.Decision{Status: station.AuthInvalid}},
		{"unknown tag at a members station", members, "STRANGER", monday, false, station.Decision{Status: station.AuthInvalid}},
		{"unknown tag at a station without a rule", public, "STRANGER", monday, true, station.Decision{Status: station.AuthAccepted}},
		{"expired tag", members, "OLD", monday, false,
			station.Decision{Status: station.AuthExpired, CacheUntil: e.at("2026-01-01 00:00")}},
		{"blocked tag", public, "LOST", monday, false, station.Decision{Status: station.AuthBlocked}},
		{"tags compare without case", members, "erik1", monday, false,
			station.Decision{Status: station.AuthAccepted, CacheUntil: e.at("2026-06-08 18:00")}},
	}
	for _, tt := range tests {
		got := e.authorize(tt.st, tt.idTag, tt.at, tt.starting)
		if got.Status != tt.want.Status || !got.CacheUntil.Equal(tt.want.CacheUntil) || got.ParentIdTag != tt.want.ParentIdTag {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}

	// Tags are recorded as seen, unknown ones as unknown.
	tags, err := e.store.IdTags(e.ctx, e.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]station.IdTag{}
	for _, tag := range tags {
		seen[tag.IdTag] = tag
	}
	if s, ok := seen["STRANGER"]; !ok || s.Known || !s.FirstSeenAt.Equal(monday) {
		t.Errorf("the unknown tag's record: %+v", s)
	}
	if s := seen["ERIK1"]; !s.Known || s.LastSeenAt.IsZero() {
		t.Errorf("the known tag's record: %+v", s)
	}
}

func TestAuthorizeConcurrentTx(t *testing.T) {
	e := newEnv(t)
	cp1, cp2 := e.station("CP1"), e.station("CP2")
	erik := e.user("Erik")
	e.tag("ERIK1", erik.ID)
	at := e.at("2026-06-08 10:00")
	if d := e.authorize(cp1, "ERIK1", at, true); d.Status != station.AuthAccepted {
		t.Fatalf("first start: %+v", d)
	}
	tx := e.start(cp1, 1, "ERIK1", at)
	if d := e.authorize(cp1, "ERIK1", at, true); d.Status != station.AuthAccepted {
		t.Errorf("the same start repeated by the station: %+v", d)
	}
	if d := e.authorize(cp2, "ERIK1", at.Add(time.Minute), true); d.Status != station.AuthConcurrentTx {
		t.Errorf("a second start elsewhere: %+v", d)
	}
	if d := e.authorize(cp1, "ERIK1", at.Add(time.Minute), false); d.Status != station.AuthAccepted {
		t.Errorf("Authorize to stop the transaction: %+v", d)
	}
	if _, err := e.store.StopTransaction(e.ctx, station.StopTx{AccountID: e.acct.ID, StationID: cp1.ID, TransactionID: tx.ID,
		StoppedAt: at.Add(time.Hour), Source: station.Source{ReceivedAt: at.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if d := e.authorize(cp2, "ERIK1", at.Add(2*time.Hour), true); d.Status != station.AuthAccepted {
		t.Errorf("a start after the stop: %+v", d)
	}
}

func TestAuthorizerCache(t *testing.T) {
	e := newEnv(t)
	cp := e.station("CP1")
	erik := e.user("Erik")
	e.tag("ERIK1", erik.ID)
	at := e.at("2026-06-08 10:00")
	if d := e.authorize(cp, "ERIK1", at, false); d.Status != station.AuthAccepted {
		t.Fatalf("before: %+v", d)
	}
	// A write straight to the store, around the Service, is not seen until Changed.
	erik.Blocked = true
	if err := e.store.UpdateAccessUser(e.ctx, e.acct.ID, erik, at); err != nil {
		t.Fatal(err)
	}
	if d := e.authorize(cp, "ERIK1", at, false); d.Status != station.AuthAccepted {
		t.Errorf("cached: %+v", d)
	}
	e.svc.Changed(e.acct.ID)
	if d := e.authorize(cp, "ERIK1", at, false); d.Status != station.AuthBlocked {
		t.Errorf("after Changed: %+v", d)
	}
	// A change through the Service is seen at once.
	erik.Blocked = false
	if err := e.svc.UpdateUser(e.ctx, e.acct.ID, erik); err != nil {
		t.Fatal(err)
	}
	if d := e.authorize(cp, "ERIK1", at, false); d.Status != station.AuthAccepted {
		t.Errorf("after UpdateUser: %+v", d)
	}

	// Records that do not build (written around the checks: two tags that differ only in
	// case) leave the last rules that built in force.
	if err := e.store.SaveIdTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: "erik1", Known: true, Blocked: true}); err != nil {
		t.Fatal(err)
	}
	e.svc.Changed(e.acct.ID)
	if d := e.authorize(cp, "ERIK1", at, false); d.Status != station.AuthAccepted {
		t.Errorf("with records that do not build: %+v", d)
	}
	// Changes that do not make it worse go through, and one fixes it.
	if _, err := e.svc.CreateUser(e.ctx, e.acct.ID, access.User{Name: "Nora"}); err != nil {
		t.Errorf("a change to records that did not build: %v", err)
	}
	if err := e.svc.SaveTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: "ERIK1", Blocked: true}, erik.ID); err != nil {
		t.Errorf("a change to records that did not build: %v", err)
	}
}

func TestAuthorizerWithoutRulesDecidesOnTheTag(t *testing.T) {
	e := newEnv(t)
	cp := e.station("CP1")
	for _, tag := range []string{"ABC", "abc"} {
		if err := e.store.SaveIdTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: tag, Known: true, Blocked: tag == "abc"}); err != nil {
			t.Fatal(err)
		}
	}
	at := e.at("2026-06-08 10:00")
	if d := e.authorize(cp, "ABC", at, false); d.Status != station.AuthAccepted {
		t.Errorf("ABC: %+v", d)
	}
	if d := e.authorize(cp, "abc", at, false); d.Status != station.AuthBlocked {
		t.Errorf("abc: %+v", d)
	}
	if _, err := e.svc.Preview(e.ctx, e.acct.ID, access.Query{StationID: cp.ID, IdTag: "ABC", At: at}); err == nil {
		t.Error("preview on rules that do not build: no error")
	}
}

func TestServiceChecksChanges(t *testing.T) {
	e := newEnv(t)
	cp := e.station("CP1")
	employees := e.group("Employees")
	erik := e.user("Erik", employees)
	otherStation, _, err := e.store.RegisterStation(e.ctx, e.other.ID, "CP1", station.Accepted, "strict", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	otherUser, err := e.svc.CreateUser(e.ctx, e.other.ID, access.User{Name: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	overlapping := []access.Window{{Days: access.MonFri, Start: "07:00", End: "18:00"}, {Days: access.Mon, Start: "17:00", End: "19:00"}}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"a user in a group the account does not have", func() error {
			_, err := e.svc.CreateUser(e.ctx, e.acct.ID, access.User{Name: "X", GroupIDs: []int64{employees + 100}})
			return err
		}(), access.ErrUnknownGroup},
		{"a group with a member of another account", func() error {
			_, err := e.svc.CreateGroup(e.ctx, e.acct.ID, authz.Group{Group: access.Group{Name: "G"}, Members: []int64{otherUser.ID}})
			return err
		}(), authz.ErrUnknownMember},
		{"a second group of the same name", func() error {
			_, err := e.svc.CreateGroup(e.ctx, e.acct.ID, authz.Group{Group: access.Group{Name: "employees"}})
			return err
		}(), access.ErrDuplicate},
		{"overlapping windows", e.svc.SaveStationRule(e.ctx, e.acct.ID, access.StationRule{StationID: cp.ID, Mode: access.ModeMembers,
			Grants: []access.Grant{{GroupID: employees, Windows: overlapping}}}), access.ErrOverlap},
		{"a bad window", e.svc.SaveStationRule(e.ctx, e.acct.ID, access.StationRule{StationID: cp.ID, Mode: access.ModeMembers,
			Grants: []access.Grant{{UserID: erik.ID, Windows: []access.Window{{Days: access.Mon, Start: "25:00", End: "26:00"}}}}}), access.ErrBadWindow},
		{"a private station without an owner", e.svc.SaveStationRule(e.ctx, e.acct.ID, access.StationRule{StationID: cp.ID, Mode: access.ModePrivate}), access.ErrBadRule},
		{"a grant to another account's user", e.svc.SaveStationRule(e.ctx, e.acct.ID, access.StationRule{StationID: cp.ID, Mode: access.ModeMembers,
			Grants: []access.Grant{{UserID: otherUser.ID}}}), access.ErrUnknownUser},
		{"a rule of another account's station", e.svc.SaveStationRule(e.ctx, e.acct.ID, access.StationRule{StationID: otherStation.ID, Mode: access.ModePublic}), station.ErrNotFound},
		{"a tag whose parents loop", func() error {
			e.svc.SaveTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: "A", ParentIdTag: "B"}, 0)
			return e.svc.SaveTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: "B", ParentIdTag: "A"}, 0)
		}(), access.ErrParentCycle},
		{"a tag of another account's user", e.svc.SaveTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: "C"}, otherUser.ID), access.ErrUnknownUser},
		{"another account's user", e.svc.UpdateUser(e.ctx, e.acct.ID, otherUser), station.ErrNotFound},
		{"deleting another account's group", e.svc.DeleteGroup(e.ctx, e.acct.ID, 999), station.ErrNotFound},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}

	// A user who owns a station cannot be deleted; one who is granted can, with the grant.
	e.rule(access.StationRule{StationID: cp.ID, Mode: access.ModePrivate, OwnerUserID: erik.ID})
	if err := e.svc.DeleteUser(e.ctx, e.acct.ID, erik.ID); !errors.Is(err, authz.ErrInUse) {
		t.Errorf("deleting the owner: %v", err)
	}
	e.rule(access.StationRule{StationID: cp.ID, Mode: access.ModeMembers, Grants: []access.Grant{{UserID: erik.ID}, {GroupID: employees}}})
	if err := e.svc.DeleteUser(e.ctx, e.acct.ID, erik.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteGroup(e.ctx, e.acct.ID, employees); err != nil {
		t.Fatal(err)
	}
	rule, ok, err := e.svc.StationRule(e.ctx, e.acct.ID, cp.ID)
	if err != nil || !ok || len(rule.Grants) != 0 {
		t.Errorf("the rule after its user and group were deleted: %+v %v %v", rule, ok, err)
	}
}
