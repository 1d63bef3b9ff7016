package api_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/api"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/metering/loadprofile"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

// newEnergyEnv is newEnv with the API served with a metering service over the same store
// and clock; its remote operations go through a central system no station is connected to.
func newEnergyEnv(t *testing.T) (*env, *metering.Service) {
	t.Helper()
	e := newEnv(t)
	stations := station.NewService(e.store, station.TagAuthorizer{Store: e.store}, time.Now, quiet)
	idle := csms.New(e.store, stations, csms.Options{Logger: quiet, RPC: rpc.Options{Logger: quiet}})
	ops := operation.NewService(e.store, csms.Sender{Server: idle}, e.clock.Now, quiet)
	svc := metering.NewService(metering.Deps{Store: e.store, Stations: e.store, Operations: ops, Now: e.clock.Now, Logger: quiet})
	e.api = api.New(api.Deps{Accounts: e.store, Stations: e.store, Now: e.clock.Now, Logger: quiet, Energy: svc, Operations: ops})
	hs := httptest.NewServer(e.api)
	t.Cleanup(hs.Close)
	e.url = hs.URL
	return e, svc
}

// energyFixture is seed, plus meter values and a stop for the other account's transaction,
// with every series built.
func (e *env) energyFixture(svc *metering.Service) fixture {
	e.t.Helper()
	f := e.seed()
	if err := e.store.AddMeterValues(e.ctx, []station.MeterValue{{StationID: f.otherCP.ID, ConnectorID: 1, TransactionID: f.otherTx.ID,
		Timestamp: at(55), Measurand: "Energy.Active.Import.Register", Context: "Sample.Periodic", Location: "Outlet", Format: "Raw",
		RawValue: "300", RawUnit: "Wh", Unit: "Wh", Milli: ptr(int64(300_000))}}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.StopTransaction(e.ctx, station.StopTx{AccountID: e.other.ID, StationID: f.otherCP.ID,
		TransactionID: f.otherTx.ID, IdTag: "TAG1", MeterStopWh: 900, StoppedAt: at(70), Reason: "Local",
		Source: src("StopTransaction", 70)}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := svc.RebuildPending(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	return f
}

// documented checks an answer against the schema openapi.json gives it.
func documented(t *testing.T, e *env, method, path string, r response) {
	t.Helper()
	checkDocumented(t, loadOpenAPI(t, e), "/api/v1", method+" "+path, method, path, r)
}

type energyAnswer struct {
	TimeZone string `json:"timeZone"`
	From, To time.Time
	GroupBy  *string `json:"groupBy"`
	Series   []struct {
		Key struct {
			ChargePointID *string `json:"chargePointId"`
			ConnectorID   *int    `json:"connectorId"`
		} `json:"key"`
		TotalWh, HTWh, NTWh int64
		Intervals           []struct {
			Start      time.Time `json:"start"`
			StartLocal string    `json:"startLocal"`
			EnergyWh   int64     `json:"energyWh"`
			AverageW   int64     `json:"averageW"`
			Quality    string    `json:"quality"`
			Tariff     string    `json:"tariff"`
			Sessions   int       `json:"sessions"`
		} `json:"intervals"`
	} `json:"series"`
}

func (e *env) energy(token, query string) energyAnswer {
	e.t.Helper()
	r := e.do("GET", "/api/v1/energy?"+query, token, "")
	if r.status != http.StatusOK {
		e.t.Fatalf("energy?%s: %d %s", query, r.status, r.body)
	}
	var a energyAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// The seeded transaction charged 4000 Wh from 10:10 to 10:30 UTC on Saturday 2025-03-01,
// 11:10 to 11:30 in Zurich: high tariff.
func TestEnergyJSONAndCSVAgree(t *testing.T) {
	e, svc := newEnergyEnv(t)
	e.energyFixture(svc)

	r := e.do("GET", "/api/v1/energy?from=2025-03-01&groupBy=connector", e.token, "")
	documented(t, e, "GET", "/api/v1/energy", r)
	a := e.energy(e.token, "from=2025-03-01&groupBy=connector")
	if a.TimeZone != "Europe/Zurich" || !a.From.Equal(time.Date(2025, 2, 28, 23, 0, 0, 0, time.UTC)) || !a.To.Equal(a.From.Add(24*time.Hour)) {
		t.Fatalf("period %s %s %s", a.TimeZone, a.From, a.To)
	}
	if len(a.Series) != 1 || *a.Series[0].Key.ChargePointID != "CP-1" || *a.Series[0].Key.ConnectorID != 1 {
		t.Fatalf("series %+v", a.Series)
	}
	s := a.Series[0]
	if s.TotalWh != 4000 || s.HTWh != 4000 || s.NTWh != 0 || len(s.Intervals) != 96 {
		t.Fatalf("total %d HT %d NT %d, %d intervals", s.TotalWh, s.HTWh, s.NTWh, len(s.Intervals))
	}
	var sum int64
	for _, iv := range s.Intervals {
		sum += iv.EnergyWh
		if iv.AverageW != 4*iv.EnergyWh {
			t.Errorf("%s: averageW %d for %d Wh", iv.Start, iv.AverageW, iv.EnergyWh)
		}
		charging := !iv.Start.Before(at(0)) && iv.Start.Before(at(30))
		if charging != (iv.Sessions == 1) || (!charging && iv.Quality != "idle") {
			t.Errorf("%s: %d sessions, quality %s", iv.Start, iv.Sessions, iv.Quality)
		}
	}
	if sum != 4000 {
		t.Errorf("intervals sum to %d Wh", sum)
	}
	if iv := s.Intervals[44]; !iv.Start.Equal(at(0)) || iv.StartLocal != "2025-03-01T11:00:00+01:00" || iv.Tariff != "HT" {
		t.Errorf("interval 44: %+v", iv)
	}
	if s.Intervals[0].Tariff != "NT" {
		t.Errorf("midnight is %s", s.Intervals[0].Tariff)
	}

	// The CSV of the same request says the same, row for row.
	for _, excel := range []bool{false, true} {
		r := e.do("GET", fmt.Sprintf("/api/v1/energy.csv?from=2025-03-01&groupBy=connector&excel=%v", excel), e.token, "")
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="energy-2025-03-01.csv"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(r.body), "\uFEFF")))
		if excel {
			cr.Comma = ';'
		}
		rows, err := cr.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 97 || strings.Join(rows[0][:3], ",") != "station,connector,interval_start_utc" {
			t.Fatalf("%d rows, header %v", len(rows), rows[0])
		}
		for i, iv := range s.Intervals {
			row := rows[i+1]
			kwh := fmt.Sprintf("%d.%03d", iv.EnergyWh/1000, iv.EnergyWh%1000)
			if excel {
				kwh = strings.Replace(kwh, ".", ",", 1)
			}
			want := []string{"CP-1", "1", iv.Start.Format(time.RFC3339), iv.StartLocal, "", kwh, "", iv.Quality, iv.Tariff}
			for j, w := range want {
				if w != "" && row[j] != w {
					t.Errorf("csv row %d column %d: %q, JSON says %q", i+1, j+1, row[j], w)
				}
			}
		}
	}

	// SDAT-CH: one station, its id as the metering point unless one is named.
	r = e.do("GET", "/api/v1/energy.xml?from=2025-03-01&station=CP-1&meteringPointId=CH123", e.token, "")
	if r.status != http.StatusOK || r.header.Get("Content-Disposition") != `attachment; filename="energy-CP-1-2025-03-01.xml"` {
		t.Fatalf("xml: %d %v %s", r.status, r.header, r.body)
	}
	doc, err := loadprofile.ReadSDAT(strings.NewReader(string(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	ser := doc.Series[0]
	var xmlSum int64
	for i, v := range ser.VolumesWh {
		xmlSum += v
		if v != s.Intervals[i].EnergyWh {
			t.Errorf("xml position %d: %d Wh, JSON says %d", i+1, v, s.Intervals[i].EnergyWh)
		}
	}
	if ser.MeteringPointID != "CH123" || !ser.Start.Equal(a.From) || len(ser.VolumesWh) != 96 || xmlSum != 4000 {
		t.Errorf("xml series %s from %s, %d volumes, %d Wh", ser.MeteringPointID, ser.Start, len(ser.VolumesWh), xmlSum)
	}
}

func TestEnergyIsPerAccount(t *testing.T) {
	e, svc := newEnergyEnv(t)
	e.energyFixture(svc)

	// The other account's 900 Wh never show in the first account's energy, grouped or not.
	for _, q := range []string{"from=2025-03-01", "from=2025-03-01&groupBy=station", "from=2025-03-01&groupBy=transaction", "from=2025-03-01&idTag=TAG1"} {
		var total int64
		for _, s := range e.energy(e.token, q).Series {
			total += s.TotalWh
			if s.Key.ChargePointID != nil && *s.Key.ChargePointID == "CP-9" {
				t.Errorf("%s: CP-9 listed", q)
			}
		}
		if total != 4000 {
			t.Errorf("%s: %d Wh, want 4000", q, total)
		}
	}
	if got := e.energy(e.otherT, "from=2025-03-01").Series[0].TotalWh; got != 900 {
		t.Errorf("the other account: %d Wh, want 900", got)
	}
	for _, path := range []string{"/api/v1/energy?station=CP-9", "/api/v1/energy.csv?station=CP-9", "/api/v1/energy.xml?station=CP-9"} {
		wantError(t, path, e.do("GET", path, e.token, ""), http.StatusNotFound, api.CodeNotFound, "station", "CP-9")
	}
	for _, path := range []string{"/api/v1/stations/CP-9/power", "/api/v1/stations/CP-9/metering-setup"} {
		method := "GET"
		if strings.HasSuffix(path, "setup") {
			method = "POST"
		}
		wantError(t, path, e.do(method, path, e.token, ""), http.StatusNotFound, api.CodeNotFound, "chargePointId", "CP-9")
	}
}

func TestEnergyBadParameters(t *testing.T) {
	e, _ := newEnergyEnv(t)
	e.seed()
	for _, c := range []struct{ query, field, mentions string }{
		{"from=yesterday", "from", "yesterday"},
		{"from=2025-03-01T10:05:00Z", "from", "quarter hour"},
		{"to=2025-13-01", "to", "2025-13-01"},
		{"from=2025-03-02&to=2025-03-01", "to", "not after"},
		{"from=2024-01-01&to=2025-03-01", "to", "days"},
		{"groupBy=month", "groupBy", "month"},
		{"connector=1", "connector", "station"},
		{"station=CP-1&connector=x", "connector", "x"},
		{"user=-3", "user", "-3"},
		{"limit=3", "limit", "unknown"},
	} {
		for _, path := range []string{"/api/v1/energy", "/api/v1/energy.csv"} {
			r := e.do("GET", path+"?"+c.query, e.token, "")
			wantError(t, path+"?"+c.query, r, http.StatusBadRequest, api.CodeInvalidParameter, c.field, c.mentions)
		}
	}
	// Without a metering service: 503.
	plain := newEnv(t)
	wantError(t, "no service", plain.do("GET", "/api/v1/energy", plain.token, ""), http.StatusServiceUnavailable, api.CodeUnavailable, "", "")
}

func TestEnergyCalendar(t *testing.T) {
	e, svc := newEnergyEnv(t)
	e.energyFixture(svc)
	r := e.do("GET", "/api/v1/energy/calendar", e.token, "")
	documented(t, e, "GET", "/api/v1/energy/calendar", r)
	def := r.json(t)
	if def["timeZone"] != "Europe/Zurich" || len(def["windows"].([]any)) != 6 {
		t.Errorf("default calendar %v", def)
	}
	// Saturday HT only from 12:00: the 11:10-11:30 session becomes NT.
	body := `{"windows":[{"day":"Monday","from":"07:00","to":"20:00"},{"day":"sat","from":"12:00","to":"24:00"}]}`
	put := e.call("PUT", "/api/v1/energy/calendar", body, http.StatusOK)
	got := e.call("GET", "/api/v1/energy/calendar", "", http.StatusOK)
	want := `{"timeZone":"Europe/Zurich","windows":[{"day":"Monday","from":"07:00","to":"20:00"},{"day":"Saturday","from":"12:00","to":"24:00"}]}`
	for what, v := range map[string]map[string]any{"PUT": put, "GET": got} {
		if b, _ := json.Marshal(v); string(b) != want {
			t.Errorf("%s: %s\nwant %s", what, b, want)
		}
	}
	s := e.energy(e.token, "from=2025-03-01").Series[0]
	if s.HTWh != 0 || s.NTWh != 4000 {
		t.Errorf("after the change: HT %d NT %d", s.HTWh, s.NTWh)
	}
	for _, c := range []struct{ body, field string }{
		{`{"windows":[{"day":"Monday","from":"07:00","to":"06:00"}]}`, "windows[0].to"},
		{`{"windows":[{"day":"Monday","from":"07:10","to":"09:00"}]}`, "windows[0].from"},
		{`{"windows":[{"day":"Funday","from":"07:00","to":"09:00"}]}`, "windows[0].day"},
		{`{"windows":[{"day":"Monday","from":"07:00","to":"09:00"},{"day":"Monday","from":"08:00","to":"10:00"}]}`, "windows[1]"},
		{`{}`, "windows"},
	} {
		wantError(t, c.body, e.do("PUT", "/api/v1/energy/calendar", e.token, c.body), http.StatusBadRequest, api.CodeInvalidField, c.field, "")
	}
	wantError(t, "unknown property", e.do("PUT", "/api/v1/energy/calendar", e.token, `{"windows":[],"timeZone":"UTC"}`),
		http.StatusBadRequest, api.CodeUnknownField, "timeZone", "")
	// [] makes everything NT.
	e.call("PUT", "/api/v1/energy/calendar", `{"windows":[]}`, http.StatusOK)
	if got := e.call("GET", "/api/v1/energy/calendar", "", http.StatusOK); len(got["windows"].([]any)) != 0 {
		t.Errorf("emptied calendar %v", got)
	}
}

func TestExternalSeriesImport(t *testing.T) {
	e, _ := newEnergyEnv(t)
	// otark's shape: date;time;unit;value in Zurich wall time, decimal commas.
	in := "date;time;unit;value\n25.10.2026;02:45;kWh;0,25\n25.10.2026;02:00;kWh;0,5\n25.10.2026;02:15;W;1001\n"
	r := e.do("PUT", "/api/v1/external-series/pv-roof", e.token, in)
	if r.status != http.StatusOK {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	documented(t, e, "PUT", "/api/v1/external-series/pv-roof", r)
	imp := r.json(t)
	if imp["intervals"] != json.Number("3") || imp["totalWh"] != json.Number("1000") || imp["from"] != "2026-10-25T00:45:00Z" || imp["to"] != "2026-10-25T01:30:00Z" {
		t.Errorf("import answer %v", imp)
	}
	r = e.do("GET", "/api/v1/external-series/pv-roof?from=2026-10-25", e.token, "")
	documented(t, e, "GET", "/api/v1/external-series/pv-roof", r)
	got := r.json(t)
	var lines []string
	for _, iv := range got["intervals"].([]any) {
		m := iv.(map[string]any)
		lines = append(lines, fmt.Sprintf("%s %s %s %s", m["start"], m["startLocal"], m["energyWh"], m["quality"]))
	}
	want := []string{
		"2026-10-25T00:45:00Z 2026-10-25T02:45:00+02:00 250 measured",
		"2026-10-25T01:00:00Z 2026-10-25T02:00:00+01:00 500 measured", // the repeated hour, in order
		"2026-10-25T01:15:00Z 2026-10-25T02:15:00+01:00 250 measured",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") || got["totalWh"] != json.Number("1000") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	list := e.call("GET", "/api/v1/external-series", "", http.StatusOK)
	if b, _ := json.Marshal(list); string(b) != `{"externalSeries":[{"name":"pv-roof"}]}` {
		t.Errorf("list %s", b)
	}
	// The other account has none.
	if r := e.do("GET", "/api/v1/external-series/pv-roof?from=2026-10-25", e.otherT, ""); r.status != http.StatusOK || len(r.json(t)["intervals"].([]any)) != 0 {
		t.Errorf("the other account: %d %s", r.status, r.body)
	}

	// The CSV the API exports imports as it is.
	csvOut := e.do("GET", "/api/v1/energy.csv?from=2026-10-25", e.token, "")
	if r := e.do("PUT", "/api/v1/external-series/own-export", e.token, string(csvOut.body)); r.status != http.StatusOK || r.json(t)["intervals"] != json.Number("100") {
		t.Errorf("re-import of the export: %d %s", r.status, r.body)
	}

	for _, c := range []struct {
		path, body  string
		status      int
		code, field string
		mentions    string
	}{
		{"/api/v1/external-series/pv-roof?unit=kWh", "t;v\n2026-10-25 10:00;1\n2026-10-25 10:10;1\n", 400, api.CodeInvalidCSV, "body", "line 3, column 1"},
		{"/api/v1/external-series/pv-roof?unit=kWh", "t;v\n2026-10-25 10:00;-1\n", 400, api.CodeInvalidCSV, "body", "negative"},
		{"/api/v1/external-series/pv-roof?unit=kWh", "t;v\n2026-10-25 10:00;1\n2026-10-25T09:00:00Z;1\n", 400, api.CodeInvalidCSV, "body", "twice"},
		{"/api/v1/external-series/pv-roof", "t;v\n2026-10-25 10:00;1\n", 400, api.CodeInvalidCSV, "body", "unit"},
		{"/api/v1/external-series/pv-roof?unit=MWh", "t;v\n", 400, api.CodeInvalidParameter, "unit", "MWh"},
		{"/api/v1/external-series/pv-roof?timeZone=Mars/Olympus", "t;v\n", 400, api.CodeInvalidParameter, "timeZone", "Mars"},
		{"/api/v1/external-series/PV%20Roof?unit=Wh", "t;v\n2026-10-25 10:00;1\n", 400, api.CodeInvalidField, "name", ""},
	} {
		wantError(t, c.path+" "+c.body, e.do("PUT", c.path, e.token, c.body), c.status, c.code, c.field, c.mentions)
	}
}

func TestPowerStream(t *testing.T) {
	e, svc := newEnergyEnv(t)
	f := e.seed()
	e.clock.advance(at(41).Sub(e.clock.Now()))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", e.url+"/api/v1/power/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	// The first comment is written once the stream is subscribed.
	if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, ":") {
		t.Fatalf("first line %q %v", line, err)
	}

	// Meter values as the station service hands them over once stored; the other account's
	// are not in this stream.
	svc.MeterValuesStored(e.ctx, &station.Session{Account: e.other, Station: f.otherCP}, []station.MeterValue{{
		StationID: f.otherCP.ID, ConnectorID: 1, TransactionID: f.otherTx.ID, Timestamp: at(41), Measurand: "Power.Active.Import",
		Context: "Sample.Periodic", Location: "Outlet", Format: "Raw", RawValue: "3", RawUnit: "kW", Unit: "W", Milli: ptr(int64(3_000_000))}})
	values := []station.MeterValue{{StationID: f.cp1.ID, ConnectorID: 2, TransactionID: f.active.ID, Timestamp: at(41),
		Measurand: "Power.Active.Import", Context: "Sample.Periodic", Location: "Outlet", Format: "Raw",
		RawValue: "11", RawUnit: "kW", Unit: "W", Milli: ptr(int64(11_000_000))}}
	if err := e.store.AddMeterValues(e.ctx, values); err != nil {
		t.Fatal(err)
	}
	svc.MeterValuesStored(e.ctx, &station.Session{Account: e.acct, Station: f.cp1}, values)

	got := make(chan string, 1)
	go func() {
		var event string
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				close(got)
				return
			}
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimSpace(strings.TrimPrefix(line, "event: "))
			case strings.HasPrefix(line, "data: ") && event == "power":
				got <- strings.TrimSpace(strings.TrimPrefix(line, "data: "))
				return
			}
		}
	}()
	select {
	case data := <-got:
		want := `{"chargePointId":"CP-1","connectorId":2,"transactionId":` + itoa(f.active.ID) +
			`,"powerW":11000,"source":"measured","sampledAt":"2025-03-01T10:41:00Z","ageSeconds":0,"stale":false}`
		if data != want {
			t.Errorf("event data\n%s\nwant\n%s", data, want)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no power event")
	}

	// The same, asked for.
	r := e.do("GET", "/api/v1/stations/CP-1/power", e.token, "")
	documented(t, e, "GET", "/api/v1/stations/CP-1/power", r)
	e.clock.advance(4 * time.Minute)
	p := e.call("GET", "/api/v1/stations/CP-1/power", "", http.StatusOK)
	conns := p["connectors"].([]any)
	if len(conns) != 1 {
		t.Fatalf("connectors %v", conns)
	}
	c := conns[0].(map[string]any)
	if c["powerW"] != json.Number("11000") || c["ageSeconds"] != json.Number("240") || c["stale"] != true {
		t.Errorf("power %v", c)
	}
}

func TestMeteringSetupNotConnected(t *testing.T) {
	e, _ := newEnergyEnv(t)
	e.seed()
	r := e.do("POST", "/api/v1/stations/CP-1/metering-setup", e.token, "")
	wantError(t, "setup", r, http.StatusConflict, api.CodeStationNotConnected, "", "CP-1")
	r = e.do("POST", "/api/v1/stations/CP-1/metering-setup", e.token, `{"force":true}`)
	wantError(t, "setup with a body", r, http.StatusBadRequest, api.CodeUnknownField, "", "")
}
