package e2e

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
)

// The core cases: boot, local charging sessions, authorization, lock failure, power failure
// and offline transactions. In these the charge point acts and the central system answers.

func TestTC_001_ColdBoot(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-001")
	before := now()

	m := cp.mark()
	resp := cp.boot()
	if resp.Status != ocpp.RegistrationStatusAccepted {
		t.Errorf("BootNotification status %s, want Accepted", resp.Status)
	}
	if want := int(heartbeatInterval / time.Second); resp.Interval != want {
		t.Errorf("BootNotification interval %d, want the account's heartbeat interval %d", resp.Interval, want)
	}
	if d := time.Until(resp.CurrentTime.Time); d < -time.Minute || d > time.Minute {
		t.Errorf("BootNotification currentTime %v is off by %v", resp.CurrentTime, d)
	}
	for c := 0; c <= 2; c++ {
		cp.status(c, ocpp.ChargePointStatusAvailable)
	}
	hb := sendAs[ocpp.HeartbeatResponse](cp, &ocpp.HeartbeatRequest{})
	if d := time.Until(hb.CurrentTime.Time); d < -time.Minute || d > time.Minute {
		t.Errorf("Heartbeat currentTime %v is off by %v", hb.CurrentTime, d)
	}
	cp.wantFlow(m,
		"CP>CS BootNotification.req", "CS>CP BootNotification.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS Heartbeat.req", "CS>CP Heartbeat.conf",
	)

	st := sys.station("CP-001")
	want := bootRequest()
	if st.Registration != "Accepted" || !st.Connected {
		t.Errorf("station registration %s connected %v, want Accepted and connected", st.Registration, st.Connected)
	}
	if b := st.Boot; b.ChargePointVendor != want.ChargePointVendor || b.ChargePointModel != want.ChargePointModel ||
		b.ChargePointSerialNumber != want.ChargePointSerialNumber || b.FirmwareVersion != want.FirmwareVersion ||
		b.MeterType != want.MeterType || b.MeterSerialNumber != want.MeterSerialNumber {
		t.Errorf("stored boot information %+v, want that of %+v", b, want)
	}
	if st.LastBootAt == nil || st.LastBootAt.Before(before) {
		t.Errorf("lastBootAt %v, want at or after %v", val(st.LastBootAt), before)
	}
	if st.LastSeenAt == nil || st.LastSeenAt.Before(before) {
		t.Errorf("lastSeenAt %v, want the heartbeat's time", val(st.LastSeenAt))
	}
	if len(st.Connectors) != 3 {
		t.Fatalf("connectors %+v, want 0, 1 and 2", st.Connectors)
	}
	for i, c := range st.Connectors {
		if c.ConnectorID != i || c.Status != "Available" || c.ErrorCode != "NoError" || c.Timestamp == nil {
			t.Errorf("connector %d stored as %+v, want Available, NoError, with its timestamp", i, c)
		}
	}
	if boots := sys.events("CP-001", "BootNotification"); len(boots) != 1 {
		t.Errorf("BootNotification events %+v, want 1", boots)
	}
}

