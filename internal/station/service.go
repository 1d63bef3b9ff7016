package station

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/ocpp"
)

// PendingRetryInterval is how long a station that is not accepted waits before it sends its
// next BootNotification.
const PendingRetryInterval = time.Minute

// Service answers the messages a station sends and keeps what they say.
type Service struct {
	store    Store
	auth     Authorizer
	now      func() time.Time
	log      *slog.Logger
	observer Observer
	meters   MeterObserver
}

// Observer is told of messages that concern work other parts of the central system follow:
// reservations, firmware updates, diagnostics uploads. The Service calls it after it has
// stored the message and before it answers, so that nothing acknowledged is lost; an error
// makes the station send the message again, so a call may repeat.
type Observer interface {
	// TransactionStarted: tx was started (or its start retried); parentIdTag is the parent
	// of its idTag as the authorization found it.
	TransactionStarted(ctx context.Context, sess *Session, tx Transaction, parentIdTag string) error
	// TransactionStopped: tx was stopped (or its stop retried), as the store now has it.
	TransactionStopped(ctx context.Context, sess *Session, tx Transaction) error
	FirmwareStatus(ctx context.Context, sess *Session, status string, at time.Time) error
	DiagnosticsStatus(ctx context.Context, sess *Session, status string, at time.Time) error
}

// Observers is an Observer that tells each of its observers in turn; the first error stops
// it, and the message is sent again, so each observer must bear repeated calls.
type Observers []Observer

func (os Observers) TransactionStarted(ctx context.Context, sess *Session, tx Transaction, parentIdTag string) error {
	return os.each(func(o Observer) error { return o.TransactionStarted(ctx, sess, tx, parentIdTag) })
}

func (os Observers) TransactionStopped(ctx context.Context, sess *Session, tx Transaction) error {
	return os.each(func(o Observer) error { return o.TransactionStopped(ctx, sess, tx) })
}

func (os Observers) FirmwareStatus(ctx context.Context, sess *Session, status string, at time.Time) error {
	return os.each(func(o Observer) error { return o.FirmwareStatus(ctx, sess, status, at) })
}

func (os Observers) DiagnosticsStatus(ctx context.Context, sess *Session, status string, at time.Time) error {
	return os.each(func(o Observer) error { return o.DiagnosticsStatus(ctx, sess, status, at) })
}

func (os Observers) each(f func(Observer) error) error {
	for _, o := range os {
		if err := f(o); err != nil {
			return err
		}
	}
	return nil
}

// SetObserver sets the observer, nil for none. It must be called before the Service is used.
func (s *Service) SetObserver(o Observer) { s.observer = o }

// MeterObserver is told of meter values once they are stored: those of MeterValues, and the
// transactionData of a StopTransaction (with the transaction and connector it resolved to).
// It cannot fail the message: what it does with them (live power, a wake-up for the work
// that follows stored values) must not hold up the station.
type MeterObserver interface {
	MeterValuesStored(ctx context.Context, sess *Session, values []MeterValue)
}

// SetMeterObserver sets the meter observer, nil for none. It must be called before the
// Service is used.
func (s *Service) SetMeterObserver(o MeterObserver) { s.meters = o }

// NewService returns a Service. now is the clock (time.Now outside tests).
func NewService(store Store, auth Authorizer, now func() time.Time, log *slog.Logger) *Service {
	return &Service{store: store, auth: auth, now: now, log: log}
}

// Session is a connected station as the service sees it; the transport keeps one per
// connection and passes it to every call.
type Session struct {
	Account account.Account
	Station Station
	// booted is set by the first accepted BootNotification of the connection. A station
	// that really reboots opens a new connection; a second boot on the same one was asked
	// for (TriggerMessage) and says nothing about its transactions.
	booted bool
}

