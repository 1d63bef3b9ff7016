package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
)

// The reservation cases: ReserveNow and CancelReservation, and the reservation records the
// answers and the charger's starts keep.

// reserve sends a ReserveNow through the REST API and checks what went on the wire.
func reserve(t *testing.T, sys *system, cp *chargePoint, reservationID, connectorID int, idTag, parentIdTag string, expiry time.Time, wantStatus ocpp.ReservationStatus) {
	t.Helper()
	m := cp.mark()
	req := ocpp.ReserveNowRequest{ConnectorID: connectorID, ExpiryDate: ocpp.DateTime{Time: expiry}, IdTag: idTag,
		ParentIdTag: parentIdTag, ReservationID: reservationID}
	got := sys.operate(cp.id, "ReserveNow", mustJSON(t, req))
	wantJSON(t, "ReserveNow answer", got, fmt.Sprintf(`{"status":%q}`, wantStatus))
	cp.wantFlow(m, "CS>CP ReserveNow.req", "CP>CS ReserveNow.conf")
	onWire := request[ocpp.ReserveNowRequest](cp, m)
	if onWire.ReservationID != reservationID || onWire.ConnectorID != connectorID || onWire.IdTag != idTag ||
		onWire.ParentIdTag != parentIdTag || !onWire.ExpiryDate.Equal(expiry) {
		t.Errorf("ReserveNow on the wire: %+v", onWire)
	}
}

// wantReservation checks the newest record of a reservationId.
func wantReservation(t *testing.T, sys *system, chargePointID string, reservationID int, state string, transactionID int) apiReservation {
	t.Helper()
	r := sys.reservation(chargePointID, reservationID)
	if r.State != state {
		t.Errorf("reservation %d is %s, want %s", reservationID, r.State, state)
	}
	if transactionID == 0 && r.TransactionID != nil || transactionID != 0 && val(r.TransactionID) != int64(transactionID) {
		t.Errorf("reservation %d used by transaction %v, want %d", reservationID, val(r.TransactionID), transactionID)
	}
	return r
}

func TestTC_046_ReservationToTransaction(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-046")
	cp.bootAvailable(2)
	cp.on("ReserveNow", reply(&ocpp.ReserveNowResponse{Status: ocpp.ReservationStatusAccepted}))
	expiry := now().Add(time.Hour)

	reserve(t, sys, cp, 46, 1, "TAG-046", "", expiry, ocpp.ReservationStatusAccepted)
	cp.status(1, ocpp.ChargePointStatusReserved)
	r := wantReservation(t, sys, "CP-046", 46, "Reserved", 0)
	if r.ConnectorID != 1 || r.IdTag != "TAG-046" || !r.ExpiresAt.Equal(expiry) || r.OperationID != sys.lastOperation("CP-046", "ReserveNow").ID {
		t.Errorf("reservation stored as %+v", r)
	}
	if c := sys.connector("CP-046", 1); c.Status != "Reserved" {
		t.Errorf("connector 1 is %s, want Reserved", c.Status)
	}

	m := cp.mark()
	if info := cp.authorize("TAG-046"); info.Status != ocpp.AuthorizationStatusAccepted {
		t.Fatalf("Authorize: %s", info.Status)
	}
	cp.status(1, ocpp.ChargePointStatusPreparing)
	req := startRequest(1, "TAG-046", 0, now())
	req.ReservationID = ptr(46)
	start := sendAs[ocpp.StartTransactionResponse](cp, req)
	cp.status(1, ocpp.ChargePointStatusCharging)
	cp.wantFlow(m,
		"CP>CS Authorize.req", "CS>CP Authorize.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StartTransaction.req", "CS>CP StartTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	if start.IdTagInfo.Status != ocpp.AuthorizationStatusAccepted {
		t.Errorf("StartTransaction: %s", start.IdTagInfo.Status)
	}
	wantReservation(t, sys, "CP-046", 46, "Used", start.TransactionID)
	if tx := sys.transaction(start.TransactionID); val(tx.ReservationID) != 46 {
		t.Errorf("transaction reservationId %v, want 46", val(tx.ReservationID))
	}
	if used := sys.reservations("CP-046", "state=Used"); len(used) != 1 {
		t.Errorf("reservations in state Used: %+v", used)
	}
}

