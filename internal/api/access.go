package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/station"
)

// Who may charge where and when (packages access and authz): the account's drivers
// (users), user groups, the user of each id tag, each station's access rule, a preview of
// a decision, and the sync of a station's local list with the rules.
//
// Every change is checked against the whole account before it is stored. What a request
// gets wrong is a 400 naming the property (an unknown group, a window time that is not
// one, windows of one grant that overlap); what the account's other records contradict
// is a 400 naming every problem; a name that is taken, or a user who owns a station, a 409.

// Access is what the API needs of package authz; *authz.Service implements it.
type Access interface {
	Users(ctx context.Context, accountID int64) ([]access.User, error)
	User(ctx context.Context, accountID, id int64) (access.User, error)
	CreateUser(ctx context.Context, accountID int64, u access.User) (access.User, error)
	UpdateUser(ctx context.Context, accountID int64, u access.User) error
	DeleteUser(ctx context.Context, accountID, id int64) error
	Groups(ctx context.Context, accountID int64) ([]authz.Group, error)
	Group(ctx context.Context, accountID, id int64) (authz.Group, error)
	CreateGroup(ctx context.Context, accountID int64, g authz.Group) (authz.Group, error)
	UpdateGroup(ctx context.Context, accountID int64, g authz.Group) error
	DeleteGroup(ctx context.Context, accountID, id int64) error
	// TagUsers is the user of each registered tag that has one, by idTag.
	TagUsers(ctx context.Context, accountID int64) (map[string]int64, error)
	// SaveTag registers or replaces a tag with its user (0: none).
	SaveTag(ctx context.Context, tag station.IdTag, userID int64) error
	StationRule(ctx context.Context, accountID, stationID int64) (rule access.StationRule, ok bool, err error)
	SaveStationRule(ctx context.Context, accountID int64, r access.StationRule) error
	DeleteStationRule(ctx context.Context, accountID, stationID int64) error
	Location(ctx context.Context, accountID int64) (*time.Location, error)
	Preview(ctx context.Context, accountID int64, q access.Query) (access.Decision, error)
	SyncLocalList(ctx context.Context, accountID int64, chargePointID string) (authz.SyncResult, error)
}

// The error codes of the access routes.
const (
	CodeInvalidRules = "invalid_rules" // 400: the change contradicts the account's other rules
	CodeConflict     = "conflict"      // 409: a name taken, or a record still in use
)

// Limits on what a request may set, so that checking a change stays cheap.
const (
	maxNameLength = 200
	maxWindows    = 50
	maxGrants     = 1000
)

func (a *API) accessRoutes() []Route {
	st := Prefix + "stations/{chargePointId}/"
	return []Route{
		{Method: "GET", Path: Prefix + "users", Handle: a.listUsers},
		{Method: "POST", Path: Prefix + "users", Handle: a.createUser},
		{Method: "GET", Path: Prefix + "users/{userId}", Handle: a.getUser},
		{Method: "PATCH", Path: Prefix + "users/{userId}", Handle: a.patchUser},
		{Method: "DELETE", Path: Prefix + "users/{userId}", Handle: a.deleteUser},
		{Method: "GET", Path: Prefix + "groups", Handle: a.listGroups},
		{Method: "POST", Path: Prefix + "groups", Handle: a.createGroup},
		{Method: "GET", Path: Prefix + "groups/{groupId}", Handle: a.getGroup},
		{Method: "PATCH", Path: Prefix + "groups/{groupId}", Handle: a.patchGroup},
		{Method: "DELETE", Path: Prefix + "groups/{groupId}", Handle: a.deleteGroup},
		{Method: "GET", Path: st + "access", Handle: a.getStationAccess},
		{Method: "PUT", Path: st + "access", Handle: a.putStationAccess},
		{Method: "DELETE", Path: st + "access", Handle: a.deleteStationAccess},
		{Method: "POST", Path: st + "local-list/sync", Handle: a.syncLocalList},
		{Method: "POST", Path: Prefix + "authorize-preview", Handle: a.authorizePreview},
	}
}

// access returns the access service, or the 503 of a server that has none.
func (a *API) access() (Access, error) {
	if a.deps.Access == nil {
		return nil, Errorf(http.StatusServiceUnavailable, CodeUnavailable, "", "this server has no access rules")
	}
	return a.deps.Access, nil
}

