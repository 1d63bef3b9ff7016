package csms_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/core"
	"github.com/lorenzodonini/ocpp-go/ocpp1.6/types"

	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/station"
)

// The tests in this file run a charge point no one here wrote, lorenzodonini/ocpp-go's,
// against the central system: what it sends must be read, and what we answer must satisfy
// its validation.

// coreHandler is the least an ocpp-go charge point needs to answer the core profile: it
// knows two configuration keys and refuses everything else.
type coreHandler struct {
	mu     sync.Mutex
	config map[string]string
	calls  []string
}

func (h *coreHandler) record(action string) {
	h.mu.Lock()
	h.calls = append(h.calls, action)
	h.mu.Unlock()
}

func (h *coreHandler) OnChangeAvailability(*core.ChangeAvailabilityRequest) (*core.ChangeAvailabilityConfirmation, error) {
	h.record("ChangeAvailability")
	return core.NewChangeAvailabilityConfirmation(core.AvailabilityStatusRejected), nil
}

func (h *coreHandler) OnChangeConfiguration(req *core.ChangeConfigurationRequest) (*core.ChangeConfigurationConfirmation, error) {
	h.record("ChangeConfiguration")
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.config[req.Key]; !ok {
		return core.NewChangeConfigurationConfirmation(core.ConfigurationStatusNotSupported), nil
	}
	h.config[req.Key] = req.Value
	return core.NewChangeConfigurationConfirmation(core.ConfigurationStatusAccepted), nil
}

func (h *coreHandler) OnClearCache(*core.ClearCacheRequest) (*core.ClearCacheConfirmation, error) {
	h.record("ClearCache")
	return core.NewClearCacheConfirmation(core.ClearCacheStatusAccepted), nil
}

func (h *coreHandler) OnDataTransfer(*core.DataTransferRequest) (*core.DataTransferConfirmation, error) {
	h.record("DataTransfer")
	return core.NewDataTransferConfirmation(core.DataTransferStatusUnknownVendorId), nil
}

func (h *coreHandler) OnGetConfiguration(req *core.GetConfigurationRequest) (*core.GetConfigurationConfirmation, error) {
	h.record("GetConfiguration")
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := req.Key
	if len(keys) == 0 {
		for k := range h.config {
			keys = append(keys, k)
		}
		slices.Sort(keys)
	}
	var known []core.ConfigurationKey
	var unknown []string
	for _, k := range keys {
		v, ok := h.config[k]
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		known = append(known, core.ConfigurationKey{Key: k, Readonly: k == "NumberOfConnectors", Value: &v})
	}
	conf := core.NewGetConfigurationConfirmation(known)
	conf.UnknownKey = unknown
	return conf, nil
}

func (h *coreHandler) OnRemoteStartTransaction(*core.RemoteStartTransactionRequest) (*core.RemoteStartTransactionConfirmation, error) {
	h.record("RemoteStartTransaction")
	return core.NewRemoteStartTransactionConfirmation(types.RemoteStartStopStatusRejected), nil
}

func (h *coreHandler) OnRemoteStopTransaction(*core.RemoteStopTransactionRequest) (*core.RemoteStopTransactionConfirmation, error) {
	h.record("RemoteStopTransaction")
	return core.NewRemoteStopTransactionConfirmation(types.RemoteStartStopStatusRejected), nil
}

func (h *coreHandler) OnReset(*core.ResetRequest) (*core.ResetConfirmation, error) {
	h.record("Reset")
	return core.NewResetConfirmation(core.ResetStatusRejected), nil
}

func (h *coreHandler) OnUnlockConnector(*core.UnlockConnectorRequest) (*core.UnlockConnectorConfirmation, error) {
	h.record("UnlockConnector")
	return core.NewUnlockConnectorConfirmation(core.UnlockStatusNotSupported), nil
}

