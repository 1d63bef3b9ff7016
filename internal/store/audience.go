package store

import (
	"context"

	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/tariff"
)

var _ billing.Audiences = (*Store)(nil)

// DriverOf is the driver an idTag is for prices. Users and groups are not kept yet, so every
// driver is a public one, priced by the public plans.
func (s *Store) DriverOf(ctx context.Context, accountID int64, idTag string) (tariff.Driver, error) {
	return tariff.Driver{}, nil
}

// HasUser reports whether the account has the user; there are no users yet.
func (s *Store) HasUser(ctx context.Context, accountID, userID int64) (bool, error) {
	return false, nil
}

// HasGroup reports whether the account has the group; there are no groups yet.
func (s *Store) HasGroup(ctx context.Context, accountID, groupID int64) (bool, error) {
	return false, nil
}
