package store

import (
	"context"
	"fmt"
	"time"

	"github.com/chargebook/chargebook/internal/station"
)

const idTagColumns = `account_id, id_tag, parent_id_tag, expires_at, blocked, known, first_seen_at, last_seen_at`

func scanIdTag(row scanner) (station.IdTag, error) {
	var (
		tag                      station.IdTag
		expires, first, lastSeen int64
	)
	err := row.Scan(&tag.AccountID, &tag.IdTag, &tag.ParentIdTag, &expires, &tag.Blocked, &tag.Known, &first, &lastSeen)
	tag.ExpiresAt = fromMS(expires)
	tag.FirstSeenAt = fromMS(first)
	tag.LastSeenAt = fromMS(lastSeen)
	return tag, err
}

// SeeIdTag returns the account's record of the tag, creating it unknown. Tags are compared
// exactly as given.
func (s *Store) SeeIdTag(ctx context.Context, accountID int64, idTag string, at time.Time) (station.IdTag, error) {
	if at.IsZero() {
		at = s.now()
	}
	var tag station.IdTag
	err := s.w.do(ctx, func(t *wtx) error {
		var err error
		tag, err = scanIdTag(t.QueryRowContext(t.ctx, `INSERT INTO id_tags (`+idTagColumns+`)
			VALUES ($1, $2, '', 0, FALSE, FALSE, $3, $3)
			ON CONFLICT (account_id, id_tag) DO UPDATE SET
			first_seen_at = CASE WHEN id_tags.first_seen_at = 0 OR excluded.first_seen_at < id_tags.first_seen_at
				THEN excluded.first_seen_at ELSE id_tags.first_seen_at END,
			last_seen_at = CASE WHEN excluded.last_seen_at > id_tags.last_seen_at
				THEN excluded.last_seen_at ELSE id_tags.last_seen_at END
			RETURNING `+idTagColumns, accountID, idTag, ms(at)))
		return err
	})
	if err != nil {
		return station.IdTag{}, fmt.Errorf("store: see id tag: %w", err)
	}
	return tag, nil
}

// SaveIdTag creates or replaces a tag the operator registers, which makes it known whatever
// tag.Known says. The times it was seen at a station stay those the store recorded; a new
// tag takes them from tag.
func (s *Store) SaveIdTag(ctx context.Context, tag station.IdTag) error {
	err := s.w.do(ctx, func(t *wtx) error {
		_, err := t.exec(`INSERT INTO id_tags (`+idTagColumns+`)
			VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7)
			ON CONFLICT (account_id, id_tag) DO UPDATE SET parent_id_tag = excluded.parent_id_tag,
			expires_at = excluded.expires_at, blocked = excluded.blocked, known = TRUE`,
			tag.AccountID, tag.IdTag, tag.ParentIdTag, ms(tag.ExpiresAt), tag.Blocked,
			ms(tag.FirstSeenAt), ms(tag.LastSeenAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: save id tag: %w", err)
	}
	return nil
}

// IdTags returns the account's tags, known and unknown, by tag.
func (s *Store) IdTags(ctx context.Context, accountID int64) ([]station.IdTag, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+idTagColumns+` FROM id_tags
		WHERE account_id = $1 ORDER BY id_tag`, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: id tags: %w", err)
	}
	defer rows.Close()
	var out []station.IdTag
	for rows.Next() {
		tag, err := scanIdTag(rows)
		if err != nil {
			return nil, fmt.Errorf("store: id tags: %w", err)
		}
		out = append(out, tag)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: id tags: %w", err)
	}
	return out, nil
}
