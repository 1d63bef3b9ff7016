package station

import (
	"context"
	"fmt"
	"time"
)

// AuthStatus is the answer to "may this idTag charge here now", with the OCPP values.
type AuthStatus string

// The authorization statuses of OCPP 1.6.
const (
	AuthAccepted     AuthStatus = "Accepted"
	AuthBlocked      AuthStatus = "Blocked"
	AuthExpired      AuthStatus = "Expired"
	AuthInvalid      AuthStatus = "Invalid"
	AuthConcurrentTx AuthStatus = "ConcurrentTx"
)

// AuthRequest asks whether an idTag may charge.
type AuthRequest struct {
	AccountID   int64
	StationID   int64
	ConnectorID int // 0 when the station did not say (Authorize)
	IdTag       string
	At          time.Time
	// Starting is true at StartTransaction, false at Authorize.
	Starting bool
}

// Decision is an Authorizer's answer: what the station gets in idTagInfo.
type Decision struct {
	Status AuthStatus
	// CacheUntil is the expiry the station may cache the decision to; zero: none given.
	CacheUntil  time.Time
	ParentIdTag string
}

// Authorizer decides who may charge. The access rules (users, groups, windows) plug in here.
type Authorizer interface {
	Authorize(ctx context.Context, req AuthRequest) (Decision, error)
}

// TagAuthorizer accepts every idTag unless the account has it blocked or expired. Tags never
// seen before are recorded as unknown tags.
type TagAuthorizer struct {
	Store Store
}

// Authorize implements Authorizer.
func (a TagAuthorizer) Authorize(ctx context.Context, req AuthRequest) (Decision, error) {
	tag, err := a.Store.SeeIdTag(ctx, req.AccountID, req.IdTag, req.At)
	if err != nil {
		return Decision{}, fmt.Errorf("authorize %q: %w", req.IdTag, err)
	}
	return DecideTag(tag, req.At), nil
}

// DecideTag is the decision on a tag record alone.
func DecideTag(tag IdTag, at time.Time) Decision {
	d := Decision{Status: AuthAccepted, CacheUntil: tag.ExpiresAt, ParentIdTag: tag.ParentIdTag}
	switch {
	case tag.Blocked:
		d.Status, d.CacheUntil = AuthBlocked, time.Time{}
	case !tag.ExpiresAt.IsZero() && !at.Before(tag.ExpiresAt):
		d.Status = AuthExpired
	}
	return d
}
