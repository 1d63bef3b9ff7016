package web

import (
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/station"
)

// Drivers: the people who charge (access users), their groups and their RFID tags.
func (p *Portal) driverRoutes() []Route {
	return []Route{
		{"GET", "/drivers", Member, p.driversPage},
		{"POST", "/drivers", Manager, p.createDriver},
		{"GET", "/drivers/{id}", Member, p.driverPage},
		{"POST", "/drivers/{id}", Manager, p.updateDriver},
		{"POST", "/drivers/{id}/remove", Manager, p.removeDriver},
		{"POST", "/drivers/{id}/links", Manager, p.createDriverLink},
		{"POST", "/drivers/{id}/links/{link}/revoke", Manager, p.revokeDriverLink},
		{"GET", "/groups", Member, p.groupsPage},
		{"POST", "/groups", Manager, p.createGroup},
		{"POST", "/groups/{id}", Manager, p.updateGroup},
		{"POST", "/groups/{id}/remove", Manager, p.removeGroup},
		{"GET", "/tags", Member, p.tagsPage},
		{"POST", "/tags", Manager, p.saveTag},
		{"POST", "/tags/{tag}/block", Manager, p.blockTag},
	}
}

// languages are the languages a driver can have; the page shows their names.
var languages = []string{"de", "fr", "it", "en"}

// driverRow is a driver as the list shows them.
type driverRow struct {
	User   access.User
	Groups []string
	Tags   []string
}

// driversData is the data of the drivers page.
type driversData struct {
	Rows      []driverRow
	Languages []string
}

func (p *Portal) driverRows(c *Ctx) ([]driverRow, []authz.Group, error) {
	r, err := p.rules()
	if err != nil {
		return nil, nil, err
	}
	ctx := c.R.Context()
	users, err := r.Users(ctx, c.Account.ID)
	if err != nil {
		return nil, nil, err
	}
	groups, err := r.Groups(ctx, c.Account.ID)
	if err != nil {
		return nil, nil, err
	}
	tags, err := r.TagUsers(ctx, c.Account.ID)
	if err != nil {
		return nil, nil, err
	}
	rows := make([]driverRow, 0, len(users))
	for _, u := range users {
		row := driverRow{User: u}
		for _, g := range groups {
			if slices.Contains(u.GroupIDs, g.ID) {
				row.Groups = append(row.Groups, g.Name)
			}
		}
		for tag, id := range tags {
			if id == u.ID {
				row.Tags = append(row.Tags, tag)
			}
		}
		slices.Sort(row.Tags)
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b driverRow) int {
		return strings.Compare(strings.ToLower(a.User.Name), strings.ToLower(b.User.Name))
	})
	return rows, groups, nil
}

func (p *Portal) driversView(c *Ctx) (*View, error) {
	rows, _, err := p.driverRows(c)
	if err != nil {
		return nil, err
	}
	v := c.view(&driversData{Rows: rows, Languages: languages})
	v.Tab = "drivers"
	return v, nil
}

func (p *Portal) driversPage(c *Ctx) error {
	v, err := p.driversView(c)
	if err != nil {
		return err
	}
	return c.Render("drivers.html", v)
}

// readDriver reads the name, e-mail and language of a driver's form onto u.
func readDriver(f *Form, u *access.User) {
	name := f.Get("name")
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		f.Fail("name", "form.required")
	case n > 200:
		f.Fail("name", "form.tooLong")
	}
	email := f.Get("email")
	if email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
			f.Fail("email", "form.email")
		}
	}
	lang := f.Get("language")
	if lang != "" && !slices.Contains(languages, lang) {
		f.Fail("language", "form.choose")
	}
	u.Name, u.Email, u.Language = name, email, lang
}

func (p *Portal) createDriver(c *Ctx) error {
	r, err := p.rules()
	if err != nil {
		return err
	}
	f := c.Form()
	var u access.User
	readDriver(f, &u)
	if f.OK() {
		u, err = r.CreateUser(c.R.Context(), c.Account.ID, u)
		if err == nil {
			return c.Redirect("/drivers/" + strconv.FormatInt(u.ID, 10))
		}
		if !rulesFailed(f, err) {
			return err
		}
	}
	v, err := p.driversView(c)
	if err != nil {
		return err
	}
	return formFailed(c, "drivers.html", v, f)
}

// driverData is the data of a driver's page.
type driverData struct {
	User      access.User
	Groups    []authz.Group
	Tags      []station.IdTag
	Sessions  []sessionRow
	Links     []account.DriverLink
	NewLink   string // shown once, right after it was made
	Languages []string
	Now       time.Time
	// LinksAvailable: the server keeps driver links.
	LinksAvailable bool
}