func TestTC_047_ReservationExpiry(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-047")
	cp.bootAvailable(2)
	cp.on("ReserveNow", reply(&ocpp.ReserveNowResponse{Status: ocpp.ReservationStatusAccepted}))
	expiry := now().Add(1200 * time.Millisecond)

	reserve(t, sys, cp, 47, 1, "TAG-047", "", expiry, ocpp.ReservationStatusAccepted)
	cp.status(1, ocpp.ChargePointStatusReserved)
	wantReservation(t, sys, "CP-047", 47, "Reserved", 0)
	// A second one, used in time while the charger was offline (below).
	reserve(t, sys, cp, 147, 2, "TAG-147", "", expiry, ocpp.ReservationStatusAccepted)
	usedAt := now()

	// Nobody comes for 47: the expiry passes and the charger frees the connector.
	time.Sleep(time.Until(expiry) + 50*time.Millisecond)
	m := cp.mark()
	cp.status(1, ocpp.ChargePointStatusAvailable)
	cp.wantFlow(m, "CP>CS StatusNotification.req", "CS>CP StatusNotification.conf")
	wantReservation(t, sys, "CP-047", 47, "Expired", 0)
	if got := sys.reservations("CP-047", "state=Expired"); len(got) != 2 {
		t.Errorf("reservations in state Expired: %+v, want 47 and 147", got)
	}
	if got := sys.reservations("CP-047", "state=Reserved"); len(got) != 0 {
		t.Errorf("reservations in state Reserved: %+v, want none", got)
	}
	if c := sys.connector("CP-047", 1); c.Status != "Available" {
		t.Errorf("connector 1 is %s, want Available", c.Status)
	}

	// A start naming 47 after its expiry, by the charger's clock, does not use it.
	late := startRequest(1, "TAG-047", 0, now())
	late.ReservationID = ptr(47)
	sendAs[ocpp.StartTransactionResponse](cp, late)
	wantReservation(t, sys, "CP-047", 47, "Expired", 0)

	// The start that used 147 before its expiry arrives late: it still uses it.
	req := startRequest(2, "TAG-147", 0, usedAt)
	req.ReservationID = ptr(147)
	start := sendAs[ocpp.StartTransactionResponse](cp, req)
	wantReservation(t, sys, "CP-047", 147, "Used", start.TransactionID)
	wantReservation(t, sys, "CP-047", 47, "Expired", 0)
}

func TestTC_048_ReservationNotAccepted(t *testing.T) {
	t.Parallel()
	for i, tc := range []struct {
		name   ocpp.ReservationStatus
		before ocpp.ChargePointStatus // the connector's status first, "" for none
	}{
		{ocpp.ReservationStatusFaulted, ocpp.ChargePointStatusFaulted},
		{ocpp.ReservationStatusOccupied, ocpp.ChargePointStatusPreparing},
		{ocpp.ReservationStatusUnavailable, ocpp.ChargePointStatusUnavailable},
		{ocpp.ReservationStatusRejected, ""},
	} {
		t.Run(string(tc.name), func(t *testing.T) {
			t.Parallel()
			sys := newSystem(t)
			cp := sys.connect("CP-048")
			cp.bootAvailable(1)
			if tc.before != "" {
				cp.status(1, tc.before)
			}
			cp.on("ReserveNow", reply(&ocpp.ReserveNowResponse{Status: tc.name}))
			id := 480 + i
			reserve(t, sys, cp, id, 1, "TAG-048", "", now().Add(time.Hour), tc.name)
			wantReservation(t, sys, "CP-048", id, string(tc.name), 0)
			wantOperation(t, sys.lastOperation("CP-048", "ReserveNow"), "ReserveNow", "", fmt.Sprintf(`{"status":%q}`, tc.name))
			if got := sys.reservations("CP-048", "state=Reserved"); len(got) != 0 {
				t.Errorf("reservations in state Reserved: %+v, want none", got)
			}
		})
	}
}

func TestTC_049_ReserveChargePoint(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-049")
	cp.bootAvailable(2)
	cp.on("ReserveNow", reply(&ocpp.ReserveNowResponse{Status: ocpp.ReservationStatusAccepted}))

	reserve(t, sys, cp, 49, 0, "TAG-049", "", now().Add(time.Hour), ocpp.ReservationStatusAccepted)
	cp.status(0, ocpp.ChargePointStatusReserved)
	if r := wantReservation(t, sys, "CP-049", 49, "Reserved", 0); r.ConnectorID != 0 {
		t.Errorf("reservation of connector %d, want 0", r.ConnectorID)
	}
	// The driver charges on whichever connector is free: 2.
	cp.status(2, ocpp.ChargePointStatusPreparing)
	req := startRequest(2, "TAG-049", 0, now())
	req.ReservationID = ptr(49)
	start := sendAs[ocpp.StartTransactionResponse](cp, req)
	cp.status(0, ocpp.ChargePointStatusAvailable)
	cp.status(2, ocpp.ChargePointStatusCharging)
	wantReservation(t, sys, "CP-049", 49, "Used", start.TransactionID)
}

