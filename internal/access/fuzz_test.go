package access

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/station"
)

// The fuzz target builds random rules around the days Zurich changes its clocks and checks
// Decide against a slow, independent reading of the rules: the naive functions below walk
// the clock minute by minute instead of computing offsets.

var (
	fuzzTimes = []string{"00:00", "01:00", "01:30", "02:00", "02:30", "03:00", "06:00", "07:00", "18:00", "22:00", "23:30", "24:00"}
	fuzzDates = []string{"2026-03-28", "2026-03-29", "2026-03-30", "2026-06-09", "2026-06-10", "2026-10-24", "2026-10-25", "2026-10-26"}
	fuzzBases = []string{"2026-03-29 01:00", "2026-10-25 01:00", "2026-06-10 12:00"} // UTC
)

func randomWindow(rng *rand.Rand) Window {
	w := Window{Days: Weekdays(rng.IntN(128))}
	w.Start = fuzzTimes[rng.IntN(len(fuzzTimes)-1)]
	for w.End == "" || w.End == w.Start {
		w.End = fuzzTimes[rng.IntN(len(fuzzTimes))]
	}
	for _, d := range fuzzDates {
		switch rng.IntN(8) {
		case 0:
			w.ExceptDates = append(w.ExceptDates, d)
		case 1:
			w.ExtraDates = append(w.ExtraDates, d)
		}
	}
	if w.Days == 0 && len(w.ExtraDates) == 0 {
		w.Days = Sun
	}
	return w
}

// randomWindows are up to three windows that do not overlap one another.
func randomWindows(rng *rand.Rand) []Window {
	var out []Window
	var compiled []window
	for range rng.IntN(4) {
		w := randomWindow(rng)
		cw, err := compileWindow(w)
		if err != nil {
			panic(err) // the generator makes only valid windows
		}
		if !slices.ContainsFunc(compiled, func(o window) bool { _, ok := overlap(&o, &cw); return ok }) {
			out, compiled = append(out, w), append(compiled, cw)
		}
	}
	return out
}

func randomFixture(rng *rand.Rand, base time.Time) fixture {
	var f fixture
	for g := range 1 + rng.IntN(3) {
		f.groups = append(f.groups, Group{ID: int64(g + 1), Name: fmt.Sprintf("G%d", g+1)})
	}
	for u := range 1 + rng.IntN(5) {
		user := User{ID: int64(u + 1), Name: fmt.Sprintf("U%d", u+1), Blocked: rng.IntN(10) == 0}
		for _, g := range f.groups {
			if rng.IntN(2) == 0 {
				user.GroupIDs = append(user.GroupIDs, g.ID)
			}
		}
		f.users = append(f.users, user)
	}
	for i := range 2 + rng.IntN(6) {
		t := Tag{IdTag: fmt.Sprintf("T%d", i), UserID: int64(rng.IntN(len(f.users) + 1)), Blocked: rng.IntN(10) == 0}
		switch rng.IntN(4) {
		case 0:
			if i > 0 {
				t.ParentIdTag = fmt.Sprintf("t%d", rng.IntN(i)) // any case
			}
		case 1:
			t.ParentIdTag = "EXTERNAL"
		}
		if rng.IntN(4) == 0 {
			t.ExpiresAt = base.Add(time.Duration(rng.IntN(6*24*60)-3*24*60) * time.Minute)
		}
		f.tags = append(f.tags, t)
	}
	modes := []Mode{ModePublic, ModeMembers, ModePrivate}
	for s := range 1 + rng.IntN(3) {
		st := StationRule{StationID: int64(s + 1), Mode: modes[rng.IntN(3)], FreeVending: rng.IntN(3) == 0}
		if st.Mode == ModePrivate || rng.IntN(2) == 0 {
			st.OwnerUserID = int64(1 + rng.IntN(len(f.users)))
		}
		if st.Mode == ModePublic || st.FreeVending {
			st.StationWindows = randomWindows(rng)
		}
		if st.Mode != ModePrivate {
			for _, g := range f.groups {
				if rng.IntN(2) == 0 {
					st.Grants = append(st.Grants, Grant{GroupID: g.ID, Windows: randomWindows(rng)})
				}
			}
			for _, u := range f.users {
				if rng.IntN(4) == 0 {
					st.Grants = append(st.Grants, Grant{UserID: u.ID, Windows: randomWindows(rng)})
				}
			}
		}
		f.stations = append(f.stations, st)
	}
	return f
}

