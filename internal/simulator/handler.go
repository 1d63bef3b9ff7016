package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/coder/websocket"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
)

// handle answers the central system's calls. It runs on the connection's read loop, so it
// must not Call: what a call asks the station to do is done afterwards, by followUp.
func (s *Station) handle(_ context.Context, call rpc.Call) (json.RawMessage, error) {
	action, known := ocpp.LookupAction(call.Action)
	if !known {
		return nil, ocpp.Errorf(ocpp.NotImplemented, "unknown action %q", call.Action)
	}
	if !action.SentBy(ocpp.CentralSystem) {
		return nil, ocpp.Errorf(ocpp.NotSupported, "%s is not sent by a central system", call.Action)
	}
	req, _, err := ocpp.DecodeRequest(call.Action, call.Payload, ocpp.Strict)
	if err != nil {
		return nil, err
	}
	var resp any
	switch r := req.(type) {
	case *ocpp.GetConfigurationRequest:
		resp = s.getConfiguration(r)
	case *ocpp.ChangeConfigurationRequest:
		s.mu.Lock()
		status := s.set.set(r.Key, r.Value)
		s.mu.Unlock()
		s.poke()
		resp = &ocpp.ChangeConfigurationResponse{Status: status}
	case *ocpp.ResetRequest:
		reason := ocpp.ReasonSoftReset
		if r.Type == ocpp.ResetTypeHard {
			reason = ocpp.ReasonHardReset
		}
		s.followUp(func(ctx context.Context) { s.reset(ctx, reason) })
		resp = &ocpp.ResetResponse{Status: ocpp.ResetStatusAccepted}
	case *ocpp.RemoteStartTransactionRequest:
		resp = s.remoteStart(r)
	case *ocpp.RemoteStopTransactionRequest:
		resp = s.remoteStop(r)
	case *ocpp.UnlockConnectorRequest:
		resp = s.unlock(r)
	case *ocpp.ChangeAvailabilityRequest:
		resp = s.changeAvailability(r)
	case *ocpp.ClearCacheRequest:
		resp = &ocpp.ClearCacheResponse{Status: ocpp.ClearCacheStatusAccepted}
	case *ocpp.TriggerMessageRequest:
		resp = s.trigger(r)
	case *ocpp.DataTransferRequest:
		resp = &ocpp.DataTransferResponse{Status: ocpp.DataTransferStatusUnknownVendorId}
	default:
		return nil, ocpp.Errorf(ocpp.NotSupported, "%s is not supported by this charge point", call.Action)
	}
	return ocpp.EncodePayload(resp)
}

// followUp runs what a central system's call asked for once the call is answered.
func (s *Station) followUp(f func(ctx context.Context)) {
	s.followUps.Add(1)
	go func() {
		defer s.followUps.Done()
		f(s.life)
	}()
}

func (s *Station) getConfiguration(r *ocpp.GetConfigurationRequest) *ocpp.GetConfigurationResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &ocpp.GetConfigurationResponse{}
	if len(r.Key) == 0 {
		for _, d := range keyDefs {
			resp.ConfigurationKey = append(resp.ConfigurationKey, ocpp.KeyValue{Key: d.name, Readonly: d.readonly, Value: s.set.get(d.name)})
		}
		return resp
	}
	for _, k := range r.Key {
		d, ok := lookupKey(k)
		if !ok {
			resp.UnknownKey = append(resp.UnknownKey, k)
			continue
		}
		resp.ConfigurationKey = append(resp.ConfigurationKey, ocpp.KeyValue{Key: d.name, Readonly: d.readonly, Value: s.set.get(d.name)})
	}
	return resp
}

