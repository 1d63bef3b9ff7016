package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

// ErrInUse is returned for a deletion that would leave the rules without something they
// name, such as a user who owns a station.
var ErrInUse = errors.New("in use")

// Stations is what the Service reads of the stations. *store.Store implements it.
type Stations interface {
	StationByChargePointID(ctx context.Context, accountID int64, chargePointID string) (station.Station, error)
	Stations(ctx context.Context, accountID int64) ([]station.Station, error)
	IdTags(ctx context.Context, accountID int64) ([]station.IdTag, error)
}

// Operations sends remote operations and reads the local lists they leave;
// *operation.Service implements it.
type Operations interface {
	Execute(ctx context.Context, r operation.Request) (operation.Result, error)
	LocalList(ctx context.Context, accountID int64, chargePointID string) (operation.LocalList, error)
}

// Live tells whether a station is connected now; *csms.Server implements it.
type Live interface {
	Connected(accountID int64, chargePointID string) bool
}

// Deps are what a Service works with.
type Deps struct {
	Authorizer *Authorizer
	Store      WriteStore
	Stations   Stations
	// Operations sends SendLocalList and RemoteStopTransaction; without it, Run and
	// SyncLocalList send nothing.
	Operations Operations
	// Live, if set, says which stations are connected; without it, what the store recorded.
	Live Live
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Interval is how often Run looks for sessions whose window has ended; a minute by
	// default.
	Interval time.Duration
	// ResyncInterval is how often Run sends the local lists that the passing of time has
	// changed (a window that opened or closed); 15 minutes by default.
	ResyncInterval time.Duration
	Logger         *slog.Logger
}

// Actor is who the operations the Service sends are recorded as asked by.
const Actor = "system"

// Service changes an account's access rules and keeps the stations in step with them.
//
// Every change is checked with access.NewRules against the whole account before it is
// stored: the rules in the store always build, so that no change can leave an account's
// stations refusing everyone. Changes of one account are made one at a time on this node.
// After a change the Authorizer loads the rules again, and Run sends the local lists of the
// account's connected stations that have one.
type Service struct {
	auth     *Authorizer
	store    WriteStore
	stations Stations
	ops      Operations
	live     Live
	now      func() time.Time
	interval time.Duration
	resync   time.Duration
	log      *slog.Logger

	mu    sync.Mutex
	locks map[int64]*sync.Mutex // per account, for changes
	dirty map[int64]bool        // accounts whose local lists Run syncs
	wake  chan struct{}         // buffered 1: a change to sync
	// stopAsked is when a RemoteStopTransaction was last sent for a transaction, so that
	// Run asks again only after stopRetry. Only Run touches it.
	stopAsked map[int64]time.Time
}

// NewService returns a Service. Run must be running for local lists to follow changes and
// for sessions to be stopped at the end of their window.
func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Interval <= 0 {
		d.Interval = time.Minute
	}
	if d.ResyncInterval <= 0 {
		d.ResyncInterval = 15 * time.Minute
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		auth: d.Authorizer, store: d.Store, stations: d.Stations, ops: d.Operations, live: d.Live,
		now: d.Now, interval: d.Interval, resync: d.ResyncInterval, log: d.Logger,
		locks: make(map[int64]*sync.Mutex), dirty: make(map[int64]bool), wake: make(chan struct{}, 1),
		stopAsked: make(map[int64]time.Time),
	}
}

// Group is a user group with its members.
type Group struct {
	access.Group
	Members []int64 // user ids, ascending
}

// records returns the account's records as the Authorizer has them: current as of this
// node's last change.
func (s *Service) records(ctx context.Context, accountID int64) (Records, error) {
	snap, err := s.auth.snapshot(ctx, accountID)
	if err != nil {
		return Records{}, err
	}
	return snap.records, nil
}

// Users returns the account's users by id.
func (s *Service) Users(ctx context.Context, accountID int64) ([]access.User, error) {
	r, err := s.records(ctx, accountID)
	return r.Users, err
}

// User returns one user of the account, or station.ErrNotFound.
func (s *Service) User(ctx context.Context, accountID, id int64) (access.User, error) {
	r, err := s.records(ctx, accountID)
	if err != nil {
		return access.User{}, err
	}
	if i := findUser(r, id); i >= 0 {
		return r.Users[i], nil
	}
	return access.User{}, fmt.Errorf("authz: user %d: %w", id, station.ErrNotFound)
}

// Groups returns the account's groups by id, with their members.
func (s *Service) Groups(ctx context.Context, accountID int64) ([]Group, error) {
	r, err := s.records(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]Group, len(r.Groups))
	for i, g := range r.Groups {
		out[i] = Group{Group: g, Members: members(r, g.ID)}
	}
	return out, nil
}

