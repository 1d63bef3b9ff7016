package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chargebook/chargebook/internal/station"
)

const (
	// maxBatch bounds a group commit so that one transaction stays short for readers of
	// PostgreSQL and for the WAL of SQLite, and a failed batch is cheap to redo.
	maxBatch = 1000
	// queueLen is how many writes may wait while the writer commits the previous batch.
	queueLen = 4 * maxBatch
	// maxIsolated is how many failing writes a batch may lose one by one before the rest
	// are committed each alone.
	maxIsolated = 3
	// networkTxTimeout ends a transaction stuck on a dead database connection rather than
	// every write after it.
	networkTxTimeout = 30 * time.Second
)

// writeFunc is one write operation. It may run more than once (when its batch is rolled back
// and redone), so it sets its results rather than appending to them.
type writeFunc func(t *wtx) error

// op is one write: a function, or meter values, which the writer inserts together with the
// meter values of the other operations of the batch.
type op struct {
	fn     writeFunc
	values []station.MeterValue
	done   chan error // buffered, so the writer never waits for a caller that gave up
}

func (o *op) run(t *wtx) error {
	if o.fn == nil {
		return insertMeterValues(t, o.values)
	}
	return o.fn(t)
}

// writer commits write operations in groups: it takes every operation queued, runs them in
// one database transaction, commits, and only then answers each caller.
type writer struct {
	db      *sql.DB
	prepare bool
	// rowsPerInsert is how many meter values one INSERT takes. A PostgreSQL statement costs
	// a round trip, so the more the better; SQLite looks up the name of every $n parameter
	// in a list, so a statement's cost grows with the square of its parameters.
	rowsPerInsert int
	// txTimeout bounds a transaction; 0 for none. modernc.org/sqlite watches a cancellable
	// context with a goroutine per statement, and an embedded database has no connection
	// to lose.
	txTimeout time.Duration
	// now stamps the marks a transaction makes (series_pending.marked_at).
	now    func() time.Time
	logger *slog.Logger

	mu     sync.RWMutex // held for reading while sending, so that close never closes ops under a send
	closed bool
	ops    chan *op

	stopped chan struct{}
}

func newWriter(db *sql.DB, prepare bool, rowsPerInsert int, txTimeout time.Duration, now func() time.Time, logger *slog.Logger) *writer {
	w := &writer{
		db:            db,
		prepare:       prepare,
		rowsPerInsert: rowsPerInsert,
		txTimeout:     txTimeout,
		now:           now,
		logger:        logger,
		ops:           make(chan *op, queueLen),
		stopped:       make(chan struct{}),
	}
	go w.run()
	return w
}

// do queues fn and waits until it is committed or has failed. If ctx ends first, do returns
// but the write may still be committed.
func (w *writer) do(ctx context.Context, fn writeFunc) error {
	return w.submit(ctx, &op{fn: fn})
}

// insert queues meter values and waits like do.
func (w *writer) insert(ctx context.Context, values []station.MeterValue) error {
	return w.submit(ctx, &op{values: values})
}

func (w *writer) submit(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err // nobody is waiting for this write any more
	}
	o.done = make(chan error, 1)
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.ops <- o:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close lets the writer commit what is queued and waits for it to stop.
func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.ops)
	}
	w.mu.Unlock()
	<-w.stopped
}

func (w *writer) run() {
	defer close(w.stopped)
	batch := make([]*op, 0, maxBatch)
	for o := range w.ops {
		batch = append(batch[:0], o)
	fill:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-w.ops:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		w.commit(batch)
		clear(batch) // let the answered operations go
	}
}

// commit runs a batch in one transaction. An operation that fails is answered on its own,
// and the rest are tried together again, so that one bad write does not fail the others.
func (w *writer) commit(batch []*op) {
	merge := true
	for isolated := 0; len(batch) > 0; isolated++ {
		if len(batch) == 1 || isolated == maxIsolated {
			for _, o := range batch {
				o.done <- w.runAlone(o)
			}
			return
		}
		rest, failed, err := w.runTogether(batch, merge)
		switch {
		case err == nil:
			for _, o := range rest {
				o.done <- nil
			}
			return
		case failed != nil:
			// Alone, it may succeed: it may only have failed on what another write of
			// the batch did.
			failed.done <- w.runAlone(failed)
			batch = rest
		case errors.Is(err, errMergedInsert) && merge:
			// Again with one INSERT per operation, to find the one that fails.
			merge = false
			batch = rest
		default:
			w.logger.Warn("store: group commit failed; committing each write alone", "writes", len(rest), "err", err)
			for _, o := range rest {
				o.done <- w.runAlone(o)
			}
			return
		}
	}
}

// errMergedInsert is a failure of the meter values of several operations inserted together.
var errMergedInsert = errors.New("merged meter values insert failed")

