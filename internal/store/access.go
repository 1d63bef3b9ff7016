package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/station"
)

// The access records of packages access and authz: users, groups, the user of each tag, and
// the stations' access rules. The writes do not check the rules as a whole (authz.Service
// does, before it writes); they refuse only what would break the database: ids of another
// account, which are station.ErrNotFound like ids that do not exist.

var (
	_ authz.Store      = (*Store)(nil)
	_ authz.WriteStore = (*Store)(nil)
)

// windowJSON is a window as the JSON columns keep it.
type windowJSON struct {
	Days        string   `json:"days"`
	Start       string   `json:"start"`
	End         string   `json:"end"`
	ExceptDates []string `json:"exceptDates,omitempty"`
	ExtraDates  []string `json:"extraDates,omitempty"`
}

func encodeWindows(ws []access.Window) (string, error) {
	out := make([]windowJSON, len(ws))
	for i, w := range ws {
		out[i] = windowJSON{Days: w.Days.String(), Start: w.Start, End: w.End, ExceptDates: w.ExceptDates, ExtraDates: w.ExtraDates}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func decodeWindows(s string) ([]access.Window, error) {
	var in []windowJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("windows %q: %w", s, err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]access.Window, len(in))
	for i, w := range in {
		days, err := access.ParseWeekdays(w.Days)
		if err != nil {
			return nil, err
		}
		out[i] = access.Window{Days: days, Start: w.Start, End: w.End, ExceptDates: w.ExceptDates, ExtraDates: w.ExtraDates}
	}
	return out, nil
}

// AccessRecords loads an account's access records in one read transaction, so that they
// are consistent with one another (no membership of a group deleted in between).
func (s *Store) AccessRecords(ctx context.Context, accountID int64) (authz.Records, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return authz.Records{}, fmt.Errorf("store: access records: %w", err)
	}
	defer tx.Rollback()
	r, err := accessRecords(ctx, tx, accountID)
	if err != nil {
		return authz.Records{}, fmt.Errorf("store: access records: %w", err)
	}
	return r, nil
}

func accessRecords(ctx context.Context, q querier, accountID int64) (authz.Records, error) {
	var r authz.Records
	if err := q.QueryRowContext(ctx, `SELECT time_zone FROM accounts WHERE id = $1`, accountID).Scan(&r.TimeZone); err != nil {
		return r, notFound(err, station.ErrNotFound)
	}
	var err error
	if r.Users, err = accessUsers(ctx, q, accountID, 0); err != nil {
		return r, err
	}
	if r.Groups, err = accessGroups(ctx, q, accountID); err != nil {
		return r, err
	}
	if r.Tags, err = accessTags(ctx, q, accountID); err != nil {
		return r, err
	}
	r.Stations, err = stationRules(ctx, q, accountID)
	return r, err
}

// accessUsers reads the account's users by id, with their groups; only the one with id
// userID unless it is 0.
func accessUsers(ctx context.Context, q querier, accountID, userID int64) ([]access.User, error) {
	where, args := `WHERE u.account_id = $1`, []any{accountID}
	if userID != 0 {
		where, args = where+` AND u.id = $2`, append(args, userID)
	}
	rows, err := q.QueryContext(ctx, `SELECT u.id, u.name, u.email, u.language, u.blocked FROM access_users u `+where+` ORDER BY u.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []access.User
	index := make(map[int64]int)
	for rows.Next() {
		var u access.User
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Language, &u.Blocked); err != nil {
			return nil, err
		}
		index[u.ID] = len(out)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	rows, err = q.QueryContext(ctx, `SELECT m.user_id, m.group_id FROM access_group_members m
		JOIN access_users u ON u.id = m.user_id `+where+` ORDER BY m.user_id, m.group_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var uid, gid int64
		if err := rows.Scan(&uid, &gid); err != nil {
			return nil, err
		}
		if i, ok := index[uid]; ok {
			out[i].GroupIDs = append(out[i].GroupIDs, gid)
		}
	}
	return out, rows.Err()
}