// naiveResolve is the first instant at which the clock shows the wall time `secs` after
// midnight of the date (y, m, d), or later, found by walking the clock a minute at a time.
func naiveResolve(y int, m time.Month, d int, secs int, loc *time.Location) time.Time {
	want := time.Date(y, m, d, 0, 0, secs, 0, time.UTC)
	u := time.Date(y, m, d, 0, 0, secs, 0, loc).Add(-3 * time.Hour)
	for {
		lt := u.In(loc)
		if !time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), lt.Second(), 0, time.UTC).Before(want) {
			return u
		}
		u = u.Add(time.Minute)
	}
}

func clockSecs(s string) int {
	var h, m int
	fmt.Sscanf(s, "%d:%d", &h, &m)
	return h*3600 + m*60
}

func naiveContains(w Window, t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	for dd := -1; dd <= 1; dd++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()+dd, 0, 0, 0, 0, time.UTC)
		ds := day.Format(time.DateOnly)
		if !slices.Contains(w.ExtraDates, ds) && (slices.Contains(w.ExceptDates, ds) || !w.Days.Has(day.Weekday())) {
			continue
		}
		s, e := clockSecs(w.Start), clockSecs(w.End)
		if e <= s {
			e += 24 * 3600
		}
		if !t.Before(naiveResolve(day.Year(), day.Month(), day.Day(), s, loc)) &&
			t.Before(naiveResolve(day.Year(), day.Month(), day.Day(), e, loc)) {
			return true
		}
	}
	return false
}

// naiveOpen reports whether any of the windows is open at t; none is always open.
func naiveOpen(ws []Window, t time.Time, loc *time.Location) bool {
	if len(ws) == 0 {
		return true
	}
	for _, w := range ws {
		if naiveContains(w, t, loc) {
			return true
		}
	}
	return false
}

func (f fixture) tagNamed(id string) *Tag {
	for i := range f.tags {
		if strings.EqualFold(f.tags[i].IdTag, id) {
			return &f.tags[i]
		}
	}
	return nil
}

func (f fixture) user(id int64) *User {
	for i := range f.users {
		if f.users[i].ID == id {
			return &f.users[i]
		}
	}
	return nil
}

// naiveAdmits reports whether the station's audiences admit a tag held by userID at t.
func (f fixture) naiveAdmits(stationID int64, known bool, userID int64, t time.Time, loc *time.Location) bool {
	i := slices.IndexFunc(f.stations, func(s StationRule) bool { return s.StationID == stationID })
	if i < 0 {
		return true
	}
	s := f.stations[i]
	if userID != 0 && userID == s.OwnerUserID {
		return true
	}
	switch {
	case s.Mode == ModePrivate:
		return false
	case s.Mode == ModePublic && naiveOpen(s.StationWindows, t, loc):
		return true
	case !known || userID == 0:
		return false
	}
	u := f.user(userID)
	for _, g := range s.Grants {
		if (g.UserID == userID || (g.GroupID != 0 && slices.Contains(u.GroupIDs, g.GroupID))) && naiveOpen(g.Windows, t, loc) {
			return true
		}
	}
	return false
}

// naiveDecide is the status Decide should give, from the rules as written.
func (f fixture) naiveDecide(q Query, loc *time.Location) (status station.AuthStatus, userID int64) {
	if strings.EqualFold(q.IdTag, FreeIdTag) {
		i := slices.IndexFunc(f.stations, func(s StationRule) bool { return s.StationID == q.StationID })
		if i >= 0 && f.stations[i].FreeVending && naiveOpen(f.stations[i].StationWindows, q.At, loc) {
			return station.AuthAccepted, 0
		}
		return station.AuthInvalid, 0
	}
	t := f.tagNamed(q.IdTag)
	var blocked bool
	var expires time.Time
	for c := t; c != nil; c = f.tagNamed(c.ParentIdTag) {
		if userID == 0 {
			userID = c.UserID
		}
		blocked = blocked || c.Blocked || (c.UserID != 0 && f.user(c.UserID).Blocked)
		if !c.ExpiresAt.IsZero() && (expires.IsZero() || c.ExpiresAt.Before(expires)) {
			expires = c.ExpiresAt
		}
	}
	switch {
	case blocked:
		return station.AuthBlocked, userID
	case !expires.IsZero() && !q.At.Before(expires):
		return station.AuthExpired, userID
	case !f.naiveAdmits(q.StationID, t != nil, userID, q.At, loc):
		return station.AuthInvalid, userID
	case q.Starting && q.OpenTransactions > 0:
		return station.AuthConcurrentTx, userID
	}
	return station.AuthAccepted, userID
}