// Group returns one group of the account with its members, or station.ErrNotFound.
func (s *Service) Group(ctx context.Context, accountID, id int64) (Group, error) {
	r, err := s.records(ctx, accountID)
	if err != nil {
		return Group{}, err
	}
	if i := findGroup(r, id); i >= 0 {
		return Group{Group: r.Groups[i], Members: members(r, id)}, nil
	}
	return Group{}, fmt.Errorf("authz: group %d: %w", id, station.ErrNotFound)
}

// TagUsers returns the user of each registered tag that belongs to one, by idTag.
func (s *Service) TagUsers(ctx context.Context, accountID int64) (map[string]int64, error) {
	r, err := s.records(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64)
	for _, t := range r.Tags {
		if t.UserID != 0 {
			out[t.IdTag] = t.UserID
		}
	}
	return out, nil
}

// StationRule returns the rule of a station of the account; ok is false for a station
// without one, which is public.
func (s *Service) StationRule(ctx context.Context, accountID, stationID int64) (rule access.StationRule, ok bool, err error) {
	r, err := s.records(ctx, accountID)
	if err != nil {
		return access.StationRule{}, false, err
	}
	if i := findStation(r, stationID); i >= 0 {
		return r.Stations[i], true, nil
	}
	return access.StationRule{StationID: stationID, Mode: access.ModePublic, WindowEndPolicy: access.AllowFinish}, false, nil
}

