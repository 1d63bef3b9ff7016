package ocpp

// The messages of the OCPP 1.6 core specification, in the order of its section 6, with the
// types they share. The json tags are the property names of the schemas and the ocpp tags
// their constraints (see schema.go); an optional property is a pointer or omitempty so that
// leaving it out of a Go value leaves it out of the message.

// AuthorizeRequest asks whether an idTag may charge.
type AuthorizeRequest struct {
	IdTag string `json:"idTag" ocpp:"required,maxLength=20"`
}

// AuthorizeResponse answers an AuthorizeRequest.
type AuthorizeResponse struct {
	IdTagInfo IdTagInfo `json:"idTagInfo" ocpp:"required"`
}

// IdTagInfo is the central system's verdict on an idTag, which the charge point may cache.
type IdTagInfo struct {
	ExpiryDate  *DateTime           `json:"expiryDate,omitempty"`
	ParentIdTag string              `json:"parentIdTag,omitempty" ocpp:"maxLength=20"`
	Status      AuthorizationStatus `json:"status" ocpp:"required"`
}

// BootNotificationRequest is sent by a charge point when it starts.
type BootNotificationRequest struct {
	ChargePointVendor       string `json:"chargePointVendor" ocpp:"required,maxLength=20"`
	ChargePointModel        string `json:"chargePointModel" ocpp:"required,maxLength=20"`
	ChargePointSerialNumber string `json:"chargePointSerialNumber,omitempty" ocpp:"maxLength=25"`
	ChargeBoxSerialNumber   string `json:"chargeBoxSerialNumber,omitempty" ocpp:"maxLength=25"`
	FirmwareVersion         string `json:"firmwareVersion,omitempty" ocpp:"maxLength=50"`
	ICCID                   string `json:"iccid,omitempty" ocpp:"maxLength=20"`
	IMSI                    string `json:"imsi,omitempty" ocpp:"maxLength=20"`
	MeterType               string `json:"meterType,omitempty" ocpp:"maxLength=25"`
	MeterSerialNumber       string `json:"meterSerialNumber,omitempty" ocpp:"maxLength=25"`
}

// BootNotificationResponse answers a BootNotificationRequest. Interval is the heartbeat
// interval in seconds when accepted, the delay before the next BootNotification otherwise.
type BootNotificationResponse struct {
	Status      RegistrationStatus `json:"status" ocpp:"required"`
	CurrentTime DateTime           `json:"currentTime" ocpp:"required"`
	Interval    int                `json:"interval" ocpp:"required"`
}

// CancelReservationRequest cancels a reservation made with ReserveNow.
type CancelReservationRequest struct {
	ReservationID int `json:"reservationId" ocpp:"required"`
}

// CancelReservationResponse answers a CancelReservationRequest.
type CancelReservationResponse struct {
	Status CancelReservationStatus `json:"status" ocpp:"required"`
}

// ChangeAvailabilityRequest makes a connector, or the charge point on connector 0,
// operative or inoperative.
type ChangeAvailabilityRequest struct {
	ConnectorID int              `json:"connectorId" ocpp:"required"`
	Type        AvailabilityType `json:"type" ocpp:"required"`
}

// ChangeAvailabilityResponse answers a ChangeAvailabilityRequest.
type ChangeAvailabilityResponse struct {
	Status AvailabilityStatus `json:"status" ocpp:"required"`
}

// ChangeConfigurationRequest sets a configuration key of the charge point.
type ChangeConfigurationRequest struct {
	Key   string `json:"key" ocpp:"required,maxLength=50"`
	Value string `json:"value" ocpp:"required,maxLength=500"`
}

// ChangeConfigurationResponse answers a ChangeConfigurationRequest.
type ChangeConfigurationResponse struct {
	Status ConfigurationStatus `json:"status" ocpp:"required"`
}

// ClearCacheRequest empties the charge point's authorization cache.
type ClearCacheRequest struct{}

// ClearCacheResponse answers a ClearCacheRequest.
type ClearCacheResponse struct {
	Status ClearCacheStatus `json:"status" ocpp:"required"`
}

