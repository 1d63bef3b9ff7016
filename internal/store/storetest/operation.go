package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

// testOperations is the behaviour of operation.Store, for stores that implement it. Its parts
// run one after the other on the store of the test, each on accounts of its own.
func testOperations(t *testing.T, s Store) {
	ops, ok := s.(operation.Store)
	if !ok {
		t.Fatalf("%T does not implement operation.Store", s)
	}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s Store, ops operation.Store)
	}{
		{"Log", testOperationLog},
		{"Configuration", testOperationConfiguration},
		{"Reservations", testOperationReservations},
		{"ChargingProfiles", testOperationProfiles},
		{"RemoteStartProfile", testOperationRemoteStartProfile},
		{"LocalList", testOperationLocalList},
		{"FirmwareDiagnostics", testOperationFirmwareDiagnostics},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, s, ops) })
	}
}

// opFixture is an account with two stations and another account with one.
type opFixture struct {
	acct, other int64
	cp1, cp2    station.Station
	foreign     station.Station
}

func newOpFixture(t *testing.T, s Store, name string) opFixture {
	a := newAccount(t, s, name+"@a.example.com")
	b := newAccount(t, s, name+"@b.example.com")
	return opFixture{
		acct: a.ID, other: b.ID,
		cp1: newStation(t, s, a.ID, "CP1"), cp2: newStation(t, s, a.ID, "CP2"),
		foreign: newStation(t, s, b.ID, "CP1"),
	}
}

// runOp records an operation of action at minute m and finishes it, answered with resp, with
// the effects fx; it returns the finished record.
func runOp(t *testing.T, ops operation.Store, st station.Station, action string, m int, resp string, fx operation.Effects) operation.Operation {
	t.Helper()
	ctx := context.Background()
	op, err := ops.CreateOperation(ctx, operation.Operation{
		AccountID: st.AccountID, StationID: st.ID, ChargePointID: st.ChargePointID, Action: action,
		Actor: "token:1", Request: json.RawMessage(`{}`), RequestedAt: at(m), Status: operation.Pending,
	})
	must(t, err)
	op.Status, op.Response, op.FinishedAt = operation.Answered, json.RawMessage(resp), at(m).Add(time.Second)
	must(t, ops.FinishOperation(ctx, op, fx))
	return op
}

func testOperationLog(t *testing.T, s Store, ops operation.Store) {
	ctx := context.Background()
	f := newOpFixture(t, s, "log")

	_, err := ops.CreateOperation(ctx, operation.Operation{AccountID: f.acct, StationID: f.foreign.ID, Action: "Reset",
		Request: json.RawMessage(`{}`), RequestedAt: at(0), Status: operation.Pending})
	wantErr(t, err, station.ErrNotFound, "operation on another account's station")

	pending, err := ops.CreateOperation(ctx, operation.Operation{
		AccountID: f.acct, StationID: f.cp1.ID, ChargePointID: "CP1", Action: "Reset", Actor: "token:3",
		Request: json.RawMessage(`{"type":"Soft"}`), RequestedAt: at(1), Status: operation.Pending,
	})
	must(t, err)
	got, err := ops.Operation(ctx, f.acct, pending.ID)
	must(t, err)
	equal(t, "pending operation", got, pending)

	failed := pending
	failed.Status, failed.Failure, failed.ErrorCode, failed.ErrorDescription = operation.Failed, operation.FailureCallError, "NotSupported", "no"
	failed.FinishedAt = at(2)
	must(t, ops.FinishOperation(ctx, failed, operation.Effects{}))
	got, err = ops.Operation(ctx, f.acct, pending.ID)
	must(t, err)
	equal(t, "failed operation", got, failed)

	foreignOp := failed
	foreignOp.AccountID = f.other
	wantErr(t, ops.FinishOperation(ctx, foreignOp, operation.Effects{}), station.ErrNotFound, "finish through another account")
	_, err = ops.Operation(ctx, f.other, pending.ID)
	wantErr(t, err, station.ErrNotFound, "operation read by another account")

	answered := runOp(t, ops, f.cp2, "GetConfiguration", 3, `{"configurationKey":[]}`, operation.Effects{})
	third := runOp(t, ops, f.cp1, "GetConfiguration", 4, `{}`, operation.Effects{})
	runOp(t, ops, f.foreign, "GetConfiguration", 5, `{}`, operation.Effects{})
	got, err = ops.Operation(ctx, f.acct, answered.ID)
	must(t, err)
	equal(t, "answered operation", got, answered)

	ids := func(ops []operation.Operation, err error) []int64 {
		t.Helper()
		must(t, err)
		out := []int64{}
		for _, op := range ops {
			out = append(out, op.ID)
		}
		return out
	}
	equal(t, "all, newest first", ids(ops.Operations(ctx, f.acct, operation.OperationFilter{})), []int64{third.ID, answered.ID, pending.ID})
	equal(t, "of CP1", ids(ops.Operations(ctx, f.acct, operation.OperationFilter{ChargePointID: "CP1"})), []int64{third.ID, pending.ID})
	equal(t, "GetConfiguration", ids(ops.Operations(ctx, f.acct, operation.OperationFilter{Action: "GetConfiguration"})), []int64{third.ID, answered.ID})
	equal(t, "limit", ids(ops.Operations(ctx, f.acct, operation.OperationFilter{Limit: 1})), []int64{third.ID})
	equal(t, "none of CP3", ids(ops.Operations(ctx, f.acct, operation.OperationFilter{ChargePointID: "CP3"})), []int64{})
	if ops, err := ops.Operations(ctx, f.other, operation.OperationFilter{}); err != nil || len(ops) != 1 || ops[0].ChargePointID != "CP1" || ops[0].StationID != f.foreign.ID {
		t.Errorf("the other account's operations: %+v, %v", ops, err)
	}
}

