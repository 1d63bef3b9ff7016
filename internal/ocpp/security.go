package ocpp

// The messages of the OCPP 1.6 security extension ("Improved security for OCPP 1.6-J"), with
// their types and enumerations. The extension names its types in the style of OCPP 2.0
// (HashAlgorithmEnumType, CertificateHashDataType); here they drop that suffix, and the two
// whose short name is taken by a core type are named after their message instead.

// CertificateSignedRequest sends the charge point the certificate chain signed for its CSR.
type CertificateSignedRequest struct {
	CertificateChain string `json:"certificateChain" ocpp:"required,maxLength=10000"`
}

// CertificateSignedResponse answers a CertificateSignedRequest.
type CertificateSignedResponse struct {
	Status CertificateSignedStatus `json:"status" ocpp:"required"`
}

// DeleteCertificateRequest removes an installed root certificate.
type DeleteCertificateRequest struct {
	CertificateHashData CertificateHashData `json:"certificateHashData" ocpp:"required"`
}

// DeleteCertificateResponse answers a DeleteCertificateRequest.
type DeleteCertificateResponse struct {
	Status DeleteCertificateStatus `json:"status" ocpp:"required"`
}

// CertificateHashData identifies a certificate by the hashes of its issuer and its serial
// number.
type CertificateHashData struct {
	HashAlgorithm  HashAlgorithm `json:"hashAlgorithm" ocpp:"required"`
	IssuerNameHash string        `json:"issuerNameHash" ocpp:"required,maxLength=128"`
	IssuerKeyHash  string        `json:"issuerKeyHash" ocpp:"required,maxLength=128"`
	SerialNumber   string        `json:"serialNumber" ocpp:"required,maxLength=40"`
}

// ExtendedTriggerMessageRequest asks the charge point to send a message now, including the
// messages of the security extension.
type ExtendedTriggerMessageRequest struct {
	RequestedMessage ExtendedMessageTrigger `json:"requestedMessage" ocpp:"required"`
	ConnectorID      *int                   `json:"connectorId,omitempty"`
}

// ExtendedTriggerMessageResponse answers an ExtendedTriggerMessageRequest.
type ExtendedTriggerMessageResponse struct {
	Status TriggerMessageStatus `json:"status" ocpp:"required"`
}

// GetInstalledCertificateIdsRequest asks which root certificates of a kind are installed.
type GetInstalledCertificateIdsRequest struct {
	CertificateType CertificateUse `json:"certificateType" ocpp:"required"`
}

// GetInstalledCertificateIdsResponse answers a GetInstalledCertificateIdsRequest.
type GetInstalledCertificateIdsResponse struct {
	CertificateHashData []CertificateHashData         `json:"certificateHashData,omitempty" ocpp:"minItems=1"`
	Status              GetInstalledCertificateStatus `json:"status" ocpp:"required"`
}

// GetLogRequest asks the charge point to upload a log.
type GetLogRequest struct {
	Log           LogParameters `json:"log" ocpp:"required"`
	LogType       LogType       `json:"logType" ocpp:"required"`
	RequestID     int           `json:"requestId" ocpp:"required"`
	Retries       *int          `json:"retries,omitempty"`
	RetryInterval *int          `json:"retryInterval,omitempty"`
}

// LogParameters says where a log goes and which part of it.
type LogParameters struct {
	RemoteLocation  string    `json:"remoteLocation" ocpp:"required,maxLength=512"`
	OldestTimestamp *DateTime `json:"oldestTimestamp,omitempty"`
	LatestTimestamp *DateTime `json:"latestTimestamp,omitempty"`
}

// GetLogResponse answers a GetLogRequest.
type GetLogResponse struct {
	Status   LogStatus `json:"status" ocpp:"required"`
	Filename string    `json:"filename,omitempty" ocpp:"maxLength=255"`
}

// InstallCertificateRequest installs a root certificate (PEM).
type InstallCertificateRequest struct {
	CertificateType CertificateUse `json:"certificateType" ocpp:"required"`
	Certificate     string         `json:"certificate" ocpp:"required,maxLength=5500"`
}

// InstallCertificateResponse answers an InstallCertificateRequest.
type InstallCertificateResponse struct {
	Status InstallCertificateStatus `json:"status" ocpp:"required"`
}

// LogStatusNotificationRequest reports the progress of a GetLog upload.
type LogStatusNotificationRequest struct {
	Status    UploadLogStatus `json:"status" ocpp:"required"`
	RequestID *int            `json:"requestId,omitempty"`
}

