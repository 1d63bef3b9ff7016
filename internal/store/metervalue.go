package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/chargebook/chargebook/internal/station"
)

const meterValueColumns = `station_id, connector_id, transaction_id, sampled_at, measurand, phase,
	context, location, format, raw_value, raw_unit, unit, milli`

const meterValueParams = 13

// maxRowsPerInsert keeps a multi-row INSERT well under both databases' parameter limits
// (SQLite 32766, PostgreSQL 65535).
const maxRowsPerInsert = 200

// meterValueInserts[n] is the INSERT of n rows; built once, never changed.
var meterValueInserts = buildMeterValueInserts()

func buildMeterValueInserts() []string {
	out := make([]string, maxRowsPerInsert+1)
	var b strings.Builder
	b.WriteString(`INSERT INTO meter_values (` + meterValueColumns + `) VALUES `)
	p := 1
	for n := 1; n <= maxRowsPerInsert; n++ {
		if n > 1 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := range meterValueParams {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(p))
			p++
		}
		b.WriteByte(')')
		out[n] = b.String()
	}
	return out
}

func nullTransactionID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// insertMeterValues inserts values and marks the series they change.
func insertMeterValues(t *wtx, values []station.MeterValue) error {
	if err := markMeterValues(t, values); err != nil {
		return err
	}
	for len(values) > 0 {
		n := min(len(values), t.rowsPerInsert)
		args := make([]any, 0, n*meterValueParams)
		for _, v := range values[:n] {
			args = append(args, v.StationID, v.ConnectorID, nullTransactionID(v.TransactionID),
				ms(v.Timestamp), v.Measurand, v.Phase, v.Context, v.Location, v.Format,
				v.RawValue, v.RawUnit, v.Unit, nullInt64(v.Milli))
		}
		if _, err := t.exec(meterValueInserts[n], args...); err != nil {
			return err
		}
		values = values[n:]
	}
	return nil
}

// AddMeterValues stores sampled values. Values may name a transaction the store does not
// know; a later StopTransaction that creates it adopts them.
func (s *Store) AddMeterValues(ctx context.Context, values []station.MeterValue) error {
	if len(values) == 0 {
		return nil
	}
	err := s.w.insert(ctx, values)
	if err != nil {
		return fmt.Errorf("store: add meter values: %w", err)
	}
	return nil
}

func scanMeterValue(row scanner) (station.MeterValue, error) {
	var (
		v       station.MeterValue
		txID    sql.NullInt64
		sampled int64
		milli   sql.NullInt64
	)
	err := row.Scan(&v.ID, &v.StationID, &v.ConnectorID, &txID, &sampled, &v.Measurand, &v.Phase,
		&v.Context, &v.Location, &v.Format, &v.RawValue, &v.RawUnit, &v.Unit, &milli)
	v.TransactionID = txID.Int64
	v.Timestamp = fromMS(sampled)
	v.Milli = ptrInt64(milli)
	return v, err
}

// meterValuesWhere returns the values matching where, in timestamp order.
func meterValuesWhere(ctx context.Context, q querier, w where, limit int) ([]station.MeterValue, error) {
	query := `SELECT mv.id, mv.station_id, mv.connector_id, mv.transaction_id, mv.sampled_at,
		mv.measurand, mv.phase, mv.context, mv.location, mv.format, mv.raw_value, mv.raw_unit,
		mv.unit, mv.milli
		FROM meter_values mv JOIN stations s ON s.id = mv.station_id` + w.sql() +
		` ORDER BY mv.sampled_at, mv.id`
	args := w.args
	if limit > 0 {
		args = append(args, limit)
		query += ` LIMIT $` + strconv.Itoa(len(args))
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []station.MeterValue
	for rows.Next() {
		v, err := scanMeterValue(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// MeterValues returns the account's sampled values in timestamp order. A station or a
// transaction of another account gives station.ErrNotFound. The values of a transaction are
// those its station sent naming it.
func (s *Store) MeterValues(ctx context.Context, accountID int64, f station.MeterValueFilter) ([]station.MeterValue, error) {
	out, err := s.meterValues(ctx, accountID, f)
	if err != nil {
		return nil, fmt.Errorf("store: meter values: %w", err)
	}
	return out, nil
}

func (s *Store) meterValues(ctx context.Context, accountID int64, f station.MeterValueFilter) ([]station.MeterValue, error) {
	var w where
	w.add("s.account_id = ?", accountID)
	if f.StationID != 0 {
		ok, err := exists(ctx, s.read, `SELECT 1 FROM stations WHERE id = $1 AND account_id = $2`, f.StationID, accountID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, station.ErrNotFound
		}
		w.add("mv.station_id = ?", f.StationID)
	}
	if f.TransactionID != 0 {
		tx, err := transactionByID(ctx, s.read, accountID, f.TransactionID)
		if err != nil {
			return nil, err
		}
		// Another station may have sent values naming the same number.
		w.add("mv.transaction_id = ?", f.TransactionID)
		w.add("mv.station_id = ?", tx.StationID)
	}
	if !f.From.IsZero() {
		w.add("mv.sampled_at >= ?", ms(f.From))
	}
	if !f.To.IsZero() {
		w.add("mv.sampled_at < ?", ms(f.To))
	}
	return meterValuesWhere(ctx, s.read, w, f.Limit)
}

// isRegister reports whether v is a reading of the energy import register, the reading
// energy is settled on.
func isRegister(v station.MeterValue) bool {
	return v.Measurand == registerMeasurand && v.Unit == "Wh" && v.Phase == "" && v.Milli != nil
}

const registerMeasurand = "Energy.Active.Import.Register"

// highestRegisterWh is the highest energy register reading a station sent for a transaction.
func highestRegisterWh(ctx context.Context, q querier, stationID, transactionID int64) (*int64, error) {
	var milli sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT MAX(milli) FROM meter_values
		WHERE transaction_id = $1 AND station_id = $2 AND measurand = $3 AND unit = 'Wh' AND phase = ''`,
		transactionID, stationID, registerMeasurand).Scan(&milli)
	if err != nil || !milli.Valid {
		return nil, err
	}
	wh, _ := station.MeterValue{Unit: "Wh", Milli: &milli.Int64}.Wh()
	return &wh, nil
}

// where builds a WHERE clause; conditions write ? for their one argument.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	w.conds = append(w.conds, strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1))
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}
