package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/tariff"
)

var _ billing.Store = (*Store)(nil)

// The tariffs and price plans of package billing. A tariff version's prices are kept as the
// JSON of its tariff.Tariff, which package tariff reads back exactly; the columns beside it
// are what is queried, and win over the JSON on reading.

// versionRules is the JSON a version's rules are stored as, with the identity of the version
// filled in from its columns.
func versionRules(t billing.Tariff, v billing.Version) (string, error) {
	r := v.Rules
	r.ID, r.Version, r.Currency, r.ValidFrom = strconv.FormatInt(t.ID, 10), v.Version, t.Currency, v.ValidFrom
	b, err := json.Marshal(r)
	return string(b), err
}

func insertVersion(t *wtx, tr billing.Tariff, v billing.Version) error {
	rules, err := versionRules(tr, v)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO tariff_versions (tariff_id, version, valid_from, rules, created_at)
		VALUES ($1, $2, $3, $4, $5)`, tr.ID, v.Version, ms(v.ValidFrom), rules, ms(v.CreatedAt))
	return err
}

// CreateTariff stores a tariff with its first version.
func (s *Store) CreateTariff(ctx context.Context, tr billing.Tariff) (billing.Tariff, error) {
	if len(tr.Versions) != 1 {
		return billing.Tariff{}, fmt.Errorf("store: create tariff: %d versions, want 1", len(tr.Versions))
	}
	var id int64
	err := s.w.do(ctx, func(t *wtx) error {
		var err error
		id, err = t.insertID(`INSERT INTO tariffs (account_id, name, currency, created_at, retired_at)
			VALUES ($1, $2, $3, $4, 0) RETURNING id`, tr.AccountID, tr.Name, tr.Currency, ms(tr.CreatedAt))
		if err != nil {
			return err
		}
		out := tr
		out.ID = id
		v := tr.Versions[0]
		v.Version = 1
		return insertVersion(t, out, v)
	})
	if err != nil {
		return billing.Tariff{}, fmt.Errorf("store: create tariff: %w", err)
	}
	return s.Tariff(ctx, tr.AccountID, id)
}

// AddTariffVersion stores the tariff's next version.
func (s *Store) AddTariffVersion(ctx context.Context, accountID, tariffID int64, name string, v billing.Version) (billing.Tariff, error) {
	err := s.w.do(ctx, func(t *wtx) error {
		tr, err := tariffRow(t.ctx, t, accountID, tariffID)
		if err != nil {
			return reject(err)
		}
		if !tr.RetiredAt.IsZero() {
			return reject(billing.ErrRetired)
		}
		if err := t.QueryRowContext(t.ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM tariff_versions WHERE tariff_id = $1`,
			tariffID).Scan(&v.Version); err != nil {
			return err
		}
		if name != "" {
			if _, err := t.exec(`UPDATE tariffs SET name = $2 WHERE id = $1`, tariffID, name); err != nil {
				return err
			}
		}
		return insertVersion(t, tr, v)
	})
	if err != nil {
		return billing.Tariff{}, fmt.Errorf("store: add version to tariff %d: %w", tariffID, err)
	}
	return s.Tariff(ctx, accountID, tariffID)
}

// RetireTariff sets the tariff's retirement time unless it has one.
func (s *Store) RetireTariff(ctx context.Context, accountID, tariffID int64, at time.Time) (billing.Tariff, error) {
	err := s.w.do(ctx, func(t *wtx) error {
		if _, err := tariffRow(t.ctx, t, accountID, tariffID); err != nil {
			return reject(err)
		}
		_, err := t.exec(`UPDATE tariffs SET retired_at = $2 WHERE id = $1 AND retired_at = 0`, tariffID, ms(at))
		return err
	})
	if err != nil {
		return billing.Tariff{}, fmt.Errorf("store: retire tariff %d: %w", tariffID, err)
	}
	return s.Tariff(ctx, accountID, tariffID)
}

const tariffColumns = `id, account_id, name, currency, created_at, retired_at`

func scanTariff(row scanner) (billing.Tariff, error) {
	var (
		tr               billing.Tariff
		created, retired int64
	)
	err := row.Scan(&tr.ID, &tr.AccountID, &tr.Name, &tr.Currency, &created, &retired)
	tr.CreatedAt, tr.RetiredAt = fromMS(created), fromMS(retired)
	return tr, err
}

// tariffRow reads a tariff of the account without its versions.
func tariffRow(ctx context.Context, q querier, accountID, tariffID int64) (billing.Tariff, error) {
	tr, err := scanTariff(q.QueryRowContext(ctx, `SELECT `+tariffColumns+` FROM tariffs WHERE id = $1 AND account_id = $2`,
		tariffID, accountID))
	return tr, notFound(err, billing.ErrNotFound)
}

// Tariff returns a tariff of the account with its versions.
func (s *Store) Tariff(ctx context.Context, accountID, tariffID int64) (billing.Tariff, error) {
	tr, err := tariffRow(ctx, s.read, accountID, tariffID)
	if err == nil {
		var all []billing.Tariff
		all, err = s.withVersions(ctx, []billing.Tariff{tr}, `v.tariff_id = $1`, tariffID)
		if err == nil {
			tr = all[0]
		}
	}
	if err != nil {
		return billing.Tariff{}, fmt.Errorf("store: tariff %d: %w", tariffID, err)
	}
	return tr, nil
}

