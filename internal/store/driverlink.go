package store

import (
	"context"
	"fmt"
	"time"

	"github.com/chargebook/chargebook/internal/account"
)

var _ account.DriverLinkStore = (*Store)(nil)

const driverLinkColumns = `id, account_id, user_id, link_hash, prefix, created_by, created_at, expires_at, revoked_at, last_used_at`

func scanDriverLink(r interface{ Scan(...any) error }) (account.DriverLink, error) {
	var (
		l                                 account.DriverLink
		created, expires, revoked, usedAt int64
	)
	err := r.Scan(&l.ID, &l.AccountID, &l.UserID, &l.Hash, &l.Prefix, &l.CreatedBy, &created, &expires, &revoked, &usedAt)
	l.CreatedAt, l.ExpiresAt, l.RevokedAt, l.LastUsedAt = fromMS(created), fromMS(expires), fromMS(revoked), fromMS(usedAt)
	return l, err
}

// CreateDriverLink stores a driver link of an existing account.
func (s *Store) CreateDriverLink(ctx context.Context, l account.DriverLink) (account.DriverLink, error) {
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.now()
	}
	err := s.w.do(ctx, func(t *wtx) error {
		var err error
		l.ID, err = t.insertID(`INSERT INTO driver_links (account_id, user_id, link_hash, prefix, created_by, created_at, expires_at, revoked_at, last_used_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0) RETURNING id`,
			l.AccountID, l.UserID, l.Hash, l.Prefix, l.CreatedBy, ms(l.CreatedAt), ms(l.ExpiresAt))
		return err
	})
	if err != nil {
		return account.DriverLink{}, fmt.Errorf("store: create driver link: %w", err)
	}
	l.CreatedAt, l.ExpiresAt = fromMS(ms(l.CreatedAt)), fromMS(ms(l.ExpiresAt))
	return l, nil
}

// DriverLinks returns the links of one driver of the account, newest first.
func (s *Store) DriverLinks(ctx context.Context, accountID, userID int64) ([]account.DriverLink, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+driverLinkColumns+` FROM driver_links
		WHERE account_id = $1 AND user_id = $2 ORDER BY id DESC`, accountID, userID)
	if err != nil {
		return nil, fmt.Errorf("store: driver links: %w", err)
	}
	defer rows.Close()
	var out []account.DriverLink
	for rows.Next() {
		l, err := scanDriverLink(rows)
		if err != nil {
			return nil, fmt.Errorf("store: driver links: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: driver links: %w", err)
	}
	return out, nil
}

// RevokeDriverLink revokes a link of the account (revoking it again keeps the first time)
// and ends the sessions opened with it.
func (s *Store) RevokeDriverLink(ctx context.Context, accountID, id int64, at time.Time) error {
	err := s.w.do(ctx, func(t *wtx) error {
		mine, err := exists(t.ctx, t, `SELECT 1 FROM driver_links WHERE id = $1 AND account_id = $2`, id, accountID)
		if err != nil {
			return err
		}
		if !mine {
			return reject(account.ErrNotFound)
		}
		if _, err := t.exec(`UPDATE driver_links SET revoked_at = $2 WHERE id = $1 AND revoked_at = 0`, id, ms(at)); err != nil {
			return err
		}
		_, err = t.exec(`DELETE FROM driver_sessions WHERE link_id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: revoke driver link %d: %w", id, err)
	}
	return nil
}

// UseDriverLink returns the link with that hash if it is valid at now, and records its use.
func (s *Store) UseDriverLink(ctx context.Context, hash string, now time.Time) (account.DriverLink, error) {
	l, err := scanDriverLink(s.read.QueryRowContext(ctx, `SELECT `+driverLinkColumns+` FROM driver_links
		WHERE link_hash = $1 AND revoked_at = 0 AND expires_at > $2`, hash, ms(now)))
	if err != nil {
		return account.DriverLink{}, fmt.Errorf("store: driver link: %w", notFound(err, account.ErrNotFound))
	}
	err = s.w.do(ctx, func(t *wtx) error {
		_, err := t.exec(`UPDATE driver_links SET last_used_at = $2 WHERE id = $1`, l.ID, ms(now))
		return err
	})
	if err != nil {
		return account.DriverLink{}, fmt.Errorf("store: driver link: %w", err)
	}
	l.LastUsedAt = fromMS(ms(now))
	return l, nil
}

// CreateDriverSession stores a session opened with a link.
func (s *Store) CreateDriverSession(ctx context.Context, sess account.DriverSession) error {
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = s.now()
	}
	err := s.w.do(ctx, func(t *wtx) error {
		_, err := t.exec(`INSERT INTO driver_sessions (link_id, session_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			sess.LinkID, sess.Hash, ms(sess.CreatedAt), ms(sess.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create driver session: %w", err)
	}
	return nil
}

// DriverSessionLink returns the link of the session with that hash, when both are valid
// at now.
func (s *Store) DriverSessionLink(ctx context.Context, hash string, now time.Time) (account.DriverLink, error) {
	l, err := scanDriverLink(s.read.QueryRowContext(ctx, `SELECT l.id, l.account_id, l.user_id, l.link_hash, l.prefix,
		l.created_by, l.created_at, l.expires_at, l.revoked_at, l.last_used_at
		FROM driver_sessions d JOIN driver_links l ON l.id = d.link_id
		WHERE d.session_hash = $1 AND d.expires_at > $2 AND l.revoked_at = 0 AND l.expires_at > $2`, hash, ms(now)))
	if err != nil {
		return account.DriverLink{}, fmt.Errorf("store: driver session: %w", notFound(err, account.ErrNotFound))
	}
	return l, nil
}

// DeleteDriverSession ends a driver session.
func (s *Store) DeleteDriverSession(ctx context.Context, hash string) error {
	err := s.w.do(ctx, func(t *wtx) error {
		_, err := t.exec(`DELETE FROM driver_sessions WHERE session_hash = $1`, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete driver session: %w", err)
	}
	return nil
}