// reset stops the transactions, closes the connection and has the station boot again when
// it reconnects (Run does; a step-by-step user calls Connect and Boot).
func (s *Station) reset(ctx context.Context, reason ocpp.Reason) {
	s.mu.Lock()
	s.needBoot = true // first, so that Run starts no session while the station goes down
	s.mu.Unlock()
	s.stopAll(ctx, reason)
	s.mu.Lock()
	for _, c := range s.connectors {
		if c.status != ocpp.ChargePointStatusUnavailable {
			c.status = ocpp.ChargePointStatusAvailable
		}
	}
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		conn.Close(websocket.StatusNormalClosure, "resetting")
	}
	s.log.Info("reset", "reason", reason)
}

// stopAll stops every running transaction and tries to deliver the stops.
func (s *Station) stopAll(ctx context.Context, reason ocpp.Reason) {
	s.mu.Lock()
	var busy []int
	for _, c := range s.connectors {
		if c.tx != nil {
			busy = append(busy, c.id)
		}
	}
	s.mu.Unlock()
	for _, id := range busy {
		if _, err := s.StopTransaction(ctx, id, reason); err != nil && !errors.Is(err, ErrNoTransaction) {
			s.log.Debug("stop transaction", "connector", id, "err", err)
		}
	}
}

func (s *Station) remoteStart(r *ocpp.RemoteStartTransactionRequest) *ocpp.RemoteStartTransactionResponse {
	rejected := &ocpp.RemoteStartTransactionResponse{Status: ocpp.RemoteStartStopStatusRejected}
	s.mu.Lock()
	id := 0
	if r.ConnectorID != nil {
		c, err := s.connector(*r.ConnectorID)
		if err != nil || c.tx != nil || !c.operative {
			s.mu.Unlock()
			return rejected
		}
		id = c.id
	} else {
		i := slices.IndexFunc(s.connectors, func(c *connector) bool { return c.tx == nil && c.operative })
		if i < 0 {
			s.mu.Unlock()
			return rejected
		}
		id = s.connectors[i].id
	}
	authorize := s.set.bool(keyAuthorizeRemote)
	s.mu.Unlock()
	s.followUp(func(ctx context.Context) {
		if authorize {
			info, err := s.Authorize(ctx, r.IdTag)
			if err != nil || info.Status != ocpp.AuthorizationStatusAccepted {
				return
			}
		}
		if _, err := s.StartTransaction(ctx, id, r.IdTag); err != nil && !errors.Is(err, ErrQueued) {
			s.log.Info("remote start failed", "connector", id, "err", err)
			return
		}
		_ = s.sendStatus(ctx, id)
	})
	return &ocpp.RemoteStartTransactionResponse{Status: ocpp.RemoteStartStopStatusAccepted}
}

func (s *Station) remoteStop(r *ocpp.RemoteStopTransactionRequest) *ocpp.RemoteStopTransactionResponse {
	s.mu.Lock()
	i := slices.IndexFunc(s.connectors, func(c *connector) bool { return c.tx != nil && c.tx.ID == r.TransactionID })
	s.mu.Unlock()
	if i < 0 {
		return &ocpp.RemoteStopTransactionResponse{Status: ocpp.RemoteStartStopStatusRejected}
	}
	s.followUp(func(ctx context.Context) { s.stopAndReport(ctx, i+1, ocpp.ReasonRemote) })
	return &ocpp.RemoteStopTransactionResponse{Status: ocpp.RemoteStartStopStatusAccepted}
}

// stopAndReport stops a connector's transaction and sends the connector's new status.
func (s *Station) stopAndReport(ctx context.Context, id int, reason ocpp.Reason) {
	if _, err := s.StopTransaction(ctx, id, reason); err != nil && !errors.Is(err, ErrQueued) {
		return
	}
	_ = s.sendStatus(ctx, id)
}

func (s *Station) unlock(r *ocpp.UnlockConnectorRequest) *ocpp.UnlockConnectorResponse {
	s.mu.Lock()
	c, err := s.connector(r.ConnectorID)
	busy := err == nil && c.tx != nil
	s.mu.Unlock()
	if err != nil {
		return &ocpp.UnlockConnectorResponse{Status: ocpp.UnlockStatusNotSupported}
	}
	if busy {
		s.followUp(func(ctx context.Context) { s.stopAndReport(ctx, r.ConnectorID, ocpp.ReasonUnlockCommand) })
	}
	return &ocpp.UnlockConnectorResponse{Status: ocpp.UnlockStatusUnlocked}
}

