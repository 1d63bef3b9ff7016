package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
)

// Errors of the step-by-step API; they come wrapped, test for them with errors.Is.
var (
	// ErrOffline: the station has no connection, and the message was not sent. Messages
	// outside transactions are not kept for later, as on a real charger.
	ErrOffline = errors.New("station is offline")
	// ErrQueued: a transaction message could not be delivered now; it waits in the station's
	// queue and is sent, in order, once the station is back online (Flush, or Run).
	ErrQueued = errors.New("queued for delivery after reconnecting")
	// ErrBusy: the connector already has a transaction, or is inoperative.
	ErrBusy = errors.New("connector busy")
	// ErrNoTransaction: the connector has no transaction to stop.
	ErrNoTransaction = errors.New("no transaction on the connector")
)

// Transaction is a charging session as the station saw it.
type Transaction struct {
	Local int // the station's own number for it, from 1
	// ID is the transactionId the central system gave; 0 until its StartTransaction has
	// been answered.
	ID         int
	Connector  int
	IdTag      string
	MeterStart int64 // Wh
	MeterStop  int64 // Wh, once stopped
	Started    time.Time
	Stopped    time.Time
	StopReason ocpp.Reason
	Active     bool
	// AuthStatus is the idTagInfo status the central system answered the start with.
	AuthStatus ocpp.AuthorizationStatus
	// MeterValues and Samples count what the central system acknowledged for the
	// transaction: MeterValues messages, and their sampled values plus those of the
	// StopTransaction's transactionData.
	MeterValues, Samples int
	// Delivered is set once the StopTransaction was acknowledged.
	Delivered bool
}

// EnergyWh is the energy the station charged in the transaction: meterStop - meterStart.
func (t Transaction) EnergyWh() int64 {
	if t.Active {
		return 0
	}
	return t.MeterStop - t.MeterStart
}

// Stats counts a station's traffic; a Fleet adds them up.
type Stats struct {
	// Sent counts the CALLs sent, Acked those answered with a CALLRESULT, and Failed those
	// answered with a CALLERROR, timed out or lost with the connection; calls the station
	// gave up on itself, when stopping, are in neither.
	Sent, Acked, Failed uint64
	// Connects counts connections made, Reconnects those after the first, ConnectFailures
	// the attempts that failed.
	Connects, Reconnects, ConnectFailures uint64
	Queued                                int    // transaction messages waiting for delivery
	Dropped                               uint64 // transaction messages given up on
	Transactions                          uint64 // transactions stopped
	EnergyWh                              int64  // charged in the stopped transactions
	Connected                             int    // stations online now
	Stations                              int
}

func (s Stats) add(o Stats) Stats {
	s.Sent += o.Sent
	s.Acked += o.Acked
	s.Failed += o.Failed
	s.Connects += o.Connects
	s.Reconnects += o.Reconnects
	s.ConnectFailures += o.ConnectFailures
	s.Queued += o.Queued
	s.Dropped += o.Dropped
	s.Transactions += o.Transactions
	s.EnergyWh += o.EnergyWh
	s.Connected += o.Connected
	s.Stations += o.Stations
	return s
}

type counters struct {
	sent, acked, failed, connects, connectFailures, dropped atomic.Uint64
}

