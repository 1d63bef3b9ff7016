// Package station is the central system's record of its charge points: their registration,
// boot information, connector status, events, id tags seen, transactions and meter values,
// and the rules that turn what real chargers send into those records (retried starts, late
// transactions, unknown stops, register resets, reboots with open transactions).
//
// It speaks OCPP through the typed messages of package ocpp but knows nothing of websockets
// or SQL: the transport calls a Service, and a Store keeps the records.
package station

import (
	"errors"
	"time"

	"github.com/chargebook/chargebook/internal/account"
)

// ErrNotFound is returned by a Store for a record that does not exist in the account.
var ErrNotFound = errors.New("not found")

// Registration is whether a station may talk to the central system.
type Registration string

// The registration states; they are the BootNotification statuses the station gets.
const (
	Accepted Registration = "Accepted"
	Pending  Registration = "Pending"
	Rejected Registration = "Rejected"
)

// Station is a charge point registered in an account.
type Station struct {
	ID            int64
	AccountID     int64
	ChargePointID string
	Registration  Registration
	Validation    account.Validation
	Boot          BootInfo
	LastBootAt    time.Time // zero: never booted
	LastSeenAt    time.Time // the last message of any kind
	Connected     bool
	// ConnectionChangedAt is when Connected last changed.
	ConnectionChangedAt time.Time
	CreatedAt           time.Time
}

// BootInfo is what a station says of itself in BootNotification.
type BootInfo struct {
	Vendor            string
	Model             string
	ChargePointSerial string
	ChargeBoxSerial   string
	FirmwareVersion   string
	ICCID             string
	IMSI              string
	MeterType         string
	MeterSerial       string
}

// ConnectorStatus is the last StatusNotification of one connector (0 is the whole station).
type ConnectorStatus struct {
	StationID       int64
	ConnectorID     int
	Status          string
	ErrorCode       string
	Info            string
	VendorID        string
	VendorErrorCode string
	// Timestamp is the station's time of the status; zero when it sent none.
	Timestamp  time.Time
	ReceivedAt time.Time
}

// Source is the message a record came from, kept so that every change can be traced back
// to what the station actually sent.
type Source struct {
	Action     string
	MessageID  string
	Payload    []byte // the CALL's payload as received
	ReceivedAt time.Time
}

// Event is something a station did or that happened to it, kept in its log: boots,
// connections, data transfers, firmware and diagnostics progress, validation warnings.
type Event struct {
	ID        int64
	StationID int64
	Kind      string // the OCPP action, or "Connected", "Disconnected", "ValidationWarning", ...
	Source    Source
	Note      string
}

// IdTag is an RFID card or other identifier as the account knows it.
type IdTag struct {
	AccountID   int64
	IdTag       string
	ParentIdTag string
	ExpiresAt   time.Time // zero: never
	Blocked     bool
	// Known is false for a tag the account never registered and only saw at a station.
	Known       bool
	FirstSeenAt time.Time
	LastSeenAt  time.Time
}

// Flag marks something unusual about a transaction that an operator may want to review.
type Flag string

// The transaction flags.
const (
	// FlagUnknownStart: a StopTransaction named a transaction the central system never saw
	// start; the record was created from the stop alone.
	FlagUnknownStart Flag = "unknown_start"
	// FlagRegisterReset: meterStop was lower than meterStart.
	FlagRegisterReset Flag = "register_reset"
	// FlagClosedOnBoot: the station booted while the transaction was open and the central
	// system closed it.
	FlagClosedOnBoot Flag = "closed_on_boot"
	// FlagStoppedAfterClose: a StopTransaction arrived for a transaction already closed on
	// boot, and replaced the central system's estimate.
	FlagStoppedAfterClose Flag = "stopped_after_close"
)

// Transaction is a charging session as the station reported it. Its ID is the OCPP
// transactionId the station was given.
type Transaction struct {
	ID            int64
	AccountID     int64
	StationID     int64
	ChargePointID string
	ConnectorID   int
	IdTag         string
	ReservationID *int
	MeterStartWh  int64
	StartedAt     time.Time // the station's timestamp
	// The stop; Stopped is false while the transaction is open.
	Stopped     bool
	MeterStopWh int64
	StoppedAt   time.Time
	StopReason  string
	StopIdTag   string
	// EnergyWh is the energy charged; nil when it cannot be told (a register reset without
	// a usable reading). It is never negative.
	EnergyWh *int64
	Flags    []Flag
	// ReportedTransactionID is the id an unmatched StopTransaction named.
	ReportedTransactionID *int64
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// HasFlag reports whether the transaction carries f.
func (t Transaction) HasFlag(f Flag) bool {
	for _, g := range t.Flags {
		if g == f {
			return true
		}
	}
	return false
}

// TransactionEvent is one change to a transaction with the message that caused it.
type TransactionEvent struct {
	ID            int64
	TransactionID int64
	Kind          string // "Started", "StartRetried", "Stopped", "ClosedOnBoot", ...
	Source        Source
	Note          string
}

// MeterValue is one sampled value of a MeterValues message or of a StopTransaction's
// transactionData, with the defaults of the specification filled in.
type MeterValue struct {
	ID            int64
	StationID     int64
	ConnectorID   int
	TransactionID int64 // 0: not part of a transaction
	Timestamp     time.Time
	Measurand     string
	Phase         string
	Context       string
	Location      string
	Format        string
	RawValue      string
	RawUnit       string // the unit as sent; empty when the station sent none
	// Unit is the base unit the value was normalised to (Wh for kWh, W for kW, ...).
	Unit string
	// Milli is the value in thousandths of Unit (mWh, mW, mA, ...), exact for what
	// chargers send; nil when the value is signed data or not a number.
	Milli *int64
}

// Wh returns the value in whole Wh (rounded half away from zero), for energy measurands.
func (m MeterValue) Wh() (int64, bool) {
	if m.Milli == nil || m.Unit != "Wh" {
		return 0, false
	}
	v := *m.Milli
	if v >= 0 {
		return (v + 500) / 1000, true
	}
	return (v - 500) / 1000, true
}
