package billing_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
	"github.com/chargebook/chargebook/internal/tariff"
)

var zurich = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		panic(err)
	}
	return loc
}()

// local is a time in Zurich on Monday 2 March 2026 (CET, UTC+1).
func local(hhmm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-03-02 "+hhmm, zurich)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// clock is a settable now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(hhmm string) { c.mu.Lock(); defer c.mu.Unlock(); c.t = local(hhmm) }

type env struct {
	t     *testing.T
	ctx   context.Context
	store *store.Store
	clock *clock
	svc   *billing.Service
	acct  account.Account
	sess  *station.Session
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "chargebook.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, ctx: ctx, store: st, clock: &clock{}}
	e.clock.set("12:00")
	e.acct = e.account("a@example.com")
	cp, _, err := st.RegisterStation(ctx, e.acct.ID, "CP-1", station.Accepted, account.Strict, e.clock.now())
	e.must(err)
	e.sess = &station.Session{Account: e.acct, Station: cp}
	e.svc = billing.NewService(st, st, st, st, e.clock.now, nil)
	return e
}

func (e *env) account(email string) account.Account {
	a, _, err := e.store.CreateAccount(e.ctx, account.Account{Key: account.NewKey(), Name: email, TimeZone: "Europe/Zurich",
		Currency: "CHF", StationValidation: account.Strict, CreatedAt: e.clock.now()},
		account.Operator{Email: email, PasswordHash: "h", Role: account.RoleOwner, CreatedAt: e.clock.now()})
	e.must(err)
	return a
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// rules reads a tariff's rules as the API takes them: VAT left out gets the default.
func rules(t *testing.T, js string) tariff.Tariff {
	t.Helper()
	var r tariff.Tariff
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

const (
	// 0.30 CHF/kWh until 18:00, 0.40 from 18:00 to 06:00, VAT 8.1 % by default.
	dayEvening = `{"elements":[
		{"price_components":[{"type":"ENERGY","price":0.40,"step_size":1}],"restrictions":{"start_time":"18:00","end_time":"06:00"}},
		{"price_components":[{"type":"ENERGY","price":0.30,"step_size":1}]}]}`
	flat50 = `{"elements":[{"price_components":[{"type":"ENERGY","price":0.50,"step_size":1}]}]}`
	flat20 = `{"elements":[{"price_components":[{"type":"ENERGY","price":0.20,"step_size":1}]}]}`
	// 2.00 to start, then 0.10 CHF/kWh.
	startFee = `{"elements":[{"price_components":[{"type":"FLAT","price":2.00},{"type":"ENERGY","price":0.10,"step_size":1}]}]}`
)

func (e *env) tariff(name, js string) billing.Tariff {
	e.t.Helper()
	tr, err := e.svc.CreateTariff(e.ctx, e.acct, name, time.Time{}, rules(e.t, js))
	e.must(err)
	return tr
}

func (e *env) plan(p billing.Plan) billing.Plan {
	e.t.Helper()
	p.AccountID = e.acct.ID
	out, err := e.svc.CreatePlan(e.ctx, p)
	e.must(err)
	return out
}

// charge starts a transaction at `from` with meterStart 10 kWh and readings of the register
// at each of `readings` (local times and Wh charged since the start); the billing service
// observes the start.
func (e *env) charge(idTag, from string, readings map[string]int64) station.Transaction {
	e.t.Helper()
	tx, _, err := e.store.StartTransaction(e.ctx, station.StartTx{AccountID: e.acct.ID, StationID: e.sess.Station.ID,
		ConnectorID: 1, IdTag: idTag, MeterStartWh: 10_000, StartedAt: local(from)})
	e.must(err)
	e.must(e.svc.TransactionStarted(e.ctx, e.sess, tx, ""))
	var values []station.MeterValue
	for at, wh := range readings {
		milli := (10_000 + wh) * 1000
		values = append(values, station.MeterValue{StationID: e.sess.Station.ID, ConnectorID: 1, TransactionID: tx.ID,
			Timestamp: local(at), Measurand: station.DefaultMeasurand, Context: station.DefaultContext,
			Location: station.DefaultLocation, Format: station.DefaultFormat, RawValue: "x", Unit: "Wh", Milli: &milli})
	}
	e.must(e.store.AddMeterValues(e.ctx, values))
	return tx
}

func (e *env) stop(tx station.Transaction, at string, wh int64) station.Transaction {
	e.t.Helper()
	tx, err := e.store.StopTransaction(e.ctx, station.StopTx{AccountID: e.acct.ID, StationID: e.sess.Station.ID,
		TransactionID: tx.ID, MeterStopWh: 10_000 + wh, StoppedAt: local(at), Reason: "Local"})
	e.must(err)
	e.must(e.svc.TransactionStopped(e.ctx, e.sess, tx))
	return tx
}

func (e *env) cost(tx station.Transaction) billing.SessionCost {
	e.t.Helper()
	c, err := e.svc.Cost(e.ctx, e.acct, tx.ID)
	e.must(err)
	if c.Priced() {
		e.must(c.Cost.Check())
	}
	return c
}

func line(typ tariff.LineType, elem int, q int64, price tariff.Micros, net, vat int64) tariff.Line {
	rate := billing.DefaultVAT
	return tariff.Line{Type: typ, Element: elem, Quantity: q, UnitPrice: price, VATRate: &rate, Net: net, VAT: vat, Gross: net + vat}
}

func wantCost(t *testing.T, what string, c billing.SessionCost, status billing.Status, tr billing.Tariff, version int, payable int64, lines ...tariff.Line) {
	t.Helper()
	if c.Status != status || c.Cost.TariffID != strconv.FormatInt(tr.ID, 10) || c.Cost.TariffVersion != version || c.Cost.Payable != payable {
		t.Errorf("%s: %s under tariff %s version %d, payable %d (%s); want %s under %d version %d, payable %d",
			what, c.Status, c.Cost.TariffID, c.Cost.TariffVersion, c.Cost.Payable, c.Reason, status, tr.ID, version, payable)
	}
	if lines != nil && !reflect.DeepEqual(c.Cost.Lines, lines) {
		t.Errorf("%s: lines\n got %+v\nwant %+v", what, c.Cost.Lines, lines)
	}
}

// A session is priced by the version in force when it started, across a time-of-day boundary
// in the account's time zone; a change applies to sessions that start after it.
func TestVersionsAndTimeOfDay(t *testing.T) {
	e := newEnv(t)
	tr := e.tariff("Standard", dayEvening)
	e.plan(billing.Plan{TariffID: tr.ID, Audience: tariff.Public})

	e.clock.set("17:00")
	a := e.charge("GUEST", "17:00", map[string]int64{"17:30": 2500, "18:00": 5000})

	// Live at 18:15: 5 kWh before 18:00 at 0.30 = 1.50, nothing yet after the last reading;
	// 1.50 + 8.1 % = 1.6215, 1.62.
	e.clock.set("18:15")
	live := e.cost(a)
	wantCost(t, "live", live, billing.StatusEstimate, tr, 1, 162, line(tariff.LineEnergy, 1, 5000, 300_000, 150, 12))
	stored, err := e.store.SessionCost(e.ctx, e.acct.ID, a.ID)
	e.must(err)
	if stored.Status != billing.StatusOpen || stored.Cost.Lines != nil {
		t.Errorf("an estimate was stored: %+v", stored)
	}

	// The tariff changes at 19:30, for sessions from 20:00 on.
	e.clock.set("19:30")
	changed, err := e.svc.ChangeTariff(e.ctx, e.acct, tr.ID, "", local("20:00"), rules(t, flat50))
	e.must(err)
	if len(changed.Versions) != 2 {
		t.Fatalf("versions %+v", changed.Versions)
	}
	e.stop(a, "19:00", 10_000)
	// 5 kWh at 0.30 (17:00-18:00) and 5 kWh at 0.40 (18:00-19:00): 1.50 + 2.00 = 3.50 net,
	// VAT 8.1 % exactly 0.2835 (0.162 + 0.1215), gross 3.7835, 3.78; VAT 3.78 - 3.50 = 0.28,
	// 0.16 and 0.12 by line.
	final := e.cost(a)
	lines := []tariff.Line{line(tariff.LineEnergy, 0, 5000, 400_000, 200, 16), line(tariff.LineEnergy, 1, 5000, 300_000, 150, 12)}
	wantCost(t, "across 18:00, stopped after the change", final, billing.StatusFinal, tr, 1, 378, lines...)
	if final.Cost.TotalNet != 350 || final.Cost.TotalVAT != 28 || final.Cost.EnergyWh != 10_000 || final.Cost.DurationS != 7200 {
		t.Errorf("totals %+v", final.Cost)
	}

	// A retried stop recomputes the same cost.
	e.clock.set("19:45")
	e.stop(a, "19:00", 10_000)
	again := e.cost(a)
	wantCost(t, "retried stop", again, billing.StatusFinal, tr, 1, 378, lines...)

	// After the change: 10 kWh at 0.50 = 5.00 net, VAT 0.405, gross 5.405, 5.41.
	e.clock.set("20:00")
	b := e.charge("GUEST", "20:00", nil)
	e.stop(b, "21:00", 10_000)
	wantCost(t, "after the change", e.cost(b), billing.StatusFinal, tr, 2, 541, line(tariff.LineEnergy, 0, 10_000, 500_000, 500, 41))
}

// An individual price beats group prices, the cheapest group wins for the session at hand,
// and groups beat the public price.
func TestAudiences(t *testing.T) {
	e := newEnv(t)
	staff, err := e.store.CreateAccessGroup(e.ctx, e.acct.ID, access.Group{Name: "Staff"}, nil, e.clock.now())
	e.must(err)
	neighbours, err := e.store.CreateAccessGroup(e.ctx, e.acct.ID, access.Group{Name: "Neighbours"}, nil, e.clock.now())
	e.must(err)
	ann, err := e.store.CreateAccessUser(e.ctx, e.acct.ID, access.User{Name: "Ann", GroupIDs: []int64{staff.ID, neighbours.ID}}, e.clock.now())
	e.must(err)
	bob, err := e.store.CreateAccessUser(e.ctx, e.acct.ID, access.User{Name: "Bob", GroupIDs: []int64{staff.ID, neighbours.ID}}, e.clock.now())
	e.must(err)
	e.must(e.store.SaveAccessTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: "ANN", Known: true}, ann.ID))
	e.must(e.store.SaveAccessTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: "BOB", Known: true}, bob.ID))

	public := e.tariff("Public", flat50)
	cheap := e.tariff("Staff", flat20)
	fee := e.tariff("Neighbours", startFee)
	mine := e.tariff("Ann", dayEvening)
	e.plan(billing.Plan{TariffID: public.ID, Audience: tariff.Public})
	e.plan(billing.Plan{TariffID: cheap.ID, Audience: tariff.Group, GroupID: staff.ID})
	e.plan(billing.Plan{TariffID: fee.ID, Audience: tariff.Group, GroupID: neighbours.ID})
	e.plan(billing.Plan{TariffID: mine.ID, Audience: tariff.User, UserID: ann.ID})

	e.clock.set("14:00")
	// Starts a minute apart: the same start twice would be a retried start.
	guest := e.stop(e.charge("GUEST", "13:00", nil), "14:00", 10_000)
	short := e.stop(e.charge("BOB", "13:01", nil), "14:00", 10_000)
	long := e.stop(e.charge("BOB", "13:02", nil), "14:00", 40_000)
	own := e.stop(e.charge("ann", "13:03", nil), "14:00", 10_000)
	// Public: 10 kWh at 0.50 = 5.00 + 0.405 VAT = 5.41.
	wantCost(t, "a public driver", e.cost(guest), billing.StatusFinal, public, 1, 541)
	// Staff 10 kWh at 0.20 = 2.00 + 0.162 = 2.16; neighbours 2.00 + 1.00 = 3.00 + 0.243 =
	// 3.24: staff is cheaper.
	wantCost(t, "a short session in two groups", e.cost(short), billing.StatusFinal, cheap, 1, 216)
	// 40 kWh: staff 8.00 + 0.648 = 8.65 (8.648); neighbours 2.00 + 4.00 = 6.00 + 0.486 = 6.49.
	wantCost(t, "a long session in two groups", e.cost(long), billing.StatusFinal, fee, 1, 649)
	// Ann's own price (0.30 before 18:00), though staff's is cheaper: 3.00 + 0.243 = 3.24.
	c := e.cost(own)
	wantCost(t, "a user's own price", c, billing.StatusFinal, mine, 1, 324)
	if c.UserID != ann.ID || len(c.Candidates) != 1 {
		t.Errorf("record %+v", c)
	}
}

