package ocpp

// The enumerations of OCPP 1.6. Each type lists its values in Values, which the validation
// reads: a value outside the list is a PropertyConstraintViolation (a warning in Lenient mode).
// Constants are the type name followed by the value without its punctuation.

func valuesOf[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// AuthorizationStatus is the verdict on an idTag.
type AuthorizationStatus string

// The values of AuthorizationStatus.
const (
	AuthorizationStatusAccepted     AuthorizationStatus = "Accepted"
	AuthorizationStatusBlocked      AuthorizationStatus = "Blocked"
	AuthorizationStatusExpired      AuthorizationStatus = "Expired"
	AuthorizationStatusInvalid      AuthorizationStatus = "Invalid"
	AuthorizationStatusConcurrentTx AuthorizationStatus = "ConcurrentTx"
)

// Values lists the values the schemas allow.
func (AuthorizationStatus) Values() []string {
	return valuesOf(
		AuthorizationStatusAccepted, AuthorizationStatusBlocked, AuthorizationStatusExpired,
		AuthorizationStatusInvalid, AuthorizationStatusConcurrentTx,
	)
}

// AvailabilityStatus answers a ChangeAvailability.
type AvailabilityStatus string

// The values of AvailabilityStatus.
const (
	AvailabilityStatusAccepted  AvailabilityStatus = "Accepted"
	AvailabilityStatusRejected  AvailabilityStatus = "Rejected"
	AvailabilityStatusScheduled AvailabilityStatus = "Scheduled"
)

// Values lists the values the schemas allow.
func (AvailabilityStatus) Values() []string {
	return valuesOf(
		AvailabilityStatusAccepted, AvailabilityStatusRejected, AvailabilityStatusScheduled,
	)
}

// AvailabilityType is what ChangeAvailability asks a connector to become.
type AvailabilityType string

// The values of AvailabilityType.
const (
	AvailabilityTypeInoperative AvailabilityType = "Inoperative"
	AvailabilityTypeOperative   AvailabilityType = "Operative"
)

// Values lists the values the schemas allow.
func (AvailabilityType) Values() []string {
	return valuesOf(AvailabilityTypeInoperative, AvailabilityTypeOperative)
}

// CancelReservationStatus answers a CancelReservation.
type CancelReservationStatus string

// The values of CancelReservationStatus.
const (
	CancelReservationStatusAccepted CancelReservationStatus = "Accepted"
	CancelReservationStatusRejected CancelReservationStatus = "Rejected"
)

// Values lists the values the schemas allow.
func (CancelReservationStatus) Values() []string {
	return valuesOf(CancelReservationStatusAccepted, CancelReservationStatusRejected)
}

// ChargePointErrorCode is the error a StatusNotification reports; NoError when there is none.
type ChargePointErrorCode string

// The values of ChargePointErrorCode.
const (
	ChargePointErrorCodeConnectorLockFailure ChargePointErrorCode = "ConnectorLockFailure"
	ChargePointErrorCodeEVCommunicationError ChargePointErrorCode = "EVCommunicationError"
	ChargePointErrorCodeGroundFailure        ChargePointErrorCode = "GroundFailure"
	ChargePointErrorCodeHighTemperature      ChargePointErrorCode = "HighTemperature"
	ChargePointErrorCodeInternalError        ChargePointErrorCode = "InternalError"
	ChargePointErrorCodeLocalListConflict    ChargePointErrorCode = "LocalListConflict"
	ChargePointErrorCodeNoError              ChargePointErrorCode = "NoError"
	ChargePointErrorCodeOtherError           ChargePointErrorCode = "OtherError"
	ChargePointErrorCodeOverCurrentFailure   ChargePointErrorCode = "OverCurrentFailure"
	ChargePointErrorCodePowerMeterFailure    ChargePointErrorCode = "PowerMeterFailure"
	ChargePointErrorCodePowerSwitchFailure   ChargePointErrorCode = "PowerSwitchFailure"
	ChargePointErrorCodeReaderFailure        ChargePointErrorCode = "ReaderFailure"
	ChargePointErrorCodeResetFailure         ChargePointErrorCode = "ResetFailure"
	ChargePointErrorCodeUnderVoltage         ChargePointErrorCode = "UnderVoltage"
	ChargePointErrorCodeOverVoltage          ChargePointErrorCode = "OverVoltage"
	ChargePointErrorCodeWeakSignal           ChargePointErrorCode = "WeakSignal"
)

// Values lists the values the schemas allow.
func (ChargePointErrorCode) Values() []string {
	return valuesOf(
		ChargePointErrorCodeConnectorLockFailure, ChargePointErrorCodeEVCommunicationError,
		ChargePointErrorCodeGroundFailure, ChargePointErrorCodeHighTemperature,
		ChargePointErrorCodeInternalError, ChargePointErrorCodeLocalListConflict,
		ChargePointErrorCodeNoError, ChargePointErrorCodeOtherError,
		ChargePointErrorCodeOverCurrentFailure, ChargePointErrorCodePowerMeterFailure,
		ChargePointErrorCodePowerSwitchFailure, ChargePointErrorCodeReaderFailure,
		ChargePointErrorCodeResetFailure, ChargePointErrorCodeUnderVoltage,
		ChargePointErrorCodeOverVoltage, ChargePointErrorCodeWeakSignal,
	)
}

// ChargePointStatus is the status of a connector, or of the whole charge point on connector 0.
type ChargePointStatus string

// The values of ChargePointStatus.
const (
	ChargePointStatusAvailable     ChargePointStatus = "Available"
	ChargePointStatusPreparing     ChargePointStatus = "Preparing"
	ChargePointStatusCharging      ChargePointStatus = "Charging"
	ChargePointStatusSuspendedEVSE ChargePointStatus = "SuspendedEVSE"
	ChargePointStatusSuspendedEV   ChargePointStatus = "SuspendedEV"
	ChargePointStatusFinishing     ChargePointStatus = "Finishing"
	ChargePointStatusReserved      ChargePointStatus = "Reserved"
	ChargePointStatusUnavailable   ChargePointStatus = "Unavailable"
	ChargePointStatusFaulted       ChargePointStatus = "Faulted"
)

// Values lists the values the schemas allow.
func (ChargePointStatus) Values() []string {
	return valuesOf(
		ChargePointStatusAvailable, ChargePointStatusPreparing, ChargePointStatusCharging,
		ChargePointStatusSuspendedEVSE, ChargePointStatusSuspendedEV, ChargePointStatusFinishing,
		ChargePointStatusReserved, ChargePointStatusUnavailable, ChargePointStatusFaulted,
	)
}

// ChargingProfileKindType says how a charging schedule is anchored in time.
type ChargingProfileKindType string

// The values of ChargingProfileKindType.
const (
	ChargingProfileKindTypeAbsolute  ChargingProfileKindType = "Absolute"
	ChargingProfileKindTypeRecurring ChargingProfileKindType = "Recurring"
	ChargingProfileKindTypeRelative  ChargingProfileKindType = "Relative"
)

// Values lists the values the schemas allow.
func (ChargingProfileKindType) Values() []string {
	return valuesOf(
		ChargingProfileKindTypeAbsolute, ChargingProfileKindTypeRecurring,
		ChargingProfileKindTypeRelative,
	)
}

// ChargingProfilePurposeType says what a charging profile limits.
type ChargingProfilePurposeType string

// The values of ChargingProfilePurposeType.
const (
	ChargingProfilePurposeTypeChargePointMaxProfile ChargingProfilePurposeType = "ChargePointMaxProfile"
	ChargingProfilePurposeTypeTxDefaultProfile      ChargingProfilePurposeType = "TxDefaultProfile"
	ChargingProfilePurposeTypeTxProfile             ChargingProfilePurposeType = "TxProfile"
)

// Values lists the values the schemas allow.
func (ChargingProfilePurposeType) Values() []string {
	return valuesOf(
		ChargingProfilePurposeTypeChargePointMaxProfile, ChargingProfilePurposeTypeTxDefaultProfile,
		ChargingProfilePurposeTypeTxProfile,
	)
}

// ChargingProfileStatus answers a SetChargingProfile.
type ChargingProfileStatus string

// The values of ChargingProfileStatus.
const (
	ChargingProfileStatusAccepted     ChargingProfileStatus = "Accepted"
	ChargingProfileStatusRejected     ChargingProfileStatus = "Rejected"
	ChargingProfileStatusNotSupported ChargingProfileStatus = "NotSupported"
)

// Values lists the values the schemas allow.
func (ChargingProfileStatus) Values() []string {
	return valuesOf(
		ChargingProfileStatusAccepted, ChargingProfileStatusRejected,
		ChargingProfileStatusNotSupported,
	)
}

// ChargingRateUnitType is the unit of the limits of a charging schedule: amperes or watts.
type ChargingRateUnitType string

// The values of ChargingRateUnitType.
const (
	ChargingRateUnitTypeA ChargingRateUnitType = "A"
	ChargingRateUnitTypeW ChargingRateUnitType = "W"
)

// Values lists the values the schemas allow.
func (ChargingRateUnitType) Values() []string {
	return valuesOf(ChargingRateUnitTypeA, ChargingRateUnitTypeW)
}

// ClearCacheStatus answers a ClearCache.
type ClearCacheStatus string

// The values of ClearCacheStatus.
const (
	ClearCacheStatusAccepted ClearCacheStatus = "Accepted"
	ClearCacheStatusRejected ClearCacheStatus = "Rejected"
)

// Values lists the values the schemas allow.
func (ClearCacheStatus) Values() []string {
	return valuesOf(ClearCacheStatusAccepted, ClearCacheStatusRejected)
}

// ClearChargingProfileStatus answers a ClearChargingProfile.
type ClearChargingProfileStatus string

// The values of ClearChargingProfileStatus.
const (
	ClearChargingProfileStatusAccepted ClearChargingProfileStatus = "Accepted"
	ClearChargingProfileStatusUnknown  ClearChargingProfileStatus = "Unknown"
)

// Values lists the values the schemas allow.
func (ClearChargingProfileStatus) Values() []string {
	return valuesOf(ClearChargingProfileStatusAccepted, ClearChargingProfileStatusUnknown)
}

// ConfigurationStatus answers a ChangeConfiguration.
type ConfigurationStatus string

// The values of ConfigurationStatus.
const (
	ConfigurationStatusAccepted       ConfigurationStatus = "Accepted"
	ConfigurationStatusRejected       ConfigurationStatus = "Rejected"
	ConfigurationStatusRebootRequired ConfigurationStatus = "RebootRequired"
	ConfigurationStatusNotSupported   ConfigurationStatus = "NotSupported"
)

// Values lists the values the schemas allow.
func (ConfigurationStatus) Values() []string {
	return valuesOf(
		ConfigurationStatusAccepted, ConfigurationStatusRejected, ConfigurationStatusRebootRequired,
		ConfigurationStatusNotSupported,
	)
}

// DataTransferStatus answers a DataTransfer.
type DataTransferStatus string

// The values of DataTransferStatus.
const (
	DataTransferStatusAccepted         DataTransferStatus = "Accepted"
	DataTransferStatusRejected         DataTransferStatus = "Rejected"
	DataTransferStatusUnknownMessageId DataTransferStatus = "UnknownMessageId"
	DataTransferStatusUnknownVendorId  DataTransferStatus = "UnknownVendorId"
)

// Values lists the values the schemas allow.
func (DataTransferStatus) Values() []string {
	return valuesOf(
		DataTransferStatusAccepted, DataTransferStatusRejected, DataTransferStatusUnknownMessageId,
		DataTransferStatusUnknownVendorId,
	)
}

// DiagnosticsStatus is the progress of a diagnostics upload.
type DiagnosticsStatus string

// The values of DiagnosticsStatus.
const (
	DiagnosticsStatusIdle         DiagnosticsStatus = "Idle"
	DiagnosticsStatusUploaded     DiagnosticsStatus = "Uploaded"
	DiagnosticsStatusUploadFailed DiagnosticsStatus = "UploadFailed"
	DiagnosticsStatusUploading    DiagnosticsStatus = "Uploading"
)

// Values lists the values the schemas allow.
func (DiagnosticsStatus) Values() []string {
	return valuesOf(
		DiagnosticsStatusIdle, DiagnosticsStatusUploaded, DiagnosticsStatusUploadFailed,
		DiagnosticsStatusUploading,
	)
}

// FirmwareStatus is the progress of a firmware update started by UpdateFirmware.
type FirmwareStatus string

// The values of FirmwareStatus.
const (
	FirmwareStatusDownloaded         FirmwareStatus = "Downloaded"
	FirmwareStatusDownloadFailed     FirmwareStatus = "DownloadFailed"
	FirmwareStatusDownloading        FirmwareStatus = "Downloading"
	FirmwareStatusIdle               FirmwareStatus = "Idle"
	FirmwareStatusInstallationFailed FirmwareStatus = "InstallationFailed"
	FirmwareStatusInstalling         FirmwareStatus = "Installing"
	FirmwareStatusInstalled          FirmwareStatus = "Installed"
)

// Values lists the values the schemas allow.
func (FirmwareStatus) Values() []string {
	return valuesOf(
		FirmwareStatusDownloaded, FirmwareStatusDownloadFailed, FirmwareStatusDownloading,
		FirmwareStatusIdle, FirmwareStatusInstallationFailed, FirmwareStatusInstalling,
		FirmwareStatusInstalled,
	)
}

// GetCompositeScheduleStatus answers a GetCompositeSchedule.
type GetCompositeScheduleStatus string

// The values of GetCompositeScheduleStatus.
const (
	GetCompositeScheduleStatusAccepted GetCompositeScheduleStatus = "Accepted"
	GetCompositeScheduleStatusRejected GetCompositeScheduleStatus = "Rejected"
)

// Values lists the values the schemas allow.
func (GetCompositeScheduleStatus) Values() []string {
	return valuesOf(GetCompositeScheduleStatusAccepted, GetCompositeScheduleStatusRejected)
}

// Location is where a sampled value was measured.
type Location string

// The values of Location.
const (
	LocationCable  Location = "Cable"
	LocationEV     Location = "EV"
	LocationInlet  Location = "Inlet"
	LocationOutlet Location = "Outlet"
	LocationBody   Location = "Body"
)

// Values lists the values the schemas allow.
func (Location) Values() []string {
	return valuesOf(LocationCable, LocationEV, LocationInlet, LocationOutlet, LocationBody)
}

// Measurand is what a sampled value measures.
type Measurand string

// The values of Measurand.
const (
	MeasurandEnergyActiveExportRegister   Measurand = "Energy.Active.Export.Register"
	MeasurandEnergyActiveImportRegister   Measurand = "Energy.Active.Import.Register"
	MeasurandEnergyReactiveExportRegister Measurand = "Energy.Reactive.Export.Register"
	MeasurandEnergyReactiveImportRegister Measurand = "Energy.Reactive.Import.Register"
	MeasurandEnergyActiveExportInterval   Measurand = "Energy.Active.Export.Interval"
	MeasurandEnergyActiveImportInterval   Measurand = "Energy.Active.Import.Interval"
	MeasurandEnergyReactiveExportInterval Measurand = "Energy.Reactive.Export.Interval"
	MeasurandEnergyReactiveImportInterval Measurand = "Energy.Reactive.Import.Interval"
	MeasurandPowerActiveExport            Measurand = "Power.Active.Export"
	MeasurandPowerActiveImport            Measurand = "Power.Active.Import"
	MeasurandPowerOffered                 Measurand = "Power.Offered"
	MeasurandPowerReactiveExport          Measurand = "Power.Reactive.Export"
	MeasurandPowerReactiveImport          Measurand = "Power.Reactive.Import"
	MeasurandPowerFactor                  Measurand = "Power.Factor"
	MeasurandCurrentImport                Measurand = "Current.Import"
	MeasurandCurrentExport                Measurand = "Current.Export"
	MeasurandCurrentOffered               Measurand = "Current.Offered"
	MeasurandVoltage                      Measurand = "Voltage"
	MeasurandFrequency                    Measurand = "Frequency"
	MeasurandTemperature                  Measurand = "Temperature"
	MeasurandSoC                          Measurand = "SoC"
	MeasurandRPM                          Measurand = "RPM"
)

// Values lists the values the schemas allow.
func (Measurand) Values() []string {
	return valuesOf(
		MeasurandEnergyActiveExportRegister, MeasurandEnergyActiveImportRegister,
		MeasurandEnergyReactiveExportRegister, MeasurandEnergyReactiveImportRegister,
		MeasurandEnergyActiveExportInterval, MeasurandEnergyActiveImportInterval,
		MeasurandEnergyReactiveExportInterval, MeasurandEnergyReactiveImportInterval,
		MeasurandPowerActiveExport, MeasurandPowerActiveImport, MeasurandPowerOffered,
		MeasurandPowerReactiveExport, MeasurandPowerReactiveImport, MeasurandPowerFactor,
		MeasurandCurrentImport, MeasurandCurrentExport, MeasurandCurrentOffered, MeasurandVoltage,
		MeasurandFrequency, MeasurandTemperature, MeasurandSoC, MeasurandRPM,
	)
}

// MessageTrigger is the message a TriggerMessage asks for.
type MessageTrigger string

// The values of MessageTrigger.
const (
	MessageTriggerBootNotification              MessageTrigger = "BootNotification"
	MessageTriggerDiagnosticsStatusNotification MessageTrigger = "DiagnosticsStatusNotification"
	MessageTriggerFirmwareStatusNotification    MessageTrigger = "FirmwareStatusNotification"
	MessageTriggerHeartbeat                     MessageTrigger = "Heartbeat"
	MessageTriggerMeterValues                   MessageTrigger = "MeterValues"
	MessageTriggerStatusNotification            MessageTrigger = "StatusNotification"
)

// Values lists the values the schemas allow.
func (MessageTrigger) Values() []string {
	return valuesOf(
		MessageTriggerBootNotification, MessageTriggerDiagnosticsStatusNotification,
		MessageTriggerFirmwareStatusNotification, MessageTriggerHeartbeat,
		MessageTriggerMeterValues, MessageTriggerStatusNotification,
	)
}

// Phase is the phase, or pair of phases, a sampled value was measured on.
type Phase string

// The values of Phase.
const (
	PhaseL1   Phase = "L1"
	PhaseL2   Phase = "L2"
	PhaseL3   Phase = "L3"
	PhaseN    Phase = "N"
	PhaseL1N  Phase = "L1-N"
	PhaseL2N  Phase = "L2-N"
	PhaseL3N  Phase = "L3-N"
	PhaseL1L2 Phase = "L1-L2"
	PhaseL2L3 Phase = "L2-L3"
	PhaseL3L1 Phase = "L3-L1"
)

// Values lists the values the schemas allow.
func (Phase) Values() []string {
	return valuesOf(
		PhaseL1, PhaseL2, PhaseL3, PhaseN, PhaseL1N, PhaseL2N, PhaseL3N, PhaseL1L2, PhaseL2L3,
		PhaseL3L1,
	)
}

// ReadingContext is why a sampled value was taken.
type ReadingContext string

// The values of ReadingContext.
const (
	ReadingContextInterruptionBegin ReadingContext = "Interruption.Begin"
	ReadingContextInterruptionEnd   ReadingContext = "Interruption.End"
	ReadingContextSampleClock       ReadingContext = "Sample.Clock"
	ReadingContextSamplePeriodic    ReadingContext = "Sample.Periodic"
	ReadingContextTransactionBegin  ReadingContext = "Transaction.Begin"
	ReadingContextTransactionEnd    ReadingContext = "Transaction.End"
	ReadingContextTrigger           ReadingContext = "Trigger"
	ReadingContextOther             ReadingContext = "Other"
)

// Values lists the values the schemas allow.
func (ReadingContext) Values() []string {
	return valuesOf(
		ReadingContextInterruptionBegin, ReadingContextInterruptionEnd, ReadingContextSampleClock,
		ReadingContextSamplePeriodic, ReadingContextTransactionBegin, ReadingContextTransactionEnd,
		ReadingContextTrigger, ReadingContextOther,
	)
}

// Reason is why a transaction stopped.
type Reason string

// The values of Reason.
const (
	ReasonEmergencyStop  Reason = "EmergencyStop"
	ReasonEVDisconnected Reason = "EVDisconnected"
	ReasonHardReset      Reason = "HardReset"
	ReasonLocal          Reason = "Local"
	ReasonOther          Reason = "Other"
	ReasonPowerLoss      Reason = "PowerLoss"
	ReasonReboot         Reason = "Reboot"
	ReasonRemote         Reason = "Remote"
	ReasonSoftReset      Reason = "SoftReset"
	ReasonUnlockCommand  Reason = "UnlockCommand"
	ReasonDeAuthorized   Reason = "DeAuthorized"
)

// Values lists the values the schemas allow.
func (Reason) Values() []string {
	return valuesOf(
		ReasonEmergencyStop, ReasonEVDisconnected, ReasonHardReset, ReasonLocal, ReasonOther,
		ReasonPowerLoss, ReasonReboot, ReasonRemote, ReasonSoftReset, ReasonUnlockCommand,
		ReasonDeAuthorized,
	)
}

// RecurrencyKindType is the period of a recurring charging profile.
type RecurrencyKindType string

// The values of RecurrencyKindType.
const (
	RecurrencyKindTypeDaily  RecurrencyKindType = "Daily"
	RecurrencyKindTypeWeekly RecurrencyKindType = "Weekly"
)

// Values lists the values the schemas allow.
func (RecurrencyKindType) Values() []string {
	return valuesOf(RecurrencyKindTypeDaily, RecurrencyKindTypeWeekly)
}

// RegistrationStatus answers a BootNotification.
type RegistrationStatus string

// The values of RegistrationStatus.
const (
	RegistrationStatusAccepted RegistrationStatus = "Accepted"
	RegistrationStatusPending  RegistrationStatus = "Pending"
	RegistrationStatusRejected RegistrationStatus = "Rejected"
)

// Values lists the values the schemas allow.
func (RegistrationStatus) Values() []string {
	return valuesOf(
		RegistrationStatusAccepted, RegistrationStatusPending, RegistrationStatusRejected,
	)
}

// RemoteStartStopStatus answers a RemoteStartTransaction or RemoteStopTransaction.
type RemoteStartStopStatus string

// The values of RemoteStartStopStatus.
const (
	RemoteStartStopStatusAccepted RemoteStartStopStatus = "Accepted"
	RemoteStartStopStatusRejected RemoteStartStopStatus = "Rejected"
)

// Values lists the values the schemas allow.
func (RemoteStartStopStatus) Values() []string {
	return valuesOf(RemoteStartStopStatusAccepted, RemoteStartStopStatusRejected)
}

// ReservationStatus answers a ReserveNow.
type ReservationStatus string

// The values of ReservationStatus.
const (
	ReservationStatusAccepted    ReservationStatus = "Accepted"
	ReservationStatusFaulted     ReservationStatus = "Faulted"
	ReservationStatusOccupied    ReservationStatus = "Occupied"
	ReservationStatusRejected    ReservationStatus = "Rejected"
	ReservationStatusUnavailable ReservationStatus = "Unavailable"
)

// Values lists the values the schemas allow.
func (ReservationStatus) Values() []string {
	return valuesOf(
		ReservationStatusAccepted, ReservationStatusFaulted, ReservationStatusOccupied,
		ReservationStatusRejected, ReservationStatusUnavailable,
	)
}

// ResetStatus answers a Reset.
type ResetStatus string

// The values of ResetStatus.
const (
	ResetStatusAccepted ResetStatus = "Accepted"
	ResetStatusRejected ResetStatus = "Rejected"
)

// Values lists the values the schemas allow.
func (ResetStatus) Values() []string {
	return valuesOf(ResetStatusAccepted, ResetStatusRejected)
}

// ResetType is the kind of reset a Reset asks for.
type ResetType string

// The values of ResetType.
const (
	ResetTypeHard ResetType = "Hard"
	ResetTypeSoft ResetType = "Soft"
)

// Values lists the values the schemas allow.
func (ResetType) Values() []string {
	return valuesOf(ResetTypeHard, ResetTypeSoft)
}

// TriggerMessageStatus answers a TriggerMessage or an ExtendedTriggerMessage.
type TriggerMessageStatus string

// The values of TriggerMessageStatus.
const (
	TriggerMessageStatusAccepted       TriggerMessageStatus = "Accepted"
	TriggerMessageStatusRejected       TriggerMessageStatus = "Rejected"
	TriggerMessageStatusNotImplemented TriggerMessageStatus = "NotImplemented"
)

// Values lists the values the schemas allow.
func (TriggerMessageStatus) Values() []string {
	return valuesOf(
		TriggerMessageStatusAccepted, TriggerMessageStatusRejected,
		TriggerMessageStatusNotImplemented,
	)
}

// UnitOfMeasure is the unit of a sampled value. Celcius, the misspelling of OCPP 1.6, is kept
// beside Celsius because chargers send both. Hertz is only allowed in MeterValues: the
// schema of StopTransaction does not know it (see TransactionSampledValue).
type UnitOfMeasure string

// The values of UnitOfMeasure.
const (
	UnitOfMeasureWh         UnitOfMeasure = "Wh"
	UnitOfMeasureKWh        UnitOfMeasure = "kWh"
	UnitOfMeasureVarh       UnitOfMeasure = "varh"
	UnitOfMeasureKvarh      UnitOfMeasure = "kvarh"
	UnitOfMeasureW          UnitOfMeasure = "W"
	UnitOfMeasureKW         UnitOfMeasure = "kW"
	UnitOfMeasureVA         UnitOfMeasure = "VA"
	UnitOfMeasureKVA        UnitOfMeasure = "kVA"
	UnitOfMeasureVar        UnitOfMeasure = "var"
	UnitOfMeasureKvar       UnitOfMeasure = "kvar"
	UnitOfMeasureA          UnitOfMeasure = "A"
	UnitOfMeasureV          UnitOfMeasure = "V"
	UnitOfMeasureK          UnitOfMeasure = "K"
	UnitOfMeasureCelcius    UnitOfMeasure = "Celcius"
	UnitOfMeasureCelsius    UnitOfMeasure = "Celsius"
	UnitOfMeasureFahrenheit UnitOfMeasure = "Fahrenheit"
	UnitOfMeasurePercent    UnitOfMeasure = "Percent"
	UnitOfMeasureHertz      UnitOfMeasure = "Hertz"
)

// Values lists the values the schemas allow.
func (UnitOfMeasure) Values() []string {
	return valuesOf(
		UnitOfMeasureWh, UnitOfMeasureKWh, UnitOfMeasureVarh, UnitOfMeasureKvarh, UnitOfMeasureW,
		UnitOfMeasureKW, UnitOfMeasureVA, UnitOfMeasureKVA, UnitOfMeasureVar, UnitOfMeasureKvar,
		UnitOfMeasureA, UnitOfMeasureV, UnitOfMeasureK, UnitOfMeasureCelcius, UnitOfMeasureCelsius,
		UnitOfMeasureFahrenheit, UnitOfMeasurePercent, UnitOfMeasureHertz,
	)
}

// UnlockStatus answers an UnlockConnector.
type UnlockStatus string

// The values of UnlockStatus.
const (
	UnlockStatusUnlocked     UnlockStatus = "Unlocked"
	UnlockStatusUnlockFailed UnlockStatus = "UnlockFailed"
	UnlockStatusNotSupported UnlockStatus = "NotSupported"
)

// Values lists the values the schemas allow.
func (UnlockStatus) Values() []string {
	return valuesOf(UnlockStatusUnlocked, UnlockStatusUnlockFailed, UnlockStatusNotSupported)
}

// UpdateStatus answers a SendLocalList.
type UpdateStatus string

// The values of UpdateStatus.
const (
	UpdateStatusAccepted        UpdateStatus = "Accepted"
	UpdateStatusFailed          UpdateStatus = "Failed"
	UpdateStatusNotSupported    UpdateStatus = "NotSupported"
	UpdateStatusVersionMismatch UpdateStatus = "VersionMismatch"
)

// Values lists the values the schemas allow.
func (UpdateStatus) Values() []string {
	return valuesOf(
		UpdateStatusAccepted, UpdateStatusFailed, UpdateStatusNotSupported,
		UpdateStatusVersionMismatch,
	)
}

// UpdateType says whether a SendLocalList replaces the local list or changes it.
type UpdateType string

// The values of UpdateType.
const (
	UpdateTypeDifferential UpdateType = "Differential"
	UpdateTypeFull         UpdateType = "Full"
)

// Values lists the values the schemas allow.
func (UpdateType) Values() []string {
	return valuesOf(UpdateTypeDifferential, UpdateTypeFull)
}

// ValueFormat is how the value of a sampled value is written.
type ValueFormat string

// The values of ValueFormat.
const (
	ValueFormatRaw        ValueFormat = "Raw"
	ValueFormatSignedData ValueFormat = "SignedData"
)

// Values lists the values the schemas allow.
func (ValueFormat) Values() []string {
	return valuesOf(ValueFormatRaw, ValueFormatSignedData)
}
