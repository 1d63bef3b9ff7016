package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/chargebook/chargebook/internal/station"
)

func (a *API) transactionRoutes() []Route {
	return []Route{
		{Method: "GET", Path: Prefix + "transactions", Query: []string{"station", "idTag", "active", "from", "to", "limit"}, Handle: a.listTransactions},
		{Method: "GET", Path: Prefix + "transactions/{transactionId}", Handle: a.getTransaction},
		{Method: "GET", Path: Prefix + "transactions/{transactionId}/meter-values", Query: []string{"from", "to", "limit"}, Handle: a.transactionMeterValues},
	}
}

// The bounds of the limit parameters.
const (
	defaultTransactionLimit = 100
	maxTransactionLimit     = 1000
	defaultMeterValueLimit  = 10000
	maxMeterValueLimit      = 100000
)

type transactionJSON struct {
	TransactionID int64  `json:"transactionId"`
	ChargePointID string `json:"chargePointId"`
	ConnectorID   int    `json:"connectorId"`
	IdTag         string `json:"idTag"`
	ReservationID *int   `json:"reservationId"`
	MeterStart    int64  `json:"meterStart"` // Wh
	// StartedAt is the station's timestamp of the start.
	StartedAt time.Time `json:"startedAt"`
	Active    bool      `json:"active"`
	// The stop: null while the transaction is active.
	MeterStop  *int64     `json:"meterStop"` // Wh
	StoppedAt  *time.Time `json:"stoppedAt"`
	StopReason *string    `json:"stopReason"`
	StopIdTag  *string    `json:"stopIdTag"`
	// EnergyWh is null while active, and when it cannot be told (see station.SettleEnergy).
	EnergyWh *int64   `json:"energyWh"`
	Flags    []string `json:"flags"`
	// ReportedTransactionID is the id an unmatched StopTransaction named.
	ReportedTransactionID *int64    `json:"reportedTransactionId"`
	CreatedAt             time.Time `json:"createdAt"`
	UpdatedAt             time.Time `json:"updatedAt"`
}

type transactionDetailJSON struct {
	transactionJSON
	Events []eventJSON `json:"events"`
}

// meterValueJSON is one sampled value, with the names of OCPP.
type meterValueJSON struct {
	ConnectorID   int       `json:"connectorId"`
	TransactionID *int64    `json:"transactionId"`
	Timestamp     time.Time `json:"timestamp"`
	Measurand     string    `json:"measurand"`
	Phase         string    `json:"phase"`
	Context       string    `json:"context"`
	Location      string    `json:"location"`
	Format        string    `json:"format"`
	// RawValue and RawUnit are as the station sent them.
	RawValue string `json:"rawValue"`
	RawUnit  string `json:"rawUnit"`
	// Value is in Unit, the base unit (Wh, W, A, V, ...), exactly; null for signed data and
	// values that are not numbers.
	Unit  string       `json:"unit"`
	Value *json.Number `json:"value"`
}

func toTransactionJSON(tx station.Transaction) transactionJSON {
	out := transactionJSON{
		TransactionID: tx.ID, ChargePointID: tx.ChargePointID, ConnectorID: tx.ConnectorID, IdTag: tx.IdTag,
		ReservationID: tx.ReservationID, MeterStart: tx.MeterStartWh, StartedAt: tx.StartedAt.UTC(),
		Active: !tx.Stopped, EnergyWh: tx.EnergyWh, Flags: make([]string, 0, len(tx.Flags)),
		ReportedTransactionID: tx.ReportedTransactionID, CreatedAt: tx.CreatedAt.UTC(), UpdatedAt: tx.UpdatedAt.UTC(),
	}
	if tx.Stopped {
		stop, reason := tx.MeterStopWh, tx.StopReason
		out.MeterStop, out.StoppedAt, out.StopReason = &stop, jsonTime(tx.StoppedAt), &reason
		out.StopIdTag = jsonString(tx.StopIdTag)
	}
	for _, f := range tx.Flags {
		out.Flags = append(out.Flags, string(f))
	}
	return out
}

func toMeterValueJSON(m station.MeterValue) meterValueJSON {
	out := meterValueJSON{
		ConnectorID: m.ConnectorID, Timestamp: m.Timestamp.UTC(), Measurand: m.Measurand, Phase: m.Phase,
		Context: m.Context, Location: m.Location, Format: m.Format, RawValue: m.RawValue, RawUnit: m.RawUnit,
		Unit: m.Unit,
	}
	if m.TransactionID != 0 {
		id := m.TransactionID
		out.TransactionID = &id
	}
	if m.Milli != nil {
		n := milliNumber(*m.Milli)
		out.Value = &n
	}
	return out
}

