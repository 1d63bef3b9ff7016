package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Token is an API token of an account: whoever presents its secret acts as the account in
// the REST API. Only the SHA-256 of the secret is kept; the secret is shown once, when the
// token is made.
type Token struct {
	ID        int64
	AccountID int64
	Name      string // what the operator calls it, e.g. "billing export"
	// Prefix is the start of the secret ("cb_" and a few characters), kept so that a listing
	// tells tokens apart without showing them.
	Prefix     string
	Hash       string // HashToken of the secret
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used; updated at most once per TokenTouchInterval
	RevokedAt  time.Time // zero: live
}

// Revoked reports whether the token was revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// TokenStore keeps API tokens. It is apart from Store because only the API needs it: the
// OCPP endpoint and the commands that manage accounts do not.
type TokenStore interface {
	// CreateToken stores a new token of an existing account and returns it with its id.
	// An account that does not exist gives ErrNotFound; a hash already stored, ErrDuplicate.
	CreateToken(ctx context.Context, t Token) (Token, error)
	// TokenByHash returns the live token with that hash; a revoked or unknown one gives
	// ErrNotFound. It runs on every API request, so it must be an indexed read.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// Tokens returns the account's tokens, revoked ones included, oldest first.
	Tokens(ctx context.Context, accountID int64) ([]Token, error)
	// RevokeToken revokes a token of the account at the given time (zero: now). A token of
	// another account, or none, gives ErrNotFound; revoking a revoked token keeps the time
	// it was first revoked and is no error.
	RevokeToken(ctx context.Context, accountID, id int64, at time.Time) error
	// TouchToken moves the token's last-used time forward to at; an earlier time leaves it.
	// Callers throttle it (see TokenTouchInterval): it is a write.
	TouchToken(ctx context.Context, id int64, at time.Time) error
}

// The shape of a token's secret.
const (
	// TokenPrefix starts every secret, so that a leaked token is recognisable (and secret
	// scanners can be taught to find it).
	TokenPrefix = "cb_"
	// tokenRandomLength characters of 64 possible each: 192 bits.
	tokenRandomLength = 32
	// TokenLength is the length of a whole secret.
	TokenLength = len(TokenPrefix) + tokenRandomLength
	// tokenPrefixLength is how much of the secret a listing shows: TokenPrefix and 5
	// characters (30 bits, enough to tell an account's tokens apart).
	tokenPrefixLength = len(TokenPrefix) + 5
)

// TokenTouchInterval is how stale a token's last-used time may be: a request writes it only
// when the stored time is older, so that API requests do not each cost a write.
const TokenTouchInterval = time.Minute

// tokenAlphabet is URL-safe and has 64 characters, so that a random byte maps to one
// without bias.
const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// NewToken makes a token of the account and returns it, not stored, with its secret: "cb_"
// and 32 random characters. The secret is not kept anywhere; the caller shows it once.
func NewToken(accountID int64, name string, now time.Time) (Token, string) {
	b := make([]byte, tokenRandomLength)
	rand.Read(b) // never fails on supported platforms
	for i := range b {
		b[i] = tokenAlphabet[b[i]&63]
	}
	secret := TokenPrefix + string(b)
	return Token{
		AccountID: accountID,
		Name:      name,
		Prefix:    secret[:tokenPrefixLength],
		Hash:      HashToken(secret),
		CreatedAt: now.UTC(),
	}, secret
}

// HashToken is what a store keeps of a secret: its SHA-256 in hex. A secret of 192 random
// bits cannot be guessed from its hash, so no slow password hash is needed, and the lookup
// on every request stays a single indexed read.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// LooksLikeToken reports whether s has the shape of a secret NewToken makes, so that
// garbage is refused without a database read.
func LooksLikeToken(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(rest) != tokenRandomLength {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(tokenAlphabet, rest[i]) < 0 {
			return false
		}
	}
	return true
}
