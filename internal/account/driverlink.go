package account

import (
	"context"
	"time"
)

// DriverLink is a personal link an operator made for one driver (a user of the account's
// access rules): whoever opens it gets a driver session that sees that driver's charging
// sessions, and nothing else. Only the SHA-256 of its secret is kept (HashToken); the link
// is shown once, for the operator to pass on.
type DriverLink struct {
	ID        int64
	AccountID int64
	UserID    int64 // the driver: an access user of the account
	Hash      string
	// Prefix is the start of the secret, so that an operator tells links apart.
	Prefix     string
	CreatedBy  int64 // the operator who made it
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  time.Time // zero: not revoked
	LastUsedAt time.Time // zero: never opened
}

// Valid reports whether the link lets a driver in at now.
func (l DriverLink) Valid(now time.Time) bool {
	return l.RevokedAt.IsZero() && now.Before(l.ExpiresAt)
}

// DriverSession is a browser logged in with a DriverLink; it ends with the link.
type DriverSession struct {
	LinkID    int64
	Hash      string // SHA-256 of the cookie's secret
	CreatedAt time.Time
	ExpiresAt time.Time
}

// DriverLinkStore keeps driver links and the sessions opened with them. Lookups by hash
// answer only what is valid at now: a revoked or expired link, or a session of one, is
// ErrNotFound.
type DriverLinkStore interface {
	CreateDriverLink(ctx context.Context, l DriverLink) (DriverLink, error)
	// DriverLinks returns the links of one driver of the account, newest first.
	DriverLinks(ctx context.Context, accountID, userID int64) ([]DriverLink, error)
	// RevokeDriverLink revokes a link of the account and ends its sessions.
	RevokeDriverLink(ctx context.Context, accountID, id int64, at time.Time) error
	// UseDriverLink returns the valid link with that hash and records its use.
	UseDriverLink(ctx context.Context, hash string, now time.Time) (DriverLink, error)
	CreateDriverSession(ctx context.Context, s DriverSession) error
	// DriverSessionLink returns the link of a valid session with that hash.
	DriverSessionLink(ctx context.Context, hash string, now time.Time) (DriverLink, error)
	DeleteDriverSession(ctx context.Context, hash string) error
}