func checkDecide(t *testing.T, seed uint64, minutes uint16, pick uint8, starting bool) {
	loc := zurich(t)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	base := utc(t, fuzzBases[seed%uint64(len(fuzzBases))])
	f := randomFixture(rng, base)
	r, err := NewRules(f.users, f.tags, f.groups, f.stations, loc)
	if err != nil {
		t.Fatalf("generated rules are invalid: %v", err)
	}
	ids := []string{FreeIdTag, "NEVERSEEN"}
	for _, tg := range f.tags {
		ids = append(ids, strings.ToLower(tg.IdTag))
	}
	q := Query{
		StationID:        int64(1 + int(pick)%(len(f.stations)+1)), // the last one has no rule
		IdTag:            ids[int(pick/4)%len(ids)],
		At:               base.Add(time.Duration(int(minutes)%(6*24*60)-3*24*60)*time.Minute + time.Duration(seed%60)*time.Second),
		Starting:         starting,
		OpenTransactions: int(pick % 2),
	}
	d := Decide(r, q)
	want, userID := f.naiveDecide(q, loc)
	if d.Status != want || d.UserID != userID {
		t.Fatalf("%+v at %s: Decide = %s (%s), user %d; the rules say %s, user %d\nrules: %+v",
			q, q.At.In(loc), d.Status, d.Reason, d.UserID, want, userID, f)
	}
	if d.Status != station.AuthAccepted {
		if !d.WindowEnd.IsZero() {
			t.Fatalf("%+v: %s with a window end", q, d.Status)
		}
		return
	}
	// Accepted: every moment until CacheUntil is admitted, and the window's end is not.
	held := func(at time.Time) bool {
		if strings.EqualFold(q.IdTag, FreeIdTag) {
			s, _ := f.naiveDecide(Query{StationID: q.StationID, IdTag: q.IdTag, At: at}, loc)
			return s == station.AuthAccepted
		}
		return f.naiveAdmits(q.StationID, f.tagNamed(q.IdTag) != nil, userID, at, loc)
	}
	if !d.CacheUntil.IsZero() {
		if !d.CacheUntil.After(q.At) {
			t.Fatalf("%+v: CacheUntil %v is not after At", q, d.CacheUntil)
		}
		for _, at := range []time.Time{q.At.Add(d.CacheUntil.Sub(q.At) / 2), d.CacheUntil.Add(-time.Second)} {
			if !held(at) {
				t.Fatalf("%+v at %s: cached until %s, but not admitted at %s", q, q.At.In(loc), d.CacheUntil.In(loc), at.In(loc))
			}
		}
	}
	if !d.WindowEnd.IsZero() && d.WindowEnd.Sub(q.At) < horizon*time.Second && held(d.WindowEnd) {
		t.Fatalf("%+v at %s: window ends %s, yet admitted then", q, q.At.In(loc), d.WindowEnd.In(loc))
	}
}

func FuzzDecide(f *testing.F) {
	for i := range 24 {
		f.Add(uint64(i), uint16(i*397), uint8(i*37), i%3 == 0)
	}
	f.Fuzz(checkDecide)
}

// A sweep of the same check for every test run, without the fuzzing engine.
func TestDecideAgainstTheRulesAsWritten(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 30
	}
	for i := range n {
		seed := uint64(1000 + i)
		checkDecide(t, seed, uint16(seed*7919), uint8(seed*131), i%4 == 0)
	}
}
