package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/tariff"
)

// Tests of the conditions, tariffs, drivers, sessions, energy and driver pages.

// location sends a request and returns where it redirects to.
func location(t *testing.T, what string, resp *http.Response) string {
	t.Helper()
	b := body(resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s: status %d, want 303\n%.1500s", what, resp.StatusCode, b)
	}
	return resp.Header.Get("Location")
}

// drivers makes two drivers of account A with a tag each, and a group with the first.
func (e *env) drivers() (anna, ben access.User) {
	e.t.Helper()
	ctx := context.Background()
	var err error
	if anna, err = e.access.CreateUser(ctx, e.a.ID, access.User{Name: "Anna Muster", Language: "de"}); err != nil {
		e.t.Fatal(err)
	}
	if ben, err = e.access.CreateUser(ctx, e.a.ID, access.User{Name: "Ben Beispiel"}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.access.SaveTag(ctx, station.IdTag{AccountID: e.a.ID, IdTag: "ANNA-1"}, anna.ID); err != nil {
		e.t.Fatal(err)
	}
	if err := e.access.SaveTag(ctx, station.IdTag{AccountID: e.a.ID, IdTag: "BEN-1"}, ben.ID); err != nil {
		e.t.Fatal(err)
	}
	return anna, ben
}

// session records a stopped transaction at CP-1 with meter values every 15 minutes.
func (e *env) session(idTag string, start time.Time, minutes int, wh int64) station.Transaction {
	e.t.Helper()
	ctx := context.Background()
	st, err := e.st.StationByChargePointID(ctx, e.a.ID, "CP-1")
	if err != nil {
		e.t.Fatal(err)
	}
	src := station.Source{Action: "StartTransaction", MessageID: idTag + start.String(), ReceivedAt: start}
	tx, _, err := e.st.StartTransaction(ctx, station.StartTx{AccountID: e.a.ID, StationID: st.ID, ConnectorID: 1, IdTag: idTag, MeterStartWh: 1000, StartedAt: start, Source: src})
	if err != nil {
		e.t.Fatal(err)
	}
	var mvs []station.MeterValue
	for i := 0; i <= minutes/15; i++ {
		at := start.Add(time.Duration(i*15) * time.Minute)
		reg := (1000 + wh*int64(i*15)/int64(minutes)) * 1000
		pw := int64(11000 * 1000)
		mvs = append(mvs,
			station.MeterValue{StationID: st.ID, ConnectorID: 1, TransactionID: tx.ID, Timestamp: at, Measurand: "Energy.Active.Import.Register", Unit: "Wh", RawUnit: "Wh", Milli: &reg},
			station.MeterValue{StationID: st.ID, ConnectorID: 1, TransactionID: tx.ID, Timestamp: at, Measurand: "Power.Active.Import", Unit: "W", RawUnit: "W", Milli: &pw})
	}
	if err := e.st.AddMeterValues(ctx, mvs); err != nil {
		e.t.Fatal(err)
	}
	src.Action, src.MessageID = "StopTransaction", "stop"+idTag+start.String()
	tx, err = e.st.StopTransaction(ctx, station.StopTx{AccountID: e.a.ID, StationID: st.ID, TransactionID: tx.ID, MeterStopWh: 1000 + wh,
		StoppedAt: start.Add(time.Duration(minutes) * time.Minute), Reason: "Local", Source: src})
	if err != nil {
		e.t.Fatal(err)
	}
	return tx
}

// publicTariff gives a tariff of 0.50 CHF/kWh and 2.00 per session to everyone at CP-1.
func (e *env) publicTariff() billing.Tariff {
	e.t.Helper()
	ctx := context.Background()
	vat := tariff.VATRate(810)
	t, err := e.billing.CreateTariff(ctx, e.a, "Public", time.Time{}, tariff.Tariff{Elements: []tariff.Element{{Components: []tariff.Component{
		{Type: tariff.Energy, Price: 500_000, VAT: &vat}, {Type: tariff.Flat, Price: 2_000_000, VAT: &vat}}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	st, _ := e.st.StationByChargePointID(ctx, e.a.ID, "CP-1")
	if _, err := e.billing.CreatePlan(ctx, billing.Plan{AccountID: e.a.ID, TariffID: t.ID, Audience: tariff.Public, StationID: st.ID}); err != nil {
		e.t.Fatal(err)
	}
	return t
}

func TestDriversGroupsTags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.login("manager@a.example")
	b := wantStatus(t, "bad driver", c.post("/drivers", url.Values{"name": {""}, "email": {"not mail"}, "language": {"de"}}), http.StatusUnprocessableEntity)
	wantContains(t, "bad driver", b, `id="e-name"`, "Please fill this in.", "This is not an e-mail address.", `value="not mail"`)
	to := location(t, "create driver", c.post("/drivers", url.Values{"name": {"Zoë Keller"}, "email": {"zoe@example.com"}, "language": {"fr"}}))
	if !strings.HasPrefix(to, "/drivers/") {
		t.Fatalf("created driver goes to %q", to)
	}
	users, _ := e.access.Users(ctx, e.a.ID)
	if len(users) != 1 || users[0].Name != "Zoë Keller" || users[0].Language != "fr" {
		t.Fatalf("users %+v", users)
	}
	zoe := users[0]
	wantContains(t, "driver page", wantStatus(t, "driver page", c.get(to), http.StatusOK), "Zoë Keller", "zoe@example.com", "Make a link")

	// A group with Zoë; its name is then taken.
	location(t, "group", c.post("/groups", url.Values{"groupName": {"Residents"}, "member": {itoa(zoe.ID)}}))
	b = wantStatus(t, "name taken", c.post("/groups", url.Values{"groupName": {"residents"}}), http.StatusUnprocessableEntity)
	wantContains(t, "name taken", b, "Another group has this name.")
	groups, _ := e.access.Groups(ctx, e.a.ID)
	if len(groups) != 1 || len(groups[0].Members) != 1 || groups[0].Members[0] != zoe.ID {
		t.Fatalf("groups %+v", groups)
	}

	// A tag for Zoë, expiring; then blocked.
	b = wantStatus(t, "bad tag", c.post("/tags", url.Values{"idTag": {strings.Repeat("X", 21)}, "expires": {"31.12."}}), http.StatusUnprocessableEntity)
	wantContains(t, "bad tag", b, "An id tag has at most 20 characters.", "Enter a date such as 2026-03-31.")
	location(t, "tag", c.post("/tags", url.Values{"idTag": {"ZOE-1"}, "tagUser": {itoa(zoe.ID)}, "expires": {"2099-12-31"}}))
	owners, _ := e.access.TagUsers(ctx, e.a.ID)
	if owners["ZOE-1"] != zoe.ID {
		t.Fatalf("tag users %v", owners)
	}
	location(t, "block", c.post("/tags/ZOE-1/block", url.Values{"blocked": {"1"}}))
	tags, _ := e.st.IdTags(ctx, e.a.ID)
	if len(tags) != 1 || !tags[0].Blocked || tags[0].ExpiresAt.IsZero() {
		t.Fatalf("tags %+v", tags)
	}
	b = wantStatus(t, "tags page", c.get("/tags"), http.StatusOK)
	wantContains(t, "tags page", b, "ZOE-1", "Zoë Keller", "Unblock")

	// Another account sees none of it.
	other := e.login("owner@b.example")
	wantStatus(t, "other account's driver", other.get(to), http.StatusNotFound)
	wantStatus(t, "other account's driver change", other.post(to, url.Values{"name": {"X"}}), http.StatusNotFound)
	wantStatus(t, "other account's group", other.post("/groups/"+itoa(groups[0].ID), url.Values{"groupName": {"X"}}), http.StatusNotFound)
	wantStatus(t, "other account's tag", other.post("/tags/ZOE-1/block", url.Values{"blocked": {"0"}}), http.StatusNotFound)
	if b := wantStatus(t, "other account's list", other.get("/drivers"), http.StatusOK); strings.Contains(b, "Zoë") {
		t.Error("another account lists the driver")
	}

	// Read-only operators see, without the forms.
	reader := e.login("reader@a.example")
	for _, p := range []string{"/drivers", to, "/groups", "/tags", "/tariffs", "/sessions", "/energy", "/stations/CP-1/conditions"} {
		b := wantStatus(t, "read-only "+p, reader.get(p), http.StatusOK)
		if strings.Contains(b, `method="post"`) && !strings.Contains(strings.ReplaceAll(b, `action="/logout"`, ""), `method="post" action="/`) {
			continue
		}
		if regexp.MustCompile(`<form method="post" action="/(drivers|groups|tags|tariffs|stations|energy)`).MatchString(b) {
			t.Errorf("read-only %s shows forms that change things", p)
		}
	}
	// The driver is updated, then deleted.
	location(t, "update", c.post(to, url.Values{"name": {"Zoë K."}, "language": {"de"}, "blocked": {"1"}}))
	if u, _ := e.access.User(ctx, e.a.ID, zoe.ID); u.Name != "Zoë K." || !u.Blocked || len(u.GroupIDs) != 0 {
		t.Errorf("updated %+v", u)
	}
	location(t, "delete", c.post(to+"/remove", url.Values{}))
	if _, err := e.access.User(ctx, e.a.ID, zoe.ID); err == nil {
		t.Error("deleted driver still there")
	}
}

func TestTariffsAndConditions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	anna, _ := e.drivers()
	c := e.login("manager@a.example")

	// Mistakes are shown next to their fields, with what was typed.
	b := wantStatus(t, "bad tariff", c.post("/tariffs", url.Values{"name": {""}, "energy": {"abc"}, "vat": {"8.1"}, "winFrom": {"22:00"}}), http.StatusUnprocessableEntity)
	wantContains(t, "bad tariff", b, `id="e-name"`, `id="e-energy"`, "Enter a price such as 0.35", `value="abc"`, `id="e-winTo"`, "Enter the price at these times.")
	to := location(t, "tariff", c.post("/tariffs", url.Values{"name": {"Evening"}, "energy": {"0,40"}, "fee": {"1"}, "vat": {"8.1"}, "round": {"1"},
		"winFrom": {"22:00"}, "winTo": {"06:00"}, "winDays": {"all"}, "winEnergy": {"0.25"}}))
	ts, _ := e.billing.Tariffs(ctx, e.a.ID)
	if len(ts) != 1 {
		t.Fatalf("tariffs %+v", ts)
	}
	rules := ts[0].Versions[0].Rules
	if len(rules.Elements) != 2 || rules.Elements[0].Restrictions.StartTime != "22:00" || rules.Elements[1].Components[0].Price != 400_000 || rules.Rounding.PayableStep != 5 {
		t.Fatalf("rules %+v", rules)
	}
	b = wantStatus(t, "tariff page", c.get(to), http.StatusOK)
	wantContains(t, "tariff page", b, "CHF 0.40/kWh", "22:00–06:00: CHF 0.25/kWh", `value="0.40"`, "What does a session cost?")

	// The preview: 2 h, 20 kWh at 18:00 on a Saturday: 20 × 0.40 + 1.00 = 9.00 + 8.1 % VAT = 9.729, 9.75 payable.
	tid := itoa(ts[0].ID)
	b = wantStatus(t, "preview", c.get("/tariffs/preview?pvTariff="+tid+"&pvStart=2026-03-07T18:00&pvHours=2&pvKWh=20", "HX-Request", "true"), http.StatusOK)
	wantContains(t, "preview", b, "A 2 h session with 20 kWh starting at 18:00 on a Sat costs CHF 9.75.", "Energy", "Session fee")
	b = wantStatus(t, "preview at night", c.get("/tariffs/preview?pvTariff="+tid+"&pvStart=2026-03-07T23:00&pvHours=1&pvKWh=10", "HX-Request", "true"), http.StatusOK)
	wantContains(t, "preview at night", b, "costs CHF 3.80.") // (2.50 + 1.00) × 1.081 = 3.78 → 3.80
	b = wantStatus(t, "preview mistakes", c.get("/tariffs/preview?pvTariff="+tid+"&pvHours=x&pvKWh=20", "HX-Request", "true"), http.StatusOK)
	wantContains(t, "preview mistakes", b, "Enter hours from 0.1 to 168.")

	// A new version, starting in the past, is refused next to its field.
	b = wantStatus(t, "version in the past", c.post(to+"/versions", url.Values{"validFrom": {"2020-01-01T00:00"}, "energy": {"0.45"}, "vat": {"8.1"}}), http.StatusUnprocessableEntity)
	wantContains(t, "version in the past", b, `id="e-validFrom"`, "This is in the past")
	location(t, "version", c.post(to+"/versions", url.Values{"energy": {"0.45"}, "vat": {"8.1"}}))
	if tr, _ := e.billing.Tariff(ctx, e.a.ID, ts[0].ID); len(tr.Versions) != 2 {
		t.Errorf("versions %d", len(tr.Versions))
	}

	// Conditions: a bad time is shown in the grid, with what was typed.
	cond := "/stations/CP-1/conditions"
	b = wantStatus(t, "bad window", c.post(cond+"/access", url.Values{"mode": {"public"}, "s-0-0-from": {"07:00"}, "s-0-0-to": {"7 pm"}}), http.StatusUnprocessableEntity)
	wantContains(t, "bad window", b, `id="e-s-0-0-to"`, "Enter a time such as 07:00.", `value="7 pm"`)
	b = wantStatus(t, "overlap", c.post(cond+"/access", url.Values{"mode": {"public"}, "s-0-0-from": {"07:00"}, "s-0-0-to": {"12:00"}, "s-0-1-from": {"11:00"}, "s-0-1-to": {"18:00"}}), http.StatusUnprocessableEntity)
	wantContains(t, "overlap", b, `id="e-s-0-1-from"`, "This overlaps another time of the same day.")
	b = wantStatus(t, "private without owner", c.post(cond+"/access", url.Values{"mode": {"private"}}), http.StatusUnprocessableEntity)
	wantContains(t, "private without owner", b, `id="e-owner"`, "A private station needs an owner.")

	// Public on weekdays 07:00–18:00 and Saturday morning; the group... a driver admitted in the evenings.
	form := url.Values{"mode": {"public"}, "policy": {"stop_remotely"}}
	for d := 0; d < 5; d++ {
		form.Set("s-"+itoa(int64(d))+"-0-from", "07:00")
		form.Set("s-"+itoa(int64(d))+"-0-to", "18:00")
	}
	form.Set("s-5-0-from", "08:00")
	form.Set("s-5-0-to", "12:00")
	location(t, "access", c.post(cond+"/access", form))
	st, _ := e.st.StationByChargePointID(ctx, e.a.ID, "CP-1")
	rule, ok, _ := e.access.StationRule(ctx, e.a.ID, st.ID)
	if !ok || rule.Mode != access.ModePublic || rule.WindowEndPolicy != access.StopRemotely || len(rule.StationWindows) != 2 ||
		rule.StationWindows[0].Days != access.MonFri || rule.StationWindows[1].Start != "08:00" {
		t.Fatalf("rule %+v", rule)
	}
	location(t, "grant", c.post(cond+"/grants", url.Values{"grantee": {"u:" + itoa(anna.ID)}, "g-0-0-from": {"18:00"}, "g-0-0-to": {"00:00"}}))
	rule, _, _ = e.access.StationRule(ctx, e.a.ID, st.ID)
	if len(rule.Grants) != 1 || rule.Grants[0].UserID != anna.ID || rule.Grants[0].Windows[0].End != "24:00" {
		t.Fatalf("grants %+v", rule.Grants)
	}
	b = wantStatus(t, "conditions", c.get(cond), http.StatusOK)
	wantContains(t, "conditions", b, "Anna Muster", "Mon 18:00–24:00", `value="07:00"`, `value="08:00"`)

	// A price for everyone here.
	b = wantStatus(t, "bad plan", c.post(cond+"/plans", url.Values{"planTariff": {"999"}, "planAudience": {"public"}}), http.StatusUnprocessableEntity)
	wantContains(t, "bad plan", b, "Please choose one of the list.")
	location(t, "plan", c.post(cond+"/plans", url.Values{"planTariff": {tid}, "planAudience": {"public"}, "planScope": {"station"}}))
	plans, _ := e.billing.Plans(ctx, e.a.ID)
	if len(plans) != 1 || plans[0].StationID != st.ID || plans[0].Audience != tariff.Public {
		t.Fatalf("plans %+v", plans)
	}
	b = wantStatus(t, "conditions with a price", c.get(cond), http.StatusOK)
	wantContains(t, "conditions with a price", b, "Evening", "This station", "costs CHF")
	wantStatus(t, "other account's plan", e.login("owner@b.example").post("/stations/CP-B/conditions/plans/"+itoa(plans[0].ID)+"/remove", url.Values{}), http.StatusNotFound)
	location(t, "remove grant", c.post(cond+"/grants/remove", url.Values{"grantee": {"u:" + itoa(anna.ID)}}))
	location(t, "remove plan", c.post(cond+"/plans/"+itoa(plans[0].ID)+"/remove", url.Values{}))
	location(t, "retire", c.post(to+"/retire", url.Values{}))
	wantContains(t, "retired", wantStatus(t, "retired", c.get("/tariffs"), http.StatusOK), "Retired")
	wantStatus(t, "other account's tariff", e.login("owner@b.example").get(to), http.StatusNotFound)
}

func TestSessionsListDetailCSV(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	anna, _ := e.drivers()
	e.publicTariff()
	day := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	t1 := e.session("ANNA-1", day, 60, 10_000)
	e.session("BEN-1", day.Add(24*time.Hour), 30, 5_000)
	e.session("ANNA-1", day.Add(48*time.Hour), 45, 7_500)
	c := e.login("reader@a.example")

	b := wantStatus(t, "list", c.get("/sessions"), http.StatusOK)
	wantContains(t, "list", b, "Anna Muster", "Ben Beispiel", "10.00 kWh", "CHF 7.57") // (10 × 0.50 + 2.00) × 1.081 = 7.567
	b = wantStatus(t, "by driver", c.get("/sessions?driver="+itoa(anna.ID)), http.StatusOK)
	if strings.Contains(b, ">Ben Beispiel</a>") || strings.Count(b, `href="/sessions/`) != 2 {
		t.Errorf("filter by driver:\n%.3000s", b)
	}
	b = wantStatus(t, "bad filter", c.get("/sessions?from=yesterday"), http.StatusUnprocessableEntity)
	wantContains(t, "bad filter", b, `id="e-from"`, `value="yesterday"`)

	// CSV of the filtered list: a header and a row per session, times in Zurich.
	resp := c.get("/sessions.csv?driver=" + itoa(anna.ID))
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(body(resp))).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("CSV %v rows, %v", rows, err)
	}
	if rows[0][0] != "transaction_id" || rows[2][0] != itoa(t1.ID) || rows[2][5] != "2026-03-02T09:00:00+01:00" || rows[2][7] != "60" ||
		rows[2][8] != "10.000" || rows[2][10] != "CHF" || rows[2][11] != "final" || rows[2][4] != "Anna Muster" {
		t.Errorf("CSV row %q", rows[2])
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(body(c.get("/sessions.csv?excel=1&from=2026-03-03&to=2026-03-03")), "\ufeff")))
	r.Comma = ';'
	rows, err = r.ReadAll()
	if err != nil || len(rows) != 2 || rows[1][8] != "5,000" || rows[1][3] != "BEN-1" {
		t.Errorf("Excel CSV %q, %v", rows, err)
	}

	// The detail: the meter chart's points and the stored cost lines.
	b = wantStatus(t, "detail", c.get("/sessions/"+itoa(t1.ID)), http.StatusOK)
	wantContains(t, "detail", b, `id="session-chart"`, `&#34;kw&#34;:[11,11,11,11,11]`, "Energy", "Session fee", "Total")
	cost, _ := e.billing.Cost(ctx, e.a, t1.ID)
	wantContains(t, "detail", b, "CHF "+strings.TrimPrefix(strings.TrimSpace(fmtMinor(cost.Cost.Payable)), ""))
	wantStatus(t, "other account's session", e.login("owner@b.example").get("/sessions/"+itoa(t1.ID)), http.StatusNotFound)
}

