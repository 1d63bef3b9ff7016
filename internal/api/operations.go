package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

// The remote operations of package operation: sending any OCPP request a central system
// sends to a station, with typed shortcuts for the common ones, and reading the records the
// answers keep (operations log, last known configuration, reservations, charging profiles,
// local list, firmware and diagnostics requests).

// Operations is what the API needs of package operation; *operation.Service implements it.
type Operations interface {
	Execute(ctx context.Context, r operation.Request) (operation.Result, error)
	Operation(ctx context.Context, accountID, id int64) (operation.Operation, error)
	Operations(ctx context.Context, accountID int64, f operation.OperationFilter) ([]operation.Operation, error)
	Configuration(ctx context.Context, accountID int64, chargePointID string) ([]operation.ConfigKey, error)
	Reservations(ctx context.Context, accountID int64, f operation.ReservationFilter) ([]operation.Reservation, error)
	ChargingProfiles(ctx context.Context, accountID int64, chargePointID string) ([]operation.ChargingProfile, error)
	LocalList(ctx context.Context, accountID int64, chargePointID string) (operation.LocalList, error)
	FirmwareRequests(ctx context.Context, accountID int64, chargePointID string) ([]operation.FirmwareRequest, error)
	DiagnosticsRequests(ctx context.Context, accountID int64, chargePointID string) ([]operation.DiagnosticsRequest, error)
}

// The error codes of the remote operations.
const (
	CodeStationNotConnected = "station_not_connected" // 409: the station has no connection now
	CodeStationTimeout      = "station_timeout"       // 504: the station did not answer in time
	CodeStationError        = "station_error"         // 502: the station answered with a CALLERROR
	CodeInvalidResponse     = "invalid_response"      // 502: the station's answer does not validate
	CodeUnavailable         = "unavailable"           // 503: this server sends no operations
)

func (a *API) operationRoutes() []Route {
	st := Prefix + "stations/{chargePointId}/"
	return []Route{
		{Method: "POST", Path: st + "operations/{action}", Handle: a.postOperation},
		{Method: "POST", Path: st + "reset", Handle: a.shortcut("Reset")},
		{Method: "POST", Path: st + "remote-start", Handle: a.shortcut("RemoteStartTransaction")},
		{Method: "POST", Path: st + "remote-stop", Handle: a.shortcut("RemoteStopTransaction")},
		{Method: "POST", Path: st + "unlock", Handle: a.shortcut("UnlockConnector")},
		{Method: "POST", Path: st + "trigger", Handle: a.shortcut("TriggerMessage")},
		{Method: "GET", Path: st + "configuration", Handle: a.getConfiguration},
		{Method: "POST", Path: st + "configuration/refresh", Handle: a.refreshConfiguration},
		{Method: "PUT", Path: st + "configuration/keys/{key}", Handle: a.putConfigurationKey},
		{Method: "GET", Path: st + "operations", Query: []string{"action", "limit"}, Handle: a.stationOperations},
		{Method: "GET", Path: Prefix + "operations", Query: []string{"station", "action", "limit"}, Handle: a.listOperations},
		{Method: "GET", Path: Prefix + "operations/{operationId}", Handle: a.getOperation},
		{Method: "GET", Path: Prefix + "reservations", Query: []string{"station", "state", "limit"}, Handle: a.listReservations},
		{Method: "GET", Path: st + "reservations", Query: []string{"state", "limit"}, Handle: a.stationReservations},
		{Method: "GET", Path: st + "charging-profiles", Handle: a.chargingProfiles},
		{Method: "GET", Path: st + "local-list", Handle: a.localList},
		{Method: "GET", Path: st + "firmware-requests", Handle: a.firmwareRequests},
		{Method: "GET", Path: st + "diagnostics-requests", Handle: a.diagnosticsRequests},
	}
}

// ops returns the operation service, or the 503 of a server that has none.
func (a *API) ops() (Operations, error) {
	if a.deps.Operations == nil {
		return nil, Errorf(http.StatusServiceUnavailable, CodeUnavailable, "", "this server sends no remote operations")
	}
	return a.deps.Operations, nil
}