// Location is the time zone of the account's windows.
func (s *Service) Location(ctx context.Context, accountID int64) (*time.Location, error) {
	r, err := s.records(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return location(r.TimeZone), nil
}

// Preview decides as a station would be answered, without recording anything: q.At and
// q.Starting as given, and at a start, the tag's open transactions now.
func (s *Service) Preview(ctx context.Context, accountID int64, q access.Query) (access.Decision, error) {
	snap, err := s.auth.snapshot(ctx, accountID)
	if err != nil {
		return access.Decision{}, err
	}
	if snap.rules == nil {
		return access.Decision{}, fmt.Errorf("authz: preview: %w", snap.err)
	}
	if q.Starting {
		req := station.AuthRequest{AccountID: accountID, StationID: q.StationID, IdTag: q.IdTag, At: q.At, Starting: true}
		if q.OpenTransactions, err = s.auth.openTransactions(ctx, req); err != nil {
			return access.Decision{}, fmt.Errorf("authz: preview: %w", err)
		}
	}
	return access.Decide(snap.rules, q), nil
}

// change runs one change of an account's records: it loads them fresh from the store,
// applies edit to a copy, checks the copy as a whole, and only then has write store it.
// A change whose copy has problems the records did not have already is refused with an
// *access.InvalidError naming those; problems the records had before (written around the
// checks) do not block changes, which may be what fixes them.
func (s *Service) change(ctx context.Context, accountID int64, edit func(r *Records) error, write func() error) error {
	unlock := s.lock(accountID)
	defer unlock()
	current, err := s.auth.store.AccessRecords(ctx, accountID)
	if err != nil {
		return err
	}
	next := current.clone()
	if err := edit(&next); err != nil {
		return err
	}
	if _, err := build(next); err != nil {
		var inv *access.InvalidError
		if !errors.As(err, &inv) {
			return err
		}
		if fresh := newProblems(inv, current); fresh != nil {
			return fresh
		}
	}
	if err := write(); err != nil {
		return err
	}
	s.Changed(accountID)
	return nil
}

// newProblems returns the problems of inv that the records r do not have, nil for none.
func newProblems(inv *access.InvalidError, r Records) *access.InvalidError {
	had := make(map[string]bool)
	if _, err := build(r); err != nil {
		var old *access.InvalidError
		if errors.As(err, &old) {
			for _, p := range old.Problems {
				had[p.Error()] = true
			}
		}
	}
	var out []access.Problem
	for _, p := range inv.Problems {
		if !had[p.Error()] {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &access.InvalidError{Problems: out}
}

func (s *Service) lock(accountID int64) func() {
	s.mu.Lock()
	l := s.locks[accountID]
	if l == nil {
		l = new(sync.Mutex)
		s.locks[accountID] = l
	}
	s.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// Changed says the account's rules changed some other way than through the Service: the
// Authorizer loads them again and Run syncs the account's local lists. The Service calls
// it after each of its own changes.
func (s *Service) Changed(accountID int64) {
	s.auth.Invalidate(accountID)
	s.mu.Lock()
	s.dirty[accountID] = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// CreateUser adds a user to the account and returns it with its id.
func (s *Service) CreateUser(ctx context.Context, accountID int64, u access.User) (access.User, error) {
	var created access.User
	err := s.change(ctx, accountID, func(r *Records) error {
		u.ID = nextID(r.Users, func(u access.User) int64 { return u.ID })
		r.Users = append(r.Users, u)
		return nil
	}, func() error {
		u.ID = 0
		var err error
		created, err = s.store.CreateAccessUser(ctx, accountID, u, s.now().UTC())
		return err
	})
	if err != nil {
		return access.User{}, fmt.Errorf("authz: create user: %w", err)
	}
	return created, nil
}

// UpdateUser replaces a user of the account: name, e-mail, language, blocked, groups.
func (s *Service) UpdateUser(ctx context.Context, accountID int64, u access.User) error {
	err := s.change(ctx, accountID, func(r *Records) error {
		i := findUser(*r, u.ID)
		if i < 0 {
			return station.ErrNotFound
		}
		r.Users[i] = u
		return nil
	}, func() error {
		return s.store.UpdateAccessUser(ctx, accountID, u, s.now().UTC())
	})
	if err != nil {
		return fmt.Errorf("authz: update user %d: %w", u.ID, err)
	}
	return nil
}

// DeleteUser deletes a user of the account: their tags then stand alone, and their grants
// go. A user who owns a station is ErrInUse: the station needs another owner first.
func (s *Service) DeleteUser(ctx context.Context, accountID, id int64) error {
	err := s.change(ctx, accountID, func(r *Records) error {
		i := findUser(*r, id)
		if i < 0 {
			return station.ErrNotFound
		}
		var owns []string
		for _, st := range r.Stations {
			if st.OwnerUserID == id {
				owns = append(owns, s.stationName(ctx, accountID, st.StationID))
			}
		}
		if len(owns) > 0 {
			return fmt.Errorf("%w: the user owns station %s: give it another owner first", ErrInUse, strings.Join(owns, ", "))
		}
		r.Users = slices.Delete(r.Users, i, i+1)
		for j := range r.Tags {
			if r.Tags[j].UserID == id {
				r.Tags[j].UserID = 0
			}
		}
		for j := range r.Stations {
			r.Stations[j].Grants = slices.DeleteFunc(r.Stations[j].Grants, func(g access.Grant) bool { return g.UserID == id })
		}
		return nil
	}, func() error {
		return s.store.DeleteAccessUser(ctx, accountID, id)
	})
	if err != nil {
		return fmt.Errorf("authz: delete user %d: %w", id, err)
	}
	return nil
}

// stationName is a station's charge point id for a message, its id if it cannot be read.
func (s *Service) stationName(ctx context.Context, accountID, stationID int64) string {
	if s.stations != nil {
		if sts, err := s.stations.Stations(ctx, accountID); err == nil {
			for _, st := range sts {
				if st.ID == stationID {
					return st.ChargePointID
				}
			}
		}
	}
	return fmt.Sprintf("%d", stationID)
}

// CreateGroup adds a group with its members to the account and returns it with its id.
func (s *Service) CreateGroup(ctx context.Context, accountID int64, g Group) (Group, error) {
	g.Members = sortedUnique(g.Members)
	var created access.Group
	err := s.change(ctx, accountID, func(r *Records) error {
		g.ID = nextID(r.Groups, func(g access.Group) int64 { return g.ID })
		r.Groups = append(r.Groups, g.Group)
		return setMembers(r, g.ID, g.Members)
	}, func() error {
		g.ID = 0
		var err error
		created, err = s.store.CreateAccessGroup(ctx, accountID, g.Group, g.Members, s.now().UTC())
		return err
	})
	if err != nil {
		return Group{}, fmt.Errorf("authz: create group: %w", err)
	}
	return Group{Group: created, Members: g.Members}, nil
}

// UpdateGroup renames a group of the account and replaces its members.
func (s *Service) UpdateGroup(ctx context.Context, accountID int64, g Group) error {
	g.Members = sortedUnique(g.Members)
	err := s.change(ctx, accountID, func(r *Records) error {
		i := findGroup(*r, g.ID)
		if i < 0 {
			return station.ErrNotFound
		}
		r.Groups[i] = g.Group
		return setMembers(r, g.ID, g.Members)
	}, func() error {
		return s.store.UpdateAccessGroup(ctx, accountID, g.Group, g.Members, s.now().UTC())
	})
	if err != nil {
		return fmt.Errorf("authz: update group %d: %w", g.ID, err)
	}
	return nil
}

// DeleteGroup deletes a group of the account with its memberships and grants.
func (s *Service) DeleteGroup(ctx context.Context, accountID, id int64) error {
	err := s.change(ctx, accountID, func(r *Records) error {
		i := findGroup(*r, id)
		if i < 0 {
			return station.ErrNotFound
		}
		r.Groups = slices.Delete(r.Groups, i, i+1)
		if err := setMembers(r, id, nil); err != nil {
			return err
		}
		for j := range r.Stations {
			r.Stations[j].Grants = slices.DeleteFunc(r.Stations[j].Grants, func(g access.Grant) bool { return g.GroupID == id })
		}
		return nil
	}, func() error {
		return s.store.DeleteAccessGroup(ctx, accountID, id)
	})
	if err != nil {
		return fmt.Errorf("authz: delete group %d: %w", id, err)
	}
	return nil
}

// SaveTag registers a tag of the account, or replaces what the account says of it, with
// the user it belongs to (0: none). The times it was seen at stations stay those recorded.
func (s *Service) SaveTag(ctx context.Context, tag station.IdTag, userID int64) error {
	err := s.change(ctx, tag.AccountID, func(r *Records) error {
		t := access.Tag{IdTag: tag.IdTag, UserID: userID, ParentIdTag: tag.ParentIdTag, ExpiresAt: tag.ExpiresAt, Blocked: tag.Blocked}
		if i := slices.IndexFunc(r.Tags, func(x access.Tag) bool { return x.IdTag == tag.IdTag }); i >= 0 {
			r.Tags[i] = t
		} else {
			r.Tags = append(r.Tags, t)
		}
		return nil
	}, func() error {
		return s.store.SaveAccessTag(ctx, tag, userID)
	})
	if err != nil {
		return fmt.Errorf("authz: save tag %q: %w", tag.IdTag, err)
	}
	return nil
}

// SaveStationRule creates or replaces the access rule of a station of the account.
func (s *Service) SaveStationRule(ctx context.Context, accountID int64, rule access.StationRule) error {
	err := s.change(ctx, accountID, func(r *Records) error {
		if i := findStation(*r, rule.StationID); i >= 0 {
			r.Stations[i] = rule
		} else {
			r.Stations = append(r.Stations, rule)
		}
		return nil
	}, func() error {
		return s.store.SaveStationAccess(ctx, accountID, rule, s.now().UTC())
	})
	if err != nil {
		return fmt.Errorf("authz: access of station %d: %w", rule.StationID, err)
	}
	return nil
}

// DeleteStationRule removes the access rule of a station of the account: it is public again.
func (s *Service) DeleteStationRule(ctx context.Context, accountID, stationID int64) error {
	err := s.change(ctx, accountID, func(r *Records) error {
		if i := findStation(*r, stationID); i >= 0 {
			r.Stations = slices.Delete(r.Stations, i, i+1)
		}
		return nil
	}, func() error {
		return s.store.DeleteStationAccess(ctx, accountID, stationID)
	})
	if err != nil {
		return fmt.Errorf("authz: access of station %d: %w", stationID, err)
	}
	return nil
}

// clone copies the records deeply enough for an edit: the slices an edit changes.
func (r Records) clone() Records {
	out := r
	out.Users = slices.Clone(r.Users)
	for i := range out.Users {
		out.Users[i].GroupIDs = slices.Clone(out.Users[i].GroupIDs)
	}
	out.Groups = slices.Clone(r.Groups)
	out.Tags = slices.Clone(r.Tags)
	out.Stations = slices.Clone(r.Stations)
	for i := range out.Stations {
		out.Stations[i].Grants = slices.Clone(out.Stations[i].Grants)
	}
	return out
}

func findUser(r Records, id int64) int {
	return slices.IndexFunc(r.Users, func(u access.User) bool { return u.ID == id })
}

func findGroup(r Records, id int64) int {
	return slices.IndexFunc(r.Groups, func(g access.Group) bool { return g.ID == id })
}

func findStation(r Records, id int64) int {
	return slices.IndexFunc(r.Stations, func(s access.StationRule) bool { return s.StationID == id })
}

// members are the users of group id, ascending.
func members(r Records, id int64) []int64 {
	var out []int64
	for _, u := range r.Users {
		if slices.Contains(u.GroupIDs, id) {
			out = append(out, u.ID)
		}
	}
	return out
}

// setMembers makes the users of ids, and only them, members of the group. An id that is
// not a user of the account is station.ErrNotFound.
func setMembers(r *Records, group int64, ids []int64) error {
	for _, id := range ids {
		if findUser(*r, id) < 0 {
			return fmt.Errorf("member %d: %w", id, ErrUnknownMember)
		}
	}
	for i := range r.Users {
		u := &r.Users[i]
		u.GroupIDs = slices.DeleteFunc(u.GroupIDs, func(g int64) bool { return g == group })
		if slices.Contains(ids, u.ID) {
			u.GroupIDs = append(u.GroupIDs, group)
		}
	}
	return nil
}

// ErrUnknownMember is a group member who is not a user of the account.
var ErrUnknownMember = errors.New("not a user of the account")

func nextID[T any](xs []T, id func(T) int64) int64 {
	var m int64
	for _, x := range xs {
		m = max(m, id(x))
	}
	return m + 1
}

func sortedUnique(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
