package operation

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
)

// The rules of OCPP 1.6 that decide what an answer changes, as pure functions over plain
// values: no clock, no database.

// StateAt is the state of r at the given time: a reservation still Reserved when its expiry
// date comes is Expired from then on. Expiry is judged when read rather than swept, so that
// no background job has to run for it to be right.
func StateAt(r Reservation, at time.Time) ReservationState {
	if r.State == Reserved && !at.Before(r.ExpiresAt) {
		return Expired
	}
	return r.State
}

// ReservationMatches reports whether a StartTransaction on connectorID for idTag, whose parent
// is parentIdTag, is the one reservation r was made for: on its connector, or on any one for
// a reservation of connector 0, by its idTag or by a tag of the same parent (OCPP 1.6, 5.13).
// IdTags compare without regard to case, as OCPP's IdToken does.
func ReservationMatches(r Reservation, connectorID int, idTag, parentIdTag string) bool {
	if r.ConnectorID != 0 && r.ConnectorID != connectorID {
		return false
	}
	if strings.EqualFold(r.IdTag, idTag) {
		return true
	}
	return r.ParentIdTag != "" && strings.EqualFold(r.ParentIdTag, parentIdTag)
}

// AcceptedRemoteStart reports whether op is a RemoteStartTransaction for idTag that the
// station accepted. IdTags compare without regard to case, as OCPP's IdToken does.
func AcceptedRemoteStart(op Operation, idTag string) bool {
	if op.Action != "RemoteStartTransaction" || op.Status != Answered {
		return false
	}
	var (
		req  ocpp.RemoteStartTransactionRequest
		resp ocpp.RemoteStartTransactionResponse
	)
	if json.Unmarshal(op.Request, &req) != nil || json.Unmarshal(op.Response, &resp) != nil {
		return false
	}
	return resp.Status == ocpp.RemoteStartStopStatusAccepted && strings.EqualFold(req.IdTag, idTag)
}

// AwaitsStart reports whether p, kept from a RemoteStartTransaction, still waits for the
// start that tells its connector: a TxProfile on connector 0 (the request named none) bound
// to no transaction.
func AwaitsStart(p ChargingProfile) bool {
	return p.ConnectorID == 0 && p.Profile.ChargingProfilePurpose == ocpp.ChargingProfilePurposeTypeTxProfile &&
		p.Profile.TransactionID == nil
}

// Replaces reports whether the station, having accepted profile p, drops old: one with the
// same chargingProfileId, or on the same connector with the same stackLevel and purpose
// (OCPP 1.6, 3.13.2).
func Replaces(p, old ChargingProfile) bool {
	if p.Profile.ChargingProfileID == old.Profile.ChargingProfileID {
		return true
	}
	return p.ConnectorID == old.ConnectorID &&
		p.Profile.StackLevel == old.Profile.StackLevel &&
		p.Profile.ChargingProfilePurpose == old.Profile.ChargingProfilePurpose
}

// Matches reports whether a ClearChargingProfile with filter f clears p: by its id when f
// names one, otherwise by every criterion f has; an empty filter clears every profile.
func (f ProfileFilter) Matches(p ChargingProfile) bool {
	if f.ID != nil {
		return p.Profile.ChargingProfileID == *f.ID
	}
	return (f.ConnectorID == nil || *f.ConnectorID == p.ConnectorID) &&
		(f.Purpose == "" || f.Purpose == p.Profile.ChargingProfilePurpose) &&
		(f.StackLevel == nil || *f.StackLevel == p.Profile.StackLevel)
}

// FirmwareDone reports whether a firmware update with this status has ended. Idle does not
// end it: a station reports Idle when asked (TriggerMessage) before its retrieveDate.
func FirmwareDone(status string) bool {
	switch ocpp.FirmwareStatus(status) {
	case ocpp.FirmwareStatusInstalled, ocpp.FirmwareStatusDownloadFailed, ocpp.FirmwareStatusInstallationFailed:
		return true
	}
	return false
}

