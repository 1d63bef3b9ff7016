package storetest

import (
	"context"
	"testing"

	"github.com/chargebook/chargebook/internal/account"
)

// testTokens is the behaviour of account.TokenStore, which every chargebook store has.
func testTokens(t *testing.T, s Store) {
	ts, ok := s.(account.TokenStore)
	if !ok {
		t.Fatalf("%T does not implement account.TokenStore", s)
	}
	ctx := context.Background()
	a := newAccount(t, s, "a@example.com")
	b := newAccount(t, s, "b@example.com")

	tokA, secretA := account.NewToken(a.ID, "export", at(1))
	created, err := ts.CreateToken(ctx, tokA)
	must(t, err)
	if created.ID == 0 {
		t.Fatal("created token has no id")
	}
	tokA.ID = created.ID
	equal(t, "created", created, tokA)

	got, err := ts.TokenByHash(ctx, account.HashToken(secretA))
	must(t, err)
	equal(t, "by hash", got, tokA)
	_, err = ts.TokenByHash(ctx, account.HashToken(secretA+"x"))
	wantErr(t, err, account.ErrNotFound, "unknown hash")

	_, err = ts.CreateToken(ctx, tokA)
	wantErr(t, err, account.ErrDuplicate, "a hash stored twice")
	orphan, _ := account.NewToken(b.ID+1000, "", at(1))
	_, err = ts.CreateToken(ctx, orphan)
	wantErr(t, err, account.ErrNotFound, "token of an unknown account")

	tokA2, _ := account.NewToken(a.ID, "", at(2))
	tokA2, err = ts.CreateToken(ctx, tokA2)
	must(t, err)
	tokB, secretB := account.NewToken(b.ID, "b's", at(3))
	tokB, err = ts.CreateToken(ctx, tokB)
	must(t, err)

	list, err := ts.Tokens(ctx, a.ID)
	must(t, err)
	equal(t, "tokens of a, oldest first", list, []account.Token{tokA, tokA2})
	list, err = ts.Tokens(ctx, b.ID)
	must(t, err)
	equal(t, "tokens of b", list, []account.Token{tokB})

	// Last use only moves forward: requests may write it in any order.
	must(t, ts.TouchToken(ctx, tokA.ID, at(10)))
	must(t, ts.TouchToken(ctx, tokA.ID, at(9)))
	got, err = ts.TokenByHash(ctx, tokA.Hash)
	must(t, err)
	equal(t, "last used", got.LastUsedAt, at(10))
	wantErr(t, ts.TouchToken(ctx, tokB.ID+1000, at(10)), account.ErrNotFound, "touch of an unknown token")

	wantErr(t, ts.RevokeToken(ctx, b.ID, tokA.ID, at(20)), account.ErrNotFound, "revoke of another account's token")
	_, err = ts.TokenByHash(ctx, tokA.Hash)
	must(t, err)
	must(t, ts.RevokeToken(ctx, a.ID, tokA.ID, at(20)))
	_, err = ts.TokenByHash(ctx, tokA.Hash)
	wantErr(t, err, account.ErrNotFound, "revoked token by hash")
	must(t, ts.RevokeToken(ctx, a.ID, tokA.ID, at(30)))
	wantErr(t, ts.RevokeToken(ctx, a.ID, tokB.ID+1000, at(20)), account.ErrNotFound, "revoke of an unknown token")

	list, err = ts.Tokens(ctx, a.ID)
	must(t, err)
	tokA.LastUsedAt, tokA.RevokedAt = at(10), at(20)
	equal(t, "tokens of a after revoking one twice", list, []account.Token{tokA, tokA2})
	got, err = ts.TokenByHash(ctx, account.HashToken(secretB))
	must(t, err)
	equal(t, "the other account's token is untouched", got, tokB)
}