// Connect registers the station on its first connection (waiting for approval if the
// account asks for that) and records that it is connected.
func (s *Service) Connect(ctx context.Context, acct account.Account, chargePointID string) (*Session, error) {
	now := s.now().UTC()
	reg := Accepted
	if acct.ApproveNewStations {
		reg = Pending
	}
	st, created, err := s.store.RegisterStation(ctx, acct.ID, chargePointID, reg, acct.StationValidation, now)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", chargePointID, err)
	}
	note := ""
	if created {
		note = "first connection: registered as " + string(st.Registration)
		s.log.Info("station registered", "account", acct.ID, "station", chargePointID, "registration", st.Registration)
	}
	if err := s.store.RecordConnection(ctx, st.ID, true, now, note); err != nil {
		return nil, fmt.Errorf("connect %s: %w", chargePointID, err)
	}
	st.Connected, st.ConnectionChangedAt = true, now
	return &Session{Account: acct, Station: st}, nil
}

// Disconnect records that the station's connection ended.
func (s *Service) Disconnect(ctx context.Context, sess *Session, note string) error {
	if err := s.store.RecordConnection(ctx, sess.Station.ID, false, s.now().UTC(), note); err != nil {
		return fmt.Errorf("disconnect %s: %w", sess.Station.ChargePointID, err)
	}
	return nil
}

// Refresh reloads the station's record, which an operator may have changed (approval,
// validation) while it was connected.
func (s *Service) Refresh(ctx context.Context, sess *Session) error {
	st, err := s.store.StationByChargePointID(ctx, sess.Account.ID, sess.Station.ChargePointID)
	if err != nil {
		return fmt.Errorf("refresh %s: %w", sess.Station.ChargePointID, err)
	}
	st.Connected, st.ConnectionChangedAt = sess.Station.Connected, sess.Station.ConnectionChangedAt
	sess.Station = st
	return nil
}

// Touch records that the station was heard from.
func (s *Service) Touch(ctx context.Context, sess *Session, at time.Time) error {
	return s.store.TouchStation(ctx, sess.Station.ID, at)
}

// RecordWarnings keeps what lenient validation let through, so the operator can see what
// the station gets wrong.
func (s *Service) RecordWarnings(ctx context.Context, sess *Session, src Source, warnings []string) error {
	note := fmt.Sprint(warnings)
	return s.store.RecordEvent(ctx, Event{StationID: sess.Station.ID, Kind: "ValidationWarning", Source: src, Note: note})
}

// RecordRejected keeps a message that was answered with a CALLERROR.
func (s *Service) RecordRejected(ctx context.Context, sess *Session, src Source, callErr *ocpp.Error) error {
	return s.store.RecordEvent(ctx, Event{StationID: sess.Station.ID, Kind: "Rejected", Source: src, Note: callErr.Error()})
}

