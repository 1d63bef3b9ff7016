package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
)

// Driver links let in only while valid; revoking one ends its sessions.
func TestDriverLinks(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	acct, op, err := s.CreateAccount(ctx, account.Account{Key: account.NewKey(), Name: "a", TimeZone: account.DefaultTimeZone},
		account.Operator{Email: "o@example.com", PasswordHash: "x", Role: account.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	tok, secret := account.NewToken(acct.ID, "", now)
	l, err := s.CreateDriverLink(ctx, account.DriverLink{AccountID: acct.ID, UserID: 7, Hash: tok.Hash, Prefix: tok.Prefix,
		CreatedBy: op.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseDriverLink(ctx, account.HashToken(secret), now.Add(2*time.Hour)); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("expired link: %v", err)
	}
	got, err := s.UseDriverLink(ctx, account.HashToken(secret), now)
	if err != nil || got.ID != l.ID || got.UserID != 7 || !got.LastUsedAt.Equal(now) {
		t.Fatalf("use: %+v, %v", got, err)
	}
	if err := s.CreateDriverSession(ctx, account.DriverSession{LinkID: l.ID, Hash: "h1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.DriverSessionLink(ctx, "h1", now); err != nil || got.ID != l.ID {
		t.Fatalf("session: %+v, %v", got, err)
	}
	links, err := s.DriverLinks(ctx, acct.ID, 7)
	if err != nil || len(links) != 1 {
		t.Fatalf("links %v, %v", links, err)
	}
	if err := s.RevokeDriverLink(ctx, acct.ID+1, l.ID, now); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("another account revokes: %v", err)
	}
	if err := s.RevokeDriverLink(ctx, acct.ID, l.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DriverSessionLink(ctx, "h1", now); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("session of a revoked link: %v", err)
	}
	if _, err := s.UseDriverLink(ctx, account.HashToken(secret), now); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("revoked link: %v", err)
	}
}
