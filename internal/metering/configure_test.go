package metering_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/operation"
)

// charger stands in for a connected station behind operation.Service: it answers
// GetConfiguration from its keys and ChangeConfiguration as the specification asks (read-only
// keys and unsupported measurands Rejected, unknown keys NotSupported).
type charger struct {
	mu        sync.Mutex
	keys      []ocpp.KeyValue
	supported []string // measurands
	reboot    map[string]bool
	offline   bool
}

func (c *charger) Send(ctx context.Context, accountID int64, chargePointID string, req any) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.offline {
		return nil, operation.ErrNotConnected
	}
	switch r := req.(type) {
	case *ocpp.GetConfigurationRequest:
		resp := &ocpp.GetConfigurationResponse{}
		for _, k := range r.Key {
			i := slices.IndexFunc(c.keys, func(kv ocpp.KeyValue) bool { return kv.Key == k })
			if i < 0 {
				resp.UnknownKey = append(resp.UnknownKey, k)
				continue
			}
			resp.ConfigurationKey = append(resp.ConfigurationKey, c.keys[i])
		}
		return resp, nil
	case *ocpp.ChangeConfigurationRequest:
		i := slices.IndexFunc(c.keys, func(kv ocpp.KeyValue) bool { return kv.Key == r.Key })
		switch {
		case i < 0:
			return &ocpp.ChangeConfigurationResponse{Status: ocpp.ConfigurationStatusNotSupported}, nil
		case c.keys[i].Readonly:
			return &ocpp.ChangeConfigurationResponse{Status: ocpp.ConfigurationStatusRejected}, nil
		}
		if strings.HasSuffix(r.Key, "Data") {
			for _, m := range strings.Split(r.Value, ",") {
				if !slices.Contains(c.supported, m) {
					return &ocpp.ChangeConfigurationResponse{Status: ocpp.ConfigurationStatusRejected}, nil
				}
			}
		}
		c.keys[i].Value = r.Value
		if c.reboot[r.Key] {
			return &ocpp.ChangeConfigurationResponse{Status: ocpp.ConfigurationStatusRebootRequired}, nil
		}
		return &ocpp.ChangeConfigurationResponse{Status: ocpp.ConfigurationStatusAccepted}, nil
	}
	return nil, &operation.StationError{Code: "NotImplemented"}
}

func TestSetupBillingMetering(t *testing.T) {
	e := newEnv(t)
	cp := &charger{
		keys: []ocpp.KeyValue{
			{Key: "MeterValueSampleInterval", Value: "120"},
			{Key: "MeterValuesSampledData", Value: "Current.Import"},
			{Key: "MeterValuesSampledDataMaxLength", Value: "4", Readonly: true},
			{Key: "ClockAlignedDataInterval", Value: "0"},
			{Key: "MeterValuesAlignedData", Value: "Energy.Active.Import.Register", Readonly: true},
			// StopTxnAlignedData is not reported.
		},
		// No Power.Active.Import: the sampled list falls back to the register alone.
		supported: []string{"Current.Import", "Energy.Active.Import.Register"},
		reboot:    map[string]bool{"ClockAlignedDataInterval": true},
	}
	ops := operation.NewService(e.store, cp, e.clock.now, nil)
	svc := e.newService(ops)

	report, err := svc.SetupBillingMetering(e.ctx, e.acct, e.sess.Station, "operator:1")
	e.must(err)
	want := []metering.SetupKey{
		{Key: "MeterValueSampleInterval", Before: "120", Known: true, Wanted: "30", Outcome: "Accepted"},
		{Key: "MeterValuesSampledData", Before: "Current.Import", Known: true, Wanted: "Current.Import,Energy.Active.Import.Register",
			Rejected: "Current.Import,Energy.Active.Import.Register,Power.Active.Import", Outcome: "Accepted"},
		{Key: "ClockAlignedDataInterval", Before: "0", Known: true, Wanted: "900", Outcome: "RebootRequired"},
		{Key: "MeterValuesAlignedData", Before: "Energy.Active.Import.Register", Known: true, Wanted: "Energy.Active.Import.Register", Outcome: "unchanged"},
		{Key: "StopTxnAlignedData", Wanted: "Energy.Active.Import.Register", Outcome: "NotSupported"},
	}
	if !slices.Equal(report.Keys, want) || !report.RebootRequired || report.ChargePointID != "CP-1" {
		t.Errorf("report %+v\nwant keys %+v", report, want)
	}
	// Every request was recorded as an operation by the operator.
	recorded, err := ops.Operations(e.ctx, e.acct.ID, operation.OperationFilter{})
	e.must(err)
	if len(recorded) != 6 || recorded[0].Actor != "operator:1" {
		t.Errorf("%d operations recorded, want 6 (1 GetConfiguration, 5 ChangeConfiguration)", len(recorded))
	}

	// Set up again: what was accepted is unchanged now; the power is asked for again and
	// rejected again, the register staying as it was.
	report, err = svc.SetupBillingMetering(e.ctx, e.acct, e.sess.Station, "operator:1")
	e.must(err)
	for _, k := range report.Keys {
		switch k.Key {
		case "StopTxnAlignedData":
		case "MeterValuesSampledData":
			if k.Outcome != "Rejected" || k.Before != "Current.Import,Energy.Active.Import.Register" {
				t.Errorf("second setup: %+v", k)
			}
		default:
			if k.Outcome != "unchanged" {
				t.Errorf("second setup: %+v", k)
			}
		}
	}

	// A read-only key that is not as wanted is reported, not sent.
	cp.keys[0].Readonly, cp.keys[0].Value = true, "300"
	report, err = svc.SetupBillingMetering(e.ctx, e.acct, e.sess.Station, "operator:1")
	e.must(err)
	if k := report.Keys[0]; k.Outcome != metering.OutcomeReadOnly || k.Before != "300" || k.Wanted != "30" {
		t.Errorf("read-only interval: %+v", k)
	}

	// Not connected: an error the API can tell.
	cp.offline = true
	if _, err := svc.SetupBillingMetering(e.ctx, e.acct, e.sess.Station, "operator:1"); !errors.Is(err, operation.ErrNotConnected) {
		t.Errorf("offline: %v, want ErrNotConnected", err)
	}
}
