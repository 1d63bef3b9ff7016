// Package authz applies the access rules of package access to a running central system: it
// loads an account's rules from the store, keeps them built (*access.Rules) until they
// change, and answers the stations' Authorize and StartTransaction with them (Authorizer);
// it checks every change an operator makes against the whole account before it is stored,
// so that the rules in the store always build (Service); it keeps the stations' local
// authorization lists in step with the rules, and stops the sessions whose window has
// ended at stations that ask for it (Service.Run).
//
// Package access decides; this package loads, caches, records and sends. It knows nothing
// of SQL, HTTP or websockets: a Store keeps the records, and package operation sends
// SendLocalList and RemoteStopTransaction to the stations, recorded with the actor
// "system" like any other remote operation.
//
// The cache is per process. Every change through Service invalidates it; a change written
// by another node of a cluster is seen here only after the next change on this node or a
// restart (a shared version counter is left for when chargebook runs several nodes).
package authz

import (
	"context"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/station"
)

// Records are an account's access records as the store keeps them: what access.NewRules
// builds the account's Rules from.
type Records struct {
	// TimeZone is the account's IANA time zone, which the windows are in.
	TimeZone string
	// Users are the account's drivers by id, each with the groups they belong to.
	Users []access.User
	// Groups are by id.
	Groups []access.Group
	// Tags are the tags the account registered (known ones; not those only seen at a
	// station), by idTag.
	Tags []access.Tag
	// Stations are the access rules of the stations that have one, by station id.
	Stations []access.StationRule
}

// Store is what the Authorizer reads. *store.Store implements it.
type Store interface {
	// AccessRecords loads everything access.NewRules needs for one account.
	AccessRecords(ctx context.Context, accountID int64) (Records, error)
	// SeeIdTag records that a station presented the tag (creating it unknown if the account
	// never saw it) and returns the account's record of it.
	SeeIdTag(ctx context.Context, accountID int64, idTag string, at time.Time) (station.IdTag, error)
	// Transactions selects transactions; the Authorizer counts a tag's open ones with it.
	Transactions(ctx context.Context, accountID int64, f station.TransactionFilter) ([]station.Transaction, error)
}

// WriteStore keeps the access records the Service changes. The writes refuse ids of another
// account with station.ErrNotFound, but do not check the rules as a whole: the Service does,
// before it writes. *store.Store implements it.
type WriteStore interface {
	// CreateAccessUser stores a new user with their groups and returns it with its id.
	CreateAccessUser(ctx context.Context, accountID int64, u access.User, at time.Time) (access.User, error)
	// UpdateAccessUser replaces a user's fields and groups.
	UpdateAccessUser(ctx context.Context, accountID int64, u access.User, at time.Time) error
	// DeleteAccessUser deletes a user, their memberships and grants; their tags stand alone.
	DeleteAccessUser(ctx context.Context, accountID, id int64) error
	// CreateAccessGroup stores a new group with its members and returns it with its id.
	CreateAccessGroup(ctx context.Context, accountID int64, g access.Group, members []int64, at time.Time) (access.Group, error)
	// UpdateAccessGroup renames a group and replaces its members.
	UpdateAccessGroup(ctx context.Context, accountID int64, g access.Group, members []int64, at time.Time) error
	// DeleteAccessGroup deletes a group with its memberships and grants.
	DeleteAccessGroup(ctx context.Context, accountID, id int64) error
	// SaveAccessTag creates or replaces a registered tag and sets its user (0: none).
	SaveAccessTag(ctx context.Context, tag station.IdTag, userID int64) error
	// SaveStationAccess creates or replaces a station's rule with its grants.
	SaveStationAccess(ctx context.Context, accountID int64, r access.StationRule, at time.Time) error
	// DeleteStationAccess removes a station's rule: the station is public again.
	DeleteStationAccess(ctx context.Context, accountID, stationID int64) error
	// OpenTransactionsStoppedAtWindowEnd returns the open transactions of every account at
	// stations whose rule has the policy access.StopRemotely.
	OpenTransactionsStoppedAtWindowEnd(ctx context.Context) ([]station.Transaction, error)
}

// location is the account's time zone; an unknown or empty name is access.DefaultTimeZone,
// and UTC if even that cannot be loaded.
func location(name string) *time.Location {
	if name != "" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	if loc, err := time.LoadLocation(access.DefaultTimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// build checks and indexes records.
func build(r Records) (*access.Rules, error) {
	return access.NewRules(r.Users, r.Tags, r.Groups, r.Stations, location(r.TimeZone))
}
