// Package operation is what the central system asks of its stations: the remote operations of
// OCPP 1.6 (Reset, RemoteStartTransaction, GetConfiguration, ReserveNow, SetChargingProfile,
// UpdateFirmware, ...), each recorded with who asked, when, what was sent and what became of
// it, and the records the stations' answers change: their last known configuration, their
// reservations, their charging profiles, their local authorization list, and their firmware
// and diagnostics requests, which then follow the stations' status notifications.
//
// A Service validates a request with package ocpp, records it, sends it through a Sender and
// records the outcome; a Store keeps the records. It knows nothing of websockets, HTTP or SQL:
// the Sender's errors come classified with this package's sentinel errors, and the rules that
// decide what an answer changes (which profile replaces which, when a reservation expires,
// whom it is for) are pure functions in rules.go.
package operation

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
)

// Errors of Execute a caller must tell apart. They come wrapped; test with errors.Is. Besides
// these: station.ErrNotFound for a station the account does not have, an *ocpp.Error (wrapped)
// for a payload that does not validate, whose description starts with the offending field,
// and a *StationError for a CALLERROR.
var (
	// ErrUnknownAction: OCPP 1.6 has no action of that name (names are case-sensitive).
	ErrUnknownAction = errors.New("unknown OCPP action")
	// ErrNotCentralSystemAction: the action exists, but a central system does not send it
	// (Heartbeat, StartTransaction, ...).
	ErrNotCentralSystemAction = errors.New("action is sent by a charge point, not by a central system")
	// ErrNotConnected: the station has no connection to the central system, or lost it before
	// it answered.
	ErrNotConnected = errors.New("station is not connected")
	// ErrTimeout: the station did not answer in time.
	ErrTimeout = errors.New("station did not answer in time")
	// ErrInvalidResponse: the station answered with something that is not a valid response.
	ErrInvalidResponse = errors.New("station's answer is not a valid response")
)

// StationError is a station's CALLERROR answer.
type StationError struct {
	Code        string // an OCPP-J error code, e.g. NotSupported
	Description string
}

func (e *StationError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("station answered %s", e.Code)
	}
	return fmt.Sprintf("station answered %s: %s", e.Code, e.Description)
}

// Status is where an operation stands.
type Status string

// The statuses of an operation.
const (
	// Pending: recorded and sent (or about to be), not answered yet. An operation stays
	// Pending for good if the central system stopped while waiting.
	Pending Status = "Pending"
	// Answered: the station answered with a response, whatever it says (Accepted, Rejected...).
	Answered Status = "Answered"
	// Failed: there is no response; Failure says why.
	Failed Status = "Failed"
)

// Failure is why an operation has no response.
type Failure string

// The failures of an operation.
const (
	FailureNotConnected    Failure = "NotConnected"
	FailureTimeout         Failure = "Timeout"
	FailureCallError       Failure = "CallError" // ErrorCode and ErrorDescription are the station's
	FailureInvalidResponse Failure = "InvalidResponse"
	FailureError           Failure = "Error" // anything else, described in ErrorDescription
)

// Operation is one request sent to a station, with its outcome.
type Operation struct {
	ID            int64
	AccountID     int64
	StationID     int64
	ChargePointID string
	Action        string
	// Actor is who asked, as the caller names them: "token:3", "operator:7", "system".
	Actor       string
	Request     json.RawMessage // the payload sent
	RequestedAt time.Time
	Status      Status
	// Response is the station's response payload when Answered.
	Response json.RawMessage
	// Failure, ErrorCode and ErrorDescription say why a Failed operation has no response.
	Failure          Failure
	ErrorCode        string
	ErrorDescription string
	FinishedAt       time.Time // zero while Pending
}

// OperationFilter selects operations of an account; zero fields do not filter.
type OperationFilter struct {
	ChargePointID string
	Action        string
	Limit         int // 0: all
}

// ConfigKey is one configuration key of a station as the central system last knew it.
type ConfigKey struct {
	Key      string
	Value    string
	Readonly bool
	// Unknown: the station answered a GetConfiguration for this key with unknownKey.
	Unknown bool
	// RebootRequired: the station accepted a new value that takes effect after a reboot.
	RebootRequired bool
	UpdatedAt      time.Time
}

// ReservationState is where a reservation stands.
type ReservationState string

// The states of a reservation. Reserved, Used, Cancelled and Expired are those of an accepted
// reservation; the others are the station's refusal of a ReserveNow, kept as they were.
const (
	Reserved  ReservationState = "Reserved"
	Used      ReservationState = "Used"      // by the StartTransaction with its reservationId
	Cancelled ReservationState = "Cancelled" // by a CancelReservation the station accepted
	Expired   ReservationState = "Expired"   // its expiry date passed while it was Reserved
	// Replaced: the station accepted a newer ReserveNow with the same reservationId, which
	// replaces this one (OCPP 1.6, 5.13).
	Replaced    ReservationState = "Replaced"
	Faulted     ReservationState = "Faulted"
	Occupied    ReservationState = "Occupied"
	Rejected    ReservationState = "Rejected"
	Unavailable ReservationState = "Unavailable"
)

