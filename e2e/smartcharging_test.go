package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
)

// The smart charging cases: SetChargingProfile, RemoteStartTransaction with a profile,
// GetCompositeSchedule, ClearChargingProfile, and the station's profiles they keep.

// profile is a charging profile with a one-period schedule in A.
func profile(id, stackLevel int, purpose ocpp.ChargingProfilePurposeType, limit float64) ocpp.ChargingProfile {
	kind := ocpp.ChargingProfileKindTypeAbsolute
	var start *ocpp.DateTime
	if purpose != ocpp.ChargingProfilePurposeTypeTxProfile {
		start = &ocpp.DateTime{Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	} else {
		kind = ocpp.ChargingProfileKindTypeRelative
	}
	return ocpp.ChargingProfile{ChargingProfileID: id, StackLevel: stackLevel, ChargingProfilePurpose: purpose,
		ChargingProfileKind: kind, ChargingSchedule: ocpp.ChargingSchedule{
			StartSchedule: start, ChargingRateUnit: ocpp.ChargingRateUnitTypeA,
			ChargingSchedulePeriod: []ocpp.ChargingSchedulePeriod{{StartPeriod: 0, Limit: limit, NumberPhases: ptr(3)}},
		}}
}

// setProfile sends a SetChargingProfile the charger answers with status.
func setProfile(t *testing.T, sys *system, cp *chargePoint, connectorID int, p ocpp.ChargingProfile, status ocpp.ChargingProfileStatus) {
	t.Helper()
	cp.on("SetChargingProfile", reply(&ocpp.SetChargingProfileResponse{Status: status}))
	m := cp.mark()
	body := mustJSON(t, ocpp.SetChargingProfileRequest{ConnectorID: connectorID, CsChargingProfiles: p})
	wantJSON(t, "SetChargingProfile answer", sys.operate(cp.id, "SetChargingProfile", body), fmt.Sprintf(`{"status":%q}`, status))
	cp.wantFlow(m, "CS>CP SetChargingProfile.req", "CP>CS SetChargingProfile.conf")
	wantJSON(t, "SetChargingProfile on the wire", cp.received(m, "SetChargingProfile")[0].Payload, body)
}

// profileIDs lists the station's profiles as connector/id/purpose.
func profileIDs(sys *system, chargePointID string) []string {
	var out []string
	for _, p := range sys.profiles(chargePointID) {
		out = append(out, fmt.Sprintf("%d/%d/%s", p.ConnectorID, p.ChargingProfile.ChargingProfileID, p.ChargingProfile.ChargingProfilePurpose))
	}
	slices.Sort(out)
	return out
}

func TestTC_056_TxDefaultProfile(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-056")
	cp.bootAvailable(2)

	p := profile(56, 0, ocpp.ChargingProfilePurposeTypeTxDefaultProfile, 16)
	setProfile(t, sys, cp, 0, p, ocpp.ChargingProfileStatusAccepted)
	got := sys.profiles("CP-056")
	if len(got) != 1 || got[0].ConnectorID != 0 || got[0].OperationID != sys.lastOperation("CP-056", "SetChargingProfile").ID {
		t.Fatalf("profiles %+v, want the TxDefaultProfile on connector 0", got)
	}
	if a, b := mustJSON(t, got[0].ChargingProfile), mustJSON(t, p); a != b {
		t.Errorf("profile stored as %s, want %s", a, b)
	}

	// Same connector, purpose and stack level: the new one replaces it (OCPP 1.6, 3.13.2).
	setProfile(t, sys, cp, 0, profile(57, 0, ocpp.ChargingProfilePurposeTypeTxDefaultProfile, 10), ocpp.ChargingProfileStatusAccepted)
	// Another stack level stays beside it.
	setProfile(t, sys, cp, 0, profile(58, 1, ocpp.ChargingProfilePurposeTypeTxDefaultProfile, 8), ocpp.ChargingProfileStatusAccepted)
	if got := profileIDs(sys, "CP-056"); !slices.Equal(got, []string{"0/57/TxDefaultProfile", "0/58/TxDefaultProfile"}) {
		t.Errorf("profiles %v, want 57 (replacing 56) and 58", got)
	}
	// A profile the charger refuses is not kept.
	setProfile(t, sys, cp, 1, profile(59, 0, ocpp.ChargingProfilePurposeTypeTxDefaultProfile, 6), ocpp.ChargingProfileStatusRejected)
	if got := profileIDs(sys, "CP-056"); len(got) != 2 {
		t.Errorf("profiles after a Rejected one %v, want 57 and 58 only", got)
	}
}

func TestTC_057_TxProfile(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-057")
	cp.bootAvailable(1)
	tx := cp.charge(1, "TAG-057", 0, now().Truncate(time.Second))

	p := profile(570, 0, ocpp.ChargingProfilePurposeTypeTxProfile, 20)
	p.TransactionID = &tx
	setProfile(t, sys, cp, 1, p, ocpp.ChargingProfileStatusAccepted)
	if req := request[ocpp.SetChargingProfileRequest](cp, 0); val(req.CsChargingProfiles.TransactionID) != tx {
		t.Errorf("TxProfile on the wire for transaction %v, want %d", val(req.CsChargingProfiles.TransactionID), tx)
	}
	got := sys.profiles("CP-057")
	if len(got) != 1 || got[0].ConnectorID != 1 || got[0].ChargingProfile.ChargingProfilePurpose != ocpp.ChargingProfilePurposeTypeTxProfile ||
		val(got[0].ChargingProfile.TransactionID) != tx || got[0].ChargingProfile.ChargingSchedule.ChargingSchedulePeriod[0].Limit != 20 {
		t.Errorf("profiles %+v, want the TxProfile of transaction %d on connector 1", got, tx)
	}
}

func TestTC_059_RemoteStartWithChargingProfile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		connector *int // in the request
		chosen    int  // where the charger starts
	}{
		{"connector named", ptr(1), 1},
		// OCPP lets the charger choose when no connector is named; chargebook documents
		// (operation.ChargingProfile.ConnectorID) that the profile is then kept on the
		// connector the station chose.
		{"connector chosen by the charger", nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sys := newSystem(t)
			cp := sys.connect("CP-059")
			cp.bootAvailable(2)
			t0 := now().Truncate(time.Second)
			cp.on("RemoteStartTransaction", reply(&ocpp.RemoteStartTransactionResponse{Status: ocpp.RemoteStartStopStatusAccepted}).then(
				func(cp *chargePoint) {
					cp.emit(statusRequest(tc.chosen, ocpp.ChargePointStatusPreparing),
						startRequest(tc.chosen, "TAG-059", 0, t0),
						statusRequest(tc.chosen, ocpp.ChargePointStatusCharging))
				}))

			p := profile(59, 0, ocpp.ChargingProfilePurposeTypeTxProfile, 13)
			body := mustJSON(t, ocpp.RemoteStartTransactionRequest{ConnectorID: tc.connector, IdTag: "TAG-059", ChargingProfile: &p})
			m := cp.mark()
			r := sys.call("POST", "/api/v1/stations/CP-059/remote-start", body, http.StatusOK, nil)
			wantJSON(t, "remote-start answer", r.body, `{"status":"Accepted"}`)
			cp.settle()
			cp.wantFlow(m,
				"CS>CP RemoteStartTransaction.req", "CP>CS RemoteStartTransaction.conf",
				"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
				"CP>CS StartTransaction.req", "CS>CP StartTransaction.conf",
				"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
			)
			wantJSON(t, "RemoteStartTransaction on the wire", cp.received(m, "RemoteStartTransaction")[0].Payload, body)
			if txs := sys.transactions("station=CP-059"); len(txs) != 1 || txs[0].ConnectorID != tc.chosen || !txs[0].Active {
				t.Errorf("transactions %+v, want one active on connector %d", txs, tc.chosen)
			}
			got := sys.profiles("CP-059")
			if len(got) != 1 || got[0].ChargingProfile.ChargingProfileID != 59 ||
				got[0].ChargingProfile.ChargingProfilePurpose != ocpp.ChargingProfilePurposeTypeTxProfile {
				t.Fatalf("profiles %+v, want the TxProfile 59", got)
			}
			if got[0].ConnectorID != tc.chosen {
				t.Errorf("TxProfile 59 kept on connector %d, want %d, where the transaction runs (connector 0 would make it the whole station's)",
					got[0].ConnectorID, tc.chosen)
			}
			// The charger clears the TxProfiles of that connector; so must the record.
			cp.on("ClearChargingProfile", reply(&ocpp.ClearChargingProfileResponse{Status: ocpp.ClearChargingProfileStatusAccepted}))
			sys.operate("CP-059", "ClearChargingProfile", fmt.Sprintf(`{"connectorId":%d,"chargingProfilePurpose":"TxProfile"}`, tc.chosen))
			if got := profileIDs(sys, "CP-059"); len(got) != 0 {
				t.Errorf("after the charger cleared the TxProfiles of connector %d, chargebook still lists %v", tc.chosen, got)
			}
		})
	}
}

