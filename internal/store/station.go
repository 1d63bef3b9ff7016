package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/station"
)

const stationColumns = `id, account_id, charge_point_id, registration, validation,
	vendor, model, charge_point_serial, charge_box_serial, firmware_version, iccid, imsi,
	meter_type, meter_serial, last_boot_at, last_seen_at, connected, connection_changed_at, created_at`

func scanStation(row scanner) (station.Station, error) {
	var (
		st                                   station.Station
		registration, validation             string
		bootAt, seenAt, changedAt, createdAt int64
	)
	b := &st.Boot
	err := row.Scan(&st.ID, &st.AccountID, &st.ChargePointID, &registration, &validation,
		&b.Vendor, &b.Model, &b.ChargePointSerial, &b.ChargeBoxSerial, &b.FirmwareVersion, &b.ICCID, &b.IMSI,
		&b.MeterType, &b.MeterSerial, &bootAt, &seenAt, &st.Connected, &changedAt, &createdAt)
	st.Registration = station.Registration(registration)
	st.Validation = account.Validation(validation)
	st.LastBootAt = fromMS(bootAt)
	st.LastSeenAt = fromMS(seenAt)
	st.ConnectionChangedAt = fromMS(changedAt)
	st.CreatedAt = fromMS(createdAt)
	return st, err
}

func stationByChargePointID(ctx context.Context, q querier, accountID int64, chargePointID string) (station.Station, error) {
	st, err := scanStation(q.QueryRowContext(ctx, `SELECT `+stationColumns+` FROM stations
		WHERE account_id = $1 AND charge_point_id = $2`, accountID, chargePointID))
	return st, notFound(err, station.ErrNotFound)
}

