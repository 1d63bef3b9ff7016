package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/metering/loadprofile"
	"github.com/chargebook/chargebook/internal/station"
)

// Energy (package metering): the 15-minute energy series of the account's sessions, as JSON,
// CSV and SDAT-CH-style XML (package loadprofile), its HT/NT calendar, the live power of
// connectors (one station, or a server-sent event stream for the account), the setup of a
// station for billing-grade meter values, and imported external series (a building's PV
// production or total consumption).
//
// A period is [from, to): each an RFC 3339 time on a quarter hour, or a date (2026-11-24)
// meaning local midnight in the account's time zone; to defaults to the local midnight after
// from, from to today's local midnight. Times in answers are UTC, each interval also with its
// local start ("startLocal", with its offset, so the repeated hour of an autumn night reads
// unambiguously).

// Energy is what the API needs of package metering; *metering.Service implements it.
type Energy interface {
	Series(ctx context.Context, acct account.Account, f metering.SeriesFilter, by metering.GroupBy) ([]metering.Series, error)
	Calendar(ctx context.Context, acct account.Account) (metering.Calendar, error)
	SetCalendar(ctx context.Context, acct account.Account, windows []metering.Window) (metering.Calendar, error)
	LivePower(ctx context.Context, acct account.Account, stationID int64) ([]metering.Power, error)
	Subscribe(accountID int64) (<-chan metering.Power, func())
	SetupBillingMetering(ctx context.Context, acct account.Account, st station.Station, requestedBy string) (metering.SetupReport, error)
	ImportExternal(ctx context.Context, acct account.Account, name string, intervals []metering.ExternalInterval) error
	ExternalSeries(ctx context.Context, acct account.Account, name string, from, to time.Time) ([]metering.ExternalInterval, error)
	ExternalSeriesNames(ctx context.Context, acct account.Account) ([]string, error)
}

var _ Energy = (*metering.Service)(nil)

// Error codes of the energy routes.
const (
	CodeInvalidCSV = "invalid_csv" // 400: an imported CSV file that does not read; the message names line and column
)

// maxPeriod bounds a series asked for: a year and a day of quarter hours per group.
const maxPeriod = 367 * 24 * time.Hour

// pingInterval is how often the power stream sends a comment, so that proxies and clients
// see a live connection while no station sends.
const pingInterval = 15 * time.Second

var seriesQuery = []string{"from", "to", "station", "connector", "user", "idTag", "groupBy"}

func (a *API) energyRoutes() []Route {
	return []Route{
		{Method: "GET", Path: Prefix + "energy", Query: seriesQuery, Handle: a.getEnergy},
		{Method: "GET", Path: Prefix + "energy.csv", Query: append(seriesQuery[:len(seriesQuery):len(seriesQuery)], "excel"), Handle: a.getEnergyCSV},
		{Method: "GET", Path: Prefix + "energy.xml", Query: []string{"from", "to", "station", "meteringPointId"}, Handle: a.getEnergySDAT},
		{Method: "GET", Path: Prefix + "energy/calendar", Handle: a.getCalendar},
		{Method: "PUT", Path: Prefix + "energy/calendar", Handle: a.putCalendar},
		{Method: "GET", Path: Prefix + "stations/{chargePointId}/power", Handle: a.getPower},
		{Method: "GET", Path: Prefix + "power/stream", Handle: a.powerStream},
		{Method: "POST", Path: Prefix + "stations/{chargePointId}/metering-setup", Handle: a.meteringSetup},
		{Method: "GET", Path: Prefix + "external-series", Handle: a.listExternalSeries},
		{Method: "PUT", Path: Prefix + "external-series/{name}", Query: []string{"separator", "decimal", "timestamps", "timeZone", "unit"}, Handle: a.putExternalSeries},
		{Method: "GET", Path: Prefix + "external-series/{name}", Query: []string{"from", "to"}, Handle: a.getExternalSeries},
	}
}

// energy returns the metering service, or the 503 of a server that has none.
func (a *API) energy() (Energy, error) {
	if a.deps.Energy == nil {
		return nil, Errorf(http.StatusServiceUnavailable, CodeUnavailable, "", "this server keeps no energy series")
	}
	return a.deps.Energy, nil
}

