package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/chargebook/chargebook/internal/station"
)

const transactionColumns = `t.id, t.account_id, t.station_id, s.charge_point_id, t.connector_id,
	t.id_tag, t.reservation_id, t.meter_start_wh, t.started_at, t.stopped, t.meter_stop_wh,
	t.stopped_at, t.stop_reason, t.stop_id_tag, t.energy_wh, t.flags, t.reported_transaction_id,
	t.created_at, t.updated_at`

const selectTransaction = `SELECT ` + transactionColumns + `
	FROM transactions t JOIN stations s ON s.id = t.station_id`

// The kinds of transaction events this store records.
const (
	eventStarted           = "Started"
	eventStartRetried      = "StartRetried"
	eventStopped           = "Stopped"
	eventStopRetried       = "StopRetried"
	eventStoppedAfterClose = "StoppedAfterClose"
	eventStopIgnored       = "StopIgnored"
	eventCreatedFromStop   = "CreatedFromStop"
	eventClosedOnBoot      = "ClosedOnBoot"
)

func scanTransaction(row scanner) (station.Transaction, error) {
	var (
		tx                                 station.Transaction
		reservation, energy, reported      sql.NullInt64
		started, stopped, created, updated int64
		flags                              string
	)
	err := row.Scan(&tx.ID, &tx.AccountID, &tx.StationID, &tx.ChargePointID, &tx.ConnectorID,
		&tx.IdTag, &reservation, &tx.MeterStartWh, &started, &tx.Stopped, &tx.MeterStopWh,
		&stopped, &tx.StopReason, &tx.StopIdTag, &energy, &flags, &reported, &created, &updated)
	if reservation.Valid {
		r := int(reservation.Int64)
		tx.ReservationID = &r
	}
	tx.StartedAt = fromMS(started)
	tx.StoppedAt = fromMS(stopped)
	tx.EnergyWh = ptrInt64(energy)
	tx.Flags = splitFlags(flags)
	tx.ReportedTransactionID = ptrInt64(reported)
	tx.CreatedAt = fromMS(created)
	tx.UpdatedAt = fromMS(updated)
	return tx, err
}

func transactionByID(ctx context.Context, q querier, accountID, id int64) (station.Transaction, error) {
	tx, err := scanTransaction(q.QueryRowContext(ctx, selectTransaction+` WHERE t.id = $1 AND t.account_id = $2`, id, accountID))
	return tx, notFound(err, station.ErrNotFound)
}

