// Package access decides who may charge at which station and when: an account's drivers
// (users), their RFID tags, user groups, and per station an access mode (public, members,
// private) with weekly windows in the account's time zone, holiday exceptions included.
//
// Its answer is the OCPP authorization status a station gets at Authorize and
// StartTransaction, with how long the station may cache it, so that an offline station
// does not let a driver charge past the end of their window; the same rules give the
// station's Local Authorization List and the moment a running session's window closes.
//
// The package is pure: Decide, WindowEnd and LocalList are functions of the rules and the
// time they are given. It reads no clock, keeps no state, starts no goroutines and does no
// I/O; the caller loads the rules, builds a Rules with NewRules whenever they change, and
// records what happened (unknown drivers, stopped sessions). It does not price sessions.
package access

import (
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/station"
)

// Query asks whether a tag may charge at a station at a moment.
type Query struct {
	StationID int64
	IdTag     string
	At        time.Time
	// Starting is true at StartTransaction, false at Authorize.
	Starting bool
	// OpenTransactions is how many transactions the tag has open in the account, on any
	// station or connector, not counting the one being started (the caller leaves out a
	// StartTransaction the station repeats).
	OpenTransactions int
}

// Decision is the answer to a Query. Its station.Decision is what the station gets in
// idTagInfo, so an Authorizer returns it as it is.
type Decision struct {
	station.Decision
	// UserID is the user the tag acts for: its own, or its nearest parent's; 0 for none.
	UserID int64
	// Reason says why, for the operator: "group Employees Mon-Fri 07:00-18:00",
	// "outside the windows of public Sat,Sun 00:00-24:00", "tag 04A1 is blocked".
	Reason string
	// Unknown is true for a tag the account never registered. A public station accepts it
	// as an unknown driver, whose usage the caller records.
	Unknown bool
	// WindowEnd is when the windows that admit the tag stop admitting it without a break,
	// looking at most a week ahead; zero when access is not bounded by windows.
	WindowEnd time.Time
}

// horizon is how far ahead Decide follows windows that continue one another. Access that
// lasts longer is cached and bounded by the horizon, and checked again then.
const horizon = 7 * day

// Decide decides a Query, in this order:
//   - the free pseudo tag is Accepted only at a free-vending station, within its station
//     windows, and never counts as concurrent;
//   - a tag the account does not know is Accepted (Unknown) at a public station within its
//     station windows, and Invalid elsewhere;
//   - a blocked tag, a tag of a blocked user, or a child of a blocked parent is Blocked;
//   - a tag past its own or an ancestor's expiry is Expired;
//   - a tag admitted by none of the station's audiences open now is Invalid: the owner
//     (always), everyone on a public station (within the station windows), the tag's user
//     and the user's groups if granted (within each grant's windows); a private station
//     admits only its owner;
//   - at StartTransaction, a tag that already has an open transaction is ConcurrentTx. At
//     Authorize it is not, because a driver presents the tag to stop the transaction.
//
// A station without a rule is public, as every station is before its owner says otherwise.
// CacheUntil of an Accepted tag is the earliest of its expiry and WindowEnd; an Expired
// one carries the expiry, as station.DecideTag does; other statuses have none.
func Decide(r *Rules, q Query) Decision {
	st := r.station(q.StationID)
	var d Decision
	if isFree(q.IdTag) {
		if st.vending == nil {
			d.Status = station.AuthInvalid
			d.Reason = "station " + strconv.FormatInt(q.StationID, 10) + " is not set up for free vending"
			return d
		}
		v := r.admit([]*audience{st.vending}, q.At)
		prefix := ""
		if st.mode == ModePublic {
			prefix = "free vending: "
		}
		return v.decision(d, time.Time{}, prefix)
	}
	if q.IdTag == "" {
		d.Status, d.Reason = station.AuthInvalid, "no idTag"
		return d
	}
	t := r.lookup(q.IdTag)
	var holder *user
	var expires time.Time
	if t == nil {
		d.Unknown = true
		if st.mode != ModePublic {
			d.Status = station.AuthInvalid
			d.Reason = "unknown tag; the station admits only members"
			if st.mode == ModePrivate {
				d.Reason = "unknown tag; the station is private"
			}
			return d
		}
	} else {
		d.ParentIdTag, holder, expires = t.ParentIdTag, t.holder, t.expires
		if holder != nil {
			d.UserID = holder.id
		}
		if t.blockedWhy != "" {
			d.Status, d.Reason = station.AuthBlocked, t.blockedWhy
			return d
		}
		if !expires.IsZero() && !q.At.Before(expires) {
			d.Status, d.Reason = station.AuthExpired, t.expiredWhy+" "+expires.In(r.loc).Format(time.DateTime)
			d.CacheUntil = expires
			return d
		}
	}
	var buf [8]*audience
	v := r.admit(st.audiences(buf[:0], holder), q.At)
	if !v.ok && v.reason == "" {
		v.reason = st.closedTo(holder)
	}
	if v.ok && q.Starting && q.OpenTransactions > 0 {
		d.Status = station.AuthConcurrentTx
		d.Reason = "already in " + strconv.Itoa(q.OpenTransactions) + " open transaction(s)"
		return d
	}
	prefix := ""
	if d.Unknown {
		prefix = "unknown driver: "
	}
	return v.decision(d, expires, prefix)
}