// Station is one simulated charge point. Drive it step by step (Connect, Boot, SendStatus,
// StartTransaction, SendMeterValues, StopTransaction, Disconnect), or let Run behave like a
// charger in the field; the two may be mixed. It answers the central system's calls whenever
// it is connected. All methods are safe for concurrent use.
type Station struct {
	cfg   StationConfig
	clock Clock
	log   *slog.Logger
	url   string

	// life ends with Close; the actions that follow a central system's call (a remote start,
	// a reset) run under it, in goroutines counted by followUps.
	life      context.Context
	cancel    context.CancelFunc
	followUps sync.WaitGroup
	running   atomic.Bool
	n         counters

	// The loops of Run wait on these for a change they must react to.
	linkWake, chargeWake chan struct{}

	// flushMu is held while the queue is delivered, so that transaction messages leave in
	// the order they were made.
	flushMu sync.Mutex

	mu           sync.Mutex
	conn         *rpc.Conn
	serveDone    chan struct{} // closed when conn's Serve has returned
	rng          *rand.Rand
	set          settings
	connectors   []*connector
	status0      ocpp.ChargePointStatus // of the station as a whole, connector 0
	registration ocpp.RegistrationStatus
	needBoot     bool // no BootNotification accepted since the station (re)started
	queue        []*queued
	retryAt      time.Time // when a message that failed with a CALLERROR may be tried again
	txs          []*Transaction
}

type connector struct {
	id     int
	meter  meter
	status ocpp.ChargePointStatus
	// operative is false after ChangeAvailability Inoperative; pendingInoperative defers
	// that to the end of the running transaction (the answer was Scheduled).
	operative, pendingInoperative bool
	tx                            *Transaction
}

// queued is a transaction message waiting for delivery.
type queued struct {
	tx       *Transaction
	req      any // *ocpp.StartTransactionRequest, *ocpp.MeterValuesRequest or *ocpp.StopTransactionRequest
	samples  int
	attempts int
}

// NewStation returns a station, offline.
func NewStation(cfg StationConfig) *Station {
	cfg = cfg.withDefaults()
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	life, cancel := context.WithCancel(context.Background())
	s := &Station{
		cfg: cfg, clock: cfg.Clock, log: cfg.Logger.With("station", cfg.ID), url: cfg.stationURL(),
		life: life, cancel: cancel,
		linkWake: make(chan struct{}, 1), chargeWake: make(chan struct{}, 1),
		rng: rng, set: newSettings(cfg), status0: ocpp.ChargePointStatusAvailable, needBoot: true,
	}
	now := s.clock.Now()
	register := cfg.StartRegisterWh
	for i := range cfg.Connectors {
		if cfg.StartRegisterWh == 0 {
			register = 100_000 + rng.Int64N(4_900_000)
		}
		variation := 0.03
		if cfg.Steady {
			variation = 0
		}
		s.connectors = append(s.connectors, &connector{
			id:     i + 1,
			meter:  meter{registerMWh: register * 1000, at: now, nominalW: cfg.PowerW, variation: variation},
			status: ocpp.ChargePointStatusAvailable, operative: true,
		})
	}
	return s
}

// ID is the station's charge point id.
func (s *Station) ID() string { return s.cfg.ID }

// poke tells the loops of Run that something changed.
func (s *Station) poke() {
	for _, c := range []chan struct{}{s.linkWake, s.chargeWake} {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// Connect opens the websocket; the station then answers the central system's calls. It does
// not boot: call Boot. Connecting a connected station does nothing.
func (s *Station) Connect(ctx context.Context) error {
	s.mu.Lock()
	if s.conn != nil {
		s.mu.Unlock()
		return nil
	}
	opts := s.cfg.RPC
	if ping := s.set.int(keyPingInterval); ping > 0 {
		opts.PingInterval = time.Duration(ping) * time.Second
	} else {
		opts.PingInterval = -1
	}
	s.mu.Unlock()

	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	conn, err := rpc.Dial(dctx, s.url, opts, s.cfg.Header)
	cancel()
	if err != nil {
		s.n.connectFailures.Add(1)
		return fmt.Errorf("simulator: %s: %w", s.cfg.ID, err)
	}
	done := make(chan struct{})
	s.mu.Lock()
	if s.conn != nil { // a concurrent Connect won
		s.mu.Unlock()
		conn.Close(websocket.StatusNormalClosure, "")
		return nil
	}
	s.conn, s.serveDone = conn, done
	s.mu.Unlock()
	s.n.connects.Add(1)
	go func() {
		err := conn.Serve(context.Background(), s.handle)
		s.mu.Lock()
		if s.conn == conn {
			s.conn = nil
		}
		s.mu.Unlock()
		close(done)
		s.log.Debug("connection ended", "reason", err)
		s.poke()
	}()
	s.log.Debug("connected", "url", s.url)
	return nil
}

// Disconnect closes the connection, as a charger losing its network would; transactions go
// on and their messages are queued. It returns once the connection is down.
func (s *Station) Disconnect() error {
	s.mu.Lock()
	conn, done := s.conn, s.serveDone
	s.mu.Unlock()
	if conn == nil {
		return nil
	}
	err := conn.Close(websocket.StatusNormalClosure, "")
	<-done
	return err
}

// Close disconnects the station and waits for whatever it was doing in reaction to the
// central system's calls. The station can still be inspected afterwards.
func (s *Station) Close() error {
	s.cancel()
	err := s.Disconnect()
	s.followUps.Wait()
	return err
}

// Connected reports whether the station has a connection.
func (s *Station) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil
}

// done returns a channel closed when the current connection ends, or nil when offline.
func (s *Station) done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	return s.serveDone
}

