package account

import (
	"context"
	"errors"
	"time"
)

// ErrLastOwner is returned when a change would leave an account without an owner.
var ErrLastOwner = errors.New("an account needs at least one owner")

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleManager || r == RoleReadOnly }

// CanChange reports whether the role may change anything in the account: everything but
// read-only.
func (r Role) CanChange() bool { return r == RoleOwner || r == RoleManager }

// Session is an operator logged in to the portal. Like a token, only the SHA-256 of its
// secret is kept (HashToken); the secret lives in the browser's cookie.
type Session struct {
	ID         int64
	OperatorID int64
	AccountID  int64
	Hash       string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// OperatorStore keeps the operators of accounts beyond the first, and the portal's log-in
// sessions. Every change is scoped to an account: an operator of another account is
// ErrNotFound.
type OperatorStore interface {
	OperatorByID(ctx context.Context, id int64) (Operator, error)
	// Operators returns the account's operators, oldest first.
	Operators(ctx context.Context, accountID int64) ([]Operator, error)
	// AddOperator stores a new operator of op.AccountID; an e-mail address in use anywhere
	// gives ErrDuplicate.
	AddOperator(ctx context.Context, op Operator) (Operator, error)
	// SetOperatorRole changes a role; taking the role of owner from the last owner gives
	// ErrLastOwner.
	SetOperatorRole(ctx context.Context, accountID, id int64, role Role) error
	SetOperatorPassword(ctx context.Context, accountID, id int64, hash string) error
	// DeleteOperator removes an operator and their sessions; removing the last owner gives
	// ErrLastOwner.
	DeleteOperator(ctx context.Context, accountID, id int64) error

	// CreateSession stores a session and returns it with its id.
	CreateSession(ctx context.Context, s Session) (Session, error)
	// SessionByHash returns the session with that hash expiring after now, or ErrNotFound.
	SessionByHash(ctx context.Context, hash string, now time.Time) (Session, error)
	// DeleteSession ends a session; an unknown hash is no error.
	DeleteSession(ctx context.Context, hash string) error
	// DeleteOperatorSessions ends the operator's sessions but the one with keepHash, and
	// every expired session of any operator.
	DeleteOperatorSessions(ctx context.Context, operatorID int64, keepHash string, now time.Time) error
}
