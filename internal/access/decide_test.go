package access

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/station"
)

// The fixture account. Dates: 2026-06-08 is a Monday, 2026-06-12 a Friday, 2026-12-25 a
// Friday; Zurich changes to summer time on 2026-03-29 and back on 2026-10-25.
const (
	residents = 1
	employees = 2
	guests    = 3

	olivia = 1 // owns the stations
	erik   = 2 // employee
	rita   = 3 // resident
	bob    = 4 // blocked
	gina   = 5 // guest
	nora   = 6 // granted by name
	mia    = 7 // employee and resident

	stPublic      = 1 // public, always
	stEvenings    = 2 // public evenings and weekends, employees during office hours
	stMembers     = 3 // members: residents, employees, guests at night, Nora
	stPrivate     = 4 // Olivia's
	stFree        = 5 // free vending on weekdays
	stAlwaysOpen  = 6 // public every day, whole days: access that never ends
	stNoRuleAtAll = 99
)

type fixture struct {
	users    []User
	tags     []Tag
	groups   []Group
	stations []StationRule
}

func newFixture(t testing.TB) fixture {
	return fixture{
		groups: []Group{{residents, "Residents"}, {employees, "Employees"}, {guests, "Guests"}},
		users: []User{
			{ID: olivia, Name: "Olivia", Email: "olivia@example.ch", Language: "de"},
			{ID: erik, Name: "Erik", GroupIDs: []int64{employees}},
			{ID: rita, Name: "Rita", GroupIDs: []int64{residents}},
			{ID: bob, Name: "Bob", GroupIDs: []int64{residents}, Blocked: true},
			{ID: gina, Name: "Gina", GroupIDs: []int64{guests}},
			{ID: nora, Name: "Nora"},
			{ID: mia, Name: "Mia", GroupIDs: []int64{employees, residents}},
		},
		tags: []Tag{
			{IdTag: "OWNER1", UserID: olivia},
			{IdTag: "OWNER-KID", ParentIdTag: "OWNER1"}, // stands alone: acts for Olivia
			{IdTag: "ERIK1", UserID: erik},
			{IdTag: "EXPIRED1", UserID: erik, ExpiresAt: local(t, "2026-01-01 00:00")},
			{IdTag: "EXP-SOON", UserID: erik, ExpiresAt: local(t, "2026-06-10 12:00")},
			{IdTag: "BLOCKED1", UserID: erik, Blocked: true},
			{IdTag: "FLEET", UserID: erik},
			{IdTag: "FLEET-A", ParentIdTag: "FLEET"},
			{IdTag: "RITA1", UserID: rita},
			{IdTag: "BOB1", UserID: bob},
			{IdTag: "GINA1", UserID: gina},
			{IdTag: "NORA1", UserID: nora},
			{IdTag: "MIA1", UserID: mia},
			{IdTag: "BADPARENT", Blocked: true},
			{IdTag: "CHILD-OF-BAD", UserID: rita, ParentIdTag: "BADPARENT"},
			{IdTag: "OLDPARENT", ExpiresAt: local(t, "2026-01-01 00:00")},
			{IdTag: "CHILD-OF-OLD", UserID: rita, ParentIdTag: "OLDPARENT"},
			{IdTag: "LONER"},
			{IdTag: "BOB-KID", ParentIdTag: "BOB1"},
			{IdTag: "GRANDCHILD", ParentIdTag: "child-of-old"},
			{IdTag: "EXTERNAL-KID", UserID: nora, ParentIdTag: "NOT-REGISTERED"},
		},
		stations: []StationRule{
			{StationID: stPublic, Mode: ModePublic},
			{
				StationID: stEvenings, Mode: ModePublic, OwnerUserID: olivia,
				StationWindows: []Window{
					{Days: MonFri, Start: "18:00", End: "24:00"},
					{Days: Weekend, Start: "00:00", End: "24:00"},
					{Start: "00:00", End: "18:00", ExtraDates: []string{"2026-12-25"}},
				},
				Grants: []Grant{{GroupID: employees, Windows: []Window{
					{Days: MonFri, Start: "07:00", End: "18:00", ExceptDates: []string{"2026-12-25"}},
				}}},
			},
			{
				StationID: stMembers, Mode: ModeMembers, OwnerUserID: olivia, WindowEndPolicy: StopRemotely,
				Grants: []Grant{
					{UserID: nora},
					{GroupID: residents, Windows: []Window{{Days: EveryDay, Start: "06:00", End: "22:00"}}},
					{GroupID: employees, Windows: []Window{
						{Days: MonFri, Start: "07:00", End: "18:00", ExceptDates: []string{"2026-12-25"}},
					}},
					{GroupID: guests, Windows: []Window{{Days: Fri | Sat, Start: "22:00", End: "06:00"}}},
				},
			},
			{StationID: stPrivate, Mode: ModePrivate, OwnerUserID: olivia},
			{
				StationID: stFree, Mode: ModeMembers, FreeVending: true,
				StationWindows: []Window{{Days: MonFri, Start: "08:00", End: "20:00"}},
			},
			{
				StationID: stAlwaysOpen, Mode: ModePublic,
				StationWindows: []Window{{Days: EveryDay, Start: "00:00", End: "24:00"}},
			},
		},
	}
}