// accessError turns an error of a change into the API's answer: field names the property
// the request sets that the problems are about.
func accessError(err error, field string) error {
	var inv *access.InvalidError
	switch {
	case errors.As(err, &inv):
		if len(inv.Problems) > 0 && errors.Is(err, access.ErrDuplicate) && allAre(inv, access.ErrDuplicate) {
			return Errorf(http.StatusConflict, CodeConflict, field, "%s", problemsText(inv))
		}
		return Errorf(http.StatusBadRequest, CodeInvalidRules, field, "%s", problemsText(inv))
	case errors.Is(err, authz.ErrInUse):
		_, msg, _ := strings.Cut(err.Error(), authz.ErrInUse.Error()+": ")
		return Errorf(http.StatusConflict, CodeConflict, "", "%s", msg)
	}
	return err
}

func allAre(inv *access.InvalidError, kind error) bool {
	for _, p := range inv.Problems {
		if !errors.Is(p.Err, kind) {
			return false
		}
	}
	return true
}

func problemsText(inv *access.InvalidError) string {
	parts := make([]string, len(inv.Problems))
	for i, p := range inv.Problems {
		parts[i] = p.Error()
	}
	return "the rules would not hold: " + strings.Join(parts, "; ")
}

// idParam reads a numeric path wildcard; anything else is a 404 naming it, as an id no
// record has.
func idParam(r *http.Request, name, what string) (int64, error) {
	s := r.PathValue(name)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, Errorf(http.StatusNotFound, CodeNotFound, name, "no %s %q", what, s)
	}
	return id, nil
}

// ---- Users ----

type userJSON struct {
	ID       int64   `json:"id"`
	Name     string  `json:"name"`
	Email    *string `json:"email"`
	Language *string `json:"language"`
	// Blocked blocks every tag of the user.
	Blocked  bool     `json:"blocked"`
	GroupIDs []int64  `json:"groupIds"`
	IdTags   []string `json:"idTags"` // the registered tags that belong to the user
}

func toUserJSON(u access.User, tags map[string]int64) userJSON {
	out := userJSON{ID: u.ID, Name: u.Name, Email: jsonString(u.Email), Language: jsonString(u.Language),
		Blocked: u.Blocked, GroupIDs: slices.Clone(u.GroupIDs), IdTags: []string{}}
	if out.GroupIDs == nil {
		out.GroupIDs = []int64{}
	}
	slices.Sort(out.GroupIDs)
	for tag, user := range tags {
		if user == u.ID {
			out.IdTags = append(out.IdTags, tag)
		}
	}
	slices.Sort(out.IdTags)
	return out
}

// userBody is the body of POST (name required) and PATCH.
type userBody struct {
	Name     Optional[string]  `json:"name"`
	Email    Optional[string]  `json:"email"`
	Language Optional[string]  `json:"language"`
	Blocked  Optional[bool]    `json:"blocked"`
	GroupIDs Optional[[]int64] `json:"groupIds"`
}

// languageTag matches a language tag such as de, fr, en or de-CH.
var languageTag = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)

// apply sets what the body sends on u, after checking it against the account's groups.
func (b userBody) apply(u *access.User, groups []authz.Group) error {
	if b.Name.Set {
		name := strings.TrimSpace(b.Name.Value)
		switch n := utf8.RuneCountInString(name); {
		case n == 0:
			return invalidField("name", "must not be empty")
		case n > maxNameLength:
			return invalidField("name", "has %d characters; at most %d", n, maxNameLength)
		}
		u.Name = name
	}
	if b.Email.Set {
		email := strings.TrimSpace(b.Email.Value)
		if email != "" {
			if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
				return invalidField("email", "%q is not an e-mail address", email)
			}
		}
		u.Email = email
	}
	if b.Language.Set {
		if b.Language.Value != "" && !languageTag.MatchString(b.Language.Value) {
			return invalidField("language", "%q is not a language tag such as de, fr, en or de-CH", b.Language.Value)
		}
		u.Language = b.Language.Value
	}
	if b.Blocked.Set {
		if b.Blocked.Null {
			return invalidField("blocked", "want true or false, not null")
		}
		u.Blocked = b.Blocked.Value
	}
	if b.GroupIDs.Set {
		for i, id := range b.GroupIDs.Value {
			if !slices.ContainsFunc(groups, func(g authz.Group) bool { return g.ID == id }) {
				return invalidField(fmt.Sprintf("groupIds[%d]", i), "no group %d in the account", id)
			}
		}
		u.GroupIDs = sortedUnique(b.GroupIDs.Value) // [] when null
	}
	return nil
}