// Tariffs returns the account's tariffs by id, with their versions.
func (s *Store) Tariffs(ctx context.Context, accountID int64) ([]billing.Tariff, error) {
	out, err := func() ([]billing.Tariff, error) {
		rows, err := s.read.QueryContext(ctx, `SELECT `+tariffColumns+` FROM tariffs WHERE account_id = $1 ORDER BY id`, accountID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []billing.Tariff
		for rows.Next() {
			tr, err := scanTariff(rows)
			if err != nil {
				return nil, err
			}
			out = append(out, tr)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return s.withVersions(ctx, out, `t.account_id = $1`, accountID)
	}()
	if err != nil {
		return nil, fmt.Errorf("store: tariffs: %w", err)
	}
	return out, nil
}

// withVersions reads the versions of the tariffs a condition selects into ts.
func (s *Store) withVersions(ctx context.Context, ts []billing.Tariff, cond string, arg any) ([]billing.Tariff, error) {
	if len(ts) == 0 {
		return ts, nil
	}
	index := make(map[int64]int, len(ts))
	for i, tr := range ts {
		index[tr.ID] = i
	}
	rows, err := s.read.QueryContext(ctx, `SELECT v.tariff_id, v.version, v.valid_from, v.rules, v.created_at
		FROM tariff_versions v JOIN tariffs t ON t.id = v.tariff_id WHERE `+cond+` ORDER BY v.tariff_id, v.version`, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			v             billing.Version
			from, created int64
			rules         string
		)
		if err := rows.Scan(&v.TariffID, &v.Version, &from, &rules, &created); err != nil {
			return nil, err
		}
		i, ok := index[v.TariffID]
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(rules), &v.Rules); err != nil {
			return nil, fmt.Errorf("version %d of tariff %d: %w", v.Version, v.TariffID, err)
		}
		v.ValidFrom, v.CreatedAt = fromMS(from), fromMS(created)
		v.Rules.ID, v.Rules.Version, v.Rules.Currency = strconv.FormatInt(v.TariffID, 10), v.Version, ts[i].Currency
		v.Rules.ValidFrom, v.Rules.ValidTo = v.ValidFrom, nil
		ts[i].Versions = append(ts[i].Versions, v)
	}
	return ts, rows.Err()
}

// CreatePlan stores a price plan of the account.
func (s *Store) CreatePlan(ctx context.Context, p billing.Plan) (billing.Plan, error) {
	var id int64
	err := s.w.do(ctx, func(t *wtx) error {
		if _, err := tariffRow(t.ctx, t, p.AccountID, p.TariffID); err != nil {
			return reject(err)
		}
		var stationID any
		if p.StationID != 0 {
			if err := accountStation(t, p.AccountID, p.StationID); err != nil {
				return reject(billing.ErrNotFound)
			}
			stationID = p.StationID
		}
		var err error
		id, err = t.insertID(`INSERT INTO price_plans (account_id, tariff_id, audience, user_id, group_id, station_id,
			valid_from, valid_to, created_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			p.AccountID, p.TariffID, string(p.Audience), p.UserID, p.GroupID, stationID, ms(p.ValidFrom), ms(p.ValidTo),
			ms(p.CreatedAt), ms(p.DeletedAt))
		return err
	})
	if err != nil {
		return billing.Plan{}, fmt.Errorf("store: create plan: %w", err)
	}
	out, err := s.plans(ctx, p.AccountID, id)
	if err == nil && len(out) == 0 {
		err = billing.ErrNotFound
	}
	if err != nil {
		return billing.Plan{}, fmt.Errorf("store: create plan: %w", err)
	}
	return out[0], nil
}

// DeletePlan marks a plan deleted unless it is already.
func (s *Store) DeletePlan(ctx context.Context, accountID, planID int64, at time.Time) error {
	err := s.w.do(ctx, func(t *wtx) error {
		ok, err := exists(t.ctx, t, `SELECT 1 FROM price_plans WHERE id = $1 AND account_id = $2`, planID, accountID)
		if err != nil {
			return err
		}
		if !ok {
			return reject(billing.ErrNotFound)
		}
		_, err = t.exec(`UPDATE price_plans SET deleted_at = $2 WHERE id = $1 AND deleted_at = 0`, planID, ms(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete plan %d: %w", planID, err)
	}
	return nil
}

// Plans returns the account's plans by id, deleted ones included.
func (s *Store) Plans(ctx context.Context, accountID int64) ([]billing.Plan, error) {
	out, err := s.plans(ctx, accountID, 0)
	if err != nil {
		return nil, fmt.Errorf("store: plans: %w", err)
	}
	return out, nil
}

// plans reads the account's plans; only the one with id planID unless it is 0.
func (s *Store) plans(ctx context.Context, accountID, planID int64) ([]billing.Plan, error) {
	query, args := `SELECT p.id, p.account_id, p.tariff_id, p.audience, p.user_id, p.group_id, p.station_id,
		COALESCE(s.charge_point_id, ''), p.valid_from, p.valid_to, p.created_at, p.deleted_at
		FROM price_plans p LEFT JOIN stations s ON s.id = p.station_id WHERE p.account_id = $1`, []any{accountID}
	if planID != 0 {
		query, args = query+` AND p.id = $2`, append(args, planID)
	}
	rows, err := s.read.QueryContext(ctx, query+` ORDER BY p.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []billing.Plan
	for rows.Next() {
		var (
			p                          billing.Plan
			audience                   string
			stationID                  sql.NullInt64
			from, to, created, deleted int64
		)
		if err := rows.Scan(&p.ID, &p.AccountID, &p.TariffID, &audience, &p.UserID, &p.GroupID, &stationID,
			&p.ChargePointID, &from, &to, &created, &deleted); err != nil {
			return nil, err
		}
		p.Audience, p.StationID = tariff.Audience(audience), stationID.Int64
		p.ValidFrom, p.ValidTo, p.CreatedAt, p.DeletedAt = fromMS(from), fromMS(to), fromMS(created), fromMS(deleted)
		out = append(out, p)
	}
	return out, rows.Err()
}
