package storetest

import (
	"context"
	"testing"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/station"
)

// accessStore is what authz.Service writes with and the Authorizer reads.
type accessStore interface {
	authz.Store
	authz.WriteStore
}

// testAccess is the behaviour of the access records (users, groups, tag users, station
// rules) for stores that keep them.
func testAccess(t *testing.T, s Store) {
	as, ok := s.(accessStore)
	if !ok {
		t.Fatalf("%T does not keep access records (authz.Store, authz.WriteStore)", s)
	}
	ctx := context.Background()
	a := newAccount(t, s, "access-a@example.com")
	b := newAccount(t, s, "access-b@example.com")
	cp1, cp2 := newStation(t, s, a.ID, "CP1"), newStation(t, s, a.ID, "CP2")
	foreign := newStation(t, s, b.ID, "CP1")

	records := func(accountID int64) authz.Records {
		t.Helper()
		r, err := as.AccessRecords(ctx, accountID)
		must(t, err)
		return r
	}
	equal(t, "an account without records", records(a.ID), authz.Records{TimeZone: a.TimeZone})

	employees, err := as.CreateAccessGroup(ctx, a.ID, access.Group{Name: "Employees"}, nil, at(1))
	must(t, err)
	residents, err := as.CreateAccessGroup(ctx, a.ID, access.Group{Name: "Residents"}, nil, at(1))
	must(t, err)
	if employees.ID == 0 || residents.ID == employees.ID {
		t.Fatalf("group ids %d and %d", employees.ID, residents.ID)
	}
	erik, err := as.CreateAccessUser(ctx, a.ID, access.User{Name: "Erik", Email: "erik@example.ch", Language: "de",
		GroupIDs: []int64{employees.ID, employees.ID}}, at(2))
	must(t, err)
	olivia, err := as.CreateAccessUser(ctx, a.ID, access.User{Name: "Olivia", Language: "fr"}, at(2))
	must(t, err)
	equal(t, "a created user", erik, access.User{ID: erik.ID, Name: "Erik", Email: "erik@example.ch", Language: "de",
		GroupIDs: []int64{employees.ID, employees.ID}})
	must(t, as.UpdateAccessGroup(ctx, a.ID, access.Group{ID: residents.ID, Name: "Residents"}, []int64{olivia.ID, erik.ID}, at(3)))

	// A tag seen first, then registered for Erik: the store keeps when it was seen.
	_, err = s.SeeIdTag(ctx, a.ID, "ERIK1", at(4))
	must(t, err)
	must(t, as.SaveAccessTag(ctx, station.IdTag{AccountID: a.ID, IdTag: "ERIK1", ExpiresAt: at(1000)}, erik.ID))
	must(t, as.SaveAccessTag(ctx, station.IdTag{AccountID: a.ID, IdTag: "ERIK-KID", ParentIdTag: "ERIK1", Blocked: true}, 0))
	_, err = s.SeeIdTag(ctx, a.ID, "STRANGER", at(5))
	must(t, err)
	// SaveIdTag, which knows nothing of users, keeps the tag's user.
	must(t, s.SaveIdTag(ctx, station.IdTag{AccountID: a.ID, IdTag: "ERIK1", ExpiresAt: at(2000), Known: true}))

	office := []access.Window{{Days: access.MonFri, Start: "07:00", End: "18:00", ExceptDates: []string{"2025-12-25"}}}
	evenings := []access.Window{
		{Days: access.MonFri, Start: "18:00", End: "24:00"},
		{Days: access.Weekend, Start: "00:00", End: "24:00", ExtraDates: nil},
		{Start: "00:00", End: "18:00", ExtraDates: []string{"2025-12-25", "2025-12-26"}},
	}
	rule1 := access.StationRule{StationID: cp1.ID, Mode: access.ModeMembers, OwnerUserID: olivia.ID,
		WindowEndPolicy: access.StopRemotely, Grants: []access.Grant{
			{GroupID: employees.ID, Windows: office},
			{UserID: erik.ID},
		}}
	rule2 := access.StationRule{StationID: cp2.ID, Mode: access.ModePublic, StationWindows: evenings, FreeVending: true,
		WindowEndPolicy: access.AllowFinish, Grants: []access.Grant{{GroupID: employees.ID, Windows: office}}}
	must(t, as.SaveStationAccess(ctx, a.ID, rule1, at(6)))
	must(t, as.SaveStationAccess(ctx, a.ID, rule2, at(6)))

	want := authz.Records{
		TimeZone: a.TimeZone,
		Users: []access.User{
			{ID: erik.ID, Name: "Erik", Email: "erik@example.ch", Language: "de", GroupIDs: sortedIDs(employees.ID, residents.ID)},
			{ID: olivia.ID, Name: "Olivia", Language: "fr", GroupIDs: []int64{residents.ID}},
		},
		Groups: []access.Group{employees, residents},
		Tags: []access.Tag{
			{IdTag: "ERIK-KID", ParentIdTag: "ERIK1", Blocked: true},
			{IdTag: "ERIK1", UserID: erik.ID, ExpiresAt: at(2000)},
		},
		Stations: []access.StationRule{rule1, rule2},
	}
	equal(t, "the account's records", records(a.ID), want)
	equal(t, "another account's records", records(b.ID), authz.Records{TimeZone: b.TimeZone})
	tags, err := s.IdTags(ctx, a.ID)
	must(t, err)
	if len(tags) != 3 || tags[1].IdTag != "ERIK1" || !tags[1].FirstSeenAt.Equal(at(4)) {
		t.Errorf("id tags after registering a seen one: %+v", tags)
	}

	// Changes replace what they name.
	erik.Blocked, erik.GroupIDs, erik.Language = true, []int64{residents.ID}, "it"
	must(t, as.UpdateAccessUser(ctx, a.ID, erik, at(7)))
	rule1.Mode, rule1.Grants = access.ModePrivate, nil
	must(t, as.SaveStationAccess(ctx, a.ID, rule1, at(7)))
	want.Users[0] = access.User{ID: erik.ID, Name: "Erik", Email: "erik@example.ch", Language: "it", Blocked: true, GroupIDs: []int64{residents.ID}}
	want.Stations[0] = rule1
	equal(t, "after changes", records(a.ID), want)

	// Another account's ids are not found, and change nothing.
	bob, err := as.CreateAccessUser(ctx, b.ID, access.User{Name: "Bob"}, at(8))
	must(t, err)
	guests, err := as.CreateAccessGroup(ctx, b.ID, access.Group{Name: "Guests"}, []int64{bob.ID}, at(8))
	must(t, err)
	for what, err := range map[string]error{
		"update another account's user":         as.UpdateAccessUser(ctx, a.ID, access.User{ID: bob.ID, Name: "Bob"}, at(9)),
		"delete another account's user":         as.DeleteAccessUser(ctx, a.ID, bob.ID),
		"update another account's group":        as.UpdateAccessGroup(ctx, a.ID, access.Group{ID: guests.ID, Name: "G"}, nil, at(9)),
		"delete another account's group":        as.DeleteAccessGroup(ctx, a.ID, guests.ID),
		"join another account's group":          as.UpdateAccessUser(ctx, a.ID, access.User{ID: olivia.ID, Name: "Olivia", GroupIDs: []int64{guests.ID}}, at(9)),
		"add another account's user":            as.UpdateAccessGroup(ctx, a.ID, access.Group{ID: residents.ID, Name: "Residents"}, []int64{bob.ID}, at(9)),
		"tag of another account's user":         as.SaveAccessTag(ctx, station.IdTag{AccountID: a.ID, IdTag: "X"}, bob.ID),
		"rule of another account's station":     as.SaveStationAccess(ctx, a.ID, access.StationRule{StationID: foreign.ID, Mode: access.ModePublic}, at(9)),
		"owner of another account":              as.SaveStationAccess(ctx, a.ID, access.StationRule{StationID: cp1.ID, Mode: access.ModePrivate, OwnerUserID: bob.ID}, at(9)),
		"grant to another account's group":      as.SaveStationAccess(ctx, a.ID, access.StationRule{StationID: cp1.ID, Mode: access.ModeMembers, Grants: []access.Grant{{GroupID: guests.ID}}}, at(9)),
		"grant to another account's user":       as.SaveStationAccess(ctx, a.ID, access.StationRule{StationID: cp1.ID, Mode: access.ModeMembers, Grants: []access.Grant{{UserID: bob.ID}}}, at(9)),
		"delete another account's station rule": as.DeleteStationAccess(ctx, a.ID, foreign.ID),
	} {
		wantErr(t, err, station.ErrNotFound, what)
	}
	_, err = as.CreateAccessUser(ctx, b.ID+a.ID+1000, access.User{Name: "Nobody"}, at(9))
	wantErr(t, err, station.ErrNotFound, "user of an unknown account")
	equal(t, "after refused changes", records(a.ID), want)

	// Deleting a group removes its members and grants; deleting a user unlinks their tags.
	must(t, as.DeleteAccessGroup(ctx, a.ID, employees.ID))
	want.Groups = []access.Group{residents}
	want.Stations[1].Grants = nil
	equal(t, "after deleting a group", records(a.ID), want)
	rule2.Grants = []access.Grant{{UserID: erik.ID, Windows: office}}
	must(t, as.SaveStationAccess(ctx, a.ID, rule2, at(10)))
	must(t, as.DeleteAccessUser(ctx, a.ID, erik.ID))
	want.Users = want.Users[1:]
	want.Tags[1].UserID = 0
	equal(t, "after deleting a user", records(a.ID), want)
	must(t, as.DeleteStationAccess(ctx, a.ID, cp2.ID))
	must(t, as.DeleteStationAccess(ctx, a.ID, cp2.ID))
	want.Stations = want.Stations[:1]
	equal(t, "after deleting a station's rule", records(a.ID), want)

	// The open transactions of stations that stop sessions at the end of their window.
	open1 := mustStart(t, s, start(a.ID, cp1.ID, 1, "ERIK1", 0, 20))
	closed := mustStart(t, s, start(a.ID, cp1.ID, 2, "ERIK1", 0, 21))
	mustStop(t, s, stop(a.ID, cp1.ID, closed.ID, 10, 22))
	mustStart(t, s, start(a.ID, cp2.ID, 1, "ERIK1", 0, 23))
	mustStart(t, s, start(b.ID, foreign.ID, 1, "B", 0, 23))
	rule1.WindowEndPolicy = access.StopRemotely
	must(t, as.SaveStationAccess(ctx, a.ID, rule1, at(24)))
	txs, err := as.OpenTransactionsStoppedAtWindowEnd(ctx)
	must(t, err)
	equal(t, "open transactions stopped at window end", ids(txs), []int64{open1.ID})
	if len(txs) == 1 && (txs[0].ChargePointID != "CP1" || txs[0].AccountID != a.ID) {
		t.Errorf("open transaction %+v", txs[0])
	}
}

func sortedIDs(a, b int64) []int64 {
	if a > b {
		a, b = b, a
	}
	return []int64{a, b}
}
