package operation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/station"
)

// Service executes operations and reads their records. It also follows what stations report
// about them, as the station.Observer of the station service.
type Service struct {
	store  Store
	sender Sender
	now    func() time.Time
	log    *slog.Logger
}

var _ station.Observer = (*Service)(nil)

// NewService returns a Service. now is the clock (time.Now outside tests).
func NewService(store Store, sender Sender, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, sender: sender, now: now, log: log}
}

// Request asks for one operation.
type Request struct {
	AccountID     int64
	ChargePointID string
	// Actor is who asks, recorded with the operation: "token:3", "operator:7", ...
	Actor string
	// Action is the OCPP action, case-sensitive: "Reset", "GetConfiguration", ...
	Action string
	// Payload is the OCPP request payload; empty stands for {}.
	Payload json.RawMessage
}

// Result is an executed operation.
type Result struct {
	// Operation is the record, with its outcome.
	Operation Operation
	// Response is the station's answer, a pointer to a response type of package ocpp such
	// as *ocpp.ResetResponse; nil unless the operation was Answered.
	Response any
}

// Execute validates the request, records it, sends it to the station and records the outcome
// with the records the answer changes.
//
// Errors before anything is recorded: ErrUnknownAction, ErrNotCentralSystemAction, an
// *ocpp.Error naming the offending field of the payload, station.ErrNotFound. Errors of the
// sending, after which Result holds the recorded operation: ErrNotConnected, ErrTimeout,
// *StationError, ErrInvalidResponse, or another error of the Sender.
func (s *Service) Execute(ctx context.Context, r Request) (Result, error) {
	action, ok := ocpp.LookupAction(r.Action)
	if !ok {
		return Result{}, fmt.Errorf("operation %q: %w", r.Action, ErrUnknownAction)
	}
	if !action.SentBy(ocpp.CentralSystem) {
		return Result{}, fmt.Errorf("operation %s: %w", r.Action, ErrNotCentralSystemAction)
	}
	payload := r.Payload
	if len(bytes.TrimSpace(payload)) == 0 {
		payload = json.RawMessage("{}")
	}
	req, _, err := ocpp.DecodeRequest(action.Name, payload, ocpp.Strict)
	if err != nil {
		return Result{}, fmt.Errorf("operation %s: %w", r.Action, err)
	}
	// Records keep milliseconds; so does the Result, to be what a later read returns.
	now := s.now().UTC().Truncate(time.Millisecond)
	if err := Check(req, now); err != nil {
		return Result{}, fmt.Errorf("operation %s: %w", r.Action, err)
	}
	st, err := s.store.StationByChargePointID(ctx, r.AccountID, r.ChargePointID)
	if err != nil {
		return Result{}, fmt.Errorf("operation %s on %s: %w", r.Action, r.ChargePointID, err)
	}
	// What is recorded is what is sent: package ocpp encodes the request the same way.
	sent, err := json.Marshal(req)
	if err != nil {
		return Result{}, fmt.Errorf("operation %s on %s: %w", r.Action, r.ChargePointID, err)
	}
	op, err := s.store.CreateOperation(ctx, Operation{
		AccountID: r.AccountID, StationID: st.ID, ChargePointID: st.ChargePointID,
		Action: action.Name, Actor: r.Actor, Request: sent, RequestedAt: now, Status: Pending,
	})
	if err != nil {
		return Result{}, fmt.Errorf("operation %s on %s: %w", r.Action, r.ChargePointID, err)
	}

	resp, sendErr := s.sender.Send(ctx, r.AccountID, st.ChargePointID, req)

	// The outcome is recorded even when the caller has given up waiting for it.
	ctx = context.WithoutCancel(ctx)
	op.FinishedAt = s.now().UTC().Truncate(time.Millisecond)
	var fx Effects
	if sendErr == nil {
		op.Status = Answered
		if op.Response, err = json.Marshal(resp); err != nil {
			sendErr = fmt.Errorf("%w: %w", ErrInvalidResponse, err)
		} else {
			fx = EffectsOf(op, req, resp)
		}
	}
	if sendErr != nil {
		op.Status, op.Response = Failed, nil
		op.Failure, op.ErrorCode, op.ErrorDescription = classify(sendErr)
	}
	if err := s.store.FinishOperation(ctx, op, fx); err != nil {
		s.log.Error("operation: record outcome", "operation", op.ID, "station", op.ChargePointID, "action", op.Action, "err", err)
		return Result{Operation: op}, fmt.Errorf("operation %s on %s: record outcome: %w", r.Action, r.ChargePointID, err)
	}
	if sendErr != nil {
		return Result{Operation: op}, fmt.Errorf("operation %s on %s: %w", r.Action, r.ChargePointID, sendErr)
	}
	return Result{Operation: op, Response: resp}, nil
}

