package storetest

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/tariff"
)

// testBilling is the behaviour of billing.Store, for stores that implement it. Its parts run
// one after the other on the store of the test, each on accounts of its own.
func testBilling(t *testing.T, s Store) {
	bs, ok := s.(billing.Store)
	if !ok {
		t.Fatalf("%T does not implement billing.Store", s)
	}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s Store, bs billing.Store)
	}{
		{"Tariffs", testTariffs},
		{"Plans", testPlans},
		{"SessionCosts", testSessionCosts},
		{"Audiences", testAudiences},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, s, bs) })
	}
}

// rules reads a tariff written as JSON, the way the store keeps it; prices with four decimals
// and a VAT of 8.1 % must come back exactly.
func rules(t *testing.T, js string) tariff.Tariff {
	t.Helper()
	var r tariff.Tariff
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

const (
	dayNight = `{"elements":[
		{"price_components":[{"type":"ENERGY","price":0.2345,"vat":8.1,"step_size":1}],"restrictions":{"start_time":"22:00","end_time":"06:00"}},
		{"price_components":[{"type":"ENERGY","price":0.35,"vat":8.1,"step_size":1},{"type":"FLAT","price":1,"vat":8.1,"step_size":0}]}],
		"max_price":{"excl_vat":50},"idle_fee":{"price_per_hour":6,"vat":8.1,"grace_minutes":240,"basis":"SESSION_START"},
		"rounding":{"payable_step":5,"mode":"HALF_UP"}}`
	flat40 = `{"elements":[{"price_components":[{"type":"ENERGY","price":0.40,"vat":8.1,"step_size":1}]}]}`
)

// version is what a stored version's rules read back as: the identity from its columns.
func version(r tariff.Tariff, tariffID int64, n int, v billing.Version) tariff.Tariff {
	r.ID, r.Version, r.Currency, r.ValidFrom, r.ValidTo = strconv.FormatInt(tariffID, 10), n, "CHF", v.ValidFrom, nil
	return r
}

func testTariffs(t *testing.T, s Store, bs billing.Store) {
	ctx := context.Background()
	a := newAccount(t, s, "tariffs-a@example.com")
	b := newAccount(t, s, "tariffs-b@example.com")

	v1 := billing.Version{CreatedAt: at(1), Rules: rules(t, dayNight)}
	tr, err := bs.CreateTariff(ctx, billing.Tariff{AccountID: a.ID, Name: "Standard", Currency: "CHF", CreatedAt: at(1), Versions: []billing.Version{v1}})
	must(t, err)
	if tr.ID == 0 {
		t.Fatal("created tariff has no id")
	}
	v1.TariffID, v1.Version = tr.ID, 1
	v1.Rules = version(v1.Rules, tr.ID, 1, v1)
	equal(t, "created", tr, billing.Tariff{ID: tr.ID, AccountID: a.ID, Name: "Standard", Currency: "CHF", CreatedAt: at(1), Versions: []billing.Version{v1}})

	// A change is a new version; the first stays as it was.
	v2 := billing.Version{ValidFrom: at(60), CreatedAt: at(2), Rules: rules(t, flat40)}
	got, err := bs.AddTariffVersion(ctx, a.ID, tr.ID, "Standard 2025", v2)
	must(t, err)
	v2.TariffID, v2.Version = tr.ID, 2
	v2.Rules = version(v2.Rules, tr.ID, 2, v2)
	want := tr
	want.Name, want.Versions = "Standard 2025", []billing.Version{v1, v2}
	equal(t, "with a second version", got, want)
	got, err = bs.AddTariffVersion(ctx, a.ID, tr.ID, "", billing.Version{ValidFrom: at(120), CreatedAt: at(3), Rules: rules(t, flat40)})
	must(t, err)
	equal(t, "name kept by an empty name", got.Name, "Standard 2025")
	equal(t, "versions", len(got.Versions), 3)
	equal(t, "third version number", got.Versions[2].Version, 3)

	other, err := bs.CreateTariff(ctx, billing.Tariff{AccountID: a.ID, Name: "Night", Currency: "CHF", CreatedAt: at(4),
		Versions: []billing.Version{{CreatedAt: at(4), Rules: rules(t, flat40)}}})
	must(t, err)
	list, err := bs.Tariffs(ctx, a.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != tr.ID || list[1].ID != other.ID || len(list[0].Versions) != 3 || len(list[1].Versions) != 1 {
		t.Errorf("tariffs: %+v", list)
	}
	list, err = bs.Tariffs(ctx, b.ID)
	must(t, err)
	equal(t, "tariffs of the other account", len(list), 0)

	// Retired: no more versions; retiring again keeps the first time.
	got, err = bs.RetireTariff(ctx, a.ID, other.ID, at(10))
	must(t, err)
	equal(t, "retired at", got.RetiredAt, at(10))
	got, err = bs.RetireTariff(ctx, a.ID, other.ID, at(20))
	must(t, err)
	equal(t, "retired again at", got.RetiredAt, at(10))
	_, err = bs.AddTariffVersion(ctx, a.ID, other.ID, "", billing.Version{CreatedAt: at(21), Rules: rules(t, flat40)})
	wantErr(t, err, billing.ErrRetired, "version of a retired tariff")

	// Another account sees none of it.
	_, err = bs.Tariff(ctx, b.ID, tr.ID)
	wantErr(t, err, billing.ErrNotFound, "tariff of another account")
	_, err = bs.AddTariffVersion(ctx, b.ID, tr.ID, "x", billing.Version{CreatedAt: at(5), Rules: rules(t, flat40)})
	wantErr(t, err, billing.ErrNotFound, "version of a tariff of another account")
	_, err = bs.RetireTariff(ctx, b.ID, tr.ID, at(5))
	wantErr(t, err, billing.ErrNotFound, "retire a tariff of another account")
	got, err = bs.Tariff(ctx, a.ID, tr.ID)
	must(t, err)
	if got.Name != "Standard 2025" || !got.RetiredAt.IsZero() || len(got.Versions) != 3 {
		t.Errorf("tariff changed by another account: %+v", got)
	}
}

func testPlans(t *testing.T, s Store, bs billing.Store) {
	ctx := context.Background()
	a := newAccount(t, s, "plans-a@example.com")
	b := newAccount(t, s, "plans-b@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	stB := newStation(t, s, b.ID, "CP-B")
	tr, err := bs.CreateTariff(ctx, billing.Tariff{AccountID: a.ID, Name: "T", Currency: "CHF", CreatedAt: at(0),
		Versions: []billing.Version{{CreatedAt: at(0), Rules: rules(t, flat40)}}})
	must(t, err)

	public, err := bs.CreatePlan(ctx, billing.Plan{AccountID: a.ID, TariffID: tr.ID, Audience: tariff.Public, CreatedAt: at(1)})
	must(t, err)
	equal(t, "public plan", public, billing.Plan{ID: public.ID, AccountID: a.ID, TariffID: tr.ID, Audience: tariff.Public, CreatedAt: at(1)})
	group, err := bs.CreatePlan(ctx, billing.Plan{AccountID: a.ID, TariffID: tr.ID, Audience: tariff.Group, GroupID: 7,
		StationID: st.ID, ValidFrom: at(10), ValidTo: at(100), CreatedAt: at(2)})
	must(t, err)
	equal(t, "group plan", group, billing.Plan{ID: group.ID, AccountID: a.ID, TariffID: tr.ID, Audience: tariff.Group, GroupID: 7,
		StationID: st.ID, ChargePointID: "CP-1", ValidFrom: at(10), ValidTo: at(100), CreatedAt: at(2)})

	_, err = bs.CreatePlan(ctx, billing.Plan{AccountID: b.ID, TariffID: tr.ID, Audience: tariff.Public, CreatedAt: at(3)})
	wantErr(t, err, billing.ErrNotFound, "plan of a tariff of another account")
	_, err = bs.CreatePlan(ctx, billing.Plan{AccountID: a.ID, TariffID: tr.ID, Audience: tariff.Public, StationID: stB.ID, CreatedAt: at(3)})
	wantErr(t, err, billing.ErrNotFound, "plan at a station of another account")

	must(t, bs.DeletePlan(ctx, a.ID, public.ID, at(5)))
	must(t, bs.DeletePlan(ctx, a.ID, public.ID, at(6)))
	wantErr(t, bs.DeletePlan(ctx, b.ID, group.ID, at(6)), billing.ErrNotFound, "delete a plan of another account")
	wantErr(t, bs.DeletePlan(ctx, a.ID, group.ID+1000, at(6)), billing.ErrNotFound, "delete an unknown plan")
	plans, err := bs.Plans(ctx, a.ID)
	must(t, err)
	public.DeletedAt = at(5)
	equal(t, "plans", plans, []billing.Plan{public, group})
	plans, err = bs.Plans(ctx, b.ID)
	must(t, err)
	equal(t, "plans of the other account", len(plans), 0)
}

func testSessionCosts(t *testing.T, s Store, bs billing.Store) {
	ctx := context.Background()
	a := newAccount(t, s, "costs-a@example.com")
	b := newAccount(t, s, "costs-b@example.com")
	st := newStation(t, s, a.ID, "CP-1")
	tr, err := bs.CreateTariff(ctx, billing.Tariff{AccountID: a.ID, Name: "T", Currency: "CHF", CreatedAt: at(0),
		Versions: []billing.Version{{CreatedAt: at(0), Rules: rules(t, dayNight)}}})
	must(t, err)
	plan, err := bs.CreatePlan(ctx, billing.Plan{AccountID: a.ID, TariffID: tr.ID, Audience: tariff.Public, CreatedAt: at(0)})
	must(t, err)
	tx := mustStart(t, s, start(a.ID, st.ID, 1, "TAG", 1000, 1))
	tx2 := mustStart(t, s, start(a.ID, st.ID, 2, "TAG2", 0, 1))

	rec := billing.SessionCost{TransactionID: tx.ID, AccountID: a.ID, Status: billing.StatusOpen, UserID: 3,
		Candidates: []billing.Candidate{{PlanID: plan.ID, TariffID: tr.ID, TariffVersion: 1}}, RecordedAt: at(1)}
	got, err := bs.RecordSessionCost(ctx, rec)
	must(t, err)
	equal(t, "recorded", got, rec)
	// A retried start keeps the first record.
	again := rec
	again.Candidates, again.Status, again.Reason, again.RecordedAt = nil, billing.StatusUnpriced, "x", at(2)
	got, err = bs.RecordSessionCost(ctx, again)
	must(t, err)
	equal(t, "recorded again", got, rec)
	_, err = bs.RecordSessionCost(ctx, billing.SessionCost{TransactionID: tx.ID, AccountID: b.ID, Status: billing.StatusOpen, RecordedAt: at(2)})
	wantErr(t, err, billing.ErrNotFound, "record for a transaction of another account")
	_, err = bs.SessionCost(ctx, a.ID, tx2.ID)
	wantErr(t, err, billing.ErrNotFound, "transaction without a record")

	vat := tariff.VATRate(810)
	final := rec
	final.Status, final.PlanID, final.PricedAt = billing.StatusFinal, plan.ID, at(30)
	final.Cost = tariff.Cost{TariffID: strconv.FormatInt(tr.ID, 10), TariffVersion: 1, Currency: "CHF",
		Lines: []tariff.Line{
			{Type: tariff.LineEnergy, Element: 1, Quantity: 10_000, UnitPrice: 350_000, VATRate: &vat, Net: 350, VAT: 28, Gross: 378},
			{Type: tariff.LineFlat, Element: 1, Quantity: 1, UnitPrice: 1_000_000, VATRate: &vat, Net: 100, VAT: 8, Gross: 108},
			{Type: tariff.LineRounding, Element: -1, Gross: -1},
		},
		TotalNet: 450, TotalVAT: 36, TotalGross: 486, Rounding: -1, Payable: 485,
		EnergyWh: 10_000, DurationS: 1740, ChargingS: 1740}
	must(t, final.Cost.Check())
	must(t, bs.SaveSessionCost(ctx, final))
	got, err = bs.SessionCost(ctx, a.ID, tx.ID)
	must(t, err)
	equal(t, "final", got, final)
	// Saved again, with fewer lines: replaced, not added to.
	final.Cost.Lines = final.Cost.Lines[:1]
	final.Cost.TotalNet, final.Cost.TotalVAT, final.Cost.TotalGross, final.Cost.Rounding, final.Cost.Payable = 350, 28, 378, 0, 378
	must(t, bs.SaveSessionCost(ctx, final))
	got, err = bs.SessionCost(ctx, a.ID, tx.ID)
	must(t, err)
	equal(t, "final again", got, final)
	// Unpriced after all: no amounts, no lines, the candidates stay.
	unpriced := rec
	unpriced.Status, unpriced.Reason, unpriced.PricedAt = billing.StatusUnpriced, "meter readings cannot be priced", at(31)
	must(t, bs.SaveSessionCost(ctx, unpriced))
	got, err = bs.SessionCost(ctx, a.ID, tx.ID)
	must(t, err)
	equal(t, "unpriced", got, unpriced)

	wantErr(t, bs.SaveSessionCost(ctx, billing.SessionCost{TransactionID: tx2.ID, AccountID: a.ID, Status: billing.StatusUnpriced}),
		billing.ErrNotFound, "save for a transaction without a record")
	wantErr(t, bs.SaveSessionCost(ctx, billing.SessionCost{TransactionID: tx.ID, AccountID: b.ID, Status: billing.StatusUnpriced}),
		billing.ErrNotFound, "save for a transaction of another account")
	_, err = bs.SessionCost(ctx, b.ID, tx.ID)
	wantErr(t, err, billing.ErrNotFound, "cost of a transaction of another account")
}

// userStore writes the users, groups and tag users that billing.Audiences reads.
type userStore interface {
	CreateAccessUser(ctx context.Context, accountID int64, u access.User, at time.Time) (access.User, error)
	CreateAccessGroup(ctx context.Context, accountID int64, g access.Group, members []int64, at time.Time) (access.Group, error)
	SaveAccessTag(ctx context.Context, tag station.IdTag, userID int64) error
}

func testAudiences(t *testing.T, s Store, bs billing.Store) {
	aud, ok := s.(billing.Audiences)
	if !ok {
		t.Fatalf("%T does not implement billing.Audiences", s)
	}
	us, ok := s.(userStore)
	if !ok {
		t.Fatalf("%T does not keep users and groups", s)
	}
	ctx := context.Background()
	a := newAccount(t, s, "audiences-a@example.com")
	b := newAccount(t, s, "audiences-b@example.com")
	staff, err := us.CreateAccessGroup(ctx, a.ID, access.Group{Name: "Staff"}, nil, at(0))
	must(t, err)
	residents, err := us.CreateAccessGroup(ctx, a.ID, access.Group{Name: "Residents"}, nil, at(0))
	must(t, err)
	ann, err := us.CreateAccessUser(ctx, a.ID, access.User{Name: "Ann", GroupIDs: []int64{residents.ID, staff.ID}}, at(0))
	must(t, err)
	bob, err := us.CreateAccessUser(ctx, a.ID, access.User{Name: "Bob"}, at(0))
	must(t, err)
	tag := func(accountID int64, idTag, parent string, userID int64) {
		t.Helper()
		must(t, us.SaveAccessTag(ctx, station.IdTag{AccountID: accountID, IdTag: idTag, ParentIdTag: parent, Known: true}, userID))
	}
	tag(a.ID, "ANN-1", "", ann.ID)
	tag(a.ID, "ANN-CHILD", "ANN-1", 0)
	tag(a.ID, "BOB-1", "", bob.ID)
	tag(a.ID, "LONE", "", 0)
	tag(b.ID, "ANN-1", "", 0)

	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	for _, tc := range []struct {
		accountID int64
		idTag     string
		want      tariff.Driver
	}{
		{a.ID, "ANN-1", tariff.Driver{UserID: id(ann.ID), GroupIDs: []string{id(min(staff.ID, residents.ID)), id(max(staff.ID, residents.ID))}}},
		{a.ID, "ann-1", tariff.Driver{UserID: id(ann.ID), GroupIDs: []string{id(min(staff.ID, residents.ID)), id(max(staff.ID, residents.ID))}}},
		{a.ID, "ANN-CHILD", tariff.Driver{UserID: id(ann.ID), GroupIDs: []string{id(min(staff.ID, residents.ID)), id(max(staff.ID, residents.ID))}}},
		{a.ID, "BOB-1", tariff.Driver{UserID: id(bob.ID)}},
		{a.ID, "LONE", tariff.Driver{}},
		{a.ID, "NEVER-SEEN", tariff.Driver{}},
		{b.ID, "ANN-1", tariff.Driver{}},
		{b.ID, "BOB-1", tariff.Driver{}},
	} {
		d, err := aud.DriverOf(ctx, tc.accountID, tc.idTag)
		must(t, err)
		equal(t, "driver of "+tc.idTag, d, tc.want)
	}
	for _, tc := range []struct {
		what string
		has  func(ctx context.Context, accountID, id int64) (bool, error)
		acct int64
		id   int64
		want bool
	}{
		{"user of the account", aud.HasUser, a.ID, ann.ID, true},
		{"user of another account", aud.HasUser, b.ID, ann.ID, false},
		{"a group id as a user", aud.HasUser, a.ID, staff.ID + 1000, false},
		{"group of the account", aud.HasGroup, a.ID, staff.ID, true},
		{"group of another account", aud.HasGroup, b.ID, staff.ID, false},
	} {
		got, err := tc.has(ctx, tc.acct, tc.id)
		must(t, err)
		equal(t, tc.what, got, tc.want)
	}
}