// accountLocation is the account's time zone; Europe/Zurich if its name does not load.
func accountLocation(acct account.Account) *time.Location {
	for _, name := range []string{acct.TimeZone, account.DefaultTimeZone} {
		if loc, err := time.LoadLocation(name); err == nil && name != "" {
			return loc
		}
	}
	return time.UTC
}

// energyError turns a request the metering service refused (metering.Invalid) into a 400
// naming the first field at fault, as the API spells it; other errors pass.
func energyError(err error) error {
	var bad metering.Invalid
	if !errors.As(err, &bad) || len(bad) == 0 {
		return err
	}
	field := bad[0].Field
	switch field {
	case "from", "to", "groupBy":
		return invalidParameter(field, "%s", bad[0].Problem)
	case "connectorId":
		return invalidParameter("connector", "%s", bad[0].Problem)
	case "name":
		return invalidField(field, "%s", bad[0].Problem)
	}
	if strings.HasPrefix(field, "intervals") {
		// An import: the rows were read by the API, so this is the file.
		return Errorf(http.StatusBadRequest, CodeInvalidCSV, "body", "%s", bad.Error())
	}
	return invalidField(field, "%s", bad[0].Problem)
}

// ---- Periods ----

// periodParam reads from or to: an RFC 3339 time on a quarter hour, or a date meaning its
// local midnight in loc. Zero when absent.
func periodParam(r *http.Request, name string, loc *time.Location) (t time.Time, isDate bool, err error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, false, nil
	}
	if d, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return d.UTC(), true, nil
	}
	t, err = time.Parse(time.RFC3339, s)
	if err != nil {
		hint := ""
		if strings.Contains(s, " ") {
			hint = " (a + in a time zone offset must be sent as %2B)"
		}
		return time.Time{}, false, invalidParameter(name, "%q is neither a date such as 2026-11-24 nor an RFC 3339 time such as 2026-11-24T07:00:00Z%s", s, hint)
	}
	if !t.Equal(t.Truncate(metering.Quarter)) {
		return time.Time{}, false, invalidParameter(name, "%s is not on a quarter hour", s)
	}
	return t.UTC(), false, nil
}

// period reads [from, to): from defaults to today's local midnight, to to the local
// midnight after from.
func (a *API) period(r *http.Request, loc *time.Location) (from, to time.Time, err error) {
	from, _, err = periodParam(r, "from", loc)
	if err != nil {
		return
	}
	to, _, err = periodParam(r, "to", loc)
	if err != nil {
		return
	}
	if from.IsZero() {
		y, m, d := a.deps.Now().In(loc).Date()
		from = time.Date(y, m, d, 0, 0, 0, 0, loc).UTC()
	}
	if to.IsZero() {
		y, m, d := from.In(loc).Date()
		to = time.Date(y, m, d+1, 0, 0, 0, 0, loc).UTC()
	}
	if !to.After(from) {
		return from, to, invalidParameter("to", "%s is not after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if to.Sub(from) > maxPeriod {
		return from, to, invalidParameter("to", "the period is longer than %d days; ask for less at a time", int(maxPeriod/(24*time.Hour)))
	}
	return from, to, nil
}

// seriesRequest is what the series routes read from their query.
type seriesRequest struct {
	loc      *time.Location
	from, to time.Time
	filter   metering.SeriesFilter
	by       metering.GroupBy
	station  station.Station // when the station parameter names one
}

func (a *API) readSeriesRequest(r *http.Request) (seriesRequest, error) {
	acct := Account(r)
	q := r.URL.Query()
	sr := seriesRequest{loc: accountLocation(acct)}
	var err error
	if sr.from, sr.to, err = a.period(r, sr.loc); err != nil {
		return sr, err
	}
	sr.filter = metering.SeriesFilter{From: sr.from, To: sr.to, IdTag: q.Get("idTag")}
	if cp := q.Get("station"); cp != "" {
		st, err := a.station(r.Context(), acct.ID, cp)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Field = "station"
			}
			return sr, err
		}
		sr.station = st
		sr.filter.StationID = st.ID
	}
	if q.Has("connector") {
		if sr.station.ID == 0 {
			return sr, invalidParameter("connector", "needs station")
		}
		if sr.filter.ConnectorID, err = QueryInt(r, "connector", 0, 1, 1000); err != nil {
			return sr, err
		}
	}
	if q.Has("user") {
		id, err := strconv.ParseInt(q.Get("user"), 10, 64)
		if err != nil || id <= 0 {
			return sr, invalidParameter("user", "%q is not a user id", q.Get("user"))
		}
		sr.filter.UserID = id
	}
	switch by := metering.GroupBy(q.Get("groupBy")); by {
	case metering.GroupNone, metering.GroupStation, metering.GroupConnector, metering.GroupUser, metering.GroupTransaction:
		sr.by = by
	default:
		return sr, invalidParameter("groupBy", "%q is not one of station, connector, user, transaction", by)
	}
	return sr, nil
}