// DiagnosticsDone reports whether a diagnostics upload with this status has ended.
func DiagnosticsDone(status string) bool {
	switch ocpp.DiagnosticsStatus(status) {
	case ocpp.DiagnosticsStatusUploaded, ocpp.DiagnosticsStatusUploadFailed:
		return true
	}
	return status == StatusNoDiagnostics
}

// LocalListEntryOf is the entry an AuthorizationData with an IdTagInfo makes.
func LocalListEntryOf(d ocpp.AuthorizationData) LocalListEntry {
	e := LocalListEntry{IdTag: d.IdTag}
	if d.IdTagInfo != nil {
		e.Status = string(d.IdTagInfo.Status)
		e.ParentIdTag = d.IdTagInfo.ParentIdTag
		if d.IdTagInfo.ExpiryDate != nil {
			e.ExpiryDate = d.IdTagInfo.ExpiryDate.UTC()
		}
	}
	return e
}

// EffectsOf is what the answer resp to the request req of operation op changes. req and resp
// are pointers to the request and response types of package ocpp; an answer that changes
// nothing (Rejected, or an action without records) gives no effects.
func EffectsOf(op Operation, req, resp any) Effects {
	at := op.FinishedAt
	switch r := req.(type) {
	case *ocpp.GetConfigurationRequest:
		a, ok := resp.(*ocpp.GetConfigurationResponse)
		if !ok {
			break
		}
		rep := &ConfigReport{Full: len(r.Key) == 0, Unknown: a.UnknownKey}
		for _, kv := range a.ConfigurationKey {
			rep.Keys = append(rep.Keys, ConfigKey{Key: kv.Key, Value: kv.Value, Readonly: kv.Readonly, UpdatedAt: at})
		}
		return Effects{Configuration: rep}
	case *ocpp.ChangeConfigurationRequest:
		a, ok := resp.(*ocpp.ChangeConfigurationResponse)
		if !ok {
			break
		}
		switch a.Status {
		case ocpp.ConfigurationStatusAccepted, ocpp.ConfigurationStatusRebootRequired:
			return Effects{ConfigChange: &ConfigKey{
				Key: r.Key, Value: r.Value, UpdatedAt: at,
				RebootRequired: a.Status == ocpp.ConfigurationStatusRebootRequired,
			}}
		}
	case *ocpp.ReserveNowRequest:
		a, ok := resp.(*ocpp.ReserveNowResponse)
		if !ok {
			break
		}
		return Effects{Reservation: &Reservation{
			AccountID: op.AccountID, StationID: op.StationID, ChargePointID: op.ChargePointID,
			ReservationID: r.ReservationID, ConnectorID: r.ConnectorID,
			IdTag: r.IdTag, ParentIdTag: r.ParentIdTag, ExpiresAt: r.ExpiryDate.UTC(),
			State: reservationState(a.Status), OperationID: op.ID, CreatedAt: at, UpdatedAt: at,
		}}
	case *ocpp.CancelReservationRequest:
		if a, ok := resp.(*ocpp.CancelReservationResponse); ok && a.Status == ocpp.CancelReservationStatusAccepted {
			id := r.ReservationID
			return Effects{CancelReservation: &id}
		}
	case *ocpp.SetChargingProfileRequest:
		if a, ok := resp.(*ocpp.SetChargingProfileResponse); ok && a.Status == ocpp.ChargingProfileStatusAccepted {
			return Effects{Profile: &ChargingProfile{
				StationID: op.StationID, ChargePointID: op.ChargePointID, ConnectorID: r.ConnectorID,
				Profile: r.CsChargingProfiles, OperationID: op.ID, SetAt: at,
			}}
		}
	case *ocpp.RemoteStartTransactionRequest:
		a, ok := resp.(*ocpp.RemoteStartTransactionResponse)
		if ok && a.Status == ocpp.RemoteStartStopStatusAccepted && r.ChargingProfile != nil {
			p := &ChargingProfile{
				StationID: op.StationID, ChargePointID: op.ChargePointID,
				Profile: *r.ChargingProfile, OperationID: op.ID, SetAt: at,
			}
			if r.ConnectorID != nil {
				p.ConnectorID = *r.ConnectorID
			}
			return Effects{Profile: p}
		}
	case *ocpp.ClearChargingProfileRequest:
		a, ok := resp.(*ocpp.ClearChargingProfileResponse)
		// Unknown: the station has no such profile, so none the central system still has
		// a record of is there.
		if ok && (a.Status == ocpp.ClearChargingProfileStatusAccepted || a.Status == ocpp.ClearChargingProfileStatusUnknown) {
			return Effects{ClearProfiles: &ProfileFilter{
				ID: r.ID, ConnectorID: r.ConnectorID, Purpose: r.ChargingProfilePurpose, StackLevel: r.StackLevel,
			}}
		}
	case *ocpp.GetLocalListVersionRequest:
		if a, ok := resp.(*ocpp.GetLocalListVersionResponse); ok {
			v := a.ListVersion
			return Effects{LocalListVersion: &v}
		}
	case *ocpp.SendLocalListRequest:
		if a, ok := resp.(*ocpp.SendLocalListResponse); ok && a.Status == ocpp.UpdateStatusAccepted {
			return Effects{LocalList: &LocalListUpdate{
				Version: r.ListVersion, Full: r.UpdateType == ocpp.UpdateTypeFull,
				Entries: r.LocalAuthorizationList,
			}}
		}
	case *ocpp.UpdateFirmwareRequest:
		if _, ok := resp.(*ocpp.UpdateFirmwareResponse); ok {
			return Effects{Firmware: &FirmwareRequest{
				StationID: op.StationID, ChargePointID: op.ChargePointID, OperationID: op.ID,
				Location: r.Location, RetrieveDate: r.RetrieveDate.UTC(),
				Retries: r.Retries, RetryInterval: r.RetryInterval,
				Status: StatusRequested, Open: true, RequestedAt: op.RequestedAt, StatusAt: at,
			}}
		}
	case *ocpp.GetDiagnosticsRequest:
		a, ok := resp.(*ocpp.GetDiagnosticsResponse)
		if !ok {
			break
		}
		d := &DiagnosticsRequest{
			StationID: op.StationID, ChargePointID: op.ChargePointID, OperationID: op.ID,
			Location: r.Location, FileName: a.FileName,
			Status: StatusRequested, Open: true, RequestedAt: op.RequestedAt, StatusAt: at,
		}
		if r.StartTime != nil {
			d.StartTime = r.StartTime.UTC()
		}
		if r.StopTime != nil {
			d.StopTime = r.StopTime.UTC()
		}
		if a.FileName == "" {
			d.Status, d.Open = StatusNoDiagnostics, false
		}
		return Effects{Diagnostics: d}
	}
	return Effects{}
}