// ClearChargingProfileRequest removes the charging profiles that match all of its fields.
type ClearChargingProfileRequest struct {
	ID                     *int                       `json:"id,omitempty"`
	ConnectorID            *int                       `json:"connectorId,omitempty"`
	ChargingProfilePurpose ChargingProfilePurposeType `json:"chargingProfilePurpose,omitempty"`
	StackLevel             *int                       `json:"stackLevel,omitempty"`
}

// ClearChargingProfileResponse answers a ClearChargingProfileRequest.
type ClearChargingProfileResponse struct {
	Status ClearChargingProfileStatus `json:"status" ocpp:"required"`
}

// DataTransferRequest carries vendor-specific data, in either direction.
type DataTransferRequest struct {
	VendorID  string `json:"vendorId" ocpp:"required,maxLength=255"`
	MessageID string `json:"messageId,omitempty" ocpp:"maxLength=50"`
	Data      string `json:"data,omitempty"`
}

// DataTransferResponse answers a DataTransferRequest.
type DataTransferResponse struct {
	Status DataTransferStatus `json:"status" ocpp:"required"`
	Data   string             `json:"data,omitempty"`
}

// DiagnosticsStatusNotificationRequest reports the progress of a GetDiagnostics upload.
type DiagnosticsStatusNotificationRequest struct {
	Status DiagnosticsStatus `json:"status" ocpp:"required"`
}

// DiagnosticsStatusNotificationResponse answers a DiagnosticsStatusNotificationRequest.
type DiagnosticsStatusNotificationResponse struct{}

// FirmwareStatusNotificationRequest reports the progress of an UpdateFirmware.
type FirmwareStatusNotificationRequest struct {
	Status FirmwareStatus `json:"status" ocpp:"required"`
}

// FirmwareStatusNotificationResponse answers a FirmwareStatusNotificationRequest.
type FirmwareStatusNotificationResponse struct{}

// GetCompositeScheduleRequest asks for the schedule a connector will follow, all charging
// profiles combined, for the next Duration seconds.
type GetCompositeScheduleRequest struct {
	ConnectorID      int                  `json:"connectorId" ocpp:"required"`
	Duration         int                  `json:"duration" ocpp:"required"`
	ChargingRateUnit ChargingRateUnitType `json:"chargingRateUnit,omitempty"`
}

// GetCompositeScheduleResponse answers a GetCompositeScheduleRequest.
type GetCompositeScheduleResponse struct {
	Status           GetCompositeScheduleStatus `json:"status" ocpp:"required"`
	ConnectorID      *int                       `json:"connectorId,omitempty"`
	ScheduleStart    *DateTime                  `json:"scheduleStart,omitempty"`
	ChargingSchedule *ChargingSchedule          `json:"chargingSchedule,omitempty"`
}

// ChargingSchedule is a list of limits over time. The schemas allow limits in steps of 0.1.
type ChargingSchedule struct {
	Duration               *int                     `json:"duration,omitempty"`
	StartSchedule          *DateTime                `json:"startSchedule,omitempty"`
	ChargingRateUnit       ChargingRateUnitType     `json:"chargingRateUnit" ocpp:"required"`
	ChargingSchedulePeriod []ChargingSchedulePeriod `json:"chargingSchedulePeriod" ocpp:"required"`
	MinChargingRate        *float64                 `json:"minChargingRate,omitempty" ocpp:"multipleOf=0.1"`
}

// ChargingSchedulePeriod is the limit from StartPeriod seconds after the start of the
// schedule until the next period.
type ChargingSchedulePeriod struct {
	StartPeriod  int     `json:"startPeriod" ocpp:"required"`
	Limit        float64 `json:"limit" ocpp:"required,multipleOf=0.1"`
	NumberPhases *int    `json:"numberPhases,omitempty"`
}

// GetConfigurationRequest asks for the given configuration keys, or for all of them when
// Key is empty.
type GetConfigurationRequest struct {
	Key []string `json:"key,omitempty" ocpp:"maxLength=50"`
}

// GetConfigurationResponse answers a GetConfigurationRequest.
type GetConfigurationResponse struct {
	ConfigurationKey []KeyValue `json:"configurationKey,omitempty"`
	UnknownKey       []string   `json:"unknownKey,omitempty" ocpp:"maxLength=50"`
}

