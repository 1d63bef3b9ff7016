package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/api"
	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/server"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

// newBillingSystem is newSystem with sessions priced, as serve.go wires it: the billing
// service observes the stations beside the operation service, and the API serves prices.
func newBillingSystem(t *testing.T) *system {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "chargebook.db"), quiet)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	pair, err := newOperator()
	if err != nil {
		t.Fatalf("new account: %v", err)
	}
	a := pair.acct
	a.HeartbeatInterval = heartbeatInterval
	a, _, err = st.CreateAccount(ctx, a, pair.op)
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	tok, secret := account.NewToken(a.ID, "e2e", time.Now())
	if _, err := st.CreateToken(ctx, tok); err != nil {
		t.Fatalf("create token: %v", err)
	}

	svc := station.NewService(st, station.TagAuthorizer{Store: st}, time.Now, quiet)
	ocppServer := csms.New(st, svc, csms.Options{
		RPC:    rpc.Options{CallTimeout: waitTimeout, PingInterval: 30 * time.Second, MaxFrameBytes: 256 << 10, Logger: quiet},
		Logger: quiet,
	})
	ops := operation.NewService(st, csms.Sender{Server: ocppServer}, time.Now, quiet)
	prices := billing.NewService(st, st, st, st, time.Now, quiet)
	svc.SetObserver(station.Observers{ops, prices})
	hs := httptest.NewServer(server.Routes(ocppServer, api.New(api.Deps{Accounts: st, Stations: st, Live: ocppServer, Operations: ops, Billing: prices, Logger: quiet})))
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
		defer cancel()
		if err := ocppServer.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &system{t: t, ctx: ctx, store: st, endpoint: ocppServer, acct: a, token: secret, url: hs.URL}
}

// apiCost is GET /transactions/{transactionId}/cost, with the fields the tests read.
type apiCost struct {
	TransactionID int64
	Status        string
	Reason        *string
	PlanID        *int64
	UserID        *int64
	Cost          *struct {
		TariffID      *int64
		TariffVersion *int
		Currency      string
		TotalNet      int64
		TotalVat      int64
		TotalGross    int64
		Payable       int64
		EnergyWh      int64
		Lines         []struct {
			Type      string
			Element   *int
			Quantity  int64
			UnitPrice float64
			VatRate   *float64
			Net       int64
			Vat       int64
			Gross     int64
		}
	}
}

func (c apiCost) String() string {
	if c.Cost == nil {
		return fmt.Sprintf("transaction %d %s (%v)", c.TransactionID, c.Status, val(c.Reason))
	}
	return fmt.Sprintf("transaction %d %s under plan %v tariff %v version %v: net %d VAT %d gross %d payable %d %s, %d Wh, lines %+v",
		c.TransactionID, c.Status, val(c.PlanID), val(c.Cost.TariffID), val(c.Cost.TariffVersion), c.Cost.TotalNet, c.Cost.TotalVat,
		c.Cost.TotalGross, c.Cost.Payable, c.Cost.Currency, c.Cost.EnergyWh, c.Cost.Lines)
}

func (s *system) cost(transactionID int) apiCost {
	s.t.Helper()
	var c apiCost
	s.get("/api/v1/transactions/"+strconv.Itoa(transactionID)+"/cost", &c)
	return c
}

// wantCost checks a transaction's cost: status, tariff and version, totals in Rappen, and the
// lines' net amounts in order.
func (s *system) wantCost(what string, transactionID int, status string, tariffID int64, version int, net, vat, payable int64, lineNets ...int64) {
	s.t.Helper()
	c := s.cost(transactionID)
	ok := c.Status == status && c.Cost != nil && c.Cost.Currency == "CHF" && val(c.Cost.TariffID) == any(tariffID) &&
		val(c.Cost.TariffVersion) == any(version) && c.Cost.TotalNet == net && c.Cost.TotalVat == vat && c.Cost.Payable == payable &&
		c.Cost.TotalGross == net+vat && len(c.Cost.Lines) == len(lineNets)
	for i := 0; ok && i < len(lineNets); i++ {
		ok = c.Cost.Lines[i].Net == lineNets[i]
	}
	if !ok {
		s.t.Errorf("%s: %s\nwant %s under tariff %d version %d: net %d VAT %d payable %d, line nets %v",
			what, c, status, tariffID, version, net, vat, payable, lineNets)
	}
}