func TestUnpriced(t *testing.T) {
	e := newEnv(t)
	e.clock.set("14:00")
	tx := e.stop(e.charge("GUEST", "13:00", nil), "14:00", 1000)
	c := e.cost(tx)
	if c.Status != billing.StatusUnpriced || c.Reason != "the account has no price plans" {
		t.Errorf("account without plans: %+v", c)
	}

	// A plan for a group the driver is not in.
	group, err := e.store.CreateAccessGroup(e.ctx, e.acct.ID, access.Group{Name: "G"}, nil, e.clock.now())
	e.must(err)
	tr := e.tariff("G", flat20)
	e.plan(billing.Plan{TariffID: tr.ID, Audience: tariff.Group, GroupID: group.ID})
	tx = e.stop(e.charge("GUEST", "13:01", nil), "14:00", 1000)
	c = e.cost(tx)
	if c.Status != billing.StatusUnpriced || c.Reason == "the account has no price plans" || c.Reason == "" {
		t.Errorf("no plan for the driver: %+v", c)
	}

	// A stop whose energy cannot be told.
	e.plan(billing.Plan{TariffID: tr.ID, Audience: tariff.Public})
	tx = e.charge("GUEST", "13:02", nil)
	tx = e.stop(tx, "14:00", -20_000) // meterStop below meterStart, no reading
	c = e.cost(tx)
	if c.Status != billing.StatusUnpriced || len(c.Candidates) != 1 {
		t.Errorf("register reset: %+v", c)
	}

	// Another account's transaction does not exist.
	other := e.account("b@example.com")
	if _, err := e.svc.Cost(e.ctx, other, tx.ID); !errors.Is(err, billing.ErrNotFound) {
		t.Errorf("cost of another account's transaction: %v", err)
	}
}