func testOperationConfiguration(t *testing.T, s Store, ops operation.Store) {
	ctx := context.Background()
	f := newOpFixture(t, s, "config")
	config := func(st station.Station) []operation.ConfigKey {
		t.Helper()
		keys, err := ops.Configuration(ctx, st.AccountID, st.ID)
		must(t, err)
		return keys
	}
	if keys := config(f.cp1); len(keys) != 0 {
		t.Errorf("configuration before any report: %+v", keys)
	}
	runOp(t, ops, f.cp1, "GetConfiguration", 1, `{}`, operation.Effects{Configuration: &operation.ConfigReport{Full: true, Keys: []operation.ConfigKey{
		{Key: "MeterValueSampleInterval", Value: "60"}, {Key: "NumberOfConnectors", Value: "2", Readonly: true}, {Key: "Old", Value: "x"},
	}}})
	runOp(t, ops, f.cp2, "GetConfiguration", 1, `{}`, operation.Effects{Configuration: &operation.ConfigReport{Full: true, Keys: []operation.ConfigKey{{Key: "Other", Value: "station"}}}})
	done := at(1).Add(time.Second)
	equal(t, "full report", config(f.cp1), []operation.ConfigKey{
		{Key: "MeterValueSampleInterval", Value: "60", UpdatedAt: done},
		{Key: "NumberOfConnectors", Value: "2", Readonly: true, UpdatedAt: done},
		{Key: "Old", Value: "x", UpdatedAt: done},
	})

	runOp(t, ops, f.cp1, "ChangeConfiguration", 2, `{"status":"RebootRequired"}`, operation.Effects{ConfigChange: &operation.ConfigKey{Key: "NumberOfConnectors", Value: "3", RebootRequired: true}})
	runOp(t, ops, f.cp1, "ChangeConfiguration", 3, `{"status":"Accepted"}`, operation.Effects{ConfigChange: &operation.ConfigKey{Key: "VendorKey", Value: "v"}})
	runOp(t, ops, f.cp1, "GetConfiguration", 4, `{}`, operation.Effects{Configuration: &operation.ConfigReport{
		Keys: []operation.ConfigKey{{Key: "MeterValueSampleInterval", Value: "30"}}, Unknown: []string{"Nope"},
	}})
	equal(t, "after changes and a partial report", config(f.cp1), []operation.ConfigKey{
		{Key: "MeterValueSampleInterval", Value: "30", UpdatedAt: at(4).Add(time.Second)},
		{Key: "Nope", Unknown: true, UpdatedAt: at(4).Add(time.Second)},
		{Key: "NumberOfConnectors", Value: "3", Readonly: true, RebootRequired: true, UpdatedAt: at(2).Add(time.Second)},
		{Key: "Old", Value: "x", UpdatedAt: done},
		{Key: "VendorKey", Value: "v", UpdatedAt: at(3).Add(time.Second)},
	})

	runOp(t, ops, f.cp1, "GetConfiguration", 5, `{}`, operation.Effects{Configuration: &operation.ConfigReport{Full: true, Keys: []operation.ConfigKey{{Key: "NumberOfConnectors", Value: "3", Readonly: true}}}})
	equal(t, "a full report replaces", config(f.cp1), []operation.ConfigKey{{Key: "NumberOfConnectors", Value: "3", Readonly: true, UpdatedAt: at(5).Add(time.Second)}})
	equal(t, "the other station's", config(f.cp2), []operation.ConfigKey{{Key: "Other", Value: "station", UpdatedAt: done}})

	_, err := ops.Configuration(ctx, f.other, f.cp1.ID)
	wantErr(t, err, station.ErrNotFound, "configuration read by another account")
}

