package account

import (
	"strings"
	"testing"
	"time"
)

func TestNewToken(t *testing.T) {
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	tok, secret := NewToken(7, "export", now)
	if !LooksLikeToken(secret) || len(secret) != TokenLength || !strings.HasPrefix(secret, "cb_") {
		t.Fatalf("secret %q does not have the token shape", secret)
	}
	if tok.AccountID != 7 || tok.Name != "export" || !tok.CreatedAt.Equal(now) || tok.CreatedAt.Location() != time.UTC {
		t.Errorf("token %+v", tok)
	}
	if tok.Hash != HashToken(secret) || len(tok.Hash) != 64 {
		t.Errorf("hash %q is not the SHA-256 hex of the secret", tok.Hash)
	}
	if !strings.HasPrefix(secret, tok.Prefix) || len(tok.Prefix) != 8 {
		t.Errorf("prefix %q of %q", tok.Prefix, secret)
	}
	if tok.Revoked() {
		t.Error("a new token is revoked")
	}
	_, other := NewToken(7, "export", now)
	if other == secret {
		t.Error("two tokens with the same secret")
	}
}

func TestHashToken(t *testing.T) {
	// echo -n cb_test | sha256sum
	if got, want := HashToken("cb_test"), "c9910aa0f2d3dd8ce5c3ec2172204f40cec63dacd80180654d3771125c80fc13"; got != want {
		t.Errorf("HashToken = %q, want %q", got, want)
	}
	if HashToken("a") == HashToken("b") {
		t.Error("different secrets, same hash")
	}
}

func TestLooksLikeToken(t *testing.T) {
	_, good := NewToken(1, "", time.Now())
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{good, true},
		{"cb_" + strings.Repeat("A", 32), true},
		{"cb_" + strings.Repeat("-", 32), true},
		{"", false},
		{"cb_", false},
		{"cb_" + strings.Repeat("A", 31), false},
		{"cb_" + strings.Repeat("A", 33), false},
		{"xx_" + strings.Repeat("A", 32), false},
		{"cb_" + strings.Repeat("A", 31) + "=", false},
		{"cb_" + strings.Repeat("A", 31) + " ", false},
		{"CB_" + strings.Repeat("A", 32), false},
	} {
		if got := LooksLikeToken(tc.s); got != tc.want {
			t.Errorf("LooksLikeToken(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