func TestTC_066_GetCompositeSchedule(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-066")
	cp.bootAvailable(1)
	start := now().Truncate(time.Second)
	answer := &ocpp.GetCompositeScheduleResponse{Status: ocpp.GetCompositeScheduleStatusAccepted, ConnectorID: ptr(1),
		ScheduleStart: &ocpp.DateTime{Time: start}, ChargingSchedule: &ocpp.ChargingSchedule{
			Duration: ptr(3600), StartSchedule: &ocpp.DateTime{Time: start}, ChargingRateUnit: ocpp.ChargingRateUnitTypeW,
			ChargingSchedulePeriod: []ocpp.ChargingSchedulePeriod{{StartPeriod: 0, Limit: 11000}, {StartPeriod: 1800, Limit: 7400}},
		}}
	cp.on("GetCompositeSchedule", reply(answer))

	m := cp.mark()
	got := sys.operate("CP-066", "GetCompositeSchedule", `{"connectorId":1,"duration":3600,"chargingRateUnit":"W"}`)
	wantJSON(t, "GetCompositeSchedule answer", got, mustJSON(t, answer))
	cp.wantFlow(m, "CS>CP GetCompositeSchedule.req", "CP>CS GetCompositeSchedule.conf")
	if req := request[ocpp.GetCompositeScheduleRequest](cp, m); req.ConnectorID != 1 || req.Duration != 3600 || req.ChargingRateUnit != ocpp.ChargingRateUnitTypeW {
		t.Errorf("GetCompositeSchedule on the wire: %+v", req)
	}
	wantOperation(t, sys.lastOperation("CP-066", "GetCompositeSchedule"), "GetCompositeSchedule",
		`{"connectorId":1,"duration":3600,"chargingRateUnit":"W"}`, mustJSON(t, answer))
	// A schedule is an answer, not a profile the station keeps.
	if ps := sys.profiles("CP-066"); len(ps) != 0 {
		t.Errorf("profiles %+v, want none", ps)
	}
	cp.on("GetCompositeSchedule", reply(&ocpp.GetCompositeScheduleResponse{Status: ocpp.GetCompositeScheduleStatusRejected}))
	wantJSON(t, "GetCompositeSchedule answer", sys.operate("CP-066", "GetCompositeSchedule", `{"connectorId":1,"duration":60}`), `{"status":"Rejected"}`)
}

