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

// The cost of each transaction (package billing): one row in session_costs, written at the
// start with the candidate plans and completed at the stop with the cost and its lines.

// RecordSessionCost stores the record of a transaction's start unless it has one.
func (s *Store) RecordSessionCost(ctx context.Context, c billing.SessionCost) (billing.SessionCost, error) {
	err := s.w.do(ctx, func(t *wtx) error {
		ok, err := exists(t.ctx, t, `SELECT 1 FROM transactions WHERE id = $1 AND account_id = $2`, c.TransactionID, c.AccountID)
		if err != nil {
			return err
		}
		if !ok {
			return reject(billing.ErrNotFound)
		}
		if ok, err := exists(t.ctx, t, `SELECT 1 FROM session_costs WHERE transaction_id = $1`, c.TransactionID); err != nil || ok {
			return err // recorded already: the first record stays
		}
		if err := writeSessionCost(t, c, true); err != nil {
			return err
		}
		for _, cand := range c.Candidates {
			if _, err := t.exec(`INSERT INTO session_cost_candidates (transaction_id, plan_id, tariff_id, tariff_version)
				VALUES ($1, $2, $3, $4)`, c.TransactionID, cand.PlanID, cand.TariffID, cand.TariffVersion); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return billing.SessionCost{}, fmt.Errorf("store: record cost of transaction %d: %w", c.TransactionID, err)
	}
	return s.SessionCost(ctx, c.AccountID, c.TransactionID)
}

// SaveSessionCost replaces the cost of a recorded transaction, lines included.
func (s *Store) SaveSessionCost(ctx context.Context, c billing.SessionCost) error {
	err := s.w.do(ctx, func(t *wtx) error {
		ok, err := exists(t.ctx, t, `SELECT 1 FROM session_costs WHERE transaction_id = $1 AND account_id = $2`, c.TransactionID, c.AccountID)
		if err != nil {
			return err
		}
		if !ok {
			return reject(billing.ErrNotFound)
		}
		return writeSessionCost(t, c, false)
	})
	if err != nil {
		return fmt.Errorf("store: save cost of transaction %d: %w", c.TransactionID, err)
	}
	return nil
}

// writeSessionCost inserts (insert) or updates the row of c and replaces its lines.
func writeSessionCost(t *wtx, c billing.SessionCost, insert bool) error {
	var planID, tariffID, version any
	cost := c.Cost
	if c.Priced() {
		planID = c.PlanID
		id, err := parseID(cost.TariffID)
		if err != nil {
			return fmt.Errorf("tariff id %q: %w", cost.TariffID, err)
		}
		tariffID, version = id, cost.TariffVersion
	} else {
		cost = tariff.Cost{}
	}
	amounts := []any{string(c.Status), c.Reason, planID, tariffID, version, cost.Currency, cost.TotalNet, cost.TotalVAT,
		cost.TotalGross, cost.Rounding, cost.Payable, cost.EnergyWh, cost.DurationS, cost.ChargingS, cost.ParkingS,
		cost.IdleS, ms(c.PricedAt)}
	if insert {
		if _, err := t.exec(`INSERT INTO session_costs (status, reason, plan_id, tariff_id, tariff_version, currency,
			total_net, total_vat, total_gross, rounding, payable, energy_wh, duration_s, charging_s, parking_s, idle_s,
			priced_at, transaction_id, account_id, user_id, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
			$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
			append(amounts, c.TransactionID, c.AccountID, c.UserID, ms(c.RecordedAt))...); err != nil {
			return err
		}
	} else {
		// The record of the start (account, user, recorded_at, candidates) stays.
		if _, err := t.exec(`UPDATE session_costs SET status = $1, reason = $2, plan_id = $3, tariff_id = $4,
			tariff_version = $5, currency = $6, total_net = $7, total_vat = $8, total_gross = $9, rounding = $10,
			payable = $11, energy_wh = $12, duration_s = $13, charging_s = $14, parking_s = $15, idle_s = $16,
			priced_at = $17 WHERE transaction_id = $18`, append(amounts, c.TransactionID)...); err != nil {
			return err
		}
		if _, err := t.exec(`DELETE FROM session_cost_lines WHERE transaction_id = $1`, c.TransactionID); err != nil {
			return err
		}
	}
	for i, l := range cost.Lines {
		var rate any
		if l.VATRate != nil {
			rate = int64(*l.VATRate)
		}
		if _, err := t.exec(`INSERT INTO session_cost_lines (transaction_id, position, line_type, element, quantity,
			unit_price, vat_rate, net, vat, gross) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			c.TransactionID, i, string(l.Type), l.Element, l.Quantity, int64(l.UnitPrice), rate, l.Net, l.VAT, l.Gross); err != nil {
			return err
		}
	}
	return nil
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err == nil && id <= 0 {
		err = errors.New("not a positive id")
	}
	return id, err
}

// SessionCost returns the cost record of a transaction of the account.
func (s *Store) SessionCost(ctx context.Context, accountID, transactionID int64) (billing.SessionCost, error) {
	c, err := s.sessionCost(ctx, accountID, transactionID)
	if err != nil {
		return billing.SessionCost{}, fmt.Errorf("store: cost of transaction %d: %w", transactionID, err)
	}
	return c, nil
}

func (s *Store) sessionCost(ctx context.Context, accountID, transactionID int64) (billing.SessionCost, error) {
	var (
		c                billing.SessionCost
		status           string
		planID, tariffID sql.NullInt64
		version          sql.NullInt64
		recorded, priced int64
		cost             = &c.Cost
	)
	err := s.read.QueryRowContext(ctx, `SELECT transaction_id, account_id, status, reason, user_id, plan_id, tariff_id,
		tariff_version, currency, total_net, total_vat, total_gross, rounding, payable, energy_wh, duration_s,
		charging_s, parking_s, idle_s, recorded_at, priced_at FROM session_costs
		WHERE transaction_id = $1 AND account_id = $2`, transactionID, accountID).Scan(
		&c.TransactionID, &c.AccountID, &status, &c.Reason, &c.UserID, &planID, &tariffID, &version,
		&cost.Currency, &cost.TotalNet, &cost.TotalVAT, &cost.TotalGross, &cost.Rounding, &cost.Payable,
		&cost.EnergyWh, &cost.DurationS, &cost.ChargingS, &cost.ParkingS, &cost.IdleS, &recorded, &priced)
	if err != nil {
		return billing.SessionCost{}, notFound(err, billing.ErrNotFound)
	}
	c.Status, c.PlanID = billing.Status(status), planID.Int64
	c.RecordedAt, c.PricedAt = fromMS(recorded), fromMS(priced)
	if tariffID.Valid {
		cost.TariffID, cost.TariffVersion = strconv.FormatInt(tariffID.Int64, 10), int(version.Int64)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT plan_id, tariff_id, tariff_version FROM session_cost_candidates
		WHERE transaction_id = $1 ORDER BY plan_id`, transactionID)
	if err != nil {
		return billing.SessionCost{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var cand billing.Candidate
		if err := rows.Scan(&cand.PlanID, &cand.TariffID, &cand.TariffVersion); err != nil {
			return billing.SessionCost{}, err
		}
		c.Candidates = append(c.Candidates, cand)
	}
	if err := rows.Err(); err != nil {
		return billing.SessionCost{}, err
	}
	rows.Close()
	rows, err = s.read.QueryContext(ctx, `SELECT line_type, element, quantity, unit_price, vat_rate, net, vat, gross
		FROM session_cost_lines WHERE transaction_id = $1 ORDER BY position`, transactionID)
	if err != nil {
		return billing.SessionCost{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			l    tariff.Line
			typ  string
			unit int64
			rate sql.NullInt64
		)
		if err := rows.Scan(&typ, &l.Element, &l.Quantity, &unit, &rate, &l.Net, &l.VAT, &l.Gross); err != nil {
			return billing.SessionCost{}, err
		}
		l.Type, l.UnitPrice = tariff.LineType(typ), tariff.Micros(unit)
		if rate.Valid {
			r := tariff.VATRate(rate.Int64)
			l.VATRate = &r
		}
		cost.Lines = append(cost.Lines, l)
	}
	return c, rows.Err()
}
