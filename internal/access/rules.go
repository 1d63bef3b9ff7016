package access

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultTimeZone is the time zone an account's windows are in unless it says otherwise.
const DefaultTimeZone = "Europe/Zurich"

// FreeIdTag is the pseudo tag a session without identification is recorded under, on a
// station set up for free vending (it starts without asking, or accepts every start).
const FreeIdTag = "free"

// User is a driver of the account.
type User struct {
	ID       int64
	Name     string
	Email    string
	Language string
	GroupIDs []int64
	// Blocked blocks every tag of the user, for instance until a failed payment is settled.
	Blocked bool
}

// Tag is an RFID card or other identifier the account registered.
type Tag struct {
	IdTag string
	// UserID is the user the tag belongs to; 0 for a tag standing alone, which then acts
	// for its parent's user, if its parent has one.
	UserID int64
	// ParentIdTag groups tags, as in OCPP. It need not be a registered tag; when it is,
	// the child shares its parent's fate: a blocked or expired parent blocks or expires it.
	ParentIdTag string
	ExpiresAt   time.Time // zero: never
	Blocked     bool
}

// Group is a named set of users (Residents, Employees, Guests...).
type Group struct {
	ID   int64
	Name string
}

// Mode is who a station admits.
type Mode string

// The access modes; eCarUp calls them public, limited and private.
const (
	// ModePublic admits every tag, also one the account never saw (an "unknown driver"),
	// during the station's windows, and its members during their grants' windows.
	ModePublic Mode = "public"
	// ModeMembers admits the owner and the users and groups granted on the station.
	ModeMembers Mode = "members"
	// ModePrivate admits only the owner's tags.
	ModePrivate Mode = "private"
)

// WindowEndPolicy is what happens to a session still running when its window closes.
type WindowEndPolicy string

// The window end policies; the empty policy is AllowFinish.
const (
	AllowFinish  WindowEndPolicy = "allow_finish"
	StopRemotely WindowEndPolicy = "stop_remotely"
)

// Grant admits one user or one group on a station.
type Grant struct {
	// Exactly one of UserID and GroupID is set.
	UserID  int64
	GroupID int64
	// Windows are when the grant applies; none: at all times. They must not overlap one
	// another.
	Windows []Window
}

// StationRule is who may charge at one station and when.
type StationRule struct {
	StationID int64
	Mode      Mode
	// OwnerUserID is the user whose tags the station always admits; required when private.
	OwnerUserID int64
	Grants      []Grant
	// StationWindows are when a public station is open to everyone; none: at all times.
	// They apply to a free-vending station's sessions too; other stations have none.
	StationWindows []Window
	// FreeVending stations start sessions without identification, under FreeIdTag.
	FreeVending     bool
	WindowEndPolicy WindowEndPolicy
}

// The kinds of problem NewRules finds; every Problem wraps one, so errors.Is tells them apart.
var (
	ErrUnknownUser  = errors.New("unknown user")
	ErrUnknownGroup = errors.New("unknown group")
	ErrBadWindow    = errors.New("bad window")
	ErrOverlap      = errors.New("overlapping windows")
	ErrDuplicate    = errors.New("duplicate")
	ErrParentCycle  = errors.New("parent cycle")
	ErrBadTag       = errors.New("bad tag")
	ErrBadRule      = errors.New("bad rule")
)

// Problem is one thing wrong with the rules, where it was found.
type Problem struct {
	Where  string // "station 7 grant group 3 window 2"
	Err    error  // one of the Err values
	Detail string
}

func (p Problem) Error() string {
	if p.Detail == "" {
		return p.Where + ": " + p.Err.Error()
	}
	return p.Where + ": " + p.Err.Error() + ": " + p.Detail
}

func (p Problem) Unwrap() error { return p.Err }

// InvalidError lists every problem NewRules found, so that an operator fixes them at once;
// an API answers it with 400.
type InvalidError struct {
	Problems []Problem
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	return "access: invalid rules: " + strings.Join(parts, "; ")
}