// KeyValue is one configuration key of a charge point. Value is absent for a key the charge
// point will not reveal.
type KeyValue struct {
	Key      string `json:"key" ocpp:"required,maxLength=50"`
	Readonly bool   `json:"readonly" ocpp:"required"`
	Value    string `json:"value,omitempty" ocpp:"maxLength=500"`
}

// GetDiagnosticsRequest asks the charge point to upload its diagnostics to Location.
type GetDiagnosticsRequest struct {
	Location      string    `json:"location" ocpp:"required,format=uri"`
	Retries       *int      `json:"retries,omitempty"`
	RetryInterval *int      `json:"retryInterval,omitempty"`
	StartTime     *DateTime `json:"startTime,omitempty"`
	StopTime      *DateTime `json:"stopTime,omitempty"`
}

// GetDiagnosticsResponse answers a GetDiagnosticsRequest; FileName is empty when there is
// nothing to upload.
type GetDiagnosticsResponse struct {
	FileName string `json:"fileName,omitempty" ocpp:"maxLength=255"`
}

// GetLocalListVersionRequest asks for the version of the charge point's local list.
type GetLocalListVersionRequest struct{}

// GetLocalListVersionResponse answers a GetLocalListVersionRequest: 0 for an empty list,
// -1 when the charge point has no local list.
type GetLocalListVersionResponse struct {
	ListVersion int `json:"listVersion" ocpp:"required"`
}

// HeartbeatRequest tells the central system the charge point is alive.
type HeartbeatRequest struct{}

// HeartbeatResponse answers a HeartbeatRequest with the time, which charge points use to
// set their clock.
type HeartbeatResponse struct {
	CurrentTime DateTime `json:"currentTime" ocpp:"required"`
}

// MeterValuesRequest carries meter readings of a connector, during a transaction or not.
type MeterValuesRequest struct {
	ConnectorID   int          `json:"connectorId" ocpp:"required"`
	TransactionID *int         `json:"transactionId,omitempty"`
	MeterValue    []MeterValue `json:"meterValue" ocpp:"required,minItems=1"`
}

// MeterValuesResponse answers a MeterValuesRequest.
type MeterValuesResponse struct{}

// MeterValue is the readings taken at one moment.
type MeterValue struct {
	Timestamp    DateTime       `json:"timestamp" ocpp:"required"`
	SampledValue []SampledValue `json:"sampledValue" ocpp:"required,minItems=1"`
}

// SampledValue is one reading. Absent fields have the defaults of the specification:
// measurand Energy.Active.Import.Register, unit Wh, context Sample.Periodic, location
// Outlet, format Raw; Value is a decimal number unless the format is SignedData.
type SampledValue struct {
	Value     string         `json:"value" ocpp:"required"`
	Context   ReadingContext `json:"context,omitempty"`
	Format    ValueFormat    `json:"format,omitempty"`
	Measurand Measurand      `json:"measurand,omitempty"`
	Phase     Phase          `json:"phase,omitempty"`
	Location  Location       `json:"location,omitempty"`
	Unit      UnitOfMeasure  `json:"unit,omitempty"`
}

// RemoteStartTransactionRequest asks the charge point to start a transaction for IdTag.
type RemoteStartTransactionRequest struct {
	ConnectorID     *int             `json:"connectorId,omitempty"`
	IdTag           string           `json:"idTag" ocpp:"required,maxLength=20"`
	ChargingProfile *ChargingProfile `json:"chargingProfile,omitempty"`
}

// RemoteStartTransactionResponse answers a RemoteStartTransactionRequest.
type RemoteStartTransactionResponse struct {
	Status RemoteStartStopStatus `json:"status" ocpp:"required"`
}

// ChargingProfile is a charging schedule with what it applies to and when.
type ChargingProfile struct {
	ChargingProfileID      int                        `json:"chargingProfileId" ocpp:"required"`
	TransactionID          *int                       `json:"transactionId,omitempty"`
	StackLevel             int                        `json:"stackLevel" ocpp:"required"`
	ChargingProfilePurpose ChargingProfilePurposeType `json:"chargingProfilePurpose" ocpp:"required"`
	ChargingProfileKind    ChargingProfileKindType    `json:"chargingProfileKind" ocpp:"required"`
	RecurrencyKind         RecurrencyKindType         `json:"recurrencyKind,omitempty"`
	ValidFrom              *DateTime                  `json:"validFrom,omitempty"`
	ValidTo                *DateTime                  `json:"validTo,omitempty"`
	ChargingSchedule       ChargingSchedule           `json:"chargingSchedule" ocpp:"required"`
}