// classify turns an error of the Sender into the failure recorded.
func classify(err error) (Failure, string, string) {
	var se *StationError
	switch {
	case errors.As(err, &se):
		return FailureCallError, se.Code, se.Description
	case errors.Is(err, ErrNotConnected):
		return FailureNotConnected, "", err.Error()
	case errors.Is(err, ErrTimeout):
		return FailureTimeout, "", err.Error()
	case errors.Is(err, ErrInvalidResponse):
		return FailureInvalidResponse, "", err.Error()
	}
	return FailureError, "", err.Error()
}

// station resolves a charge point id of the account.
func (s *Service) station(ctx context.Context, accountID int64, chargePointID string) (station.Station, error) {
	st, err := s.store.StationByChargePointID(ctx, accountID, chargePointID)
	if err != nil {
		return station.Station{}, fmt.Errorf("operation: station %s: %w", chargePointID, err)
	}
	return st, nil
}

// Operation returns one operation of the account.
func (s *Service) Operation(ctx context.Context, accountID, id int64) (Operation, error) {
	return s.store.Operation(ctx, accountID, id)
}

// Operations returns the account's operations, the newest first. A filter on a station the
// account does not have is station.ErrNotFound.
func (s *Service) Operations(ctx context.Context, accountID int64, f OperationFilter) ([]Operation, error) {
	if f.ChargePointID != "" {
		if _, err := s.station(ctx, accountID, f.ChargePointID); err != nil {
			return nil, err
		}
	}
	return s.store.Operations(ctx, accountID, f)
}

// Configuration returns the station's last known configuration, by key, without asking it.
func (s *Service) Configuration(ctx context.Context, accountID int64, chargePointID string) ([]ConfigKey, error) {
	st, err := s.station(ctx, accountID, chargePointID)
	if err != nil {
		return nil, err
	}
	return s.store.Configuration(ctx, accountID, st.ID)
}

// Reservations returns the account's reservations, the newest first, in their state as of
// now (a Reserved one whose expiry has passed is Expired).
func (s *Service) Reservations(ctx context.Context, accountID int64, f ReservationFilter) ([]Reservation, error) {
	if f.ChargePointID != "" {
		if _, err := s.station(ctx, accountID, f.ChargePointID); err != nil {
			return nil, err
		}
	}
	f.At = s.now().UTC()
	rs, err := s.store.Reservations(ctx, accountID, f)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		rs[i].State = StateAt(rs[i], f.At)
	}
	return rs, nil
}

// ChargingProfiles returns the profiles the station has accepted and still has.
func (s *Service) ChargingProfiles(ctx context.Context, accountID int64, chargePointID string) ([]ChargingProfile, error) {
	st, err := s.station(ctx, accountID, chargePointID)
	if err != nil {
		return nil, err
	}
	return s.store.ChargingProfiles(ctx, accountID, st.ID)
}

// LocalList returns what is known of the station's local authorization list.
func (s *Service) LocalList(ctx context.Context, accountID int64, chargePointID string) (LocalList, error) {
	st, err := s.station(ctx, accountID, chargePointID)
	if err != nil {
		return LocalList{}, err
	}
	return s.store.LocalList(ctx, accountID, st.ID)
}

// FirmwareRequests returns the station's firmware updates, the newest first.
func (s *Service) FirmwareRequests(ctx context.Context, accountID int64, chargePointID string) ([]FirmwareRequest, error) {
	st, err := s.station(ctx, accountID, chargePointID)
	if err != nil {
		return nil, err
	}
	return s.store.FirmwareRequests(ctx, accountID, st.ID)
}

// DiagnosticsRequests returns the station's diagnostics uploads, the newest first.
func (s *Service) DiagnosticsRequests(ctx context.Context, accountID int64, chargePointID string) ([]DiagnosticsRequest, error) {
	st, err := s.station(ctx, accountID, chargePointID)
	if err != nil {
		return nil, err
	}
	return s.store.DiagnosticsRequests(ctx, accountID, st.ID)
}

