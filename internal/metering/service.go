package metering

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

// Stations is what the Service reads of the stations. *store.Store implements it.
type Stations interface {
	Stations(ctx context.Context, accountID int64) ([]station.Station, error)
	// MeterValues returns sampled values in timestamp order.
	MeterValues(ctx context.Context, accountID int64, f station.MeterValueFilter) ([]station.MeterValue, error)
	// Transactions returns the account's transactions, newest start first.
	Transactions(ctx context.Context, accountID int64, f station.TransactionFilter) ([]station.Transaction, error)
}

// Operations sends remote operations; *operation.Service implements it.
type Operations interface {
	Execute(ctx context.Context, r operation.Request) (operation.Result, error)
}

// Deps are what a Service works with.
type Deps struct {
	Store    Store
	Stations Stations
	// Operations sends GetConfiguration and ChangeConfiguration for SetupBillingMetering.
	Operations Operations
	// Now is the clock; time.Now by default.
	Now    func() time.Time
	Logger *slog.Logger
}

// The worker's pace: a batch of transactions at a time; a kick from stored meter values is
// followed after coalesceDelay, so that the values of a burst of messages make one rebuild;
// the ticker is the safety net for marks no kick announced (left from before a restart, or
// a failed rebuild).
const (
	batchSize     = 200
	maxBatches    = 50 // per pass, so that a store that never clears cannot hold the worker
	coalesceDelay = 250 * time.Millisecond
	tickInterval  = 2 * time.Second
)

// Service keeps the stored 15-minute series of every transaction current, answers series
// and calendar queries, follows the live power of connectors and sets stations up for
// billing-grade meter values.
//
// It is the station.MeterObserver of the station service, told of stored meter values, and a
// station.Observer, told of stopped transactions. The stored series themselves are rebuilt by
// Run from what the Store marked pending, in the database transaction that stored the values:
// a kick is only a wake-up, and a lost kick delays a rebuild by at most the ticker.
type Service struct {
	store    Store
	stations Stations
	ops      Operations
	now      func() time.Time
	log      *slog.Logger

	kick chan struct{}

	mu   sync.Mutex
	live map[connKey]*connState
	subs map[int64]map[*subscriber]struct{} // by account
}

var (
	_ station.Observer      = (*Service)(nil)
	_ station.MeterObserver = (*Service)(nil)
)

// NewService returns a Service.
func NewService(d Deps) *Service {
	s := &Service{
		store: d.Store, stations: d.Stations, ops: d.Operations, now: d.Now, log: d.Logger,
		kick: make(chan struct{}, 1),
		live: make(map[connKey]*connState),
		subs: make(map[int64]map[*subscriber]struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Run keeps the stored series current until ctx is done: it rebuilds what is pending at
// once, then whenever kicked (after a short delay that gathers a burst) and every two
// seconds. An error is logged and the marks stay, so the next pass retries them. When it
// returns it ends every subscription, so that streams of live values end with the server.
func (s *Service) Run(ctx context.Context) {
	defer s.endSubscriptions()
	ticker := time.NewTicker(tickInterval)
	defer ticker.Stop()
	for {
		if _, err := s.RebuildPending(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("metering: rebuild series", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-s.kick:
			t := time.NewTimer(coalesceDelay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// Kick wakes Run; it never blocks.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// RebuildPending rebuilds the series of the transactions marked pending, batch after batch,
// and returns how many it rebuilt (or cleared: a transaction that does not exist). Run
// calls it; tests and benchmarks call it to rebuild synchronously. A rebuild reads all of a
// transaction's stored readings, so it gives the same rows however often it runs.
//
// A transaction that fails is logged and left marked; the pass goes on with the others and
// then returns the first error.
func (s *Service) RebuildPending(ctx context.Context) (int, error) {
	n := 0
	for range maxBatches {
		batch, err := s.store.PendingSeries(ctx, batchSize)
		if err != nil {
			return n, fmt.Errorf("metering: pending series: %w", err)
		}
		var first error
		for _, p := range batch {
			if err := s.rebuild(ctx, p); err != nil {
				if ctx.Err() != nil {
					return n, ctx.Err()
				}
				s.log.Error("metering: rebuild series", "station", p.StationID, "transaction", p.TransactionID, "err", err)
				if first == nil {
					first = err
				}
				continue
			}
			n++
		}
		if first != nil {
			return n, first
		}
		if len(batch) < batchSize {
			return n, nil
		}
	}
	return n, nil
}

func (s *Service) rebuild(ctx context.Context, p Pending) error {
	span, readings, err := s.store.SeriesInput(ctx, p)
	if errors.Is(err, station.ErrNotFound) {
		if err := s.store.ClearPending(ctx, p); err != nil {
			return fmt.Errorf("metering: clear transaction %d: %w", p.TransactionID, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("metering: series input of transaction %d: %w", p.TransactionID, err)
	}
	ivs, err := TransactionSeries(span, readings, Options{})
	switch {
	case errors.Is(err, ErrSpan):
		// Nothing to build: stored as an empty series, so that the mark is cleared.
		s.log.Warn("metering: transaction without a series", "station", p.StationID, "transaction", p.TransactionID,
			"started", span.StartedAt, "stopped", span.StoppedAt)
		ivs = nil
	case err != nil:
		return fmt.Errorf("metering: series of transaction %d: %w", p.TransactionID, err)
	}
	if err := s.store.ReplaceSeries(ctx, p, span, ivs); err != nil {
		return fmt.Errorf("metering: store series of transaction %d: %w", p.TransactionID, err)
	}
	return nil
}

// MeterValuesStored updates the live power of the connectors the values are of, tells the
// account's subscribers, and kicks Run. It is the station service's MeterObserver.
func (s *Service) MeterValuesStored(ctx context.Context, sess *station.Session, values []station.MeterValue) {
	s.observe(sess.Account.ID, sess.Station.ChargePointID, values)
	s.Kick()
}

// TransactionStarted kicks Run: the store marked the transaction pending.
func (s *Service) TransactionStarted(ctx context.Context, sess *station.Session, tx station.Transaction, parentIdTag string) error {
	s.Kick()
	return nil
}

// TransactionStopped publishes power 0 for the transaction's connector, unless the connector
// has sent newer values since (a stop that arrives late), and kicks Run.
func (s *Service) TransactionStopped(ctx context.Context, sess *station.Session, tx station.Transaction) error {
	s.stopped(sess.Account.ID, sess.Station.ChargePointID, tx, true)
	s.Kick()
	return nil
}

// FirmwareStatus does nothing: firmware is not metering's concern.
func (s *Service) FirmwareStatus(ctx context.Context, sess *station.Session, status string, at time.Time) error {
	return nil
}

// DiagnosticsStatus does nothing: diagnostics are not metering's concern.
func (s *Service) DiagnosticsStatus(ctx context.Context, sess *station.Session, status string, at time.Time) error {
	return nil
}