func insertTransactionEvent(t *wtx, transactionID int64, kind, note string, src station.Source, at time.Time) error {
	_, err := t.exec(`INSERT INTO transaction_events (transaction_id, kind, note, action, message_id, payload, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		transactionID, kind, note, src.Action, src.MessageID, payload(src.Payload), ms(at))
	return err
}

// saveStop writes the stop fields of tx, the only fields that change after a start.
func saveStop(t *wtx, tx station.Transaction) error {
	_, err := t.exec(`UPDATE transactions SET stopped = $2, meter_stop_wh = $3, stopped_at = $4,
		stop_reason = $5, stop_id_tag = $6, energy_wh = $7, flags = $8, updated_at = $9 WHERE id = $1`,
		tx.ID, tx.Stopped, tx.MeterStopWh, ms(tx.StoppedAt), tx.StopReason, tx.StopIdTag,
		nullInt64(tx.EnergyWh), joinFlags(tx.Flags), ms(tx.UpdatedAt))
	return err
}

// StartTransaction records a start. The retry check and the insert run in the writer's
// transaction, so two identical starts in flight at once still make one transaction.
func (s *Store) StartTransaction(ctx context.Context, start station.StartTx) (station.Transaction, bool, error) {
	at := s.receivedAt(start.Source)
	var (
		tx      station.Transaction
		retried bool
	)
	err := s.w.do(ctx, func(t *wtx) error {
		var err error
		retried = false
		tx, err = scanTransaction(t.QueryRowContext(t.ctx, selectTransaction+`
			WHERE t.station_id = $1 AND t.started_at = $2 AND t.connector_id = $3 AND t.id_tag = $4
			AND t.meter_start_wh = $5 AND t.reported_transaction_id IS NULL
			ORDER BY t.id LIMIT 1`,
			start.StationID, ms(start.StartedAt), start.ConnectorID, start.IdTag, start.MeterStartWh))
		if err == nil {
			retried = true
			if err := markSeries(t, tx.StationID, tx.ID); err != nil {
				return err
			}
			return insertTransactionEvent(t, tx.ID, eventStartRetried, "", start.Source, at)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var reservation any
		if start.ReservationID != nil {
			reservation = int64(*start.ReservationID)
		}
		id, err := t.insertID(`INSERT INTO transactions (account_id, station_id, connector_id, id_tag,
			reservation_id, meter_start_wh, started_at, stopped, meter_stop_wh, stopped_at, stop_reason,
			stop_id_tag, flags, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, 0, 0, '', '', '', $8, $8) RETURNING id`,
			start.AccountID, start.StationID, start.ConnectorID, start.IdTag, reservation,
			start.MeterStartWh, ms(start.StartedAt), ms(at))
		if err != nil {
			return err
		}
		if err := insertTransactionEvent(t, id, eventStarted, "", start.Source, at); err != nil {
			return err
		}
		if err := markSeries(t, start.StationID, id); err != nil {
			return err
		}
		tx, err = transactionByID(t.ctx, t, start.AccountID, id)
		return err
	})
	if err != nil {
		return station.Transaction{}, false, fmt.Errorf("store: start transaction: %w", err)
	}
	return tx, retried, nil
}

// StopTransaction records a stop, its transactionData and the settled energy.
//
// A stop repeated with the same meterStop and timestamp (a lost reply) changes nothing and
// is logged as StopRetried. A stop for a transaction closed on boot replaces the estimate.
// A different second stop for a transaction already stopped is logged as StopIgnored and
// changes nothing: the first may already have been billed.
//
// The transactionData values get the transaction's id, the stop's station, and the
// transaction's connector where they have none.
func (s *Store) StopTransaction(ctx context.Context, stop station.StopTx) (station.Transaction, error) {
	at := s.receivedAt(stop.Source)
	var tx station.Transaction
	err := s.w.do(ctx, func(t *wtx) error {
		var err error
		if tx, err = s.stop(t, stop, at); err != nil {
			return err
		}
		// Also a stop that changes nothing: a rebuild is cheap, and it heals a series.
		return markSeries(t, tx.StationID, tx.ID)
	})
	if err != nil {
		return station.Transaction{}, fmt.Errorf("store: stop transaction %d: %w", stop.TransactionID, err)
	}
	return tx, nil
}

func (s *Store) stop(t *wtx, stop station.StopTx, at time.Time) (station.Transaction, error) {
	cur, err := scanTransaction(t.QueryRowContext(t.ctx, selectTransaction+`
		WHERE t.id = $1 AND t.station_id = $2`, stop.TransactionID, stop.StationID))
	if errors.Is(err, sql.ErrNoRows) {
		// The station may be repeating a stop that created a record already.
		cur, err = scanTransaction(t.QueryRowContext(t.ctx, selectTransaction+`
			WHERE t.station_id = $1 AND t.reported_transaction_id = $2 ORDER BY t.id DESC LIMIT 1`,
			stop.StationID, stop.TransactionID))
		if errors.Is(err, sql.ErrNoRows) {
			return s.createFromStop(t, stop, at)
		}
	}
	if err != nil {
		return station.Transaction{}, err
	}
	switch {
	case !cur.Stopped:
		return applyStop(t, cur, stop, at, eventStopped, "")
	case cur.MeterStopWh == stop.MeterStopWh && ms(cur.StoppedAt) == ms(stop.StoppedAt):
		return cur, insertTransactionEvent(t, cur.ID, eventStopRetried, "", stop.Source, at)
	case cur.HasFlag(station.FlagClosedOnBoot) && !cur.HasFlag(station.FlagStoppedAfterClose):
		return applyStop(t, cur, stop, at, eventStoppedAfterClose, station.FlagStoppedAfterClose)
	default:
		return cur, insertTransactionEvent(t, cur.ID, eventStopIgnored, "the transaction was already stopped", stop.Source, at)
	}
}

// stopData is the stop's transactionData as the values of transaction tx.
func stopData(stop station.StopTx, tx station.Transaction) []station.MeterValue {
	data := slices.Clone(stop.Data)
	for i := range data {
		data[i].TransactionID = tx.ID
		if data[i].StationID == 0 {
			data[i].StationID = stop.StationID
		}
		if data[i].ConnectorID == 0 {
			data[i].ConnectorID = tx.ConnectorID
		}
	}
	return data
}

func applyStop(t *wtx, tx station.Transaction, stop station.StopTx, at time.Time, kind string, flag station.Flag) (station.Transaction, error) {
	if err := insertMeterValues(t, stopData(stop, tx)); err != nil {
		return station.Transaction{}, err
	}
	last, err := highestRegisterWh(t.ctx, t, tx.StationID, tx.ID)
	if err != nil {
		return station.Transaction{}, err
	}
	energy, flags := station.SettleEnergy(tx.MeterStartWh, stop.MeterStopWh, last)
	tx.Stopped = true
	tx.MeterStopWh = stop.MeterStopWh
	tx.StoppedAt = fromMS(ms(stop.StoppedAt))
	tx.StopReason = stop.Reason
	tx.StopIdTag = stop.IdTag
	tx.EnergyWh = energy
	// A register reset found on the estimate says nothing of the real stop.
	tx.Flags = addFlags(removeFlag(tx.Flags, station.FlagRegisterReset), flags...)
	if flag != "" {
		tx.Flags = addFlags(tx.Flags, flag)
	}
	tx.UpdatedAt = fromMS(ms(at))
	if err := saveStop(t, tx); err != nil {
		return station.Transaction{}, err
	}
	return tx, insertTransactionEvent(t, tx.ID, kind, "", stop.Source, at)
}

// createFromStop records a transaction the station stopped but never started here. What the
// start was is taken from the values the station sent naming the transaction, which the new
// record adopts: the earliest timestamp is the start, the lowest energy register reading the
// meterStart. Without a register reading the energy is unknown.
func (s *Store) createFromStop(t *wtx, stop station.StopTx, at time.Time) (station.Transaction, error) {
	var w where
	w.add("mv.station_id = ?", stop.StationID)
	w.add("mv.transaction_id = ?", stop.TransactionID)
	stray, err := meterValuesWhere(t.ctx, t, w, 0)
	if err != nil {
		return station.Transaction{}, err
	}
	tx := station.Transaction{
		AccountID:             stop.AccountID,
		StationID:             stop.StationID,
		IdTag:                 stop.IdTag,
		StartedAt:             fromMS(ms(stop.StoppedAt)),
		Stopped:               true,
		MeterStopWh:           stop.MeterStopWh,
		StoppedAt:             fromMS(ms(stop.StoppedAt)),
		StopReason:            stop.Reason,
		StopIdTag:             stop.IdTag,
		Flags:                 []station.Flag{station.FlagUnknownStart},
		ReportedTransactionID: &stop.TransactionID,
		CreatedAt:             fromMS(ms(at)),
		UpdatedAt:             fromMS(ms(at)),
	}
	var lowest, highest *int64
	for _, v := range append(stray, stop.Data...) {
		if ts := fromMS(ms(v.Timestamp)); !ts.IsZero() && (tx.StartedAt.IsZero() || ts.Before(tx.StartedAt)) {
			tx.StartedAt = ts
		}
		if tx.ConnectorID == 0 {
			tx.ConnectorID = v.ConnectorID
		}
		if !isRegister(v) {
			continue
		}
		wh, _ := v.Wh()
		if lowest == nil || wh < *lowest {
			lowest = &wh
		}
		if highest == nil || wh > *highest {
			highest = &wh
		}
	}
	tx.MeterStartWh = stop.MeterStopWh
	if lowest != nil {
		tx.MeterStartWh = *lowest
		var flags []station.Flag
		tx.EnergyWh, flags = station.SettleEnergy(*lowest, stop.MeterStopWh, highest)
		tx.Flags = addFlags(tx.Flags, flags...)
	}
	tx.ID, err = t.insertID(`INSERT INTO transactions (account_id, station_id, connector_id, id_tag,
		meter_start_wh, started_at, stopped, meter_stop_wh, stopped_at, stop_reason, stop_id_tag,
		energy_wh, flags, reported_transaction_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id`,
		tx.AccountID, tx.StationID, tx.ConnectorID, tx.IdTag, tx.MeterStartWh, ms(tx.StartedAt),
		tx.MeterStopWh, ms(tx.StoppedAt), tx.StopReason, tx.StopIdTag, nullInt64(tx.EnergyWh),
		joinFlags(tx.Flags), stop.TransactionID, ms(at))
	if err != nil {
		return station.Transaction{}, err
	}
	if _, err := t.exec(`UPDATE meter_values SET transaction_id = $3 WHERE station_id = $1 AND transaction_id = $2`,
		stop.StationID, stop.TransactionID, tx.ID); err != nil {
		return station.Transaction{}, err
	}
	// The values that marked the reported id are the new transaction's now, which the
	// caller marks; no transaction of the station has the reported id.
	if _, err := t.exec(`DELETE FROM series_pending WHERE station_id = $1 AND transaction_id = $2`,
		stop.StationID, stop.TransactionID); err != nil {
		return station.Transaction{}, err
	}
	if err := insertMeterValues(t, stopData(stop, tx)); err != nil {
		return station.Transaction{}, err
	}
	note := "StopTransaction for unknown transaction " + strconv.FormatInt(stop.TransactionID, 10)
	if err := insertTransactionEvent(t, tx.ID, eventCreatedFromStop, note, stop.Source, at); err != nil {
		return station.Transaction{}, err
	}
	// Read back for the charge point id.
	return transactionByID(t.ctx, t, tx.AccountID, tx.ID)
}

// CloseOpenTransactions closes the station's open transactions whose start the central
// system received before the given time. The start is judged by the central system's clock,
// not the station's timestamp: chargers' clocks are often off, and a transaction open when
// the station booted is lost whatever time the station gave it. Each is stopped at the given
// time, its meterStop the last energy register reading it had (meterStart, and energy
// unknown, when it had none).
func (s *Store) CloseOpenTransactions(ctx context.Context, stationID int64, before time.Time, reason string, src station.Source) ([]station.Transaction, error) {
	at := s.receivedAt(src)
	var closed []station.Transaction
	err := s.w.do(ctx, func(t *wtx) error {
		var err error
		closed, err = closeOpen(t, stationID, before, reason, src, at)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: close open transactions of station %d: %w", stationID, err)
	}
	return closed, nil
}

func closeOpen(t *wtx, stationID int64, before time.Time, reason string, src station.Source, at time.Time) ([]station.Transaction, error) {
	// Read them all before writing: a PostgreSQL connection runs one statement at a time.
	open, err := transactionsWhere(t.ctx, t, selectTransaction+`
		WHERE t.station_id = $1 AND t.stopped = FALSE AND t.created_at < $2 ORDER BY t.started_at, t.id`,
		stationID, ms(before))
	if err != nil {
		return nil, err
	}
	for i, tx := range open {
		last, err := highestRegisterWh(t.ctx, t, stationID, tx.ID)
		if err != nil {
			return nil, err
		}
		tx.Stopped = true
		tx.StoppedAt = fromMS(ms(before))
		tx.StopReason = reason
		tx.MeterStopWh = tx.MeterStartWh
		tx.EnergyWh = nil
		if last != nil {
			var flags []station.Flag
			tx.MeterStopWh = *last
			tx.EnergyWh, flags = station.SettleEnergy(tx.MeterStartWh, *last, last)
			tx.Flags = addFlags(tx.Flags, flags...)
		}
		tx.Flags = addFlags(tx.Flags, station.FlagClosedOnBoot)
		tx.UpdatedAt = fromMS(ms(at))
		if err := saveStop(t, tx); err != nil {
			return nil, err
		}
		if err := insertTransactionEvent(t, tx.ID, eventClosedOnBoot, reason, src, at); err != nil {
			return nil, err
		}
		if err := markSeries(t, tx.StationID, tx.ID); err != nil {
			return nil, err
		}
		open[i] = tx
	}
	return open, nil
}

func addFlags(flags []station.Flag, add ...station.Flag) []station.Flag {
	for _, f := range add {
		if !slices.Contains(flags, f) {
			flags = append(flags, f)
		}
	}
	return flags
}

func removeFlag(flags []station.Flag, f station.Flag) []station.Flag {
	return slices.DeleteFunc(slices.Clone(flags), func(g station.Flag) bool { return g == f })
}

func transactionsWhere(ctx context.Context, q querier, query string, args ...any) ([]station.Transaction, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []station.Transaction
	for rows.Next() {
		tx, err := scanTransaction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, tx)
	}
	return out, rows.Err()
}

func (s *Store) Transaction(ctx context.Context, accountID, id int64) (station.Transaction, error) {
	tx, err := transactionByID(ctx, s.read, accountID, id)
	if err != nil {
		return station.Transaction{}, fmt.Errorf("store: transaction %d: %w", id, err)
	}
	return tx, nil
}

// Transactions returns the account's transactions by their own start timestamps, newest
// first; equal timestamps by id, newest first.
func (s *Store) Transactions(ctx context.Context, accountID int64, f station.TransactionFilter) ([]station.Transaction, error) {
	var w where
	w.add("t.account_id = ?", accountID)
	if f.StationID != 0 {
		w.add("t.station_id = ?", f.StationID)
	}
	if f.IdTag != "" {
		w.add("t.id_tag = ?", f.IdTag)
	}
	if f.Open != nil {
		w.add("t.stopped = ?", !*f.Open)
	}
	if !f.From.IsZero() {
		w.add("t.started_at >= ?", ms(f.From))
	}
	if !f.To.IsZero() {
		w.add("t.started_at < ?", ms(f.To))
	}
	query := selectTransaction + w.sql() + ` ORDER BY t.started_at DESC, t.id DESC`
	args := w.args
	if f.Limit > 0 {
		args = append(args, f.Limit)
		query += ` LIMIT $` + strconv.Itoa(len(args))
	}
	out, err := transactionsWhere(ctx, s.read, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: transactions: %w", err)
	}
	return out, nil
}

// TransactionEvents returns the changes to a transaction in the order they were recorded.
func (s *Store) TransactionEvents(ctx context.Context, accountID, transactionID int64) ([]station.TransactionEvent, error) {
	out, err := s.transactionEvents(ctx, accountID, transactionID)
	if err != nil {
		return nil, fmt.Errorf("store: events of transaction %d: %w", transactionID, err)
	}
	return out, nil
}

func (s *Store) transactionEvents(ctx context.Context, accountID, transactionID int64) ([]station.TransactionEvent, error) {
	ok, err := exists(ctx, s.read, `SELECT 1 FROM transactions WHERE id = $1 AND account_id = $2`, transactionID, accountID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, station.ErrNotFound
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, transaction_id, kind, note, action, message_id, payload, received_at
		FROM transaction_events WHERE transaction_id = $1 ORDER BY id`, transactionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []station.TransactionEvent
	for rows.Next() {
		var (
			e        station.TransactionEvent
			p        string
			received int64
		)
		if err := rows.Scan(&e.ID, &e.TransactionID, &e.Kind, &e.Note, &e.Source.Action,
			&e.Source.MessageID, &p, &received); err != nil {
			return nil, err
		}
		e.Source.Payload = fromPayload(p)
		e.Source.ReceivedAt = fromMS(received)
		out = append(out, e)
	}
	return out, rows.Err()
}