// Unwrap lets errors.Is and errors.As see each problem.
func (e *InvalidError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// Rules is an account's access rules, checked and indexed so that a decision takes a few
// map lookups. It is read-only once built and safe for concurrent use; a change builds a
// new one.
type Rules struct {
	loc      *time.Location
	users    map[int64]*user
	tags     map[string]*tag // by tagKey
	order    []*tag          // by idTag, for LocalList
	stations map[int64]*stationAccess
}

type user struct {
	id      int64
	name    string
	blocked bool
	groups  []int64
}

type tag struct {
	Tag
	key string
	// holder is the tag's user, or its nearest ancestor's; nil when none has one.
	holder  *user
	ownUser *user // the tag's own user; nil when it stands alone
	// blockedBy is the tag itself or the nearest ancestor that is blocked, or whose user
	// is; nil when none is. blockedWhy says so for a Decision.
	blockedBy  *tag
	blockedWhy string
	// expires is the earliest expiry of the tag and its ancestors, expiredBy whose it is.
	expires    time.Time
	expiredBy  *tag
	expiredWhy string
}

// explain writes why the tag is blocked or expired, naming the tag that causes it.
func (t *tag) explain() {
	if b := t.blockedBy; b != nil {
		whose := "tag " + b.IdTag
		if b != t {
			whose = "parent tag " + b.IdTag
		}
		if b.Blocked {
			t.blockedWhy = whose + " is blocked"
		} else {
			t.blockedWhy = "user " + userLabel(b.ownUser) + " of " + whose + " is blocked"
			if b == t {
				t.blockedWhy = "user " + userLabel(b.ownUser) + " is blocked"
			}
		}
	}
	if e := t.expiredBy; e != nil {
		t.expiredWhy = "tag " + e.IdTag + " expired"
		if e != t {
			t.expiredWhy = "parent " + t.expiredWhy
		}
	}
}

type stationAccess struct {
	mode    Mode
	policy  WindowEndPolicy
	owner   *audience // nil when no owner
	ownerID int64
	public  *audience // nil unless public
	vending *audience // nil unless free vending: the station windows, for FreeIdTag
	users   map[int64]*audience
	groups  map[int64]*audience
}

// audience is a set of people a station admits and when.
type audience struct {
	label   string   // "group Employees"
	windows []window // none: at all times
}

// maxTagLen is OCPP 1.6's IdToken length (CiString20Type).
const maxTagLen = 20

// tagKey is an idTag as the index knows it: OCPP idTags compare without regard to case.
func tagKey(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// lookup finds a tag without allocating: the key is folded on the stack.
func (r *Rules) lookup(idTag string) *tag {
	var buf [32]byte
	if len(idTag) > len(buf) {
		return r.tags[tagKey(idTag)]
	}
	b := buf[:len(idTag)]
	for i := 0; i < len(idTag); i++ {
		c := idTag[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return r.tags[string(b)]
}

func isFree(idTag string) bool { return strings.EqualFold(idTag, FreeIdTag) }

// Location is the time zone the rules' windows are in.
func (r *Rules) Location() *time.Location { return r.loc }

// NewRules checks an account's rules and indexes them. The error, an *InvalidError, names
// every problem: unknown users and groups, duplicate ids and tags, malformed windows,
// windows of one audience that overlap, tags whose parents form a cycle, station rules
// that contradict their mode.
//
// Windows of one audience (a station's public windows, or one grant's) must not overlap:
// each moment is then governed by at most one window, with one set of exception dates and
// one end, so that "not on the 25th of December" cannot be undone by a second window that
// forgot it. Windows that only touch (Mon-Fri 07:00-12:00 and 12:00-18:00) are fine, and so
// are overlaps between audiences: a user is admitted when any audience they belong to is.
func NewRules(users []User, tags []Tag, groups []Group, stations []StationRule, loc *time.Location) (*Rules, error) {
	var v validator
	if loc == nil {
		v.add("rules", ErrBadRule, "no time zone")
		loc = time.UTC
	}
	r := &Rules{
		loc:      loc,
		users:    make(map[int64]*user, len(users)),
		tags:     make(map[string]*tag, len(tags)),
		stations: make(map[int64]*stationAccess, len(stations)),
	}
	groupNames := make(map[int64]string, len(groups))
	byName := make(map[string]int64, len(groups))
	for _, g := range groups {
		where := fmt.Sprintf("group %d", g.ID)
		switch _, dup := groupNames[g.ID]; {
		case g.ID <= 0:
			v.add(where, ErrBadRule, "group ids are positive")
		case dup:
			v.add(where, ErrDuplicate, "group id used twice")
		case strings.TrimSpace(g.Name) == "":
			v.add(where, ErrBadRule, "group has no name")
		default:
			if other, ok := byName[strings.ToLower(g.Name)]; ok {
				v.add(where, ErrDuplicate, fmt.Sprintf("name %q is also group %d's", g.Name, other))
			}
			byName[strings.ToLower(g.Name)] = g.ID
			groupNames[g.ID] = g.Name
		}
	}
	for _, u := range users {
		where := fmt.Sprintf("user %d", u.ID)
		if u.ID <= 0 {
			v.add(where, ErrBadRule, "user ids are positive")
			continue
		}
		if _, dup := r.users[u.ID]; dup {
			v.add(where, ErrDuplicate, "user id used twice")
			continue
		}
		cu := &user{id: u.ID, name: u.Name, blocked: u.Blocked}
		for _, g := range u.GroupIDs {
			if _, ok := groupNames[g]; !ok {
				v.add(where, ErrUnknownGroup, fmt.Sprintf("member of group %d", g))
			} else if !slices.Contains(cu.groups, g) {
				cu.groups = append(cu.groups, g)
			}
		}
		r.users[u.ID] = cu
	}
	r.indexTags(&v, tags)
	for _, s := range stations {
		r.indexStation(&v, s, groupNames)
	}
	if len(v.problems) > 0 {
		return nil, &InvalidError{Problems: v.problems}
	}
	return r, nil
}

type validator struct{ problems []Problem }

func (v *validator) add(where string, err error, detail string) {
	v.problems = append(v.problems, Problem{Where: where, Err: err, Detail: detail})
}

func (r *Rules) indexTags(v *validator, tags []Tag) {
	for _, t := range tags {
		where := fmt.Sprintf("tag %q", t.IdTag)
		switch {
		case t.IdTag == "" || len(t.IdTag) > maxTagLen:
			v.add(where, ErrBadTag, fmt.Sprintf("an idTag has 1 to %d characters", maxTagLen))
			continue
		case len(t.ParentIdTag) > maxTagLen:
			v.add(where, ErrBadTag, fmt.Sprintf("parent %q is longer than %d characters", t.ParentIdTag, maxTagLen))
			continue
		case isFree(t.IdTag) || isFree(t.ParentIdTag):
			v.add(where, ErrBadTag, fmt.Sprintf("%q is the pseudo tag of free vending", FreeIdTag))
			continue
		}
		key := tagKey(t.IdTag)
		if other, dup := r.tags[key]; dup {
			v.add(where, ErrDuplicate, fmt.Sprintf("same idTag as %q (idTags ignore case)", other.IdTag))
			continue
		}
		ct := &tag{Tag: t, key: key}
		if t.UserID != 0 {
			ct.holder = r.users[t.UserID]
			ct.ownUser = ct.holder
			if ct.holder == nil {
				v.add(where, ErrUnknownUser, fmt.Sprintf("belongs to user %d", t.UserID))
			}
		}
		r.tags[key] = ct
		r.order = append(r.order, ct)
	}
	slices.SortFunc(r.order, func(a, b *tag) int { return strings.Compare(a.key, b.key) })

	// Resolve what each tag inherits from its ancestors, parents first; a cycle has no first.
	const (
		unseen = iota
		visiting
		done
	)
	state := make(map[*tag]int, len(r.tags))
	var visit func(t *tag) bool
	visit = func(t *tag) bool {
		switch state[t] {
		case done:
			return true
		case visiting:
			return false
		}
		state[t] = visiting
		if t.Blocked || (t.ownUser != nil && t.ownUser.blocked) {
			t.blockedBy = t
		}
		if !t.ExpiresAt.IsZero() {
			t.expires, t.expiredBy = t.ExpiresAt, t
		}
		if p := r.tags[tagKey(t.ParentIdTag)]; t.ParentIdTag != "" && p != nil {
			if !visit(p) {
				return false
			}
			if t.blockedBy == nil {
				t.blockedBy = p.blockedBy
			}
			if !p.expires.IsZero() && (t.expires.IsZero() || p.expires.Before(t.expires)) {
				t.expires, t.expiredBy = p.expires, p.expiredBy
			}
			if t.holder == nil {
				t.holder = p.holder
			}
		}
		t.explain()
		state[t] = done
		return true
	}
	for _, t := range r.order {
		if state[t] == unseen && !visit(t) {
			v.add(fmt.Sprintf("tag %q", t.IdTag), ErrParentCycle, "its chain of parents loops")
			// Mark the cycle's members done so that each cycle is reported once.
			for t2, s := range state {
				if s == visiting {
					state[t2] = done
				}
			}
		}
	}
}

func userLabel(u *user) string {
	if u.name == "" {
		return fmt.Sprintf("%d", u.id)
	}
	return fmt.Sprintf("%s (%d)", u.name, u.id)
}

func (r *Rules) indexStation(v *validator, s StationRule, groupNames map[int64]string) {
	where := fmt.Sprintf("station %d", s.StationID)
	if s.StationID <= 0 {
		v.add(where, ErrBadRule, "station ids are positive")
		return
	}
	if _, dup := r.stations[s.StationID]; dup {
		v.add(where, ErrDuplicate, "station has two rules")
		return
	}
	st := &stationAccess{mode: s.Mode, policy: s.WindowEndPolicy}
	switch s.Mode {
	case ModePublic, ModeMembers, ModePrivate:
	default:
		v.add(where, ErrBadRule, fmt.Sprintf("mode %q is none of public, members, private", s.Mode))
	}
	switch s.WindowEndPolicy {
	case "":
		st.policy = AllowFinish
	case AllowFinish, StopRemotely:
	default:
		v.add(where, ErrBadRule, fmt.Sprintf("window end policy %q is neither %s nor %s", s.WindowEndPolicy, AllowFinish, StopRemotely))
	}
	if s.OwnerUserID != 0 {
		if u := r.users[s.OwnerUserID]; u == nil {
			v.add(where, ErrUnknownUser, fmt.Sprintf("owner %d", s.OwnerUserID))
		} else {
			st.owner, st.ownerID = &audience{label: "owner " + userLabel(u)}, u.id
		}
	} else if s.Mode == ModePrivate {
		v.add(where, ErrBadRule, "a private station needs an owner")
	}
	// Rules that would be silently ignored are rejected, so that what an operator sees
	// configured is what applies.
	if s.Mode == ModePrivate && len(s.Grants) > 0 {
		v.add(where, ErrBadRule, "a private station admits only its owner: grants need mode members or public")
	}
	if len(s.StationWindows) > 0 && s.Mode != ModePublic && !s.FreeVending {
		v.add(where, ErrBadRule, "station windows are when a public (or free-vending) station is open to everyone; this one is "+string(s.Mode))
	}
	switch {
	case s.Mode == ModePublic:
		st.public = compileAudience(v, where+" station", "public", s.StationWindows)
		if s.FreeVending {
			st.vending = st.public
		}
	case s.FreeVending:
		st.vending = compileAudience(v, where+" station", "free vending", s.StationWindows)
	}
	st.users = make(map[int64]*audience)
	st.groups = make(map[int64]*audience)
	for _, g := range s.Grants {
		switch {
		case (g.UserID == 0) == (g.GroupID == 0):
			v.add(where+" grant", ErrBadRule, "a grant names exactly one of a user and a group")
		case g.UserID != 0:
			gw := fmt.Sprintf("%s grant user %d", where, g.UserID)
			u := r.users[g.UserID]
			switch {
			case u == nil:
				v.add(gw, ErrUnknownUser, "")
			case st.users[g.UserID] != nil:
				v.add(gw, ErrDuplicate, "user granted twice: put all their windows in one grant")
			default:
				st.users[g.UserID] = compileAudience(v, gw, "user "+userLabel(u), g.Windows)
			}
		default:
			gw := fmt.Sprintf("%s grant group %d", where, g.GroupID)
			name, ok := groupNames[g.GroupID]
			switch {
			case !ok:
				v.add(gw, ErrUnknownGroup, "")
			case st.groups[g.GroupID] != nil:
				v.add(gw, ErrDuplicate, "group granted twice: put all its windows in one grant")
			default:
				st.groups[g.GroupID] = compileAudience(v, gw, "group "+name, g.Windows)
			}
		}
	}
	r.stations[s.StationID] = st
}

func compileAudience(v *validator, where, label string, ws []Window) *audience {
	a := &audience{label: label}
	for i, w := range ws {
		cw, err := compileWindow(w)
		if err != nil {
			v.add(fmt.Sprintf("%s window %d", where, i+1), ErrBadWindow, err.Error())
			continue
		}
		cw.reason = label + " " + cw.label
		for j, other := range a.windows {
			if detail, ok := overlap(&other, &cw); ok {
				v.add(fmt.Sprintf("%s windows %d and %d", where, j+1, i+1), ErrOverlap, detail)
			}
		}
		a.windows = append(a.windows, cw)
	}
	return a
}

// overlap reports whether two windows are ever open at once, in wall time, and says where.
// Their weekly openings are compared over two weeks, which covers every weekday pair and
// openings that run past midnight or Sunday; exception dates cannot undo a weekly overlap,
// for it recurs every week. Extra dates are compared with the other's openings around them.
func overlap(a, b *window) (string, bool) {
	const d0 = 4 // 1970-01-05, a Monday: the weeks compared start on Mondays
	for da := int64(d0); da < d0+14; da++ {
		for db := da - 1; db <= da+1; db++ {
			if a.days.Has(weekday(da)) && b.days.Has(weekday(db)) && intersects(a, da, b, db) {
				return fmt.Sprintf("%s and %s both open %s", a.label, b.label, span(a, da, b, db)), true
			}
		}
	}
	for _, p := range [2][2]*window{{a, b}, {b, a}} {
		x, y := p[0], p[1]
		for dx := range x.extra {
			for dy := dx - 1; dy <= dx+1; dy++ {
				if y.opens(dy) && intersects(x, dx, y, dy) {
					return fmt.Sprintf("%s and %s both open %s", a.label, b.label, span(x, dx, y, dy)), true
				}
			}
		}
	}
	return "", false
}

func intersects(a *window, da int64, b *window, db int64) bool {
	return da*day+a.start < db*day+b.end && db*day+b.start < da*day+a.end
}

// span is where the openings of a on day da and b on day db overlap, for a message.
func span(a *window, da int64, b *window, db int64) string {
	s := max(da*day+a.start, db*day+b.start)
	e := min(da*day+a.end, db*day+b.end)
	fs, fe := time.Unix(s, 0).UTC(), time.Unix(e, 0).UTC()
	if len(a.extra) > 0 || len(b.extra) > 0 {
		if !a.days.Has(weekday(da)) || !b.days.Has(weekday(db)) {
			return fs.Format("2006-01-02 15:04") + " to " + fe.Format("15:04")
		}
	}
	return fs.Format("Mon 15:04") + " to " + fe.Format("Mon 15:04")
}
