package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

var _ operation.Store = (*Store)(nil)

const selectOperation = `SELECT o.id, o.account_id, o.station_id, s.charge_point_id, o.action, o.actor,
	o.request, o.requested_at, o.status, o.response, o.failure, o.error_code, o.error_description,
	o.finished_at FROM operations o JOIN stations s ON s.id = o.station_id`

func scanOperation(row scanner) (operation.Operation, error) {
	var (
		op                  operation.Operation
		req, resp           string
		status, failure     string
		requested, finished int64
	)
	err := row.Scan(&op.ID, &op.AccountID, &op.StationID, &op.ChargePointID, &op.Action, &op.Actor,
		&req, &requested, &status, &resp, &failure, &op.ErrorCode, &op.ErrorDescription, &finished)
	op.Request = json.RawMessage(fromPayload(req))
	op.Response = json.RawMessage(fromPayload(resp))
	op.Status = operation.Status(status)
	op.Failure = operation.Failure(failure)
	op.RequestedAt = fromMS(requested)
	op.FinishedAt = fromMS(finished)
	return op, err
}

// accountStation rejects a write for a station that is not the account's with
// station.ErrNotFound, rather than letting a foreign key fail it and its batch.
func accountStation(t *wtx, accountID, stationID int64) error {
	ok, err := exists(t.ctx, t, `SELECT 1 FROM stations WHERE id = $1 AND account_id = $2`, stationID, accountID)
	if err != nil {
		return err
	}
	if !ok {
		return reject(station.ErrNotFound)
	}
	return nil
}

// checkAccountStation tells a station of another account, or none, from one without records.
func (s *Store) checkAccountStation(ctx context.Context, accountID, stationID int64) error {
	ok, err := exists(ctx, s.read, `SELECT 1 FROM stations WHERE id = $1 AND account_id = $2`, stationID, accountID)
	if err != nil {
		return err
	}
	if !ok {
		return station.ErrNotFound
	}
	return nil
}