// Handle answers a request a station sent, decoded by package ocpp (a pointer to one of
// its request types), and returns the response to send. A returned *ocpp.Error is sent as
// it is; any other error means the message could not be kept and is sent as InternalError,
// so the station sends it again.
func (s *Service) Handle(ctx context.Context, sess *Session, req any, src Source) (any, error) {
	if _, boot := req.(*ocpp.BootNotificationRequest); !boot && sess.Station.Registration != Accepted {
		return nil, ocpp.Errorf(ocpp.SecurityError, "charge point %s is %s: only BootNotification is allowed until it is accepted",
			sess.Station.ChargePointID, sess.Station.Registration)
	}
	switch r := req.(type) {
	case *ocpp.BootNotificationRequest:
		return s.bootNotification(ctx, sess, r, src)
	case *ocpp.HeartbeatRequest:
		if err := s.store.TouchStation(ctx, sess.Station.ID, src.ReceivedAt); err != nil {
			return nil, fmt.Errorf("heartbeat: %w", err)
		}
		return &ocpp.HeartbeatResponse{CurrentTime: ocpp.DateTime{Time: s.now().UTC()}}, nil
	case *ocpp.StatusNotificationRequest:
		return s.statusNotification(ctx, sess, r, src)
	case *ocpp.AuthorizeRequest:
		d, err := s.auth.Authorize(ctx, AuthRequest{AccountID: sess.Account.ID, StationID: sess.Station.ID, IdTag: r.IdTag, At: src.ReceivedAt})
		if err != nil {
			return nil, err
		}
		return &ocpp.AuthorizeResponse{IdTagInfo: idTagInfo(d)}, nil
	case *ocpp.StartTransactionRequest:
		return s.startTransaction(ctx, sess, r, src)
	case *ocpp.StopTransactionRequest:
		return s.stopTransaction(ctx, sess, r, src)
	case *ocpp.MeterValuesRequest:
		return s.meterValues(ctx, sess, r)
	case *ocpp.DataTransferRequest:
		if err := s.event(ctx, sess, src, fmt.Sprintf("vendorId=%s messageId=%s", r.VendorID, r.MessageID)); err != nil {
			return nil, err
		}
		// Kept for the operator, but no vendor extension is implemented here.
		return &ocpp.DataTransferResponse{Status: ocpp.DataTransferStatusUnknownVendorId}, nil
	case *ocpp.DiagnosticsStatusNotificationRequest:
		err := s.event(ctx, sess, src, string(r.Status))
		if err == nil && s.observer != nil {
			err = s.observer.DiagnosticsStatus(ctx, sess, string(r.Status), src.ReceivedAt)
		}
		return &ocpp.DiagnosticsStatusNotificationResponse{}, err
	case *ocpp.FirmwareStatusNotificationRequest:
		err := s.event(ctx, sess, src, string(r.Status))
		if err == nil && s.observer != nil {
			err = s.observer.FirmwareStatus(ctx, sess, string(r.Status), src.ReceivedAt)
		}
		return &ocpp.FirmwareStatusNotificationResponse{}, err
	case *ocpp.SecurityEventNotificationRequest:
		return &ocpp.SecurityEventNotificationResponse{}, s.event(ctx, sess, src, r.Type)
	case *ocpp.SignedFirmwareStatusNotificationRequest:
		return &ocpp.SignedFirmwareStatusNotificationResponse{}, s.event(ctx, sess, src, string(r.Status))
	case *ocpp.LogStatusNotificationRequest:
		return &ocpp.LogStatusNotificationResponse{}, s.event(ctx, sess, src, string(r.Status))
	case *ocpp.SignCertificateRequest:
		// There is no certificate authority to sign with; the request is kept for the operator.
		return &ocpp.SignCertificateResponse{Status: ocpp.GenericStatusRejected}, s.event(ctx, sess, src, "no certificate authority configured")
	}
	return nil, ocpp.Errorf(ocpp.NotSupported, "%s is not supported by this central system", src.Action)
}

func (s *Service) event(ctx context.Context, sess *Session, src Source, note string) error {
	if err := s.store.RecordEvent(ctx, Event{StationID: sess.Station.ID, Kind: src.Action, Source: src, Note: note}); err != nil {
		return fmt.Errorf("%s: %w", src.Action, err)
	}
	return nil
}