// operationJSON is an operation of the log.
type operationJSON struct {
	ID            int64           `json:"id"`
	ChargePointID string          `json:"chargePointId"`
	Action        string          `json:"action"`
	Actor         string          `json:"actor"`
	Request       json.RawMessage `json:"request"`
	RequestedAt   time.Time       `json:"requestedAt"`
	// Status is Pending, Answered or Failed.
	Status string `json:"status"`
	// Response is the station's response payload; null unless Answered.
	Response json.RawMessage `json:"response"`
	// Failure is why a Failed operation has no response: NotConnected, Timeout, CallError,
	// InvalidResponse or Error; null otherwise.
	Failure          *string    `json:"failure"`
	ErrorCode        *string    `json:"errorCode"` // the station's CALLERROR code
	ErrorDescription *string    `json:"errorDescription"`
	FinishedAt       *time.Time `json:"finishedAt"`
}

func toOperationJSON(op operation.Operation) operationJSON {
	out := operationJSON{
		ID: op.ID, ChargePointID: op.ChargePointID, Action: op.Action, Actor: op.Actor,
		Request: op.Request, RequestedAt: op.RequestedAt.UTC(), Status: string(op.Status),
		Failure: jsonString(string(op.Failure)), ErrorCode: jsonString(op.ErrorCode),
		ErrorDescription: jsonString(op.ErrorDescription), FinishedAt: jsonTime(op.FinishedAt),
	}
	if len(op.Request) == 0 {
		out.Request = json.RawMessage(`{}`)
	}
	if len(op.Response) > 0 {
		out.Response = op.Response
	} else {
		out.Response = json.RawMessage(`null`)
	}
	return out
}

// actor names who asks for an operation in its record: the API token, by its id.
func actor(r *http.Request) string {
	return "token:" + strconv.FormatInt(Token(r).ID, 10)
}

// postOperation sends the body, an OCPP request payload, as the {action} of the path.
func (a *API) postOperation(w http.ResponseWriter, r *http.Request) error {
	return a.execute(w, r, r.PathValue("action"))
}

// shortcut is a route that sends its body as the request of one action.
func (a *API) shortcut(action string) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error { return a.execute(w, r, action) }
}

// execute sends the request body as action to the path's station and writes the station's
// response payload.
func (a *API) execute(w http.ResponseWriter, r *http.Request, action string) error {
	payload, err := readBody(r)
	if err != nil {
		return err
	}
	res, err := a.send(w, r, action, payload)
	if err != nil {
		return answerError(w, err)
	}
	WriteJSON(w, http.StatusOK, res.Operation.Response)
	return nil
}

// send executes an operation and turns its errors into the API's. Once the operation is
// recorded, its record is named by the Location header, whatever the outcome.
func (a *API) send(w http.ResponseWriter, r *http.Request, action string, payload []byte) (operation.Result, error) {
	ops, err := a.ops()
	if err != nil {
		return operation.Result{}, err
	}
	st := Station(r)
	res, err := ops.Execute(r.Context(), operation.Request{
		AccountID: st.AccountID, ChargePointID: st.ChargePointID, Actor: actor(r),
		Action: action, Payload: payload,
	})
	if res.Operation.ID != 0 {
		w.Header().Set("Location", Prefix+"operations/"+strconv.FormatInt(res.Operation.ID, 10))
	}
	if err != nil {
		return res, operationError(st.ChargePointID, action, err)
	}
	return res, nil
}

// readBody reads a request body whole; an empty body is {}.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, Errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "", "the body is larger than %d bytes", tooLarge.Limit)
	}
	if err != nil {
		return nil, Errorf(http.StatusBadRequest, CodeMalformedJSON, "", "reading the body: %v", err)
	}
	return b, nil
}

// StationError is the body of a 502 answer to a CALLERROR: the API's Error with the
// station's error code and description.
type StationError struct {
	Error
	StationErrorCode        string `json:"stationErrorCode"`
	StationErrorDescription string `json:"stationErrorDescription"`
}

