package tariff

import (
	"errors"
	"testing"
	"time"
)

func perKWh(id, price string) Tariff {
	return Tariff{ID: id, Elements: []Element{element(nil, comp(Energy, price, vat81, 1))}}
}

func plan(id string, a Audience, subject string, versions ...Tariff) Plan {
	return Plan{ID: id, Audience: a, Subject: subject, Versions: versions}
}

func TestChoose(t *testing.T) {
	start := local("2026-05-04 08:00")
	short := timeline(start, charge(30*time.Minute, 2000))
	long := timeline(start, charge(4*time.Hour, 40000))
	withFee := Tariff{ID: "fee", Elements: []Element{element(nil, comp(Flat, "2.00", vat81, 1), comp(Energy, "0.20", vat81, 1))}}
	expired := plan("expired", User, "ann", perKWh("x", "0.01"))
	expired.ValidTo = start.Add(-time.Hour)
	later := plan("later", Group, "staff", perKWh("x", "0.01"))
	later.ValidFrom = start.Add(time.Hour)

	plans := []Plan{
		plan("public", Public, "", perKWh("pub", "0.50")),
		plan("staff", Group, "staff", perKWh("staff", "0.30")),
		plan("neighbours", Group, "neighbours", withFee),
		plan("free", Group, "friends", Tariff{ID: "free", Free: true}),
		plan("ann", User, "ann", perKWh("ann", "0.40")),
		expired, later,
	}
	tests := []struct {
		name    string
		driver  Driver
		session Session
		want    string
	}{
		{"user price beats group prices, even a cheaper one", Driver{"ann", []string{"staff"}}, short, "ann"},
		{"group price beats the public price", Driver{"bob", []string{"staff"}}, short, "staff"},
		{"cheapest group for a short session: no start fee", Driver{"bob", []string{"neighbours", "staff"}}, short, "staff"},
		{"cheapest group for a long session: the start fee pays off", Driver{"bob", []string{"staff", "neighbours"}}, long, "neighbours"},
		{"a free group plan is the cheapest", Driver{"bob", []string{"staff", "friends"}}, long, "free"},
		{"public otherwise", Driver{"carl", nil}, short, "public"},
		{"an unknown group falls back to public", Driver{"carl", []string{"nobody"}}, short, "public"},
		{"anonymous driver", Driver{}, short, "public"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Choose(plans, tc.driver, tc.session)
			if err != nil {
				t.Fatal(err)
			}
			if c.Plan.ID != tc.want {
				t.Errorf("plan %q (payable %d), want %q", c.Plan.ID, c.Cost.Payable, tc.want)
			}
			if err := c.Cost.Check(); err != nil {
				t.Error(err)
			}
		})
	}

	if _, err := Choose(plans[1:4], Driver{UserID: "carl"}, short); !errors.Is(err, ErrNoPlan) {
		t.Errorf("no public plan: err %v, want ErrNoPlan", err)
	}
	eur := perKWh("eur", "0.10")
	eur.Currency = "EUR"
	mixed := []Plan{plan("a", Group, "a", perKWh("chf", "0.30")), plan("b", Group, "b", eur)}
	if _, err := Choose(mixed, Driver{GroupIDs: []string{"a", "b"}}, short); err == nil {
		t.Error("plans in CHF and EUR compared")
	}
}

func TestInForce(t *testing.T) {
	jan, mar := local("2026-01-01 00:00"), local("2026-03-01 00:00")
	v1 := perKWh("t", "0.30")
	v1.Version, v1.ValidFrom = 1, jan
	v2 := perKWh("t", "0.40")
	v2.Version, v2.ValidFrom = 2, mar
	v2b := v2 // the same start, a correction
	v2b.Version = 3
	retired := perKWh("t", "0.10")
	retired.Version, retired.ValidFrom, retired.ValidTo = 4, mar, ptr(mar.Add(24*time.Hour))
	versions := []Tariff{v2, v1}

	for _, tc := range []struct {
		at       time.Time
		versions []Tariff
		want     int
		ok       bool
	}{
		{local("2025-12-31 23:59"), versions, 0, false},
		{jan, versions, 1, true},
		{mar.Add(-time.Second), versions, 1, true},
		{mar, versions, 2, true},
		{mar, []Tariff{v2, v2b, v1}, 3, true},
		{mar.Add(time.Hour), []Tariff{v1, retired}, 4, true},
		{mar.Add(25 * time.Hour), []Tariff{v1, retired}, 1, true},
	} {
		got, ok := InForce(tc.versions, tc.at)
		if ok != tc.ok || got.Version != tc.want {
			t.Errorf("at %s: version %d %v, want %d %v", tc.at, got.Version, ok, tc.want, tc.ok)
		}
	}

	// A session that starts under v1 is priced by v1 to the end, although v2 takes effect
	// during it.
	p := []Plan{{ID: "p", Audience: Public, Versions: versions}}
	s := timeline(local("2026-02-28 23:30"), charge(time.Hour, 10000))
	c, err := Choose(p, Driver{}, s)
	if err != nil {
		t.Fatal(err)
	}
	if c.Tariff.Version != 1 || c.Cost.TotalNet != 300 {
		t.Errorf("version %d, net %d; want version 1 and 3.00", c.Tariff.Version, c.Cost.TotalNet)
	}
	// A plan with no version in force does not apply.
	if _, err := Choose(p, Driver{}, timeline(local("2025-06-01 10:00"))); !errors.Is(err, ErrNoPlan) {
		t.Errorf("before any version: err %v, want ErrNoPlan", err)
	}
}
