package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

// ErrNoOperations is SyncLocalList on a Service that sends no operations.
var ErrNoOperations = errors.New("this server sends no remote operations")

// SyncResult is what a local list sync did.
type SyncResult struct {
	// Operation is the SendLocalList sent and recorded, with its outcome; nil when none
	// was sent. A sync that had a differential update refused with VersionMismatch sends a
	// full one after it: Operation is then the full one.
	Operation *operation.Operation
	// UpdateType is Full or Differential; empty when nothing was sent.
	UpdateType ocpp.UpdateType
	// Status is the station's answer (Accepted, Failed, NotSupported, VersionMismatch);
	// empty when nothing was sent or the station did not answer.
	Status ocpp.UpdateStatus
	// Entries is how many entries were sent: every entry of a full update, the changed
	// and removed ones of a differential one.
	Entries int
	// Skipped says why nothing was sent; empty when something was.
	Skipped string
}

// The reasons a sync sends nothing.
const (
	SkippedUpToDate       = "the station's list is up to date"
	SkippedUnknownVersion = "the station's local list version is unknown (GetLocalListVersion)"
	SkippedNoLocalList    = "the station reported that it has no local list"
)

// SyncLocalList sends the station the local list its rules give now (access.LocalList),
// as the operator asks for: even when its list version is unknown. See syncStation.
func (s *Service) SyncLocalList(ctx context.Context, accountID int64, chargePointID string) (SyncResult, error) {
	if s.ops == nil {
		return SyncResult{}, ErrNoOperations
	}
	st, err := s.stations.StationByChargePointID(ctx, accountID, chargePointID)
	if err != nil {
		return SyncResult{}, fmt.Errorf("authz: local list of %s: %w", chargePointID, err)
	}
	return s.syncStation(ctx, st, true)
}

// syncAccount syncs the local lists of the account's connected stations that have one.
func (s *Service) syncAccount(ctx context.Context, accountID int64) {
	sts, err := s.stations.Stations(ctx, accountID)
	if err != nil {
		s.log.Error("authz: sync local lists", "account", accountID, "err", err)
		return
	}
	for _, st := range sts {
		if ctx.Err() != nil {
			return
		}
		if !s.connected(st) {
			continue
		}
		res, err := s.syncStation(ctx, st, false)
		switch {
		case err != nil:
			s.log.Warn("authz: sync local list", "account", accountID, "station", st.ChargePointID, "err", err)
		case res.Operation != nil:
			s.log.Info("authz: local list sent", "account", accountID, "station", st.ChargePointID,
				"updateType", res.UpdateType, "entries", res.Entries, "status", res.Status)
		}
	}
}

func (s *Service) connected(st station.Station) bool {
	if s.live == nil {
		return st.Connected
	}
	return s.live.Connected(st.AccountID, st.ChargePointID)
}

// syncStation sends the station the list its rules give now, if it differs from the list
// the central system last sent it. The update is differential (access.DiffLocalList
// against the list package operation kept of the last SendLocalList accepted), or full when
// no list was sent before, when the station's version differs from the one that list made
// (its list changed some other way), or when the station refused a differential update
// with VersionMismatch.
//
// Unless force, a station whose list version is unknown or -1 (no local list) is skipped.
func (s *Service) syncStation(ctx context.Context, st station.Station, force bool) (SyncResult, error) {
	have, err := s.ops.LocalList(ctx, st.AccountID, st.ChargePointID)
	if err != nil {
		return SyncResult{}, fmt.Errorf("authz: local list of %s: %w", st.ChargePointID, err)
	}
	if !force {
		switch {
		case have.Version == nil:
			return SyncResult{Skipped: SkippedUnknownVersion}, nil
		case *have.Version < 0:
			return SyncResult{Skipped: SkippedNoLocalList}, nil
		}
	}
	snap, err := s.auth.snapshot(ctx, st.AccountID)
	if err != nil {
		return SyncResult{}, fmt.Errorf("authz: local list of %s: %w", st.ChargePointID, err)
	}
	if snap.rules == nil {
		return SyncResult{}, fmt.Errorf("authz: local list of %s: %w", st.ChargePointID, snap.err)
	}
	want := access.LocalList(snap.rules, st.ID, s.now())
	full := have.EntriesVersion == nil || have.Version == nil || *have.Version != *have.EntriesVersion
	if !full {
		res, err := s.sendDifferential(ctx, st, have, want)
		if err != nil || res.Status != ocpp.UpdateStatusVersionMismatch {
			return res, err
		}
		// The station's list is not the one recorded: replace it.
		if v := versionOf(res.Operation); v > 0 {
			have.Version = &v
		}
	}
	return s.sendList(ctx, st, nextVersion(have), ocpp.UpdateTypeFull, fullList(want))
}

