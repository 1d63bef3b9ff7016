package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/station"
)

// PortalStore is what the portal needs of a store besides account.Store and station.Store.
type PortalStore interface {
	account.OperatorStore
	SetStationPassword(ctx context.Context, accountID, stationID int64, hash string, at time.Time) error
	StationPassword(ctx context.Context, accountID int64, chargePointID string) (string, time.Time, error)
}

// testPortal is the behaviour of account.OperatorStore and of station passwords.
func testPortal(t *testing.T, s Store) {
	ps, ok := s.(PortalStore)
	if !ok {
		t.Fatalf("%T does not implement the portal's store", s)
	}
	ctx := context.Background()
	a, owner := newAccountOperator(t, s, "owner@example.com")
	b, ownerB := newAccountOperator(t, s, "b@example.com")

	// Operators.
	mgr, err := ps.AddOperator(ctx, account.Operator{AccountID: a.ID, Email: "mgr@example.com", PasswordHash: "h", Role: account.RoleManager, CreatedAt: at(1)})
	must(t, err)
	_, err = ps.AddOperator(ctx, account.Operator{AccountID: a.ID, Email: "b@example.com", PasswordHash: "h", Role: account.RoleManager})
	wantErr(t, err, account.ErrDuplicate, "an e-mail address of another account")
	_, err = ps.AddOperator(ctx, account.Operator{AccountID: b.ID + 1000, Email: "x@example.com", PasswordHash: "h", Role: account.RoleManager})
	wantErr(t, err, account.ErrNotFound, "operator of an unknown account")
	got, err := ps.OperatorByID(ctx, mgr.ID)
	must(t, err)
	equal(t, "by id", got, mgr)
	list, err := ps.Operators(ctx, a.ID)
	must(t, err)
	equal(t, "operators of a", list, []account.Operator{owner, mgr})

	wantErr(t, ps.SetOperatorRole(ctx, a.ID, owner.ID, account.RoleReadOnly), account.ErrLastOwner, "demote the last owner")
	wantErr(t, ps.DeleteOperator(ctx, a.ID, owner.ID), account.ErrLastOwner, "delete the last owner")
	wantErr(t, ps.SetOperatorRole(ctx, b.ID, mgr.ID, account.RoleOwner), account.ErrNotFound, "role of another account's operator")
	wantErr(t, ps.DeleteOperator(ctx, b.ID, mgr.ID), account.ErrNotFound, "delete another account's operator")
	wantErr(t, ps.SetOperatorPassword(ctx, b.ID, mgr.ID, "x"), account.ErrNotFound, "password of another account's operator")
	must(t, ps.SetOperatorRole(ctx, a.ID, mgr.ID, account.RoleOwner))
	must(t, ps.SetOperatorRole(ctx, a.ID, owner.ID, account.RoleReadOnly))
	must(t, ps.SetOperatorPassword(ctx, a.ID, owner.ID, "new-hash"))
	got, err = ps.OperatorByID(ctx, owner.ID)
	must(t, err)
	equal(t, "changed", [2]string{string(got.Role), got.PasswordHash}, [2]string{"read-only", "new-hash"})

	// Sessions.
	sess, err := ps.CreateSession(ctx, account.Session{OperatorID: owner.ID, AccountID: a.ID, Hash: "s1", CreatedAt: at(0), ExpiresAt: at(60)})
	must(t, err)
	_, err = ps.CreateSession(ctx, account.Session{OperatorID: owner.ID, AccountID: a.ID, Hash: "s2", CreatedAt: at(0), ExpiresAt: at(60)})
	must(t, err)
	_, err = ps.CreateSession(ctx, account.Session{OperatorID: ownerB.ID, AccountID: a.ID, Hash: "s3", ExpiresAt: at(60)})
	wantErr(t, err, account.ErrNotFound, "session of an operator in another account")
	gotS, err := ps.SessionByHash(ctx, "s1", at(59))
	must(t, err)
	equal(t, "session", gotS, sess)
	_, err = ps.SessionByHash(ctx, "s1", at(60))
	wantErr(t, err, account.ErrNotFound, "expired session")
	must(t, ps.DeleteOperatorSessions(ctx, owner.ID, "s1", at(1)))
	_, err = ps.SessionByHash(ctx, "s2", at(1))
	wantErr(t, err, account.ErrNotFound, "the operator's other session")
	_, err = ps.SessionByHash(ctx, "s1", at(1))
	must(t, err)
	must(t, ps.DeleteSession(ctx, "s1"))
	must(t, ps.DeleteSession(ctx, "s1"))
	_, err = ps.SessionByHash(ctx, "s1", at(1))
	wantErr(t, err, account.ErrNotFound, "deleted session")
	_, err = ps.CreateSession(ctx, account.Session{OperatorID: mgr.ID, AccountID: a.ID, Hash: "m1", ExpiresAt: at(60)})
	must(t, err)
	must(t, ps.SetOperatorRole(ctx, a.ID, owner.ID, account.RoleOwner))
	must(t, ps.DeleteOperator(ctx, a.ID, mgr.ID))
	_, err = ps.SessionByHash(ctx, "m1", at(1))
	wantErr(t, err, account.ErrNotFound, "session of a deleted operator")

	// Station passwords.
	st := newStation(t, s, a.ID, "CP-1")
	hash, _, err := ps.StationPassword(ctx, a.ID, "CP-1")
	must(t, err)
	equal(t, "no password", hash, "")
	wantErr(t, ps.SetStationPassword(ctx, b.ID, st.ID, "h1", at(1)), station.ErrNotFound, "password of another account's station")
	must(t, ps.SetStationPassword(ctx, a.ID, st.ID, "h1", at(1)))
	must(t, ps.SetStationPassword(ctx, a.ID, st.ID, "h2", at(2)))
	hash, setAt, err := ps.StationPassword(ctx, a.ID, "CP-1")
	must(t, err)
	equal(t, "password", [2]any{hash, setAt}, [2]any{"h2", at(2)})
	hash, _, err = ps.StationPassword(ctx, b.ID, "CP-1")
	must(t, err)
	equal(t, "another account's station of that id", hash, "")
	must(t, ps.SetStationPassword(ctx, a.ID, st.ID, "", at(3)))
	hash, _, err = ps.StationPassword(ctx, a.ID, "CP-1")
	must(t, err)
	equal(t, "removed", hash, "")
}