func (f fixture) rules(t testing.TB) *Rules {
	t.Helper()
	r, err := NewRules(f.users, f.tags, f.groups, f.stations, zurich(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDecide(t *testing.T) {
	r := newFixture(t).rules(t)
	const (
		A  = station.AuthAccepted
		B  = station.AuthBlocked
		E  = station.AuthExpired
		I  = station.AuthInvalid
		CT = station.AuthConcurrentTx
	)
	mon10 := local(t, "2026-06-08 10:00")
	tests := []struct {
		name      string
		q         Query
		status    station.AuthStatus
		reason    string    // a part of it
		cache     time.Time // CacheUntil
		unknown   bool
		user      int64
		parent    string
		windowEnd time.Time
	}{
		// Public, no windows.
		{name: "public: registered tag", q: Query{StationID: stPublic, IdTag: "ERIK1", At: mon10}, status: A, reason: "public", user: erik},
		{name: "public: unknown tag is an unknown driver", q: Query{StationID: stPublic, IdTag: "NEVERSEEN", At: mon10}, status: A, reason: "unknown driver: public", unknown: true},
		{name: "public: idTags ignore case", q: Query{StationID: stPublic, IdTag: "erik1", At: mon10}, status: A, user: erik},
		{name: "public: tag standing alone", q: Query{StationID: stPublic, IdTag: "LONER", At: mon10}, status: A},
		{name: "blocked tag", q: Query{StationID: stPublic, IdTag: "BLOCKED1", At: mon10}, status: B, reason: "tag BLOCKED1 is blocked", user: erik},
		{name: "tag of a blocked user", q: Query{StationID: stPublic, IdTag: "BOB1", At: mon10}, status: B, reason: "user Bob (4) is blocked", user: bob},
		{name: "expired tag", q: Query{StationID: stPublic, IdTag: "EXPIRED1", At: mon10}, status: E, reason: "tag EXPIRED1 expired 2026-01-01 00:00:00", cache: local(t, "2026-01-01 00:00"), user: erik},
		{name: "expiring tag caches until its expiry", q: Query{StationID: stPublic, IdTag: "EXP-SOON", At: mon10}, status: A, cache: local(t, "2026-06-10 12:00"), user: erik},
		{name: "expiring tag a moment before", q: Query{StationID: stPublic, IdTag: "EXP-SOON", At: local(t, "2026-06-10 12:00").Add(-time.Nanosecond)}, status: A, cache: local(t, "2026-06-10 12:00"), user: erik},
		{name: "expiring tag at its expiry", q: Query{StationID: stPublic, IdTag: "EXP-SOON", At: local(t, "2026-06-10 12:00")}, status: E, cache: local(t, "2026-06-10 12:00"), user: erik},
		{name: "child of a blocked parent", q: Query{StationID: stPublic, IdTag: "CHILD-OF-BAD", At: mon10}, status: B, reason: "parent tag BADPARENT is blocked", user: rita, parent: "BADPARENT"},
		{name: "child of an expired parent", q: Query{StationID: stPublic, IdTag: "CHILD-OF-OLD", At: mon10}, status: E, reason: "parent tag OLDPARENT expired", cache: local(t, "2026-01-01 00:00"), user: rita, parent: "OLDPARENT"},
		{name: "child of a blocked user's tag", q: Query{StationID: stPublic, IdTag: "BOB-KID", At: mon10}, status: B, reason: "user Bob (4) of parent tag BOB1 is blocked", user: bob, parent: "BOB1"},
		{name: "grandchild of an expired tag", q: Query{StationID: stPublic, IdTag: "GRANDCHILD", At: mon10}, status: E, reason: "parent tag OLDPARENT expired 2026-01-01", cache: local(t, "2026-01-01 00:00"), user: rita, parent: "child-of-old"},
		{name: "parent that is not a registered tag", q: Query{StationID: stPublic, IdTag: "EXTERNAL-KID", At: mon10}, status: A, user: nora, parent: "NOT-REGISTERED"},
		{name: "starting with an open transaction", q: Query{StationID: stPublic, IdTag: "ERIK1", At: mon10, Starting: true, OpenTransactions: 1}, status: CT, reason: "1 open transaction", user: erik},
		{name: "authorize with an open transaction (to stop it)", q: Query{StationID: stPublic, IdTag: "ERIK1", At: mon10, OpenTransactions: 1}, status: A, user: erik},
		{name: "starting without open transactions", q: Query{StationID: stPublic, IdTag: "ERIK1", At: mon10, Starting: true}, status: A, user: erik},
		{name: "unknown driver twice at once", q: Query{StationID: stPublic, IdTag: "NEVERSEEN", At: mon10, Starting: true, OpenTransactions: 2}, status: CT, unknown: true},
		{name: "blocked beats concurrent", q: Query{StationID: stPublic, IdTag: "BLOCKED1", At: mon10, Starting: true, OpenTransactions: 1}, status: B, user: erik},
		{name: "free tag at a station without free vending", q: Query{StationID: stPublic, IdTag: FreeIdTag, At: mon10}, status: I, reason: "not set up for free vending"},
		{name: "no idTag", q: Query{StationID: stPublic, At: mon10}, status: I, reason: "no idTag"},
		{name: "station without a rule is public", q: Query{StationID: stNoRuleAtAll, IdTag: "SOMEONE", At: mon10}, status: A, reason: "station has no rule", unknown: true},

		// Public in the evening and at weekends, employees in office hours.
		{name: "evenings: unknown driver in the evening", q: Query{StationID: stEvenings, IdTag: "NEVERSEEN", At: local(t, "2026-06-08 20:00")}, status: A, unknown: true, cache: local(t, "2026-06-09 00:00"), windowEnd: local(t, "2026-06-09 00:00")},
		{name: "evenings: unknown driver in office hours", q: Query{StationID: stEvenings, IdTag: "NEVERSEEN", At: mon10}, status: I, reason: "outside the windows of public Mon-Fri 18:00-24:00, Sat,Sun 00:00-24:00, 00:00-18:00 on 2026-12-25", unknown: true},
		{name: "evenings: employee in office hours, continued by the public evening", q: Query{StationID: stEvenings, IdTag: "ERIK1", At: mon10}, status: A, reason: "group Employees Mon-Fri 07:00-18:00", cache: local(t, "2026-06-09 00:00"), user: erik, windowEnd: local(t, "2026-06-09 00:00")},
		{name: "evenings: employee a minute early", q: Query{StationID: stEvenings, IdTag: "ERIK1", At: local(t, "2026-06-08 06:59")}, status: I, reason: "group Employees Mon-Fri 07:00-18:00", user: erik},
		{name: "evenings: resident (no grant) in office hours", q: Query{StationID: stEvenings, IdTag: "RITA1", At: mon10}, status: I, user: rita},
		{name: "evenings: resident on Friday evening, through the weekend", q: Query{StationID: stEvenings, IdTag: "RITA1", At: local(t, "2026-06-12 20:00")}, status: A, reason: "public Mon-Fri 18:00-24:00", cache: local(t, "2026-06-15 00:00"), user: rita, windowEnd: local(t, "2026-06-15 00:00")},
		{name: "evenings: Christmas is public all day", q: Query{StationID: stEvenings, IdTag: "RITA1", At: local(t, "2026-12-25 10:00")}, status: A, reason: "public 00:00-18:00 on 2026-12-25", cache: local(t, "2026-12-28 00:00"), user: rita, windowEnd: local(t, "2026-12-28 00:00")},
		{name: "evenings: owner at night", q: Query{StationID: stEvenings, IdTag: "OWNER1", At: local(t, "2026-06-08 03:00")}, status: A, reason: "owner Olivia (1)", user: olivia},
		{name: "evenings: the owner's child tag acts for her", q: Query{StationID: stEvenings, IdTag: "OWNER-KID", At: local(t, "2026-06-08 03:00")}, status: A, reason: "owner", user: olivia, parent: "OWNER1"},
		{name: "evenings: free tag", q: Query{StationID: stEvenings, IdTag: FreeIdTag, At: mon10}, status: I},

		// Members.
		{name: "members: unknown tag", q: Query{StationID: stMembers, IdTag: "NEVERSEEN", At: mon10}, status: I, reason: "unknown tag; the station admits only members", unknown: true},
		{name: "members: tag of no user", q: Query{StationID: stMembers, IdTag: "LONER", At: mon10}, status: I, reason: "belongs to no user"},
		{name: "members: user without grant", q: Query{StationID: stMembers, IdTag: "BOB1", At: mon10}, status: B, user: bob},
		{name: "members: user granted by name, always", q: Query{StationID: stMembers, IdTag: "NORA1", At: local(t, "2026-06-08 03:00")}, status: A, reason: "user Nora (6)", user: nora},
		{name: "members: owner", q: Query{StationID: stMembers, IdTag: "OWNER1", At: local(t, "2026-06-08 03:00")}, status: A, reason: "owner", user: olivia},
		{name: "members: employee at the start of the window", q: Query{StationID: stMembers, IdTag: "ERIK1", At: local(t, "2026-06-08 07:00")}, status: A, cache: local(t, "2026-06-08 18:00"), user: erik, windowEnd: local(t, "2026-06-08 18:00")},
		{name: "members: employee at the end of the window", q: Query{StationID: stMembers, IdTag: "ERIK1", At: local(t, "2026-06-08 18:00")}, status: I, reason: "outside the windows of group Employees Mon-Fri 07:00-18:00", user: erik},
		{name: "members: employee on a holiday", q: Query{StationID: stMembers, IdTag: "ERIK1", At: local(t, "2026-12-25 10:00")}, status: I, reason: "Mon-Fri 07:00-18:00 (not on 2026-12-25)", user: erik},
		{name: "members: employee the day before", q: Query{StationID: stMembers, IdTag: "ERIK1", At: local(t, "2026-12-24 10:00")}, status: A, cache: local(t, "2026-12-24 18:00"), user: erik, windowEnd: local(t, "2026-12-24 18:00")},
		{name: "members: employee's tag expires before the window ends", q: Query{StationID: stMembers, IdTag: "EXP-SOON", At: local(t, "2026-06-10 11:00")}, status: A, cache: local(t, "2026-06-10 12:00"), user: erik, windowEnd: local(t, "2026-06-10 18:00")},
		{name: "members: employee and resident, the later window wins", q: Query{StationID: stMembers, IdTag: "MIA1", At: mon10}, status: A, reason: "group Employees", cache: local(t, "2026-06-08 22:00"), user: mia, windowEnd: local(t, "2026-06-08 22:00")},
		{name: "members: employee and resident in the evening", q: Query{StationID: stMembers, IdTag: "MIA1", At: local(t, "2026-06-08 20:00")}, status: A, reason: "group Residents Mon-Sun 06:00-22:00", cache: local(t, "2026-06-08 22:00"), user: mia, windowEnd: local(t, "2026-06-08 22:00")},
		{name: "members: outside both windows", q: Query{StationID: stMembers, IdTag: "MIA1", At: local(t, "2026-06-08 23:00")}, status: I, reason: "group Employees Mon-Fri 07:00-18:00; group Residents Mon-Sun 06:00-22:00", user: mia},
		{name: "members: standing-alone child of an employee's tag", q: Query{StationID: stMembers, IdTag: "FLEET-A", At: mon10}, status: A, cache: local(t, "2026-06-08 18:00"), user: erik, parent: "FLEET", windowEnd: local(t, "2026-06-08 18:00")},
		{name: "members: guest on Friday night", q: Query{StationID: stMembers, IdTag: "GINA1", At: local(t, "2026-06-12 23:00")}, status: A, cache: local(t, "2026-06-13 06:00"), user: gina, windowEnd: local(t, "2026-06-13 06:00")},
		{name: "members: guest Saturday before 06:00", q: Query{StationID: stMembers, IdTag: "GINA1", At: local(t, "2026-06-13 05:59:59")}, status: A, cache: local(t, "2026-06-13 06:00"), user: gina, windowEnd: local(t, "2026-06-13 06:00")},
		{name: "members: guest Saturday at 06:00", q: Query{StationID: stMembers, IdTag: "GINA1", At: local(t, "2026-06-13 06:00")}, status: I, user: gina},
		{name: "members: guest on Thursday night", q: Query{StationID: stMembers, IdTag: "GINA1", At: local(t, "2026-06-11 23:00")}, status: I, user: gina},
		{name: "members: guest in the short night of spring", q: Query{StationID: stMembers, IdTag: "GINA1", At: utc(t, "2026-03-29 01:30")}, status: A, cache: utc(t, "2026-03-29 04:00"), user: gina, windowEnd: utc(t, "2026-03-29 04:00")},
		{name: "members: guest in the long night of autumn, second 02:30", q: Query{StationID: stMembers, IdTag: "GINA1", At: utc(t, "2026-10-25 01:30")}, status: A, cache: utc(t, "2026-10-25 05:00"), user: gina, windowEnd: utc(t, "2026-10-25 05:00")},
		{name: "members: resident a second before the spring morning", q: Query{StationID: stMembers, IdTag: "RITA1", At: local(t, "2026-03-29 05:59:59")}, status: I, user: rita},
		{name: "members: resident on the spring morning", q: Query{StationID: stMembers, IdTag: "RITA1", At: local(t, "2026-03-29 06:00")}, status: A, cache: local(t, "2026-03-29 22:00"), user: rita, windowEnd: local(t, "2026-03-29 22:00")},
		{name: "members: concurrent", q: Query{StationID: stMembers, IdTag: "RITA1", At: mon10, Starting: true, OpenTransactions: 1}, status: CT, user: rita},
		{name: "members: concurrent outside the window is Invalid", q: Query{StationID: stMembers, IdTag: "RITA1", At: local(t, "2026-06-08 23:00"), Starting: true, OpenTransactions: 1}, status: I, user: rita},

		// Private.
		{name: "private: owner", q: Query{StationID: stPrivate, IdTag: "OWNER1", At: mon10}, status: A, reason: "owner Olivia (1)", user: olivia},
		{name: "private: owner's child tag", q: Query{StationID: stPrivate, IdTag: "owner-kid", At: mon10}, status: A, user: olivia, parent: "OWNER1"},
		{name: "private: someone else", q: Query{StationID: stPrivate, IdTag: "NORA1", At: mon10}, status: I, reason: "private station", user: nora},
		{name: "private: unknown tag", q: Query{StationID: stPrivate, IdTag: "NEVERSEEN", At: mon10}, status: I, unknown: true},

		// Free vending.
		{name: "free: in its window", q: Query{StationID: stFree, IdTag: FreeIdTag, At: mon10}, status: A, reason: "free vending Mon-Fri 08:00-20:00", cache: local(t, "2026-06-08 20:00"), windowEnd: local(t, "2026-06-08 20:00")},
		{name: "free: any case, and never concurrent", q: Query{StationID: stFree, IdTag: "FREE", At: mon10, Starting: true, OpenTransactions: 3}, status: A, cache: local(t, "2026-06-08 20:00"), windowEnd: local(t, "2026-06-08 20:00")},
		{name: "free: outside its window", q: Query{StationID: stFree, IdTag: FreeIdTag, At: local(t, "2026-06-13 10:00")}, status: I, reason: "outside the windows of free vending"},
		{name: "free: a member-less tag at a free station", q: Query{StationID: stFree, IdTag: "ERIK1", At: mon10}, status: I, reason: "not granted", user: erik},

		// Access that never ends within a week is bounded by the horizon.
		{name: "always open: cached for a week", q: Query{StationID: stAlwaysOpen, IdTag: "RITA1", At: mon10}, status: A, cache: local(t, "2026-06-16 00:00"), user: rita, windowEnd: local(t, "2026-06-16 00:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(r, tt.q)
			if d.Status != tt.status {
				t.Errorf("Status = %s; want %s (reason %q)", d.Status, tt.status, d.Reason)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("Reason = %q; want it to contain %q", d.Reason, tt.reason)
			}
			if !d.CacheUntil.Equal(tt.cache) {
				t.Errorf("CacheUntil = %v; want %v", d.CacheUntil.In(r.Location()), tt.cache.In(r.Location()))
			}
			if !d.WindowEnd.Equal(tt.windowEnd) {
				t.Errorf("WindowEnd = %v; want %v", d.WindowEnd.In(r.Location()), tt.windowEnd.In(r.Location()))
			}
			if d.Unknown != tt.unknown || d.UserID != tt.user || d.ParentIdTag != tt.parent {
				t.Errorf("Unknown, UserID, ParentIdTag = %v, %d, %q; want %v, %d, %q", d.Unknown, d.UserID, d.ParentIdTag, tt.unknown, tt.user, tt.parent)
			}
		})
	}
}

// The decision plugs into station.Authorizer as it is.
func TestDecisionIsAStationDecision(t *testing.T) {
	r := newFixture(t).rules(t)
	d := Decide(r, Query{StationID: stMembers, IdTag: "ERIK1", At: local(t, "2026-06-08 10:00")})
	want := station.Decision{Status: station.AuthAccepted, CacheUntil: local(t, "2026-06-08 18:00")}
	if got := d.Decision; got.Status != want.Status || !got.CacheUntil.Equal(want.CacheUntil) || got.ParentIdTag != "" {
		t.Errorf("station decision = %+v; want %+v", got, want)
	}
}

func TestWindowEnd(t *testing.T) {
	r := newFixture(t).rules(t)
	tests := []struct {
		name    string
		station int64
		idTag   string
		start   time.Time
		end     time.Time
		policy  WindowEndPolicy
		ok      bool
	}{
		{"stopped remotely at the end of office hours", stMembers, "ERIK1", local(t, "2026-06-08 10:00"), local(t, "2026-06-08 18:00"), StopRemotely, true},
		{"granted without windows: no end", stMembers, "NORA1", local(t, "2026-06-08 10:00"), time.Time{}, StopRemotely, false},
		{"not admitted at the start", stMembers, "ERIK1", local(t, "2026-06-08 20:00"), time.Time{}, StopRemotely, false},
		{"the public evening continues office hours; allowed to finish by default", stEvenings, "ERIK1", local(t, "2026-06-08 10:00"), local(t, "2026-06-09 00:00"), AllowFinish, true},
		{"the guest's night over the autumn change", stMembers, "GINA1", local(t, "2026-10-24 23:00"), utc(t, "2026-10-25 05:00"), StopRemotely, true},
		{"station without a rule", stNoRuleAtAll, "ERIK1", local(t, "2026-06-08 10:00"), time.Time{}, AllowFinish, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end, policy, ok := WindowEnd(r, tt.station, tt.idTag, tt.start)
			if !end.Equal(tt.end) || policy != tt.policy || ok != tt.ok {
				t.Errorf("WindowEnd = %v, %s, %v; want %v, %s, %v", end.In(r.Location()), policy, ok, tt.end.In(r.Location()), tt.policy, tt.ok)
			}
		})
	}
}

// The rules are built from copies: changing the caller's slices afterwards changes nothing.
func TestRulesDoNotShareTheCallersSlices(t *testing.T) {
	f := newFixture(t)
	r := f.rules(t)
	f.stations[2].Grants[2].Windows[0].Start = "00:00"
	f.users[1].GroupIDs[0] = residents
	d := Decide(r, Query{StationID: stMembers, IdTag: "ERIK1", At: local(t, "2026-06-08 06:00")})
	if d.Status != station.AuthInvalid {
		t.Errorf("Status = %s after the caller changed its slices", d.Status)
	}
}

// Rules are read-only: many connections decide at once (run with -race).
func TestDecideConcurrently(t *testing.T) {
	r := newFixture(t).rules(t)
	at := local(t, "2026-06-08 10:00")
	var wg sync.WaitGroup
	for _, id := range []string{"ERIK1", "RITA1", "NORA1", "NEVERSEEN"} {
		wg.Go(func() {
			for range 100 {
				if d := Decide(r, Query{StationID: stMembers, IdTag: id, At: at}); d.Status != station.AuthAccepted && id != "NEVERSEEN" {
					t.Errorf("%s: %s", id, d.Status)
					return
				}
				LocalList(r, stMembers, at)
			}
		})
	}
	wg.Wait()
}