// ---- Series ----

type seriesKeyJSON struct {
	ChargePointID *string `json:"chargePointId"`
	ConnectorID   *int    `json:"connectorId"`
	UserID        *int64  `json:"userId"`
	UserName      *string `json:"userName"`
	IdTag         *string `json:"idTag"`
	TransactionID *int64  `json:"transactionId"`
}

type intervalJSON struct {
	Start      time.Time `json:"start"`
	StartLocal string    `json:"startLocal"`
	EnergyWh   int64     `json:"energyWh"`
	AverageW   int64     `json:"averageW"`
	Quality    string    `json:"quality"`
	Tariff     string    `json:"tariff"`
	Sessions   int       `json:"sessions"`
}

type seriesJSON struct {
	Key       seriesKeyJSON  `json:"key"`
	TotalWh   int64          `json:"totalWh"`
	HTWh      int64          `json:"htWh"`
	NTWh      int64          `json:"ntWh"`
	Intervals []intervalJSON `json:"intervals"`
}

type energyJSON struct {
	TimeZone string       `json:"timeZone"`
	From     time.Time    `json:"from"`
	To       time.Time    `json:"to"`
	GroupBy  *string      `json:"groupBy"`
	Series   []seriesJSON `json:"series"`
}

// series is one group's series as the encoders take it.
type series struct {
	key           metering.SeriesKey
	total, ht, nt int64
	points        []loadprofile.Point
	sessions      []int
}

// quality names an interval's quality; one without a session is idle, not missing.
func quality(q metering.Quality, sessions int) string {
	if sessions == 0 {
		return loadprofile.Idle
	}
	return q.String()
}

// loadSeries asks the metering service for the series, every quarter hour of the period.
func (a *API) loadSeries(ctx context.Context, en Energy, acct account.Account, sr seriesRequest) ([]series, error) {
	got, err := en.Series(ctx, acct, sr.filter, sr.by)
	if err != nil {
		return nil, energyError(err)
	}
	out := make([]series, len(got))
	for g, gs := range got {
		s := series{key: gs.Key, total: gs.TotalWh, ht: gs.HTWh, nt: gs.NTWh,
			points: make([]loadprofile.Point, len(gs.Intervals)), sessions: make([]int, len(gs.Intervals))}
		for i, iv := range gs.Intervals {
			s.points[i] = loadprofile.Point{Start: iv.Start.UTC(), EnergyWh: iv.EnergyWh, Quality: quality(iv.Quality, iv.Sessions), HT: iv.HT}
			s.sessions[i] = iv.Sessions
		}
		out[g] = s
	}
	return out, nil
}

func toKeyJSON(k metering.SeriesKey) seriesKeyJSON {
	var out seriesKeyJSON
	if k.ChargePointID != "" {
		out.ChargePointID = &k.ChargePointID
	}
	if k.ConnectorID != 0 {
		out.ConnectorID = &k.ConnectorID
	}
	out.UserID = jsonID(k.UserID)
	out.UserName = jsonString(k.UserName)
	out.IdTag = jsonString(k.IdTag)
	out.TransactionID = jsonID(k.TransactionID)
	return out
}

func tariffName(ht bool) string {
	if ht {
		return "HT"
	}
	return "NT"
}