// LogStatusNotificationResponse answers a LogStatusNotificationRequest.
type LogStatusNotificationResponse struct{}

// SecurityEventNotificationRequest reports a security event; Type is one of the events
// listed by the security extension, or a vendor's own.
type SecurityEventNotificationRequest struct {
	Type      string   `json:"type" ocpp:"required,maxLength=50"`
	Timestamp DateTime `json:"timestamp" ocpp:"required"`
	TechInfo  string   `json:"techInfo,omitempty" ocpp:"maxLength=255"`
}

// SecurityEventNotificationResponse answers a SecurityEventNotificationRequest.
type SecurityEventNotificationResponse struct{}

// SignCertificateRequest asks the central system to have a CSR (PEM) signed.
type SignCertificateRequest struct {
	CSR string `json:"csr" ocpp:"required,maxLength=5500"`
}

// SignCertificateResponse answers a SignCertificateRequest; the certificate follows in a
// CertificateSignedRequest.
type SignCertificateResponse struct {
	Status GenericStatus `json:"status" ocpp:"required"`
}

// SignedFirmwareStatusNotificationRequest reports the progress of a SignedUpdateFirmware.
type SignedFirmwareStatusNotificationRequest struct {
	Status    SignedFirmwareStatus `json:"status" ocpp:"required"`
	RequestID *int                 `json:"requestId,omitempty"`
}

// SignedFirmwareStatusNotificationResponse answers a SignedFirmwareStatusNotificationRequest.
type SignedFirmwareStatusNotificationResponse struct{}

// SignedUpdateFirmwareRequest asks the charge point to fetch, verify and install firmware.
type SignedUpdateFirmwareRequest struct {
	Retries       *int     `json:"retries,omitempty"`
	RetryInterval *int     `json:"retryInterval,omitempty"`
	RequestID     int      `json:"requestId" ocpp:"required"`
	Firmware      Firmware `json:"firmware" ocpp:"required"`
}

// Firmware is where signed firmware is, when to fetch and install it, and its signature.
type Firmware struct {
	Location           string    `json:"location" ocpp:"required,maxLength=512"`
	RetrieveDateTime   DateTime  `json:"retrieveDateTime" ocpp:"required"`
	InstallDateTime    *DateTime `json:"installDateTime,omitempty"`
	SigningCertificate string    `json:"signingCertificate" ocpp:"required,maxLength=5500"`
	Signature          string    `json:"signature" ocpp:"required,maxLength=800"`
}

// SignedUpdateFirmwareResponse answers a SignedUpdateFirmwareRequest.
type SignedUpdateFirmwareResponse struct {
	Status UpdateFirmwareStatus `json:"status" ocpp:"required"`
}

// CertificateSignedStatus answers a CertificateSigned.
type CertificateSignedStatus string

// The values of CertificateSignedStatus.
const (
	CertificateSignedStatusAccepted CertificateSignedStatus = "Accepted"
	CertificateSignedStatusRejected CertificateSignedStatus = "Rejected"
)

// Values lists the values the schemas allow.
func (CertificateSignedStatus) Values() []string {
	return valuesOf(CertificateSignedStatusAccepted, CertificateSignedStatusRejected)
}

// CertificateUse is the kind of root certificate installed or asked for.
type CertificateUse string

// The values of CertificateUse.
const (
	CertificateUseCentralSystemRootCertificate CertificateUse = "CentralSystemRootCertificate"
	CertificateUseManufacturerRootCertificate  CertificateUse = "ManufacturerRootCertificate"
)

// Values lists the values the schemas allow.
func (CertificateUse) Values() []string {
	return valuesOf(
		CertificateUseCentralSystemRootCertificate, CertificateUseManufacturerRootCertificate,
	)
}

// DeleteCertificateStatus answers a DeleteCertificate.
type DeleteCertificateStatus string

// The values of DeleteCertificateStatus.
const (
	DeleteCertificateStatusAccepted DeleteCertificateStatus = "Accepted"
	DeleteCertificateStatusFailed   DeleteCertificateStatus = "Failed"
	DeleteCertificateStatusNotFound DeleteCertificateStatus = "NotFound"
)

// Values lists the values the schemas allow.
func (DeleteCertificateStatus) Values() []string {
	return valuesOf(
		DeleteCertificateStatusAccepted, DeleteCertificateStatusFailed,
		DeleteCertificateStatusNotFound,
	)
}

// ExtendedMessageTrigger is the message an ExtendedTriggerMessage asks for (MessageTriggerEnumType
// in the security extension; the name MessageTrigger is the core one's).
type ExtendedMessageTrigger string

