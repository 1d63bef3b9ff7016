package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/api"
	"github.com/chargebook/chargebook/internal/billing"
)

// newBillingEnv is newEnv with the API served with a billing service over the same store and
// clock.
func newBillingEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	svc := billing.NewService(e.store, e.store, e.store, e.store, e.clock.Now, quiet)
	e.api = api.New(api.Deps{Accounts: e.store, Stations: e.store, Now: e.clock.Now, Logger: quiet, Billing: svc})
	hs := httptest.NewServer(e.api)
	t.Cleanup(hs.Close)
	e.url = hs.URL
	return e
}

const (
	// 0.30 CHF/kWh until 18:00, 0.40 from 18:00 to 06:00; VAT left out, so 8.1 %.
	dayEveningRules = `{"elements":[
		{"price_components":[{"type":"ENERGY","price":0.40,"step_size":1}],"restrictions":{"start_time":"18:00","end_time":"06:00"}},
		{"price_components":[{"type":"ENERGY","price":0.30,"step_size":1}]}]}`
	flatRules = `{"elements":[{"price_components":[{"type":"ENERGY","price":0.30,"vat":8.1,"step_size":1}]}]}`
)

// createTariff posts a tariff and returns its id.
func (e *env) createTariff(name, rules string) string {
	e.t.Helper()
	body := e.call("POST", "/api/v1/tariffs", `{"name":"`+name+`","rules":`+rules+`}`, http.StatusCreated)
	return string(body["tariffId"].(json.Number))
}

