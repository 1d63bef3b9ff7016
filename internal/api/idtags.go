package api

import (
	"context"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/station"
)

func (a *API) idTagRoutes() []Route {
	return []Route{
		{Method: "GET", Path: Prefix + "id-tags", Handle: a.listIdTags},
		{Method: "GET", Path: Prefix + "id-tags/{idTag}", Handle: a.getIdTag},
		{Method: "PUT", Path: Prefix + "id-tags/{idTag}", Handle: a.putIdTag},
		{Method: "PATCH", Path: Prefix + "id-tags/{idTag}", Handle: a.patchIdTag},
	}
}

// maxIdTagLength is OCPP 1.6's IdToken, a CiString20Type.
const maxIdTagLength = 20

type idTagJSON struct {
	IdTag       string     `json:"idTag"`
	ParentIdTag *string    `json:"parentIdTag"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	Blocked     bool       `json:"blocked"`
	// Known is false for a tag the account never registered and only saw at a station.
	Known bool `json:"known"`
	// UserID is the user the tag belongs to (see access.go); null when it stands alone.
	UserID *int64 `json:"userId"`
	// Status is what a station is told of the tag now: Accepted, Blocked or Expired.
	Status      string     `json:"status"`
	FirstSeenAt *time.Time `json:"firstSeenAt"`
	LastSeenAt  *time.Time `json:"lastSeenAt"`
}

func (a *API) toIdTagJSON(tag station.IdTag, userID int64) idTagJSON {
	return idTagJSON{
		IdTag: tag.IdTag, ParentIdTag: jsonString(tag.ParentIdTag), ExpiresAt: jsonTime(tag.ExpiresAt),
		Blocked: tag.Blocked, Known: tag.Known, UserID: jsonID(userID), Status: string(station.DecideTag(tag, a.deps.Now()).Status),
		FirstSeenAt: jsonTime(tag.FirstSeenAt), LastSeenAt: jsonTime(tag.LastSeenAt),
	}
}

// idTagBody is the body of PUT and PATCH; PUT takes an absent property as null.
type idTagBody struct {
	ParentIdTag Optional[string]    `json:"parentIdTag"`
	ExpiresAt   Optional[time.Time] `json:"expiresAt"`
	Blocked     Optional[bool]      `json:"blocked"`
	UserID      Optional[int64]     `json:"userId"`
}

// apply sets what the body sends on tag, after checking it.
func (b idTagBody) apply(tag *station.IdTag) error {
	if b.ParentIdTag.Set {
		if n := utf8.RuneCountInString(b.ParentIdTag.Value); n > maxIdTagLength {
			return invalidField("parentIdTag", "has %d characters; OCPP allows at most %d", n, maxIdTagLength)
		}
		tag.ParentIdTag = b.ParentIdTag.Value // "" when null
	}
	if b.ExpiresAt.Set {
		tag.ExpiresAt = b.ExpiresAt.Value.UTC() // the zero time, never, when null
	}
	if b.Blocked.Set {
		if b.Blocked.Null {
			return invalidField("blocked", "want true or false, not null")
		}
		tag.Blocked = b.Blocked.Value
	}
	return nil
}

// idTagParam reads the {idTag} wildcard.
func idTagParam(r *http.Request) (string, error) {
	s := r.PathValue("idTag")
	if n := utf8.RuneCountInString(s); n > maxIdTagLength {
		return "", invalidField("idTag", "has %d characters; OCPP allows at most %d", n, maxIdTagLength)
	}
	return s, nil
}

// idTag finds a tag of the account, registered or only seen.
//
// station.Store has no read of one tag, so this goes through the account's list: it serves
// the operator's writes, which are rare, not the stations' authorizations.
func (a *API) idTag(ctx context.Context, accountID int64, idTag string) (station.IdTag, bool, error) {
	tags, err := a.deps.Stations.IdTags(ctx, accountID)
	if err != nil {
		return station.IdTag{}, false, err
	}
	for _, t := range tags {
		if t.IdTag == idTag {
			return t, true, nil
		}
	}
	return station.IdTag{}, false, nil
}

// tagUsers is the user of each tag of the account that has one; none without Access.
func (a *API) tagUsers(ctx context.Context, accountID int64) (map[string]int64, error) {
	if a.deps.Access == nil {
		return nil, nil
	}
	return a.deps.Access.TagUsers(ctx, accountID)
}

func (a *API) listIdTags(w http.ResponseWriter, r *http.Request) error {
	tags, err := a.deps.Stations.IdTags(r.Context(), Account(r).ID)
	if err != nil {
		return err
	}
	users, err := a.tagUsers(r.Context(), Account(r).ID)
	if err != nil {
		return err
	}
	out := make([]idTagJSON, 0, len(tags))
	for _, t := range tags {
		out = append(out, a.toIdTagJSON(t, users[t.IdTag]))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"idTags": out})
	return nil
}

// existingIdTag finds the tag the path names; none is a 404.
func (a *API) existingIdTag(r *http.Request) (station.IdTag, error) {
	name, err := idTagParam(r)
	if err != nil {
		return station.IdTag{}, err
	}
	tag, ok, err := a.idTag(r.Context(), Account(r).ID, name)
	if err != nil {
		return station.IdTag{}, err
	}
	if !ok {
		return station.IdTag{}, Errorf(http.StatusNotFound, CodeNotFound, "idTag", "no id tag %q", name)
	}
	return tag, nil
}

func (a *API) getIdTag(w http.ResponseWriter, r *http.Request) error {
	tag, err := a.existingIdTag(r)
	if err != nil {
		return err
	}
	users, err := a.tagUsers(r.Context(), Account(r).ID)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, a.toIdTagJSON(tag, users[tag.IdTag]))
	return nil
}

// putIdTag registers a tag or replaces what the account says of it: 201 when the account
// had no record of it, 200 otherwise.
func (a *API) putIdTag(w http.ResponseWriter, r *http.Request) error {
	name, err := idTagParam(r)
	if err != nil {
		return err
	}
	if name == "" {
		return invalidField("idTag", "must not be empty")
	}
	var body idTagBody
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	// A replacement: what the body leaves out is cleared.
	body.ParentIdTag.Set, body.ExpiresAt.Set, body.UserID.Set = true, true, true
	if !body.Blocked.Set {
		body.Blocked = Optional[bool]{Set: true}
	}
	acctID := Account(r).ID
	old, existed, err := a.idTag(r.Context(), acctID, name)
	if err != nil {
		return err
	}
	tag := station.IdTag{AccountID: acctID, IdTag: name, FirstSeenAt: old.FirstSeenAt, LastSeenAt: old.LastSeenAt}
	if err := body.apply(&tag); err != nil {
		return err
	}
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	return a.saveIdTag(w, r, tag, body.UserID, status)
}

// patchIdTag changes what the body sends of a tag the account has: blocks or unblocks it,
// sets or clears its expiry (an expiry now or earlier expires it).
func (a *API) patchIdTag(w http.ResponseWriter, r *http.Request) error {
	tag, err := a.existingIdTag(r)
	if err != nil {
		return err
	}
	var body idTagBody
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if err := body.apply(&tag); err != nil {
		return err
	}
	return a.saveIdTag(w, r, tag, body.UserID, http.StatusOK)
}

// saveIdTag stores the tag with the user the body sets (or the one it has, when the body
// leaves it out) and answers with it. The store keeps the times the tag was seen at
// stations as it recorded them; the answer has those read before.
//
// With Access, the tag is checked with the account's rules (a parent that loops back to
// the tag, an idTag that differs from another only in case) before it is stored.
func (a *API) saveIdTag(w http.ResponseWriter, r *http.Request, tag station.IdTag, user Optional[int64], status int) error {
	tag.Known = true // what the operator registers is known
	ctx := r.Context()
	if a.deps.Access == nil {
		if user.Set && user.Value != 0 {
			return Errorf(http.StatusServiceUnavailable, CodeUnavailable, "userId", "this server has no access rules: tags have no users")
		}
		if err := a.deps.Stations.SaveIdTag(ctx, tag); err != nil {
			return err
		}
		WriteJSON(w, status, a.toIdTagJSON(tag, 0))
		return nil
	}
	users, err := a.deps.Access.TagUsers(ctx, tag.AccountID)
	if err != nil {
		return err
	}
	userID := users[tag.IdTag]
	if user.Set {
		userID = user.Value // 0 when null
		if userID != 0 {
			if _, err := a.deps.Access.User(ctx, tag.AccountID, userID); errors.Is(err, station.ErrNotFound) {
				return invalidField("userId", "no user %d in the account", userID)
			} else if err != nil {
				return err
			}
		}
	}
	if err := a.deps.Access.SaveTag(ctx, tag, userID); err != nil {
		field := ""
		switch {
		case errors.Is(err, access.ErrParentCycle):
			field = "parentIdTag"
		case errors.Is(err, access.ErrDuplicate):
			field = "idTag"
		}
		return accessError(err, field)
	}
	WriteJSON(w, status, a.toIdTagJSON(tag, userID))
	return nil
}