// operationError turns an error of Execute into the API's answer.
func operationError(chargePointID, action string, err error) error {
	var (
		oe *ocpp.Error
		se *operation.StationError
	)
	switch {
	case errors.Is(err, operation.ErrUnknownAction):
		return Errorf(http.StatusNotFound, CodeNotFound, "action", "no OCPP 1.6 action %q: names are case-sensitive, such as Reset or GetConfiguration", action)
	case errors.Is(err, operation.ErrNotCentralSystemAction):
		return Errorf(http.StatusBadRequest, CodeInvalidField, "action", "action: %s is sent by a charge point, not by a central system", action)
	case errors.Is(err, operation.ErrInvalidResponse):
		return Errorf(http.StatusBadGateway, CodeInvalidResponse, "", "station %s answered %s with an invalid response: %v", chargePointID, action, err)
	case errors.As(err, &oe):
		return payloadError(oe)
	case errors.Is(err, station.ErrNotFound):
		return Errorf(http.StatusNotFound, CodeNotFound, "chargePointId", "no station %q", chargePointID)
	case errors.Is(err, operation.ErrNotConnected):
		return Errorf(http.StatusConflict, CodeStationNotConnected, "",
			"station %s is not connected, so it cannot be sent %s; try again once it is online (its connection state is in GET %sstations/%s)",
			chargePointID, action, Prefix, chargePointID)
	case errors.Is(err, operation.ErrTimeout):
		return Errorf(http.StatusGatewayTimeout, CodeStationTimeout, "", "station %s did not answer %s in time; it may still act on it", chargePointID, action)
	case errors.As(err, &se):
		return &stationError{chargePointID: chargePointID, action: action, err: se}
	}
	return err
}

// stationError is a CALLERROR on its way to being written as a StationError body.
type stationError struct {
	chargePointID, action string
	err                   *operation.StationError
}

func (e *stationError) Error() string { return e.err.Error() }

// answerError writes the 502 of a CALLERROR, whose body carries the station's code and
// description besides the Error, and returns nil; it returns any other error, for the API
// to write.
func answerError(w http.ResponseWriter, err error) error {
	var se *stationError
	if !errors.As(err, &se) {
		return err
	}
	WriteJSON(w, http.StatusBadGateway, map[string]any{"error": se.body()})
	return nil
}

func (e *stationError) body() StationError {
	msg := "station " + e.chargePointID + " answered " + e.action + " with " + e.err.Code
	if e.err.Description != "" {
		msg += ": " + e.err.Description
	}
	return StationError{
		Error:            Error{Status: http.StatusBadGateway, Code: CodeStationError, Message: msg},
		StationErrorCode: e.err.Code, StationErrorDescription: e.err.Description,
	}
}

// payloadError is the 400 for an OCPP payload that does not validate. Package ocpp starts
// its description with the path of the property at fault (chargingProfile.chargingSchedule.
// chargingSchedulePeriod[0].limit: ...), which becomes the field.
func payloadError(oe *ocpp.Error) *Error {
	desc := oe.Description
	if strings.HasPrefix(desc, "payload is not") {
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "", "%s", strings.Replace(desc, "payload", "the body", 1))
	}
	field, what, ok := strings.Cut(desc, ": ")
	if !ok || field == "payload" {
		return Errorf(http.StatusBadRequest, CodeInvalidField, "", "%s", desc)
	}
	if what == "unknown property" {
		return Errorf(http.StatusBadRequest, CodeUnknownField, field, "unknown property %q", field)
	}
	return Errorf(http.StatusBadRequest, CodeInvalidField, field, "%s", desc)
}