func testOperationReservations(t *testing.T, s Store, ops operation.Store) {
	ctx := context.Background()
	f := newOpFixture(t, s, "reservations")
	reserve := func(st station.Station, m, reservationID, connector int, state operation.ReservationState, expires time.Time) operation.Operation {
		t.Helper()
		return runOp(t, ops, st, "ReserveNow", m, `{}`, operation.Effects{Reservation: &operation.Reservation{
			ReservationID: reservationID, ConnectorID: connector, IdTag: "TAG", ParentIdTag: "P",
			ExpiresAt: expires, State: state, CreatedAt: at(m), UpdatedAt: at(m),
		}})
	}
	states := func(f operation.ReservationFilter, acct int64) map[int64]operation.ReservationState {
		t.Helper()
		rs, err := ops.Reservations(ctx, acct, f)
		must(t, err)
		out := map[int64]operation.ReservationState{}
		for _, r := range rs {
			out[r.OperationID] = r.State
		}
		return out
	}

	first := reserve(f.cp1, 1, 10, 1, operation.Reserved, at(60))
	rs, err := ops.Reservations(ctx, f.acct, operation.ReservationFilter{})
	must(t, err)
	done := at(1).Add(time.Second)
	equal(t, "reservation", rs, []operation.Reservation{{
		ID: rs[0].ID, AccountID: f.acct, StationID: f.cp1.ID, ChargePointID: "CP1", ReservationID: 10, ConnectorID: 1,
		IdTag: "TAG", ParentIdTag: "P", ExpiresAt: at(60), State: operation.Reserved, OperationID: first.ID,
		CreatedAt: done, UpdatedAt: done,
	}})

	again := reserve(f.cp1, 2, 10, 2, operation.Reserved, at(90))
	occupied := reserve(f.cp1, 3, 11, 1, operation.Occupied, at(60))
	soon := reserve(f.cp2, 4, 10, 0, operation.Reserved, at(30))
	reserve(f.foreign, 5, 10, 0, operation.Reserved, at(30))
	equal(t, "states", states(operation.ReservationFilter{}, f.acct), map[int64]operation.ReservationState{
		first.ID: operation.Replaced, again.ID: operation.Reserved, occupied.ID: operation.Occupied, soon.ID: operation.Reserved,
	})
	equal(t, "reserved at minute 40", states(operation.ReservationFilter{State: operation.Reserved, At: at(40)}, f.acct),
		map[int64]operation.ReservationState{again.ID: operation.Reserved})
	equal(t, "expired at minute 40", states(operation.ReservationFilter{State: operation.Expired, At: at(40)}, f.acct),
		map[int64]operation.ReservationState{soon.ID: operation.Reserved})
	equal(t, "expired at minute 30, the instant of expiry", states(operation.ReservationFilter{State: operation.Expired, At: at(30)}, f.acct),
		map[int64]operation.ReservationState{soon.ID: operation.Reserved})
	equal(t, "of CP2", states(operation.ReservationFilter{ChargePointID: "CP2"}, f.acct), map[int64]operation.ReservationState{soon.ID: operation.Reserved})
	equal(t, "occupied", states(operation.ReservationFilter{State: operation.Occupied}, f.acct), map[int64]operation.ReservationState{occupied.ID: operation.Occupied})
	if rs, err := ops.Reservations(ctx, f.acct, operation.ReservationFilter{Limit: 2}); err != nil || len(rs) != 2 || rs[0].OperationID != soon.ID {
		t.Errorf("limit 2, newest first: %+v, %v", rs, err)
	}

	active, err := ops.ActiveReservation(ctx, f.acct, f.cp1.ID, 10)
	must(t, err)
	if active.OperationID != again.ID || active.ConnectorID != 2 {
		t.Errorf("active reservation 10 of CP1: %+v", active)
	}
	_, err = ops.ActiveReservation(ctx, f.acct, f.cp1.ID, 11)
	wantErr(t, err, station.ErrNotFound, "reservation refused")
	_, err = ops.ActiveReservation(ctx, f.other, f.cp1.ID, 10)
	wantErr(t, err, station.ErrNotFound, "reservation of another account")

	wantErr(t, ops.UseReservation(ctx, f.other, active.ID, 77, at(10)), station.ErrNotFound, "use through another account")
	must(t, ops.UseReservation(ctx, f.acct, active.ID, 77, at(10)))
	wantErr(t, ops.UseReservation(ctx, f.acct, active.ID, 78, at(11)), station.ErrNotFound, "use a used reservation")
	rs, err = ops.Reservations(ctx, f.acct, operation.ReservationFilter{State: operation.Used})
	must(t, err)
	if len(rs) != 1 || rs[0].ID != active.ID || rs[0].TransactionID == nil || *rs[0].TransactionID != 77 || !rs[0].UpdatedAt.Equal(at(10)) {
		t.Errorf("used reservation: %+v", rs)
	}

	runOp(t, ops, f.cp2, "CancelReservation", 6, `{"status":"Accepted"}`, operation.Effects{CancelReservation: ptr(10)})
	equal(t, "after cancel", states(operation.ReservationFilter{ChargePointID: "CP2"}, f.acct), map[int64]operation.ReservationState{soon.ID: operation.Cancelled})
	// The cancel named reservationId 10 of CP2: the other account's 10 is untouched.
	for _, st := range states(operation.ReservationFilter{}, f.other) {
		if st != operation.Reserved {
			t.Errorf("the other account's reservation is %s", st)
		}
	}
}