// call sends a request of package ocpp and decodes the answer.
func (s *Station) call(ctx context.Context, req any) (any, error) {
	action, ok := ocpp.ActionOf(req)
	if !ok {
		return nil, fmt.Errorf("simulator: %T is not an OCPP request", req)
	}
	payload, err := ocpp.EncodePayload(req)
	if err != nil {
		return nil, fmt.Errorf("simulator: %s: %w", s.cfg.ID, err)
	}
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return nil, fmt.Errorf("simulator: %s: %s: %w", s.cfg.ID, action, ErrOffline)
	}
	s.n.sent.Add(1)
	raw, err := conn.Call(ctx, action, payload)
	if err != nil {
		if ctx.Err() == nil { // not given up by the station itself
			s.n.failed.Add(1)
		}
		if errors.Is(err, rpc.ErrClosed) {
			return nil, fmt.Errorf("simulator: %s: %w: %w", s.cfg.ID, ErrOffline, err)
		}
		return nil, fmt.Errorf("simulator: %s: %w", s.cfg.ID, err)
	}
	resp, _, err := ocpp.DecodeResponse(action, raw, ocpp.Lenient)
	if err != nil {
		s.n.failed.Add(1)
		return nil, fmt.Errorf("simulator: %s: %s answer: %w", s.cfg.ID, action, err)
	}
	s.n.acked.Add(1)
	return resp, nil
}

// Boot sends a BootNotification. When it is accepted, the heartbeat interval becomes the one
// the central system gave.
func (s *Station) Boot(ctx context.Context) (*ocpp.BootNotificationResponse, error) {
	serial := s.cfg.ID
	if len(serial) > 25 {
		serial = serial[len(serial)-25:]
	}
	resp, err := s.call(ctx, &ocpp.BootNotificationRequest{
		ChargePointVendor: s.cfg.Vendor, ChargePointModel: s.cfg.Model,
		ChargePointSerialNumber: serial, FirmwareVersion: "sim-1.0",
		MeterType: "Simulated meter", MeterSerialNumber: serial,
	})
	if err != nil {
		return nil, err
	}
	r := resp.(*ocpp.BootNotificationResponse)
	s.mu.Lock()
	s.registration = r.Status
	// Until accepted, the station may send nothing but BootNotification.
	s.needBoot = r.Status != ocpp.RegistrationStatusAccepted
	if r.Status == ocpp.RegistrationStatusAccepted {
		if r.Interval > 0 {
			s.set.heartbeat = time.Duration(r.Interval) * time.Second
		}
	}
	s.mu.Unlock()
	s.poke()
	return r, nil
}

// Registration is the status of the last BootNotification answered; empty before one.
func (s *Station) Registration() ocpp.RegistrationStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registration
}