// WindowEnd is when a session that started at start stops being admitted by the windows
// of the station, and what the station's rule says should happen then. ok is false when
// the tag was not Accepted at start or its access is not bounded by windows.
//
// The end looks at most a week ahead. At end, the caller asks again (Decide, or WindowEnd
// with start=end) before it stops a session: the rules may have changed since, and access
// that continues past the horizon is only known then.
func WindowEnd(r *Rules, stationID int64, idTag string, start time.Time) (end time.Time, policy WindowEndPolicy, ok bool) {
	st := r.station(stationID)
	d := Decide(r, Query{StationID: stationID, IdTag: idTag, At: start})
	if d.Status != station.AuthAccepted || d.WindowEnd.IsZero() {
		return time.Time{}, st.policy, false
	}
	return d.WindowEnd, st.policy, true
}

func (r *Rules) station(id int64) *stationAccess {
	if st := r.stations[id]; st != nil {
		return st
	}
	return &stationAccess{mode: ModePublic, policy: AllowFinish, public: &audience{label: "public (station has no rule)"}}
}

// audiences appends to buf the station's audiences a tag of user u (nil: none) may belong
// to: the public, the owner, u's grant and u's groups' grants.
func (st *stationAccess) audiences(buf []*audience, u *user) []*audience {
	if st.public != nil {
		buf = append(buf, st.public)
	}
	if u == nil {
		return buf
	}
	if st.owner != nil && st.ownerID == u.id {
		buf = append(buf, st.owner)
	}
	if st.mode == ModePrivate {
		return buf
	}
	if a := st.users[u.id]; a != nil {
		buf = append(buf, a)
	}
	for _, g := range u.groups {
		if a := st.groups[g]; a != nil {
			buf = append(buf, a)
		}
	}
	return buf
}

// closedTo says why a station has no audience for the holder of a tag.
func (st *stationAccess) closedTo(u *user) string {
	switch {
	case st.mode == ModePrivate:
		return "private station: only its owner's tags"
	case u == nil:
		return "the tag belongs to no user, and the station admits only members"
	default:
		return "user " + userLabel(u) + " is not granted on the station"
	}
}

// verdict is whether any audience admits a tag at a moment.
type verdict struct {
	ok     bool
	reason string
	// end is when continuous access ends, in Unix seconds; bounded is false when it does not.
	end     int64
	bounded bool
}

// admit checks whether any of the audiences admits at time at. With none, the verdict is
// no, without a reason.
func (r *Rules) admit(auds []*audience, at time.Time) verdict {
	if len(auds) == 0 {
		return verdict{}
	}
	// Owners and grants without windows come first: they admit at any time, so access
	// does not end.
	for _, a := range auds {
		if len(a.windows) == 0 {
			return verdict{ok: true, reason: a.label}
		}
	}
	u := at.Unix()
	z := newZone(r.loc, u)
	for _, a := range auds {
		for i := range a.windows {
			if _, ok := a.windows[i].endAt(u, &z); ok {
				return verdict{ok: true, reason: a.windows[i].reason, bounded: true, end: coverEnd(auds, u, &z)}
			}
		}
	}
	return verdict{reason: outside(auds, u, &z)}
}

// decision completes d with the verdict: Accepted with its cache expiry, or Invalid.
func (v verdict) decision(d Decision, expires time.Time, prefix string) Decision {
	if !v.ok {
		d.Status = station.AuthInvalid
		d.Reason = prefix + v.reason
		return d
	}
	d.Status = station.AuthAccepted
	d.Reason = v.reason
	if prefix != "" {
		d.Reason = prefix + v.reason
	}
	d.CacheUntil = expires
	if v.bounded {
		d.WindowEnd = time.Unix(v.end, 0)
		if d.CacheUntil.IsZero() || d.WindowEnd.Before(d.CacheUntil) {
			d.CacheUntil = d.WindowEnd
		}
	}
	return d
}

// coverEnd follows the openings of the audiences' windows from instant u, the one
// containing u and those that continue it without a gap, and returns where they stop, or
// the first end past the horizon.
func coverEnd(auds []*audience, u int64, z *zone) int64 {
	const maxSteps = 64 // a safe, earlier end if windows are cut very fine
	cur := u
	for range maxSteps {
		next := cur
		for _, a := range auds {
			for i := range a.windows {
				if e, ok := a.windows[i].endAt(cur, z); ok && e > next {
					next = e
				}
			}
		}
		if next == cur || next-u >= horizon {
			return next
		}
		cur = next
	}
	return cur
}

// outside says which windows were closed at u, and which were closed only for a date.
func outside(auds []*audience, u int64, z *zone) string {
	var b strings.Builder
	b.WriteString("outside the windows of ")
	for i, a := range auds {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(a.label)
		for j := range a.windows {
			w := &a.windows[j]
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(" ")
			b.WriteString(w.label)
			if n, ok := w.wouldContain(u, z); ok {
				b.WriteString(" (not on " + time.Unix(n*day, 0).UTC().Format(time.DateOnly) + ")")
			}
		}
	}
	return b.String()
}