// configKeyJSON is a configuration key as last known.
type configKeyJSON struct {
	Key string `json:"key"`
	// Value is null for a key the station does not know, and for one it will not reveal.
	Value          *string   `json:"value"`
	Readonly       bool      `json:"readonly"`
	Unknown        bool      `json:"unknown"`
	RebootRequired bool      `json:"rebootRequired"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

func (a *API) writeConfiguration(w http.ResponseWriter, r *http.Request) error {
	ops, err := a.ops()
	if err != nil {
		return err
	}
	st := Station(r)
	keys, err := ops.Configuration(r.Context(), st.AccountID, st.ChargePointID)
	if err != nil {
		return err
	}
	out := make([]configKeyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, configKeyJSON{Key: k.Key, Value: jsonString(k.Value), Readonly: k.Readonly,
			Unknown: k.Unknown, RebootRequired: k.RebootRequired, UpdatedAt: k.UpdatedAt.UTC()})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"configuration": out})
	return nil
}

// getConfiguration answers the station's last known configuration, without asking it.
func (a *API) getConfiguration(w http.ResponseWriter, r *http.Request) error {
	return a.writeConfiguration(w, r)
}

// refreshConfiguration asks the station for its configuration (GetConfiguration, with the
// body as its payload: all keys when empty) and answers the configuration as now known.
func (a *API) refreshConfiguration(w http.ResponseWriter, r *http.Request) error {
	payload, err := readBody(r)
	if err != nil {
		return err
	}
	if _, err := a.send(w, r, "GetConfiguration", payload); err != nil {
		return answerError(w, err)
	}
	return a.writeConfiguration(w, r)
}

// putConfigurationKey sets a key (ChangeConfiguration) and answers the station's response.
func (a *API) putConfigurationKey(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Value *string `json:"value"`
	}
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if body.Value == nil {
		return invalidField("value", "required: the key's new value, as a string")
	}
	payload, err := json.Marshal(ocpp.ChangeConfigurationRequest{Key: r.PathValue("key"), Value: *body.Value})
	if err != nil {
		return err
	}
	res, err := a.send(w, r, "ChangeConfiguration", payload)
	if err != nil {
		return answerError(w, err)
	}
	WriteJSON(w, http.StatusOK, res.Operation.Response)
	return nil
}

func (a *API) writeOperations(w http.ResponseWriter, r *http.Request, chargePointID string) error {
	ops, err := a.ops()
	if err != nil {
		return err
	}
	limit, err := QueryInt(r, "limit", defaultLogLimit, 1, maxLogLimit)
	if err != nil {
		return err
	}
	action := r.URL.Query().Get("action")
	if _, ok := ocpp.LookupAction(action); action != "" && !ok {
		return invalidParameter("action", "no OCPP 1.6 action %q", action)
	}
	list, err := ops.Operations(r.Context(), Account(r).ID, operation.OperationFilter{ChargePointID: chargePointID, Action: action, Limit: limit})
	if err != nil {
		return notFoundAs(err, "station", "no station %q", chargePointID)
	}
	out := make([]operationJSON, 0, len(list))
	for _, op := range list {
		out = append(out, toOperationJSON(op))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"operations": out})
	return nil
}

func (a *API) listOperations(w http.ResponseWriter, r *http.Request) error {
	return a.writeOperations(w, r, r.URL.Query().Get("station"))
}

func (a *API) stationOperations(w http.ResponseWriter, r *http.Request) error {
	return a.writeOperations(w, r, Station(r).ChargePointID)
}

func (a *API) getOperation(w http.ResponseWriter, r *http.Request) error {
	ops, err := a.ops()
	if err != nil {
		return err
	}
	s := r.PathValue("operationId")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return invalidField("operationId", "%q is not an operation id", s)
	}
	op, err := ops.Operation(r.Context(), Account(r).ID, id)
	if err != nil {
		return notFoundAs(err, "operationId", "no operation %d", id)
	}
	WriteJSON(w, http.StatusOK, toOperationJSON(op))
	return nil
}

// reservationJSON is a ReserveNow and what became of it.
type reservationJSON struct {
	ID            int64     `json:"id"`
	ChargePointID string    `json:"chargePointId"`
	ReservationID int       `json:"reservationId"`
	ConnectorID   int       `json:"connectorId"`
	IdTag         string    `json:"idTag"`
	ParentIdTag   *string   `json:"parentIdTag"`
	ExpiresAt     time.Time `json:"expiresAt"`
	State         string    `json:"state"`
	TransactionID *int64    `json:"transactionId"`
	OperationID   int64     `json:"operationId"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// reservationStates are the states a reservation can be listed by.
var reservationStates = []operation.ReservationState{
	operation.Reserved, operation.Used, operation.Cancelled, operation.Expired, operation.Replaced,
	operation.Faulted, operation.Occupied, operation.Rejected, operation.Unavailable,
}

func (a *API) writeReservations(w http.ResponseWriter, r *http.Request, chargePointID string) error {
	ops, err := a.ops()
	if err != nil {
		return err
	}
	limit, err := QueryInt(r, "limit", defaultLogLimit, 1, maxLogLimit)
	if err != nil {
		return err
	}
	state := operation.ReservationState(r.URL.Query().Get("state"))
	if state != "" && !slices.Contains(reservationStates, state) {
		return invalidParameter("state", "%q is not a reservation state", state)
	}
	list, err := ops.Reservations(r.Context(), Account(r).ID, operation.ReservationFilter{ChargePointID: chargePointID, State: state, Limit: limit})
	if err != nil {
		return notFoundAs(err, "station", "no station %q", chargePointID)
	}
	out := make([]reservationJSON, 0, len(list))
	for _, rv := range list {
		out = append(out, reservationJSON{
			ID: rv.ID, ChargePointID: rv.ChargePointID, ReservationID: rv.ReservationID, ConnectorID: rv.ConnectorID,
			IdTag: rv.IdTag, ParentIdTag: jsonString(rv.ParentIdTag), ExpiresAt: rv.ExpiresAt.UTC(), State: string(rv.State),
			TransactionID: rv.TransactionID, OperationID: rv.OperationID, CreatedAt: rv.CreatedAt.UTC(), UpdatedAt: rv.UpdatedAt.UTC(),
		})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"reservations": out})
	return nil
}