func (a *API) getEnergy(w http.ResponseWriter, r *http.Request) error {
	en, err := a.energy()
	if err != nil {
		return err
	}
	sr, err := a.readSeriesRequest(r)
	if err != nil {
		return err
	}
	ss, err := a.loadSeries(r.Context(), en, Account(r), sr)
	if err != nil {
		return err
	}
	out := energyJSON{TimeZone: sr.loc.String(), From: sr.from, To: sr.to, GroupBy: jsonString(string(sr.by)), Series: make([]seriesJSON, 0, len(ss))}
	for _, s := range ss {
		sj := seriesJSON{Key: toKeyJSON(s.key), TotalWh: s.total, HTWh: s.ht, NTWh: s.nt, Intervals: make([]intervalJSON, len(s.points))}
		for i, p := range s.points {
			sj.Intervals[i] = intervalJSON{Start: p.Start, StartLocal: p.Start.In(sr.loc).Format(time.RFC3339),
				EnergyWh: p.EnergyWh, AverageW: p.EnergyWh * 4, Quality: p.Quality, Tariff: tariffName(p.HT), Sessions: s.sessions[i]}
		}
		out.Series = append(out.Series, sj)
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// fileNamePart keeps what is safe in a file name of a Content-Disposition header.
var unsafeFileName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// attachmentName is "energy[-station]-<first local day>[_<last local day>].ext".
func attachmentName(sr seriesRequest, ext string) string {
	name := "energy"
	if sr.station.ID != 0 {
		name += "-" + strings.Trim(unsafeFileName.ReplaceAllString(sr.station.ChargePointID, "_"), "._")
	}
	first := sr.from.In(sr.loc)
	last := sr.to.Add(-time.Nanosecond).In(sr.loc)
	name += "-" + first.Format("2006-01-02")
	if last.Format("2006-01-02") != first.Format("2006-01-02") {
		name += "_" + last.Format("2006-01-02")
	}
	return name + "." + ext
}

func (a *API) getEnergyCSV(w http.ResponseWriter, r *http.Request) error {
	en, err := a.energy()
	if err != nil {
		return err
	}
	excel, err := QueryBool(r, "excel")
	if err != nil {
		return err
	}
	sr, err := a.readSeriesRequest(r)
	if err != nil {
		return err
	}
	ss, err := a.loadSeries(r.Context(), en, Account(r), sr)
	if err != nil {
		return err
	}
	opts := loadprofile.CSVOptions{Location: sr.loc}
	switch sr.by {
	case metering.GroupStation:
		opts.Station = true
	case metering.GroupConnector:
		opts.Station, opts.Connector = true, true
	case metering.GroupUser:
		opts.User = true
	case metering.GroupTransaction:
		opts.Station, opts.Connector, opts.User = true, true, true
	}
	if excel != nil && *excel {
		opts.Separator, opts.DecimalComma, opts.BOM = ';', true, true
	}
	profiles := make([]loadprofile.Profile, len(ss))
	for i, s := range ss {
		user := s.key.UserName
		if user == "" {
			user = s.key.IdTag
		}
		profiles[i] = loadprofile.Profile{Station: s.key.ChargePointID, Connector: s.key.ConnectorID, User: user, Points: s.points}
	}
	var b bytes.Buffer
	if err := loadprofile.WriteCSV(&b, profiles, opts); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
	w.Header().Set("Content-Disposition", `attachment; filename="`+attachmentName(sr, "csv")+`"`)
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
	return nil
}

func (a *API) getEnergySDAT(w http.ResponseWriter, r *http.Request) error {
	en, err := a.energy()
	if err != nil {
		return err
	}
	sr, err := a.readSeriesRequest(r)
	if err != nil {
		return err
	}
	acct := Account(r)
	ss, err := a.loadSeries(r.Context(), en, acct, sr)
	if err != nil {
		return err
	}
	point := r.URL.Query().Get("meteringPointId")
	if point == "" {
		point = sr.station.ChargePointID
	}
	if point == "" {
		point = fmt.Sprintf("chargebook-account-%d", acct.ID)
	}
	vols := make([]int64, len(ss[0].points))
	for i, p := range ss[0].points {
		vols[i] = p.EnergyWh
	}
	now := a.deps.Now().UTC()
	doc := loadprofile.SDATDocument{
		DocumentID: fmt.Sprintf("chargebook-%d-%s-%s", acct.ID, sr.from.Format("20060102T1504Z"), now.Format("20060102T150405Z")),
		Created:    now,
		Series:     []loadprofile.SDATSeries{{MeteringPointID: point, Start: sr.from, VolumesWh: vols}},
	}
	var b bytes.Buffer
	if err := loadprofile.WriteSDAT(&b, doc); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+attachmentName(sr, "xml")+`"`)
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
	return nil
}

// ---- Calendar ----

type calendarWindowJSON struct {
	Day  string `json:"day"`  // Monday ... Sunday
	From string `json:"from"` // "07:00"
	To   string `json:"to"`   // "20:00"; "24:00" is the end of the day
}

type calendarJSON struct {
	TimeZone string               `json:"timeZone"`
	Windows  []calendarWindowJSON `json:"windows"`
}

type calendarBody struct {
	Windows []calendarWindowJSON `json:"windows"`
}

// maxCalendarWindows bounds a calendar: a few windows a day are all tariffs have.
const maxCalendarWindows = 7 * 8

func clockText(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// parseWallClock reads "07:00" (or "24:00") on a quarter hour.
func parseWallClock(s string) (time.Duration, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || m%15 != 0 || (h == 24 && m != 0) {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
}

func parseWeekday(s string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, d.String()) || strings.EqualFold(s, d.String()[:3]) {
			return d, true
		}
	}
	return 0, false
}

func toCalendarJSON(c metering.Calendar) calendarJSON {
	loc := c.Loc
	if loc == nil {
		loc = time.UTC
	}
	out := calendarJSON{TimeZone: loc.String(), Windows: make([]calendarWindowJSON, len(c.HT))}
	for i, w := range c.HT {
		out.Windows[i] = calendarWindowJSON{Day: w.Day.String(), From: clockText(w.From), To: clockText(w.To)}
	}
	return out
}

func (a *API) getCalendar(w http.ResponseWriter, r *http.Request) error {
	en, err := a.energy()
	if err != nil {
		return err
	}
	c, err := en.Calendar(r.Context(), Account(r))
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, toCalendarJSON(c))
	return nil
}