// runTogether runs ops in one transaction. Operations that were rejected have been answered
// and are not in rest. If an operation failed, the transaction was rolled back, failed is
// that operation and rest the others; if the transaction failed otherwise, failed is nil and
// rest is every operation still to answer.
//
// With merge, the meter values of consecutive operations share INSERT statements; a
// failure of such a statement cannot be laid on one operation and is errMergedInsert.
func (w *writer) runTogether(ops []*op, merge bool) (rest []*op, failed *op, err error) {
	t, cancel, err := w.begin()
	defer cancel()
	if err != nil {
		return ops, nil, err
	}
	rest = make([]*op, 0, len(ops))
	var (
		group  []*op // operations whose values wait for the next function or the end
		values []station.MeterValue
	)
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		err := insertMeterValues(t, values)
		if err != nil && len(group) > 1 {
			err = fmt.Errorf("%w: %w", errMergedInsert, err)
		}
		return err
	}
	for i, o := range ops {
		if o.fn == nil && merge {
			group = append(group, o)
			values = append(values, o.values...)
			continue
		}
		if err := flush(); err != nil {
			t.tx.Rollback()
			if len(group) == 1 {
				return append(rest, ops[i:]...), group[0], err
			}
			return append(append(rest, group...), ops[i:]...), nil, err
		}
		rest = append(rest, group...)
		group, values = group[:0], values[:0]
		err := o.run(t)
		var r rejection
		switch {
		case err == nil:
			rest = append(rest, o)
		case errors.As(err, &r):
			o.done <- r.err
		default:
			t.tx.Rollback()
			return append(rest, ops[i+1:]...), o, err
		}
	}
	if err := flush(); err != nil {
		t.tx.Rollback()
		if len(group) == 1 {
			return rest, group[0], err
		}
		return append(rest, group...), nil, err
	}
	rest = append(rest, group...)
	if err := t.tx.Commit(); err != nil {
		return rest, nil, err
	}
	return rest, nil, nil
}

// runAlone runs o in its own transaction and returns its answer.
func (w *writer) runAlone(o *op) error {
	t, cancel, err := w.begin()
	defer cancel()
	if err != nil {
		return err
	}
	if err := o.run(t); err != nil {
		t.tx.Rollback()
		var r rejection
		if errors.As(err, &r) {
			return r.err
		}
		return err
	}
	return t.tx.Commit()
}

// begin starts a transaction. Its context is no caller's: a caller giving up must not fail
// the writes of the others.
func (w *writer) begin() (*wtx, context.CancelFunc, error) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if w.txTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, w.txTimeout)
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, cancel, err
	}
	t := &wtx{ctx: ctx, tx: tx, rowsPerInsert: w.rowsPerInsert, at: w.now()}
	if w.prepare {
		t.stmts = make(map[string]*sql.Stmt)
	}
	return t, cancel, nil
}

// rejection is the answer of an operation that changed nothing and ran no failing statement,
// such as a not-found: the transaction it ran in is intact and the batch goes on.
type rejection struct{ err error }

func (r rejection) Error() string { return r.err.Error() }

func reject(err error) error { return rejection{err} }

// wtx is the writer's transaction. It prepares each statement once per transaction when
// the driver does not cache prepared statements itself, since a batch runs the same few
// statements hundreds of times.
type wtx struct {
	ctx           context.Context
	tx            *sql.Tx
	stmts         map[string]*sql.Stmt // nil: run statements unprepared
	rowsPerInsert int
	at            time.Time // when the transaction began, the time of the marks it makes
}

func (t *wtx) stmt(query string) (*sql.Stmt, error) {
	if s, ok := t.stmts[query]; ok {
		return s, nil
	}
	s, err := t.tx.PrepareContext(t.ctx, query)
	if err != nil {
		return nil, err
	}
	t.stmts[query] = s
	return s, nil
}

func (t *wtx) exec(query string, args ...any) (sql.Result, error) {
	if t.stmts == nil {
		return t.tx.ExecContext(t.ctx, query, args...)
	}
	s, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(t.ctx, args...)
}

// QueryContext and QueryRowContext make a wtx a querier; ctx is ignored for the
// transaction's own, since a caller giving up must not fail the others' batch.
func (t *wtx) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	if t.stmts == nil {
		return t.tx.QueryContext(t.ctx, query, args...)
	}
	s, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(t.ctx, args...)
}

func (t *wtx) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	if t.stmts == nil {
		return t.tx.QueryRowContext(t.ctx, query, args...)
	}
	s, err := t.stmt(query)
	if err != nil {
		// A *sql.Row cannot be built with an error; the unprepared query reports it.
		return t.tx.QueryRowContext(t.ctx, query, args...)
	}
	return s.QueryRowContext(t.ctx, args...)
}

// insertID runs an INSERT ... RETURNING id.
func (t *wtx) insertID(query string, args ...any) (int64, error) {
	var id int64
	err := t.QueryRowContext(t.ctx, query, args...).Scan(&id)
	return id, err
}

// update runs an UPDATE that must match a row; one that matches none is rejected with
// notFound, having changed nothing.
func (t *wtx) update(notFound error, query string, args ...any) error {
	res, err := t.exec(query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return reject(notFound)
	}
	return nil
}
