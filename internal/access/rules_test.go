package access

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewRulesRejects(t *testing.T) {
	office := Window{Days: MonFri, Start: "07:00", End: "18:00"}
	group := func(ws ...Window) []StationRule {
		return []StationRule{{StationID: 1, Mode: ModeMembers, Grants: []Grant{{GroupID: employees, Windows: ws}}}}
	}
	tests := []struct {
		name   string
		change func(f *fixture)
		err    error
		where  string // a part of Problem.Where
		detail string // a part of it
	}{
		{"user in an unknown group", func(f *fixture) { f.users[1].GroupIDs = []int64{42} },
			ErrUnknownGroup, "user 2", "member of group 42"},
		{"grant of an unknown group", func(f *fixture) {
			f.stations = []StationRule{{StationID: 1, Mode: ModeMembers, Grants: []Grant{{GroupID: 42}}}}
		}, ErrUnknownGroup, "station 1 grant group 42", ""},
		{"grant of an unknown user", func(f *fixture) {
			f.stations = []StationRule{{StationID: 1, Mode: ModeMembers, Grants: []Grant{{UserID: 42}}}}
		}, ErrUnknownUser, "station 1 grant user 42", ""},
		{"grant of nobody", func(f *fixture) { f.stations = []StationRule{{StationID: 1, Mode: ModeMembers, Grants: []Grant{{}}}} },
			ErrBadRule, "station 1 grant", "exactly one of a user and a group"},
		{"grant of a user and a group", func(f *fixture) {
			f.stations = []StationRule{{StationID: 1, Mode: ModeMembers, Grants: []Grant{{UserID: erik, GroupID: employees}}}}
		}, ErrBadRule, "station 1 grant", "exactly one"},
		{"group granted twice", func(f *fixture) {
			f.stations = []StationRule{{StationID: 1, Mode: ModeMembers, Grants: []Grant{{GroupID: employees}, {GroupID: employees}}}}
		}, ErrDuplicate, "station 1 grant group 2", "granted twice"},
		{"user granted twice", func(f *fixture) {
			f.stations = []StationRule{{StationID: 1, Mode: ModeMembers, Grants: []Grant{{UserID: erik}, {UserID: erik}}}}
		}, ErrDuplicate, "station 1 grant user 2", "granted twice"},
		{"tag of an unknown user", func(f *fixture) { f.tags = append(f.tags, Tag{IdTag: "X", UserID: 42}) },
			ErrUnknownUser, `tag "X"`, "belongs to user 42"},
		{"unknown owner", func(f *fixture) { f.stations = []StationRule{{StationID: 1, Mode: ModePrivate, OwnerUserID: 42}} },
			ErrUnknownUser, "station 1", "owner 42"},
		{"hour without a leading zero", func(f *fixture) { f.stations = group(Window{Days: MonFri, Start: "7:00", End: "18:00"}) },
			ErrBadWindow, "station 1 grant group 2 window 1", `start "7:00" is not a time HH:MM`},
		{"hour 25", func(f *fixture) { f.stations = group(Window{Days: MonFri, Start: "07:00", End: "25:00"}) },
			ErrBadWindow, "station 1 grant group 2 window 1", `end "25:00"`},
		{"minute 60", func(f *fixture) { f.stations = group(Window{Days: MonFri, Start: "07:60", End: "18:00"}) },
			ErrBadWindow, "station 1 grant group 2 window 1", `start "07:60"`},
		{"start at 24:00", func(f *fixture) { f.stations = group(Window{Days: MonFri, Start: "24:00", End: "06:00"}) },
			ErrBadWindow, "window 1", `start "24:00"`},
		{"empty window", func(f *fixture) { f.stations = group(Window{Days: MonFri, Start: "07:00", End: "07:00"}) },
			ErrBadWindow, "window 1", "use 00:00-24:00"},
		{"window that never opens", func(f *fixture) { f.stations = group(Window{Start: "07:00", End: "18:00"}) },
			ErrBadWindow, "window 1", "never opens"},
		{"bad date", func(f *fixture) {
			f.stations = group(Window{Days: MonFri, Start: "07:00", End: "18:00", ExceptDates: []string{"2026-13-01"}})
		}, ErrBadWindow, "window 1", `date "2026-13-01"`},
		{"date both excepted and extra", func(f *fixture) {
			f.stations = group(Window{Days: MonFri, Start: "07:00", End: "18:00", ExceptDates: []string{"2026-12-25"}, ExtraDates: []string{"2026-12-25"}})
		}, ErrBadWindow, "window 1", "both an exception and an extra date"},
		{"overlapping windows", func(f *fixture) { f.stations = group(office, Window{Days: Mon, Start: "12:00", End: "20:00"}) },
			ErrOverlap, "station 1 grant group 2 windows 1 and 2", "Mon-Fri 07:00-18:00 and Mon 12:00-20:00 both open Mon 12:00 to Mon 18:00"},
		{"the same window twice", func(f *fixture) { f.stations = group(office, office) },
			ErrOverlap, "windows 1 and 2", ""},
		{"night window overlapping the morning", func(f *fixture) {
			f.stations = group(Window{Days: Fri, Start: "22:00", End: "06:00"}, Window{Days: Sat, Start: "05:00", End: "07:00"})
		}, ErrOverlap, "windows 1 and 2", "Sat 05:00 to Sat 06:00"},
		{"Sunday night overlapping Monday", func(f *fixture) {
			f.stations = group(Window{Days: Sun, Start: "22:00", End: "06:00"}, Window{Days: Mon, Start: "00:00", End: "01:00"})
		}, ErrOverlap, "windows 1 and 2", "Mon 00:00 to Mon 01:00"},
		{"extra date overlapping a weekly window", func(f *fixture) {
			f.stations = []StationRule{{StationID: 1, Mode: ModePublic, StationWindows: []Window{
				{Days: Weekend, Start: "00:00", End: "24:00"},
				{Start: "10:00", End: "12:00", ExtraDates: []string{"2026-12-26"}},
			}}}
		}, ErrOverlap, "station 1 station windows 1 and 2", "2026-12-26 10:00 to 12:00"},
		{"private without owner", func(f *fixture) { f.stations = []StationRule{{StationID: 1, Mode: ModePrivate}} },
			ErrBadRule, "station 1", "needs an owner"},
		{"private with grants", func(f *fixture) {
			f.stations = []StationRule{{StationID: 1, Mode: ModePrivate, OwnerUserID: olivia, Grants: []Grant{{UserID: erik}}}}
		}, ErrBadRule, "station 1", "admits only its owner"},
		{"station windows on a members station", func(f *fixture) {
			f.stations = []StationRule{{StationID: 1, Mode: ModeMembers, StationWindows: []Window{office}}}
		}, ErrBadRule, "station 1", "this one is members"},
		{"unknown mode", func(f *fixture) { f.stations = []StationRule{{StationID: 1, Mode: "limited"}} },
			ErrBadRule, "station 1", `mode "limited"`},
		{"unknown policy", func(f *fixture) {
			f.stations = []StationRule{{StationID: 1, Mode: ModePublic, WindowEndPolicy: "kill"}}
		}, ErrBadRule, "station 1", `policy "kill"`},
		{"station twice", func(f *fixture) {
			f.stations = []StationRule{{StationID: 1, Mode: ModePublic}, {StationID: 1, Mode: ModePublic}}
		}, ErrDuplicate, "station 1", ""},
		{"station id 0", func(f *fixture) { f.stations = []StationRule{{Mode: ModePublic}} },
			ErrBadRule, "station 0", ""},
		{"duplicate tag", func(f *fixture) { f.tags = append(f.tags, Tag{IdTag: "erik1", UserID: erik}) },
			ErrDuplicate, `tag "erik1"`, `same idTag as "ERIK1"`},
		{"empty tag", func(f *fixture) { f.tags = append(f.tags, Tag{UserID: erik}) },
			ErrBadTag, `tag ""`, "1 to 20 characters"},
		{"tag too long", func(f *fixture) { f.tags = append(f.tags, Tag{IdTag: strings.Repeat("A", 21)}) },
			ErrBadTag, `tag "AAAA`, "1 to 20 characters"},
		{"tag named like the free pseudo tag", func(f *fixture) { f.tags = append(f.tags, Tag{IdTag: "Free"}) },
			ErrBadTag, `tag "Free"`, "pseudo tag"},
		{"tag its own parent", func(f *fixture) { f.tags = append(f.tags, Tag{IdTag: "SELF", ParentIdTag: "self"}) },
			ErrParentCycle, `tag "SELF"`, ""},
		{"parents in a cycle", func(f *fixture) {
			f.tags = append(f.tags, Tag{IdTag: "P1", ParentIdTag: "P3"}, Tag{IdTag: "P2", ParentIdTag: "P1"}, Tag{IdTag: "P3", ParentIdTag: "P2"})
		}, ErrParentCycle, `tag "P1"`, "loops"},
		{"duplicate user", func(f *fixture) { f.users = append(f.users, User{ID: erik}) },
			ErrDuplicate, "user 2", ""},
		{"duplicate group", func(f *fixture) { f.groups = append(f.groups, Group{ID: employees, Name: "Staff"}) },
			ErrDuplicate, "group 2", ""},
		{"duplicate group name", func(f *fixture) { f.groups = append(f.groups, Group{ID: 9, Name: "employees"}) },
			ErrDuplicate, "group 9", "also group 2's"},
		{"group without name", func(f *fixture) { f.groups = append(f.groups, Group{ID: 9}) },
			ErrBadRule, "group 9", "no name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.change(&f)
			_, err := NewRules(f.users, f.tags, f.groups, f.stations, zurich(t))
			if !errors.Is(err, tt.err) {
				t.Fatalf("NewRules = %v; want %v", err, tt.err)
			}
			var invalid *InvalidError
			if !errors.As(err, &invalid) {
				t.Fatalf("%T is not an *InvalidError", err)
			}
			for _, p := range invalid.Problems {
				if errors.Is(p, tt.err) && strings.Contains(p.Where, tt.where) && strings.Contains(p.Detail, tt.detail) {
					return
				}
			}
			t.Errorf("no problem %q ... %q among: %v", tt.where, tt.detail, err)
		})
	}
}