func TestTC_051_CancelReservation(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-051")
	cp.bootAvailable(1)
	cp.on("ReserveNow", reply(&ocpp.ReserveNowResponse{Status: ocpp.ReservationStatusAccepted}))
	cp.on("CancelReservation", reply(&ocpp.CancelReservationResponse{Status: ocpp.CancelReservationStatusAccepted}).then(
		func(cp *chargePoint) { cp.emit(statusRequest(1, ocpp.ChargePointStatusAvailable)) }))

	reserve(t, sys, cp, 51, 1, "TAG-051", "", now().Add(time.Hour), ocpp.ReservationStatusAccepted)
	cp.status(1, ocpp.ChargePointStatusReserved)
	m := cp.mark()
	wantJSON(t, "CancelReservation answer", sys.operate("CP-051", "CancelReservation", `{"reservationId":51}`), `{"status":"Accepted"}`)
	cp.settle()
	cp.wantFlow(m,
		"CS>CP CancelReservation.req", "CP>CS CancelReservation.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	if req := request[ocpp.CancelReservationRequest](cp, m); req.ReservationID != 51 {
		t.Errorf("CancelReservation of %d, want 51", req.ReservationID)
	}
	wantReservation(t, sys, "CP-051", 51, "Cancelled", 0)
	if c := sys.connector("CP-051", 1); c.Status != "Available" {
		t.Errorf("connector 1 is %s, want Available", c.Status)
	}
}

func TestTC_052_CancelReservationRejected(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-052")
	cp.bootAvailable(1)
	cp.on("ReserveNow", reply(&ocpp.ReserveNowResponse{Status: ocpp.ReservationStatusAccepted}))
	cp.on("CancelReservation", reply(&ocpp.CancelReservationResponse{Status: ocpp.CancelReservationStatusRejected}))

	reserve(t, sys, cp, 52, 1, "TAG-052", "", now().Add(time.Hour), ocpp.ReservationStatusAccepted)
	m := cp.mark()
	wantJSON(t, "CancelReservation answer", sys.operate("CP-052", "CancelReservation", `{"reservationId":52}`), `{"status":"Rejected"}`)
	cp.wantFlow(m, "CS>CP CancelReservation.req", "CP>CS CancelReservation.conf")
	wantOperation(t, sys.lastOperation("CP-052", "CancelReservation"), "CancelReservation", `{"reservationId":52}`, `{"status":"Rejected"}`)
	wantReservation(t, sys, "CP-052", 52, "Reserved", 0)
}

func TestTC_053_ReservationWithParentIdTag(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-053")
	cp.bootAvailable(2)
	sys.call("PUT", "/api/v1/id-tags/DRIVER-B", `{"parentIdTag":"FLEET-53"}`, http.StatusCreated, nil)
	cp.on("ReserveNow", reply(&ocpp.ReserveNowResponse{Status: ocpp.ReservationStatusAccepted}))

	reserve(t, sys, cp, 53, 1, "DRIVER-A", "FLEET-53", now().Add(time.Hour), ocpp.ReservationStatusAccepted)
	cp.status(1, ocpp.ChargePointStatusReserved)
	if r := wantReservation(t, sys, "CP-053", 53, "Reserved", 0); val(r.ParentIdTag) != "FLEET-53" {
		t.Errorf("reservation parentIdTag %v, want FLEET-53", val(r.ParentIdTag))
	}
	// Another driver of the same fleet uses it.
	info := cp.authorize("DRIVER-B")
	if info.Status != ocpp.AuthorizationStatusAccepted || info.ParentIdTag != "FLEET-53" {
		t.Errorf("Authorize DRIVER-B: %+v, want Accepted with parent FLEET-53", info)
	}
	cp.status(1, ocpp.ChargePointStatusPreparing)
	req := startRequest(1, "DRIVER-B", 0, now())
	req.ReservationID = ptr(53)
	start := sendAs[ocpp.StartTransactionResponse](cp, req)
	if start.IdTagInfo.ParentIdTag != "FLEET-53" {
		t.Errorf("StartTransaction idTagInfo %+v, want parent FLEET-53", start.IdTagInfo)
	}
	cp.status(1, ocpp.ChargePointStatusCharging)
	wantReservation(t, sys, "CP-053", 53, "Used", start.TransactionID)

	// A driver of no fleet does not use a reservation of another's.
	reserve(t, sys, cp, 54, 2, "DRIVER-A", "FLEET-53", now().Add(time.Hour), ocpp.ReservationStatusAccepted)
	req = startRequest(2, "STRANGER", 0, now())
	req.ReservationID = ptr(54)
	sendAs[ocpp.StartTransactionResponse](cp, req)
	wantReservation(t, sys, "CP-053", 54, "Reserved", 0)
}