// TransactionStarted implements station.Observer. A TxProfile the station accepted with its
// latest RemoteStartTransaction for the idTag, kept on connector 0 because the request named
// no connector, moves to the connector the station started on. A start with the reservationId
// of the station's reservation, made before its expiry by the station's clock, by its idTag
// or one of the same parent and on its connector, uses the reservation. A start that does
// not match is logged and changes nothing: the station has started the transaction anyway.
func (s *Service) TransactionStarted(ctx context.Context, sess *station.Session, tx station.Transaction, parentIdTag string) error {
	st := sess.Station
	moved, err := s.store.MoveRemoteStartProfile(ctx, sess.Account.ID, st.ID, tx.IdTag, tx.ConnectorID)
	if err != nil {
		return fmt.Errorf("operation: TxProfile of the remote start of %s: %w", st.ChargePointID, err)
	}
	if moved {
		s.log.Info("TxProfile of a remote start kept on the connector the station chose", "station", st.ChargePointID,
			"transaction", tx.ID, "connector", tx.ConnectorID)
	}
	if tx.ReservationID == nil {
		return nil
	}
	return s.useReservation(ctx, sess, tx, parentIdTag)
}

func (s *Service) useReservation(ctx context.Context, sess *station.Session, tx station.Transaction, parentIdTag string) error {
	acct, st := sess.Account.ID, sess.Station
	r, err := s.store.ActiveReservation(ctx, acct, st.ID, *tx.ReservationID)
	if errors.Is(err, station.ErrNotFound) {
		// A retried start finds its reservation used already.
		s.log.Info("start names no reservation of the station", "station", st.ChargePointID, "reservation", *tx.ReservationID, "transaction", tx.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("operation: reservation %d of %s: %w", *tx.ReservationID, st.ChargePointID, err)
	}
	if !ReservationMatches(r, tx.ConnectorID, tx.IdTag, parentIdTag) {
		s.log.Warn("start does not match its reservation", "station", st.ChargePointID, "reservation", r.ReservationID,
			"transaction", tx.ID, "connector", tx.ConnectorID, "reservedConnector", r.ConnectorID)
		return nil
	}
	// A start the station queued while offline may arrive after the expiry; what counts is
	// when it started.
	if StateAt(r, tx.StartedAt) != Reserved {
		s.log.Warn("start after its reservation expired", "station", st.ChargePointID, "reservation", r.ReservationID,
			"transaction", tx.ID, "startedAt", tx.StartedAt, "expiresAt", r.ExpiresAt)
		return nil
	}
	at := tx.CreatedAt
	if at.IsZero() {
		at = s.now().UTC()
	}
	err = s.store.UseReservation(ctx, acct, r.ID, tx.ID, at)
	if err != nil && !errors.Is(err, station.ErrNotFound) {
		return fmt.Errorf("operation: use reservation %d of %s: %w", r.ReservationID, st.ChargePointID, err)
	}
	return nil
}

// TransactionStopped implements station.Observer; a stop changes no remote operation.
func (s *Service) TransactionStopped(ctx context.Context, sess *station.Session, tx station.Transaction) error {
	return nil
}

// FirmwareStatus implements station.Observer: the station's newest open firmware request
// takes the status.
func (s *Service) FirmwareStatus(ctx context.Context, sess *station.Session, status string, at time.Time) error {
	found, err := s.store.FollowFirmware(ctx, sess.Account.ID, sess.Station.ID, status, !FirmwareDone(status), at)
	if err != nil {
		return fmt.Errorf("operation: firmware status of %s: %w", sess.Station.ChargePointID, err)
	}
	if !found {
		s.log.Debug("firmware status without an open request", "station", sess.Station.ChargePointID, "status", status)
	}
	return nil
}

// DiagnosticsStatus implements station.Observer: the station's newest open diagnostics
// request takes the status.
func (s *Service) DiagnosticsStatus(ctx context.Context, sess *station.Session, status string, at time.Time) error {
	found, err := s.store.FollowDiagnostics(ctx, sess.Account.ID, sess.Station.ID, status, !DiagnosticsDone(status), at)
	if err != nil {
		return fmt.Errorf("operation: diagnostics status of %s: %w", sess.Station.ChargePointID, err)
	}
	if !found {
		s.log.Debug("diagnostics status without an open request", "station", sess.Station.ChargePointID, "status", status)
	}
	return nil
}