// A transaction closed when its station rebooted gets its final cost when it is asked for.
func TestClosedOnBoot(t *testing.T) {
	e := newEnv(t)
	tr := e.tariff("T", flat20)
	e.plan(billing.Plan{TariffID: tr.ID, Audience: tariff.Public})
	e.clock.set("14:00")
	tx := e.charge("GUEST", "13:00", map[string]int64{"13:30": 5000})
	// The store stamps the start with the real clock when it was received.
	closed, err := e.store.CloseOpenTransactions(e.ctx, e.sess.Station.ID, time.Now().Add(time.Hour), "Reboot", station.Source{ReceivedAt: e.clock.now()})
	e.must(err)
	if len(closed) != 1 {
		t.Fatalf("closed %+v", closed)
	}
	// 5 kWh at 0.20 = 1.00 + 0.081 = 1.08.
	wantCost(t, "closed on boot", e.cost(tx), billing.StatusFinal, tr, 1, 108)
	stored, err := e.store.SessionCost(e.ctx, e.acct.ID, tx.ID)
	e.must(err)
	if stored.Status != billing.StatusFinal || stored.Cost.Payable != 108 {
		t.Errorf("stored %+v", stored)
	}
}

func TestChangesRefused(t *testing.T) {
	e := newEnv(t)
	field := func(err error) string {
		var bad billing.Invalid
		if !errors.As(err, &bad) {
			return "not Invalid: " + err.Error()
		}
		return bad[0].Field
	}
	_, err := e.svc.CreateTariff(e.ctx, e.acct, " ", time.Time{}, rules(t, flat20))
	if f := field(err); f != "name" {
		t.Errorf("empty name: %s", f)
	}
	_, err = e.svc.CreateTariff(e.ctx, e.acct, "x", time.Time{}, rules(t, `{"elements":[{"price_components":[{"type":"ENERGY","price":-0.1}]}]}`))
	if f := field(err); f != "rules.elements[0].price_components[0].price" {
		t.Errorf("negative price: %s (%v)", f, err)
	}
	tr := e.tariff("T", flat20)
	if tr.Versions[0].Rules.Elements[0].Components[0].VAT == nil || *tr.Versions[0].Rules.Elements[0].Components[0].VAT != billing.DefaultVAT {
		t.Errorf("default VAT: %+v", tr.Versions[0].Rules)
	}
	_, err = e.svc.ChangeTariff(e.ctx, e.acct, tr.ID, "", e.clock.now().Add(-time.Hour), rules(t, flat50))
	if f := field(err); f != "validFrom" {
		t.Errorf("a change in the past: %s", f)
	}
	for _, tc := range []struct {
		p     billing.Plan
		field string
	}{
		{billing.Plan{TariffID: tr.ID, Audience: tariff.Group, GroupID: 999}, "groupId"},
		{billing.Plan{TariffID: tr.ID, Audience: tariff.User, UserID: 999}, "userId"},
		{billing.Plan{TariffID: tr.ID, Audience: "EVERYONE"}, "audience"},
		{billing.Plan{TariffID: tr.ID + 100, Audience: tariff.Public}, "tariffId"},
		{billing.Plan{TariffID: tr.ID, Audience: tariff.Public, ValidFrom: local("12:00"), ValidTo: local("11:00")}, "validTo"},
	} {
		tc.p.AccountID = e.acct.ID
		_, err := e.svc.CreatePlan(e.ctx, tc.p)
		if f := field(err); f != tc.field {
			t.Errorf("plan %+v: %s, want %s", tc.p, f, tc.field)
		}
	}
	_, err = e.svc.RetireTariff(e.ctx, e.acct.ID, tr.ID)
	e.must(err)
	_, err = e.svc.ChangeTariff(e.ctx, e.acct, tr.ID, "", time.Time{}, rules(t, flat50))
	if !errors.Is(err, billing.ErrRetired) {
		t.Errorf("change of a retired tariff: %v", err)
	}
	_, err = e.svc.CreatePlan(e.ctx, billing.Plan{AccountID: e.acct.ID, TariffID: tr.ID, Audience: tariff.Public})
	if f := field(err); f != "tariffId" {
		t.Errorf("plan of a retired tariff: %s", f)
	}
}