func TestTC_067_ClearChargingProfile(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-067")
	cp.bootAvailable(2)
	setProfile(t, sys, cp, 1, profile(1, 0, ocpp.ChargingProfilePurposeTypeTxDefaultProfile, 16), ocpp.ChargingProfileStatusAccepted)
	setProfile(t, sys, cp, 2, profile(2, 0, ocpp.ChargingProfilePurposeTypeTxDefaultProfile, 16), ocpp.ChargingProfileStatusAccepted)
	setProfile(t, sys, cp, 0, profile(3, 0, ocpp.ChargingProfilePurposeTypeChargePointMaxProfile, 32), ocpp.ChargingProfileStatusAccepted)

	clear := func(body string, status ocpp.ClearChargingProfileStatus) {
		t.Helper()
		cp.on("ClearChargingProfile", reply(&ocpp.ClearChargingProfileResponse{Status: status}))
		m := cp.mark()
		wantJSON(t, "ClearChargingProfile answer", sys.operate("CP-067", "ClearChargingProfile", body), fmt.Sprintf(`{"status":%q}`, status))
		cp.wantFlow(m, "CS>CP ClearChargingProfile.req", "CP>CS ClearChargingProfile.conf")
		wantJSON(t, "ClearChargingProfile on the wire", cp.received(m, "ClearChargingProfile")[0].Payload, body)
	}
	clear(`{"id":1}`, ocpp.ClearChargingProfileStatusAccepted)
	if got := profileIDs(sys, "CP-067"); !slices.Equal(got, []string{"0/3/ChargePointMaxProfile", "2/2/TxDefaultProfile"}) {
		t.Errorf("profiles after clearing id 1: %v", got)
	}
	// Unknown: the charger has no such profile, so chargebook keeps no record of one either.
	clear(`{"chargingProfilePurpose":"ChargePointMaxProfile"}`, ocpp.ClearChargingProfileStatusUnknown)
	if got := profileIDs(sys, "CP-067"); !slices.Equal(got, []string{"2/2/TxDefaultProfile"}) {
		t.Errorf("profiles after clearing ChargePointMaxProfile: %v", got)
	}
	// Without criteria, everything goes.
	clear(`{}`, ocpp.ClearChargingProfileStatusAccepted)
	if got := profileIDs(sys, "CP-067"); len(got) != 0 {
		t.Errorf("profiles after clearing all: %v", got)
	}
	wantOperation(t, sys.lastOperation("CP-067", "ClearChargingProfile"), "ClearChargingProfile", `{}`, `{"status":"Accepted"}`)
}