func accessGroups(ctx context.Context, q querier, accountID int64) ([]access.Group, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name FROM access_groups WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []access.Group
	for rows.Next() {
		var g access.Group
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// accessTags reads the tags the account registered; those only seen at a station are not
// part of the rules.
func accessTags(ctx context.Context, q querier, accountID int64) ([]access.Tag, error) {
	rows, err := q.QueryContext(ctx, `SELECT id_tag, user_id, parent_id_tag, expires_at, blocked
		FROM id_tags WHERE account_id = $1 AND known ORDER BY id_tag`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []access.Tag
	for rows.Next() {
		var (
			t       access.Tag
			user    sql.NullInt64
			expires int64
		)
		if err := rows.Scan(&t.IdTag, &user, &t.ParentIdTag, &expires, &t.Blocked); err != nil {
			return nil, err
		}
		t.UserID, t.ExpiresAt = user.Int64, fromMS(expires)
		out = append(out, t)
	}
	return out, rows.Err()
}

func stationRules(ctx context.Context, q querier, accountID int64) ([]access.StationRule, error) {
	rows, err := q.QueryContext(ctx, `SELECT station_id, mode, owner_user_id, station_windows, free_vending, window_end_policy
		FROM station_access WHERE account_id = $1 ORDER BY station_id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []access.StationRule
	index := make(map[int64]int)
	for rows.Next() {
		var (
			r       access.StationRule
			owner   sql.NullInt64
			windows string
			mode    string
			policy  string
		)
		if err := rows.Scan(&r.StationID, &mode, &owner, &windows, &r.FreeVending, &policy); err != nil {
			return nil, err
		}
		r.Mode, r.OwnerUserID, r.WindowEndPolicy = access.Mode(mode), owner.Int64, access.WindowEndPolicy(policy)
		if r.StationWindows, err = decodeWindows(windows); err != nil {
			return nil, fmt.Errorf("station %d: %w", r.StationID, err)
		}
		index[r.StationID] = len(out)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT g.station_id, g.user_id, g.group_id, g.windows
		FROM station_access_grants g JOIN station_access a ON a.station_id = g.station_id
		WHERE a.account_id = $1 ORDER BY g.station_id, g.position`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			stationID   int64
			user, group sql.NullInt64
			windows     string
		)
		if err := rows.Scan(&stationID, &user, &group, &windows); err != nil {
			return nil, err
		}
		ws, err := decodeWindows(windows)
		if err != nil {
			return nil, fmt.Errorf("station %d grant: %w", stationID, err)
		}
		if i, ok := index[stationID]; ok {
			out[i].Grants = append(out[i].Grants, access.Grant{UserID: user.Int64, GroupID: group.Int64, Windows: ws})
		}
	}
	return out, rows.Err()
}

// ownedBy rejects a write naming a row of table that is not the account's.
func ownedBy(t *wtx, table string, accountID, id int64) error {
	ok, err := exists(t.ctx, t, `SELECT 1 FROM `+table+` WHERE id = $1 AND account_id = $2`, id, accountID)
	if err != nil {
		return err
	}
	if !ok {
		return reject(station.ErrNotFound)
	}
	return nil
}

// setMemberships replaces the groups of a user (byUser) or the members of a group, keeping
// only ids of the account.
func setMemberships(t *wtx, accountID, id int64, others []int64, byUser bool) error {
	col, otherCol, otherTable := "group_id", "user_id", "access_users"
	if byUser {
		col, otherCol, otherTable = "user_id", "group_id", "access_groups"
	}
	if _, err := t.exec(`DELETE FROM access_group_members WHERE `+col+` = $1`, id); err != nil {
		return err
	}
	seen := make(map[int64]bool, len(others))
	for _, o := range others {
		if seen[o] {
			continue
		}
		seen[o] = true
		if err := ownedBy(t, otherTable, accountID, o); err != nil {
			return err
		}
		if _, err := t.exec(`INSERT INTO access_group_members (`+col+`, `+otherCol+`) VALUES ($1, $2)`, id, o); err != nil {
			return err
		}
	}
	return nil
}

// CreateAccessUser stores a new user of the account, with their groups, and returns it
// with its id.
func (s *Store) CreateAccessUser(ctx context.Context, accountID int64, u access.User, at time.Time) (access.User, error) {
	err := s.w.do(ctx, func(t *wtx) error {
		ok, err := exists(t.ctx, t, `SELECT 1 FROM accounts WHERE id = $1`, accountID)
		if err != nil {
			return err
		}
		if !ok {
			return reject(station.ErrNotFound)
		}
		u.ID, err = t.insertID(`INSERT INTO access_users (account_id, name, email, language, blocked, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, accountID, u.Name, u.Email, u.Language, u.Blocked, ms(at))
		if err != nil {
			return err
		}
		return setMemberships(t, accountID, u.ID, u.GroupIDs, true)
	})
	if err != nil {
		return access.User{}, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

// UpdateAccessUser replaces a user's name, e-mail, language, blocked flag and groups.
func (s *Store) UpdateAccessUser(ctx context.Context, accountID int64, u access.User, at time.Time) error {
	err := s.w.do(ctx, func(t *wtx) error {
		if err := t.update(station.ErrNotFound, `UPDATE access_users SET name = $3, email = $4, language = $5,
			blocked = $6, updated_at = $7 WHERE id = $1 AND account_id = $2`,
			u.ID, accountID, u.Name, u.Email, u.Language, u.Blocked, ms(at)); err != nil {
			return err
		}
		return setMemberships(t, accountID, u.ID, u.GroupIDs, true)
	})
	if err != nil {
		return fmt.Errorf("store: update user %d: %w", u.ID, err)
	}
	return nil
}

// DeleteAccessUser deletes a user: their tags then stand alone, and their memberships and
// grants go. A user who owns a station is refused by the database: give the station
// another owner first.
func (s *Store) DeleteAccessUser(ctx context.Context, accountID, id int64) error {
	err := s.w.do(ctx, func(t *wtx) error {
		if err := ownedBy(t, "access_users", accountID, id); err != nil {
			return err
		}
		for _, q := range []string{
			`UPDATE id_tags SET user_id = NULL WHERE user_id = $1`,
			`DELETE FROM access_group_members WHERE user_id = $1`,
			`DELETE FROM station_access_grants WHERE user_id = $1`,
			`DELETE FROM access_users WHERE id = $1`,
		} {
			if _, err := t.exec(q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete user %d: %w", id, err)
	}
	return nil
}

// CreateAccessGroup stores a new group of the account with its members, and returns it
// with its id.
func (s *Store) CreateAccessGroup(ctx context.Context, accountID int64, g access.Group, members []int64, at time.Time) (access.Group, error) {
	err := s.w.do(ctx, func(t *wtx) error {
		ok, err := exists(t.ctx, t, `SELECT 1 FROM accounts WHERE id = $1`, accountID)
		if err != nil {
			return err
		}
		if !ok {
			return reject(station.ErrNotFound)
		}
		g.ID, err = t.insertID(`INSERT INTO access_groups (account_id, name, created_at, updated_at)
			VALUES ($1, $2, $3, $3) RETURNING id`, accountID, g.Name, ms(at))
		if err != nil {
			return err
		}
		return setMemberships(t, accountID, g.ID, members, false)
	})
	if err != nil {
		return access.Group{}, fmt.Errorf("store: create group: %w", err)
	}
	return g, nil
}

// UpdateAccessGroup renames a group and replaces its members.
func (s *Store) UpdateAccessGroup(ctx context.Context, accountID int64, g access.Group, members []int64, at time.Time) error {
	err := s.w.do(ctx, func(t *wtx) error {
		if err := t.update(station.ErrNotFound, `UPDATE access_groups SET name = $3, updated_at = $4
			WHERE id = $1 AND account_id = $2`, g.ID, accountID, g.Name, ms(at)); err != nil {
			return err
		}
		return setMemberships(t, accountID, g.ID, members, false)
	})
	if err != nil {
		return fmt.Errorf("store: update group %d: %w", g.ID, err)
	}
	return nil
}

// DeleteAccessGroup deletes a group with its memberships and the grants it had.
func (s *Store) DeleteAccessGroup(ctx context.Context, accountID, id int64) error {
	err := s.w.do(ctx, func(t *wtx) error {
		if err := ownedBy(t, "access_groups", accountID, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM access_group_members WHERE group_id = $1`,
			`DELETE FROM station_access_grants WHERE group_id = $1`,
			`DELETE FROM access_groups WHERE id = $1`,
		} {
			if _, err := t.exec(q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete group %d: %w", id, err)
	}
	return nil
}

// SaveAccessTag creates or replaces a tag the operator registers, like SaveIdTag, and sets
// the user it belongs to (0: it stands alone).
func (s *Store) SaveAccessTag(ctx context.Context, tag station.IdTag, userID int64) error {
	err := s.w.do(ctx, func(t *wtx) error {
		var user any
		if userID != 0 {
			if err := ownedBy(t, "access_users", tag.AccountID, userID); err != nil {
				return err
			}
			user = userID
		}
		_, err := t.exec(`INSERT INTO id_tags (`+idTagColumns+`, user_id)
			VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $8)
			ON CONFLICT (account_id, id_tag) DO UPDATE SET parent_id_tag = excluded.parent_id_tag,
			expires_at = excluded.expires_at, blocked = excluded.blocked, known = TRUE, user_id = excluded.user_id`,
			tag.AccountID, tag.IdTag, tag.ParentIdTag, ms(tag.ExpiresAt), tag.Blocked,
			ms(tag.FirstSeenAt), ms(tag.LastSeenAt), user)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: save id tag: %w", err)
	}
	return nil
}

// SaveStationAccess creates or replaces the access rule of a station of the account, with
// its grants in the order given.
func (s *Store) SaveStationAccess(ctx context.Context, accountID int64, r access.StationRule, at time.Time) error {
	windows, err := encodeWindows(r.StationWindows)
	if err != nil {
		return fmt.Errorf("store: access of station %d: %w", r.StationID, err)
	}
	grants := make([]string, len(r.Grants))
	for i, g := range r.Grants {
		if grants[i], err = encodeWindows(g.Windows); err != nil {
			return fmt.Errorf("store: access of station %d: %w", r.StationID, err)
		}
	}
	err = s.w.do(ctx, func(t *wtx) error {
		if err := accountStation(t, accountID, r.StationID); err != nil {
			return err
		}
		var owner any
		if r.OwnerUserID != 0 {
			if err := ownedBy(t, "access_users", accountID, r.OwnerUserID); err != nil {
				return err
			}
			owner = r.OwnerUserID
		}
		if _, err := t.exec(`DELETE FROM station_access_grants WHERE station_id = $1`, r.StationID); err != nil {
			return err
		}
		if _, err := t.exec(`INSERT INTO station_access (station_id, account_id, mode, owner_user_id, station_windows,
			free_vending, window_end_policy, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (station_id) DO UPDATE SET mode = excluded.mode, owner_user_id = excluded.owner_user_id,
			station_windows = excluded.station_windows, free_vending = excluded.free_vending,
			window_end_policy = excluded.window_end_policy, updated_at = excluded.updated_at`,
			r.StationID, accountID, string(r.Mode), owner, windows, r.FreeVending, string(r.WindowEndPolicy), ms(at)); err != nil {
			return err
		}
		for i, g := range r.Grants {
			var user, group any
			switch {
			case g.UserID != 0:
				if err := ownedBy(t, "access_users", accountID, g.UserID); err != nil {
					return err
				}
				user = g.UserID
			case g.GroupID != 0:
				if err := ownedBy(t, "access_groups", accountID, g.GroupID); err != nil {
					return err
				}
				group = g.GroupID
			}
			if _, err := t.exec(`INSERT INTO station_access_grants (station_id, position, user_id, group_id, windows)
				VALUES ($1, $2, $3, $4, $5)`, r.StationID, i, user, group, grants[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: access of station %d: %w", r.StationID, err)
	}
	return nil
}

// DeleteStationAccess removes the access rule of a station of the account, which makes it
// public again; a station without a rule is not an error.
func (s *Store) DeleteStationAccess(ctx context.Context, accountID, stationID int64) error {
	err := s.w.do(ctx, func(t *wtx) error {
		if err := accountStation(t, accountID, stationID); err != nil {
			return err
		}
		if _, err := t.exec(`DELETE FROM station_access_grants WHERE station_id = $1`, stationID); err != nil {
			return err
		}
		_, err := t.exec(`DELETE FROM station_access WHERE station_id = $1`, stationID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: access of station %d: %w", stationID, err)
	}
	return nil
}

// OpenTransactionsStoppedAtWindowEnd returns the open transactions, of every account, at
// stations whose access rule stops sessions remotely when their window ends.
func (s *Store) OpenTransactionsStoppedAtWindowEnd(ctx context.Context) ([]station.Transaction, error) {
	out, err := transactionsWhere(ctx, s.read, selectTransaction+`
		JOIN station_access a ON a.station_id = t.station_id
		WHERE a.window_end_policy = $1 AND t.stopped = $2 ORDER BY t.id`, string(access.StopRemotely), false)
	if err != nil {
		return nil, fmt.Errorf("store: open transactions stopped at window end: %w", err)
	}
	return out, nil
}
