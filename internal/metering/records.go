package metering

import (
	"context"
	"time"
)

// The records below are what the metering service keeps through its Store: the stored
// 15-minute series of every transaction, the transactions whose series must be recomputed,
// an account's HT/NT calendar and imported external series. *store.Store implements Store.

// Span is what building a transaction's series needs of the transaction.
type Span struct {
	TransactionID int64
	AccountID     int64
	StationID     int64
	ConnectorID   int
	IdTag         string
	StartedAt     time.Time
	MeterStartWh  int64
	Stopped       bool
	StoppedAt     time.Time // zero while open
	MeterStopWh   int64
	// EnergyWh is the transaction's settled energy (station.SettleEnergy); nil while open
	// or when it cannot be told.
	EnergyWh *int64
}

// Pending names a transaction whose series is out of date: meter values, a start or a stop
// for it were stored after its series was last built. Generation grows each time it is
// marked again, so that clearing it after a rebuild does not lose a mark made meanwhile.
type Pending struct {
	StationID     int64
	TransactionID int64
	Generation    int64
}

// StoredInterval is one quarter hour of one transaction's series as stored.
type StoredInterval struct {
	TransactionID int64
	AccountID     int64
	StationID     int64
	ConnectorID   int
	Interval
}

// SeriesFilter selects stored intervals of one account in [From, To) (UTC quarter hours).
// Zero fields do not filter.
type SeriesFilter struct {
	From, To      time.Time
	StationID     int64
	ConnectorID   int // with StationID
	UserID        int64
	IdTag         string
	TransactionID int64
}

// GroupBy says what a series is summed per.
type GroupBy string

// The groupings of a series.
const (
	GroupNone        GroupBy = ""          // one series for everything the filter selects
	GroupStation     GroupBy = "station"   // per station
	GroupConnector   GroupBy = "connector" // per station and connector
	GroupUser        GroupBy = "user"      // per access user (tags without a user: per idTag)
	GroupTransaction GroupBy = "transaction"
)

// SeriesKey names the group a row belongs to; fields that are not grouped on are zero.
type SeriesKey struct {
	StationID     int64
	ChargePointID string
	ConnectorID   int
	UserID        int64
	UserName      string
	IdTag         string
	TransactionID int64
}

// SeriesRow is the energy of one group in one quarter hour, summed over its transactions;
// Quality is the worst of theirs and Sessions how many there were.
type SeriesRow struct {
	Key SeriesKey
	Interval
	Sessions int
}

// ExternalInterval is one quarter hour of an imported series (a building's PV production or
// total consumption meter), in Wh.
type ExternalInterval struct {
	Start    time.Time // UTC quarter hour
	EnergyWh int64
	Quality  Quality
}

// Store keeps series. *store.Store implements it on SQLite and PostgreSQL.
type Store interface {
	// PendingSeries returns up to limit transactions whose series must be rebuilt, oldest
	// mark first. Marks are made by the store itself, in the same database transaction as the
	// meter values, start or stop that caused them, so that a crash loses none.
	PendingSeries(ctx context.Context, limit int) ([]Pending, error)
	// SeriesInput returns the transaction's span and its energy register readings in Wh:
	// those its station sent naming it (MeterValues and StopTransaction transactionData) and
	// those the station sent for the connector without a transaction id within its span. A
	// reading sent only per phase (L1, L2, L3 and no total at that timestamp) is the sum of
	// its phases. station.ErrNotFound when the transaction does not exist (yet).
	SeriesInput(ctx context.Context, p Pending) (Span, []Reading, error)
	// ReplaceSeries replaces the transaction's stored intervals with intervals and clears
	// the mark p if its generation is unchanged, in one database transaction.
	ReplaceSeries(ctx context.Context, p Pending, span Span, intervals []Interval) error
	// ClearPending clears the mark p if its generation is unchanged (a transaction that does
	// not exist).
	ClearPending(ctx context.Context, p Pending) error
	// Series sums the account's stored intervals by group, ordered by key then start.
	// Quarter hours without any stored interval are not returned.
	Series(ctx context.Context, accountID int64, f SeriesFilter, by GroupBy) ([]SeriesRow, error)
	// Calendar returns the account's HT/NT windows; ok is false when it has none stored.
	Calendar(ctx context.Context, accountID int64) (windows []Window, ok bool, err error)
	SetCalendar(ctx context.Context, accountID int64, windows []Window, at time.Time) error
	// ImportExternal stores the intervals of the account's external series name, replacing
	// the quarter hours it already has.
	ImportExternal(ctx context.Context, accountID int64, name string, intervals []ExternalInterval, at time.Time) error
	ExternalSeries(ctx context.Context, accountID int64, name string, from, to time.Time) ([]ExternalInterval, error)
	ExternalSeriesNames(ctx context.Context, accountID int64) ([]string, error)
}