func sortedUnique(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	acct := Account(r).ID
	users, err := acc.Users(r.Context(), acct)
	if err != nil {
		return err
	}
	tags, err := acc.TagUsers(r.Context(), acct)
	if err != nil {
		return err
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, toUserJSON(u, tags))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

// user finds the user the path names; none is a 404.
func (a *API) user(r *http.Request, acc Access) (access.User, error) {
	id, err := idParam(r, "userId", "user")
	if err != nil {
		return access.User{}, err
	}
	u, err := acc.User(r.Context(), Account(r).ID, id)
	return u, notFoundAs(err, "userId", "no user %d", id)
}

func (a *API) writeUser(w http.ResponseWriter, r *http.Request, acc Access, id int64, status int) error {
	acct := Account(r).ID
	u, err := acc.User(r.Context(), acct, id)
	if err != nil {
		return err
	}
	tags, err := acc.TagUsers(r.Context(), acct)
	if err != nil {
		return err
	}
	WriteJSON(w, status, toUserJSON(u, tags))
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	u, err := a.user(r, acc)
	if err != nil {
		return err
	}
	return a.writeUser(w, r, acc, u.ID, http.StatusOK)
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	var body userBody
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if !body.Name.Set || body.Name.Null {
		return invalidField("name", "required")
	}
	acct := Account(r).ID
	groups, err := acc.Groups(r.Context(), acct)
	if err != nil {
		return err
	}
	var u access.User
	if err := body.apply(&u, groups); err != nil {
		return err
	}
	u, err = acc.CreateUser(r.Context(), acct, u)
	if err != nil {
		return accessError(err, "")
	}
	w.Header().Set("Location", Prefix+"users/"+strconv.FormatInt(u.ID, 10))
	return a.writeUser(w, r, acc, u.ID, http.StatusCreated)
}

func (a *API) patchUser(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	u, err := a.user(r, acc)
	if err != nil {
		return err
	}
	var body userBody
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if body.Name.Set && body.Name.Null {
		return invalidField("name", "must not be null")
	}
	acct := Account(r).ID
	groups, err := acc.Groups(r.Context(), acct)
	if err != nil {
		return err
	}
	if err := body.apply(&u, groups); err != nil {
		return err
	}
	if err := acc.UpdateUser(r.Context(), acct, u); err != nil {
		return accessError(notFoundAs(err, "userId", "no user %d", u.ID), "")
	}
	return a.writeUser(w, r, acc, u.ID, http.StatusOK)
}

// deleteUser deletes a user: their tags then stand alone, and their grants go. A user who
// owns a station is a 409.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	u, err := a.user(r, acc)
	if err != nil {
		return err
	}
	if err := acc.DeleteUser(r.Context(), Account(r).ID, u.ID); err != nil {
		return accessError(notFoundAs(err, "userId", "no user %d", u.ID), "")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- Groups ----

type groupJSON struct {
	ID      int64   `json:"id"`
	Name    string  `json:"name"`
	Members []int64 `json:"members"` // user ids
}

func toGroupJSON(g authz.Group) groupJSON {
	out := groupJSON{ID: g.ID, Name: g.Name, Members: slices.Clone(g.Members)}
	if out.Members == nil {
		out.Members = []int64{}
	}
	return out
}

type groupBody struct {
	Name    Optional[string]  `json:"name"`
	Members Optional[[]int64] `json:"members"`
}

func (b groupBody) apply(g *authz.Group, users []access.User) error {
	if b.Name.Set {
		name := strings.TrimSpace(b.Name.Value)
		switch n := utf8.RuneCountInString(name); {
		case n == 0:
			return invalidField("name", "must not be empty")
		case n > maxNameLength:
			return invalidField("name", "has %d characters; at most %d", n, maxNameLength)
		}
		g.Name = name
	}
	if b.Members.Set {
		for i, id := range b.Members.Value {
			if !slices.ContainsFunc(users, func(u access.User) bool { return u.ID == id }) {
				return invalidField(fmt.Sprintf("members[%d]", i), "no user %d in the account", id)
			}
		}
		g.Members = sortedUnique(b.Members.Value)
	}
	return nil
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	groups, err := acc.Groups(r.Context(), Account(r).ID)
	if err != nil {
		return err
	}
	out := make([]groupJSON, 0, len(groups))
	for _, g := range groups {
		out = append(out, toGroupJSON(g))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"groups": out})
	return nil
}

func (a *API) group(r *http.Request, acc Access) (authz.Group, error) {
	id, err := idParam(r, "groupId", "group")
	if err != nil {
		return authz.Group{}, err
	}
	g, err := acc.Group(r.Context(), Account(r).ID, id)
	return g, notFoundAs(err, "groupId", "no group %d", id)
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	g, err := a.group(r, acc)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, toGroupJSON(g))
	return nil
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	var body groupBody
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if !body.Name.Set || body.Name.Null {
		return invalidField("name", "required")
	}
	acct := Account(r).ID
	users, err := acc.Users(r.Context(), acct)
	if err != nil {
		return err
	}
	var g authz.Group
	if err := body.apply(&g, users); err != nil {
		return err
	}
	g, err = acc.CreateGroup(r.Context(), acct, g)
	if err != nil {
		return accessError(err, "name")
	}
	w.Header().Set("Location", Prefix+"groups/"+strconv.FormatInt(g.ID, 10))
	WriteJSON(w, http.StatusCreated, toGroupJSON(g))
	return nil
}