// Heartbeat sends a Heartbeat and returns the central system's time.
func (s *Station) Heartbeat(ctx context.Context) (time.Time, error) {
	resp, err := s.call(ctx, &ocpp.HeartbeatRequest{})
	if err != nil {
		return time.Time{}, err
	}
	return resp.(*ocpp.HeartbeatResponse).CurrentTime.Time, nil
}

// SendStatus records the status of a connector (0 for the station as a whole) and sends it
// in a StatusNotification.
func (s *Station) SendStatus(ctx context.Context, connectorID int, status ocpp.ChargePointStatus) error {
	s.mu.Lock()
	if connectorID == 0 {
		s.status0 = status
	} else {
		c, err := s.connector(connectorID)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		c.status = status
	}
	s.mu.Unlock()
	return s.sendStatus(ctx, connectorID)
}

// sendStatus sends the recorded status of a connector.
func (s *Station) sendStatus(ctx context.Context, connectorID int) error {
	s.mu.Lock()
	status := s.status0
	if connectorID > 0 {
		c, err := s.connector(connectorID)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		status = c.status
	}
	s.mu.Unlock()
	_, err := s.call(ctx, &ocpp.StatusNotificationRequest{
		ConnectorID: connectorID, ErrorCode: ocpp.ChargePointErrorCodeNoError, Status: status,
		Timestamp: &ocpp.DateTime{Time: s.clock.Now()},
	})
	return err
}

// Authorize asks the central system whether idTag may charge.
func (s *Station) Authorize(ctx context.Context, idTag string) (ocpp.IdTagInfo, error) {
	resp, err := s.call(ctx, &ocpp.AuthorizeRequest{IdTag: idTag})
	if err != nil {
		return ocpp.IdTagInfo{}, err
	}
	return resp.(*ocpp.AuthorizeResponse).IdTagInfo, nil
}

// connector returns connector id; s.mu must be held.
func (s *Station) connector(id int) (*connector, error) {
	if id < 1 || id > len(s.connectors) {
		return nil, fmt.Errorf("simulator: %s has no connector %d", s.cfg.ID, id)
	}
	return s.connectors[id-1], nil
}

// StartTransaction starts charging on a connector, at the connector's register, and sends
// StartTransaction. The returned Transaction carries the central system's transactionId once
// it is delivered; an error wrapping ErrQueued means it will be delivered after reconnecting.
func (s *Station) StartTransaction(ctx context.Context, connectorID int, idTag string) (Transaction, error) {
	s.mu.Lock()
	c, err := s.connector(connectorID)
	if err != nil {
		s.mu.Unlock()
		return Transaction{}, err
	}
	if c.tx != nil || !c.operative {
		s.mu.Unlock()
		return Transaction{}, fmt.Errorf("simulator: %s connector %d: %w", s.cfg.ID, connectorID, ErrBusy)
	}
	now := s.clock.Now()
	c.meter.start(now, s.rng)
	tx := &Transaction{
		Local: len(s.txs) + 1, Connector: connectorID, IdTag: idTag,
		MeterStart: c.meter.registerWh(), Started: now, Active: true,
	}
	s.txs = append(s.txs, tx)
	c.tx = tx
	c.status = ocpp.ChargePointStatusCharging
	s.queue = append(s.queue, &queued{tx: tx, req: &ocpp.StartTransactionRequest{
		ConnectorID: connectorID, IdTag: idTag, MeterStart: int(tx.MeterStart),
		Timestamp: ocpp.DateTime{Time: now},
	}})
	s.mu.Unlock()
	err = s.deliver(ctx)
	return s.snapshot(tx), err
}

// SendMeterValues samples a connector's meter now (MeterValuesSampledData, context
// Sample.Periodic) and sends it, through the queue when a transaction is running.
func (s *Station) SendMeterValues(ctx context.Context, connectorID int) error {
	return s.sendMeterValues(ctx, connectorID, ocpp.ReadingContextSamplePeriodic, keySampledData)
}