func (a *API) putCalendar(w http.ResponseWriter, r *http.Request) error {
	en, err := a.energy()
	if err != nil {
		return err
	}
	var body calendarBody
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if body.Windows == nil {
		return invalidField("windows", "required: a list of high-tariff windows such as {\"day\":\"Monday\",\"from\":\"07:00\",\"to\":\"20:00\"}; [] makes every quarter hour NT")
	}
	if len(body.Windows) > maxCalendarWindows {
		return invalidField("windows", "%d windows; at most %d", len(body.Windows), maxCalendarWindows)
	}
	windows := make([]metering.Window, len(body.Windows))
	for i, wj := range body.Windows {
		field := fmt.Sprintf("windows[%d]", i)
		day, ok := parseWeekday(wj.Day)
		if !ok {
			return invalidField(field+".day", "%q is not a day such as Monday", wj.Day)
		}
		from, ok := parseWallClock(wj.From)
		if !ok || from == 24*time.Hour {
			return invalidField(field+".from", "%q is not a time of day on a quarter hour such as 07:00", wj.From)
		}
		to, ok := parseWallClock(wj.To)
		if !ok {
			return invalidField(field+".to", "%q is not a time of day on a quarter hour such as 20:00 (24:00 is the end of the day)", wj.To)
		}
		if to <= from {
			return invalidField(field+".to", "%s is not after from (%s)", wj.To, wj.From)
		}
		windows[i] = metering.Window{Day: day, From: from, To: to}
		for j := range i {
			if o := windows[j]; o.Day == day && o.From < to && from < o.To {
				return invalidField(field, "overlaps windows[%d]", j)
			}
		}
	}
	c, err := en.SetCalendar(r.Context(), Account(r), windows)
	if err != nil {
		return energyError(err)
	}
	WriteJSON(w, http.StatusOK, toCalendarJSON(c))
	return nil
}

// ---- Live power ----

type powerJSON struct {
	ChargePointID string    `json:"chargePointId"`
	ConnectorID   int       `json:"connectorId"`
	TransactionID *int64    `json:"transactionId"`
	PowerW        int64     `json:"powerW"`
	Source        string    `json:"source"`
	SampledAt     time.Time `json:"sampledAt"`
	AgeSeconds    int64     `json:"ageSeconds"`
	Stale         bool      `json:"stale"`
}

func (a *API) toPowerJSON(p metering.Power) powerJSON {
	age := a.deps.Now().Sub(p.SampledAt)
	if age < 0 {
		age = 0
	}
	return powerJSON{ChargePointID: p.ChargePointID, ConnectorID: p.ConnectorID, TransactionID: jsonID(p.TransactionID),
		PowerW: p.PowerW, Source: p.Source, SampledAt: p.SampledAt.UTC(), AgeSeconds: int64(age / time.Second),
		Stale: p.Stale}
}

