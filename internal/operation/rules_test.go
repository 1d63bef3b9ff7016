package operation

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
)

func ptr[T any](v T) *T { return &v }

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func TestStateAt(t *testing.T) {
	tests := []struct {
		name    string
		state   ReservationState
		expires time.Time
		want    ReservationState
	}{
		{"reserved before expiry", Reserved, now.Add(time.Second), Reserved},
		{"reserved at expiry is expired", Reserved, now, Expired},
		{"reserved after expiry", Reserved, now.Add(-time.Hour), Expired},
		{"used stays used after expiry", Used, now.Add(-time.Hour), Used},
		{"cancelled stays cancelled", Cancelled, now.Add(-time.Hour), Cancelled},
		{"refused stays refused", Occupied, now.Add(-time.Hour), Occupied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StateAt(Reservation{State: tt.state, ExpiresAt: tt.expires}, now); got != tt.want {
				t.Errorf("StateAt = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestReservationMatches(t *testing.T) {
	tests := []struct {
		name          string
		r             Reservation
		connector     int
		idTag, parent string
		want          bool
	}{
		{"same connector and tag", Reservation{ConnectorID: 1, IdTag: "TAG"}, 1, "TAG", "", true},
		{"tags compare without case", Reservation{ConnectorID: 1, IdTag: "tag"}, 1, "TAG", "", true},
		{"other connector", Reservation{ConnectorID: 1, IdTag: "TAG"}, 2, "TAG", "", false},
		{"connector 0 is any connector", Reservation{ConnectorID: 0, IdTag: "TAG"}, 2, "TAG", "", true},
		{"other tag", Reservation{ConnectorID: 1, IdTag: "TAG"}, 1, "OTHER", "", false},
		{"other tag of the same parent", Reservation{ConnectorID: 1, IdTag: "TAG", ParentIdTag: "FLEET"}, 1, "OTHER", "fleet", true},
		{"other tag of another parent", Reservation{ConnectorID: 1, IdTag: "TAG", ParentIdTag: "FLEET"}, 1, "OTHER", "X", false},
		{"no parent on the reservation matches no parent", Reservation{ConnectorID: 1, IdTag: "TAG"}, 1, "OTHER", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReservationMatches(tt.r, tt.connector, tt.idTag, tt.parent); got != tt.want {
				t.Errorf("ReservationMatches = %v, want %v", got, tt.want)
			}
		})
	}
}

func profile(connector, id, stack int, purpose ocpp.ChargingProfilePurposeType) ChargingProfile {
	return ChargingProfile{ConnectorID: connector, Profile: ocpp.ChargingProfile{
		ChargingProfileID: id, StackLevel: stack, ChargingProfilePurpose: purpose,
		ChargingProfileKind: ocpp.ChargingProfileKindTypeAbsolute,
	}}
}

const (
	txDefault = ocpp.ChargingProfilePurposeTypeTxDefaultProfile
	txProfile = ocpp.ChargingProfilePurposeTypeTxProfile
	cpMax     = ocpp.ChargingProfilePurposeTypeChargePointMaxProfile
)

func TestAcceptedRemoteStart(t *testing.T) {
	op := func(action string, status Status, req, resp string) Operation {
		return Operation{Action: action, Status: status, Request: []byte(req), Response: []byte(resp)}
	}
	tests := []struct {
		name string
		op   Operation
		want bool
	}{
		{"accepted for the tag", op("RemoteStartTransaction", Answered, `{"idTag":"TAG"}`, `{"status":"Accepted"}`), true},
		{"tags compare without case", op("RemoteStartTransaction", Answered, `{"idTag":"tag"}`, `{"status":"Accepted"}`), true},
		{"for another tag", op("RemoteStartTransaction", Answered, `{"idTag":"OTHER"}`, `{"status":"Accepted"}`), false},
		{"rejected", op("RemoteStartTransaction", Answered, `{"idTag":"TAG"}`, `{"status":"Rejected"}`), false},
		{"not answered", op("RemoteStartTransaction", Failed, `{"idTag":"TAG"}`, ``), false},
		{"another action", op("ReserveNow", Answered, `{"idTag":"TAG"}`, `{"status":"Accepted"}`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AcceptedRemoteStart(tt.op, "TAG"); got != tt.want {
				t.Errorf("AcceptedRemoteStart = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAwaitsStart(t *testing.T) {
	bound := profile(0, 7, 0, txProfile)
	bound.Profile.TransactionID = ptr(5)
	tests := []struct {
		name string
		p    ChargingProfile
		want bool
	}{
		{"TxProfile on connector 0", profile(0, 7, 0, txProfile), true},
		{"TxProfile on a connector", profile(2, 7, 0, txProfile), false},
		{"TxProfile bound to a transaction", bound, false},
		{"TxDefaultProfile on connector 0", profile(0, 7, 0, txDefault), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AwaitsStart(tt.p); got != tt.want {
				t.Errorf("AwaitsStart = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReplaces(t *testing.T) {
	tests := []struct {
		name   string
		p, old ChargingProfile
		want   bool
	}{
		{"same id", profile(1, 7, 0, txDefault), profile(1, 7, 3, txDefault), true},
		{"same id on another connector", profile(2, 7, 0, txDefault), profile(1, 7, 0, txProfile), true},
		{"same stack level and purpose on the connector", profile(1, 8, 2, txDefault), profile(1, 7, 2, txDefault), true},
		{"same stack level and purpose on another connector", profile(2, 8, 2, txDefault), profile(1, 7, 2, txDefault), false},
		{"other stack level", profile(1, 8, 3, txDefault), profile(1, 7, 2, txDefault), false},
		{"other purpose", profile(1, 8, 2, txProfile), profile(1, 7, 2, txDefault), false},
		{"station-wide on connector 0", profile(0, 8, 0, cpMax), profile(0, 7, 0, cpMax), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Replaces(tt.p, tt.old); got != tt.want {
				t.Errorf("Replaces = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProfileFilterMatches(t *testing.T) {
	p := profile(1, 7, 2, txDefault)
	tests := []struct {
		name string
		f    ProfileFilter
		want bool
	}{
		{"empty filter clears all", ProfileFilter{}, true},
		{"by id", ProfileFilter{ID: ptr(7)}, true},
		{"by other id", ProfileFilter{ID: ptr(8)}, false},
		{"id wins over the other criteria", ProfileFilter{ID: ptr(7), ConnectorID: ptr(2)}, true},
		{"by connector", ProfileFilter{ConnectorID: ptr(1)}, true},
		{"by other connector", ProfileFilter{ConnectorID: ptr(0)}, false},
		{"by purpose", ProfileFilter{Purpose: txDefault}, true},
		{"by other purpose", ProfileFilter{Purpose: txProfile}, false},
		{"by stack level", ProfileFilter{StackLevel: ptr(2)}, true},
		{"all criteria must hold", ProfileFilter{ConnectorID: ptr(1), Purpose: txDefault, StackLevel: ptr(3)}, false},
		{"all criteria hold", ProfileFilter{ConnectorID: ptr(1), Purpose: txDefault, StackLevel: ptr(2)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Matches(p); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDone(t *testing.T) {
	for status, want := range map[string]bool{
		"Downloading": false, "Downloaded": false, "Installing": false, "Idle": false, StatusRequested: false,
		"Installed": true, "DownloadFailed": true, "InstallationFailed": true,
	} {
		if got := FirmwareDone(status); got != want {
			t.Errorf("FirmwareDone(%s) = %v, want %v", status, got, want)
		}
	}
	for status, want := range map[string]bool{
		"Uploading": false, "Idle": false, StatusRequested: false,
		"Uploaded": true, "UploadFailed": true, StatusNoDiagnostics: true,
	} {
		if got := DiagnosticsDone(status); got != want {
			t.Errorf("DiagnosticsDone(%s) = %v, want %v", status, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		req   any
		field string // "" valid
	}{
		{"integer key", &ocpp.ChangeConfigurationRequest{Key: "MeterValueSampleInterval", Value: "30"}, ""},
		{"integer key with words", &ocpp.ChangeConfigurationRequest{Key: "ClockAlignedDataInterval", Value: "15 min"}, "value"},
		{"negative integer key", &ocpp.ChangeConfigurationRequest{Key: "HeartbeatInterval", Value: "-5"}, "value"},
		{"boolean key", &ocpp.ChangeConfigurationRequest{Key: "AuthorizeRemoteTxRequests", Value: "TRUE"}, ""},
		{"boolean key with a number", &ocpp.ChangeConfigurationRequest{Key: "AuthorizeRemoteTxRequests", Value: "1"}, "value"},
		{"vendor key is anything", &ocpp.ChangeConfigurationRequest{Key: "VendorThing", Value: "x y z"}, ""},
		{"unlock connector 0", &ocpp.UnlockConnectorRequest{ConnectorID: 0}, "connectorId"},
		{"availability of the station", &ocpp.ChangeAvailabilityRequest{ConnectorID: 0, Type: "Inoperative"}, ""},
		{"availability of connector -1", &ocpp.ChangeAvailabilityRequest{ConnectorID: -1, Type: "Inoperative"}, "connectorId"},
		{"reservation in the future", &ocpp.ReserveNowRequest{ExpiryDate: ocpp.DateTime{Time: now.Add(time.Minute)}, IdTag: "T"}, ""},
		{"reservation expired", &ocpp.ReserveNowRequest{ExpiryDate: ocpp.DateTime{Time: now}, IdTag: "T"}, "expiryDate"},
		{"remote start profile must be a TxProfile", &ocpp.RemoteStartTransactionRequest{IdTag: "T", ChargingProfile: &ocpp.ChargingProfile{ChargingProfilePurpose: txDefault}}, "chargingProfile.chargingProfilePurpose"},
		{"remote start with a TxProfile", &ocpp.RemoteStartTransactionRequest{IdTag: "T", ConnectorID: ptr(1), ChargingProfile: &ocpp.ChargingProfile{ChargingProfilePurpose: txProfile}}, ""},
		{"remote start on connector 0", &ocpp.RemoteStartTransactionRequest{IdTag: "T", ConnectorID: ptr(0)}, "connectorId"},
		{"full list entry without info", &ocpp.SendLocalListRequest{UpdateType: "Full", LocalAuthorizationList: []ocpp.AuthorizationData{{IdTag: "A", IdTagInfo: &ocpp.IdTagInfo{Status: "Accepted"}}, {IdTag: "B"}}}, "localAuthorizationList[1].idTagInfo"},
		{"differential entry without info removes", &ocpp.SendLocalListRequest{UpdateType: "Differential", LocalAuthorizationList: []ocpp.AuthorizationData{{IdTag: "B"}}}, ""},
		{"negative stack level", &ocpp.SetChargingProfileRequest{ConnectorID: 1, CsChargingProfiles: ocpp.ChargingProfile{StackLevel: -1}}, "csChargingProfiles.stackLevel"},
		{"clear on connector -1", &ocpp.ClearChargingProfileRequest{ConnectorID: ptr(-1)}, "connectorId"},
		{"trigger on connector 2", &ocpp.TriggerMessageRequest{RequestedMessage: "StatusNotification", ConnectorID: ptr(2)}, ""},
		{"negative composite duration", &ocpp.GetCompositeScheduleRequest{ConnectorID: 1, Duration: -1}, "duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.req, now)
			if tt.field == "" {
				if err != nil {
					t.Errorf("Check: %v", err)
				}
				return
			}
			var oe *ocpp.Error
			if !errors.As(err, &oe) || !strings.HasPrefix(oe.Description, tt.field+": ") {
				t.Errorf("Check = %v, want an *ocpp.Error about %s", err, tt.field)
			}
		})
	}
}

func TestEffectsOf(t *testing.T) {
	op := Operation{ID: 5, AccountID: 1, StationID: 2, ChargePointID: "CP", RequestedAt: now.Add(-time.Second), FinishedAt: now}
	exp := ocpp.DateTime{Time: now.Add(time.Hour)}
	tx := ocpp.ChargingProfile{ChargingProfileID: 9, StackLevel: 1, ChargingProfilePurpose: txProfile, ChargingProfileKind: "Relative"}
	tests := []struct {
		name      string
		req, resp any
		want      Effects
	}{
		{"full configuration", &ocpp.GetConfigurationRequest{},
			&ocpp.GetConfigurationResponse{ConfigurationKey: []ocpp.KeyValue{{Key: "A", Value: "1", Readonly: true}}},
			Effects{Configuration: &ConfigReport{Full: true, Keys: []ConfigKey{{Key: "A", Value: "1", Readonly: true, UpdatedAt: now}}}}},
		{"partial configuration", &ocpp.GetConfigurationRequest{Key: []string{"A", "B"}},
			&ocpp.GetConfigurationResponse{ConfigurationKey: []ocpp.KeyValue{{Key: "A", Value: "1"}}, UnknownKey: []string{"B"}},
			Effects{Configuration: &ConfigReport{Keys: []ConfigKey{{Key: "A", Value: "1", UpdatedAt: now}}, Unknown: []string{"B"}}}},
		{"change accepted", &ocpp.ChangeConfigurationRequest{Key: "K", Value: "V"}, &ocpp.ChangeConfigurationResponse{Status: "Accepted"},
			Effects{ConfigChange: &ConfigKey{Key: "K", Value: "V", UpdatedAt: now}}},
		{"change needs a reboot", &ocpp.ChangeConfigurationRequest{Key: "K", Value: "V"}, &ocpp.ChangeConfigurationResponse{Status: "RebootRequired"},
			Effects{ConfigChange: &ConfigKey{Key: "K", Value: "V", RebootRequired: true, UpdatedAt: now}}},
		{"change rejected", &ocpp.ChangeConfigurationRequest{Key: "K", Value: "V"}, &ocpp.ChangeConfigurationResponse{Status: "Rejected"}, Effects{}},
		{"reservation accepted", &ocpp.ReserveNowRequest{ConnectorID: 1, ExpiryDate: exp, IdTag: "T", ParentIdTag: "P", ReservationID: 3},
			&ocpp.ReserveNowResponse{Status: "Accepted"},
			Effects{Reservation: &Reservation{AccountID: 1, StationID: 2, ChargePointID: "CP", ReservationID: 3, ConnectorID: 1,
				IdTag: "T", ParentIdTag: "P", ExpiresAt: exp.Time, State: Reserved, OperationID: 5, CreatedAt: now, UpdatedAt: now}}},
		{"reservation occupied", &ocpp.ReserveNowRequest{ConnectorID: 1, ExpiryDate: exp, IdTag: "T", ReservationID: 3},
			&ocpp.ReserveNowResponse{Status: "Occupied"},
			Effects{Reservation: &Reservation{AccountID: 1, StationID: 2, ChargePointID: "CP", ReservationID: 3, ConnectorID: 1,
				IdTag: "T", ExpiresAt: exp.Time, State: Occupied, OperationID: 5, CreatedAt: now, UpdatedAt: now}}},
		{"cancel accepted", &ocpp.CancelReservationRequest{ReservationID: 3}, &ocpp.CancelReservationResponse{Status: "Accepted"},
			Effects{CancelReservation: ptr(3)}},
		{"cancel rejected", &ocpp.CancelReservationRequest{ReservationID: 3}, &ocpp.CancelReservationResponse{Status: "Rejected"}, Effects{}},
		{"profile accepted", &ocpp.SetChargingProfileRequest{ConnectorID: 2, CsChargingProfiles: tx}, &ocpp.SetChargingProfileResponse{Status: "Accepted"},
			Effects{Profile: &ChargingProfile{StationID: 2, ChargePointID: "CP", ConnectorID: 2, Profile: tx, OperationID: 5, SetAt: now}}},
		{"profile rejected", &ocpp.SetChargingProfileRequest{ConnectorID: 2, CsChargingProfiles: tx}, &ocpp.SetChargingProfileResponse{Status: "Rejected"}, Effects{}},
		{"remote start with a profile", &ocpp.RemoteStartTransactionRequest{ConnectorID: ptr(1), IdTag: "T", ChargingProfile: &tx},
			&ocpp.RemoteStartTransactionResponse{Status: "Accepted"},
			Effects{Profile: &ChargingProfile{StationID: 2, ChargePointID: "CP", ConnectorID: 1, Profile: tx, OperationID: 5, SetAt: now}}},
		{"remote start without a profile", &ocpp.RemoteStartTransactionRequest{IdTag: "T"}, &ocpp.RemoteStartTransactionResponse{Status: "Accepted"}, Effects{}},
		{"remote start rejected", &ocpp.RemoteStartTransactionRequest{IdTag: "T", ChargingProfile: &tx}, &ocpp.RemoteStartTransactionResponse{Status: "Rejected"}, Effects{}},
		{"clear accepted", &ocpp.ClearChargingProfileRequest{ConnectorID: ptr(1), StackLevel: ptr(2)}, &ocpp.ClearChargingProfileResponse{Status: "Accepted"},
			Effects{ClearProfiles: &ProfileFilter{ConnectorID: ptr(1), StackLevel: ptr(2)}}},
		{"clear unknown drops stale records", &ocpp.ClearChargingProfileRequest{ID: ptr(4)}, &ocpp.ClearChargingProfileResponse{Status: "Unknown"},
			Effects{ClearProfiles: &ProfileFilter{ID: ptr(4)}}},
		{"list version", &ocpp.GetLocalListVersionRequest{}, &ocpp.GetLocalListVersionResponse{ListVersion: -1}, Effects{LocalListVersion: ptr(-1)}},
		{"list accepted", &ocpp.SendLocalListRequest{ListVersion: 4, UpdateType: "Full"}, &ocpp.SendLocalListResponse{Status: "Accepted"},
			Effects{LocalList: &LocalListUpdate{Version: 4, Full: true}}},
		{"list version mismatch", &ocpp.SendLocalListRequest{ListVersion: 4, UpdateType: "Differential"}, &ocpp.SendLocalListResponse{Status: "VersionMismatch"}, Effects{}},
		{"firmware", &ocpp.UpdateFirmwareRequest{Location: "ftp://f/x.bin", RetrieveDate: exp, Retries: ptr(3)}, &ocpp.UpdateFirmwareResponse{},
			Effects{Firmware: &FirmwareRequest{StationID: 2, ChargePointID: "CP", OperationID: 5, Location: "ftp://f/x.bin", RetrieveDate: exp.Time,
				Retries: ptr(3), Status: StatusRequested, Open: true, RequestedAt: op.RequestedAt, StatusAt: now}}},
		{"diagnostics", &ocpp.GetDiagnosticsRequest{Location: "ftp://d/", StartTime: &exp}, &ocpp.GetDiagnosticsResponse{FileName: "d.zip"},
			Effects{Diagnostics: &DiagnosticsRequest{StationID: 2, ChargePointID: "CP", OperationID: 5, Location: "ftp://d/", StartTime: exp.Time,
				FileName: "d.zip", Status: StatusRequested, Open: true, RequestedAt: op.RequestedAt, StatusAt: now}}},
		{"no diagnostics", &ocpp.GetDiagnosticsRequest{Location: "ftp://d/"}, &ocpp.GetDiagnosticsResponse{},
			Effects{Diagnostics: &DiagnosticsRequest{StationID: 2, ChargePointID: "CP", OperationID: 5, Location: "ftp://d/",
				Status: StatusNoDiagnostics, RequestedAt: op.RequestedAt, StatusAt: now}}},
		{"reset changes no record", &ocpp.ResetRequest{Type: "Soft"}, &ocpp.ResetResponse{Status: "Accepted"}, Effects{}},
		{"mismatched response type", &ocpp.ReserveNowRequest{}, &ocpp.ResetResponse{}, Effects{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EffectsOf(op, tt.req, tt.resp); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("EffectsOf:\n got %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

func dump(fx Effects) string {
	v := reflect.ValueOf(fx)
	var b strings.Builder
	for i := range v.NumField() {
		if f := v.Field(i); !f.IsNil() {
			fmt.Fprintf(&b, "%s:%+v ", v.Type().Field(i).Name, f.Elem().Interface())
		}
	}
	return b.String()
}
