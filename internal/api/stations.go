package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/station"
)

func (a *API) stationRoutes() []Route {
	return []Route{
		{Method: "GET", Path: Prefix + "stations", Handle: a.listStations},
		{Method: "GET", Path: Prefix + "stations/{chargePointId}", Handle: a.getStation},
		{Method: "PATCH", Path: Prefix + "stations/{chargePointId}", Handle: a.patchStation},
		{Method: "GET", Path: Prefix + "stations/{chargePointId}/events", Query: []string{"limit"}, Handle: a.stationEvents},
		{Method: "GET", Path: Prefix + "stations/{chargePointId}/status-history", Query: []string{"limit"}, Handle: a.statusHistory},
	}
}

// The bounds of the limit parameter of the station logs.
const (
	defaultLogLimit = 100
	maxLogLimit     = 1000
)

type stationJSON struct {
	ChargePointID string `json:"chargePointId"`
	// Registration is the BootNotification status the station gets: Accepted, Pending or
	// Rejected.
	Registration string `json:"registration"`
	Validation   string `json:"validation"`
	Connected    bool   `json:"connected"`
	// ConnectionChangedAt is when the recorded connection state last changed.
	ConnectionChangedAt *time.Time `json:"connectionChangedAt"`
	LastSeenAt          *time.Time `json:"lastSeenAt"`
	LastBootAt          *time.Time `json:"lastBootAt"`
	CreatedAt           time.Time  `json:"createdAt"`
	Boot                bootJSON   `json:"boot"`
}

// bootJSON is what the station said of itself in its last BootNotification, with its names.
type bootJSON struct {
	ChargePointVendor       string `json:"chargePointVendor"`
	ChargePointModel        string `json:"chargePointModel"`
	ChargePointSerialNumber string `json:"chargePointSerialNumber"`
	ChargeBoxSerialNumber   string `json:"chargeBoxSerialNumber"`
	FirmwareVersion         string `json:"firmwareVersion"`
	ICCID                   string `json:"iccid"`
	IMSI                    string `json:"imsi"`
	MeterType               string `json:"meterType"`
	MeterSerialNumber       string `json:"meterSerialNumber"`
}

type stationDetailJSON struct {
	stationJSON
	Connectors []connectorJSON `json:"connectors"`
}

// connectorJSON is a StatusNotification: a connector's current status or one of its history.
type connectorJSON struct {
	ConnectorID     int    `json:"connectorId"`
	Status          string `json:"status"`
	ErrorCode       string `json:"errorCode"`
	Info            string `json:"info"`
	VendorID        string `json:"vendorId"`
	VendorErrorCode string `json:"vendorErrorCode"`
	// Timestamp is the station's time of the status, null when it sent none.
	Timestamp  *time.Time `json:"timestamp"`
	ReceivedAt time.Time  `json:"receivedAt"`
}

// eventJSON is an entry of a station's or a transaction's log, with the message it came from.
type eventJSON struct {
	ID        int64  `json:"id"`
	Kind      string `json:"kind"`
	Note      string `json:"note"`
	Action    string `json:"action"`    // the OCPP action of the message; empty for none
	MessageID string `json:"messageId"` // the message's OCPP id
	// Payload is the message's payload as JSON, or as a string when it was not JSON (a
	// message refused as malformed); null for none.
	Payload    any       `json:"payload"`
	ReceivedAt time.Time `json:"receivedAt"`
}

func (a *API) toStationJSON(st station.Station) stationJSON {
	b := st.Boot
	return stationJSON{
		ChargePointID: st.ChargePointID, Registration: string(st.Registration), Validation: string(st.Validation),
		Connected: a.connected(st), ConnectionChangedAt: jsonTime(st.ConnectionChangedAt),
		LastSeenAt: jsonTime(st.LastSeenAt), LastBootAt: jsonTime(st.LastBootAt), CreatedAt: st.CreatedAt.UTC(),
		Boot: bootJSON{
			ChargePointVendor: b.Vendor, ChargePointModel: b.Model, ChargePointSerialNumber: b.ChargePointSerial,
			ChargeBoxSerialNumber: b.ChargeBoxSerial, FirmwareVersion: b.FirmwareVersion, ICCID: b.ICCID,
			IMSI: b.IMSI, MeterType: b.MeterType, MeterSerialNumber: b.MeterSerial,
		},
	}
}