func (s *Station) sendMeterValues(ctx context.Context, connectorID int, rc ocpp.ReadingContext, measurandsKey string) error {
	s.mu.Lock()
	c, err := s.connector(connectorID)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	now := s.clock.Now()
	c.meter.advance(now, s.rng)
	svs := c.meter.sampledValues(s.set.measurands(measurandsKey), rc, c.tx != nil, s.rng)
	if len(svs) == 0 {
		s.mu.Unlock()
		return nil // nothing configured to sample
	}
	req := &ocpp.MeterValuesRequest{
		ConnectorID: connectorID,
		MeterValue:  []ocpp.MeterValue{{Timestamp: ocpp.DateTime{Time: now}, SampledValue: svs}},
	}
	if c.tx == nil {
		s.mu.Unlock()
		_, err := s.call(ctx, req)
		return err
	}
	s.queue = append(s.queue, &queued{tx: c.tx, req: req, samples: len(svs)})
	s.mu.Unlock()
	return s.deliver(ctx)
}

// StopTransaction stops the connector's transaction and sends StopTransaction with the final
// register in its transactionData (StopTxnSampledData, context Transaction.End). Errors are
// those of StartTransaction.
func (s *Station) StopTransaction(ctx context.Context, connectorID int, reason ocpp.Reason) (Transaction, error) {
	s.mu.Lock()
	c, err := s.connector(connectorID)
	if err != nil {
		s.mu.Unlock()
		return Transaction{}, err
	}
	tx := c.tx
	if tx == nil {
		s.mu.Unlock()
		return Transaction{}, fmt.Errorf("simulator: %s connector %d: %w", s.cfg.ID, connectorID, ErrNoTransaction)
	}
	now := s.clock.Now()
	c.meter.stop(now, s.rng)
	tx.MeterStop, tx.Stopped, tx.StopReason, tx.Active = c.meter.registerWh(), now, reason, false
	c.tx = nil
	c.status = ocpp.ChargePointStatusAvailable
	if c.pendingInoperative {
		c.pendingInoperative, c.operative = false, false
	}
	if !c.operative {
		c.status = ocpp.ChargePointStatusUnavailable
	}
	req := &ocpp.StopTransactionRequest{MeterStop: int(tx.MeterStop), Timestamp: ocpp.DateTime{Time: now}, Reason: reason}
	if reason == ocpp.ReasonLocal {
		req.IdTag = tx.IdTag // the driver presented the tag to stop
	}
	samples := 0
	if svs := c.meter.sampledValues(s.set.measurands(keyStopSampled), ocpp.ReadingContextTransactionEnd, true, s.rng); len(svs) > 0 {
		td := ocpp.TransactionData{Timestamp: ocpp.DateTime{Time: now}, SampledValue: make([]ocpp.TransactionSampledValue, len(svs))}
		for i, sv := range svs {
			td.SampledValue[i] = ocpp.TransactionSampledValue(sv)
		}
		req.TransactionData = []ocpp.TransactionData{td}
		samples = len(svs)
	}
	s.queue = append(s.queue, &queued{tx: tx, req: req, samples: samples})
	s.mu.Unlock()
	err = s.deliver(ctx)
	return s.snapshot(tx), err
}

// deliver flushes the queue for a message just added to it.
func (s *Station) deliver(ctx context.Context) error {
	if err := s.Flush(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrQueued, err)
	}
	return nil
}