// RemoteStopTransactionRequest asks the charge point to stop a transaction.
type RemoteStopTransactionRequest struct {
	TransactionID int `json:"transactionId" ocpp:"required"`
}

// RemoteStopTransactionResponse answers a RemoteStopTransactionRequest.
type RemoteStopTransactionResponse struct {
	Status RemoteStartStopStatus `json:"status" ocpp:"required"`
}

// ReserveNowRequest reserves a connector, or any connector on connector 0, for IdTag
// until ExpiryDate.
type ReserveNowRequest struct {
	ConnectorID   int      `json:"connectorId" ocpp:"required"`
	ExpiryDate    DateTime `json:"expiryDate" ocpp:"required"`
	IdTag         string   `json:"idTag" ocpp:"required,maxLength=20"`
	ParentIdTag   string   `json:"parentIdTag,omitempty" ocpp:"maxLength=20"`
	ReservationID int      `json:"reservationId" ocpp:"required"`
}

// ReserveNowResponse answers a ReserveNowRequest.
type ReserveNowResponse struct {
	Status ReservationStatus `json:"status" ocpp:"required"`
}

// ResetRequest asks the charge point to restart.
type ResetRequest struct {
	Type ResetType `json:"type" ocpp:"required"`
}

// ResetResponse answers a ResetRequest.
type ResetResponse struct {
	Status ResetStatus `json:"status" ocpp:"required"`
}

// SendLocalListRequest replaces or changes the charge point's local authorization list.
type SendLocalListRequest struct {
	ListVersion            int                 `json:"listVersion" ocpp:"required"`
	LocalAuthorizationList []AuthorizationData `json:"localAuthorizationList,omitempty"`
	UpdateType             UpdateType          `json:"updateType" ocpp:"required"`
}

// SendLocalListResponse answers a SendLocalListRequest.
type SendLocalListResponse struct {
	Status UpdateStatus `json:"status" ocpp:"required"`
}

// AuthorizationData is one entry of a local list; in a differential update, an entry
// without IdTagInfo removes IdTag from the list.
type AuthorizationData struct {
	IdTag     string     `json:"idTag" ocpp:"required,maxLength=20"`
	IdTagInfo *IdTagInfo `json:"idTagInfo,omitempty"`
}

// SetChargingProfileRequest installs a charging profile on a connector, or on the whole
// charge point on connector 0.
type SetChargingProfileRequest struct {
	ConnectorID        int             `json:"connectorId" ocpp:"required"`
	CsChargingProfiles ChargingProfile `json:"csChargingProfiles" ocpp:"required"`
}

// SetChargingProfileResponse answers a SetChargingProfileRequest.
type SetChargingProfileResponse struct {
	Status ChargingProfileStatus `json:"status" ocpp:"required"`
}

// StartTransactionRequest reports that a transaction has started. MeterStart is the energy
// register in Wh.
type StartTransactionRequest struct {
	ConnectorID   int      `json:"connectorId" ocpp:"required"`
	IdTag         string   `json:"idTag" ocpp:"required,maxLength=20"`
	MeterStart    int      `json:"meterStart" ocpp:"required"`
	ReservationID *int     `json:"reservationId,omitempty"`
	Timestamp     DateTime `json:"timestamp" ocpp:"required"`
}

// StartTransactionResponse answers a StartTransactionRequest with the transaction's id.
type StartTransactionResponse struct {
	IdTagInfo     IdTagInfo `json:"idTagInfo" ocpp:"required"`
	TransactionID int       `json:"transactionId" ocpp:"required"`
}