// patchGroup renames a group or replaces its members.
func (a *API) patchGroup(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	g, err := a.group(r, acc)
	if err != nil {
		return err
	}
	var body groupBody
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if body.Name.Set && body.Name.Null {
		return invalidField("name", "must not be null")
	}
	acct := Account(r).ID
	users, err := acc.Users(r.Context(), acct)
	if err != nil {
		return err
	}
	if err := body.apply(&g, users); err != nil {
		return err
	}
	if err := acc.UpdateGroup(r.Context(), acct, g); err != nil {
		return accessError(notFoundAs(err, "groupId", "no group %d", g.ID), "name")
	}
	WriteJSON(w, http.StatusOK, toGroupJSON(g))
	return nil
}

// deleteGroup deletes a group with its memberships and the grants it had.
func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	g, err := a.group(r, acc)
	if err != nil {
		return err
	}
	if err := acc.DeleteGroup(r.Context(), Account(r).ID, g.ID); err != nil {
		return accessError(notFoundAs(err, "groupId", "no group %d", g.ID), "")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- Station access ----

type windowJSON struct {
	Days        string   `json:"days"`  // "Mon-Fri", "Sat,Sun"; "" with extraDates only
	Start       string   `json:"start"` // "07:00"
	End         string   `json:"end"`   // "18:00"; "24:00" is midnight
	ExceptDates []string `json:"exceptDates"`
	ExtraDates  []string `json:"extraDates"`
}

type grantJSON struct {
	UserID  *int64       `json:"userId"`
	GroupID *int64       `json:"groupId"`
	Windows []windowJSON `json:"windows"`
}

type stationAccessJSON struct {
	ChargePointID string `json:"chargePointId"`
	// Configured is false for a station without a rule, which is public.
	Configured      bool         `json:"configured"`
	Mode            string       `json:"mode"`
	OwnerUserID     *int64       `json:"ownerUserId"`
	Grants          []grantJSON  `json:"grants"`
	Windows         []windowJSON `json:"windows"`
	FreeVending     bool         `json:"freeVending"`
	WindowEndPolicy string       `json:"windowEndPolicy"`
	// TimeZone is the account's, which the windows are in.
	TimeZone string `json:"timeZone"`
}

func toWindowsJSON(ws []access.Window) []windowJSON {
	out := make([]windowJSON, len(ws))
	for i, w := range ws {
		out[i] = windowJSON{Days: w.Days.String(), Start: w.Start, End: w.End,
			ExceptDates: nonNilStrings(w.ExceptDates), ExtraDates: nonNilStrings(w.ExtraDates)}
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func jsonID(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

// stationAccessBody is the body of PUT: the whole rule; what it leaves out is cleared.
type stationAccessBody struct {
	Mode            *string      `json:"mode"`
	OwnerUserID     *int64       `json:"ownerUserId"`
	Grants          []grantJSON  `json:"grants"`
	Windows         []windowJSON `json:"windows"`
	FreeVending     *bool        `json:"freeVending"`
	WindowEndPolicy *string      `json:"windowEndPolicy"`
}

func (a *API) getStationAccess(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	return a.writeStationAccess(w, r, acc)
}

func (a *API) writeStationAccess(w http.ResponseWriter, r *http.Request, acc Access) error {
	st := Station(r)
	rule, ok, err := acc.StationRule(r.Context(), st.AccountID, st.ID)
	if err != nil {
		return err
	}
	loc, err := acc.Location(r.Context(), st.AccountID)
	if err != nil {
		return err
	}
	out := stationAccessJSON{ChargePointID: st.ChargePointID, Configured: ok, Mode: string(rule.Mode),
		OwnerUserID: jsonID(rule.OwnerUserID), Grants: make([]grantJSON, len(rule.Grants)),
		Windows: toWindowsJSON(rule.StationWindows), FreeVending: rule.FreeVending,
		WindowEndPolicy: string(rule.WindowEndPolicy), TimeZone: loc.String()}
	if out.WindowEndPolicy == "" {
		out.WindowEndPolicy = string(access.AllowFinish)
	}
	for i, g := range rule.Grants {
		out.Grants[i] = grantJSON{UserID: jsonID(g.UserID), GroupID: jsonID(g.GroupID), Windows: toWindowsJSON(g.Windows)}
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// putStationAccess sets a station's access rule. Each property is checked here so that a
// 400 names it; the rule is then checked with the account's other rules.
func (a *API) putStationAccess(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	var body stationAccessBody
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	st := Station(r)
	ctx := r.Context()
	users, err := acc.Users(ctx, st.AccountID)
	if err != nil {
		return err
	}
	groups, err := acc.Groups(ctx, st.AccountID)
	if err != nil {
		return err
	}
	loc, err := acc.Location(ctx, st.AccountID)
	if err != nil {
		return err
	}
	rule, err := body.rule(st.ID, users, groups, loc)
	if err != nil {
		return err
	}
	if err := acc.SaveStationRule(ctx, st.AccountID, rule); err != nil {
		return accessError(err, "")
	}
	return a.writeStationAccess(w, r, acc)
}

// rule checks the body and returns the rule it describes.
func (b stationAccessBody) rule(stationID int64, users []access.User, groups []authz.Group, loc *time.Location) (access.StationRule, error) {
	rule := access.StationRule{StationID: stationID, WindowEndPolicy: access.AllowFinish}
	isUser := func(id int64) bool { return slices.ContainsFunc(users, func(u access.User) bool { return u.ID == id }) }
	isGroup := func(id int64) bool {
		return slices.ContainsFunc(groups, func(g authz.Group) bool { return g.ID == id })
	}
	switch {
	case b.Mode == nil:
		return rule, invalidField("mode", "required: public, members or private")
	case !slices.Contains([]access.Mode{access.ModePublic, access.ModeMembers, access.ModePrivate}, access.Mode(*b.Mode)):
		return rule, invalidField("mode", "%q is none of public, members, private", *b.Mode)
	}
	rule.Mode = access.Mode(*b.Mode)
	if b.WindowEndPolicy != nil {
		switch p := access.WindowEndPolicy(*b.WindowEndPolicy); p {
		case access.AllowFinish, access.StopRemotely:
			rule.WindowEndPolicy = p
		default:
			return rule, invalidField("windowEndPolicy", "%q is neither %s nor %s", p, access.AllowFinish, access.StopRemotely)
		}
	}
	if b.FreeVending != nil {
		rule.FreeVending = *b.FreeVending
	}
	if b.OwnerUserID != nil {
		if !isUser(*b.OwnerUserID) {
			return rule, invalidField("ownerUserId", "no user %d in the account", *b.OwnerUserID)
		}
		rule.OwnerUserID = *b.OwnerUserID
	} else if rule.Mode == access.ModePrivate {
		return rule, invalidField("ownerUserId", "a private station needs an owner")
	}
	if rule.Mode == access.ModePrivate && len(b.Grants) > 0 {
		return rule, invalidField("grants", "a private station admits only its owner: grants need mode members or public")
	}
	if len(b.Windows) > 0 && rule.Mode != access.ModePublic && !rule.FreeVending {
		return rule, invalidField("windows", "station windows are when a public or free-vending station is open to everyone; this one is %s", rule.Mode)
	}
	var err error
	if rule.StationWindows, err = checkWindows("windows", b.Windows, loc); err != nil {
		return rule, err
	}
	if len(b.Grants) > maxGrants {
		return rule, invalidField("grants", "%d grants; at most %d", len(b.Grants), maxGrants)
	}
	for i, g := range b.Grants {
		field := fmt.Sprintf("grants[%d]", i)
		var grant access.Grant
		switch {
		case (g.UserID == nil) == (g.GroupID == nil):
			return rule, invalidField(field, "a grant names exactly one of userId and groupId")
		case g.UserID != nil && !isUser(*g.UserID):
			return rule, invalidField(field+".userId", "no user %d in the account", *g.UserID)
		case g.GroupID != nil && !isGroup(*g.GroupID):
			return rule, invalidField(field+".groupId", "no group %d in the account", *g.GroupID)
		case g.UserID != nil:
			grant.UserID = *g.UserID
		default:
			grant.GroupID = *g.GroupID
		}
		for j, other := range rule.Grants[:i] {
			if other.UserID == grant.UserID && other.GroupID == grant.GroupID {
				return rule, invalidField(field, "grants[%d] names the same %s: put all its windows in one grant", j, grantee(grant))
			}
		}
		if grant.Windows, err = checkWindows(field+".windows", g.Windows, loc); err != nil {
			return rule, err
		}
		rule.Grants = append(rule.Grants, grant)
	}
	return rule, nil
}

func grantee(g access.Grant) string {
	if g.UserID != 0 {
		return fmt.Sprintf("user %d", g.UserID)
	}
	return fmt.Sprintf("group %d", g.GroupID)
}

// windows checks one audience's windows, each alone and then pairwise for overlaps, with
// access.NewRules, so that a 400 names the window at fault.
func checkWindows(field string, in []windowJSON, loc *time.Location) ([]access.Window, error) {
	if len(in) > maxWindows {
		return nil, invalidField(field, "%d windows; at most %d", len(in), maxWindows)
	}
	out := make([]access.Window, len(in))
	for i, wj := range in {
		wf := fmt.Sprintf("%s[%d]", field, i)
		days, err := access.ParseWeekdays(wj.Days)
		if err != nil {
			return nil, invalidField(wf+".days", "%q is not a list of days such as Mon-Fri or Sat,Sun", wj.Days)
		}
		out[i] = access.Window{Days: days, Start: wj.Start, End: wj.End, ExceptDates: wj.ExceptDates, ExtraDates: wj.ExtraDates}
		if p, bad := windowProblem(loc, out[i]); bad {
			return nil, invalidField(wf+windowPart(p.Detail), "%s", p.Detail)
		}
	}
	for k := range out {
		for j := range k {
			if p, bad := windowProblem(loc, out[j], out[k]); bad {
				return nil, invalidField(fmt.Sprintf("%s[%d]", field, k), "overlaps %s[%d]: %s", field, j, p.Detail)
			}
		}
	}
	return out, nil
}

// windowProblem is the first problem access.NewRules finds with windows as those of one
// audience.
func windowProblem(loc *time.Location, ws ...access.Window) (access.Problem, bool) {
	_, err := access.NewRules(nil, nil, nil, []access.StationRule{{StationID: 1, Mode: access.ModePublic, StationWindows: ws}}, loc)
	var inv *access.InvalidError
	if errors.As(err, &inv) && len(inv.Problems) > 0 {
		return inv.Problems[0], true
	}
	return access.Problem{}, false
}

// windowPart is the property of a window a problem's detail is about, when it says.
func windowPart(detail string) string {
	switch {
	case strings.HasPrefix(detail, "start and end"):
		return ".end"
	case strings.HasPrefix(detail, "start "):
		return ".start"
	case strings.HasPrefix(detail, "end "):
		return ".end"
	case strings.HasPrefix(detail, "no days"):
		return ".days"
	}
	return ""
}

// deleteStationAccess removes a station's rule: it is public again.
func (a *API) deleteStationAccess(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	st := Station(r)
	if err := acc.DeleteStationRule(r.Context(), st.AccountID, st.ID); err != nil {
		return accessError(err, "")
	}
	return a.writeStationAccess(w, r, acc)
}

// ---- Local list sync and preview ----

type syncJSON struct {
	// Sent is whether a SendLocalList was sent; Skipped says why not.
	Sent       bool    `json:"sent"`
	Skipped    *string `json:"skipped"`
	UpdateType *string `json:"updateType"` // Full or Differential
	Status     *string `json:"status"`     // the station's answer
	Entries    int     `json:"entries"`
	// OperationID is the SendLocalList in the operations log.
	OperationID *int64 `json:"operationId"`
}

// syncLocalList sends the station the local list the rules give now: the difference to the
// list last sent, or the full list.
func (a *API) syncLocalList(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	if err := emptyBody(r); err != nil {
		return err
	}
	st := Station(r)
	res, err := acc.SyncLocalList(r.Context(), st.AccountID, st.ChargePointID)
	if res.Operation != nil {
		w.Header().Set("Location", Prefix+"operations/"+strconv.FormatInt(res.Operation.ID, 10))
	}
	if errors.Is(err, authz.ErrNoOperations) {
		return Errorf(http.StatusServiceUnavailable, CodeUnavailable, "", "this server sends no remote operations")
	}
	if err != nil {
		return answerError(w, operationError(st.ChargePointID, "SendLocalList", err))
	}
	out := syncJSON{Sent: res.Operation != nil, Skipped: jsonString(res.Skipped), UpdateType: jsonString(string(res.UpdateType)),
		Status: jsonString(string(res.Status)), Entries: res.Entries}
	if res.Operation != nil {
		out.OperationID = &res.Operation.ID
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// emptyBody accepts no body, an empty one, or {}.
func emptyBody(r *http.Request) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	if s := strings.TrimSpace(string(b)); s != "" && s != "{}" {
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "", "this route takes no body, or {}")
	}
	return nil
}

type accessPreviewBody struct {
	ChargePointID string     `json:"chargePointId"`
	IdTag         string     `json:"idTag"`
	At            *time.Time `json:"at"`
	Starting      bool       `json:"starting"`
}

type accessPreviewJSON struct {
	// Status and ExpiryDate are what the station would get in idTagInfo.
	Status      string     `json:"status"`
	ExpiryDate  *time.Time `json:"expiryDate"`
	ParentIdTag *string    `json:"parentIdTag"`
	UserID      *int64     `json:"userId"`
	Reason      string     `json:"reason"`
	Unknown     bool       `json:"unknown"`
	WindowEnd   *time.Time `json:"windowEnd"`
	At          time.Time  `json:"at"`
}

// authorizePreview decides for a tag at a station and a time as the station would be
// answered (Authorize, or StartTransaction with starting), without recording anything.
func (a *API) authorizePreview(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.access()
	if err != nil {
		return err
	}
	var body accessPreviewBody
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if body.ChargePointID == "" {
		return invalidField("chargePointId", "required")
	}
	if body.IdTag == "" {
		return invalidField("idTag", "required")
	}
	if n := utf8.RuneCountInString(body.IdTag); n > maxIdTagLength {
		return invalidField("idTag", "has %d characters; OCPP allows at most %d", n, maxIdTagLength)
	}
	acct := Account(r).ID
	st, err := a.station(r.Context(), acct, body.ChargePointID)
	if err != nil {
		return err
	}
	at := a.deps.Now().UTC()
	if body.At != nil {
		at = body.At.UTC()
	}
	d, err := acc.Preview(r.Context(), acct, access.Query{StationID: st.ID, IdTag: body.IdTag, At: at, Starting: body.Starting})
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, accessPreviewJSON{Status: string(d.Status), ExpiryDate: jsonTime(d.CacheUntil),
		ParentIdTag: jsonString(d.ParentIdTag), UserID: jsonID(d.UserID), Reason: d.Reason, Unknown: d.Unknown,
		WindowEnd: jsonTime(d.WindowEnd), At: at})
	return nil
}