func (s *Service) bootNotification(ctx context.Context, sess *Session, r *ocpp.BootNotificationRequest, src Source) (any, error) {
	// The operator may have approved or rejected the station since it connected.
	if err := s.Refresh(ctx, sess); err != nil {
		return nil, fmt.Errorf("boot notification: %w", err)
	}
	st := sess.Station
	boot := BootInfo{
		Vendor: r.ChargePointVendor, Model: r.ChargePointModel,
		ChargePointSerial: r.ChargePointSerialNumber, ChargeBoxSerial: r.ChargeBoxSerialNumber,
		FirmwareVersion: r.FirmwareVersion, ICCID: r.ICCID, IMSI: r.IMSI,
		MeterType: r.MeterType, MeterSerial: r.MeterSerialNumber,
	}
	if err := s.store.RecordBoot(ctx, st.ID, boot, src); err != nil {
		return nil, fmt.Errorf("boot notification: %w", err)
	}
	sess.Station.Boot, sess.Station.LastBootAt = boot, src.ReceivedAt
	resp := &ocpp.BootNotificationResponse{
		Status:      ocpp.RegistrationStatus(st.Registration),
		CurrentTime: ocpp.DateTime{Time: s.now().UTC()},
		Interval:    int(PendingRetryInterval / time.Second),
	}
	if st.Registration != Accepted {
		return resp, nil
	}
	resp.Interval = int(sess.Account.HeartbeatInterval / time.Second)
	if sess.booted {
		return resp, nil
	}
	sess.booted = true
	// A station that boots has lost whatever transactions it had open; if it kept them, its
	// queued StopTransaction will still arrive and replace this estimate.
	closed, err := s.store.CloseOpenTransactions(ctx, st.ID, src.ReceivedAt, string(ocpp.ReasonReboot), src)
	if err != nil {
		return nil, fmt.Errorf("boot notification: %w", err)
	}
	for _, tx := range closed {
		s.log.Warn("transaction closed on boot", "station", st.ChargePointID, "transaction", tx.ID)
	}
	return resp, nil
}

func (s *Service) statusNotification(ctx context.Context, sess *Session, r *ocpp.StatusNotificationRequest, src Source) (any, error) {
	if r.ConnectorID < 0 {
		return nil, ocpp.Errorf(ocpp.PropertyConstraintViolation, "connectorId: %d is negative", r.ConnectorID)
	}
	cs := ConnectorStatus{
		StationID: sess.Station.ID, ConnectorID: r.ConnectorID,
		Status: string(r.Status), ErrorCode: string(r.ErrorCode), Info: r.Info,
		VendorID: r.VendorID, VendorErrorCode: r.VendorErrorCode, ReceivedAt: src.ReceivedAt,
	}
	if r.Timestamp != nil {
		cs.Timestamp = r.Timestamp.UTC()
	}
	if err := s.store.RecordStatus(ctx, cs, src); err != nil {
		return nil, fmt.Errorf("status notification: %w", err)
	}
	return &ocpp.StatusNotificationResponse{}, nil
}

func (s *Service) startTransaction(ctx context.Context, sess *Session, r *ocpp.StartTransactionRequest, src Source) (any, error) {
	if r.ConnectorID <= 0 {
		return nil, ocpp.Errorf(ocpp.PropertyConstraintViolation, "connectorId: a transaction needs a connector above 0, not %d", r.ConnectorID)
	}
	d, err := s.auth.Authorize(ctx, AuthRequest{
		AccountID: sess.Account.ID, StationID: sess.Station.ID, ConnectorID: r.ConnectorID,
		IdTag: r.IdTag, At: r.Timestamp.UTC(), Starting: true,
	})
	if err != nil {
		return nil, fmt.Errorf("start transaction: %w", err)
	}
	// The station has started already: the transaction is kept whatever the decision, and
	// the decision tells the station whether to go on.
	tx, retried, err := s.store.StartTransaction(ctx, StartTx{
		AccountID: sess.Account.ID, StationID: sess.Station.ID, ConnectorID: r.ConnectorID,
		IdTag: r.IdTag, MeterStartWh: int64(r.MeterStart), StartedAt: r.Timestamp.UTC(),
		ReservationID: r.ReservationID, Source: src,
	})
	if err != nil {
		return nil, fmt.Errorf("start transaction: %w", err)
	}
	if retried {
		s.log.Info("start transaction retried", "station", sess.Station.ChargePointID, "transaction", tx.ID)
	}
	if s.observer != nil {
		if err := s.observer.TransactionStarted(ctx, sess, tx, d.ParentIdTag); err != nil {
			return nil, fmt.Errorf("start transaction: %w", err)
		}
	}
	return &ocpp.StartTransactionResponse{TransactionID: int(tx.ID), IdTagInfo: idTagInfo(d)}, nil
}

