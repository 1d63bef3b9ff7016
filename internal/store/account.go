package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/chargebook/chargebook/internal/account"
)

const accountColumns = `id, account_key, name, time_zone, currency, approve_new_stations,
	heartbeat_interval_ms, station_validation, created_at`

func scanAccount(row scanner) (account.Account, error) {
	var (
		a                  account.Account
		heartbeat, created int64
		validation         string
	)
	err := row.Scan(&a.ID, &a.Key, &a.Name, &a.TimeZone, &a.Currency, &a.ApproveNewStations,
		&heartbeat, &validation, &created)
	a.HeartbeatInterval = time.Duration(heartbeat) * time.Millisecond
	a.StationValidation = account.Validation(validation)
	a.CreatedAt = fromMS(created)
	return a, err
}

const operatorColumns = `id, account_id, email, password_hash, role, created_at`

func scanOperator(row scanner) (account.Operator, error) {
	var (
		o       account.Operator
		role    string
		created int64
	)
	err := row.Scan(&o.ID, &o.AccountID, &o.Email, &o.PasswordHash, &role, &created)
	o.Role = account.Role(role)
	o.CreatedAt = fromMS(created)
	return o, err
}

// exists reports whether query finds a row.
func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// CreateAccount stores a new account and its first operator. The e-mail address is compared
// as given: account.New has lower-cased it.
func (s *Store) CreateAccount(ctx context.Context, a account.Account, owner account.Operator) (account.Account, account.Operator, error) {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	if owner.CreatedAt.IsZero() {
		owner.CreatedAt = a.CreatedAt
	}
	var outA account.Account
	var outO account.Operator
	err := s.w.do(ctx, func(t *wtx) error {
		// Checked here rather than by the unique index: a violation would abort the whole
		// batch in PostgreSQL, and its error text differs between the drivers.
		taken, err := exists(t.ctx, t, `SELECT 1 FROM operators WHERE email = $1`, owner.Email)
		if err != nil {
			return err
		}
		if taken {
			return reject(account.ErrDuplicate)
		}
		if taken, err = exists(t.ctx, t, `SELECT 1 FROM accounts WHERE account_key = $1`, a.Key); err != nil {
			return err
		} else if taken {
			return reject(account.ErrDuplicate)
		}
		outA, outO = a, owner
		outA.ID, err = t.insertID(`INSERT INTO accounts (account_key, name, time_zone, currency,
			approve_new_stations, heartbeat_interval_ms, station_validation, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			a.Key, a.Name, a.TimeZone, a.Currency, a.ApproveNewStations,
			a.HeartbeatInterval.Milliseconds(), string(a.StationValidation), ms(a.CreatedAt))
		if err != nil {
			return err
		}
		outO.AccountID = outA.ID
		outO.ID, err = t.insertID(`INSERT INTO operators (account_id, email, password_hash, role, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			outA.ID, owner.Email, owner.PasswordHash, string(owner.Role), ms(owner.CreatedAt))
		return err
	})
	if err != nil {
		return account.Account{}, account.Operator{}, fmt.Errorf("store: create account: %w", err)
	}
	outA.CreatedAt = fromMS(ms(outA.CreatedAt))
	outO.CreatedAt = fromMS(ms(outO.CreatedAt))
	return outA, outO, nil
}

func (s *Store) AccountByKey(ctx context.Context, key string) (account.Account, error) {
	a, err := scanAccount(s.read.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE account_key = $1`, key))
	if err != nil {
		return account.Account{}, fmt.Errorf("store: account by key: %w", notFound(err, account.ErrNotFound))
	}
	return a, nil
}

func (s *Store) AccountByID(ctx context.Context, id int64) (account.Account, error) {
	a, err := scanAccount(s.read.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	if err != nil {
		return account.Account{}, fmt.Errorf("store: account %d: %w", id, notFound(err, account.ErrNotFound))
	}
	return a, nil
}

// UpdateAccount replaces the settings of the account, its key included; not its creation time.
func (s *Store) UpdateAccount(ctx context.Context, a account.Account) error {
	err := s.w.do(ctx, func(t *wtx) error {
		taken, err := exists(t.ctx, t, `SELECT 1 FROM accounts WHERE account_key = $1 AND id <> $2`, a.Key, a.ID)
		if err != nil {
			return err
		}
		if taken {
			return reject(account.ErrDuplicate)
		}
		return t.update(account.ErrNotFound, `UPDATE accounts SET account_key = $2, name = $3, time_zone = $4,
			currency = $5, approve_new_stations = $6, heartbeat_interval_ms = $7, station_validation = $8
			WHERE id = $1`,
			a.ID, a.Key, a.Name, a.TimeZone, a.Currency, a.ApproveNewStations,
			a.HeartbeatInterval.Milliseconds(), string(a.StationValidation))
	})
	if err != nil {
		return fmt.Errorf("store: update account %d: %w", a.ID, err)
	}
	return nil
}

// OperatorByEmail finds an operator by the address as given; callers lower-case it as
// account.New does.
func (s *Store) OperatorByEmail(ctx context.Context, email string) (account.Operator, error) {
	o, err := scanOperator(s.read.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE email = $1`, email))
	if err != nil {
		return account.Operator{}, fmt.Errorf("store: operator by email: %w", notFound(err, account.ErrNotFound))
	}
	return o, nil
}

func (s *Store) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count accounts: %w", err)
	}
	return n, nil
}