// The values of ExtendedMessageTrigger.
const (
	ExtendedMessageTriggerBootNotification           ExtendedMessageTrigger = "BootNotification"
	ExtendedMessageTriggerLogStatusNotification      ExtendedMessageTrigger = "LogStatusNotification"
	ExtendedMessageTriggerFirmwareStatusNotification ExtendedMessageTrigger = "FirmwareStatusNotification"
	ExtendedMessageTriggerHeartbeat                  ExtendedMessageTrigger = "Heartbeat"
	ExtendedMessageTriggerMeterValues                ExtendedMessageTrigger = "MeterValues"
	ExtendedMessageTriggerSignChargePointCertificate ExtendedMessageTrigger = "SignChargePointCertificate"
	ExtendedMessageTriggerStatusNotification         ExtendedMessageTrigger = "StatusNotification"
)

// Values lists the values the schemas allow.
func (ExtendedMessageTrigger) Values() []string {
	return valuesOf(
		ExtendedMessageTriggerBootNotification, ExtendedMessageTriggerLogStatusNotification,
		ExtendedMessageTriggerFirmwareStatusNotification, ExtendedMessageTriggerHeartbeat,
		ExtendedMessageTriggerMeterValues, ExtendedMessageTriggerSignChargePointCertificate,
		ExtendedMessageTriggerStatusNotification,
	)
}

// GenericStatus answers a SignCertificate.
type GenericStatus string

// The values of GenericStatus.
const (
	GenericStatusAccepted GenericStatus = "Accepted"
	GenericStatusRejected GenericStatus = "Rejected"
)

// Values lists the values the schemas allow.
func (GenericStatus) Values() []string {
	return valuesOf(GenericStatusAccepted, GenericStatusRejected)
}

// GetInstalledCertificateStatus answers a GetInstalledCertificateIds.
type GetInstalledCertificateStatus string

// The values of GetInstalledCertificateStatus.
const (
	GetInstalledCertificateStatusAccepted GetInstalledCertificateStatus = "Accepted"
	GetInstalledCertificateStatusNotFound GetInstalledCertificateStatus = "NotFound"
)

// Values lists the values the schemas allow.
func (GetInstalledCertificateStatus) Values() []string {
	return valuesOf(GetInstalledCertificateStatusAccepted, GetInstalledCertificateStatusNotFound)
}

// HashAlgorithm is the hash used in a CertificateHashData.
type HashAlgorithm string

// The values of HashAlgorithm.
const (
	HashAlgorithmSHA256 HashAlgorithm = "SHA256"
	HashAlgorithmSHA384 HashAlgorithm = "SHA384"
	HashAlgorithmSHA512 HashAlgorithm = "SHA512"
)

// Values lists the values the schemas allow.
func (HashAlgorithm) Values() []string {
	return valuesOf(HashAlgorithmSHA256, HashAlgorithmSHA384, HashAlgorithmSHA512)
}

// InstallCertificateStatus answers an InstallCertificate.
type InstallCertificateStatus string

// The values of InstallCertificateStatus.
const (
	InstallCertificateStatusAccepted InstallCertificateStatus = "Accepted"
	InstallCertificateStatusFailed   InstallCertificateStatus = "Failed"
	InstallCertificateStatusRejected InstallCertificateStatus = "Rejected"
)

// Values lists the values the schemas allow.
func (InstallCertificateStatus) Values() []string {
	return valuesOf(
		InstallCertificateStatusAccepted, InstallCertificateStatusFailed,
		InstallCertificateStatusRejected,
	)
}

// LogStatus answers a GetLog.
type LogStatus string

// The values of LogStatus.
const (
	LogStatusAccepted         LogStatus = "Accepted"
	LogStatusRejected         LogStatus = "Rejected"
	LogStatusAcceptedCanceled LogStatus = "AcceptedCanceled"
)

// Values lists the values the schemas allow.
func (LogStatus) Values() []string {
	return valuesOf(LogStatusAccepted, LogStatusRejected, LogStatusAcceptedCanceled)
}

// LogType is the log a GetLog asks for (LogEnumType in the security extension).
type LogType string

// The values of LogType.
const (
	LogTypeDiagnosticsLog LogType = "DiagnosticsLog"
	LogTypeSecurityLog    LogType = "SecurityLog"
)

// Values lists the values the schemas allow.
func (LogType) Values() []string {
	return valuesOf(LogTypeDiagnosticsLog, LogTypeSecurityLog)
}

// SignedFirmwareStatus is the progress of a firmware update started by SignedUpdateFirmware
// (FirmwareStatusEnumType in the security extension; the name FirmwareStatus is the core one's).
type SignedFirmwareStatus string