func (a *API) getPower(w http.ResponseWriter, r *http.Request) error {
	en, err := a.energy()
	if err != nil {
		return err
	}
	st := Station(r)
	ps, err := en.LivePower(r.Context(), Account(r), st.ID)
	if err != nil {
		return err
	}
	out := struct {
		ChargePointID string      `json:"chargePointId"`
		Connectors    []powerJSON `json:"connectors"`
	}{st.ChargePointID, make([]powerJSON, len(ps))}
	for i, p := range ps {
		out.Connectors[i] = a.toPowerJSON(p)
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// powerStream serves the account's live power as server-sent events: "event: power" with
// a powerJSON as data for every change the metering service publishes, and a comment every
// pingInterval. It ends when the client goes (or the server shuts down).
func (a *API) powerStream(w http.ResponseWriter, r *http.Request) error {
	en, err := a.energy()
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	// A stream outlives any write timeout of the server; clearing it may not be supported
	// (a test recorder), which is fine.
	_ = rc.SetWriteDeadline(time.Time{})
	ch, cancel := en.Subscribe(Account(r).ID)
	defer cancel()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, ": power of "+Account(r).Name+"\n\n"); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		var msg []byte
		select {
		case <-r.Context().Done():
			return nil
		case p, ok := <-ch:
			if !ok {
				return nil
			}
			data, err := json.Marshal(a.toPowerJSON(p))
			if err != nil {
				return nil
			}
			msg = append(append([]byte("event: power\ndata: "), data...), "\n\n"...)
		case <-ping.C:
			msg = []byte(": ping\n\n")
		}
		if _, err := w.Write(msg); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// ---- Billing metering setup ----

func (a *API) meteringSetup(w http.ResponseWriter, r *http.Request) error {
	en, err := a.energy()
	if err != nil {
		return err
	}
	// The body is optional: nothing or {}.
	if b, err := io.ReadAll(r.Body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return Errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "", "the body is larger than %d bytes", tooLarge.Limit)
		}
		return err
	} else if t := bytes.TrimSpace(b); len(t) > 0 && string(t) != "{}" {
		return Errorf(http.StatusBadRequest, CodeUnknownField, "", "this operation takes no properties: send {} or nothing")
	}
	st := Station(r)
	rep, err := en.SetupBillingMetering(r.Context(), Account(r), st, actor(r))
	if err != nil {
		return operationError(st.ChargePointID, "GetConfiguration/ChangeConfiguration", err)
	}
	WriteJSON(w, http.StatusOK, toSetupJSON(rep))
	return nil
}

type setupKeyJSON struct {
	Key      string  `json:"key"`
	Known    bool    `json:"known"`
	Before   *string `json:"before"`
	Wanted   string  `json:"wanted"`
	Outcome  string  `json:"outcome"`
	Rejected *string `json:"rejected"`
	Error    *string `json:"error"`
}

type setupJSON struct {
	ChargePointID  string         `json:"chargePointId"`
	RebootRequired bool           `json:"rebootRequired"`
	Keys           []setupKeyJSON `json:"keys"`
}

func toSetupJSON(rep metering.SetupReport) setupJSON {
	out := setupJSON{ChargePointID: rep.ChargePointID, RebootRequired: rep.RebootRequired, Keys: make([]setupKeyJSON, len(rep.Keys))}
	for i, k := range rep.Keys {
		out.Keys[i] = setupKeyJSON{Key: k.Key, Known: k.Known, Wanted: k.Wanted, Outcome: k.Outcome,
			Rejected: jsonString(k.Rejected), Error: jsonString(k.Error)}
		if k.Known {
			out.Keys[i].Before = &k.Before
		}
	}
	return out
}

// ---- External series ----

