package metering

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
)

// The outcomes of a key in a SetupReport besides the ChangeConfiguration statuses
// (Accepted, RebootRequired, Rejected, NotSupported).
const (
	OutcomeUnchanged = "unchanged" // already as wanted: nothing sent
	OutcomeReadOnly  = "read-only" // not as wanted, but the station reports it read-only
	OutcomeError     = "error"     // the station answered with a CALLERROR: see SetupKey.Error
)

// SetupKey is what SetupBillingMetering did with one key.
type SetupKey struct {
	Key    string
	Before string
	// Known: the station reported the key. One it did not report is set all the same.
	Known  bool
	Wanted string // the value sent (the fallback, if the first value was rejected)
	// Outcome is OutcomeUnchanged, OutcomeReadOnly, OutcomeError, or the station's answer
	// to ChangeConfiguration.
	Outcome string
	// Rejected is the value the station rejected before the fallback was sent; empty if none.
	Rejected string
	Error    string
}

// SetupReport is what SetupBillingMetering did with a station.
type SetupReport struct {
	StationID     int64
	ChargePointID string
	Keys          []SetupKey
	// RebootRequired: a change takes effect only after the station reboots.
	RebootRequired bool
}

// SetupBillingMetering asks the station for its metering configuration, plans the changes
// billing-grade data needs (PlanBillingMetering) and sets them one by one, recording each as
// an operation by requestedBy. A station that rejects a list falls back to the list with only
// the register added.
//
// A station that is not connected or does not answer in time is an error that wraps
// operation.ErrNotConnected or operation.ErrTimeout, with the report of what was done before
// it; any other failure for one key (a CALLERROR, an invalid answer) is that key's outcome
// and the others are still set.
func (s *Service) SetupBillingMetering(ctx context.Context, acct account.Account, st station.Station, requestedBy string) (SetupReport, error) {
	report := SetupReport{StationID: st.ID, ChargePointID: st.ChargePointID}
	if s.ops == nil {
		return report, errors.New("metering: setup: this server sends no remote operations")
	}
	payload, err := json.Marshal(ocpp.GetConfigurationRequest{Key: ConfigurationKeys()})
	if err != nil {
		return report, fmt.Errorf("metering: setup %s: %w", st.ChargePointID, err)
	}
	res, err := s.ops.Execute(ctx, operation.Request{AccountID: acct.ID, ChargePointID: st.ChargePointID, Actor: requestedBy,
		Action: "GetConfiguration", Payload: payload})
	if err != nil {
		return report, fmt.Errorf("metering: setup %s: %w", st.ChargePointID, err)
	}
	conf, ok := res.Response.(*ocpp.GetConfigurationResponse)
	if !ok {
		return report, fmt.Errorf("metering: setup %s: GetConfiguration answered with %T", st.ChargePointID, res.Response)
	}
	for _, c := range PlanBillingMetering(conf.ConfigurationKey) {
		k := SetupKey{Key: c.Key, Before: c.Before, Known: c.Known, Wanted: c.Want}
		switch {
		case !c.Needed() && c.ReadOnly && !sameValue(c.Key, c.Before, c.Want):
			k.Outcome = OutcomeReadOnly
		case !c.Needed():
			k.Outcome = OutcomeUnchanged
		default:
			status, err := s.change(ctx, acct, st, requestedBy, c.Key, c.Want)
			if err == nil && status == ocpp.ConfigurationStatusRejected && c.Fallback != "" {
				k.Rejected, k.Wanted = c.Want, c.Fallback
				status, err = s.change(ctx, acct, st, requestedBy, c.Key, c.Fallback)
			}
			switch {
			case err != nil && (errors.Is(err, operation.ErrNotConnected) || errors.Is(err, operation.ErrTimeout) || ctx.Err() != nil):
				return report, fmt.Errorf("metering: setup %s: %w", st.ChargePointID, err)
			case err != nil:
				k.Outcome, k.Error = OutcomeError, err.Error()
			default:
				k.Outcome = string(status)
				report.RebootRequired = report.RebootRequired || status == ocpp.ConfigurationStatusRebootRequired
			}
		}
		report.Keys = append(report.Keys, k)
	}
	return report, nil
}

func (s *Service) change(ctx context.Context, acct account.Account, st station.Station, requestedBy, key, value string) (ocpp.ConfigurationStatus, error) {
	payload, err := json.Marshal(ocpp.ChangeConfigurationRequest{Key: key, Value: value})
	if err != nil {
		return "", err
	}
	res, err := s.ops.Execute(ctx, operation.Request{AccountID: acct.ID, ChargePointID: st.ChargePointID, Actor: requestedBy,
		Action: "ChangeConfiguration", Payload: payload})
	if err != nil {
		return "", err
	}
	resp, ok := res.Response.(*ocpp.ChangeConfigurationResponse)
	if !ok {
		return "", fmt.Errorf("ChangeConfiguration %s answered with %T", key, res.Response)
	}
	return resp.Status, nil
}
