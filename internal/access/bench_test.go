package access

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchAccount is an account of 10,000 users in 100 groups, two tags each, and 50 stations:
// 10 public in the evening and at weekends with groups in office hours, 30 for members
// (20 groups and 50 users each), 10 private.
func benchAccount(b *testing.B) (*Rules, []string) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	holidays := []string{"2026-01-01", "2026-01-02", "2026-04-03", "2026-04-06", "2026-05-14",
		"2026-05-25", "2026-08-01", "2026-12-24", "2026-12-25", "2026-12-26"}
	office := []Window{{Days: MonFri, Start: "07:00", End: "18:00", ExceptDates: holidays}}
	var groups []Group
	for g := range 100 {
		groups = append(groups, Group{ID: int64(g + 1), Name: fmt.Sprintf("Group %d", g+1)})
	}
	var users []User
	var tags []Tag
	var ids []string
	for u := range 10_000 {
		user := User{ID: int64(u + 1), Name: fmt.Sprintf("User %d", u+1), Email: fmt.Sprintf("u%d@example.ch", u+1)}
		for range 1 + rng.IntN(3) {
			user.GroupIDs = append(user.GroupIDs, int64(1+rng.IntN(100)))
		}
		users = append(users, user)
		for k := range 2 {
			id := fmt.Sprintf("04%08X%02X", u+1, k)
			tags = append(tags, Tag{IdTag: id, UserID: user.ID})
			ids = append(ids, id)
		}
	}
	var stations []StationRule
	for s := range 50 {
		st := StationRule{StationID: int64(s + 1)}
		switch {
		case s < 10:
			st.Mode = ModePublic
			st.StationWindows = []Window{
				{Days: MonFri, Start: "18:00", End: "24:00"},
				{Days: Weekend, Start: "00:00", End: "24:00"},
			}
			for _, g := range rng.Perm(100)[:10] {
				st.Grants = append(st.Grants, Grant{GroupID: int64(g + 1), Windows: office})
			}
		case s < 40:
			st.Mode = ModeMembers
			for _, g := range rng.Perm(100)[:20] {
				st.Grants = append(st.Grants, Grant{GroupID: int64(g + 1), Windows: []Window{
					office[0], {Days: Sat, Start: "08:00", End: "12:00"},
				}})
			}
			for i, u := range rng.Perm(10_000)[:50] {
				g := Grant{UserID: int64(u + 1)}
				if i%2 == 0 {
					g.Windows = []Window{{Days: EveryDay, Start: "06:00", End: "22:00"}}
				}
				st.Grants = append(st.Grants, g)
			}
		default:
			st.Mode = ModePrivate
			st.OwnerUserID = int64(1 + rng.IntN(10_000))
		}
		stations = append(stations, st)
	}
	r, err := NewRules(users, tags, groups, stations, zurich(b))
	if err != nil {
		b.Fatal(err)
	}
	return r, ids
}

func BenchmarkDecide10kUsers100Groups(b *testing.B) {
	r, ids := benchAccount(b)
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 1 << 12
	for _, at := range []struct {
		name string
		at   time.Time
	}{
		{"weekday", local(b, "2026-06-08 10:00")},
		{"evening", local(b, "2026-06-08 20:00")},
		{"dst-day", local(b, "2026-03-29 10:00")}, // offsets change within a day: the slow path
	} {
		qs := make([]Query, n)
		for i := range qs {
			qs[i] = Query{StationID: int64(1 + rng.IntN(50)), IdTag: ids[rng.IntN(len(ids))], At: at.at, Starting: true}
			if i%16 == 0 {
				qs[i].IdTag = fmt.Sprintf("UNKNOWN%d", i) // an unknown driver now and then
			}
		}
		b.Run(at.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				Decide(r, qs[i&(n-1)])
			}
		})
	}
}

func BenchmarkNewRules10kUsers(b *testing.B) {
	for b.Loop() {
		benchAccount(b)
	}
}

func BenchmarkLocalList10kUsers(b *testing.B) {
	r, _ := benchAccount(b)
	at := local(b, "2026-06-08 10:00")
	b.ReportAllocs()
	for b.Loop() {
		LocalList(r, 11, at) // a members station
	}
}
