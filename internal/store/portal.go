package store

import (
	"context"
	"fmt"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/station"
)

var _ account.OperatorStore = (*Store)(nil)

func (s *Store) OperatorByID(ctx context.Context, id int64) (account.Operator, error) {
	o, err := scanOperator(s.read.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE id = $1`, id))
	if err != nil {
		return account.Operator{}, fmt.Errorf("store: operator %d: %w", id, notFound(err, account.ErrNotFound))
	}
	return o, nil
}

// Operators returns the account's operators, oldest first.
func (s *Store) Operators(ctx context.Context, accountID int64) ([]account.Operator, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: operators: %w", err)
	}
	defer rows.Close()
	var out []account.Operator
	for rows.Next() {
		o, err := scanOperator(rows)
		if err != nil {
			return nil, fmt.Errorf("store: operators: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: operators: %w", err)
	}
	return out, nil
}

// AddOperator stores a new operator of an existing account.
func (s *Store) AddOperator(ctx context.Context, op account.Operator) (account.Operator, error) {
	if op.CreatedAt.IsZero() {
		op.CreatedAt = s.now()
	}
	out := op
	err := s.w.do(ctx, func(t *wtx) error {
		ok, err := exists(t.ctx, t, `SELECT 1 FROM accounts WHERE id = $1`, op.AccountID)
		if err != nil {
			return err
		}
		if !ok {
			return reject(account.ErrNotFound)
		}
		if taken, err := exists(t.ctx, t, `SELECT 1 FROM operators WHERE email = $1`, op.Email); err != nil {
			return err
		} else if taken {
			return reject(account.ErrDuplicate)
		}
		out.ID, err = t.insertID(`INSERT INTO operators (account_id, email, password_hash, role, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			op.AccountID, op.Email, op.PasswordHash, string(op.Role), ms(op.CreatedAt))
		return err
	})
	if err != nil {
		return account.Operator{}, fmt.Errorf("store: add operator: %w", err)
	}
	out.CreatedAt = fromMS(ms(out.CreatedAt))
	return out, nil
}

// otherOwners reports whether the account has an owner besides operator id.
func otherOwners(t *wtx, accountID, id int64) (bool, error) {
	return exists(t.ctx, t, `SELECT 1 FROM operators WHERE account_id = $1 AND id <> $2 AND role = $3`,
		accountID, id, string(account.RoleOwner))
}

// SetOperatorRole changes an operator's role, keeping at least one owner.
func (s *Store) SetOperatorRole(ctx context.Context, accountID, id int64, role account.Role) error {
	err := s.w.do(ctx, func(t *wtx) error {
		if role != account.RoleOwner {
			ok, err := otherOwners(t, accountID, id)
			if err != nil {
				return err
			}
			if !ok {
				if mine, err := exists(t.ctx, t, `SELECT 1 FROM operators WHERE id = $1 AND account_id = $2`, id, accountID); err != nil {
					return err
				} else if mine {
					return reject(account.ErrLastOwner)
				}
			}
		}
		return t.update(account.ErrNotFound, `UPDATE operators SET role = $3 WHERE id = $1 AND account_id = $2`,
			id, accountID, string(role))
	})
	if err != nil {
		return fmt.Errorf("store: set role of operator %d: %w", id, err)
	}
	return nil
}

func (s *Store) SetOperatorPassword(ctx context.Context, accountID, id int64, hash string) error {
	err := s.w.do(ctx, func(t *wtx) error {
		return t.update(account.ErrNotFound, `UPDATE operators SET password_hash = $3 WHERE id = $1 AND account_id = $2`,
			id, accountID, hash)
	})
	if err != nil {
		return fmt.Errorf("store: set password of operator %d: %w", id, err)
	}
	return nil
}

