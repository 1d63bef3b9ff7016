package operation

import (
	"context"
	"time"

	"github.com/chargebook/chargebook/internal/station"
)

// Sender delivers a request to a connected station and returns its answer. req is a pointer
// to a request type of package ocpp, already valid; resp is a pointer to the response type of
// the same action. Errors: ErrNotConnected, ErrTimeout, a *StationError for a CALLERROR,
// ErrInvalidResponse, each possibly wrapped; anything else is recorded as FailureError.
type Sender interface {
	Send(ctx context.Context, accountID int64, chargePointID string, req any) (resp any, err error)
}

// Store keeps operations and the records their answers change. Every write returns only once
// it is committed. Every read is scoped to an account: a station, operation or reservation of
// another account is station.ErrNotFound, like one that does not exist.
type Store interface {
	// StationByChargePointID returns the account's station, or station.ErrNotFound.
	StationByChargePointID(ctx context.Context, accountID int64, chargePointID string) (station.Station, error)

	// CreateOperation records a requested operation and returns it with its ID.
	CreateOperation(ctx context.Context, op Operation) (Operation, error)
	// FinishOperation records the outcome of the operation op.ID (Status, Response, Failure,
	// ErrorCode, ErrorDescription, FinishedAt) and applies fx, in one transaction:
	//   - Configuration: a Full report replaces the station's keys, a partial one updates the
	//     keys it reports; unknown keys are kept as Unknown, without value.
	//   - ConfigChange: the key's new value and RebootRequired; Readonly stays as it was.
	//   - Reservation: a new record; an accepted one (Reserved) makes the station's Reserved
	//     records with the same reservationId Replaced.
	//   - CancelReservation: the station's Reserved records with that reservationId become
	//     Cancelled.
	//   - Profile: stored, after removing the station's profiles it Replaces.
	//   - ClearProfiles: the station's profiles the filter Matches are removed.
	//   - LocalListVersion: the station's list version.
	//   - LocalList: the version and entries (see LocalListUpdate); both versions are set.
	//   - Firmware, Diagnostics: a new request record.
	FinishOperation(ctx context.Context, op Operation, fx Effects) error
	Operation(ctx context.Context, accountID, id int64) (Operation, error)
	// Operations returns the account's operations, the newest first.
	Operations(ctx context.Context, accountID int64, f OperationFilter) ([]Operation, error)

	// Configuration returns the station's last known configuration by key.
	Configuration(ctx context.Context, accountID, stationID int64) ([]ConfigKey, error)

	// Reservations returns the account's reservations, the newest first, with their stored
	// state; a filter on Reserved or Expired judges expiry at f.At like StateAt.
	Reservations(ctx context.Context, accountID int64, f ReservationFilter) ([]Reservation, error)
	// ActiveReservation returns the station's newest reservation in state Reserved with that
	// reservationId, expired or not, or station.ErrNotFound.
	ActiveReservation(ctx context.Context, accountID, stationID int64, reservationID int) (Reservation, error)
	// UseReservation makes the reservation (by ID) Used by the transaction, if it is still
	// Reserved; otherwise it changes nothing and returns station.ErrNotFound.
	UseReservation(ctx context.Context, accountID, id, transactionID int64, at time.Time) error

	// MoveRemoteStartProfile moves the profile kept from the station's latest accepted
	// RemoteStartTransaction for idTag (AcceptedRemoteStart), if it still AwaitsStart, to
	// connectorID, removing the profiles there it Replaces. moved is false, and nothing
	// changes, when there is no such profile.
	MoveRemoteStartProfile(ctx context.Context, accountID, stationID int64, idTag string, connectorID int) (moved bool, err error)
	// ChargingProfiles returns the station's profiles by connector, purpose and stack level.
	ChargingProfiles(ctx context.Context, accountID, stationID int64) ([]ChargingProfile, error)
	// LocalList returns what is known of the station's local list.
	LocalList(ctx context.Context, accountID, stationID int64) (LocalList, error)

	// FirmwareRequests and DiagnosticsRequests return the station's requests, newest first.
	FirmwareRequests(ctx context.Context, accountID, stationID int64) ([]FirmwareRequest, error)
	DiagnosticsRequests(ctx context.Context, accountID, stationID int64) ([]DiagnosticsRequest, error)
	// FollowFirmware sets status, open and the status time of the station's newest open
	// firmware request; found is false, and nothing changes, when it has none.
	FollowFirmware(ctx context.Context, accountID, stationID int64, status string, open bool, at time.Time) (found bool, err error)
	// FollowDiagnostics does the same for diagnostics requests.
	FollowDiagnostics(ctx context.Context, accountID, stationID int64, status string, open bool, at time.Time) (found bool, err error)
}