// StatusNotificationRequest reports the status of a connector, or of the charge point on
// connector 0.
type StatusNotificationRequest struct {
	ConnectorID     int                  `json:"connectorId" ocpp:"required"`
	ErrorCode       ChargePointErrorCode `json:"errorCode" ocpp:"required"`
	Info            string               `json:"info,omitempty" ocpp:"maxLength=50"`
	Status          ChargePointStatus    `json:"status" ocpp:"required"`
	Timestamp       *DateTime            `json:"timestamp,omitempty"`
	VendorID        string               `json:"vendorId,omitempty" ocpp:"maxLength=255"`
	VendorErrorCode string               `json:"vendorErrorCode,omitempty" ocpp:"maxLength=50"`
}

// StatusNotificationResponse answers a StatusNotificationRequest.
type StatusNotificationResponse struct{}

// StopTransactionRequest reports that a transaction has stopped. MeterStop is the energy
// register in Wh.
type StopTransactionRequest struct {
	IdTag           string            `json:"idTag,omitempty" ocpp:"maxLength=20"`
	MeterStop       int               `json:"meterStop" ocpp:"required"`
	Timestamp       DateTime          `json:"timestamp" ocpp:"required"`
	TransactionID   int               `json:"transactionId" ocpp:"required"`
	Reason          Reason            `json:"reason,omitempty"`
	TransactionData []TransactionData `json:"transactionData,omitempty"`
}

// StopTransactionResponse answers a StopTransactionRequest.
type StopTransactionResponse struct {
	IdTagInfo *IdTagInfo `json:"idTagInfo,omitempty"`
}

// TransactionData is a MeterValue as StopTransaction carries it. It is a type of its own
// because the schema of StopTransaction differs from that of MeterValues: its sampledValue
// may be empty, and its unit may not be Hertz.
type TransactionData struct {
	Timestamp    DateTime                  `json:"timestamp" ocpp:"required"`
	SampledValue []TransactionSampledValue `json:"sampledValue" ocpp:"required"`
}

// MeterValue converts d, for code that reads MeterValues and StopTransaction alike.
func (d TransactionData) MeterValue() MeterValue {
	mv := MeterValue{Timestamp: d.Timestamp, SampledValue: make([]SampledValue, len(d.SampledValue))}
	for i, sv := range d.SampledValue {
		mv.SampledValue[i] = SampledValue(sv)
	}
	return mv
}

// TransactionSampledValue is a SampledValue in a StopTransaction: the same fields, so that
// SampledValue(v) converts it, but Hertz is not an allowed unit.
type TransactionSampledValue struct {
	Value     string         `json:"value" ocpp:"required"`
	Context   ReadingContext `json:"context,omitempty"`
	Format    ValueFormat    `json:"format,omitempty"`
	Measurand Measurand      `json:"measurand,omitempty"`
	Phase     Phase          `json:"phase,omitempty"`
	Location  Location       `json:"location,omitempty"`
	Unit      UnitOfMeasure  `json:"unit,omitempty" ocpp:"exclude=Hertz"`
}

// TriggerMessageRequest asks the charge point to send a message now.
type TriggerMessageRequest struct {
	RequestedMessage MessageTrigger `json:"requestedMessage" ocpp:"required"`
	ConnectorID      *int           `json:"connectorId,omitempty"`
}

// TriggerMessageResponse answers a TriggerMessageRequest.
type TriggerMessageResponse struct {
	Status TriggerMessageStatus `json:"status" ocpp:"required"`
}

// UnlockConnectorRequest asks the charge point to unlock a connector's cable.
type UnlockConnectorRequest struct {
	ConnectorID int `json:"connectorId" ocpp:"required"`
}

// UnlockConnectorResponse answers an UnlockConnectorRequest.
type UnlockConnectorResponse struct {
	Status UnlockStatus `json:"status" ocpp:"required"`
}

// UpdateFirmwareRequest asks the charge point to fetch firmware from Location after
// RetrieveDate and install it.
type UpdateFirmwareRequest struct {
	Location      string   `json:"location" ocpp:"required,format=uri"`
	Retries       *int     `json:"retries,omitempty"`
	RetrieveDate  DateTime `json:"retrieveDate" ocpp:"required"`
	RetryInterval *int     `json:"retryInterval,omitempty"`
}

// UpdateFirmwareResponse answers an UpdateFirmwareRequest.
type UpdateFirmwareResponse struct{}