func (a *API) listExternalSeries(w http.ResponseWriter, r *http.Request) error {
	en, err := a.energy()
	if err != nil {
		return err
	}
	names, err := en.ExternalSeriesNames(r.Context(), Account(r))
	if err != nil {
		return err
	}
	type item struct {
		Name string `json:"name"`
	}
	out := struct {
		ExternalSeries []item `json:"externalSeries"`
	}{make([]item, len(names))}
	for i, n := range names {
		out.ExternalSeries[i] = item{n}
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// importOptions reads the query of PUT /external-series/{name}.
func importOptions(r *http.Request, acct account.Account) (loadprofile.ImportOptions, error) {
	q := r.URL.Query()
	var opts loadprofile.ImportOptions
	switch s := q.Get("separator"); s {
	case "":
	case "comma", ",":
		opts.Separator = ','
	case "semicolon", ";":
		opts.Separator = ';'
	case "tab":
		opts.Separator = '\t'
	default:
		return opts, invalidParameter("separator", "%q is not one of comma, semicolon, tab", s)
	}
	switch s := q.Get("decimal"); s {
	case "":
	case "point", ".":
		opts.Decimal = '.'
	case "comma", ",":
		opts.Decimal = ','
	default:
		return opts, invalidParameter("decimal", "%q is neither point nor comma", s)
	}
	switch s := q.Get("timestamps"); s {
	case "", "start":
	case "end":
		opts.End = true
	default:
		return opts, invalidParameter("timestamps", "%q is neither start nor end (of the interval)", s)
	}
	opts.Location = accountLocation(acct)
	if s := q.Get("timeZone"); s != "" {
		loc, err := time.LoadLocation(s)
		if err != nil || s == "Local" {
			return opts, invalidParameter("timeZone", "%q is not an IANA time zone such as Europe/Zurich", s)
		}
		opts.Location = loc
	}
	if s := q.Get("unit"); s != "" {
		u, ok := loadprofile.ParseUnit(s)
		if !ok {
			return opts, invalidParameter("unit", "%q is not one of Wh, kWh, W, kW", s)
		}
		opts.Unit = u
	}
	return opts, nil
}

func (a *API) putExternalSeries(w http.ResponseWriter, r *http.Request) error {
	en, err := a.energy()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	acct := Account(r)
	opts, err := importOptions(r, acct)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return Errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "", "the body is larger than %d bytes; import a month or two at a time", tooLarge.Limit)
		}
		return err
	}
	ivs, err := loadprofile.ReadCSV(bytes.NewReader(body), opts)
	var ie *loadprofile.ImportError
	if errors.As(err, &ie) {
		return Errorf(http.StatusBadRequest, CodeInvalidCSV, "body", "%s", strings.TrimPrefix(ie.Error(), "loadprofile: read csv: "))
	}
	if err != nil {
		return err
	}
	in := make([]metering.ExternalInterval, len(ivs))
	var total int64
	for i, iv := range ivs {
		in[i] = metering.ExternalInterval{Start: iv.Start, EnergyWh: iv.EnergyWh, Quality: metering.Measured}
		total += iv.EnergyWh
	}
	if err := en.ImportExternal(r.Context(), acct, name, in); err != nil {
		return energyError(err)
	}
	WriteJSON(w, http.StatusOK, struct {
		Name      string    `json:"name"`
		Intervals int       `json:"intervals"`
		From      time.Time `json:"from"`
		To        time.Time `json:"to"`
		TotalWh   int64     `json:"totalWh"`
	}{name, len(ivs), ivs[0].Start, ivs[len(ivs)-1].Start.Add(metering.Quarter), total})
	return nil
}

type externalIntervalJSON struct {
	Start      time.Time `json:"start"`
	StartLocal string    `json:"startLocal"`
	EnergyWh   int64     `json:"energyWh"`
	AverageW   int64     `json:"averageW"`
	Quality    string    `json:"quality"`
}

func (a *API) getExternalSeries(w http.ResponseWriter, r *http.Request) error {
	en, err := a.energy()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	acct := Account(r)
	loc := accountLocation(acct)
	from, to, err := a.period(r, loc)
	if err != nil {
		return err
	}
	ivs, err := en.ExternalSeries(r.Context(), acct, name, from, to)
	if err != nil {
		return energyError(err)
	}
	out := struct {
		Name      string                 `json:"name"`
		TimeZone  string                 `json:"timeZone"`
		From      time.Time              `json:"from"`
		To        time.Time              `json:"to"`
		TotalWh   int64                  `json:"totalWh"`
		Intervals []externalIntervalJSON `json:"intervals"`
	}{Name: name, TimeZone: loc.String(), From: from, To: to, Intervals: make([]externalIntervalJSON, len(ivs))}
	for i, iv := range ivs {
		out.TotalWh += iv.EnergyWh
		out.Intervals[i] = externalIntervalJSON{Start: iv.Start.UTC(), StartLocal: iv.Start.In(loc).Format(time.RFC3339),
			EnergyWh: iv.EnergyWh, AverageW: iv.EnergyWh * 4, Quality: iv.Quality.String()}
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}
