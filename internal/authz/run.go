package authz

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

// stopRetry is how long Run waits before it asks a station again to stop a transaction
// that is still open: the station may have refused, or its StopTransaction may be queued.
const stopRetry = 5 * time.Minute

// Run is the Service's background work, until ctx ends: after each change, it syncs the
// local lists of the account's connected stations that have one; every Interval, it stops
// the sessions whose access window has ended at stations whose rule says StopRemotely;
// every ResyncInterval, it sends the local lists that windows opening and closing have
// changed, to the stations of the accounts the Authorizer has loaded. The caller runs it
// on a goroutine of its own and cancels ctx to stop it; Run returns when the work in hand
// is done (an operation waits at most the call timeout of the Sender).
func (s *Service) Run(ctx context.Context) {
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	resync := time.NewTicker(s.resync)
	defer resync.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
			s.syncChanged(ctx)
		case <-tick.C:
			s.stopEnded(ctx)
		case <-resync.C:
			s.resyncAll(ctx)
		}
	}
}

// resyncAll syncs the local lists of every account the Authorizer has loaded: a list
// holds the tags its windows admit now, with their ends, so it changes as time passes.
// Lists that did not change are not sent.
func (s *Service) resyncAll(ctx context.Context) {
	if s.ops == nil {
		return
	}
	for _, id := range s.auth.accountIDs() {
		if ctx.Err() != nil {
			return
		}
		s.syncAccount(ctx, id)
	}
}

// syncChanged syncs the accounts changed since the last call.
func (s *Service) syncChanged(ctx context.Context) {
	if s.ops == nil {
		return
	}
	s.mu.Lock()
	accounts := slices.Sorted(maps.Keys(s.dirty))
	clear(s.dirty)
	s.mu.Unlock()
	for _, id := range accounts {
		s.syncAccount(ctx, id)
	}
}

// stopEnded sends RemoteStopTransaction for each open transaction whose window ended
// before now at a station with the policy StopRemotely, unless the rules admit its tag
// now (they changed, or another window carries on), and unless it was asked less than
// stopRetry ago. Stations not connected are left for a later round.
func (s *Service) stopEnded(ctx context.Context) {
	if s.ops == nil {
		return
	}
	txs, err := s.store.OpenTransactionsStoppedAtWindowEnd(ctx)
	if err != nil {
		s.log.Error("authz: sessions at window end", "err", err)
		return
	}
	now := s.now()
	open := make(map[int64]bool, len(txs))
	for _, tx := range txs {
		open[tx.ID] = true
		if ctx.Err() != nil {
			return
		}
		if asked, ok := s.stopAsked[tx.ID]; ok && now.Sub(asked) < stopRetry {
			continue
		}
		if !s.windowEnded(ctx, tx, now) {
			continue
		}
		if s.live != nil && !s.live.Connected(tx.AccountID, tx.ChargePointID) {
			continue
		}
		s.stopAsked[tx.ID] = now
		s.stop(ctx, tx)
	}
	for id := range s.stopAsked {
		if !open[id] {
			delete(s.stopAsked, id)
		}
	}
}

// windowEnded reports whether tx's window ended at or before now and the rules do not
// admit its tag now.
func (s *Service) windowEnded(ctx context.Context, tx station.Transaction, now time.Time) bool {
	snap, err := s.auth.snapshot(ctx, tx.AccountID)
	if err != nil {
		s.log.Error("authz: sessions at window end", "account", tx.AccountID, "err", err)
		return false
	}
	if snap.rules == nil {
		return false
	}
	end, policy, ok := access.WindowEnd(snap.rules, tx.StationID, tx.IdTag, tx.StartedAt)
	if !ok || policy != access.StopRemotely || now.Before(end) {
		return false
	}
	d := access.Decide(snap.rules, access.Query{StationID: tx.StationID, IdTag: tx.IdTag, At: now})
	return d.Status != station.AuthAccepted
}

func (s *Service) stop(ctx context.Context, tx station.Transaction) {
	payload, err := json.Marshal(ocpp.RemoteStopTransactionRequest{TransactionID: int(tx.ID)})
	if err != nil {
		return
	}
	res, err := s.ops.Execute(ctx, operation.Request{AccountID: tx.AccountID, ChargePointID: tx.ChargePointID,
		Actor: Actor, Action: "RemoteStopTransaction", Payload: payload})
	status := ""
	if r, ok := res.Response.(*ocpp.RemoteStopTransactionResponse); ok {
		status = string(r.Status)
	}
	if err != nil {
		s.log.Warn("authz: stop session at window end", "account", tx.AccountID, "station", tx.ChargePointID,
			"transaction", tx.ID, "err", err)
		return
	}
	s.log.Info("authz: session stopped at window end", "account", tx.AccountID, "station", tx.ChargePointID,
		"transaction", tx.ID, "idTag", tx.IdTag, "status", status)
}