func TestTC_003_ChargingSessionPlugInFirst(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-003")
	cp.bootAvailable(1)
	t0 := now().Add(-10 * time.Minute).Truncate(time.Second)

	m := cp.mark()
	cp.status(1, ocpp.ChargePointStatusPreparing)
	if info := cp.authorize("TAG-003"); info.Status != ocpp.AuthorizationStatusAccepted {
		t.Fatalf("Authorize: %s, want Accepted", info.Status)
	}
	start := cp.start(1, "TAG-003", 1000, t0)
	if start.IdTagInfo.Status != ocpp.AuthorizationStatusAccepted || start.TransactionID <= 0 {
		t.Fatalf("StartTransaction answered %+v", start)
	}
	tx := start.TransactionID
	cp.status(1, ocpp.ChargePointStatusCharging)
	cp.meter(1, tx, t0.Add(time.Minute), 1500)
	sendAs[ocpp.MeterValuesResponse](cp, &ocpp.MeterValuesRequest{ConnectorID: 1, TransactionID: &tx, MeterValue: []ocpp.MeterValue{{
		Timestamp: ocpp.DateTime{Time: t0.Add(2 * time.Minute)},
		SampledValue: []ocpp.SampledValue{
			{Value: "2.5", Measurand: ocpp.MeasurandEnergyActiveImportRegister, Unit: ocpp.UnitOfMeasureKWh},
			{Value: "7.4", Measurand: ocpp.MeasurandPowerActiveImport, Unit: ocpp.UnitOfMeasureKW},
		},
	}}})
	stop := cp.stop(tx, 3250, t0.Add(3*time.Minute), ocpp.ReasonLocal, "TAG-003")
	if stop.IdTagInfo == nil || stop.IdTagInfo.Status != ocpp.AuthorizationStatusAccepted {
		t.Errorf("StopTransaction idTagInfo %+v, want Accepted", val(stop.IdTagInfo))
	}
	cp.status(1, ocpp.ChargePointStatusFinishing)
	cp.status(1, ocpp.ChargePointStatusAvailable)
	cp.wantFlow(m,
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS Authorize.req", "CS>CP Authorize.conf",
		"CP>CS StartTransaction.req", "CS>CP StartTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS MeterValues.req", "CS>CP MeterValues.conf",
		"CP>CS MeterValues.req", "CS>CP MeterValues.conf",
		"CP>CS StopTransaction.req", "CS>CP StopTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)

	got := sys.transaction(tx)
	if got.ChargePointID != "CP-003" || got.ConnectorID != 1 || got.IdTag != "TAG-003" || got.Active ||
		got.MeterStart != 1000 || val(got.MeterStop) != int64(3250) || !got.StartedAt.Equal(t0) ||
		got.StoppedAt == nil || !got.StoppedAt.Equal(t0.Add(3*time.Minute)) ||
		val(got.StopReason) != "Local" || val(got.StopIdTag) != "TAG-003" || len(got.Flags) != 0 {
		t.Errorf("transaction stored as %+v", got)
	}
	if val(got.EnergyWh) != int64(2250) {
		t.Errorf("energy %v Wh, want 2250 (meterStop 3250 - meterStart 1000)", val(got.EnergyWh))
	}
	var kinds []string
	for _, e := range got.Events {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Equal(kinds, []string{"Started", "Stopped"}) {
		t.Errorf("transaction events %v, want Started, Stopped", kinds)
	}
	mvs := sys.meterValues(tx)
	type sample struct {
		at                              time.Time
		measurand, unit, value, rawUnit string
	}
	var samples []sample
	for _, mv := range mvs {
		samples = append(samples, sample{mv.Timestamp, mv.Measurand, mv.Unit, num(mv.Value), mv.RawUnit})
	}
	wantSamples := []sample{
		{t0.Add(time.Minute), "Energy.Active.Import.Register", "Wh", "1500", "Wh"},
		{t0.Add(2 * time.Minute), "Energy.Active.Import.Register", "Wh", "2500", "kWh"},
		{t0.Add(2 * time.Minute), "Power.Active.Import", "W", "7400", "kW"},
	}
	if !slices.EqualFunc(samples, wantSamples, func(a, b sample) bool {
		return a.at.Equal(b.at) && a.measurand == b.measurand && a.unit == b.unit && a.value == b.value && a.rawUnit == b.rawUnit
	}) {
		t.Errorf("meter values %+v, want %+v", samples, wantSamples)
	}
	if got := sys.statuses("CP-003", 1); !slices.Equal(got, []string{"Available", "Preparing", "Charging", "Finishing", "Available"}) {
		t.Errorf("connector 1 went through %v", got)
	}
	if c := sys.connector("CP-003", 1); c.Status != "Available" {
		t.Errorf("connector 1 is %s, want Available", c.Status)
	}
}

func TestTC_004_1_ChargingSessionIdFirst(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-004")
	cp.bootAvailable(1)
	t0 := now().Truncate(time.Second)

	m := cp.mark()
	if info := cp.authorize("TAG-004"); info.Status != ocpp.AuthorizationStatusAccepted {
		t.Fatalf("Authorize: %s", info.Status)
	}
	cp.status(1, ocpp.ChargePointStatusPreparing)
	tx := cp.start(1, "TAG-004", 0, t0).TransactionID
	cp.status(1, ocpp.ChargePointStatusCharging)
	cp.stop(tx, 4321, t0.Add(time.Hour), ocpp.ReasonLocal, "TAG-004")
	cp.status(1, ocpp.ChargePointStatusFinishing)
	cp.wantFlow(m,
		"CP>CS Authorize.req", "CS>CP Authorize.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StartTransaction.req", "CS>CP StartTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StopTransaction.req", "CS>CP StopTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	got := sys.transaction(tx)
	if got.Active || val(got.EnergyWh) != int64(4321) || val(got.StopReason) != "Local" {
		t.Errorf("transaction stored as %+v", got)
	}
	if got := sys.statuses("CP-004", 1); !slices.Equal(got, []string{"Available", "Preparing", "Charging", "Finishing"}) {
		t.Errorf("connector 1 went through %v", got)
	}
}

func TestTC_004_2_ConnectionTimeout(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-004-2")
	cp.bootAvailable(1)

	m := cp.mark()
	if info := cp.authorize("TAG-004-2"); info.Status != ocpp.AuthorizationStatusAccepted {
		t.Fatalf("Authorize: %s", info.Status)
	}
	cp.status(1, ocpp.ChargePointStatusPreparing)
	// The driver never plugs in: ConnectionTimeOut passes and the charger gives up.
	cp.status(1, ocpp.ChargePointStatusAvailable)
	cp.wantFlow(m,
		"CP>CS Authorize.req", "CS>CP Authorize.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	if txs := sys.transactions("station=CP-004-2"); len(txs) != 0 {
		t.Errorf("transactions %+v, want none", txs)
	}
	if got := sys.statuses("CP-004-2", 1); !slices.Equal(got, []string{"Available", "Preparing", "Available"}) {
		t.Errorf("connector 1 went through %v", got)
	}
	if c := sys.connector("CP-004-2", 1); c.Status != "Available" {
		t.Errorf("connector 1 is %s, want Available", c.Status)
	}
}

func TestTC_005_EVSideDisconnect(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-005")
	cp.bootAvailable(1)
	t0 := now().Truncate(time.Second)
	tx := cp.charge(1, "TAG-005", 100, t0)

	m := cp.mark()
	// The EV unplugs: StopTransactionOnEVSideDisconnect is true.
	cp.stop(tx, 2100, t0.Add(30*time.Minute), ocpp.ReasonEVDisconnected, "")
	cp.status(1, ocpp.ChargePointStatusFinishing)
	cp.status(1, ocpp.ChargePointStatusAvailable)
	cp.wantFlow(m,
		"CP>CS StopTransaction.req", "CS>CP StopTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	got := sys.transaction(tx)
	if got.Active || val(got.StopReason) != "EVDisconnected" || got.StopIdTag != nil || val(got.EnergyWh) != int64(2000) {
		t.Errorf("transaction stored as %+v, want stopped with EVDisconnected, no stop idTag, 2000 Wh", got)
	}
}

func TestTC_007_CachedId(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-007")
	cp.bootAvailable(1)
	t0 := now().Truncate(time.Second)

	m := cp.mark()
	// The tag is in the charger's authorization cache: it starts without asking.
	cp.status(1, ocpp.ChargePointStatusPreparing)
	start := cp.start(1, "TAG-CACHED", 500, t0)
	cp.status(1, ocpp.ChargePointStatusCharging)
	cp.wantFlow(m,
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StartTransaction.req", "CS>CP StartTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	if start.IdTagInfo.Status != ocpp.AuthorizationStatusAccepted {
		t.Errorf("StartTransaction idTagInfo %s, want Accepted", start.IdTagInfo.Status)
	}
	got := sys.transaction(start.TransactionID)
	if !got.Active || got.IdTag != "TAG-CACHED" || !got.StartedAt.Equal(t0) {
		t.Errorf("transaction stored as %+v", got)
	}
	if tag := sys.idTag("TAG-CACHED"); tag.Known || tag.Status != "Accepted" {
		t.Errorf("id tag recorded as %+v, want an unknown tag, Accepted", tag)
	}
}

// TestTC_023_1_AuthorizeInvalid: OCA expects idTagInfo Invalid for an unknown tag. chargebook
// accepts every tag the account has not blocked or expired (README: "Every idTag is accepted
// unless the account has it blocked or expired; tags never seen before are recorded as
// unknown tags"); access rules come in a later release. This asserts that documented
// behaviour.
func TestTC_023_1_AuthorizeInvalid(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-023-1")
	cp.bootAvailable(1)

	info := cp.authorize("NEVER-SEEN")
	if info.Status != ocpp.AuthorizationStatusAccepted {
		t.Errorf("Authorize of an unknown tag: %s, want Accepted (chargebook's documented behaviour)", info.Status)
	}
	if info.ExpiryDate != nil || info.ParentIdTag != "" {
		t.Errorf("Authorize of an unknown tag: %+v, want no expiry and no parent", info)
	}
	if tag := sys.idTag("NEVER-SEEN"); tag.Known || tag.Blocked {
		t.Errorf("tag recorded as %+v, want unknown, not blocked", tag)
	}
}

func TestTC_023_2_AuthorizeExpired(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-023-2")
	cp.bootAvailable(1)
	sys.call("PUT", "/api/v1/id-tags/TAG-EXPIRED", `{"expiresAt":"2020-01-01T00:00:00Z"}`, http.StatusCreated, nil)

	info := cp.authorize("TAG-EXPIRED")
	if info.Status != ocpp.AuthorizationStatusExpired {
		t.Errorf("Authorize of an expired tag: %s, want Expired", info.Status)
	}
	if tag := sys.idTag("TAG-EXPIRED"); !tag.Known || tag.Status != "Expired" {
		t.Errorf("tag %+v, want known and Expired", tag)
	}
	// A charger that starts anyway (offline, from its cache) is told, and the transaction is
	// kept: the energy was delivered.
	start := cp.start(1, "TAG-EXPIRED", 0, now())
	if start.IdTagInfo.Status != ocpp.AuthorizationStatusExpired {
		t.Errorf("StartTransaction of an expired tag: %s, want Expired", start.IdTagInfo.Status)
	}
	if got := sys.transaction(start.TransactionID); !got.Active || got.IdTag != "TAG-EXPIRED" {
		t.Errorf("transaction stored as %+v", got)
	}
}

func TestTC_023_3_AuthorizeBlocked(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-023-3")
	cp.bootAvailable(1)
	sys.call("PUT", "/api/v1/id-tags/TAG-BLOCKED", `{"blocked":true}`, http.StatusCreated, nil)

	m := cp.mark()
	info := cp.authorize("TAG-BLOCKED")
	cp.wantFlow(m, "CP>CS Authorize.req", "CS>CP Authorize.conf")
	if info.Status != ocpp.AuthorizationStatusBlocked || info.ExpiryDate != nil {
		t.Errorf("Authorize of a blocked tag: %+v, want Blocked without expiry", info)
	}
	// Unblocked, the same tag is accepted again.
	sys.call("PATCH", "/api/v1/id-tags/TAG-BLOCKED", `{"blocked":false}`, http.StatusOK, nil)
	if info := cp.authorize("TAG-BLOCKED"); info.Status != ocpp.AuthorizationStatusAccepted {
		t.Errorf("Authorize after unblocking: %s, want Accepted", info.Status)
	}
}

func TestTC_024_LockFailure(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-024")
	cp.bootAvailable(1)
	if info := cp.authorize("TAG-024"); info.Status != ocpp.AuthorizationStatusAccepted {
		t.Fatalf("Authorize: %s", info.Status)
	}

	m := cp.mark()
	cp.status(1, ocpp.ChargePointStatusPreparing)
	// The cable is plugged in halfway: the lock fails.
	sendAs[ocpp.StatusNotificationResponse](cp, &ocpp.StatusNotificationRequest{ConnectorID: 1,
		Status: ocpp.ChargePointStatusFaulted, ErrorCode: ocpp.ChargePointErrorCodeConnectorLockFailure,
		Info: "lock did not engage", VendorErrorCode: "E-LOCK-7", Timestamp: &ocpp.DateTime{Time: time.Now()}})
	cp.wantFlow(m,
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	c := sys.connector("CP-024", 1)
	if c.Status != "Faulted" || c.ErrorCode != "ConnectorLockFailure" || c.Info != "lock did not engage" {
		t.Errorf("connector 1 stored as %+v, want Faulted with ConnectorLockFailure", c)
	}
	if got := sys.statuses("CP-024", 1); !slices.Equal(got, []string{"Available", "Preparing", "Faulted"}) {
		t.Errorf("connector 1 went through %v", got)
	}
	if txs := sys.transactions("station=CP-024"); len(txs) != 0 {
		t.Errorf("transactions %+v, want none", txs)
	}
}

// TestTC_032_PowerFailureBootWithOpenTransaction: the charger loses power while charging and
// boots again. chargebook closes the open transaction on the boot (reason Reboot, flagged
// closed_on_boot, settled on the last register reading), and the StopTransaction the charger
// sends afterwards (reason PowerLoss) replaces that estimate.
func TestTC_032_PowerFailureBootWithOpenTransaction(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-032")
	cp.bootAvailable(2)
	t0 := now().Add(-time.Hour).Truncate(time.Second)
	tx := cp.charge(1, "TAG-032", 10000, t0)
	cp.meter(1, tx, t0.Add(10*time.Minute), 11500)

	cp.drop() // power cut
	cp.dial()
	m := cp.mark()
	if resp := cp.boot(); resp.Status != ocpp.RegistrationStatusAccepted {
		t.Fatalf("BootNotification after the power failure: %s", resp.Status)
	}
	est := sys.transaction(tx)
	if est.Active || val(est.StopReason) != "Reboot" || !slices.Contains(est.Flags, "closed_on_boot") ||
		val(est.MeterStop) != int64(11500) || val(est.EnergyWh) != int64(1500) {
		t.Errorf("after the boot the transaction is %+v, want closed with Reboot, closed_on_boot, on the last reading 11500", est)
	}
	cp.status(0, ocpp.ChargePointStatusAvailable)
	cp.status(1, ocpp.ChargePointStatusFinishing)
	cp.status(2, ocpp.ChargePointStatusAvailable)
	stopAt := t0.Add(12 * time.Minute)
	stop := cp.stop(tx, 11800, stopAt, ocpp.ReasonPowerLoss, "")
	if stop.IdTagInfo != nil {
		t.Errorf("StopTransaction without idTag answered idTagInfo %+v", *stop.IdTagInfo)
	}
	cp.wantFlow(m,
		"CP>CS BootNotification.req", "CS>CP BootNotification.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
		"CP>CS StopTransaction.req", "CS>CP StopTransaction.conf",
	)

	got := sys.transaction(tx)
	if got.Active || val(got.StopReason) != "PowerLoss" || val(got.MeterStop) != int64(11800) ||
		val(got.EnergyWh) != int64(1800) || got.StoppedAt == nil || !got.StoppedAt.Equal(stopAt) {
		t.Errorf("after the StopTransaction the transaction is %+v, want the charger's stop: PowerLoss, 11800, 1800 Wh", got)
	}
	if !slices.Contains(got.Flags, "closed_on_boot") || !slices.Contains(got.Flags, "stopped_after_close") {
		t.Errorf("flags %v, want closed_on_boot and stopped_after_close", got.Flags)
	}
	var kinds []string
	for _, e := range got.Events {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Equal(kinds, []string{"Started", "ClosedOnBoot", "StoppedAfterClose"}) {
		t.Errorf("transaction events %v", kinds)
	}
	if boots := sys.events("CP-032", "BootNotification"); len(boots) != 2 {
		t.Errorf("%d BootNotification events, want 2", len(boots))
	}
}

func TestTC_037_OfflineStartTransaction(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-037")
	cp.bootAvailable(1)

	cp.drop() // the network goes
	if st := sys.station("CP-037"); st.Connected {
		t.Errorf("station still connected after the connection dropped")
	}
	// Offline, a driver starts with a tag from the local list; the network comes back and
	// the charger sends what it queued, without booting.
	startedAt := now().Add(-10 * time.Minute).Truncate(time.Second)
	cp.dial()
	m := cp.mark()
	start := cp.start(1, "TAG-037", 2000, startedAt)
	cp.status(1, ocpp.ChargePointStatusCharging)
	cp.wantFlow(m,
		"CP>CS StartTransaction.req", "CS>CP StartTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)
	if start.IdTagInfo.Status != ocpp.AuthorizationStatusAccepted {
		t.Errorf("offline StartTransaction: idTagInfo %s, want Accepted", start.IdTagInfo.Status)
	}
	got := sys.transaction(start.TransactionID)
	if !got.Active || !got.StartedAt.Equal(startedAt) || got.CreatedAt.Sub(startedAt) < 9*time.Minute {
		t.Errorf("transaction stored as %+v, want active, started at the charger's %v, received later", got, startedAt)
	}
	if !sys.station("CP-037").Connected {
		t.Errorf("station not connected after reconnecting")
	}
	if boots := sys.events("CP-037", "BootNotification"); len(boots) != 1 {
		t.Errorf("%d BootNotification events, want the first one only", len(boots))
	}
	var conns []string
	for _, e := range sys.events("CP-037", "") {
		if e.Kind == "Connected" || e.Kind == "Disconnected" {
			conns = append(conns, e.Kind)
		}
	}
	if !slices.Equal(conns, []string{"Connected", "Disconnected", "Connected"}) {
		t.Errorf("connection events %v", conns)
	}
}

func TestTC_039_OfflineTransaction(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-039")
	cp.bootAvailable(1)
	base := now().Truncate(time.Second)

	// An online transaction, started five minutes ago by its own clock.
	online := cp.charge(1, "TAG-ONLINE", 0, base.Add(-5*time.Minute))
	cp.stop(online, 100, base.Add(-4*time.Minute), ocpp.ReasonLocal, "TAG-ONLINE")
	cp.status(1, ocpp.ChargePointStatusAvailable)

	cp.drop()
	// Offline, earlier by the charger's clock than the online one: start, a reading, stop,
	// unplug. All of it arrives after the reconnection, in order.
	t1, t2, t3 := base.Add(-30*time.Minute), base.Add(-20*time.Minute), base.Add(-10*time.Minute)
	cp.dial()
	m := cp.mark()
	start := cp.start(1, "TAG-039", 5000, t1)
	if start.IdTagInfo.Status != ocpp.AuthorizationStatusAccepted {
		t.Errorf("queued StartTransaction: %s, want Accepted", start.IdTagInfo.Status)
	}
	tx := start.TransactionID
	cp.meter(1, tx, t2, 6000)
	cp.stop(tx, 7000, t3, ocpp.ReasonLocal, "TAG-039")
	cp.status(1, ocpp.ChargePointStatusAvailable)
	cp.wantFlow(m,
		"CP>CS StartTransaction.req", "CS>CP StartTransaction.conf",
		"CP>CS MeterValues.req", "CS>CP MeterValues.conf",
		"CP>CS StopTransaction.req", "CS>CP StopTransaction.conf",
		"CP>CS StatusNotification.req", "CS>CP StatusNotification.conf",
	)

	got := sys.transaction(tx)
	if got.Active || !got.StartedAt.Equal(t1) || got.StoppedAt == nil || !got.StoppedAt.Equal(t3) ||
		val(got.StopReason) != "Local" || val(got.EnergyWh) != int64(2000) || len(got.Flags) != 0 {
		t.Errorf("offline transaction stored as %+v, want %v to %v, Local, 2000 Wh, no flags", got, t1, t3)
	}
	mvs := sys.meterValues(tx)
	if len(mvs) != 1 || !mvs[0].Timestamp.Equal(t2) || mvs[0].Value == nil || mvs[0].Value.String() != "6000" {
		t.Errorf("meter values %+v, want the 6000 Wh reading at %v", mvs, t2)
	}
	// Listed by their own timestamps: the offline transaction, which arrived last, comes
	// after the online one, which started later.
	var ids []int64
	for _, tr := range sys.transactions("station=CP-039") {
		ids = append(ids, tr.TransactionID)
	}
	if want := []int64{int64(online), int64(tx)}; !slices.Equal(ids, want) {
		t.Errorf("transactions listed as %v, want %v (newest start first)", ids, want)
	}
	window := "station=CP-039&from=" + t1.Add(-time.Minute).Format(time.RFC3339) + "&to=" + t3.Format(time.RFC3339)
	if in := sys.transactions(window); len(in) != 1 || in[0].TransactionID != int64(tx) {
		t.Errorf("transactions started in the offline window: %+v, want only %d", in, tx)
	}
}

func TestTC_088_WebsocketSubprotocol(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	for _, tc := range []struct {
		name    string
		offered []string
		want    string // the subprotocol agreed; "" for a refused station
	}{
		{"ocpp1.6", []string{"ocpp1.6"}, "ocpp1.6"},
		{"only ocpp2.0", []string{"ocpp2.0"}, ""},
		{"ocpp2.0 then ocpp1.6", []string{"ocpp2.0", "ocpp1.6"}, "ocpp1.6"},
		{"none", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cpID := "CP-088-" + strconv.Itoa(len(tc.offered)) + "-" + tc.want
			subprotocolCase(t, sys, cpID, tc.offered, tc.want)
		})
	}
	var list struct{ Stations []apiStation }
	sys.get("/api/v1/stations", &list)
	var ids []string
	for _, st := range list.Stations {
		ids = append(ids, st.ChargePointID)
	}
	slices.Sort(ids)
	if want := []string{"CP-088-1-ocpp1.6", "CP-088-2-ocpp1.6"}; !slices.Equal(ids, want) {
		t.Errorf("stations %v, want only those that agreed on ocpp1.6: %v", ids, want)
	}
}

// subprotocolCase opens a websocket offering the subprotocols and checks what the central
// system agrees to: an agreed ocpp1.6 connection carries OCPP, anything else is closed at
// once with status 1002 (OCPP-J 1.6, 3.1.2).
func subprotocolCase(t *testing.T, sys *system, chargePointID string, offered []string, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, sys.stationURL(chargePointID), &websocket.DialOptions{Subprotocols: offered})
	if err != nil {
		t.Fatalf("handshake offering %v: %v", offered, err)
	}
	defer ws.CloseNow()
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != want {
		t.Errorf("offering %v: Sec-WebSocket-Protocol %q, want %q", offered, got, want)
	}
	if want == "" {
		_, _, err := ws.Read(ctx)
		if got := websocket.CloseStatus(err); got != websocket.StatusProtocolError {
			t.Errorf("offering %v: the connection ended with %v (status %d), want a close with %d", offered, err, got, websocket.StatusProtocolError)
		}
		return
	}
	conn := rpc.NewConn(ws, rpc.Options{Logger: quiet})
	go conn.Serve(context.Background(), nil)
	defer func() {
		conn.Close(websocket.StatusNormalClosure, "")
		<-conn.Done()
	}()
	payload, err := ocpp.EncodePayload(bootRequest())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := conn.Call(ctx, "BootNotification", payload)
	if err != nil {
		t.Fatalf("offering %v: BootNotification: %v", offered, err)
	}
	resp2, _, err := ocpp.DecodeResponse("BootNotification", raw, ocpp.Strict)
	if err != nil || resp2.(*ocpp.BootNotificationResponse).Status != ocpp.RegistrationStatusAccepted {
		t.Errorf("offering %v: BootNotification answered %s (%v), want Accepted", offered, raw, err)
	}
}