func (a *API) listReservations(w http.ResponseWriter, r *http.Request) error {
	return a.writeReservations(w, r, r.URL.Query().Get("station"))
}

func (a *API) stationReservations(w http.ResponseWriter, r *http.Request) error {
	return a.writeReservations(w, r, Station(r).ChargePointID)
}

// chargingProfileJSON is a charging profile the station accepted and still has.
type chargingProfileJSON struct {
	ID            int64  `json:"id"`
	ChargePointID string `json:"chargePointId"`
	ConnectorID   int    `json:"connectorId"`
	// ChargingProfile is the profile as sent, in OCPP's form.
	ChargingProfile ocpp.ChargingProfile `json:"chargingProfile"`
	OperationID     int64                `json:"operationId"`
	SetAt           time.Time            `json:"setAt"`
}

func (a *API) chargingProfiles(w http.ResponseWriter, r *http.Request) error {
	ops, err := a.ops()
	if err != nil {
		return err
	}
	st := Station(r)
	list, err := ops.ChargingProfiles(r.Context(), st.AccountID, st.ChargePointID)
	if err != nil {
		return err
	}
	out := make([]chargingProfileJSON, 0, len(list))
	for _, p := range list {
		out = append(out, chargingProfileJSON{ID: p.ID, ChargePointID: p.ChargePointID, ConnectorID: p.ConnectorID,
			ChargingProfile: p.Profile, OperationID: p.OperationID, SetAt: p.SetAt.UTC()})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"chargingProfiles": out})
	return nil
}

type localListJSON struct {
	ChargePointID  string               `json:"chargePointId"`
	Version        *int                 `json:"version"`
	EntriesVersion *int                 `json:"entriesVersion"`
	UpdatedAt      *time.Time           `json:"updatedAt"`
	Entries        []localListEntryJSON `json:"entries"`
}

type localListEntryJSON struct {
	IdTag       string     `json:"idTag"`
	Status      string     `json:"status"`
	ParentIdTag *string    `json:"parentIdTag"`
	ExpiryDate  *time.Time `json:"expiryDate"`
}