func testOperationProfiles(t *testing.T, s Store, ops operation.Store) {
	ctx := context.Background()
	f := newOpFixture(t, s, "profiles")
	set := func(st station.Station, m, connector, id, stack int, purpose ocpp.ChargingProfilePurposeType) {
		t.Helper()
		runOp(t, ops, st, "SetChargingProfile", m, `{"status":"Accepted"}`, operation.Effects{Profile: &operation.ChargingProfile{
			ConnectorID: connector, Profile: ocpp.ChargingProfile{
				ChargingProfileID: id, StackLevel: stack, ChargingProfilePurpose: purpose,
				ChargingProfileKind: ocpp.ChargingProfileKindTypeAbsolute,
				ValidTo:             &ocpp.DateTime{Time: at(600)},
				ChargingSchedule: ocpp.ChargingSchedule{ChargingRateUnit: ocpp.ChargingRateUnitTypeA,
					ChargingSchedulePeriod: []ocpp.ChargingSchedulePeriod{{StartPeriod: 0, Limit: 16.5}}},
			},
		}})
	}
	// what lists the station's profiles as connector/id/stack.
	type key struct{ connector, id, stack int }
	what := func(st station.Station) []key {
		t.Helper()
		ps, err := ops.ChargingProfiles(ctx, st.AccountID, st.ID)
		must(t, err)
		out := []key{}
		for _, p := range ps {
			out = append(out, key{p.ConnectorID, p.Profile.ChargingProfileID, p.Profile.StackLevel})
		}
		return out
	}
	const def, tx, max = ocpp.ChargingProfilePurposeTypeTxDefaultProfile, ocpp.ChargingProfilePurposeTypeTxProfile, ocpp.ChargingProfilePurposeTypeChargePointMaxProfile

	set(f.cp1, 1, 1, 100, 0, def)
	ps, err := ops.ChargingProfiles(ctx, f.acct, f.cp1.ID)
	must(t, err)
	if len(ps) != 1 || ps[0].ChargePointID != "CP1" || ps[0].Profile.ChargingSchedule.ChargingSchedulePeriod[0].Limit != 16.5 ||
		!ps[0].Profile.ValidTo.Equal(at(600)) || !ps[0].SetAt.Equal(at(1).Add(time.Second)) {
		t.Errorf("stored profile: %+v", ps)
	}
	set(f.cp1, 2, 2, 101, 0, def)     // same stack level and purpose, other connector: added
	set(f.cp1, 3, 1, 102, 0, def)     // same connector, stack level and purpose: replaces 100
	set(f.cp1, 4, 1, 103, 1, def)     // other stack level: added
	set(f.cp1, 5, 0, 104, 0, max)     // station-wide
	set(f.cp1, 6, 2, 101, 5, tx)      // same id: replaces 101 wherever it was
	set(f.cp2, 7, 1, 100, 0, def)     // another station keeps its own
	set(f.foreign, 8, 1, 102, 0, def) // another account's
	equal(t, "after replacements", what(f.cp1), []key{{0, 104, 0}, {1, 102, 0}, {1, 103, 1}, {2, 101, 5}})

	clear := func(m int, filter operation.ProfileFilter) {
		t.Helper()
		runOp(t, ops, f.cp1, "ClearChargingProfile", m, `{"status":"Accepted"}`, operation.Effects{ClearProfiles: &filter})
	}
	clear(10, operation.ProfileFilter{ConnectorID: ptr(1), StackLevel: ptr(1)})
	equal(t, "cleared connector 1 stack level 1", what(f.cp1), []key{{0, 104, 0}, {1, 102, 0}, {2, 101, 5}})
	clear(11, operation.ProfileFilter{ID: ptr(104)})
	equal(t, "cleared id 104", what(f.cp1), []key{{1, 102, 0}, {2, 101, 5}})
	clear(12, operation.ProfileFilter{})
	equal(t, "cleared all", what(f.cp1), []key{})
	equal(t, "the other station's", what(f.cp2), []key{{1, 100, 0}})
	equal(t, "the other account's", what(f.foreign), []key{{1, 102, 0}})
	_, err = ops.ChargingProfiles(ctx, f.other, f.cp2.ID)
	wantErr(t, err, station.ErrNotFound, "profiles read by another account")
}