func (s *Station) changeAvailability(r *ocpp.ChangeAvailabilityRequest) *ocpp.ChangeAvailabilityResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	var targets []*connector
	if r.ConnectorID == 0 {
		targets = s.connectors
	} else {
		c, err := s.connector(r.ConnectorID)
		if err != nil {
			return &ocpp.ChangeAvailabilityResponse{Status: ocpp.AvailabilityStatusRejected}
		}
		targets = []*connector{c}
	}
	operative := r.Type == ocpp.AvailabilityTypeOperative
	status := ocpp.AvailabilityStatusAccepted
	var report []int
	for _, c := range targets {
		c.pendingInoperative = false
		if !operative && c.tx != nil {
			c.pendingInoperative = true
			status = ocpp.AvailabilityStatusScheduled
			continue
		}
		if c.operative == operative {
			continue
		}
		c.operative = operative
		if c.tx == nil {
			c.status = ocpp.ChargePointStatusAvailable
			if !operative {
				c.status = ocpp.ChargePointStatusUnavailable
			}
			report = append(report, c.id)
		}
	}
	if r.ConnectorID == 0 && status == ocpp.AvailabilityStatusAccepted {
		s.status0 = ocpp.ChargePointStatusAvailable
		if !operative {
			s.status0 = ocpp.ChargePointStatusUnavailable
		}
		report = append([]int{0}, report...)
	}
	if len(report) > 0 {
		s.followUp(func(ctx context.Context) {
			for _, id := range report {
				_ = s.sendStatus(ctx, id)
			}
		})
	}
	s.poke()
	return &ocpp.ChangeAvailabilityResponse{Status: status}
}

func (s *Station) trigger(r *ocpp.TriggerMessageRequest) *ocpp.TriggerMessageResponse {
	accepted := &ocpp.TriggerMessageResponse{Status: ocpp.TriggerMessageStatusAccepted}
	s.mu.Lock()
	n := len(s.connectors)
	s.mu.Unlock()
	if r.ConnectorID != nil && (*r.ConnectorID < 0 || *r.ConnectorID > n) {
		return &ocpp.TriggerMessageResponse{Status: ocpp.TriggerMessageStatusRejected}
	}
	// The connectors a triggered message is about: the one asked for, or all of them.
	ids := func(withZero bool) []int {
		if r.ConnectorID != nil && (*r.ConnectorID > 0 || withZero) {
			return []int{*r.ConnectorID}
		}
		var out []int
		if withZero {
			out = append(out, 0)
		}
		for i := 1; i <= n; i++ {
			out = append(out, i)
		}
		return out
	}
	switch r.RequestedMessage {
	case ocpp.MessageTriggerBootNotification:
		s.followUp(func(ctx context.Context) { _, _ = s.Boot(ctx) })
	case ocpp.MessageTriggerHeartbeat:
		s.followUp(func(ctx context.Context) { _, _ = s.Heartbeat(ctx) })
	case ocpp.MessageTriggerStatusNotification:
		targets := ids(true)
		s.followUp(func(ctx context.Context) {
			for _, id := range targets {
				_ = s.sendStatus(ctx, id)
			}
		})
	case ocpp.MessageTriggerMeterValues:
		targets := ids(false)
		s.followUp(func(ctx context.Context) {
			for _, id := range targets {
				_ = s.sendMeterValues(ctx, id, ocpp.ReadingContextTrigger, keySampledData)
			}
		})
	default:
		return &ocpp.TriggerMessageResponse{Status: ocpp.TriggerMessageStatusNotImplemented}
	}
	return accepted
}