// CreateOperation records a requested operation of a station of the account.
func (s *Store) CreateOperation(ctx context.Context, op operation.Operation) (operation.Operation, error) {
	if op.RequestedAt.IsZero() {
		op.RequestedAt = s.now()
	}
	out := op
	err := s.w.do(ctx, func(t *wtx) error {
		if err := accountStation(t, op.AccountID, op.StationID); err != nil {
			return err
		}
		var err error
		out.ID, err = t.insertID(`INSERT INTO operations (account_id, station_id, action, actor, request,
			requested_at, status, response, failure, error_code, error_description, finished_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			op.AccountID, op.StationID, op.Action, op.Actor, payload(op.Request), ms(op.RequestedAt),
			string(op.Status), payload(op.Response), string(op.Failure), op.ErrorCode, op.ErrorDescription,
			ms(op.FinishedAt))
		return err
	})
	if err != nil {
		return operation.Operation{}, fmt.Errorf("store: create %s operation: %w", op.Action, err)
	}
	out.RequestedAt = fromMS(ms(out.RequestedAt))
	return out, nil
}

// FinishOperation records an operation's outcome and applies its effects in one transaction.
func (s *Store) FinishOperation(ctx context.Context, op operation.Operation, fx operation.Effects) error {
	err := s.w.do(ctx, func(t *wtx) error {
		err := t.update(station.ErrNotFound, `UPDATE operations SET status = $3, response = $4, failure = $5,
			error_code = $6, error_description = $7, finished_at = $8 WHERE id = $1 AND account_id = $2`,
			op.ID, op.AccountID, string(op.Status), payload(op.Response), string(op.Failure), op.ErrorCode,
			op.ErrorDescription, ms(op.FinishedAt))
		if err != nil {
			return err
		}
		var stationID int64
		if err := t.QueryRowContext(t.ctx, `SELECT station_id FROM operations WHERE id = $1`, op.ID).Scan(&stationID); err != nil {
			return err
		}
		return applyEffects(t, op, stationID, fx)
	})
	if err != nil {
		return fmt.Errorf("store: finish operation %d: %w", op.ID, err)
	}
	return nil
}

func applyEffects(t *wtx, op operation.Operation, stationID int64, fx operation.Effects) error {
	at := ms(op.FinishedAt)
	switch {
	case fx.Configuration != nil:
		return applyConfigReport(t, stationID, *fx.Configuration, at)
	case fx.ConfigChange != nil:
		c := fx.ConfigChange
		_, err := t.exec(`INSERT INTO station_configuration (station_id, config_key, value, readonly,
			is_unknown, reboot_required, updated_at) VALUES ($1, $2, $3, FALSE, FALSE, $4, $5)
			ON CONFLICT (station_id, config_key) DO UPDATE SET value = excluded.value, is_unknown = FALSE,
			reboot_required = excluded.reboot_required, updated_at = excluded.updated_at`,
			stationID, c.Key, c.Value, c.RebootRequired, at)
		return err
	case fx.Reservation != nil:
		r := fx.Reservation
		if r.State == operation.Reserved {
			if _, err := t.exec(`UPDATE reservations SET state = $3, updated_at = $4
				WHERE station_id = $1 AND reservation_id = $2 AND state = $5`,
				stationID, r.ReservationID, string(operation.Replaced), at, string(operation.Reserved)); err != nil {
				return err
			}
		}
		_, err := t.exec(`INSERT INTO reservations (account_id, station_id, reservation_id, connector_id,
			id_tag, parent_id_tag, expires_at, state, transaction_id, operation_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
			op.AccountID, stationID, r.ReservationID, r.ConnectorID, r.IdTag, r.ParentIdTag, ms(r.ExpiresAt),
			string(r.State), nullInt64(r.TransactionID), op.ID, at)
		return err
	case fx.CancelReservation != nil:
		_, err := t.exec(`UPDATE reservations SET state = $3, updated_at = $4
			WHERE station_id = $1 AND reservation_id = $2 AND state = $5`,
			stationID, *fx.CancelReservation, string(operation.Cancelled), at, string(operation.Reserved))
		return err
	case fx.Profile != nil:
		p := *fx.Profile
		p.StationID = stationID
		if err := deleteProfiles(t, stationID, func(old operation.ChargingProfile) bool { return operation.Replaces(p, old) }); err != nil {
			return err
		}
		b, err := json.Marshal(p.Profile)
		if err != nil {
			return err
		}
		_, err = t.exec(`INSERT INTO charging_profiles (station_id, connector_id, charging_profile_id,
			stack_level, purpose, profile, operation_id, set_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			stationID, p.ConnectorID, p.Profile.ChargingProfileID, p.Profile.StackLevel,
			string(p.Profile.ChargingProfilePurpose), string(b), op.ID, at)
		return err
	case fx.ClearProfiles != nil:
		return deleteProfiles(t, stationID, fx.ClearProfiles.Matches)
	case fx.LocalListVersion != nil:
		_, err := t.exec(`INSERT INTO local_lists (station_id, version, entries_version, updated_at)
			VALUES ($1, $2, NULL, $3) ON CONFLICT (station_id) DO UPDATE SET version = excluded.version,
			updated_at = excluded.updated_at`, stationID, *fx.LocalListVersion, at)
		return err
	case fx.LocalList != nil:
		return applyLocalList(t, stationID, *fx.LocalList, at)
	case fx.Firmware != nil:
		f := fx.Firmware
		_, err := t.exec(`INSERT INTO firmware_requests (station_id, operation_id, location, retrieve_date,
			retries, retry_interval, status, is_open, requested_at, status_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			stationID, op.ID, f.Location, ms(f.RetrieveDate), nullInt(f.Retries), nullInt(f.RetryInterval),
			f.Status, f.Open, ms(f.RequestedAt), ms(f.StatusAt))
		return err
	case fx.Diagnostics != nil:
		d := fx.Diagnostics
		_, err := t.exec(`INSERT INTO diagnostics_requests (station_id, operation_id, location, start_time,
			stop_time, file_name, status, is_open, requested_at, status_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			stationID, op.ID, d.Location, ms(d.StartTime), ms(d.StopTime), d.FileName, d.Status, d.Open,
			ms(d.RequestedAt), ms(d.StatusAt))
		return err
	}
	return nil
}

func applyConfigReport(t *wtx, stationID int64, rep operation.ConfigReport, at int64) error {
	if rep.Full {
		if _, err := t.exec(`DELETE FROM station_configuration WHERE station_id = $1`, stationID); err != nil {
			return err
		}
	}
	// A reported key is what the station has now: a reboot it was waiting for is no longer
	// known to be pending.
	const upsert = `INSERT INTO station_configuration (station_id, config_key, value, readonly, is_unknown,
		reboot_required, updated_at) VALUES ($1, $2, $3, $4, $5, FALSE, $6)
		ON CONFLICT (station_id, config_key) DO UPDATE SET value = excluded.value,
		readonly = excluded.readonly, is_unknown = excluded.is_unknown, reboot_required = FALSE,
		updated_at = excluded.updated_at`
	for _, k := range rep.Keys {
		if _, err := t.exec(upsert, stationID, k.Key, k.Value, k.Readonly, false, at); err != nil {
			return err
		}
	}
	for _, k := range rep.Unknown {
		if _, err := t.exec(upsert, stationID, k, "", false, true, at); err != nil {
			return err
		}
	}
	return nil
}

func applyLocalList(t *wtx, stationID int64, u operation.LocalListUpdate, at int64) error {
	if u.Full {
		if _, err := t.exec(`DELETE FROM local_list_entries WHERE station_id = $1`, stationID); err != nil {
			return err
		}
	}
	for _, d := range u.Entries {
		key := strings.ToLower(d.IdTag)
		if d.IdTagInfo == nil {
			if _, err := t.exec(`DELETE FROM local_list_entries WHERE station_id = $1 AND id_tag_key = $2`, stationID, key); err != nil {
				return err
			}
			continue
		}
		e := operation.LocalListEntryOf(d)
		if _, err := t.exec(`INSERT INTO local_list_entries (station_id, id_tag_key, id_tag, status,
			parent_id_tag, expiry_date) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (station_id, id_tag_key) DO UPDATE SET id_tag = excluded.id_tag,
			status = excluded.status, parent_id_tag = excluded.parent_id_tag, expiry_date = excluded.expiry_date`,
			stationID, key, e.IdTag, e.Status, e.ParentIdTag, ms(e.ExpiryDate)); err != nil {
			return err
		}
	}
	_, err := t.exec(`INSERT INTO local_lists (station_id, version, entries_version, updated_at)
		VALUES ($1, $2, $2, $3) ON CONFLICT (station_id) DO UPDATE SET version = excluded.version,
		entries_version = excluded.entries_version, updated_at = excluded.updated_at`, stationID, u.Version, at)
	return err
}

// deleteProfiles removes the station's profiles for which drop is true. The rule is package
// operation's; the rows are read first because a connection cannot run a statement while
// it is still reading rows.
func deleteProfiles(t *wtx, stationID int64, drop func(operation.ChargingProfile) bool) error {
	profiles, err := chargingProfiles(t.ctx, t, `WHERE p.station_id = $1`, stationID)
	if err != nil {
		return err
	}
	for _, p := range profiles {
		if !drop(p) {
			continue
		}
		if _, err := t.exec(`DELETE FROM charging_profiles WHERE id = $1`, p.ID); err != nil {
			return err
		}
	}
	return nil
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func ptrInt(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

// Operation returns one operation of the account.
func (s *Store) Operation(ctx context.Context, accountID, id int64) (operation.Operation, error) {
	op, err := scanOperation(s.read.QueryRowContext(ctx, selectOperation+` WHERE o.id = $1 AND o.account_id = $2`, id, accountID))
	if err != nil {
		return operation.Operation{}, fmt.Errorf("store: operation %d: %w", id, notFound(err, station.ErrNotFound))
	}
	return op, nil
}

// Operations returns the account's operations, the newest first.
func (s *Store) Operations(ctx context.Context, accountID int64, f operation.OperationFilter) ([]operation.Operation, error) {
	q := newQuery(selectOperation+` WHERE o.account_id = $1`, accountID)
	if f.ChargePointID != "" {
		q.where("s.charge_point_id", f.ChargePointID)
	}
	if f.Action != "" {
		q.where("o.action", f.Action)
	}
	q.orderLimit("o.id DESC", f.Limit)
	rows, err := s.read.QueryContext(ctx, q.sql.String(), q.args...)
	if err != nil {
		return nil, fmt.Errorf("store: operations: %w", err)
	}
	defer rows.Close()
	var out []operation.Operation
	for rows.Next() {
		op, err := scanOperation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: operations: %w", err)
		}
		out = append(out, op)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: operations: %w", err)
	}
	return out, nil
}

// query builds a SELECT with numbered parameters.
type query struct {
	sql  strings.Builder
	args []any
}

func newQuery(base string, args ...any) *query {
	q := &query{args: args}
	q.sql.WriteString(base)
	return q
}

func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *query) where(column string, v any) {
	q.sql.WriteString(" AND " + column + " = " + q.arg(v))
}

func (q *query) orderLimit(order string, limit int) {
	q.sql.WriteString(" ORDER BY " + order)
	if limit > 0 {
		q.sql.WriteString(" LIMIT " + q.arg(limit))
	}
}

// Configuration returns the station's last known configuration by key.
func (s *Store) Configuration(ctx context.Context, accountID, stationID int64) ([]operation.ConfigKey, error) {
	out, err := s.configuration(ctx, accountID, stationID)
	if err != nil {
		return nil, fmt.Errorf("store: configuration of station %d: %w", stationID, err)
	}
	return out, nil
}

func (s *Store) configuration(ctx context.Context, accountID, stationID int64) ([]operation.ConfigKey, error) {
	if err := s.checkAccountStation(ctx, accountID, stationID); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT config_key, value, readonly, is_unknown, reboot_required,
		updated_at FROM station_configuration WHERE station_id = $1 ORDER BY config_key`, stationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []operation.ConfigKey
	for rows.Next() {
		var (
			k       operation.ConfigKey
			updated int64
		)
		if err := rows.Scan(&k.Key, &k.Value, &k.Readonly, &k.Unknown, &k.RebootRequired, &updated); err != nil {
			return nil, err
		}
		k.UpdatedAt = fromMS(updated)
		out = append(out, k)
	}
	return out, rows.Err()
}

const selectReservation = `SELECT r.id, r.account_id, r.station_id, s.charge_point_id, r.reservation_id,
	r.connector_id, r.id_tag, r.parent_id_tag, r.expires_at, r.state, r.transaction_id, r.operation_id,
	r.created_at, r.updated_at FROM reservations r JOIN stations s ON s.id = r.station_id`

func scanReservation(row scanner) (operation.Reservation, error) {
	var (
		r                         operation.Reservation
		state                     string
		tx                        sql.NullInt64
		expires, created, updated int64
	)
	err := row.Scan(&r.ID, &r.AccountID, &r.StationID, &r.ChargePointID, &r.ReservationID, &r.ConnectorID,
		&r.IdTag, &r.ParentIdTag, &expires, &state, &tx, &r.OperationID, &created, &updated)
	r.State = operation.ReservationState(state)
	r.TransactionID = ptrInt64(tx)
	r.ExpiresAt = fromMS(expires)
	r.CreatedAt = fromMS(created)
	r.UpdatedAt = fromMS(updated)
	return r, err
}

// Reservations returns the account's reservations, the newest first. A Reserved one whose
// expiry is at or before f.At counts as Expired for the filter; its stored state is returned.
func (s *Store) Reservations(ctx context.Context, accountID int64, f operation.ReservationFilter) ([]operation.Reservation, error) {
	q := newQuery(selectReservation+` WHERE r.account_id = $1`, accountID)
	if f.ChargePointID != "" {
		q.where("s.charge_point_id", f.ChargePointID)
	}
	switch f.State {
	case "":
	case operation.Reserved:
		q.where("r.state", string(operation.Reserved))
		q.sql.WriteString(" AND r.expires_at > " + q.arg(ms(f.At)))
	case operation.Expired:
		q.where("r.state", string(operation.Reserved))
		q.sql.WriteString(" AND r.expires_at <= " + q.arg(ms(f.At)))
	default:
		q.where("r.state", string(f.State))
	}
	q.orderLimit("r.id DESC", f.Limit)
	rows, err := s.read.QueryContext(ctx, q.sql.String(), q.args...)
	if err != nil {
		return nil, fmt.Errorf("store: reservations: %w", err)
	}
	defer rows.Close()
	var out []operation.Reservation
	for rows.Next() {
		r, err := scanReservation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: reservations: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reservations: %w", err)
	}
	return out, nil
}

// ActiveReservation returns the station's newest Reserved reservation with that reservationId.
func (s *Store) ActiveReservation(ctx context.Context, accountID, stationID int64, reservationID int) (operation.Reservation, error) {
	r, err := scanReservation(s.read.QueryRowContext(ctx, selectReservation+` WHERE r.account_id = $1
		AND r.station_id = $2 AND r.reservation_id = $3 AND r.state = $4 ORDER BY r.id DESC LIMIT 1`,
		accountID, stationID, reservationID, string(operation.Reserved)))
	if err != nil {
		return operation.Reservation{}, fmt.Errorf("store: reservation %d of station %d: %w", reservationID, stationID, notFound(err, station.ErrNotFound))
	}
	return r, nil
}

// UseReservation makes a Reserved reservation Used by a transaction.
func (s *Store) UseReservation(ctx context.Context, accountID, id, transactionID int64, at time.Time) error {
	err := s.w.do(ctx, func(t *wtx) error {
		return t.update(station.ErrNotFound, `UPDATE reservations SET state = $3, transaction_id = $4, updated_at = $5
			WHERE id = $1 AND account_id = $2 AND state = $6`,
			id, accountID, string(operation.Used), transactionID, ms(at), string(operation.Reserved))
	})
	if err != nil {
		return fmt.Errorf("store: use reservation %d: %w", id, err)
	}
	return nil
}

func chargingProfiles(ctx context.Context, q querier, where string, args ...any) ([]operation.ChargingProfile, error) {
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.station_id, s.charge_point_id, p.connector_id, p.profile,
		p.operation_id, p.set_at FROM charging_profiles p JOIN stations s ON s.id = p.station_id `+where+`
		ORDER BY p.connector_id, p.purpose, p.stack_level, p.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []operation.ChargingProfile
	for rows.Next() {
		var (
			p       operation.ChargingProfile
			profile string
			setAt   int64
		)
		if err := rows.Scan(&p.ID, &p.StationID, &p.ChargePointID, &p.ConnectorID, &profile, &p.OperationID, &setAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(profile), &p.Profile); err != nil {
			return nil, fmt.Errorf("charging profile %d: %w", p.ID, err)
		}
		p.SetAt = fromMS(setAt)
		out = append(out, p)
	}
	return out, rows.Err()
}

// MoveRemoteStartProfile moves the TxProfile of the station's latest accepted remote start
// for idTag from connector 0 to connectorID, if it is still there.
func (s *Store) MoveRemoteStartProfile(ctx context.Context, accountID, stationID int64, idTag string, connectorID int) (bool, error) {
	var moved bool
	err := s.w.do(ctx, func(t *wtx) error {
		moved = false
		if err := accountStation(t, accountID, stationID); err != nil {
			return err
		}
		// The profiles waiting for a start are few, the remote starts of a station many: the
		// latest remote start for idTag is only looked for among those since the oldest.
		waiting, err := chargingProfiles(t.ctx, t, `JOIN operations o ON o.id = p.operation_id
			WHERE p.station_id = $1 AND p.connector_id = 0 AND o.action = $2`, stationID, "RemoteStartTransaction")
		if err != nil {
			return err
		}
		byOperation := map[int64]operation.ChargingProfile{}
		var oldest int64
		for _, p := range waiting {
			if !operation.AwaitsStart(p) {
				continue
			}
			byOperation[p.OperationID] = p
			if oldest == 0 || p.OperationID < oldest {
				oldest = p.OperationID
			}
		}
		if len(byOperation) == 0 {
			return nil
		}
		latest, err := latestRemoteStart(t, accountID, stationID, idTag, oldest)
		if err != nil {
			return err
		}
		p, ok := byOperation[latest]
		if !ok {
			return nil
		}
		// On its connector, it replaces what a profile set there would.
		p.ConnectorID = connectorID
		if err := deleteProfiles(t, stationID, func(old operation.ChargingProfile) bool {
			return old.ID != p.ID && operation.Replaces(p, old)
		}); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE charging_profiles SET connector_id = $2 WHERE id = $1`, p.ID, connectorID); err != nil {
			return err
		}
		moved = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: move remote start profile of station %d: %w", stationID, err)
	}
	return moved, nil
}

// latestRemoteStart returns the ID of the station's latest RemoteStartTransaction accepted for
// idTag, among those from operation since on; 0 if none.
func latestRemoteStart(t *wtx, accountID, stationID int64, idTag string, since int64) (int64, error) {
	rows, err := t.QueryContext(t.ctx, selectOperation+` WHERE o.account_id = $1 AND o.station_id = $2
		AND o.action = $3 AND o.status = $4 AND o.id >= $5 ORDER BY o.id DESC`,
		accountID, stationID, "RemoteStartTransaction", string(operation.Answered), since)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		op, err := scanOperation(rows)
		if err != nil {
			return 0, err
		}
		if operation.AcceptedRemoteStart(op, idTag) {
			return op.ID, nil
		}
	}
	return 0, rows.Err()
}

// ChargingProfiles returns the station's profiles by connector, purpose and stack level.
func (s *Store) ChargingProfiles(ctx context.Context, accountID, stationID int64) ([]operation.ChargingProfile, error) {
	if err := s.checkAccountStation(ctx, accountID, stationID); err != nil {
		return nil, fmt.Errorf("store: charging profiles of station %d: %w", stationID, err)
	}
	out, err := chargingProfiles(ctx, s.read, `WHERE p.station_id = $1`, stationID)
	if err != nil {
		return nil, fmt.Errorf("store: charging profiles of station %d: %w", stationID, err)
	}
	return out, nil
}

// LocalList returns what is known of the station's local list.
func (s *Store) LocalList(ctx context.Context, accountID, stationID int64) (operation.LocalList, error) {
	l, err := s.localList(ctx, accountID, stationID)
	if err != nil {
		return operation.LocalList{}, fmt.Errorf("store: local list of station %d: %w", stationID, err)
	}
	return l, nil
}

func (s *Store) localList(ctx context.Context, accountID, stationID int64) (operation.LocalList, error) {
	l := operation.LocalList{StationID: stationID}
	var version, entries, updated sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT s.charge_point_id, l.version, l.entries_version, l.updated_at
		FROM stations s LEFT JOIN local_lists l ON l.station_id = s.id WHERE s.id = $1 AND s.account_id = $2`,
		stationID, accountID).Scan(&l.ChargePointID, &version, &entries, &updated)
	if err != nil {
		return l, notFound(err, station.ErrNotFound)
	}
	l.Version, l.EntriesVersion, l.UpdatedAt = ptrInt(version), ptrInt(entries), fromMS(updated.Int64)
	rows, err := s.read.QueryContext(ctx, `SELECT id_tag, status, parent_id_tag, expiry_date
		FROM local_list_entries WHERE station_id = $1 ORDER BY id_tag_key`, stationID)
	if err != nil {
		return l, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			e      operation.LocalListEntry
			expiry int64
		)
		if err := rows.Scan(&e.IdTag, &e.Status, &e.ParentIdTag, &expiry); err != nil {
			return l, err
		}
		e.ExpiryDate = fromMS(expiry)
		l.Entries = append(l.Entries, e)
	}
	return l, rows.Err()
}

// FirmwareRequests returns the station's firmware requests, the newest first.
func (s *Store) FirmwareRequests(ctx context.Context, accountID, stationID int64) ([]operation.FirmwareRequest, error) {
	out, err := s.firmwareRequests(ctx, accountID, stationID)
	if err != nil {
		return nil, fmt.Errorf("store: firmware requests of station %d: %w", stationID, err)
	}
	return out, nil
}

func (s *Store) firmwareRequests(ctx context.Context, accountID, stationID int64) ([]operation.FirmwareRequest, error) {
	if err := s.checkAccountStation(ctx, accountID, stationID); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT f.id, f.station_id, s.charge_point_id, f.operation_id,
		f.location, f.retrieve_date, f.retries, f.retry_interval, f.status, f.is_open, f.requested_at, f.status_at
		FROM firmware_requests f JOIN stations s ON s.id = f.station_id
		WHERE f.station_id = $1 ORDER BY f.id DESC`, stationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []operation.FirmwareRequest
	for rows.Next() {
		var (
			f                           operation.FirmwareRequest
			retries, interval           sql.NullInt64
			retrieve, requested, status int64
		)
		if err := rows.Scan(&f.ID, &f.StationID, &f.ChargePointID, &f.OperationID, &f.Location, &retrieve,
			&retries, &interval, &f.Status, &f.Open, &requested, &status); err != nil {
			return nil, err
		}
		f.RetrieveDate, f.RequestedAt, f.StatusAt = fromMS(retrieve), fromMS(requested), fromMS(status)
		f.Retries, f.RetryInterval = ptrInt(retries), ptrInt(interval)
		out = append(out, f)
	}
	return out, rows.Err()
}

// DiagnosticsRequests returns the station's diagnostics requests, the newest first.
func (s *Store) DiagnosticsRequests(ctx context.Context, accountID, stationID int64) ([]operation.DiagnosticsRequest, error) {
	out, err := s.diagnosticsRequests(ctx, accountID, stationID)
	if err != nil {
		return nil, fmt.Errorf("store: diagnostics requests of station %d: %w", stationID, err)
	}
	return out, nil
}

func (s *Store) diagnosticsRequests(ctx context.Context, accountID, stationID int64) ([]operation.DiagnosticsRequest, error) {
	if err := s.checkAccountStation(ctx, accountID, stationID); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT d.id, d.station_id, s.charge_point_id, d.operation_id,
		d.location, d.start_time, d.stop_time, d.file_name, d.status, d.is_open, d.requested_at, d.status_at
		FROM diagnostics_requests d JOIN stations s ON s.id = d.station_id
		WHERE d.station_id = $1 ORDER BY d.id DESC`, stationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []operation.DiagnosticsRequest
	for rows.Next() {
		var (
			d                                  operation.DiagnosticsRequest
			start, stop, requested, statusTime int64
		)
		if err := rows.Scan(&d.ID, &d.StationID, &d.ChargePointID, &d.OperationID, &d.Location, &start, &stop,
			&d.FileName, &d.Status, &d.Open, &requested, &statusTime); err != nil {
			return nil, err
		}
		d.StartTime, d.StopTime = fromMS(start), fromMS(stop)
		d.RequestedAt, d.StatusAt = fromMS(requested), fromMS(statusTime)
		out = append(out, d)
	}
	return out, rows.Err()
}

// FollowFirmware sets the status of the station's newest open firmware request.
func (s *Store) FollowFirmware(ctx context.Context, accountID, stationID int64, status string, open bool, at time.Time) (bool, error) {
	found, err := s.follow(ctx, "firmware_requests", accountID, stationID, status, open, at)
	if err != nil {
		return false, fmt.Errorf("store: firmware status of station %d: %w", stationID, err)
	}
	return found, nil
}

// FollowDiagnostics sets the status of the station's newest open diagnostics request.
func (s *Store) FollowDiagnostics(ctx context.Context, accountID, stationID int64, status string, open bool, at time.Time) (bool, error) {
	found, err := s.follow(ctx, "diagnostics_requests", accountID, stationID, status, open, at)
	if err != nil {
		return false, fmt.Errorf("store: diagnostics status of station %d: %w", stationID, err)
	}
	return found, nil
}

// follow updates the newest open row of table (one of two constant names) of the station.
func (s *Store) follow(ctx context.Context, table string, accountID, stationID int64, status string, open bool, at time.Time) (bool, error) {
	var found bool
	err := s.w.do(ctx, func(t *wtx) error {
		found = false
		if err := accountStation(t, accountID, stationID); err != nil {
			return err
		}
		var id int64
		err := t.QueryRowContext(t.ctx, `SELECT id FROM `+table+` WHERE station_id = $1 AND is_open
			ORDER BY id DESC LIMIT 1`, stationID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		_, err = t.exec(`UPDATE `+table+` SET status = $2, is_open = $3, status_at = $4 WHERE id = $1`,
			id, status, open, ms(at))
		return err
	})
	return found, err
}