// Simulated stations charge under a public driver and a member of a user group, across a
// tariff change and across 18:00 in Europe/Zurich, with the stations' own timestamps; the
// costs stored at each stop are the figures worked out by hand below.
func TestBilling(t *testing.T) {
	sys := newBillingSystem(t)
	zurich, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Fatal(err)
	}
	// Two days ahead, so that the tariff change below is in the future, as a change must be;
	// the stations' clocks say so.
	d := time.Now().In(zurich).AddDate(0, 0, 2)
	at := func(hhmm string) time.Time {
		h, _ := strconv.Atoi(hhmm[:2])
		m, _ := strconv.Atoi(hhmm[3:])
		return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, zurich)
	}

	// Ann is in the group Staff; her card is registered to her. GUEST is a tag the account
	// never saw: a public driver.
	staff, err := sys.store.CreateAccessGroup(sys.ctx, sys.acct.ID, access.Group{Name: "Staff"}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ann, err := sys.store.CreateAccessUser(sys.ctx, sys.acct.ID, access.User{Name: "Ann", GroupIDs: []int64{staff.ID}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.store.SaveAccessTag(sys.ctx, station.IdTag{AccountID: sys.acct.ID, IdTag: "ANN-CARD", Known: true}, ann.ID); err != nil {
		t.Fatal(err)
	}

	// The public tariff: 0.30 CHF/kWh by day, 0.40 from 18:00 to 06:00; staff pay 0.20. VAT
	// is left to its default, 8.1 %.
	var standard, staffTariff struct{ TariffID int64 }
	sys.call("POST", "/api/v1/tariffs", `{"name":"Standard","rules":{"elements":[
		{"price_components":[{"type":"ENERGY","price":0.40,"step_size":1}],"restrictions":{"start_time":"18:00","end_time":"06:00"}},
		{"price_components":[{"type":"ENERGY","price":0.30,"step_size":1}]}]}}`, http.StatusCreated, &standard)
	sys.call("POST", "/api/v1/tariffs", `{"name":"Staff","rules":{"elements":[
		{"price_components":[{"type":"ENERGY","price":0.20,"step_size":1}]}]}}`, http.StatusCreated, &staffTariff)
	sys.call("POST", "/api/v1/price-plans", fmt.Sprintf(`{"tariffId":%d,"audience":"public"}`, standard.TariffID), http.StatusCreated, nil)
	sys.call("POST", "/api/v1/price-plans", fmt.Sprintf(`{"tariffId":%d,"audience":"group","groupId":%d}`, staffTariff.TariffID, staff.ID), http.StatusCreated, nil)
	r := sys.do("POST", "/api/v1/price-plans", fmt.Sprintf(`{"tariffId":%d,"audience":"group","groupId":%d}`, staffTariff.TariffID, staff.ID+100))
	wantJSON(t, "a plan for an unknown group", r.body, fmt.Sprintf(`{"error":{"code":"invalid_field","field":"groupId","message":"groupId: no group %d in the account"}}`, staff.ID+100))

	cp1, cp2 := sys.connect("CP-1"), sys.connect("CP-2")
	cp1.bootAvailable(2)
	cp2.bootAvailable(2)

	// A: a public driver, 17:00-19:00, 10 kWh evenly, across 18:00.
	a := cp1.charge(1, "GUEST", 100_000, at("17:00"))
	cp1.meter(1, a, at("17:30"), 102_500)
	cp1.meter(1, a, at("18:00"), 105_000)
	// C: Ann, 17:30-18:30, 6 kWh.
	c := cp1.charge(2, "ANN-CARD", 20_000, at("17:30"))

	// The public price changes to 0.50 for sessions from 18:45 on, while A and C charge.
	var changed struct{ Versions []struct{ Version int } }
	sys.call("PUT", fmt.Sprintf("/api/v1/tariffs/%d", standard.TariffID), `{"validFrom":"`+at("18:45").UTC().Format(time.RFC3339)+`",
		"rules":{"elements":[{"price_components":[{"type":"ENERGY","price":0.50,"step_size":1}]}]}}`, http.StatusOK, &changed)
	if len(changed.Versions) != 2 {
		t.Fatalf("versions after the change: %+v", changed.Versions)
	}

	cp1.meter(1, a, at("18:30"), 107_500)
	cp1.stop(a, 110_000, at("19:00"), ocpp.ReasonLocal, "GUEST")
	cp1.stop(c, 26_000, at("18:30"), ocpp.ReasonEVDisconnected, "")
	// B: a public driver after the change, 19:00-20:00, 4 kWh.
	b := cp2.charge(1, "GUEST", 50_000, at("19:00"))
	cp2.meter(1, b, at("19:30"), 52_000)
	cp2.stop(b, 54_000, at("20:00"), ocpp.ReasonLocal, "GUEST")

	// A, started before the change, keeps version 1: 17:00-18:00 5 kWh at 0.30 = 1.50 and
	// 18:00-19:00 5 kWh at 0.40 = 2.00 (the 0.40 element is first in the tariff, so its line
	// is first): 3.50 net; VAT 8.1 % exactly 0.162 + 0.1215 = 0.2835; gross 3.7835, 3.78;
	// VAT 3.78 - 3.50 = 0.28.
	sys.wantCost("A, across 18:00, started before the change", a, "final", standard.TariffID, 1, 350, 28, 378, 200, 150)
	// B, started after the change: 4 kWh at 0.50 = 2.00 net, VAT 0.162, gross 2.162, 2.16.
	sys.wantCost("B, after the change", b, "final", standard.TariffID, 2, 200, 16, 216, 200)
	// C, Ann in Staff: 6 kWh at 0.20 = 1.20 net, VAT 0.0972, gross 1.2972, 1.30; VAT 0.10.
	sys.wantCost("C, a member of Staff", c, "final", staffTariff.TariffID, 1, 120, 10, 130, 120)
	if got := sys.cost(c); val(got.UserID) != any(ann.ID) {
		t.Errorf("C's driver: %s, user %v", got, val(got.UserID))
	}

	// A stop the station sends again changes nothing.
	cp1.stop(a, 110_000, at("19:00"), ocpp.ReasonLocal, "GUEST")
	sys.wantCost("A after a retried stop", a, "final", standard.TariffID, 1, 350, 28, 378, 200, 150)

	// E: charging now, by the real clock. Its estimate is the same computation as the final
	// cost will be, so it equals the preview of the same session: 2 kWh charged at constant
	// power over its first 30 minutes, under version 1 (the change has not come yet).
	start := time.Now().Truncate(time.Minute).Add(-40 * time.Minute)
	e := cp2.charge(2, "GUEST", 0, start)
	cp2.meter(2, e, start.Add(30*time.Minute), 2000)
	live := sys.cost(e)
	var preview struct{ Payable, EnergyWh int64 }
	sys.call("POST", "/api/v1/tariff-preview", fmt.Sprintf(`{"tariffId":%d,"start":%q,"durationMinutes":40,"chargingMinutes":30,"energyWh":2000}`,
		standard.TariffID, start.UTC().Format(time.RFC3339)), http.StatusOK, &preview)
	if live.Status != "estimate" || live.Cost == nil || live.Cost.EnergyWh != 2000 || val(live.Cost.TariffVersion) != any(1) ||
		live.Cost.Payable != preview.Payable || preview.Payable < 65 {
		t.Errorf("E while charging: %s; preview payable %d", live, preview.Payable)
	}
	if rec, err := sys.store.SessionCost(sys.ctx, sys.acct.ID, int64(e)); err != nil || rec.Status != billing.StatusOpen {
		t.Errorf("E's record while charging: %+v, %v", rec, err)
	}
}