func reservationState(s ocpp.ReservationStatus) ReservationState {
	switch s {
	case ocpp.ReservationStatusAccepted:
		return Reserved
	case ocpp.ReservationStatusFaulted:
		return Faulted
	case ocpp.ReservationStatusOccupied:
		return Occupied
	case ocpp.ReservationStatusUnavailable:
		return Unavailable
	}
	return Rejected // a status outside the enum, let through by lenient decoding, is no reservation
}

// integerKeys and booleanKeys are the configuration keys of OCPP 1.6 (section 9) whose values
// a station must be able to read: a ChangeConfiguration that sets one of them to something
// else could only be rejected by the station, or worse, accepted and misread.
var (
	integerKeys = []string{
		"BlinkRepeat", "ClockAlignedDataInterval", "ConnectionTimeOut", "HeartbeatInterval",
		"LightIntensity", "LocalAuthListMaxLength", "MaxChargingProfilesInstalled",
		"MaxEnergyOnInvalidId", "MeterValueSampleInterval", "MinimumStatusDuration",
		"ResetRetries", "SendLocalListMaxLength", "TransactionMessageAttempts",
		"TransactionMessageRetryInterval", "WebSocketPingInterval",
	}
	booleanKeys = []string{
		"AllowOfflineTxForUnknownId", "AuthorizationCacheEnabled", "AuthorizeRemoteTxRequests",
		"LocalAuthListEnabled", "LocalAuthorizeOffline", "LocalPreAuthorize",
		"StopTransactionOnEVSideDisconnect", "StopTransactionOnInvalidId",
		"UnlockConnectorOnEVSideDisconnect",
	}
)

