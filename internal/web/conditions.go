package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/tariff"
)

// The conditions of use of a station: who may charge there and when (package access, through
// authz), and at what price (the price plans of package billing), with a preview of what a
// session would cost.
func (p *Portal) conditionRoutes() []Route {
	return []Route{
		{"GET", "/stations/{station}/conditions", Member, p.conditionsPage},
		{"POST", "/stations/{station}/conditions/access", Manager, p.saveAccess},
		{"POST", "/stations/{station}/conditions/grants", Manager, p.addGrant},
		{"POST", "/stations/{station}/conditions/grants/remove", Manager, p.removeGrant},
		{"POST", "/stations/{station}/conditions/plans", Manager, p.addPlan},
		{"POST", "/stations/{station}/conditions/plans/{id}/remove", Manager, p.removePlan},
	}
}

// grantView is a grant as the page lists it.
type grantView struct {
	Key     string // "u:7" or "g:3", the form's value for it
	Label   string
	Windows []access.Window
}

// planRow is a price plan as the pages list it.
type planRow struct {
	Plan       billing.Plan
	TariffName string
	Audience   string // "Everyone", "Group Residents", "Anna Muster"
	AllSites   bool
}

// conditionsData is the data of a station's conditions page.
type conditionsData struct {
	Configured bool // false: the station has no rule and is public
	Rule       access.StationRule
	Users      []access.User
	Groups     []authz.Group
	Grants     []grantView
	// Open is the grid of the station's own windows (public or free vending); Fits false
	// when its windows cannot be shown in the grid.
	Open       []gridDay
	Fits       bool
	GrantGrid  []gridDay
	Plans      []planRow
	Tariffs    []tariffRow // not retired, for a new plan
	Preview    *previewView
	TimeZone   string
	ChargeID   string
	StationURL string
}

func (p *Portal) audienceLabel(c *Ctx, pl billing.Plan, users []access.User, groups []authz.Group) string {
	switch pl.Audience {
	case tariff.User:
		if i := slices.IndexFunc(users, func(u access.User) bool { return u.ID == pl.UserID }); i >= 0 {
			return users[i].Name
		}
		return c.T("conditions.userN", pl.UserID)
	case tariff.Group:
		if i := slices.IndexFunc(groups, func(g authz.Group) bool { return g.ID == pl.GroupID }); i >= 0 {
			return c.T("conditions.groupNamed", groups[i].Name)
		}
		return c.T("conditions.groupN", pl.GroupID)
	}
	return c.T("conditions.everyone")
}

// planRows are the account's plans that apply at a station (all of them for 0), most
// specific audience first.
func (p *Portal) planRows(c *Ctx, stationID int64, tariffs []tariffRow) ([]planRow, error) {
	b, err := p.billing()
	if err != nil {
		return nil, err
	}
	ctx := c.R.Context()
	plans, err := b.Plans(ctx, c.Account.ID)
	if err != nil {
		return nil, err
	}
	var users []access.User
	var groups []authz.Group
	if r, err := p.rules(); err == nil {
		if users, err = r.Users(ctx, c.Account.ID); err != nil {
			return nil, err
		}
		if groups, err = r.Groups(ctx, c.Account.ID); err != nil {
			return nil, err
		}
	}
	names := map[int64]string{}
	for _, t := range tariffs {
		names[t.Tariff.ID] = t.Tariff.Name
	}
	var out []planRow
	for _, pl := range plans {
		if stationID != 0 && pl.StationID != 0 && pl.StationID != stationID {
			continue
		}
		name, ok := names[pl.TariffID]
		if !ok {
			if t, err := b.Tariff(ctx, c.Account.ID, pl.TariffID); err == nil {
				name = t.Name
			}
		}
		out = append(out, planRow{Plan: pl, TariffName: name, Audience: p.audienceLabel(c, pl, users, groups), AllSites: pl.StationID == 0})
	}
	rank := map[tariff.Audience]int{tariff.User: 0, tariff.Group: 1, tariff.Public: 2}
	slices.SortStableFunc(out, func(a, b planRow) int { return rank[a.Plan.Audience] - rank[b.Plan.Audience] })
	return out, nil
}