// milliNumber writes thousandths as an exact decimal: 12345 is 12.345, -5 is -0.005.
func milliNumber(milli int64) json.Number {
	sign, u := "", uint64(milli)
	if milli < 0 {
		sign, u = "-", uint64(-milli) // two's complement gives the magnitude of MinInt64 too
	}
	whole, frac := u/1000, u%1000
	if frac == 0 {
		return json.Number(sign + strconv.FormatUint(whole, 10))
	}
	f := strconv.FormatUint(frac+1000, 10)[1:] // three digits, leading zeros kept
	for f[len(f)-1] == '0' {
		f = f[:len(f)-1]
	}
	return json.Number(sign + strconv.FormatUint(whole, 10) + "." + f)
}

// timeRange reads the from and to parameters: from <= t < to, either may be absent.
func timeRange(r *http.Request) (from, to time.Time, err error) {
	if from, err = QueryTime(r, "from"); err != nil {
		return
	}
	if to, err = QueryTime(r, "to"); err != nil {
		return
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		err = invalidParameter("to", "must be later than from")
	}
	return
}

// transactionID reads the {transactionId} wildcard: a positive integer, or a 400.
func transactionID(r *http.Request) (int64, error) {
	s := r.PathValue("transactionId")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalidField("transactionId", "%q is not a transaction id (a positive integer)", s)
	}
	return id, nil
}

// transaction finds a transaction of the request's account; none is a 404 naming it.
func (a *API) transaction(r *http.Request) (station.Transaction, error) {
	id, err := transactionID(r)
	if err != nil {
		return station.Transaction{}, err
	}
	tx, err := a.deps.Stations.Transaction(r.Context(), Account(r).ID, id)
	if err != nil {
		return station.Transaction{}, notFoundAs(err, "transactionId", "no transaction %d", id)
	}
	return tx, nil
}

func (a *API) listTransactions(w http.ResponseWriter, r *http.Request) error {
	var f station.TransactionFilter
	var err error
	if f.Open, err = QueryBool(r, "active"); err != nil {
		return err
	}
	if f.From, f.To, err = timeRange(r); err != nil {
		return err
	}
	if f.Limit, err = QueryInt(r, "limit", defaultTransactionLimit, 1, maxTransactionLimit); err != nil {
		return err
	}
	q := r.URL.Query()
	f.IdTag = q.Get("idTag")
	ctx := r.Context()
	if cp := q.Get("station"); cp != "" {
		st, err := a.station(ctx, Account(r).ID, cp)
		if err != nil {
			return notFoundAs(err, "station", "no station %q", cp)
		}
		f.StationID = st.ID
	}
	txs, err := a.deps.Stations.Transactions(ctx, Account(r).ID, f)
	if err != nil {
		return err
	}
	out := make([]transactionJSON, 0, len(txs))
	for _, tx := range txs {
		out = append(out, toTransactionJSON(tx))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"transactions": out})
	return nil
}

func (a *API) getTransaction(w http.ResponseWriter, r *http.Request) error {
	tx, err := a.transaction(r)
	if err != nil {
		return err
	}
	evs, err := a.deps.Stations.TransactionEvents(r.Context(), Account(r).ID, tx.ID)
	if err != nil {
		return err
	}
	out := transactionDetailJSON{transactionJSON: toTransactionJSON(tx), Events: make([]eventJSON, 0, len(evs))}
	for _, e := range evs {
		out.Events = append(out.Events, toEventJSON(e.ID, e.Kind, e.Note, e.Source))
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) transactionMeterValues(w http.ResponseWriter, r *http.Request) error {
	tx, err := a.transaction(r)
	if err != nil {
		return err
	}
	f := station.MeterValueFilter{TransactionID: tx.ID}
	if f.From, f.To, err = timeRange(r); err != nil {
		return err
	}
	if f.Limit, err = QueryInt(r, "limit", defaultMeterValueLimit, 1, maxMeterValueLimit); err != nil {
		return err
	}
	mvs, err := a.deps.Stations.MeterValues(r.Context(), Account(r).ID, f)
	if err != nil {
		return err
	}
	out := make([]meterValueJSON, 0, len(mvs))
	for _, m := range mvs {
		out = append(out, toMeterValueJSON(m))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"meterValues": out})
	return nil
}