// Reservation is a ReserveNow and what became of it.
type Reservation struct {
	ID            int64
	AccountID     int64
	StationID     int64
	ChargePointID string
	ReservationID int // the OCPP reservationId
	ConnectorID   int // 0: any connector of the station
	IdTag         string
	ParentIdTag   string
	ExpiresAt     time.Time
	// State is the state at the time of the read: a stored Reserved past its expiry reads
	// as Expired (see StateAt).
	State         ReservationState
	TransactionID *int64 // the transaction that used it
	OperationID   int64  // the ReserveNow
	CreatedAt     time.Time
	UpdatedAt     time.Time // when State last changed
}

// ReservationFilter selects reservations of an account; zero fields do not filter.
type ReservationFilter struct {
	ChargePointID string
	State         ReservationState
	// At is the time Expired is judged at, required when State is Reserved or Expired.
	At    time.Time
	Limit int // 0: all
}

// ChargingProfile is a charging profile a station accepted, from a SetChargingProfile or as
// the TxProfile of a RemoteStartTransaction.
type ChargingProfile struct {
	ID            int64
	StationID     int64
	ChargePointID string
	// ConnectorID is the connector it applies to; 0 the whole station. The TxProfile of a
	// RemoteStartTransaction that named no connector is kept on 0 until the station starts
	// the transaction, then on the connector the station chose (Service.TransactionStarted).
	ConnectorID int
	Profile     ocpp.ChargingProfile
	OperationID int64
	SetAt       time.Time
}

// ProfileFilter is the selection of a ClearChargingProfile.
type ProfileFilter struct {
	ID          *int // the chargingProfileId; the other fields are then ignored
	ConnectorID *int
	Purpose     ocpp.ChargingProfilePurposeType // "" any
	StackLevel  *int
}

// LocalList is a station's local authorization list as the central system knows it.
type LocalList struct {
	StationID     int64
	ChargePointID string
	// Version is the version the station last reported (GetLocalListVersion) or accepted
	// (SendLocalList); nil if never known. -1 means the station has no local list.
	Version *int
	// EntriesVersion is the version Entries make up: the last SendLocalList accepted. When
	// it differs from Version, the station's list has changed some other way.
	EntriesVersion *int
	Entries        []LocalListEntry // by idTag
	UpdatedAt      time.Time
}

// LocalListEntry is one idTag of a local list.
type LocalListEntry struct {
	IdTag       string
	Status      string
	ParentIdTag string
	ExpiryDate  time.Time // zero: none
}

// FirmwareRequest is an UpdateFirmware the station answered, following its
// FirmwareStatusNotifications.
type FirmwareRequest struct {
	ID            int64
	StationID     int64
	ChargePointID string
	OperationID   int64
	Location      string
	RetrieveDate  time.Time
	Retries       *int
	RetryInterval *int
	// Status is "Requested" until the first notification, then the last one's status.
	Status string
	// Open: the update has not ended (see FirmwareDone); notifications go to the latest
	// open request of the station.
	Open        bool
	RequestedAt time.Time
	StatusAt    time.Time
}

// DiagnosticsRequest is a GetDiagnostics the station answered, following its
// DiagnosticsStatusNotifications.
type DiagnosticsRequest struct {
	ID            int64
	StationID     int64
	ChargePointID string
	OperationID   int64
	Location      string
	StartTime     time.Time // zero: none given
	StopTime      time.Time // zero: none given
	// FileName is the file the station said it will upload; empty when it has no
	// diagnostics, and the request is then closed with status NoDiagnostics.
	FileName    string
	Status      string
	Open        bool
	RequestedAt time.Time
	StatusAt    time.Time
}

// The statuses of firmware and diagnostics requests besides those of the notifications.
const (
	StatusRequested     = "Requested"
	StatusNoDiagnostics = "NoDiagnostics"
)

// Effects are the records an answered operation changes; the Store applies them together
// with the operation's outcome, in one transaction. At most one field is set.
type Effects struct {
	// Configuration is the answer to a GetConfiguration.
	Configuration *ConfigReport
	// ConfigChange is a ChangeConfiguration the station accepted: Key, Value, RebootRequired.
	ConfigChange *ConfigKey
	// Reservation is a ReserveNow, accepted (State Reserved) or not.
	Reservation *Reservation
	// CancelReservation is the reservationId of a CancelReservation the station accepted.
	CancelReservation *int
	// Profile is a charging profile the station accepted; it replaces those it Replaces.
	Profile *ChargingProfile
	// ClearProfiles removes the station's profiles that match it.
	ClearProfiles *ProfileFilter
	// LocalListVersion is the answer to a GetLocalListVersion.
	LocalListVersion *int
	// LocalList is a SendLocalList the station accepted.
	LocalList   *LocalListUpdate
	Firmware    *FirmwareRequest
	Diagnostics *DiagnosticsRequest
}

// ConfigReport is the answer to a GetConfiguration. A Full report (all keys were asked for)
// replaces the station's configuration; a partial one updates the keys it names.
type ConfigReport struct {
	Full    bool
	Keys    []ConfigKey
	Unknown []string
}

// LocalListUpdate is a SendLocalList the station accepted. A Full update replaces the
// entries; a differential one adds or replaces those with an IdTagInfo and removes those
// without.
type LocalListUpdate struct {
	Version int
	Full    bool
	Entries []ocpp.AuthorizationData
}