func TestPreview(t *testing.T) {
	e := newEnv(t)
	tr := e.tariff("Standard", dayEvening)
	// Saturday 7 March 2026, 17:00-19:00 in Zurich, 20 kWh at constant power over the first
	// 100 minutes: 17:00-18:00 12 kWh at 0.30 = 3.60, 18:00-18:40 8 kWh at 0.40 = 3.20;
	// 6.80 net + 0.5508 VAT = 7.3508, 7.35.
	start := time.Date(2026, 3, 7, 17, 0, 0, 0, zurich)
	h := billing.Hypothetical{Start: start, Duration: 2 * time.Hour, Charging: 100 * time.Minute, EnergyWh: 20_000}
	c, err := e.svc.Preview(e.ctx, e.acct, tr.ID, tariff.Tariff{}, h)
	e.must(err)
	if c.Payable != 735 || c.TotalNet != 680 || c.ParkingS != 20*60 {
		t.Errorf("preview of tariff %d: %+v", tr.ID, c)
	}
	c, err = e.svc.Preview(e.ctx, e.acct, 0, rules(t, dayEvening), h)
	e.must(err)
	if c.Payable != 735 {
		t.Errorf("preview of rules: %+v", c)
	}
	other := e.account("b@example.com")
	_, err = e.svc.Preview(e.ctx, other, tr.ID, tariff.Tariff{}, h)
	var bad billing.Invalid
	if !errors.As(err, &bad) || bad[0].Field != "tariffId" {
		t.Errorf("preview of another account's tariff: %v", err)
	}
}
