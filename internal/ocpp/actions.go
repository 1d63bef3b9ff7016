package ocpp

import (
	"reflect"
	"slices"
	"strings"
)

// Initiator is who sends the request of an action. It is a set: DataTransfer is sent by
// both sides.
type Initiator int

// The two sides of OCPP.
const (
	ChargePoint Initiator = 1 << iota
	CentralSystem
)

func (i Initiator) String() string {
	var names []string
	if i&ChargePoint != 0 {
		names = append(names, "ChargePoint")
	}
	if i&CentralSystem != 0 {
		names = append(names, "CentralSystem")
	}
	return strings.Join(names, "|")
}

// Action is an OCPP 1.6 action: its name, who sends its request, and the types of its
// request and response.
type Action struct {
	Name      string
	Initiator Initiator

	request, response *schema
}

// SentBy reports whether side may send the request of a.
func (a Action) SentBy(side Initiator) bool { return a.Initiator&side != 0 }

// NewRequest returns a pointer to a new, zero request of a, such as *HeartbeatRequest.
func (a Action) NewRequest() any { return reflect.New(a.request.typ).Interface() }

// NewResponse returns a pointer to a new, zero response of a, such as *HeartbeatResponse.
func (a Action) NewResponse() any { return reflect.New(a.response.typ).Interface() }

// LookupAction returns the action called name, which is case-sensitive as in OCPP-J.
func LookupAction(name string) (Action, bool) {
	a, ok := registry.byName[name]
	return a, ok
}

// Actions returns every action of OCPP 1.6 and of its security extension, by name.
func Actions() []Action {
	return slices.Clone(registry.list)
}

// ActionOf returns the action of a request or response value, given by value or pointer.
func ActionOf(msg any) (string, bool) {
	m, ok := registry.message(msg)
	return m.action, ok
}

// registry is built once, when the package is initialised, and only read afterwards.
var registry = newRegistry(
	def[AuthorizeRequest, AuthorizeResponse]("Authorize", ChargePoint),
	def[BootNotificationRequest, BootNotificationResponse]("BootNotification", ChargePoint),
	def[CancelReservationRequest, CancelReservationResponse]("CancelReservation", CentralSystem),
	def[CertificateSignedRequest, CertificateSignedResponse]("CertificateSigned", CentralSystem),
	def[ChangeAvailabilityRequest, ChangeAvailabilityResponse]("ChangeAvailability", CentralSystem),
	def[ChangeConfigurationRequest, ChangeConfigurationResponse]("ChangeConfiguration", CentralSystem),
	def[ClearCacheRequest, ClearCacheResponse]("ClearCache", CentralSystem),
	def[ClearChargingProfileRequest, ClearChargingProfileResponse]("ClearChargingProfile", CentralSystem),
	def[DataTransferRequest, DataTransferResponse]("DataTransfer", ChargePoint|CentralSystem),
	def[DeleteCertificateRequest, DeleteCertificateResponse]("DeleteCertificate", CentralSystem),
	def[DiagnosticsStatusNotificationRequest, DiagnosticsStatusNotificationResponse]("DiagnosticsStatusNotification", ChargePoint),
	def[ExtendedTriggerMessageRequest, ExtendedTriggerMessageResponse]("ExtendedTriggerMessage", CentralSystem),
	def[FirmwareStatusNotificationRequest, FirmwareStatusNotificationResponse]("FirmwareStatusNotification", ChargePoint),
	def[GetCompositeScheduleRequest, GetCompositeScheduleResponse]("GetCompositeSchedule", CentralSystem),
	def[GetConfigurationRequest, GetConfigurationResponse]("GetConfiguration", CentralSystem),
	def[GetDiagnosticsRequest, GetDiagnosticsResponse]("GetDiagnostics", CentralSystem),
	def[GetInstalledCertificateIdsRequest, GetInstalledCertificateIdsResponse]("GetInstalledCertificateIds", CentralSystem),
	def[GetLocalListVersionRequest, GetLocalListVersionResponse]("GetLocalListVersion", CentralSystem),
	def[GetLogRequest, GetLogResponse]("GetLog", CentralSystem),
	def[HeartbeatRequest, HeartbeatResponse]("Heartbeat", ChargePoint),
	def[InstallCertificateRequest, InstallCertificateResponse]("InstallCertificate", CentralSystem),
	def[LogStatusNotificationRequest, LogStatusNotificationResponse]("LogStatusNotification", ChargePoint),
	def[MeterValuesRequest, MeterValuesResponse]("MeterValues", ChargePoint),
	def[RemoteStartTransactionRequest, RemoteStartTransactionResponse]("RemoteStartTransaction", CentralSystem),
	def[RemoteStopTransactionRequest, RemoteStopTransactionResponse]("RemoteStopTransaction", CentralSystem),
	def[ReserveNowRequest, ReserveNowResponse]("ReserveNow", CentralSystem),
	def[ResetRequest, ResetResponse]("Reset", CentralSystem),
	def[SecurityEventNotificationRequest, SecurityEventNotificationResponse]("SecurityEventNotification", ChargePoint),
	def[SendLocalListRequest, SendLocalListResponse]("SendLocalList", CentralSystem),
	def[SetChargingProfileRequest, SetChargingProfileResponse]("SetChargingProfile", CentralSystem),
	def[SignCertificateRequest, SignCertificateResponse]("SignCertificate", ChargePoint),
	def[SignedFirmwareStatusNotificationRequest, SignedFirmwareStatusNotificationResponse]("SignedFirmwareStatusNotification", ChargePoint),
	def[SignedUpdateFirmwareRequest, SignedUpdateFirmwareResponse]("SignedUpdateFirmware", CentralSystem),
	def[StartTransactionRequest, StartTransactionResponse]("StartTransaction", ChargePoint),
	def[StatusNotificationRequest, StatusNotificationResponse]("StatusNotification", ChargePoint),
	def[StopTransactionRequest, StopTransactionResponse]("StopTransaction", ChargePoint),
	def[TriggerMessageRequest, TriggerMessageResponse]("TriggerMessage", CentralSystem),
	def[UnlockConnectorRequest, UnlockConnectorResponse]("UnlockConnector", CentralSystem),
	def[UpdateFirmwareRequest, UpdateFirmwareResponse]("UpdateFirmware", CentralSystem),
)

func def[Req, Resp any](name string, from Initiator) Action {
	return Action{
		Name:      name,
		Initiator: from,
		request:   schemaOf(reflect.TypeFor[Req]()),
		response:  schemaOf(reflect.TypeFor[Resp]()),
	}
}

type actionRegistry struct {
	list     []Action
	byName   map[string]Action
	messages map[reflect.Type]message
}

// message is what a request or response type is.
type message struct {
	action string
	schema *schema
}

func (m message) typeName() string { return m.schema.typ.Name() }

func newRegistry(actions ...Action) actionRegistry {
	r := actionRegistry{
		list:     actions,
		byName:   make(map[string]Action, len(actions)),
		messages: make(map[reflect.Type]message, 2*len(actions)),
	}
	for _, a := range actions {
		r.byName[a.Name] = a
		r.messages[a.request.typ] = message{a.Name, a.request}
		r.messages[a.response.typ] = message{a.Name, a.response}
	}
	return r
}

func (r actionRegistry) message(msg any) (message, bool) {
	t := reflect.TypeOf(msg)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	m, ok := r.messages[t]
	return m, ok
}