func (p *Portal) driverOf(c *Ctx) (access.User, error) {
	r, err := p.rules()
	if err != nil {
		return access.User{}, err
	}
	id, err := strconv.ParseInt(c.R.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return access.User{}, ErrNotFound
	}
	u, err := r.User(c.R.Context(), c.Account.ID, id)
	return u, notFound(err)
}

// userTags are the registered tags of a user of the account.
func (p *Portal) userTags(c *Ctx, accountID, userID int64) ([]station.IdTag, error) {
	ctx := c.R.Context()
	owners, err := p.deps.AccessRules.TagUsers(ctx, accountID)
	if err != nil {
		return nil, err
	}
	all, err := p.deps.Store.IdTags(ctx, accountID)
	if err != nil {
		return nil, err
	}
	var out []station.IdTag
	for _, t := range all {
		if owners[t.IdTag] == userID {
			out = append(out, t)
		}
	}
	return out, nil
}

func (p *Portal) driverView(c *Ctx, u access.User, newLink string) (*View, error) {
	ctx := c.R.Context()
	d := &driverData{User: u, Languages: languages, NewLink: newLink, Now: p.deps.Now(), LinksAvailable: p.deps.DriverLinks != nil}
	var err error
	if d.Groups, err = p.deps.AccessRules.Groups(ctx, c.Account.ID); err != nil {
		return nil, err
	}
	if d.Tags, err = p.userTags(c, c.Account.ID, u.ID); err != nil {
		return nil, err
	}
	if d.Sessions, err = p.sessionRows(c, c.Account, sessionFilter{User: u.ID, Limit: 20}); err != nil {
		return nil, err
	}
	if p.deps.DriverLinks != nil {
		if d.Links, err = p.deps.DriverLinks.DriverLinks(ctx, c.Account.ID, u.ID); err != nil {
			return nil, err
		}
	}
	v := c.view(d)
	v.Tab = "drivers"
	v.Form = &Form{Values: url.Values{"name": {u.Name}, "email": {u.Email}, "language": {u.Language}}}
	return v, nil
}

func (p *Portal) driverPage(c *Ctx) error {
	u, err := p.driverOf(c)
	if err != nil {
		return err
	}
	v, err := p.driverView(c, u, "")
	if err != nil {
		return err
	}
	return c.Render("driver.html", v)
}

func (p *Portal) updateDriver(c *Ctx) error {
	u, err := p.driverOf(c)
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	f := c.Form()
	readDriver(f, &u)
	u.Blocked = f.Get("blocked") != ""
	groups, err := p.deps.AccessRules.Groups(ctx, c.Account.ID)
	if err != nil {
		return err
	}
	u.GroupIDs = nil
	for _, s := range f.Values["group"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || !slices.ContainsFunc(groups, func(g authz.Group) bool { return g.ID == id }) {
			f.Fail("group", "form.choose")
			continue
		}
		u.GroupIDs = append(u.GroupIDs, id)
	}
	if f.OK() {
		err := p.deps.AccessRules.UpdateUser(ctx, c.Account.ID, u)
		if err == nil {
			return c.Redirect("/drivers/" + strconv.FormatInt(u.ID, 10))
		}
		if !rulesFailed(f, err) {
			return notFound(err)
		}
	}
	v, err := p.driverView(c, u, "")
	if err != nil {
		return err
	}
	return formFailed(c, "driver.html", v, f)
}

func (p *Portal) removeDriver(c *Ctx) error {
	u, err := p.driverOf(c)
	if err != nil {
		return err
	}
	err = p.deps.AccessRules.DeleteUser(c.R.Context(), c.Account.ID, u.ID)
	if errors.Is(err, authz.ErrInUse) {
		return HTTPError{http.StatusConflict, "drivers.ownsStation"}
	}
	if err != nil {
		return notFound(err)
	}
	return c.Redirect("/drivers")
}

// DriverLinkLifetime bounds how long a driver's link may last.
const maxDriverLinkDays = 365