func (s *Service) sendDifferential(ctx context.Context, st station.Station, have operation.LocalList, want []access.Entry) (SyncResult, error) {
	old := make([]access.Entry, len(have.Entries))
	for i, e := range have.Entries {
		old[i] = access.Entry{IdTag: e.IdTag, Status: station.AuthStatus(e.Status), ExpiryDate: e.ExpiryDate, ParentIdTag: e.ParentIdTag}
	}
	upserts, removals := access.DiffLocalList(old, want)
	if len(upserts) == 0 && len(removals) == 0 {
		return SyncResult{Skipped: SkippedUpToDate}, nil
	}
	list := fullList(upserts)
	for _, tag := range removals {
		list = append(list, ocpp.AuthorizationData{IdTag: tag})
	}
	return s.sendList(ctx, st, nextVersion(have), ocpp.UpdateTypeDifferential, list)
}

func (s *Service) sendList(ctx context.Context, st station.Station, version int, typ ocpp.UpdateType, list []ocpp.AuthorizationData) (SyncResult, error) {
	payload, err := json.Marshal(ocpp.SendLocalListRequest{ListVersion: version, LocalAuthorizationList: list, UpdateType: typ})
	if err != nil {
		return SyncResult{}, fmt.Errorf("authz: local list of %s: %w", st.ChargePointID, err)
	}
	res := SyncResult{UpdateType: typ, Entries: len(list)}
	out, err := s.ops.Execute(ctx, operation.Request{AccountID: st.AccountID, ChargePointID: st.ChargePointID,
		Actor: Actor, Action: "SendLocalList", Payload: payload})
	if out.Operation.ID != 0 {
		op := out.Operation
		res.Operation = &op
	}
	if err != nil {
		return res, fmt.Errorf("authz: local list of %s: %w", st.ChargePointID, err)
	}
	if r, ok := out.Response.(*ocpp.SendLocalListResponse); ok {
		res.Status = r.Status
	}
	return res, nil
}

// fullList is the entries as a SendLocalList carries them.
func fullList(entries []access.Entry) []ocpp.AuthorizationData {
	out := make([]ocpp.AuthorizationData, len(entries))
	for i, e := range entries {
		info := &ocpp.IdTagInfo{Status: ocpp.AuthorizationStatus(e.Status), ParentIdTag: e.ParentIdTag}
		if !e.ExpiryDate.IsZero() {
			info.ExpiryDate = &ocpp.DateTime{Time: e.ExpiryDate.UTC()}
		}
		out[i] = ocpp.AuthorizationData{IdTag: e.IdTag, IdTagInfo: info}
	}
	return out
}

// nextVersion is a list version above every version the station had.
func nextVersion(l operation.LocalList) int {
	v := 0
	if l.Version != nil {
		v = max(v, *l.Version)
	}
	if l.EntriesVersion != nil {
		v = max(v, *l.EntriesVersion)
	}
	return v + 1
}

// versionOf is the list version a recorded SendLocalList sent; 0 if it cannot be read.
func versionOf(op *operation.Operation) int {
	if op == nil {
		return 0
	}
	var req ocpp.SendLocalListRequest
	if err := json.Unmarshal(op.Request, &req); err != nil {
		return 0
	}
	return req.ListVersion
}