// RegisterStation returns the station, creating it if the account has none with that charge
// point id. An account that does not exist gives station.ErrNotFound.
func (s *Store) RegisterStation(ctx context.Context, accountID int64, chargePointID string, reg station.Registration, validation account.Validation, at time.Time) (station.Station, bool, error) {
	var (
		st      station.Station
		created bool
	)
	err := s.w.do(ctx, func(t *wtx) error {
		var err error
		created = false
		st, err = stationByChargePointID(t.ctx, t, accountID, chargePointID)
		if !errors.Is(err, station.ErrNotFound) {
			return err
		}
		ok, err := exists(t.ctx, t, `SELECT 1 FROM accounts WHERE id = $1`, accountID)
		if err != nil {
			return err
		}
		if !ok {
			return reject(station.ErrNotFound)
		}
		id, err := t.insertID(`INSERT INTO stations (account_id, charge_point_id, registration, validation, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			accountID, chargePointID, string(reg), string(validation), ms(at))
		if err != nil {
			return err
		}
		st = station.Station{
			ID:            id,
			AccountID:     accountID,
			ChargePointID: chargePointID,
			Registration:  reg,
			Validation:    validation,
			CreatedAt:     fromMS(ms(at)),
		}
		created = true
		return nil
	})
	if err != nil {
		return station.Station{}, false, fmt.Errorf("store: register station %q: %w", chargePointID, err)
	}
	return st, created, nil
}

func (s *Store) StationByChargePointID(ctx context.Context, accountID int64, chargePointID string) (station.Station, error) {
	st, err := stationByChargePointID(ctx, s.read, accountID, chargePointID)
	if err != nil {
		return station.Station{}, fmt.Errorf("store: station %q: %w", chargePointID, err)
	}
	return st, nil
}

// Stations returns the account's stations by charge point id.
func (s *Store) Stations(ctx context.Context, accountID int64) ([]station.Station, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+stationColumns+` FROM stations
		WHERE account_id = $1 ORDER BY charge_point_id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: stations: %w", err)
	}
	defer rows.Close()
	var out []station.Station
	for rows.Next() {
		st, err := scanStation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: stations: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: stations: %w", err)
	}
	return out, nil
}

func (s *Store) SetRegistration(ctx context.Context, accountID, stationID int64, reg station.Registration) error {
	err := s.w.do(ctx, func(t *wtx) error {
		return t.update(station.ErrNotFound, `UPDATE stations SET registration = $3 WHERE id = $1 AND account_id = $2`,
			stationID, accountID, string(reg))
	})
	if err != nil {
		return fmt.Errorf("store: set registration of station %d: %w", stationID, err)
	}
	return nil
}

func (s *Store) SetValidation(ctx context.Context, accountID, stationID int64, v account.Validation) error {
	err := s.w.do(ctx, func(t *wtx) error {
		return t.update(station.ErrNotFound, `UPDATE stations SET validation = $3 WHERE id = $1 AND account_id = $2`,
			stationID, accountID, string(v))
	})
	if err != nil {
		return fmt.Errorf("store: set validation of station %d: %w", stationID, err)
	}
	return nil
}

// RecordBoot stores the boot information, sets the boot time to when the BootNotification
// was received, and logs it as an event of kind src.Action.
func (s *Store) RecordBoot(ctx context.Context, stationID int64, boot station.BootInfo, src station.Source) error {
	at := s.receivedAt(src)
	err := s.w.do(ctx, func(t *wtx) error {
		err := t.update(station.ErrNotFound, `UPDATE stations SET vendor = $2, model = $3, charge_point_serial = $4,
			charge_box_serial = $5, firmware_version = $6, iccid = $7, imsi = $8, meter_type = $9,
			meter_serial = $10, last_boot_at = $11 WHERE id = $1`,
			stationID, boot.Vendor, boot.Model, boot.ChargePointSerial, boot.ChargeBoxSerial,
			boot.FirmwareVersion, boot.ICCID, boot.IMSI, boot.MeterType, boot.MeterSerial, ms(at))
		if err != nil {
			return err
		}
		kind := src.Action
		if kind == "" {
			kind = "BootNotification"
		}
		return insertEvent(t, station.Event{StationID: stationID, Kind: kind, Source: src}, at)
	})
	if err != nil {
		return fmt.Errorf("store: record boot of station %d: %w", stationID, err)
	}
	return nil
}

// RecordConnection marks the station connected or not. ConnectionChangedAt moves only when
// the state changes, so a reconnect that replaces a live connection keeps the earlier time;
// the event is logged either way.
func (s *Store) RecordConnection(ctx context.Context, stationID int64, connected bool, at time.Time, note string) error {
	if at.IsZero() {
		at = s.now()
	}
	err := s.w.do(ctx, func(t *wtx) error {
		err := t.update(station.ErrNotFound, `UPDATE stations SET
			connection_changed_at = CASE WHEN connected = $2 THEN connection_changed_at ELSE $3 END,
			connected = $2
			WHERE id = $1`, stationID, connected, ms(at))
		if err != nil {
			return err
		}
		kind := "Disconnected"
		if connected {
			kind = "Connected"
		}
		return insertEvent(t, station.Event{StationID: stationID, Kind: kind, Note: note,
			Source: station.Source{ReceivedAt: at}}, at)
	})
	if err != nil {
		return fmt.Errorf("store: record connection of station %d: %w", stationID, err)
	}
	return nil
}

// TouchStation moves the last-seen time forward; an earlier time, from a write that lost a
// race in the queue, leaves it.
func (s *Store) TouchStation(ctx context.Context, stationID int64, at time.Time) error {
	err := s.w.do(ctx, func(t *wtx) error {
		return t.update(station.ErrNotFound, `UPDATE stations SET
			last_seen_at = CASE WHEN last_seen_at < $2 THEN $2 ELSE last_seen_at END
			WHERE id = $1`, stationID, ms(at))
	})
	if err != nil {
		return fmt.Errorf("store: touch station %d: %w", stationID, err)
	}
	return nil
}

// RecordStatus stores a StatusNotification. The last one received is the connector's
// current status, whatever its timestamp.
func (s *Store) RecordStatus(ctx context.Context, cs station.ConnectorStatus, src station.Source) error {
	if cs.ReceivedAt.IsZero() {
		cs.ReceivedAt = s.receivedAt(src)
	}
	err := s.w.do(ctx, func(t *wtx) error {
		if err := mustHaveStation(t, cs.StationID); err != nil {
			return err
		}
		if _, err := t.exec(`INSERT INTO connectors (station_id, connector_id, status, error_code, info,
			vendor_id, vendor_error_code, status_at, received_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (station_id, connector_id) DO UPDATE SET status = excluded.status,
			error_code = excluded.error_code, info = excluded.info, vendor_id = excluded.vendor_id,
			vendor_error_code = excluded.vendor_error_code, status_at = excluded.status_at,
			received_at = excluded.received_at`,
			cs.StationID, cs.ConnectorID, cs.Status, cs.ErrorCode, cs.Info, cs.VendorID,
			cs.VendorErrorCode, ms(cs.Timestamp), ms(cs.ReceivedAt)); err != nil {
			return err
		}
		_, err := t.exec(`INSERT INTO status_notifications (station_id, connector_id, status, error_code,
			info, vendor_id, vendor_error_code, status_at, received_at, action, message_id, payload)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			cs.StationID, cs.ConnectorID, cs.Status, cs.ErrorCode, cs.Info, cs.VendorID,
			cs.VendorErrorCode, ms(cs.Timestamp), ms(cs.ReceivedAt),
			src.Action, src.MessageID, payload(src.Payload))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record status of station %d: %w", cs.StationID, err)
	}
	return nil
}

const statusColumns = `station_id, connector_id, status, error_code, info, vendor_id,
	vendor_error_code, status_at, received_at`

func scanStatus(row scanner) (station.ConnectorStatus, error) {
	var (
		cs                 station.ConnectorStatus
		statusAt, received int64
	)
	err := row.Scan(&cs.StationID, &cs.ConnectorID, &cs.Status, &cs.ErrorCode, &cs.Info,
		&cs.VendorID, &cs.VendorErrorCode, &statusAt, &received)
	cs.Timestamp = fromMS(statusAt)
	cs.ReceivedAt = fromMS(received)
	return cs, err
}

// mustHaveStation rejects a write for a station that does not exist with station.ErrNotFound
// rather than letting a foreign key fail it (and, in PostgreSQL, its whole batch).
func mustHaveStation(t *wtx, stationID int64) error {
	ok, err := exists(t.ctx, t, `SELECT 1 FROM stations WHERE id = $1`, stationID)
	if err != nil {
		return err
	}
	if !ok {
		return reject(station.ErrNotFound)
	}
	return nil
}

// checkStation tells an unknown station from one with no records yet.
func (s *Store) checkStation(ctx context.Context, stationID int64) error {
	ok, err := exists(ctx, s.read, `SELECT 1 FROM stations WHERE id = $1`, stationID)
	if err != nil {
		return err
	}
	if !ok {
		return station.ErrNotFound
	}
	return nil
}

// Connectors returns the current status of each connector of the station, by connector id.
func (s *Store) Connectors(ctx context.Context, stationID int64) ([]station.ConnectorStatus, error) {
	out, err := s.statuses(ctx, stationID, `SELECT `+statusColumns+` FROM connectors
		WHERE station_id = $1 ORDER BY connector_id`, stationID)
	if err != nil {
		return nil, fmt.Errorf("store: connectors of station %d: %w", stationID, err)
	}
	return out, nil
}

// StatusHistory returns the station's status notifications, the last received first; limit
// 0 returns all.
func (s *Store) StatusHistory(ctx context.Context, stationID int64, limit int) ([]station.ConnectorStatus, error) {
	query, args := `SELECT `+statusColumns+` FROM status_notifications
		WHERE station_id = $1 ORDER BY received_at DESC, id DESC`, []any{stationID}
	if limit > 0 {
		query += ` LIMIT $2`
		args = append(args, limit)
	}
	out, err := s.statuses(ctx, stationID, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: status history of station %d: %w", stationID, err)
	}
	return out, nil
}

func (s *Store) statuses(ctx context.Context, stationID int64, query string, args ...any) ([]station.ConnectorStatus, error) {
	if err := s.checkStation(ctx, stationID); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []station.ConnectorStatus
	for rows.Next() {
		cs, err := scanStatus(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, cs)
	}
	return out, rows.Err()
}

func insertEvent(t *wtx, e station.Event, at time.Time) error {
	_, err := t.exec(`INSERT INTO station_events (station_id, kind, note, action, message_id, payload, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.StationID, e.Kind, e.Note, e.Source.Action, e.Source.MessageID, payload(e.Source.Payload), ms(at))
	return err
}

func (s *Store) RecordEvent(ctx context.Context, e station.Event) error {
	at := s.receivedAt(e.Source)
	err := s.w.do(ctx, func(t *wtx) error {
		if err := mustHaveStation(t, e.StationID); err != nil {
			return err
		}
		return insertEvent(t, e, at)
	})
	if err != nil {
		return fmt.Errorf("store: record event of station %d: %w", e.StationID, err)
	}
	return nil
}

// Events returns the station's events, the last received first; limit 0 returns all.
func (s *Store) Events(ctx context.Context, stationID int64, limit int) ([]station.Event, error) {
	out, err := s.events(ctx, stationID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events of station %d: %w", stationID, err)
	}
	return out, nil
}

func (s *Store) events(ctx context.Context, stationID int64, limit int) ([]station.Event, error) {
	if err := s.checkStation(ctx, stationID); err != nil {
		return nil, err
	}
	query, args := `SELECT id, station_id, kind, note, action, message_id, payload, received_at
		FROM station_events WHERE station_id = $1 ORDER BY received_at DESC, id DESC`, []any{stationID}
	if limit > 0 {
		query += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []station.Event
	for rows.Next() {
		var (
			e        station.Event
			p        string
			received int64
		)
		if err := rows.Scan(&e.ID, &e.StationID, &e.Kind, &e.Note, &e.Source.Action,
			&e.Source.MessageID, &p, &received); err != nil {
			return nil, err
		}
		e.Source.Payload = fromPayload(p)
		e.Source.ReceivedAt = fromMS(received)
		out = append(out, e)
	}
	return out, rows.Err()
}