func testOperationRemoteStartProfile(t *testing.T, s Store, ops operation.Store) {
	ctx := context.Background()
	f := newOpFixture(t, s, "remotestart")
	txProfile := func(id, stack int, purpose ocpp.ChargingProfilePurposeType) ocpp.ChargingProfile {
		return ocpp.ChargingProfile{ChargingProfileID: id, StackLevel: stack, ChargingProfilePurpose: purpose,
			ChargingProfileKind: ocpp.ChargingProfileKindTypeAbsolute,
			ChargingSchedule: ocpp.ChargingSchedule{ChargingRateUnit: ocpp.ChargingRateUnitTypeA,
				ChargingSchedulePeriod: []ocpp.ChargingSchedulePeriod{{StartPeriod: 0, Limit: 10}}}}
	}
	// exec records the action req answered with resp at minute m, with the effects package
	// operation gives them.
	exec := func(st station.Station, m int, action string, req, resp any) {
		t.Helper()
		b, err := json.Marshal(req)
		must(t, err)
		op, err := ops.CreateOperation(ctx, operation.Operation{
			AccountID: st.AccountID, StationID: st.ID, ChargePointID: st.ChargePointID, Action: action,
			Actor: "token:1", Request: b, RequestedAt: at(m), Status: operation.Pending,
		})
		must(t, err)
		op.Status, op.FinishedAt = operation.Answered, at(m).Add(time.Second)
		op.Response, err = json.Marshal(resp)
		must(t, err)
		must(t, ops.FinishOperation(ctx, op, operation.EffectsOf(op, req, resp)))
	}
	accepted := &ocpp.RemoteStartTransactionResponse{Status: ocpp.RemoteStartStopStatusAccepted}
	remoteStart := func(st station.Station, m int, idTag string, resp *ocpp.RemoteStartTransactionResponse, p *ocpp.ChargingProfile) {
		t.Helper()
		exec(st, m, "RemoteStartTransaction", &ocpp.RemoteStartTransactionRequest{IdTag: idTag, ChargingProfile: p}, resp)
	}
	type key struct{ connector, id, stack int }
	what := func(st station.Station) []key {
		t.Helper()
		ps, err := ops.ChargingProfiles(ctx, st.AccountID, st.ID)
		must(t, err)
		out := []key{}
		for _, p := range ps {
			out = append(out, key{p.ConnectorID, p.Profile.ChargingProfileID, p.Profile.StackLevel})
		}
		return out
	}
	move := func(acct int64, st station.Station, idTag string, connector int) bool {
		t.Helper()
		moved, err := ops.MoveRemoteStartProfile(ctx, acct, st.ID, idTag, connector)
		must(t, err)
		return moved
	}
	const tx, def = ocpp.ChargingProfilePurposeTypeTxProfile, ocpp.ChargingProfilePurposeTypeTxDefaultProfile

	exec(f.cp1, 1, "SetChargingProfile", &ocpp.SetChargingProfileRequest{ConnectorID: 2, CsChargingProfiles: txProfile(200, 0, tx)},
		&ocpp.SetChargingProfileResponse{Status: ocpp.ChargingProfileStatusAccepted})
	exec(f.cp1, 2, "SetChargingProfile", &ocpp.SetChargingProfileRequest{ConnectorID: 2, CsChargingProfiles: txProfile(203, 0, def)},
		&ocpp.SetChargingProfileResponse{Status: ocpp.ChargingProfileStatusAccepted})
	remoteStart(f.cp1, 3, "TAG", accepted, ptr(txProfile(201, 0, tx)))
	remoteStart(f.cp1, 4, "OTHER", accepted, ptr(txProfile(202, 1, tx)))
	remoteStart(f.cp1, 5, "TAG", &ocpp.RemoteStartTransactionResponse{Status: ocpp.RemoteStartStopStatusRejected}, ptr(txProfile(205, 0, tx)))
	remoteStart(f.cp2, 6, "TAG", accepted, ptr(txProfile(204, 0, tx)))
	equal(t, "before the starts", what(f.cp1), []key{{0, 201, 0}, {0, 202, 1}, {2, 203, 0}, {2, 200, 0}})

	_, err := ops.MoveRemoteStartProfile(ctx, f.other, f.cp1.ID, "TAG", 2)
	wantErr(t, err, station.ErrNotFound, "move through another account")
	if move(f.acct, f.cp1, "NOBODY", 1) {
		t.Errorf("moved a profile for a tag without a remote start")
	}
	// The rejected remote start for TAG is no remote start; tags compare without case. On
	// connector 2, 201 replaces the TxProfile of the same stack level, 200.
	if !move(f.acct, f.cp1, "tag", 2) {
		t.Errorf("TAG's profile not moved")
	}
	equal(t, "after TAG's start on 2", what(f.cp1), []key{{0, 202, 1}, {2, 203, 0}, {2, 201, 0}})
	equal(t, "the other station's", what(f.cp2), []key{{0, 204, 0}})
	if move(f.acct, f.cp1, "TAG", 1) {
		t.Errorf("a second start of TAG moved a profile again")
	}
	// The latest accepted remote start for OTHER carried no profile: 202 is not its.
	remoteStart(f.cp1, 7, "OTHER", accepted, nil)
	if move(f.acct, f.cp1, "OTHER", 1) {
		t.Errorf("moved the profile of an earlier remote start")
	}
	equal(t, "after OTHER's start", what(f.cp1), []key{{0, 202, 1}, {2, 203, 0}, {2, 201, 0}})
	if !move(f.acct, f.cp2, "TAG", 1) {
		t.Errorf("the other station's profile not moved")
	}
	equal(t, "the other station's after its start", what(f.cp2), []key{{1, 204, 0}})
}