// Check validates what the schemas of OCPP 1.6 leave out but the specification requires of a
// request, as an *ocpp.Error whose description starts with the offending field like those of
// package ocpp. req is a decoded request; now judges dates that must lie ahead.
func Check(req any, now time.Time) error {
	switch r := req.(type) {
	case *ocpp.ChangeConfigurationRequest:
		switch {
		case slices.Contains(integerKeys, r.Key):
			if n, err := strconv.Atoi(r.Value); err != nil || n < 0 {
				return ocpp.Errorf(ocpp.PropertyConstraintViolation, "value: %s takes a whole number (seconds, counts), not %q", r.Key, r.Value)
			}
		case slices.Contains(booleanKeys, r.Key):
			if !strings.EqualFold(r.Value, "true") && !strings.EqualFold(r.Value, "false") {
				return ocpp.Errorf(ocpp.PropertyConstraintViolation, "value: %s takes true or false, not %q", r.Key, r.Value)
			}
		}
	case *ocpp.ChangeAvailabilityRequest:
		return atLeast("connectorId", r.ConnectorID, 0)
	case *ocpp.GetCompositeScheduleRequest:
		if err := atLeast("connectorId", r.ConnectorID, 0); err != nil {
			return err
		}
		return atLeast("duration", r.Duration, 0)
	case *ocpp.UnlockConnectorRequest:
		return atLeast("connectorId", r.ConnectorID, 1)
	case *ocpp.TriggerMessageRequest:
		if r.ConnectorID != nil {
			return atLeast("connectorId", *r.ConnectorID, 0)
		}
	case *ocpp.RemoteStartTransactionRequest:
		if r.ConnectorID != nil {
			if err := atLeast("connectorId", *r.ConnectorID, 1); err != nil {
				return err
			}
		}
		if p := r.ChargingProfile; p != nil && p.ChargingProfilePurpose != ocpp.ChargingProfilePurposeTypeTxProfile {
			return ocpp.Errorf(ocpp.PropertyConstraintViolation, "chargingProfile.chargingProfilePurpose: must be TxProfile, not %s", p.ChargingProfilePurpose)
		}
	case *ocpp.ReserveNowRequest:
		if err := atLeast("connectorId", r.ConnectorID, 0); err != nil {
			return err
		}
		if !r.ExpiryDate.After(now) {
			return ocpp.Errorf(ocpp.PropertyConstraintViolation, "expiryDate: %s has passed", r.ExpiryDate.UTC().Format(time.RFC3339))
		}
	case *ocpp.SetChargingProfileRequest:
		if err := atLeast("connectorId", r.ConnectorID, 0); err != nil {
			return err
		}
		return atLeast("csChargingProfiles.stackLevel", r.CsChargingProfiles.StackLevel, 0)
	case *ocpp.ClearChargingProfileRequest:
		if r.ConnectorID != nil {
			return atLeast("connectorId", *r.ConnectorID, 0)
		}
	case *ocpp.SendLocalListRequest:
		if r.UpdateType != ocpp.UpdateTypeFull {
			break
		}
		for i, d := range r.LocalAuthorizationList {
			if d.IdTagInfo == nil {
				return ocpp.Errorf(ocpp.OccurenceConstraintViolation, "localAuthorizationList[%d].idTagInfo: required in a Full update", i)
			}
		}
	}
	return nil
}

func atLeast(field string, v, min int) error {
	if v < min {
		return ocpp.Errorf(ocpp.PropertyConstraintViolation, "%s: %d is below %d", field, v, min)
	}
	return nil
}