func fmtMinor(n int64) string { return itoa(n/100) + "." + leftPad(itoa(n%100)) }

func leftPad(s string) string {
	if len(s) < 2 {
		return "0" + s
	}
	return s
}

func TestDriverPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	anna, ben := e.drivers()
	e.publicTariff()
	mine := e.session("ANNA-1", time.Now().Add(-3*time.Hour), 60, 10_000)
	theirs := e.session("BEN-1", time.Now().Add(-2*time.Hour), 30, 5_000)
	// Anna charges now.
	st, _ := e.st.StationByChargePointID(ctx, e.a.ID, "CP-1")
	now := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
	open, _, err := e.st.StartTransaction(ctx, station.StartTx{AccountID: e.a.ID, StationID: st.ID, ConnectorID: 2, IdTag: "ANNA-1", MeterStartWh: 5000, StartedAt: now,
		Source: station.Source{Action: "StartTransaction", MessageID: "open", ReceivedAt: now}})
	if err != nil {
		t.Fatal(err)
	}
	reg, pw := int64(8_000_000), int64(7_400_000)
	at := time.Now().Add(-time.Minute)
	e.st.AddMeterValues(ctx, []station.MeterValue{
		{StationID: st.ID, ConnectorID: 2, TransactionID: open.ID, Timestamp: at, Measurand: "Energy.Active.Import.Register", Unit: "Wh", Milli: &reg},
		{StationID: st.ID, ConnectorID: 2, TransactionID: open.ID, Timestamp: at, Measurand: "Power.Active.Import", Unit: "W", Milli: &pw}})

	// The operator makes Anna a link; it is shown once.
	op := e.login("manager@a.example")
	b := wantStatus(t, "bad days", op.post("/drivers/"+itoa(anna.ID)+"/links", url.Values{"days": {"0"}}), http.StatusUnprocessableEntity)
	wantContains(t, "bad days", b, "Enter days from 1 to 365.")
	b = wantStatus(t, "link", op.post("/drivers/"+itoa(anna.ID)+"/links", url.Values{"days": {"30"}}), http.StatusOK)
	m := regexp.MustCompile(`id="driver-link" type="text" readonly value="[^"]*(/d/cb_[A-Za-z0-9_-]+)"`).FindStringSubmatch(b)
	if m == nil {
		t.Fatalf("no link shown:\n%.3000s", b)
	}
	wantStatus(t, "read-only makes a link", e.login("reader@a.example").post("/drivers/"+itoa(anna.ID)+"/links", url.Values{"days": {"30"}}), http.StatusForbidden)

	// An operator's session is not a driver's.
	wantStatus(t, "operator on the driver page", op.get("/me"), http.StatusForbidden)
	wantStatus(t, "unknown link", e.anonymous().get("/d/cb_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), http.StatusNotFound)

	drv := e.anonymous()
	resp := drv.get(m[1])
	if location(t, "open link", resp) != "/me" {
		t.Fatal("the link does not lead to /me")
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "chargebook_driver" {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly {
		t.Fatalf("driver cookie %+v", cookie)
	}
	u, _ := url.Parse(e.srv.URL)
	drv.http.Jar = &jar{cookies: map[string]*http.Cookie{}}
	drv.http.Jar.SetCookies(u, []*http.Cookie{cookie})

	b = wantStatus(t, "driver page", drv.get("/me"), http.StatusOK)
	wantContains(t, "driver page", b, "Hello Anna Muster", "7.4 kW", "3.00 kWh", `href="/me/sessions/`+itoa(mine.ID)+`"`, `hx-get="/me/live"`)
	if strings.Contains(b, "BEN-1") || strings.Contains(b, `/me/sessions/`+itoa(theirs.ID)+`"`) || strings.Contains(b, "chargebook_session") {
		t.Error("the driver page shows another driver's session")
	}
	wantContains(t, "live", wantStatus(t, "live", drv.get("/me/live", "HX-Request", "true"), http.StatusOK), "7.4 kW", "Cost so far")
	b = wantStatus(t, "receipt", drv.get("/me/sessions/"+itoa(mine.ID)), http.StatusOK)
	wantContains(t, "receipt", b, "Receipt for session", "10.00 kWh", "Total", "data-print")
	wantStatus(t, "another driver's receipt", drv.get("/me/sessions/"+itoa(theirs.ID)), http.StatusNotFound)
	wantStatus(t, "a driver on operator pages", drv.get("/sessions"), http.StatusSeeOther)

	// Revoked: the driver is out.
	links, _ := e.st.DriverLinks(ctx, e.a.ID, anna.ID)
	wantStatus(t, "other account revokes", e.login("owner@b.example").post("/drivers/"+itoa(anna.ID)+"/links/"+itoa(links[0].ID)+"/revoke", url.Values{}), http.StatusNotFound)
	wantStatus(t, "another driver's link", op.post("/drivers/"+itoa(ben.ID)+"/links/"+itoa(links[0].ID)+"/revoke", url.Values{}), http.StatusNotFound)
	location(t, "revoke", op.post("/drivers/"+itoa(anna.ID)+"/links/"+itoa(links[0].ID)+"/revoke", url.Values{}))
	wantStatus(t, "revoked", drv.get("/me"), http.StatusForbidden)
	wantStatus(t, "revoked link", e.anonymous().get(m[1]), http.StatusNotFound)
}

func TestEnergyPage(t *testing.T) {
	e := newEnv(t)
	e.drivers()
	e.session("ANNA-1", time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 60, 10_000)
	if _, err := e.metering.RebuildPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := e.login("manager@a.example")
	b := wantStatus(t, "page", c.get("/energy?from=2026-03-02&to=2026-03-02"), http.StatusOK)
	wantContains(t, "page", b, `id="energy-chart"`, "High tariff hours", `name="c-0-0-from" value="07:00"`, "CP-1", "10.00 kWh")
	wantStatus(t, "bad period", c.get("/energy?from=2026-03-05&to=2026-03-01"), http.StatusUnprocessableEntity)

	b = wantStatus(t, "bad calendar", c.post("/energy/calendar", url.Values{"c-0-0-from": {"07:10"}, "c-0-0-to": {"20:00"}}), http.StatusUnprocessableEntity)
	wantContains(t, "bad calendar", b, `id="e-c-0-0-from"`, "Use quarter hours", `value="07:10"`)
	location(t, "calendar", c.post("/energy/calendar", url.Values{"c-0-0-from": {"06:00"}, "c-0-0-to": {"22:00"}}))
	cal, _ := e.metering.Calendar(context.Background(), e.a)
	if len(cal.HT) != 1 || cal.HT[0].Day != time.Monday || cal.HT[0].From != 6*time.Hour {
		t.Errorf("calendar %+v", cal.HT)
	}
	resp := c.get("/energy.csv?from=2026-03-02&to=2026-03-02&by=station")
	b = body(resp)
	if !strings.HasPrefix(b, "station,interval_start_utc") || strings.Count(b, "\r\n") != 1+96 {
		t.Errorf("CSV: %d lines\n%.300s", strings.Count(b, "\r\n"), b)
	}
	if b := body(c.get("/energy.csv?from=2026-03-02&to=2026-03-02&excel=1")); !strings.HasPrefix(b, "\ufeff") || !strings.Contains(b, ";") {
		t.Errorf("Excel CSV:\n%.300s", b)
	}
	wantStatus(t, "read-only calendar", e.login("reader@a.example").post("/energy/calendar", url.Values{}), http.StatusForbidden)
}
