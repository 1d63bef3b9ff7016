package access

import (
	"slices"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/station"
)

func TestLocalList(t *testing.T) {
	r := newFixture(t).rules(t)
	const (
		A = station.AuthAccepted
		B = station.AuthBlocked
		E = station.AuthExpired
	)
	six := local(t, "2026-06-08 18:00")
	ten := local(t, "2026-06-08 22:00")
	never := time.Time{}
	newYear := local(t, "2026-01-01 00:00")
	tests := []struct {
		name    string
		station int64
		at      time.Time
		want    []Entry
	}{
		{"members station in office hours", stMembers, local(t, "2026-06-08 10:00"), []Entry{
			{"BLOCKED1", B, never, ""},
			{"BOB-KID", B, never, "BOB1"},
			{"BOB1", B, never, ""},
			{"CHILD-OF-BAD", B, never, "BADPARENT"},
			{"CHILD-OF-OLD", E, newYear, "OLDPARENT"},
			{"ERIK1", A, six, ""},
			{"EXP-SOON", A, six, ""},
			{"EXPIRED1", E, newYear, ""},
			{"EXTERNAL-KID", A, never, "NOT-REGISTERED"},
			{"FLEET", A, six, ""},
			{"FLEET-A", A, six, "FLEET"},
			{"GRANDCHILD", E, newYear, "child-of-old"},
			{"MIA1", A, ten, ""},
			{"NORA1", A, never, ""},
			{"OWNER-KID", A, never, "OWNER1"},
			{"OWNER1", A, never, ""},
			{"RITA1", A, ten, ""},
		}},
		{"members station at night: Friday's guests", stMembers, local(t, "2026-06-12 23:00"), []Entry{
			{"EXTERNAL-KID", A, never, "NOT-REGISTERED"},
			{"GINA1", A, local(t, "2026-06-13 06:00"), ""},
			{"NORA1", A, never, ""},
			{"OWNER-KID", A, never, "OWNER1"},
			{"OWNER1", A, never, ""},
		}},
		{"private station", stPrivate, local(t, "2026-06-08 10:00"), []Entry{
			{"OWNER-KID", A, never, "OWNER1"},
			{"OWNER1", A, never, ""},
		}},
		{"free-vending station without members", stFree, local(t, "2026-06-08 10:00"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LocalList(r, tt.station, tt.at)
			if !slices.EqualFunc(got, tt.want, sameEntry) {
				t.Errorf("LocalList =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}

	// Every registered tag is on a public station's list, blocked ones as blocked.
	pub := LocalList(r, stPublic, local(t, "2026-06-08 10:00"))
	if len(pub) != len(newFixture(t).tags) {
		t.Errorf("public list has %d entries; want every tag, %d", len(pub), len(newFixture(t).tags))
	}
	for _, e := range pub {
		if d := Decide(r, Query{StationID: stPublic, IdTag: e.IdTag, At: local(t, "2026-06-08 10:00")}); d.Status != e.Status || !d.CacheUntil.Equal(e.ExpiryDate) {
			t.Errorf("entry %+v disagrees with Decide: %s until %v", e, d.Status, d.CacheUntil)
		}
	}
}

func TestLocalListDiffWhenOfficeHoursEnd(t *testing.T) {
	r := newFixture(t).rules(t)
	day := LocalList(r, stMembers, local(t, "2026-06-08 10:00"))
	evening := LocalList(r, stMembers, local(t, "2026-06-08 20:00"))
	upserts, removals := DiffLocalList(day, evening)
	if len(upserts) != 0 {
		t.Errorf("upserts = %v; want none", upserts)
	}
	want := []string{"BLOCKED1", "ERIK1", "EXP-SOON", "EXPIRED1", "FLEET", "FLEET-A"}
	if !slices.Equal(removals, want) {
		t.Errorf("removals = %v; want %v", removals, want)
	}
	upserts, removals = DiffLocalList(evening, day)
	if len(upserts) != len(want) || len(removals) != 0 {
		t.Errorf("back to office hours: upserts %v, removals %v", upserts, removals)
	}
}

func TestDiffLocalList(t *testing.T) {
	a := local(t, "2026-06-08 18:00")
	b := local(t, "2026-06-09 18:00")
	old := []Entry{
		{"SAME", station.AuthAccepted, a, ""},
		{"LONGER", station.AuthAccepted, a, ""},
		{"NOW-BLOCKED", station.AuthAccepted, time.Time{}, ""},
		{"GONE", station.AuthAccepted, a, ""},
		{"case", station.AuthAccepted, a, ""},
		{"NEW-PARENT", station.AuthAccepted, a, ""},
		{"ALSO-GONE", station.AuthBlocked, time.Time{}, ""},
	}
	next := []Entry{
		{"NEW", station.AuthAccepted, b, ""},
		{"SAME", station.AuthAccepted, a.UTC(), ""}, // the same instant in another zone
		{"LONGER", station.AuthAccepted, b, ""},
		{"NOW-BLOCKED", station.AuthBlocked, time.Time{}, ""},
		{"CASE", station.AuthAccepted, a, ""},
		{"NEW-PARENT", station.AuthAccepted, a, "P"},
	}
	upserts, removals := DiffLocalList(old, next)
	var ids []string
	for _, e := range upserts {
		ids = append(ids, e.IdTag)
	}
	if want := []string{"NEW", "LONGER", "NOW-BLOCKED", "CASE", "NEW-PARENT"}; !slices.Equal(ids, want) {
		t.Errorf("upserts = %v; want %v", ids, want)
	}
	if want := []string{"GONE", "ALSO-GONE"}; !slices.Equal(removals, want) {
		t.Errorf("removals = %v; want %v", removals, want)
	}
	if u, r := DiffLocalList(next, next); len(u) != 0 || len(r) != 0 {
		t.Errorf("no change gave %v, %v", u, r)
	}
	if u, r := DiffLocalList(nil, nil); u != nil || r != nil {
		t.Errorf("empty lists gave %v, %v", u, r)
	}
}