// Flush delivers the queued transaction messages in order, filling in the transactionId the
// central system gave each start. It stops at the first message that cannot be delivered:
// on a connection problem it stays first in the queue; one answered with a CALLERROR is tried
// again later, up to TransactionMessageAttempts times, then dropped.
func (s *Station) Flush(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return nil
		}
		q := s.queue[0]
		switch r := q.req.(type) {
		case *ocpp.MeterValuesRequest:
			if q.tx.ID != 0 {
				id := q.tx.ID
				r.TransactionID = &id
			}
		case *ocpp.StopTransactionRequest:
			if q.tx.ID == 0 {
				// Its start was given up on: there is no transactionId to stop.
				s.dropLocked(q, "its StartTransaction was never accepted")
				s.mu.Unlock()
				continue
			}
			r.TransactionID = q.tx.ID
		}
		s.mu.Unlock()

		resp, err := s.call(ctx, q.req)
		if err != nil {
			var ce *rpc.CallError
			if !errors.As(err, &ce) {
				return err
			}
			s.mu.Lock()
			q.attempts++
			if q.attempts < max(1, s.set.int(keyAttempts)) {
				s.retryAt = s.clock.Now().Add(time.Duration(q.attempts*s.set.int(keyRetryInterval)) * time.Second)
				s.mu.Unlock()
				return err
			}
			s.dropLocked(q, err.Error())
			s.mu.Unlock()
			continue
		}
		s.mu.Lock()
		s.queue = s.queue[1:]
		switch r := resp.(type) {
		case *ocpp.StartTransactionResponse:
			q.tx.ID, q.tx.AuthStatus = r.TransactionID, r.IdTagInfo.Status
		case *ocpp.MeterValuesResponse:
			q.tx.MeterValues++
			q.tx.Samples += q.samples
		case *ocpp.StopTransactionResponse:
			q.tx.Samples += q.samples
			q.tx.Delivered = true
		}
		s.mu.Unlock()
		if r, ok := resp.(*ocpp.StartTransactionResponse); ok && r.IdTagInfo.Status != ocpp.AuthorizationStatusAccepted {
			s.poke() // Run stops it (StopTransactionOnInvalidId)
		}
	}
}

func (s *Station) dropLocked(q *queued, why string) {
	s.queue = s.queue[1:]
	s.n.dropped.Add(1)
	action, _ := ocpp.ActionOf(q.req)
	s.log.Warn("transaction message dropped", "action", action, "transaction", q.tx.ID, "why", why)
}

func (s *Station) snapshot(tx *Transaction) Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *tx
}

// Transactions returns the station's transactions, oldest first.
func (s *Station) Transactions() []Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Transaction, len(s.txs))
	for i, tx := range s.txs {
		out[i] = *tx
	}
	return out
}

// ActiveTransaction returns the transaction running on a connector.
func (s *Station) ActiveTransaction(connectorID int) (Transaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.connector(connectorID)
	if err != nil || c.tx == nil {
		return Transaction{}, false
	}
	return *c.tx, true
}

// RegisterWh returns a connector's energy register as of now.
func (s *Station) RegisterWh(connectorID int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.connector(connectorID)
	if err != nil {
		return 0
	}
	c.meter.advance(s.clock.Now(), s.rng)
	return c.meter.registerWh()
}

// ConfigValue returns a configuration key as GetConfiguration would show it.
func (s *Station) ConfigValue(key string) (string, bool) {
	if _, ok := lookupKey(key); !ok {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.get(key), true
}

// SampleInterval is the MeterValueSampleInterval in force.
func (s *Station) SampleInterval() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.sampleInterval
}

// Stats returns the station's counters.
func (s *Station) Stats() Stats {
	st := Stats{
		Sent: s.n.sent.Load(), Acked: s.n.acked.Load(), Failed: s.n.failed.Load(),
		Connects: s.n.connects.Load(), ConnectFailures: s.n.connectFailures.Load(),
		Dropped: s.n.dropped.Load(), Stations: 1,
	}
	if st.Connects > 0 {
		st.Reconnects = st.Connects - 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Queued = len(s.queue)
	if s.conn != nil {
		st.Connected = 1
	}
	for _, tx := range s.txs {
		if !tx.Active {
			st.Transactions++
			st.EnergyWh += tx.EnergyWh()
		}
	}
	return st
}
