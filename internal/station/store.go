package station

import (
	"context"
	"time"

	"github.com/chargebook/chargebook/internal/account"
)

// StartTx is a StartTransaction as the store records it.
type StartTx struct {
	AccountID     int64
	StationID     int64
	ConnectorID   int
	IdTag         string
	MeterStartWh  int64
	StartedAt     time.Time
	ReservationID *int
	Source        Source
}

// StopTx is a StopTransaction as the store records it.
type StopTx struct {
	AccountID     int64
	StationID     int64
	TransactionID int64
	IdTag         string
	MeterStopWh   int64
	StoppedAt     time.Time
	Reason        string
	// Data is the transactionData, already normalised, with TransactionID left 0: the store
	// sets it to the transaction the stop resolves to.
	Data   []MeterValue
	Source Source
}

// TransactionFilter selects transactions of an account; zero fields do not filter.
type TransactionFilter struct {
	StationID int64
	IdTag     string
	// Open: nil for all, true for open only, false for stopped only.
	Open *bool
	// From and To bound StartedAt: From <= StartedAt < To.
	From, To time.Time
	Limit    int // 0: no limit
}

// MeterValueFilter selects meter values of a station or a transaction.
type MeterValueFilter struct {
	StationID     int64
	TransactionID int64
	From, To      time.Time // From <= Timestamp < To
	Limit         int
}

// Store keeps the central system's records. Every write returns only after it is durably
// committed: the transport acknowledges a message only then.
//
// Reads are scoped to an account where the caller comes from outside (an operator, an API
// token); the OCPP transport has already resolved its station and passes its ids.
type Store interface {
	// RegisterStation returns the station of the account with that charge point id,
	// creating it with reg and validation if it does not exist yet.
	RegisterStation(ctx context.Context, accountID int64, chargePointID string, reg Registration, validation account.Validation, at time.Time) (st Station, created bool, err error)
	StationByChargePointID(ctx context.Context, accountID int64, chargePointID string) (Station, error)
	Stations(ctx context.Context, accountID int64) ([]Station, error)
	SetRegistration(ctx context.Context, accountID, stationID int64, reg Registration) error
	SetValidation(ctx context.Context, accountID, stationID int64, v account.Validation) error

	// RecordBoot stores the boot information and the boot time, and logs the boot as an event.
	RecordBoot(ctx context.Context, stationID int64, boot BootInfo, src Source) error
	// RecordConnection marks the station connected or not and logs it as an event.
	RecordConnection(ctx context.Context, stationID int64, connected bool, at time.Time, note string) error
	// TouchStation sets the station's last-seen time.
	TouchStation(ctx context.Context, stationID int64, at time.Time) error
	// RecordStatus stores a StatusNotification: the connector's current status, and the
	// notification in the connector's history.
	RecordStatus(ctx context.Context, status ConnectorStatus, src Source) error
	Connectors(ctx context.Context, stationID int64) ([]ConnectorStatus, error)
	StatusHistory(ctx context.Context, stationID int64, limit int) ([]ConnectorStatus, error)
	RecordEvent(ctx context.Context, e Event) error
	// Events returns the station's newest events first.
	Events(ctx context.Context, stationID int64, limit int) ([]Event, error)

	// SeeIdTag returns the account's record of the tag, creating it as an unknown tag if
	// the account never saw it, and sets its last-seen time.
	SeeIdTag(ctx context.Context, accountID int64, idTag string, at time.Time) (IdTag, error)
	// SaveIdTag creates or replaces a tag the operator registers.
	SaveIdTag(ctx context.Context, tag IdTag) error
	IdTags(ctx context.Context, accountID int64) ([]IdTag, error)

	// StartTransaction records a start and returns its transaction. A start identical to
	// one already recorded (same station, connector, idTag, meterStart and timestamp: a
	// charger retrying after a lost reply) returns that transaction with retried true.
	StartTransaction(ctx context.Context, start StartTx) (tx Transaction, retried bool, err error)
	// StopTransaction records a stop and its transactionData. A stop for a transaction the
	// station never started here creates one flagged FlagUnknownStart. The energy is settled
	// with SettleEnergy.
	StopTransaction(ctx context.Context, stop StopTx) (Transaction, error)
	// CloseOpenTransactions closes the station's transactions that are open and whose
	// start was received before the given time (received, not the station's timestamp: a
	// charger's clock may run ahead), with reason and FlagClosedOnBoot, settling their energy
	// on the last energy register reading they had.
	CloseOpenTransactions(ctx context.Context, stationID int64, before time.Time, reason string, src Source) ([]Transaction, error)
	// AddMeterValues stores sampled values.
	AddMeterValues(ctx context.Context, values []MeterValue) error

	Transaction(ctx context.Context, accountID, id int64) (Transaction, error)
	// Transactions returns the account's transactions in the order of their own start
	// timestamps, newest first, whatever order they arrived in.
	Transactions(ctx context.Context, accountID int64, f TransactionFilter) ([]Transaction, error)
	// TransactionEvents returns the changes to a transaction, oldest first.
	TransactionEvents(ctx context.Context, accountID, transactionID int64) ([]TransactionEvent, error)
	// MeterValues returns sampled values in timestamp order.
	MeterValues(ctx context.Context, accountID int64, f MeterValueFilter) ([]MeterValue, error)
}

// SettleEnergy computes the energy of a stopped transaction. lastRegisterWh is the highest
// Energy.Active.Import.Register reading of the transaction, if it had any.
//
// A meterStop below meterStart never yields negative energy: it is flagged as a register
// reset, and the energy is what the readings prove was charged before it, or unknown.
func SettleEnergy(meterStartWh, meterStopWh int64, lastRegisterWh *int64) (energyWh *int64, flags []Flag) {
	if meterStopWh >= meterStartWh {
		e := meterStopWh - meterStartWh
		return &e, nil
	}
	if lastRegisterWh != nil && *lastRegisterWh >= meterStartWh {
		e := *lastRegisterWh - meterStartWh
		return &e, []Flag{FlagRegisterReset}
	}
	return nil, []Flag{FlagRegisterReset}
}
