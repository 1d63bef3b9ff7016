package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/tariff"
)

var _ billing.Audiences = (*Store)(nil)

// maxParentHops bounds the walk up a tag's parents: the access rules refuse cycles, but a
// price must not hang on records written around them.
const maxParentHops = 16

// DriverOf is the driver an idTag is for prices: the user of the account's registered tag,
// or of its nearest parent that has one (as package access has it), with the user's groups.
// A tag of no user, or one the account never registered, is a public driver. idTags compare
// without regard to ASCII case, as OCPP's do.
func (s *Store) DriverOf(ctx context.Context, accountID int64, idTag string) (tariff.Driver, error) {
	userID, err := s.tagUser(ctx, accountID, idTag)
	if err != nil || userID == 0 {
		return tariff.Driver{}, err
	}
	d := tariff.Driver{UserID: strconv.FormatInt(userID, 10)}
	rows, err := s.read.QueryContext(ctx, `SELECT m.group_id FROM access_group_members m
		JOIN access_groups g ON g.id = m.group_id WHERE m.user_id = $1 AND g.account_id = $2 ORDER BY m.group_id`,
		userID, accountID)
	if err != nil {
		return tariff.Driver{}, fmt.Errorf("store: driver of %q: %w", idTag, err)
	}
	defer rows.Close()
	for rows.Next() {
		var g int64
		if err := rows.Scan(&g); err != nil {
			return tariff.Driver{}, fmt.Errorf("store: driver of %q: %w", idTag, err)
		}
		d.GroupIDs = append(d.GroupIDs, strconv.FormatInt(g, 10))
	}
	if err := rows.Err(); err != nil {
		return tariff.Driver{}, fmt.Errorf("store: driver of %q: %w", idTag, err)
	}
	return d, nil
}

// tagUser is the user a tag acts for; 0 for none.
func (s *Store) tagUser(ctx context.Context, accountID int64, idTag string) (int64, error) {
	for range maxParentHops {
		if idTag == "" {
			return 0, nil
		}
		var (
			user   sql.NullInt64
			parent string
		)
		err := s.read.QueryRowContext(ctx, `SELECT u.id, t.parent_id_tag FROM id_tags t
			LEFT JOIN access_users u ON u.id = t.user_id AND u.account_id = t.account_id
			WHERE t.account_id = $1 AND t.known AND LOWER(t.id_tag) = $2 ORDER BY t.id_tag LIMIT 1`,
			accountID, asciiLower(idTag)).Scan(&user, &parent)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return 0, nil
		case err != nil:
			return 0, fmt.Errorf("store: user of tag %q: %w", idTag, err)
		case user.Valid:
			return user.Int64, nil
		}
		idTag = parent
	}
	return 0, nil
}

// asciiLower lower-cases ASCII letters only, as SQLite's LOWER does.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// HasUser reports whether the account has the user.
func (s *Store) HasUser(ctx context.Context, accountID, userID int64) (bool, error) {
	ok, err := exists(ctx, s.read, `SELECT 1 FROM access_users WHERE id = $1 AND account_id = $2`, userID, accountID)
	if err != nil {
		return false, fmt.Errorf("store: user %d: %w", userID, err)
	}
	return ok, nil
}

// HasGroup reports whether the account has the group.
func (s *Store) HasGroup(ctx context.Context, accountID, groupID int64) (bool, error) {
	ok, err := exists(ctx, s.read, `SELECT 1 FROM access_groups WHERE id = $1 AND account_id = $2`, groupID, accountID)
	if err != nil {
		return false, fmt.Errorf("store: group %d: %w", groupID, err)
	}
	return ok, nil
}