func testOperationLocalList(t *testing.T, s Store, ops operation.Store) {
	ctx := context.Background()
	f := newOpFixture(t, s, "locallist")
	list := func(st station.Station) operation.LocalList {
		t.Helper()
		l, err := ops.LocalList(ctx, st.AccountID, st.ID)
		must(t, err)
		return l
	}
	equal(t, "never known", list(f.cp1), operation.LocalList{StationID: f.cp1.ID, ChargePointID: "CP1"})

	runOp(t, ops, f.cp1, "GetLocalListVersion", 1, `{"listVersion":3}`, operation.Effects{LocalListVersion: ptr(3)})
	equal(t, "version reported", list(f.cp1), operation.LocalList{StationID: f.cp1.ID, ChargePointID: "CP1", Version: ptr(3), UpdatedAt: at(1).Add(time.Second)})

	accepted := func() *ocpp.IdTagInfo { return &ocpp.IdTagInfo{Status: ocpp.AuthorizationStatusAccepted} }
	runOp(t, ops, f.cp1, "SendLocalList", 2, `{"status":"Accepted"}`, operation.Effects{LocalList: &operation.LocalListUpdate{
		Version: 4, Full: true, Entries: []ocpp.AuthorizationData{
			{IdTag: "A", IdTagInfo: accepted()},
			{IdTag: "b", IdTagInfo: &ocpp.IdTagInfo{Status: ocpp.AuthorizationStatusBlocked, ParentIdTag: "P", ExpiryDate: &ocpp.DateTime{Time: at(999)}}},
			{IdTag: "C", IdTagInfo: accepted()},
		},
	}})
	runOp(t, ops, f.cp1, "SendLocalList", 3, `{"status":"Accepted"}`, operation.Effects{LocalList: &operation.LocalListUpdate{
		Version: 5, Entries: []ocpp.AuthorizationData{
			{IdTag: "B", IdTagInfo: accepted()}, // replaces b: tags compare without case
			{IdTag: "C"},                        // removes C
			{IdTag: "D", IdTagInfo: accepted()},
		},
	}})
	equal(t, "after a full and a differential update", list(f.cp1), operation.LocalList{
		StationID: f.cp1.ID, ChargePointID: "CP1", Version: ptr(5), EntriesVersion: ptr(5), UpdatedAt: at(3).Add(time.Second),
		Entries: []operation.LocalListEntry{{IdTag: "A", Status: "Accepted"}, {IdTag: "B", Status: "Accepted"}, {IdTag: "D", Status: "Accepted"}},
	})

	runOp(t, ops, f.cp1, "GetLocalListVersion", 4, `{"listVersion":6}`, operation.Effects{LocalListVersion: ptr(6)})
	l := list(f.cp1)
	if *l.Version != 6 || *l.EntriesVersion != 5 || len(l.Entries) != 3 {
		t.Errorf("after the station reported a newer version: %+v", l)
	}
	runOp(t, ops, f.cp1, "SendLocalList", 5, `{"status":"Accepted"}`, operation.Effects{LocalList: &operation.LocalListUpdate{
		Version: 7, Full: true, Entries: []ocpp.AuthorizationData{{IdTag: "Z", IdTagInfo: &ocpp.IdTagInfo{Status: "Accepted", ParentIdTag: "P", ExpiryDate: &ocpp.DateTime{Time: at(999)}}}},
	}})
	equal(t, "a full update replaces", list(f.cp1).Entries, []operation.LocalListEntry{{IdTag: "Z", Status: "Accepted", ParentIdTag: "P", ExpiryDate: at(999)}})
	equal(t, "the other station's", list(f.cp2), operation.LocalList{StationID: f.cp2.ID, ChargePointID: "CP2"})
	_, err := ops.LocalList(ctx, f.other, f.cp1.ID)
	wantErr(t, err, station.ErrNotFound, "local list read by another account")
}