func (a *API) localList(w http.ResponseWriter, r *http.Request) error {
	ops, err := a.ops()
	if err != nil {
		return err
	}
	st := Station(r)
	l, err := ops.LocalList(r.Context(), st.AccountID, st.ChargePointID)
	if err != nil {
		return err
	}
	out := localListJSON{ChargePointID: st.ChargePointID, Version: l.Version, EntriesVersion: l.EntriesVersion,
		UpdatedAt: jsonTime(l.UpdatedAt), Entries: make([]localListEntryJSON, 0, len(l.Entries))}
	for _, e := range l.Entries {
		out.Entries = append(out.Entries, localListEntryJSON{IdTag: e.IdTag, Status: e.Status,
			ParentIdTag: jsonString(e.ParentIdTag), ExpiryDate: jsonTime(e.ExpiryDate)})
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

type firmwareRequestJSON struct {
	ID            int64     `json:"id"`
	ChargePointID string    `json:"chargePointId"`
	OperationID   int64     `json:"operationId"`
	Location      string    `json:"location"`
	RetrieveDate  time.Time `json:"retrieveDate"`
	Retries       *int      `json:"retries"`
	RetryInterval *int      `json:"retryInterval"`
	// Status is Requested until the first FirmwareStatusNotification, then its status.
	Status      string    `json:"status"`
	Open        bool      `json:"open"`
	RequestedAt time.Time `json:"requestedAt"`
	StatusAt    time.Time `json:"statusAt"`
}

func (a *API) firmwareRequests(w http.ResponseWriter, r *http.Request) error {
	ops, err := a.ops()
	if err != nil {
		return err
	}
	st := Station(r)
	list, err := ops.FirmwareRequests(r.Context(), st.AccountID, st.ChargePointID)
	if err != nil {
		return err
	}
	out := make([]firmwareRequestJSON, 0, len(list))
	for _, f := range list {
		out = append(out, firmwareRequestJSON{ID: f.ID, ChargePointID: f.ChargePointID, OperationID: f.OperationID,
			Location: f.Location, RetrieveDate: f.RetrieveDate.UTC(), Retries: f.Retries, RetryInterval: f.RetryInterval,
			Status: f.Status, Open: f.Open, RequestedAt: f.RequestedAt.UTC(), StatusAt: f.StatusAt.UTC()})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"firmwareRequests": out})
	return nil
}

type diagnosticsRequestJSON struct {
	ID            int64      `json:"id"`
	ChargePointID string     `json:"chargePointId"`
	OperationID   int64      `json:"operationId"`
	Location      string     `json:"location"`
	StartTime     *time.Time `json:"startTime"`
	StopTime      *time.Time `json:"stopTime"`
	// FileName is the file the station said it will upload; null when it had none.
	FileName    *string   `json:"fileName"`
	Status      string    `json:"status"`
	Open        bool      `json:"open"`
	RequestedAt time.Time `json:"requestedAt"`
	StatusAt    time.Time `json:"statusAt"`
}

func (a *API) diagnosticsRequests(w http.ResponseWriter, r *http.Request) error {
	ops, err := a.ops()
	if err != nil {
		return err
	}
	st := Station(r)
	list, err := ops.DiagnosticsRequests(r.Context(), st.AccountID, st.ChargePointID)
	if err != nil {
		return err
	}
	out := make([]diagnosticsRequestJSON, 0, len(list))
	for _, d := range list {
		out = append(out, diagnosticsRequestJSON{ID: d.ID, ChargePointID: d.ChargePointID, OperationID: d.OperationID,
			Location: d.Location, StartTime: jsonTime(d.StartTime), StopTime: jsonTime(d.StopTime), FileName: jsonString(d.FileName),
			Status: d.Status, Open: d.Open, RequestedAt: d.RequestedAt.UTC(), StatusAt: d.StatusAt.UTC()})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"diagnosticsRequests": out})
	return nil
}