func (s *Service) stopTransaction(ctx context.Context, sess *Session, r *ocpp.StopTransactionRequest, src Source) (any, error) {
	var data []MeterValue
	for _, td := range r.TransactionData {
		data = appendMeterValue(data, sess.Station.ID, 0, 0, td.MeterValue())
	}
	tx, err := s.store.StopTransaction(ctx, StopTx{
		AccountID: sess.Account.ID, StationID: sess.Station.ID, TransactionID: int64(r.TransactionID),
		IdTag: r.IdTag, MeterStopWh: int64(r.MeterStop), StoppedAt: r.Timestamp.UTC(),
		Reason: string(r.Reason), Data: data, Source: src,
	})
	if err != nil {
		return nil, fmt.Errorf("stop transaction: %w", err)
	}
	if s.meters != nil && len(data) > 0 {
		for i := range data {
			data[i].ConnectorID, data[i].TransactionID = tx.ConnectorID, tx.ID
		}
		s.meters.MeterValuesStored(ctx, sess, data)
	}
	if tx.HasFlag(FlagRegisterReset) {
		s.log.Warn("meterStop below meterStart", "station", sess.Station.ChargePointID, "transaction", tx.ID,
			"meterStart", tx.MeterStartWh, "meterStop", tx.MeterStopWh)
	}
	if s.observer != nil {
		if err := s.observer.TransactionStopped(ctx, sess, tx); err != nil {
			return nil, fmt.Errorf("stop transaction: %w", err)
		}
	}
	resp := &ocpp.StopTransactionResponse{}
	if r.IdTag != "" {
		d, err := s.auth.Authorize(ctx, AuthRequest{AccountID: sess.Account.ID, StationID: sess.Station.ID, IdTag: r.IdTag, At: src.ReceivedAt})
		if err != nil {
			return nil, fmt.Errorf("stop transaction: %w", err)
		}
		info := idTagInfo(d)
		resp.IdTagInfo = &info
	}
	return resp, nil
}

func (s *Service) meterValues(ctx context.Context, sess *Session, r *ocpp.MeterValuesRequest) (any, error) {
	if r.ConnectorID < 0 {
		return nil, ocpp.Errorf(ocpp.PropertyConstraintViolation, "connectorId: %d is negative", r.ConnectorID)
	}
	var txID int64
	if r.TransactionID != nil {
		txID = int64(*r.TransactionID)
	}
	values := make([]MeterValue, 0, len(r.MeterValue)*4)
	for _, mv := range r.MeterValue {
		values = appendMeterValue(values, sess.Station.ID, r.ConnectorID, txID, mv)
	}
	if err := s.store.AddMeterValues(ctx, values); err != nil {
		return nil, fmt.Errorf("meter values: %w", err)
	}
	if s.meters != nil {
		s.meters.MeterValuesStored(ctx, sess, values)
	}
	return &ocpp.MeterValuesResponse{}, nil
}

func appendMeterValue(dst []MeterValue, stationID int64, connectorID int, txID int64, mv ocpp.MeterValue) []MeterValue {
	for _, sv := range mv.SampledValue {
		m := NormalizeSample(Sample{
			Timestamp: mv.Timestamp.Time, Value: sv.Value, Context: string(sv.Context),
			Format: string(sv.Format), Measurand: string(sv.Measurand), Phase: string(sv.Phase),
			Location: string(sv.Location), Unit: string(sv.Unit),
		})
		m.StationID, m.ConnectorID, m.TransactionID = stationID, connectorID, txID
		dst = append(dst, m)
	}
	return dst
}

func idTagInfo(d Decision) ocpp.IdTagInfo {
	info := ocpp.IdTagInfo{Status: ocpp.AuthorizationStatus(d.Status), ParentIdTag: d.ParentIdTag}
	if !d.CacheUntil.IsZero() {
		info.ExpiryDate = &ocpp.DateTime{Time: d.CacheUntil.UTC()}
	}
	return info
}