// The values of SignedFirmwareStatus.
const (
	SignedFirmwareStatusDownloaded                SignedFirmwareStatus = "Downloaded"
	SignedFirmwareStatusDownloadFailed            SignedFirmwareStatus = "DownloadFailed"
	SignedFirmwareStatusDownloading               SignedFirmwareStatus = "Downloading"
	SignedFirmwareStatusDownloadScheduled         SignedFirmwareStatus = "DownloadScheduled"
	SignedFirmwareStatusDownloadPaused            SignedFirmwareStatus = "DownloadPaused"
	SignedFirmwareStatusIdle                      SignedFirmwareStatus = "Idle"
	SignedFirmwareStatusInstallationFailed        SignedFirmwareStatus = "InstallationFailed"
	SignedFirmwareStatusInstalling                SignedFirmwareStatus = "Installing"
	SignedFirmwareStatusInstalled                 SignedFirmwareStatus = "Installed"
	SignedFirmwareStatusInstallRebooting          SignedFirmwareStatus = "InstallRebooting"
	SignedFirmwareStatusInstallScheduled          SignedFirmwareStatus = "InstallScheduled"
	SignedFirmwareStatusInstallVerificationFailed SignedFirmwareStatus = "InstallVerificationFailed"
	SignedFirmwareStatusInvalidSignature          SignedFirmwareStatus = "InvalidSignature"
	SignedFirmwareStatusSignatureVerified         SignedFirmwareStatus = "SignatureVerified"
)

// Values lists the values the schemas allow.
func (SignedFirmwareStatus) Values() []string {
	return valuesOf(
		SignedFirmwareStatusDownloaded, SignedFirmwareStatusDownloadFailed,
		SignedFirmwareStatusDownloading, SignedFirmwareStatusDownloadScheduled,
		SignedFirmwareStatusDownloadPaused, SignedFirmwareStatusIdle,
		SignedFirmwareStatusInstallationFailed, SignedFirmwareStatusInstalling,
		SignedFirmwareStatusInstalled, SignedFirmwareStatusInstallRebooting,
		SignedFirmwareStatusInstallScheduled, SignedFirmwareStatusInstallVerificationFailed,
		SignedFirmwareStatusInvalidSignature, SignedFirmwareStatusSignatureVerified,
	)
}

// UpdateFirmwareStatus answers a SignedUpdateFirmware.
type UpdateFirmwareStatus string

// The values of UpdateFirmwareStatus.
const (
	UpdateFirmwareStatusAccepted           UpdateFirmwareStatus = "Accepted"
	UpdateFirmwareStatusRejected           UpdateFirmwareStatus = "Rejected"
	UpdateFirmwareStatusAcceptedCanceled   UpdateFirmwareStatus = "AcceptedCanceled"
	UpdateFirmwareStatusInvalidCertificate UpdateFirmwareStatus = "InvalidCertificate"
	UpdateFirmwareStatusRevokedCertificate UpdateFirmwareStatus = "RevokedCertificate"
)

// Values lists the values the schemas allow.
func (UpdateFirmwareStatus) Values() []string {
	return valuesOf(
		UpdateFirmwareStatusAccepted, UpdateFirmwareStatusRejected,
		UpdateFirmwareStatusAcceptedCanceled, UpdateFirmwareStatusInvalidCertificate,
		UpdateFirmwareStatusRevokedCertificate,
	)
}

// UploadLogStatus is the progress of a log upload started by GetLog.
type UploadLogStatus string

// The values of UploadLogStatus.
const (
	UploadLogStatusBadMessage            UploadLogStatus = "BadMessage"
	UploadLogStatusIdle                  UploadLogStatus = "Idle"
	UploadLogStatusNotSupportedOperation UploadLogStatus = "NotSupportedOperation"
	UploadLogStatusPermissionDenied      UploadLogStatus = "PermissionDenied"
	UploadLogStatusUploaded              UploadLogStatus = "Uploaded"
	UploadLogStatusUploadFailure         UploadLogStatus = "UploadFailure"
	UploadLogStatusUploading             UploadLogStatus = "Uploading"
)

// Values lists the values the schemas allow.
func (UploadLogStatus) Values() []string {
	return valuesOf(
		UploadLogStatusBadMessage, UploadLogStatusIdle, UploadLogStatusNotSupportedOperation,
		UploadLogStatusPermissionDenied, UploadLogStatusUploaded, UploadLogStatusUploadFailure,
		UploadLogStatusUploading,
	)
}
