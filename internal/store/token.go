package store

import (
	"context"
	"fmt"
	"time"

	"github.com/chargebook/chargebook/internal/account"
)

var _ account.TokenStore = (*Store)(nil)

const tokenColumns = `id, account_id, name, prefix, token_hash, created_at, last_used_at, revoked_at`

func scanToken(row scanner) (account.Token, error) {
	var (
		tok                    account.Token
		created, used, revoked int64
	)
	err := row.Scan(&tok.ID, &tok.AccountID, &tok.Name, &tok.Prefix, &tok.Hash, &created, &used, &revoked)
	tok.CreatedAt = fromMS(created)
	tok.LastUsedAt = fromMS(used)
	tok.RevokedAt = fromMS(revoked)
	return tok, err
}

// CreateToken stores a new API token of an existing account.
func (s *Store) CreateToken(ctx context.Context, tok account.Token) (account.Token, error) {
	if tok.CreatedAt.IsZero() {
		tok.CreatedAt = s.now()
	}
	out := tok
	err := s.w.do(ctx, func(t *wtx) error {
		// Checked rather than left to the constraints, which would abort a PostgreSQL batch.
		ok, err := exists(t.ctx, t, `SELECT 1 FROM accounts WHERE id = $1`, tok.AccountID)
		if err != nil {
			return err
		}
		if !ok {
			return reject(account.ErrNotFound)
		}
		if taken, err := exists(t.ctx, t, `SELECT 1 FROM api_tokens WHERE token_hash = $1`, tok.Hash); err != nil {
			return err
		} else if taken {
			return reject(account.ErrDuplicate)
		}
		out.ID, err = t.insertID(`INSERT INTO api_tokens (account_id, name, prefix, token_hash, created_at,
			last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			tok.AccountID, tok.Name, tok.Prefix, tok.Hash, ms(tok.CreatedAt), ms(tok.LastUsedAt), ms(tok.RevokedAt))
		return err
	})
	if err != nil {
		return account.Token{}, fmt.Errorf("store: create token: %w", err)
	}
	out.CreatedAt = fromMS(ms(out.CreatedAt))
	out.LastUsedAt = fromMS(ms(out.LastUsedAt))
	out.RevokedAt = fromMS(ms(out.RevokedAt))
	return out, nil
}

// TokenByHash returns the live token with that hash.
func (s *Store) TokenByHash(ctx context.Context, hash string) (account.Token, error) {
	tok, err := scanToken(s.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens
		WHERE token_hash = $1 AND revoked_at = 0`, hash))
	if err != nil {
		return account.Token{}, fmt.Errorf("store: token by hash: %w", notFound(err, account.ErrNotFound))
	}
	return tok, nil
}

// Tokens returns the account's tokens, revoked ones included, oldest first.
func (s *Store) Tokens(ctx context.Context, accountID int64) ([]account.Token, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens
		WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	defer rows.Close()
	var out []account.Token
	for rows.Next() {
		tok, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: tokens: %w", err)
		}
		out = append(out, tok)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes a token of the account; a token revoked already keeps its time.
func (s *Store) RevokeToken(ctx context.Context, accountID, id int64, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	err := s.w.do(ctx, func(t *wtx) error {
		return t.update(account.ErrNotFound, `UPDATE api_tokens SET
			revoked_at = CASE WHEN revoked_at = 0 THEN $3 ELSE revoked_at END
			WHERE id = $1 AND account_id = $2`, id, accountID, ms(at))
	})
	if err != nil {
		return fmt.Errorf("store: revoke token %d: %w", id, err)
	}
	return nil
}

// TouchToken moves the token's last-used time forward; an earlier time leaves it.
func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	err := s.w.do(ctx, func(t *wtx) error {
		return t.update(account.ErrNotFound, `UPDATE api_tokens SET
			last_used_at = CASE WHEN last_used_at < $2 THEN $2 ELSE last_used_at END
			WHERE id = $1`, id, ms(at))
	})
	if err != nil {
		return fmt.Errorf("store: touch token %d: %w", id, err)
	}
	return nil
}