// createDriverLink makes a personal link for the driver and shows it once.
func (p *Portal) createDriverLink(c *Ctx) error {
	if p.deps.DriverLinks == nil {
		return errUnavailable
	}
	u, err := p.driverOf(c)
	if err != nil {
		return err
	}
	f := c.Form()
	days, err := strconv.Atoi(or(f.Get("days"), "90"))
	if err != nil || days < 1 || days > maxDriverLinkDays {
		f.Fail("days", "drivers.linkDays")
		v, err := p.driverView(c, u, "")
		if err != nil {
			return err
		}
		return formFailed(c, "driver.html", v, f)
	}
	now := p.deps.Now()
	tok, secret := account.NewToken(c.Account.ID, "", now)
	_, err = p.deps.DriverLinks.CreateDriverLink(c.R.Context(), account.DriverLink{
		AccountID: c.Account.ID, UserID: u.ID, Hash: tok.Hash, Prefix: tok.Prefix, CreatedBy: c.Operator.ID,
		CreatedAt: now, ExpiresAt: now.AddDate(0, 0, days),
	})
	if err != nil {
		return err
	}
	v, err := p.driverView(c, u, p.baseURL(c.R)+"/d/"+secret)
	if err != nil {
		return err
	}
	return c.Render("driver.html", v)
}