func (p *Portal) conditionsData(c *Ctx) (*conditionsData, error) {
	r, err := p.rules()
	if err != nil {
		return nil, err
	}
	ctx := c.R.Context()
	st := c.Station
	d := &conditionsData{TimeZone: c.loc.String(), ChargeID: st.ChargePointID, StationURL: "/stations/" + url.PathEscape(st.ChargePointID)}
	if d.Rule, d.Configured, err = r.StationRule(ctx, c.Account.ID, st.ID); err != nil {
		return nil, err
	}
	if d.Users, err = r.Users(ctx, c.Account.ID); err != nil {
		return nil, err
	}
	if d.Groups, err = r.Groups(ctx, c.Account.ID); err != nil {
		return nil, err
	}
	for _, g := range d.Rule.Grants {
		gv := grantView{Windows: g.Windows}
		if g.UserID != 0 {
			gv.Key, gv.Label = fmt.Sprintf("u:%d", g.UserID), c.T("conditions.userN", g.UserID)
			if i := slices.IndexFunc(d.Users, func(u access.User) bool { return u.ID == g.UserID }); i >= 0 {
				gv.Label = d.Users[i].Name
			}
		} else {
			gv.Key, gv.Label = fmt.Sprintf("g:%d", g.GroupID), c.T("conditions.groupN", g.GroupID)
			if i := slices.IndexFunc(d.Groups, func(x authz.Group) bool { return x.ID == g.GroupID }); i >= 0 {
				gv.Label = c.T("conditions.groupNamed", d.Groups[i].Name)
			}
		}
		d.Grants = append(d.Grants, gv)
	}
	d.Open, d.Fits = accessGrid("s", d.Rule.StationWindows)
	d.GrantGrid = emptyGrid("g")
	if p.deps.Billing != nil {
		all, err := p.tariffRows(c)
		if err != nil {
			return nil, err
		}
		for _, t := range all {
			if !t.Retired {
				d.Tariffs = append(d.Tariffs, t)
			}
		}
		if d.Plans, err = p.planRows(c, st.ID, all); err != nil {
			return nil, err
		}
		// The preview starts with the tariff the public pays here, else the first.
		pr := previewRequest{Station: st.ChargePointID}
		for _, pl := range d.Plans {
			if pl.Plan.Audience == tariff.Public && !pl.Plan.Deleted(p.deps.Now()) {
				pr.TariffID = pl.Plan.TariffID
			}
		}
		if d.Preview, err = p.preview(c, pr); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (p *Portal) renderConditions(c *Ctx, d *conditionsData, f *Form) error {
	v := c.view(d)
	v.Tab = "stations"
	status := http.StatusOK
	if f != nil {
		v.Form = f
		if !f.OK() {
			status = http.StatusUnprocessableEntity
		}
	}
	return c.execute(status, "conditions.html", "", v)
}

func (p *Portal) conditionsPage(c *Ctx) error {
	d, err := p.conditionsData(c)
	if err != nil {
		return err
	}
	return p.renderConditions(c, d, nil)
}

// conditionsFailed re-renders the page with the form's mistakes, and the grids as typed.
func (p *Portal) conditionsFailed(c *Ctx, f *Form, open, grant []gridDay) error {
	d, err := p.conditionsData(c)
	if err != nil {
		return err
	}
	if open != nil {
		d.Open, d.Fits = open, true
	}
	if grant != nil {
		d.GrantGrid = grant
	}
	return p.renderConditions(c, d, f)
}

// rulesFailed records a change package access refused on the form as a whole; false for
// other errors.
func rulesFailed(f *Form, err error) bool {
	var inv *access.InvalidError
	if !errors.As(err, &inv) {
		return false
	}
	parts := make([]string, len(inv.Problems))
	for i, pr := range inv.Problems {
		parts[i] = pr.Error()
	}
	// Not a message key: T shows an unknown key as it is, here the problems in words.
	f.Fail("", strings.Join(parts, "; "))
	return true
}

func (p *Portal) conditionsDone(c *Ctx) error {
	return c.Redirect("/stations/" + url.PathEscape(c.Station.ChargePointID) + "/conditions")
}

// userID reads a user of the account from a select; 0 for "".
func userID(f *Form, name string, users []access.User) int64 {
	s := f.Get(name)
	if s == "" {
		return 0
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || !slices.ContainsFunc(users, func(u access.User) bool { return u.ID == id }) {
		f.Fail(name, "form.choose")
		return 0
	}
	return id
}

func (p *Portal) saveAccess(c *Ctx) error {
	r, err := p.rules()
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	f := c.Form()
	old, _, err := r.StationRule(ctx, c.Account.ID, c.Station.ID)
	if err != nil {
		return err
	}
	users, err := r.Users(ctx, c.Account.ID)
	if err != nil {
		return err
	}
	rule := access.StationRule{StationID: c.Station.ID, Grants: old.Grants, FreeVending: f.Get("freeVending") != ""}
	switch m := access.Mode(f.Get("mode")); m {
	case access.ModePublic, access.ModeMembers, access.ModePrivate:
		rule.Mode = m
	default:
		f.Fail("mode", "form.choose")
	}
	switch pol := access.WindowEndPolicy(f.Get("policy")); pol {
	case access.AllowFinish, access.StopRemotely:
		rule.WindowEndPolicy = pol
	case "":
		rule.WindowEndPolicy = access.AllowFinish
	default:
		f.Fail("policy", "form.choose")
	}
	rule.OwnerUserID = userID(f, "owner", users)
	if rule.Mode == access.ModePrivate && rule.OwnerUserID == 0 && f.Errors["owner"] == "" {
		f.Fail("owner", "conditions.ownerNeeded")
	}
	if rule.Mode == access.ModePrivate && len(rule.Grants) > 0 {
		f.Fail("mode", "conditions.privateGrants")
	}
	open := readGrid(f, "s")
	rule.StationWindows = accessWindows(f, open, c.loc)
	if len(rule.StationWindows) > 0 && rule.Mode != access.ModePublic && !rule.FreeVending {
		f.Fail("", "conditions.windowsPublic")
	}
	if f.OK() {
		err := r.SaveStationRule(ctx, c.Account.ID, rule)
		if err == nil {
			return p.conditionsDone(c)
		}
		if !rulesFailed(f, err) {
			return err
		}
	}
	return p.conditionsFailed(c, f, open, nil)
}

// grantee reads "u:7" or "g:3" of the account from a select.
func grantee(f *Form, name string, users []access.User, groups []authz.Group) (access.Grant, bool) {
	kind, num, _ := strings.Cut(f.Get(name), ":")
	id, err := strconv.ParseInt(num, 10, 64)
	switch {
	case err != nil:
	case kind == "u" && slices.ContainsFunc(users, func(u access.User) bool { return u.ID == id }):
		return access.Grant{UserID: id}, true
	case kind == "g" && slices.ContainsFunc(groups, func(g authz.Group) bool { return g.ID == id }):
		return access.Grant{GroupID: id}, true
	}
	f.Fail(name, "form.choose")
	return access.Grant{}, false
}

// addGrant admits a user or a group at the station, at the times of its grid (always when
// empty); a grant the station has for them already is replaced.
func (p *Portal) addGrant(c *Ctx) error {
	r, err := p.rules()
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	f := c.Form()
	rule, configured, err := r.StationRule(ctx, c.Account.ID, c.Station.ID)
	if err != nil {
		return err
	}
	users, err := r.Users(ctx, c.Account.ID)
	if err != nil {
		return err
	}
	groups, err := r.Groups(ctx, c.Account.ID)
	if err != nil {
		return err
	}
	g, _ := grantee(f, "grantee", users, groups)
	grid := readGrid(f, "g")
	g.Windows = accessWindows(f, grid, c.loc)
	if rule.Mode == access.ModePrivate {
		f.Fail("grantee", "conditions.privateGrants")
	}
	if f.OK() {
		if !configured {
			// A station without a rule is public; it stays so, now with a grant.
			rule = access.StationRule{StationID: c.Station.ID, Mode: access.ModePublic, WindowEndPolicy: access.AllowFinish}
		}
		rule.Grants = slices.DeleteFunc(slices.Clone(rule.Grants), func(x access.Grant) bool {
			return x.UserID == g.UserID && x.GroupID == g.GroupID
		})
		rule.Grants = append(rule.Grants, g)
		err := r.SaveStationRule(ctx, c.Account.ID, rule)
		if err == nil {
			return p.conditionsDone(c)
		}
		if !rulesFailed(f, err) {
			return err
		}
	}
	return p.conditionsFailed(c, f, nil, grid)
}

func (p *Portal) removeGrant(c *Ctx) error {
	r, err := p.rules()
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	f := c.Form()
	rule, configured, err := r.StationRule(ctx, c.Account.ID, c.Station.ID)
	if err != nil {
		return err
	}
	key := f.Get("grantee")
	i := slices.IndexFunc(rule.Grants, func(g access.Grant) bool {
		return key == fmt.Sprintf("u:%d", g.UserID) || key == fmt.Sprintf("g:%d", g.GroupID)
	})
	if !configured || i < 0 {
		return ErrNotFound
	}
	rule.Grants = slices.Delete(slices.Clone(rule.Grants), i, i+1)
	if err := r.SaveStationRule(ctx, c.Account.ID, rule); err != nil {
		if rulesFailed(f, err) {
			return p.conditionsFailed(c, f, nil, nil)
		}
		return err
	}
	return p.conditionsDone(c)
}

// addPlan gives a tariff to everyone, a group or a user, here or at every station.
func (p *Portal) addPlan(c *Ctx) error {
	b, err := p.billing()
	if err != nil {
		return err
	}
	r, err := p.rules()
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	f := c.Form()
	pl := billing.Plan{AccountID: c.Account.ID, StationID: c.Station.ID}
	if id, err := strconv.ParseInt(f.Get("planTariff"), 10, 64); err != nil || id <= 0 {
		f.Fail("planTariff", "form.choose")
	} else {
		pl.TariffID = id
	}
	if f.Get("planAudience") == "public" {
		pl.Audience = tariff.Public
	} else {
		users, err := r.Users(ctx, c.Account.ID)
		if err != nil {
			return err
		}
		groups, err := r.Groups(ctx, c.Account.ID)
		if err != nil {
			return err
		}
		if g, ok := grantee(f, "planAudience", users, groups); ok {
			pl.UserID, pl.GroupID, pl.Audience = g.UserID, g.GroupID, tariff.User
			if g.GroupID != 0 {
				pl.Audience = tariff.Group
			}
		}
	}
	switch f.Get("planScope") {
	case "all":
		pl.StationID = 0
	case "station", "":
	default:
		f.Fail("planScope", "form.choose")
	}
	if f.OK() {
		_, err := b.CreatePlan(ctx, pl)
		if err == nil {
			return p.conditionsDone(c)
		}
		var bad billing.Invalid
		if !errors.As(err, &bad) {
			return err
		}
		for _, fe := range bad {
			switch fe.Field {
			case "tariffId":
				f.Fail("planTariff", "form.choose")
			case "userId", "groupId", "audience":
				f.Fail("planAudience", "form.choose")
			default:
				f.Fail("", fe.Field+": "+fe.Problem)
			}
		}
	}
	return p.conditionsFailed(c, f, nil, nil)
}

func (p *Portal) removePlan(c *Ctx) error {
	b, err := p.billing()
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.R.PathValue("id"), 10, 64)
	if err != nil {
		return ErrNotFound
	}
	// Only a plan of this station or of all stations is removed from this page.
	plans, err := b.Plans(c.R.Context(), c.Account.ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(plans, func(pl billing.Plan) bool {
		return pl.ID == id && (pl.StationID == 0 || pl.StationID == c.Station.ID)
	}) {
		return ErrNotFound
	}
	if err := b.DeletePlan(c.R.Context(), c.Account.ID, id); err != nil {
		return notFound(err)
	}
	return p.conditionsDone(c)
}

// ---- Preview ----

// previewRequest is a made-up session to price.
type previewRequest struct {
	TariffID int64
	Station  string // the station page it is shown on, if any
	Start    time.Time
	Hours    string
	KWh      string
}

// previewView is what the preview shows.
type previewView struct {
	Tariffs  []tariffRow
	TariffID int64
	// Fixed: the preview is of one tariff (its page); no choice.
	Fixed   bool
	Start   string // datetime-local
	Hours   string
	KWh     string
	Cost    *tariff.Cost
	Errors  map[string]string // message keys by field
	Problem string            // what billing refused, in words
}

// nextSaturdayEvening is the default start of a preview: 18:00 on the next Saturday.
func nextSaturdayEvening(now time.Time, loc *time.Location) time.Time {
	t := now.In(loc)
	days := (int(time.Saturday) - int(t.Weekday()) + 7) % 7
	if days == 0 && t.Hour() >= 18 {
		days = 7
	}
	d := t.AddDate(0, 0, days)
	return time.Date(d.Year(), d.Month(), d.Day(), 18, 0, 0, 0, loc)
}

// preview prices the made-up session; its mistakes are in the view, not an error.
func (p *Portal) preview(c *Ctx, r previewRequest) (*previewView, error) {
	b, err := p.billing()
	if err != nil {
		return nil, err
	}
	all, err := p.tariffRows(c)
	if err != nil {
		return nil, err
	}
	v := &previewView{TariffID: r.TariffID, Hours: or(r.Hours, "2"), KWh: or(r.KWh, "20"), Errors: map[string]string{}}
	for _, t := range all {
		if !t.Retired {
			v.Tariffs = append(v.Tariffs, t)
		}
	}
	if v.TariffID == 0 && len(v.Tariffs) > 0 {
		v.TariffID = v.Tariffs[0].Tariff.ID
	}
	if v.TariffID == 0 {
		return v, nil
	}
	start := r.Start
	if start.IsZero() {
		start = nextSaturdayEvening(p.deps.Now(), c.loc)
	}
	v.Start = start.In(c.loc).Format("2006-01-02T15:04")
	hours, err := strconv.ParseFloat(strings.Replace(v.Hours, ",", ".", 1), 64)
	if err != nil || hours <= 0 || hours > 168 {
		v.Errors["pvHours"] = "preview.hoursBad"
	}
	kwh, err := strconv.ParseFloat(strings.Replace(v.KWh, ",", ".", 1), 64)
	if err != nil || kwh < 0 || kwh > 1000 {
		v.Errors["pvKWh"] = "preview.kwhBad"
	}
	if len(v.Errors) > 0 {
		return v, nil
	}
	d := time.Duration(hours * float64(time.Hour)).Round(time.Minute)
	h := billing.Hypothetical{Start: start, Duration: d, Charging: d, EnergyWh: int64(kwh*1000 + 0.5)}
	cost, err := b.Preview(c.R.Context(), c.Account, v.TariffID, tariff.Tariff{}, h)
	var bad billing.Invalid
	switch {
	case errors.As(err, &bad):
		v.Problem = bad.Error()
	case err != nil:
		return nil, err
	default:
		v.Cost = &cost
	}
	return v, nil
}

// tariffPreview answers the preview form: the preview part for htmx, else the tariffs page.
func (p *Portal) tariffPreview(c *Ctx) error {
	q := c.R.URL.Query()
	r := previewRequest{Hours: q.Get("pvHours"), KWh: q.Get("pvKWh"), Station: q.Get("station")}
	r.TariffID, _ = strconv.ParseInt(q.Get("pvTariff"), 10, 64)
	bad := false
	if s := q.Get("pvStart"); s != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", s, c.loc)
		if err != nil {
			bad = true
		}
		r.Start = t
	}
	v, err := p.preview(c, r)
	if err != nil {
		return err
	}
	if bad {
		v.Start = q.Get("pvStart")
		v.Errors["pvStart"] = "form.dateTime"
		v.Cost = nil
	}
	v.Fixed = q.Get("fixed") != ""
	if c.HTMX() {
		return c.Partial("tariffs.html", "preview-result", v)
	}
	tv, err := p.tariffsView(c)
	if err != nil {
		return err
	}
	tv.Data.(*tariffsData).Preview = v
	return c.Render("tariffs.html", tv)
}

// PreviewSentence says the made-up session and its price in words.
func (v *View) PreviewSentence(pv *previewView) string {
	if pv == nil || pv.Cost == nil {
		return ""
	}
	start, _ := time.ParseInLocation("2006-01-02T15:04", pv.Start, v.loc)
	day := v.T("day." + strings.ToLower(start.Weekday().String()[:3]))
	return v.T("preview.sentence", pv.Hours, pv.KWh, start.Format("15:04"), day, money(pv.Cost.Currency, pv.Cost.Payable))
}
