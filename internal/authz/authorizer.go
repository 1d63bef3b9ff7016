package authz

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/station"
)

// Authorizer answers the stations with the access rules of their account. It keeps each
// account's rules built until Invalidate says they changed, so that a decision costs a
// map lookup or two, not a load of the account's records. It is safe for concurrent use.
type Authorizer struct {
	store Store
	log   *slog.Logger

	mu       sync.Mutex
	accounts map[int64]*cached
}

var _ station.Authorizer = (*Authorizer)(nil)

// cached is one account's entry. version counts the account's changes; load serializes the
// loads, so that a burst of authorizations after a change loads the records once.
type cached struct {
	load    sync.Mutex
	version uint64
	snap    *snapshot // nil until loaded; stale when snap.version != version
}

// snapshot is an account's records as loaded, and the rules built from them.
type snapshot struct {
	version uint64
	records Records
	// rules are built from records; when records do not build, the last rules that did,
	// and nil when none ever did.
	rules *access.Rules
	// err is why records do not build; nil when they do.
	err error
}

// NewAuthorizer returns an Authorizer reading the store.
func NewAuthorizer(store Store, log *slog.Logger) *Authorizer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Authorizer{store: store, log: log, accounts: make(map[int64]*cached)}
}

// Invalidate says the account's records changed: the next decision loads them again.
func (a *Authorizer) Invalidate(accountID int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.accounts[accountID]; c != nil {
		c.version++
	}
}

// accounts returns the accounts whose rules were loaded since the Authorizer started: those
// whose stations asked or whose rules changed.
func (a *Authorizer) accountIDs() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Sorted(maps.Keys(a.accounts))
}

// snapshot returns the account's current snapshot, loading it when it is stale.
func (a *Authorizer) snapshot(ctx context.Context, accountID int64) (*snapshot, error) {
	a.mu.Lock()
	c := a.accounts[accountID]
	if c == nil {
		c = &cached{}
		a.accounts[accountID] = c
	}
	if s := c.snap; s != nil && s.version == c.version {
		a.mu.Unlock()
		return s, nil
	}
	a.mu.Unlock()

	c.load.Lock()
	defer c.load.Unlock()
	a.mu.Lock()
	prev, version := c.snap, c.version
	a.mu.Unlock()
	if prev != nil && prev.version == version {
		return prev, nil // loaded while this call waited
	}
	records, err := a.store.AccessRecords(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("authz: rules of account %d: %w", accountID, err)
	}
	s := &snapshot{version: version, records: records}
	s.rules, s.err = build(records)
	if s.err != nil {
		// Rules are checked before they are stored, so only records written around the
		// checks get here. Deciding on the last rules that built beats refusing everyone.
		a.log.Error("authz: the account's access rules do not build; deciding with the last that did",
			"account", accountID, "err", s.err)
		if prev != nil {
			s.rules = prev.rules
		}
	}
	a.mu.Lock()
	// A change while loading bumped c.version: this snapshot is then stale at once, and
	// the next call loads again.
	c.snap = s
	a.mu.Unlock()
	return s, nil
}

// Authorize implements station.Authorizer with access.Decide. The tag is recorded as seen
// (unknown if the account never registered it) first, as TagAuthorizer does. At
// StartTransaction the tag's open transactions in the account are counted, leaving out the
// one being started if the station repeats its start.
//
// An account whose rules never built is decided on the tag alone, as TagAuthorizer does.
func (a *Authorizer) Authorize(ctx context.Context, req station.AuthRequest) (station.Decision, error) {
	var tag station.IdTag
	if req.IdTag != "" && !strings.EqualFold(req.IdTag, access.FreeIdTag) {
		var err error
		if tag, err = a.store.SeeIdTag(ctx, req.AccountID, req.IdTag, req.At); err != nil {
			return station.Decision{}, fmt.Errorf("authorize %q: %w", req.IdTag, err)
		}
	}
	snap, err := a.snapshot(ctx, req.AccountID)
	if err != nil {
		return station.Decision{}, fmt.Errorf("authorize %q: %w", req.IdTag, err)
	}
	if snap.rules == nil {
		return station.DecideTag(tag, req.At), nil
	}
	q := access.Query{StationID: req.StationID, IdTag: req.IdTag, At: req.At, Starting: req.Starting}
	d := access.Decide(snap.rules, q)
	if req.Starting && d.Status == station.AuthAccepted {
		// Only a tag that may start can be in a concurrent transaction; counting costs a query.
		if q.OpenTransactions, err = a.openTransactions(ctx, req); err != nil {
			return station.Decision{}, fmt.Errorf("authorize %q: %w", req.IdTag, err)
		}
		if q.OpenTransactions > 0 {
			d = access.Decide(snap.rules, q)
		}
	}
	a.log.Debug("authorize", "account", req.AccountID, "station", req.StationID, "idTag", req.IdTag,
		"starting", req.Starting, "status", d.Status, "reason", d.Reason, "unknown", d.Unknown)
	return d.Decision, nil
}

// openTransactions counts the tag's open transactions in the account, but for one the
// station started on the same connector at the same time: the start being decided, which
// a station repeats when it lost the answer.
func (a *Authorizer) openTransactions(ctx context.Context, req station.AuthRequest) (int, error) {
	open := true
	txs, err := a.store.Transactions(ctx, req.AccountID, station.TransactionFilter{IdTag: req.IdTag, Open: &open})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, tx := range txs {
		if tx.StationID == req.StationID && tx.ConnectorID == req.ConnectorID && tx.StartedAt.UnixMilli() == req.At.UnixMilli() {
			continue
		}
		n++
	}
	return n, nil
}