func TestNewRulesAccepts(t *testing.T) {
	tests := []struct {
		name    string
		windows []Window
	}{
		{"touching windows", []Window{{Days: MonFri, Start: "07:00", End: "12:00"}, {Days: MonFri, Start: "12:00", End: "18:00"}}},
		{"night windows on following days", []Window{{Days: Fri | Sat, Start: "22:00", End: "06:00"}, {Days: Sat | Sun, Start: "06:00", End: "22:00"}}},
		{"a holiday replaced by an extra date", []Window{
			{Days: MonFri, Start: "07:00", End: "18:00", ExceptDates: []string{"2026-12-25"}},
			{Start: "09:00", End: "12:00", ExtraDates: []string{"2026-12-25"}},
		}},
		{"same times on other days", []Window{{Days: MonFri, Start: "07:00", End: "18:00"}, {Days: Weekend, Start: "07:00", End: "18:00"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.stations = []StationRule{{StationID: 1, Mode: ModePublic, StationWindows: tt.windows}}
			if _, err := NewRules(f.users, f.tags, f.groups, f.stations, zurich(t)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestNewRulesListsEveryProblem(t *testing.T) {
	_, err := NewRules(
		[]User{{ID: 1, GroupIDs: []int64{7}}},
		[]Tag{{IdTag: "A", UserID: 9}},
		nil,
		[]StationRule{{StationID: 1, Mode: ModePrivate}},
		nil,
	)
	var invalid *InvalidError
	if !errors.As(err, &invalid) || len(invalid.Problems) != 4 {
		t.Fatalf("NewRules = %v; want 4 problems", err)
	}
	for _, want := range []error{ErrBadRule, ErrUnknownGroup, ErrUnknownUser} {
		if !errors.Is(err, want) {
			t.Errorf("%v is not %v", err, want)
		}
	}
	if !strings.HasPrefix(err.Error(), "access: invalid rules: rules: bad rule: no time zone; user 1: unknown group") {
		t.Errorf("Error() = %q", err)
	}
}

func TestNewRulesEmpty(t *testing.T) {
	r, err := NewRules(nil, nil, nil, nil, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if d := Decide(r, Query{StationID: 1, IdTag: "X"}); !d.Unknown || d.Status != "Accepted" {
		t.Errorf("empty rules: %+v", d)
	}
}