// DeleteOperator removes an operator and their sessions, keeping at least one owner.
func (s *Store) DeleteOperator(ctx context.Context, accountID, id int64) error {
	err := s.w.do(ctx, func(t *wtx) error {
		mine, err := exists(t.ctx, t, `SELECT 1 FROM operators WHERE id = $1 AND account_id = $2`, id, accountID)
		if err != nil {
			return err
		}
		if !mine {
			return reject(account.ErrNotFound)
		}
		if ok, err := otherOwners(t, accountID, id); err != nil {
			return err
		} else if !ok {
			return reject(account.ErrLastOwner)
		}
		if _, err := t.exec(`DELETE FROM portal_sessions WHERE operator_id = $1`, id); err != nil {
			return err
		}
		_, err = t.exec(`DELETE FROM operators WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete operator %d: %w", id, err)
	}
	return nil
}

// CreateSession stores a portal session.
func (s *Store) CreateSession(ctx context.Context, sess account.Session) (account.Session, error) {
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = s.now()
	}
	out := sess
	err := s.w.do(ctx, func(t *wtx) error {
		ok, err := exists(t.ctx, t, `SELECT 1 FROM operators WHERE id = $1 AND account_id = $2`, sess.OperatorID, sess.AccountID)
		if err != nil {
			return err
		}
		if !ok {
			return reject(account.ErrNotFound)
		}
		out.ID, err = t.insertID(`INSERT INTO portal_sessions (operator_id, account_id, session_hash, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			sess.OperatorID, sess.AccountID, sess.Hash, ms(sess.CreatedAt), ms(sess.ExpiresAt))
		return err
	})
	if err != nil {
		return account.Session{}, fmt.Errorf("store: create session: %w", err)
	}
	out.CreatedAt = fromMS(ms(out.CreatedAt))
	out.ExpiresAt = fromMS(ms(out.ExpiresAt))
	return out, nil
}

// SessionByHash returns a session that has not expired at now.
func (s *Store) SessionByHash(ctx context.Context, hash string, now time.Time) (account.Session, error) {
	var (
		sess             account.Session
		created, expires int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT id, operator_id, account_id, session_hash, created_at, expires_at
		FROM portal_sessions WHERE session_hash = $1 AND expires_at > $2`, hash, ms(now)).
		Scan(&sess.ID, &sess.OperatorID, &sess.AccountID, &sess.Hash, &created, &expires)
	if err != nil {
		return account.Session{}, fmt.Errorf("store: session: %w", notFound(err, account.ErrNotFound))
	}
	sess.CreatedAt, sess.ExpiresAt = fromMS(created), fromMS(expires)
	return sess, nil
}

func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	err := s.w.do(ctx, func(t *wtx) error {
		_, err := t.exec(`DELETE FROM portal_sessions WHERE session_hash = $1`, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteOperatorSessions ends an operator's other sessions, and every expired one.
func (s *Store) DeleteOperatorSessions(ctx context.Context, operatorID int64, keepHash string, now time.Time) error {
	err := s.w.do(ctx, func(t *wtx) error {
		if _, err := t.exec(`DELETE FROM portal_sessions WHERE operator_id = $1 AND session_hash <> $2`, operatorID, keepHash); err != nil {
			return err
		}
		_, err := t.exec(`DELETE FROM portal_sessions WHERE expires_at <= $1`, ms(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete sessions of operator %d: %w", operatorID, err)
	}
	return nil
}

// SetStationPassword sets the SHA-256 of the password the account's station must present
// (OCPP Basic authentication); an empty hash removes it.
func (s *Store) SetStationPassword(ctx context.Context, accountID, stationID int64, hash string, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	err := s.w.do(ctx, func(t *wtx) error {
		mine, err := exists(t.ctx, t, `SELECT 1 FROM stations WHERE id = $1 AND account_id = $2`, stationID, accountID)
		if err != nil {
			return err
		}
		if !mine {
			return reject(station.ErrNotFound)
		}
		if _, err := t.exec(`DELETE FROM station_passwords WHERE station_id = $1`, stationID); err != nil {
			return err
		}
		if hash == "" {
			return nil
		}
		_, err = t.exec(`INSERT INTO station_passwords (station_id, password_hash, set_at) VALUES ($1, $2, $3)`,
			stationID, hash, ms(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set station password: %w", err)
	}
	return nil
}

// StationPassword returns the SHA-256 of the password of the account's station and when it
// was set; "" when the station has none or does not exist.
func (s *Store) StationPassword(ctx context.Context, accountID int64, chargePointID string) (hash string, setAt time.Time, err error) {
	var set int64
	err = s.read.QueryRowContext(ctx, `SELECT p.password_hash, p.set_at FROM station_passwords p
		JOIN stations s ON s.id = p.station_id
		WHERE s.account_id = $1 AND s.charge_point_id = $2`, accountID, chargePointID).Scan(&hash, &set)
	if err = notFound(err, station.ErrNotFound); err == station.ErrNotFound {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: station password: %w", err)
	}
	return hash, fromMS(set), nil
}
