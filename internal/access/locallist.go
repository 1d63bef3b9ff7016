package access

import (
	"time"

	"github.com/chargebook/chargebook/internal/station"
)

// Entry is one entry of a station's Local Authorization List (SendLocalList).
type Entry struct {
	IdTag       string
	Status      station.AuthStatus
	ExpiryDate  time.Time // zero: none
	ParentIdTag string
}

// LocalList is the Local Authorization List a station should hold at time at, ordered by
// idTag: the registered tags the station's rules admit at that moment, as Decide would
// answer them at Authorize, with the same expiry (CacheUntil).
//
// An OCPP local list has no windows, only an expiry per tag. A tag admitted by a window is
// therefore listed with the expiry of its window's end, so that an offline station stops
// admitting it then, and a tag whose windows are closed at `at` is left out: offline, the
// station refuses it as it refuses any tag it does not know (which is why a members or
// private station should run with AllowOfflineTxForUnknownId false). The caller sends the
// list again, as a differential update (DiffLocalList), when windows open and close and
// when the rules change.
//
// Tags the rules would admit but that are blocked or expired are listed with that status,
// so that an offline station refuses them even if it lets unknown tags charge. Unknown
// tags and the free pseudo tag are never listed. On a public station every registered
// tag is listed; the caller cuts the list to the station's SendLocalListMaxLength.
func LocalList(r *Rules, stationID int64, at time.Time) []Entry {
	st := r.station(stationID)
	var out []Entry
	var buf [8]*audience
	for _, t := range r.order {
		v := r.admit(st.audiences(buf[:0], t.holder), at)
		if !v.ok {
			continue
		}
		e := Entry{IdTag: t.IdTag, ParentIdTag: t.ParentIdTag}
		switch {
		case t.blockedWhy != "":
			e.Status = station.AuthBlocked
		case !t.expires.IsZero() && !at.Before(t.expires):
			e.Status, e.ExpiryDate = station.AuthExpired, t.expires
		default:
			d := v.decision(Decision{}, t.expires, "")
			e.Status, e.ExpiryDate = d.Status, d.CacheUntil
		}
		out = append(out, e)
	}
	return out
}

// DiffLocalList is the differential update that turns a station's list old into next: the
// entries that are new or changed (upserts, in next's order) and the idTags to remove (in
// old's order). IdTags match without regard to case, as OCPP's do; an entry whose idTag
// only changed case is an upsert.
func DiffLocalList(old, next []Entry) (upserts []Entry, removals []string) {
	have := make(map[string]Entry, len(old))
	for _, e := range old {
		have[tagKey(e.IdTag)] = e
	}
	want := make(map[string]bool, len(next))
	for _, e := range next {
		k := tagKey(e.IdTag)
		want[k] = true
		if o, ok := have[k]; ok && sameEntry(o, e) {
			continue
		}
		upserts = append(upserts, e)
	}
	for _, e := range old {
		if !want[tagKey(e.IdTag)] {
			removals = append(removals, e.IdTag)
		}
	}
	return upserts, removals
}

func sameEntry(a, b Entry) bool {
	return a.IdTag == b.IdTag && a.Status == b.Status && a.ParentIdTag == b.ParentIdTag && a.ExpiryDate.Equal(b.ExpiryDate)
}