func (p *Portal) revokeDriverLink(c *Ctx) error {
	if p.deps.DriverLinks == nil {
		return errUnavailable
	}
	u, err := p.driverOf(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.R.PathValue("link"), 10, 64)
	if err != nil {
		return ErrNotFound
	}
	links, err := p.deps.DriverLinks.DriverLinks(c.R.Context(), c.Account.ID, u.ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(links, func(l account.DriverLink) bool { return l.ID == id }) {
		return ErrNotFound
	}
	if err := p.deps.DriverLinks.RevokeDriverLink(c.R.Context(), c.Account.ID, id, p.deps.Now()); err != nil {
		return notFound(err)
	}
	return c.Redirect("/drivers/" + strconv.FormatInt(u.ID, 10))
}

// ---- Groups ----

// groupsData is the data of the groups page.
type groupsData struct {
	Groups []authz.Group
	Users  []access.User
}

func (p *Portal) groupsView(c *Ctx) (*View, error) {
	r, err := p.rules()
	if err != nil {
		return nil, err
	}
	ctx := c.R.Context()
	d := &groupsData{}
	if d.Groups, err = r.Groups(ctx, c.Account.ID); err != nil {
		return nil, err
	}
	if d.Users, err = r.Users(ctx, c.Account.ID); err != nil {
		return nil, err
	}
	v := c.view(d)
	v.Tab = "drivers"
	return v, nil
}

func (p *Portal) groupsPage(c *Ctx) error {
	v, err := p.groupsView(c)
	if err != nil {
		return err
	}
	return c.Render("groups.html", v)
}

// readGroup reads a group's name and members.
func readGroup(f *Form, users []access.User) authz.Group {
	var g authz.Group
	g.Name = f.Get("groupName")
	switch n := utf8.RuneCountInString(g.Name); {
	case n == 0:
		f.Fail("groupName", "form.required")
	case n > 200:
		f.Fail("groupName", "form.tooLong")
	}
	for _, s := range f.Values["member"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || !slices.ContainsFunc(users, func(u access.User) bool { return u.ID == id }) {
			f.Fail("member", "form.choose")
			continue
		}
		g.Members = append(g.Members, id)
	}
	return g
}

// groupFailed records a name taken; false for other errors.
func groupFailed(f *Form, err error) bool {
	if errors.Is(err, access.ErrDuplicate) {
		f.Fail("groupName", "groups.nameTaken")
		return true
	}
	return rulesFailed(f, err)
}

func (p *Portal) createGroup(c *Ctx) error {
	v, err := p.groupsView(c)
	if err != nil {
		return err
	}
	f := c.Form()
	g := readGroup(f, v.Data.(*groupsData).Users)
	if f.OK() {
		_, err := p.deps.AccessRules.CreateGroup(c.R.Context(), c.Account.ID, g)
		if err == nil {
			return c.Redirect("/groups")
		}
		if !groupFailed(f, err) {
			return err
		}
	}
	return formFailed(c, "groups.html", v, f)
}

func (p *Portal) groupOf(c *Ctx) (authz.Group, error) {
	id, err := strconv.ParseInt(c.R.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return authz.Group{}, ErrNotFound
	}
	g, err := p.deps.AccessRules.Group(c.R.Context(), c.Account.ID, id)
	return g, notFound(err)
}

func (p *Portal) updateGroup(c *Ctx) error {
	v, err := p.groupsView(c)
	if err != nil {
		return err
	}
	old, err := p.groupOf(c)
	if err != nil {
		return err
	}
	f := c.Form()
	g := readGroup(f, v.Data.(*groupsData).Users)
	g.ID = old.ID
	if f.OK() {
		err := p.deps.AccessRules.UpdateGroup(c.R.Context(), c.Account.ID, g)
		if err == nil {
			return c.Redirect("/groups")
		}
		if !groupFailed(f, err) {
			return notFound(err)
		}
	}
	f.Values.Set("editing", strconv.FormatInt(old.ID, 10))
	return formFailed(c, "groups.html", v, f)
}

func (p *Portal) removeGroup(c *Ctx) error {
	if _, err := p.rules(); err != nil {
		return err
	}
	g, err := p.groupOf(c)
	if err != nil {
		return err
	}
	if err := p.deps.AccessRules.DeleteGroup(c.R.Context(), c.Account.ID, g.ID); err != nil {
		return notFound(err)
	}
	return c.Redirect("/groups")
}

// ---- Tags ----

// tagRow is a tag as the list shows it.
type tagRow struct {
	Tag    station.IdTag
	UserID int64
	User   string
	Status string // Accepted, Blocked, Expired
}

// tagsData is the data of the tags page.
type tagsData struct {
	Rows  []tagRow
	Users []access.User
}

func (p *Portal) tagsView(c *Ctx) (*View, error) {
	r, err := p.rules()
	if err != nil {
		return nil, err
	}
	ctx := c.R.Context()
	d := &tagsData{}
	if d.Users, err = r.Users(ctx, c.Account.ID); err != nil {
		return nil, err
	}
	owners, err := r.TagUsers(ctx, c.Account.ID)
	if err != nil {
		return nil, err
	}
	tags, err := p.deps.Store.IdTags(ctx, c.Account.ID)
	if err != nil {
		return nil, err
	}
	now := p.deps.Now()
	for _, t := range tags {
		row := tagRow{Tag: t, UserID: owners[t.IdTag], Status: string(station.DecideTag(t, now).Status)}
		if i := slices.IndexFunc(d.Users, func(u access.User) bool { return u.ID == row.UserID }); i >= 0 {
			row.User = d.Users[i].Name
		}
		d.Rows = append(d.Rows, row)
	}
	v := c.view(d)
	v.Tab = "drivers"
	return v, nil
}

func (p *Portal) tagsPage(c *Ctx) error {
	v, err := p.tagsView(c)
	if err != nil {
		return err
	}
	if u := c.R.URL.Query().Get("user"); u != "" {
		v.Form = &Form{Values: url.Values{"tagUser": {u}}}
	}
	return c.Render("tags.html", v)
}

// saveTag registers a tag, or changes one: its user, its expiry, blocked or not.
func (p *Portal) saveTag(c *Ctx) error {
	v, err := p.tagsView(c)
	if err != nil {
		return err
	}
	d := v.Data.(*tagsData)
	f := c.Form()
	name := f.Get("idTag")
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		f.Fail("idTag", "form.required")
	case n > 20:
		f.Fail("idTag", "form.idTagLong")
	case strings.EqualFold(name, access.FreeIdTag):
		f.Fail("idTag", "tags.reserved")
	}
	user := userID(f, "tagUser", d.Users)
	tag := station.IdTag{AccountID: c.Account.ID, IdTag: name, Blocked: f.Get("blocked") != ""}
	if s := f.Get("expires"); s != "" {
		day, err := time.ParseInLocation("2006-01-02", s, c.loc)
		if err != nil {
			f.Fail("expires", "form.date")
		}
		// A tag expires at the end of the day the operator chose.
		tag.ExpiresAt = day.AddDate(0, 0, 1).UTC()
	}
	for _, r := range d.Rows {
		if strings.EqualFold(r.Tag.IdTag, name) {
			// Keep what the stations told of it, and its spelling.
			tag.IdTag, tag.ParentIdTag, tag.FirstSeenAt, tag.LastSeenAt = r.Tag.IdTag, r.Tag.ParentIdTag, r.Tag.FirstSeenAt, r.Tag.LastSeenAt
		}
	}
	if f.OK() {
		err := p.deps.AccessRules.SaveTag(c.R.Context(), tag, user)
		if err == nil {
			if next := f.Get("next"); strings.HasPrefix(next, "/drivers/") {
				return c.Redirect(next)
			}
			return c.Redirect("/tags")
		}
		if !rulesFailed(f, err) {
			return err
		}
	}
	return formFailed(c, "tags.html", v, f)
}

// blockTag blocks or unblocks a tag the account has.
func (p *Portal) blockTag(c *Ctx) error {
	v, err := p.tagsView(c)
	if err != nil {
		return err
	}
	name := c.R.PathValue("tag")
	for _, r := range v.Data.(*tagsData).Rows {
		if r.Tag.IdTag != name {
			continue
		}
		tag := r.Tag
		tag.Blocked = c.R.FormValue("blocked") == "1"
		if err := p.deps.AccessRules.SaveTag(c.R.Context(), tag, r.UserID); err != nil {
			return err
		}
		return c.Redirect("/tags")
	}
	return ErrNotFound
}