func TestTariffs(t *testing.T) {
	e := newBillingEnv(t)
	r := e.do("POST", "/api/v1/tariffs", e.token, `{"name":"Standard","rules":`+dayEveningRules+`}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	created := r.json(t)
	id := string(created["tariffId"].(json.Number))
	if loc := r.header.Get("Location"); loc != "/api/v1/tariffs/"+id {
		t.Errorf("Location %q", loc)
	}
	if created["currency"] != "CHF" || created["currentVersion"] != json.Number("1") || created["retiredAt"] != nil {
		t.Errorf("created %v", created)
	}
	// VAT left out is the default 8.1 %, written back as OCPI writes it.
	if !strings.Contains(string(r.body), `"price":0.4,"vat":8.1,"step_size":1`) {
		t.Errorf("rules as stored: %s", r.body)
	}

	later := e.clock.Now().Add(24 * 60 * 60e9).UTC().Format("2006-01-02T15:04:05Z")
	changed := e.call("PUT", "/api/v1/tariffs/"+id, `{"name":"Standard 2026","validFrom":"`+later+`","rules":`+flatRules+`}`, http.StatusOK)
	versions := changed["versions"].([]any)
	if changed["name"] != "Standard 2026" || len(versions) != 2 || changed["currentVersion"] != json.Number("1") {
		t.Errorf("changed %v", changed)
	}
	if v2 := versions[1].(map[string]any); v2["version"] != json.Number("2") || v2["validFrom"] != later {
		t.Errorf("version 2: %v", v2)
	}
	got := e.call("GET", "/api/v1/tariffs/"+id, "", http.StatusOK)
	if len(got["versions"].([]any)) != 2 {
		t.Errorf("get %v", got)
	}
	list := e.call("GET", "/api/v1/tariffs", "", http.StatusOK)["tariffs"].([]any)
	if len(list) != 1 {
		t.Errorf("list %v", list)
	}

	ocpi := e.call("GET", "/api/v1/tariffs/"+id+"/ocpi", "", http.StatusOK)
	if ocpi["country_code"] != "CH" || ocpi["party_id"] != "CBK" || ocpi["id"] != id || ocpi["currency"] != "CHF" {
		t.Errorf("ocpi %v", ocpi)
	}
	ocpi = e.call("GET", "/api/v1/tariffs/"+id+"/ocpi?version=2&countryCode=DE&partyId=ABC", "", http.StatusOK)
	if ocpi["country_code"] != "DE" || ocpi["start_date_time"] != later {
		t.Errorf("ocpi of version 2: %v", ocpi)
	}
	wantError(t, "ocpi of a party that is not one", e.do("GET", "/api/v1/tariffs/"+id+"/ocpi?partyId=toolong", e.token, ""),
		http.StatusUnprocessableEntity, api.CodeNotExportable, "", "party_id")
	wantError(t, "ocpi of no such version", e.do("GET", "/api/v1/tariffs/"+id+"/ocpi?version=3", e.token, ""),
		http.StatusBadRequest, api.CodeInvalidParameter, "version", "versions 1 to 2")

	retired := e.call("DELETE", "/api/v1/tariffs/"+id, "", http.StatusOK)
	if retired["retiredAt"] == nil || retired["currentVersion"] != nil {
		t.Errorf("retired %v", retired)
	}
	wantError(t, "change of a retired tariff", e.do("PUT", "/api/v1/tariffs/"+id, e.token, `{"rules":`+flatRules+`}`),
		http.StatusConflict, api.CodeTariffRetired, "", "retired")
}

func TestTariffsRefused(t *testing.T) {
	e := newBillingEnv(t)
	id := e.createTariff("T", flatRules)
	past := e.clock.Now().Add(-3600e9).UTC().Format("2006-01-02T15:04:05Z")
	for _, tc := range []struct {
		what, method, path, body string
		code, field, mentions    string
	}{
		{"negative price", "POST", "/api/v1/tariffs", `{"name":"x","rules":{"elements":[{"price_components":[{"type":"ENERGY","price":-0.3,"step_size":1}]}]}}`,
			api.CodeInvalidField, "rules.elements[0].price_components[0].price", "negative"},
		{"two problems, both named", "POST", "/api/v1/tariffs", `{"name":"","rules":{"elements":[{"price_components":[{"type":"KWH","price":1,"step_size":1}]}]}}`,
			api.CodeInvalidField, "name", "rules.elements[0].price_components[0].type"},
		{"no rules", "POST", "/api/v1/tariffs", `{"name":"x"}`, api.CodeInvalidField, "rules", "missing"},
		{"a price with 7 decimals", "POST", "/api/v1/tariffs", `{"name":"x","rules":{"elements":[{"price_components":[{"type":"ENERGY","price":0.1234567}]}]}}`,
			api.CodeInvalidField, "rules.elements[0].price_components[0].price", "at most 6 decimals"},
		{"a VAT rate that is not a number", "PUT", "/api/v1/tariffs/" + id, `{"rules":{"elements":[{"price_components":[{"type":"ENERGY","price":1,"vat":"x"}]}]}}`,
			api.CodeInvalidField, "rules.elements[0].price_components[0].vat", ""},
		{"malformed JSON is still malformed", "POST", "/api/v1/tariffs", `{"name":"x","rules":{`, api.CodeMalformedJSON, "", ""},
		{"no elements", "POST", "/api/v1/tariffs", `{"name":"x","rules":{"elements":[]}}`, api.CodeInvalidField, "rules.elements", "empty"},
		{"a bad time of day", "POST", "/api/v1/tariffs", `{"name":"x","rules":{"elements":[{"price_components":[{"type":"ENERGY","price":0.3,"step_size":1}],"restrictions":{"start_time":"25:00"}}]}}`,
			api.CodeInvalidField, "rules.elements[0].restrictions.start_time", "HH:MM"},
		{"an unknown property", "POST", "/api/v1/tariffs", `{"name":"x","price":1,"rules":` + flatRules + `}`, api.CodeUnknownField, "price", ""},
		{"a change in the past", "PUT", "/api/v1/tariffs/" + id, `{"validFrom":"` + past + `","rules":` + flatRules + `}`,
			api.CodeInvalidField, "validFrom", "past"},
		{"a tariff id that is not one", "GET", "/api/v1/tariffs/x", "", api.CodeInvalidField, "tariffId", ""},
		{"an unknown audience", "POST", "/api/v1/price-plans", `{"tariffId":` + id + `,"audience":"friends"}`, api.CodeInvalidField, "audience", "friends"},
		{"an unknown group", "POST", "/api/v1/price-plans", `{"tariffId":` + id + `,"audience":"group","groupId":42}`, api.CodeInvalidField, "groupId", "no group 42"},
		{"an unknown user", "POST", "/api/v1/price-plans", `{"tariffId":` + id + `,"audience":"user","userId":42}`, api.CodeInvalidField, "userId", "no user 42"},
		{"a group plan without a group", "POST", "/api/v1/price-plans", `{"tariffId":` + id + `,"audience":"group"}`, api.CodeInvalidField, "groupId", ""},
		{"an unknown tariff", "POST", "/api/v1/price-plans", `{"tariffId":999,"audience":"public"}`, api.CodeInvalidField, "tariffId", "no tariff 999"},
		{"an unknown station", "POST", "/api/v1/price-plans", `{"tariffId":` + id + `,"audience":"public","chargePointId":"CP-X"}`, api.CodeInvalidField, "chargePointId", "CP-X"},
		{"validity that ends before it starts", "POST", "/api/v1/price-plans", `{"tariffId":` + id + `,"audience":"public","validFrom":"2026-02-01T00:00:00Z","validTo":"2026-01-01T00:00:00Z"}`,
			api.CodeInvalidField, "validTo", ""},
		{"a preview of nothing", "POST", "/api/v1/tariff-preview", `{"start":"2026-03-07T18:00:00+01:00","durationMinutes":60}`, api.CodeInvalidField, "tariffId", ""},
		{"a preview of both", "POST", "/api/v1/tariff-preview", `{"tariffId":` + id + `,"rules":` + flatRules + `,"start":"2026-03-07T18:00:00+01:00","durationMinutes":60}`,
			api.CodeInvalidField, "rules", ""},
		{"a preview without a duration", "POST", "/api/v1/tariff-preview", `{"tariffId":` + id + `,"start":"2026-03-07T18:00:00+01:00"}`, api.CodeInvalidField, "durationMinutes", ""},
		{"a preview of energy without charging", "POST", "/api/v1/tariff-preview", `{"tariffId":` + id + `,"start":"2026-03-07T18:00:00+01:00","durationMinutes":60,"chargingMinutes":0,"energyWh":5}`,
			api.CodeInvalidField, "chargingMinutes", ""},
		{"a preview of bad rules", "POST", "/api/v1/tariff-preview", `{"rules":{"elements":[{"price_components":[{"type":"ENERGY","price":-1,"step_size":1}]}]},"start":"2026-03-07T18:00:00+01:00","durationMinutes":60}`,
			api.CodeInvalidField, "rules.elements[0].price_components[0].price", ""},
	} {
		wantError(t, tc.what, e.do(tc.method, tc.path, e.token, tc.body), http.StatusBadRequest, tc.code, tc.field, tc.mentions)
	}
}

// Another account's tariffs, plans and transactions are answered 404, or 400 where a body
// names them; nothing of them changes.
func TestTariffsAccountScoping(t *testing.T) {
	e := newBillingEnv(t)
	f := e.seed()
	id := e.createTariff("Mine", flatRules)
	plan := e.call("POST", "/api/v1/price-plans", `{"tariffId":`+id+`,"audience":"public"}`, http.StatusCreated)
	planID := string(plan["planId"].(json.Number))

	other := func(method, path, body string) response { return e.do(method, path, e.otherT, body) }
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/v1/tariffs/" + id, ""},
		{"PUT", "/api/v1/tariffs/" + id, `{"rules":` + flatRules + `}`},
		{"DELETE", "/api/v1/tariffs/" + id, ""},
		{"GET", "/api/v1/tariffs/" + id + "/ocpi", ""},
		{"DELETE", "/api/v1/price-plans/" + planID, ""},
		{"GET", "/api/v1/transactions/" + itoa(f.stopped.ID) + "/cost", ""},
		{"GET", "/api/v1/transactions/99999/cost", ""},
	} {
		wantError(t, "the other account: "+tc.method+" "+tc.path, other(tc.method, tc.path, tc.body), http.StatusNotFound, api.CodeNotFound, "", "")
	}
	wantError(t, "a plan of another account's tariff", other("POST", "/api/v1/price-plans", `{"tariffId":`+id+`,"audience":"public"}`),
		http.StatusBadRequest, api.CodeInvalidField, "tariffId", "")
	wantError(t, "a plan at another account's station", e.do("POST", "/api/v1/price-plans", e.token, `{"tariffId":`+id+`,"audience":"public","chargePointId":"CP-9"}`),
		http.StatusBadRequest, api.CodeInvalidField, "chargePointId", "")
	wantError(t, "a preview of another account's tariff", other("POST", "/api/v1/tariff-preview", `{"tariffId":`+id+`,"start":"2026-03-07T18:00:00+01:00","durationMinutes":60}`),
		http.StatusBadRequest, api.CodeInvalidField, "tariffId", "")
	if list := other("GET", "/api/v1/tariffs", ""); !bytes.Contains(list.body, []byte(`{"tariffs":[]}`)) {
		t.Errorf("the other account's tariffs: %s", list.body)
	}
	if list := other("GET", "/api/v1/price-plans", ""); !bytes.Contains(list.body, []byte(`{"pricePlans":[]}`)) {
		t.Errorf("the other account's plans: %s", list.body)
	}
	got := e.call("GET", "/api/v1/tariffs/"+id, "", http.StatusOK)
	if got["retiredAt"] != nil || len(got["versions"].([]any)) != 1 {
		t.Errorf("changed by the other account: %v", got)
	}
}

func TestPricePlansAndCosts(t *testing.T) {
	e := newBillingEnv(t)
	f := e.seed()

	// Before any plan: the account has none, so the transaction is not priced.
	unpriced := e.call("GET", fmt.Sprintf("/api/v1/transactions/%d/cost", f.stopped.ID), "", http.StatusOK)
	if unpriced["status"] != "unpriced" || unpriced["cost"] != nil || unpriced["reason"] != "the account has no price plans" {
		t.Errorf("unpriced %v", unpriced)
	}

	id := e.createTariff("Flat", flatRules)
	group, err := e.store.CreateAccessGroup(e.ctx, e.acct.ID, access.Group{Name: "Staff"}, nil, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/api/v1/price-plans", e.token, fmt.Sprintf(`{"tariffId":%s,"audience":"group","groupId":%d,"chargePointId":"CP-1","validFrom":"2025-01-01T00:00:00Z"}`, id, group.ID))
	if r.status != http.StatusCreated {
		t.Fatalf("group plan: %d %s", r.status, r.body)
	}
	gp := r.json(t)
	if gp["audience"] != "group" || gp["groupId"] != json.Number(itoa(group.ID)) || gp["chargePointId"] != "CP-1" || gp["userId"] != nil ||
		gp["validFrom"] != "2025-01-01T00:00:00Z" || gp["validTo"] != nil {
		t.Errorf("group plan %v", gp)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/price-plans/"+string(gp["planId"].(json.Number)) {
		t.Errorf("Location %q", loc)
	}
	public := e.call("POST", "/api/v1/price-plans", `{"tariffId":`+id+`,"audience":"PUBLIC"}`, http.StatusCreated)
	plans := e.call("GET", "/api/v1/price-plans", "", http.StatusOK)["pricePlans"].([]any)
	if len(plans) != 2 {
		t.Fatalf("plans %v", plans)
	}
	gpID := string(gp["planId"].(json.Number))
	if r := e.do("DELETE", "/api/v1/price-plans/"+gpID, e.token, ""); r.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	plans = e.call("GET", "/api/v1/price-plans", "", http.StatusOK)["pricePlans"].([]any)
	if len(plans) != 1 || plans[0].(map[string]any)["planId"] != public["planId"] {
		t.Errorf("plans after the delete: %v", plans)
	}

	// The stopped transaction of the seed already has its record (unpriced, from the first
	// read); the active one gets one now, under the public plan: an estimate of nothing yet.
	active := e.call("GET", fmt.Sprintf("/api/v1/transactions/%d/cost", f.active.ID), "", http.StatusOK)
	cost, _ := active["cost"].(map[string]any)
	if active["status"] != "estimate" || active["planId"] != public["planId"] || cost == nil || cost["payable"] != json.Number("0") ||
		cost["tariffId"] != json.Number(id) || cost["tariffVersion"] != json.Number("1") {
		t.Errorf("active %v", active)
	}
	wantError(t, "the cost of a transaction id that is not one", e.do("GET", "/api/v1/transactions/x/cost", e.token, ""),
		http.StatusBadRequest, api.CodeInvalidField, "transactionId", "")
}

// A stopped transaction priced when first asked for: 1000 Wh to 5000 Wh under 0.30 CHF/kWh
// is 4 kWh, 1.20 net, VAT 8.1 % 0.0972, 1.2972 gross: 1.30.
func TestTransactionCost(t *testing.T) {
	e := newBillingEnv(t)
	id := e.createTariff("Flat", flatRules)
	e.call("POST", "/api/v1/price-plans", `{"tariffId":`+id+`,"audience":"public"}`, http.StatusCreated)
	f := e.seed()
	got := e.call("GET", fmt.Sprintf("/api/v1/transactions/%d/cost", f.stopped.ID), "", http.StatusOK)
	cost := got["cost"].(map[string]any)
	if got["status"] != "final" || got["reason"] != nil || cost["payable"] != json.Number("130") || cost["totalNet"] != json.Number("120") ||
		cost["totalVat"] != json.Number("10") || cost["energyWh"] != json.Number("4000") || cost["durationSeconds"] != json.Number("1200") {
		t.Errorf("cost %v", got)
	}
	lines := cost["lines"].([]any)
	want := map[string]any{"type": "ENERGY", "element": json.Number("0"), "quantity": json.Number("4000"), "quantityUnit": "Wh",
		"unitPrice": json.Number("0.3"), "vatRate": json.Number("8.1"), "net": json.Number("120"), "vat": json.Number("10"), "gross": json.Number("130")}
	if len(lines) != 1 || fmt.Sprint(lines[0]) != fmt.Sprint(want) {
		t.Errorf("lines %v", lines)
	}
}

func TestTariffPreview(t *testing.T) {
	e := newBillingEnv(t)
	id := e.createTariff("Standard", dayEveningRules)
	// Saturday 7 March 2026 18:00 in Zurich, 2 h, 20 kWh: all after 18:00 at 0.40 = 8.00 net,
	// VAT 0.648, 8.648 gross: 8.65.
	got := e.call("POST", "/api/v1/tariff-preview", `{"tariffId":`+id+`,"start":"2026-03-07T18:00:00+01:00","durationMinutes":120,"energyWh":20000}`, http.StatusOK)
	if got["payable"] != json.Number("865") || got["tariffId"] != json.Number(id) || got["chargingSeconds"] != json.Number("7200") {
		t.Errorf("preview %v", got)
	}
	// The same at 17:00 UTC+1 with the rules given, charging for 100 minutes: 12 kWh before
	// 18:00 at 0.30 = 3.60, 8 kWh after at 0.40 = 3.20; 6.80 + 0.5508 = 7.3508: 7.35.
	got = e.call("POST", "/api/v1/tariff-preview", `{"rules":`+dayEveningRules+`,"start":"2026-03-07T16:00:00Z","durationMinutes":120,"chargingMinutes":100,"energyWh":20000}`, http.StatusOK)
	if got["payable"] != json.Number("735") || got["tariffId"] != nil || got["parkingSeconds"] != json.Number("1200") {
		t.Errorf("preview of rules %v", got)
	}
}

// The answers of the price routes are what openapi.json says.
func TestOpenAPIDescribesPrices(t *testing.T) {
	e := newBillingEnv(t)
	f := e.seed()
	doc := loadOpenAPI(t, e)
	base := doc.serverBase(t)
	id := e.createTariff("Standard", dayEveningRules)
	e.call("PUT", "/api/v1/tariffs/"+id, `{"rules":{"elements":[{"price_components":[{"type":"FLAT","price":1},{"type":"TIME","price":2,"step_size":60}],
		"restrictions":{"day_of_week":["SATURDAY"],"min_kwh":1.5,"max_power":22}}],"min_price":{"excl_vat":1},"max_price":{"excl_vat":50,"incl_vat":54.05},
		"idle_fee":{"price_per_hour":6,"grace_minutes":60,"basis":"CHARGING_END"},"rounding":{"payable_step":5,"mode":"HALF_UP"}}}`, http.StatusOK)
	free := e.createTariff("Free", `{"elements":[],"free":true}`)
	plan := e.call("POST", "/api/v1/price-plans", `{"tariffId":`+id+`,"audience":"public"}`, http.StatusCreated)

	for _, tc := range []struct {
		method, path, body string
	}{
		{"GET", "/api/v1/tariffs", ""},
		{"POST", "/api/v1/tariffs", `{"name":"Night","validFrom":"2025-01-01T00:00:00Z","rules":` + flatRules + `}`},
		{"GET", "/api/v1/tariffs/" + id, ""},
		{"GET", "/api/v1/tariffs/" + free, ""},
		{"PUT", "/api/v1/tariffs/" + id, `{"name":"Renamed","rules":` + flatRules + `}`},
		{"GET", "/api/v1/tariffs/" + id + "/ocpi", ""},
		{"GET", "/api/v1/tariffs/" + free + "/ocpi", ""},
		{"POST", "/api/v1/tariff-preview", `{"tariffId":` + id + `,"start":"2026-03-07T18:00:00+01:00","durationMinutes":240,"chargingMinutes":60,"energyWh":11000}`},
		{"POST", "/api/v1/tariff-preview", `{"rules":` + dayEveningRules + `,"start":"2026-03-07T18:00:00+01:00","durationMinutes":60,"energyWh":11000}`},
		{"GET", "/api/v1/price-plans", ""},
		{"POST", "/api/v1/price-plans", `{"tariffId":` + id + `,"audience":"public","chargePointId":"CP-1","validTo":"2030-01-01T00:00:00Z"}`},
		{"GET", "/api/v1/transactions/" + itoa(f.stopped.ID) + "/cost", ""},
		{"GET", "/api/v1/transactions/" + itoa(f.active.ID) + "/cost", ""},
		{"DELETE", "/api/v1/tariffs/" + free, ""},
		// Errors.
		{"POST", "/api/v1/tariffs", `{"name":"x","rules":{"elements":[]}}`},
		{"GET", "/api/v1/tariffs/999", ""},
		{"PUT", "/api/v1/tariffs/" + free, `{"rules":` + flatRules + `}`},
		{"GET", "/api/v1/tariffs/" + id + "/ocpi?partyId=x", ""},
		{"POST", "/api/v1/price-plans", `{"tariffId":` + id + `,"audience":"group","groupId":5}`},
		{"DELETE", "/api/v1/price-plans/999", ""},
		{"GET", "/api/v1/transactions/" + itoa(f.otherTx.ID) + "/cost", ""},
		{"POST", "/api/v1/tariff-preview", `{}`},
	} {
		what := tc.method + " " + tc.path
		r := e.do(tc.method, tc.path, e.token, tc.body)
		docPath := matchDocPath(t, doc, strings.TrimPrefix(strings.SplitN(tc.path, "?", 2)[0], base))
		op, _, ok := doc.operation(t, docPath, tc.method)
		if !ok {
			t.Errorf("%s: no operation in the document", what)
			continue
		}
		resp, ok := op["responses"].(map[string]any)[fmt.Sprint(r.status)].(map[string]any)
		if !ok {
			t.Errorf("%s: status %d is not documented: %s", what, r.status, r.body)
			continue
		}
		resp = doc.resolve(t, resp)
		media, _ := resp["content"].(map[string]any)["application/json"].(map[string]any)
		schema, _ := media["schema"].(map[string]any)
		if schema == nil {
			t.Errorf("%s: %d has no application/json schema", what, r.status)
			continue
		}
		var body any
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		for _, problem := range checkSchema(t, doc, schema, body, "body") {
			t.Errorf("%s: %s", what, problem)
		}
	}
	if r := e.do("DELETE", "/api/v1/price-plans/"+string(plan["planId"].(json.Number)), e.token, ""); r.status != http.StatusNoContent {
		t.Errorf("delete plan: %d", r.status)
	}
}

// Without a billing service the price routes answer 503.
func TestPricesUnavailable(t *testing.T) {
	e := newEnv(t)
	wantError(t, "tariffs without billing", e.do("GET", "/api/v1/tariffs", e.token, ""), http.StatusServiceUnavailable, api.CodeUnavailable, "", "")
}