func testOperationFirmwareDiagnostics(t *testing.T, s Store, ops operation.Store) {
	ctx := context.Background()
	f := newOpFixture(t, s, "firmware")

	found, err := ops.FollowFirmware(ctx, f.acct, f.cp1.ID, "Downloading", true, at(0))
	must(t, err)
	if found {
		t.Errorf("firmware status without a request was found")
	}
	firmware := func(m int, open bool) operation.Operation {
		t.Helper()
		return runOp(t, ops, f.cp1, "UpdateFirmware", m, `{}`, operation.Effects{Firmware: &operation.FirmwareRequest{
			Location: "https://fw.example.com/v2.bin", RetrieveDate: at(m + 10), Retries: ptr(3),
			Status: operation.StatusRequested, Open: open, RequestedAt: at(m), StatusAt: at(m),
		}})
	}
	older := firmware(1, true)
	newer := firmware(2, true)
	follow := func(status string, open bool, m int) bool {
		t.Helper()
		found, err := ops.FollowFirmware(ctx, f.acct, f.cp1.ID, status, open, at(m))
		must(t, err)
		return found
	}
	if !follow("Downloading", true, 3) || !follow("Installed", false, 4) {
		t.Errorf("firmware statuses were not followed")
	}
	// The newer is done; the next status goes to the older, still open.
	if !follow("DownloadFailed", false, 5) || follow("Installed", false, 6) {
		t.Errorf("statuses after the newest request was done")
	}
	reqs, err := ops.FirmwareRequests(ctx, f.acct, f.cp1.ID)
	must(t, err)
	equal(t, "firmware requests", reqs, []operation.FirmwareRequest{
		{ID: reqs[0].ID, StationID: f.cp1.ID, ChargePointID: "CP1", OperationID: newer.ID, Location: "https://fw.example.com/v2.bin",
			RetrieveDate: at(12), Retries: ptr(3), Status: "Installed", RequestedAt: at(2), StatusAt: at(4)},
		{ID: reqs[1].ID, StationID: f.cp1.ID, ChargePointID: "CP1", OperationID: older.ID, Location: "https://fw.example.com/v2.bin",
			RetrieveDate: at(11), Retries: ptr(3), Status: "DownloadFailed", RequestedAt: at(1), StatusAt: at(5)},
	})
	found, err = ops.FollowFirmware(ctx, f.other, f.cp1.ID, "Downloading", true, at(7))
	wantErr(t, err, station.ErrNotFound, "firmware status through another account")
	if found {
		t.Errorf("firmware status through another account was found")
	}
	_, err = ops.FirmwareRequests(ctx, f.other, f.cp1.ID)
	wantErr(t, err, station.ErrNotFound, "firmware requests read by another account")

	diag := runOp(t, ops, f.cp2, "GetDiagnostics", 10, `{"fileName":"d.zip"}`, operation.Effects{Diagnostics: &operation.DiagnosticsRequest{
		Location: "ftp://logs.example.com/", StartTime: at(-60), FileName: "d.zip", Status: operation.StatusRequested, Open: true,
		RequestedAt: at(10), StatusAt: at(10),
	}})
	none := runOp(t, ops, f.cp2, "GetDiagnostics", 11, `{}`, operation.Effects{Diagnostics: &operation.DiagnosticsRequest{
		Location: "ftp://logs.example.com/", Status: operation.StatusNoDiagnostics, RequestedAt: at(11), StatusAt: at(11),
	}})
	found, err = ops.FollowDiagnostics(ctx, f.acct, f.cp2.ID, "Uploading", true, at(12))
	must(t, err)
	if !found {
		t.Errorf("diagnostics status not followed")
	}
	ds, err := ops.DiagnosticsRequests(ctx, f.acct, f.cp2.ID)
	must(t, err)
	equal(t, "diagnostics requests", ds, []operation.DiagnosticsRequest{
		{ID: ds[0].ID, StationID: f.cp2.ID, ChargePointID: "CP2", OperationID: none.ID, Location: "ftp://logs.example.com/",
			Status: operation.StatusNoDiagnostics, RequestedAt: at(11), StatusAt: at(11)},
		{ID: ds[1].ID, StationID: f.cp2.ID, ChargePointID: "CP2", OperationID: diag.ID, Location: "ftp://logs.example.com/",
			StartTime: at(-60), FileName: "d.zip", Status: "Uploading", Open: true, RequestedAt: at(10), StatusAt: at(12)},
	})
	if reqs, err := ops.DiagnosticsRequests(ctx, f.acct, f.cp1.ID); err != nil || len(reqs) != 0 {
		t.Errorf("diagnostics of CP1: %+v, %v", reqs, err)
	}
}