// startOcppGo connects an ocpp-go charge point. ocpp-go appends "/<id>" to the URL it is
// given (ocppj.Client.Start: fmt.Sprintf("%v/%v", serverURL, id)).
func startOcppGo(t *testing.T, baseURL, id string) (ocpp16.ChargePoint, *coreHandler) {
	t.Helper()
	cp := ocpp16.NewChargePoint(id, nil, nil)
	h := &coreHandler{config: map[string]string{"HeartbeatInterval": "300", "NumberOfConnectors": "2"}}
	cp.SetCoreHandler(h)
	if err := cp.Start(baseURL); err != nil {
		t.Fatalf("ocpp-go charge point %s: start at %s: %v", id, baseURL, err)
	}
	t.Cleanup(cp.Stop)
	return cp, h
}

func TestOcppGoChargePoint(t *testing.T) {
	e := newEnv(t)
	const id = "OCPPGO-1"
	cp, h := startOcppGo(t, e.base+csms.PathPrefix+e.acct.Key, id)

	// Whole seconds: ocpp-go sends RFC 3339 timestamps without a fraction.
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

	t.Run("BootNotification", func(t *testing.T) {
		before := time.Now()
		conf, err := cp.BootNotification("Model-G", "VendorGo", func(r *core.BootNotificationRequest) {
			r.ChargePointSerialNumber = "SER-1"
			r.FirmwareVersion = "0.19.0"
			r.MeterType = "MT"
		})
		if err != nil {
			t.Fatalf("BootNotification: %v", err)
		}
		if conf.Status != core.RegistrationStatusAccepted || conf.Interval != int(testHeartbeatInterval/time.Second) {
			t.Errorf("BootNotification.conf = %s interval %d", conf.Status, conf.Interval)
		}
		within(t, "currentTime", conf.CurrentTime.Time, before.Truncate(time.Millisecond), time.Now())
		st := e.station(id)
		if st.Boot.Vendor != "VendorGo" || st.Boot.Model != "Model-G" || st.Boot.ChargePointSerial != "SER-1" ||
			st.Boot.FirmwareVersion != "0.19.0" || st.Boot.MeterType != "MT" {
			t.Errorf("boot info = %+v", st.Boot)
		}
		if !st.Connected || st.Registration != station.Accepted {
			t.Errorf("station = %+v, want connected and Accepted", st)
		}
	})

	t.Run("StatusNotification", func(t *testing.T) {
		_, err := cp.StatusNotification(1, core.OtherError, core.ChargePointStatusFaulted, func(r *core.StatusNotificationRequest) {
			r.Info = "door open"
			r.VendorId = "go"
			r.VendorErrorCode = "E1"
			r.Timestamp = types.NewDateTime(t0)
		})
		if err != nil {
			t.Fatalf("StatusNotification: %v", err)
		}
		cs, err := e.store.Connectors(e.ctx, e.station(id).ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].ConnectorID != 1 || cs[0].Status != "Faulted" || cs[0].ErrorCode != "OtherError" ||
			cs[0].Info != "door open" || cs[0].VendorID != "go" || cs[0].VendorErrorCode != "E1" || !cs[0].Timestamp.Equal(t0) {
			t.Errorf("connectors = %+v", cs)
		}
	})

	t.Run("Authorize", func(t *testing.T) {
		conf, err := cp.Authorize("GO-TAG")
		if err != nil {
			t.Fatalf("Authorize: %v", err)
		}
		if conf.IdTagInfo == nil || conf.IdTagInfo.Status != types.AuthorizationStatusAccepted {
			t.Errorf("Authorize.conf = %+v", conf.IdTagInfo)
		}
		tags, err := e.store.IdTags(e.ctx, e.acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(tags) != 1 || tags[0].IdTag != "GO-TAG" || tags[0].Known {
			t.Errorf("id tags = %+v, want GO-TAG as an unknown tag", tags)
		}
	})

	var txID int
	t.Run("StartTransaction", func(t *testing.T) {
		conf, err := cp.StartTransaction(1, "GO-TAG", 10000, types.NewDateTime(t0))
		if err != nil {
			t.Fatalf("StartTransaction: %v", err)
		}
		if conf.IdTagInfo == nil || conf.IdTagInfo.Status != types.AuthorizationStatusAccepted || conf.TransactionId <= 0 {
			t.Fatalf("StartTransaction.conf = %+v", conf)
		}
		txID = conf.TransactionId
		tx := e.transaction(int64(txID))
		if tx.ChargePointID != id || tx.ConnectorID != 1 || tx.IdTag != "GO-TAG" || tx.MeterStartWh != 10000 || !tx.StartedAt.Equal(t0) {
			t.Errorf("transaction = %+v", tx)
		}
	})
	if txID == 0 {
		t.FailNow()
	}

	t.Run("MeterValues", func(t *testing.T) {
		mv := []types.MeterValue{{
			Timestamp: types.NewDateTime(t0.Add(10 * time.Minute)),
			SampledValue: []types.SampledValue{
				{Value: "12.5", Unit: types.UnitOfMeasureKWh, Measurand: types.MeasurandEnergyActiveImportRegister,
					Context: types.ReadingContextSamplePeriodic, Location: types.LocationOutlet, Format: types.ValueFormatRaw},
				{Value: "11000", Unit: types.UnitOfMeasureW, Measurand: types.MeasurandPowerActiveImport, Phase: types.PhaseL1},
			},
		}}
		_, err := cp.MeterValues(1, mv, func(r *core.MeterValuesRequest) { r.TransactionId = &txID })
		if err != nil {
			t.Fatalf("MeterValues: %v", err)
		}
		got, err := e.store.MeterValues(e.ctx, e.acct.ID, station.MeterValueFilter{TransactionID: int64(txID)})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("meter values = %+v, want 2", got)
		}
		if got[0].Measurand != station.DefaultMeasurand || got[0].RawValue != "12.5" || got[0].RawUnit != "kWh" ||
			got[0].Unit != "Wh" || deref(got[0].Milli) != int64(12500000) || !got[0].Timestamp.Equal(t0.Add(10*time.Minute)) {
			t.Errorf("energy value = %+v", got[0])
		}
		if got[1].Measurand != "Power.Active.Import" || got[1].Phase != "L1" || got[1].Unit != "W" || deref(got[1].Milli) != int64(11000000) {
			t.Errorf("power value = %+v", got[1])
		}
	})

	t.Run("StopTransaction", func(t *testing.T) {
		stopAt := t0.Add(30 * time.Minute)
		conf, err := cp.StopTransaction(14000, types.NewDateTime(stopAt), txID, func(r *core.StopTransactionRequest) {
			r.IdTag = "GO-TAG"
			r.Reason = core.ReasonEVDisconnected
			r.TransactionData = []types.MeterValue{{
				Timestamp:    types.NewDateTime(stopAt),
				SampledValue: []types.SampledValue{{Value: "14000", Context: types.ReadingContextTransactionEnd}},
			}}
		})
		if err != nil {
			t.Fatalf("StopTransaction: %v", err)
		}
		if conf.IdTagInfo == nil || conf.IdTagInfo.Status != types.AuthorizationStatusAccepted {
			t.Errorf("StopTransaction.conf = %+v", conf.IdTagInfo)
		}
		tx := e.transaction(int64(txID))
		if !tx.Stopped || tx.MeterStopWh != 14000 || deref(tx.EnergyWh) != int64(4000) || tx.StopReason != "EVDisconnected" ||
			!tx.StoppedAt.Equal(stopAt) || len(tx.Flags) != 0 {
			t.Errorf("stopped transaction = %+v energy %v", tx, deref(tx.EnergyWh))
		}
		got, err := e.store.MeterValues(e.ctx, e.acct.ID, station.MeterValueFilter{TransactionID: int64(txID)})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[2].Context != "Transaction.End" || deref(got[2].Milli) != int64(14000000) {
			t.Errorf("meter values after the stop = %+v", got)
		}
	})

	t.Run("Heartbeat", func(t *testing.T) {
		before := time.Now()
		conf, err := cp.Heartbeat()
		if err != nil {
			t.Fatalf("Heartbeat: %v", err)
		}
		within(t, "currentTime", conf.CurrentTime.Time, before.Truncate(time.Millisecond), time.Now())
		within(t, "LastSeenAt", e.station(id).LastSeenAt, before.Truncate(time.Millisecond), time.Now())
	})

	t.Run("DataTransfer", func(t *testing.T) {
		conf, err := cp.DataTransfer("com.example", func(r *core.DataTransferRequest) {
			r.MessageId = "Ping"
			r.Data = "hello"
		})
		if err != nil {
			t.Fatalf("DataTransfer: %v", err)
		}
		if conf.Status != core.DataTransferStatusUnknownVendorId {
			t.Errorf("DataTransfer.conf status = %s, want UnknownVendorId", conf.Status)
		}
		evs := e.events(e.station(id).ID, "DataTransfer")
		if len(evs) != 1 || evs[0].Note != "vendorId=com.example messageId=Ping" {
			t.Errorf("DataTransfer events = %+v", evs)
		}
	})

	t.Run("GetConfiguration from the central system", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		resp, err := e.srv.Call(ctx, e.acct.ID, id, &ocpp.GetConfigurationRequest{Key: []string{"HeartbeatInterval", "NumberOfConnectors", "Nope"}})
		if err != nil {
			t.Fatalf("Call GetConfiguration: %v", err)
		}
		conf := mustDecode[ocpp.GetConfigurationResponse](t, resp)
		want := []ocpp.KeyValue{{Key: "HeartbeatInterval", Value: "300"}, {Key: "NumberOfConnectors", Readonly: true, Value: "2"}}
		if !slices.Equal(conf.ConfigurationKey, want) || !slices.Equal(conf.UnknownKey, []string{"Nope"}) {
			t.Errorf("GetConfiguration.conf = %+v", conf)
		}
	})

	t.Run("ChangeConfiguration from the central system", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		resp, err := e.srv.Call(ctx, e.acct.ID, id, &ocpp.ChangeConfigurationRequest{Key: "HeartbeatInterval", Value: "123"})
		if err != nil {
			t.Fatalf("Call ChangeConfiguration: %v", err)
		}
		if conf := mustDecode[ocpp.ChangeConfigurationResponse](t, resp); conf.Status != ocpp.ConfigurationStatusAccepted {
			t.Errorf("ChangeConfiguration.conf = %+v", conf)
		}
		h.mu.Lock()
		got := h.config["HeartbeatInterval"]
		h.mu.Unlock()
		if got != "123" {
			t.Errorf("HeartbeatInterval at the charge point = %q, want 123", got)
		}
		// A request the charge point has no handler for comes back as its CALLERROR.
		_, err = e.srv.Call(ctx, e.acct.ID, id, &ocpp.GetLocalListVersionRequest{})
		if err == nil || errors.Is(err, csms.ErrNotConnected) {
			t.Errorf("GetLocalListVersion to a charge point without a local list handler: %v, want its CALLERROR", err)
		}
	})

	h.mu.Lock()
	if !slices.Equal(h.calls, []string{"GetConfiguration", "ChangeConfiguration"}) {
		t.Errorf("charge point handled %q", h.calls)
	}
	h.mu.Unlock()

	// Every message was answered on the one connection.
	if evs := e.events(e.station(id).ID, "Connected"); len(evs) != 1 {
		t.Errorf("Connected events = %d, want 1", len(evs))
	}
}

// chargebook tells the operator to paste its station URL, which ends in "/", into the
// charger, which appends its id. ocpp-go, like many chargers, appends "/<id>": the URL then
// has an empty path segment before the id.
func TestOcppGoWithPrintedStationURL(t *testing.T) {
	e := newEnv(t)
	printed := e.base + csms.PathPrefix + e.acct.Key + "/" // as cmd/chargebook's ocppURL prints it
	cp := ocpp16.NewChargePoint("OCPPGO-2", nil, nil)
	cp.SetCoreHandler(&coreHandler{})
	if err := cp.Start(printed); err != nil {
		t.Fatalf("ocpp-go charge point given the printed station URL %s dials %s: %v", printed, printed+"/OCPPGO-2", err)
	}
	t.Cleanup(cp.Stop)
	if _, err := cp.Heartbeat(); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
	if ids := e.stations(); !slices.Equal(ids, []string{"OCPPGO-2"}) {
		t.Errorf("stations = %q, want [OCPPGO-2]", ids)
	}
}