func toConnectorJSON(cs station.ConnectorStatus) connectorJSON {
	return connectorJSON{
		ConnectorID: cs.ConnectorID, Status: cs.Status, ErrorCode: cs.ErrorCode, Info: cs.Info,
		VendorID: cs.VendorID, VendorErrorCode: cs.VendorErrorCode,
		Timestamp: jsonTime(cs.Timestamp), ReceivedAt: cs.ReceivedAt.UTC(),
	}
}

func toEventJSON(id int64, kind, note string, src station.Source) eventJSON {
	return eventJSON{
		ID: id, Kind: kind, Note: note, Action: src.Action, MessageID: src.MessageID,
		Payload: payloadJSON(src.Payload), ReceivedAt: src.ReceivedAt.UTC(),
	}
}

func payloadJSON(p []byte) any {
	switch {
	case len(p) == 0:
		return nil
	case json.Valid(p):
		return json.RawMessage(p)
	default:
		return string(p)
	}
}

func (a *API) listStations(w http.ResponseWriter, r *http.Request) error {
	sts, err := a.deps.Stations.Stations(r.Context(), Account(r).ID)
	if err != nil {
		return err
	}
	out := make([]stationJSON, 0, len(sts))
	for _, st := range sts {
		out = append(out, a.toStationJSON(st))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"stations": out})
	return nil
}

func (a *API) getStation(w http.ResponseWriter, r *http.Request) error {
	return a.writeStation(w, r, Station(r))
}

func (a *API) writeStation(w http.ResponseWriter, r *http.Request, st station.Station) error {
	conns, err := a.deps.Stations.Connectors(r.Context(), st.ID)
	if err != nil {
		return err
	}
	out := stationDetailJSON{stationJSON: a.toStationJSON(st), Connectors: make([]connectorJSON, 0, len(conns))}
	for _, cs := range conns {
		out.Connectors = append(out.Connectors, toConnectorJSON(cs))
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// patchStation approves or rejects a station and sets its validation mode. A pending
// station learns it is accepted at its next BootNotification.
func (a *API) patchStation(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Registration Optional[string] `json:"registration"`
		Validation   Optional[string] `json:"validation"`
	}
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	st := Station(r)
	reg, validation := st.Registration, st.Validation
	if body.Registration.Set {
		reg = station.Registration(body.Registration.Value)
		if body.Registration.Null || (reg != station.Accepted && reg != station.Pending && reg != station.Rejected) {
			return invalidField("registration", "want Accepted, Pending or Rejected, not %s", sent(body.Registration))
		}
	}
	if body.Validation.Set {
		validation = account.Validation(body.Validation.Value)
		if body.Validation.Null || !validation.Valid() {
			return invalidField("validation", "want strict or lenient, not %s", sent(body.Validation))
		}
	}
	ctx := r.Context()
	if reg != st.Registration {
		if err := a.deps.Stations.SetRegistration(ctx, st.AccountID, st.ID, reg); err != nil {
			return err
		}
		st.Registration = reg
	}
	if validation != st.Validation {
		if err := a.deps.Stations.SetValidation(ctx, st.AccountID, st.ID, validation); err != nil {
			return err
		}
		st.Validation = validation
	}
	return a.writeStation(w, r, st)
}

// sent describes what a client sent for an error message.
func sent(o Optional[string]) string {
	if o.Null {
		return "null"
	}
	b, _ := json.Marshal(o.Value)
	return string(b)
}

func (a *API) stationEvents(w http.ResponseWriter, r *http.Request) error {
	limit, err := QueryInt(r, "limit", defaultLogLimit, 1, maxLogLimit)
	if err != nil {
		return err
	}
	evs, err := a.deps.Stations.Events(r.Context(), Station(r).ID, limit)
	if err != nil {
		return err
	}
	out := make([]eventJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, toEventJSON(e.ID, e.Kind, e.Note, e.Source))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"events": out})
	return nil
}

func (a *API) statusHistory(w http.ResponseWriter, r *http.Request) error {
	limit, err := QueryInt(r, "limit", defaultLogLimit, 1, maxLogLimit)
	if err != nil {
		return err
	}
	hist, err := a.deps.Stations.StatusHistory(r.Context(), Station(r).ID, limit)
	if err != nil {
		return err
	}
	out := make([]connectorJSON, 0, len(hist))
	for _, cs := range hist {
		out = append(out, toConnectorJSON(cs))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"statusHistory": out})
	return nil
}
