package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/station"
)

// The stored 15-minute series of transactions (metering.Store). The writes that change what a
// series is built from (meter values, starts, stops) mark the transaction in series_pending in
// their own database transaction, so that a crash between a write and its mark cannot happen;
// the metering service rebuilds the marked series and clears the marks.

var _ metering.Store = (*Store)(nil)

// markConflict keeps the first mark's time, so that a transaction marked again every
// minute while it charges still gets its turn among the oldest marks.
const markConflict = ` ON CONFLICT (station_id, transaction_id) DO UPDATE SET generation = series_pending.generation + 1`

// markSeries marks one transaction's series out of date.
func markSeries(t *wtx, stationID, transactionID int64) error {
	_, err := t.exec(`INSERT INTO series_pending (station_id, transaction_id, generation, marked_at)
		VALUES ($1, $2, 1, $3)`+markConflict, stationID, transactionID, ms(t.at))
	return err
}

// isSeriesReading reports whether v is read by SeriesInput: an energy import register
// reading in Wh, total or of one phase.
func isSeriesReading(v station.MeterValue) bool {
	return v.Measurand == registerMeasurand && v.Unit == "Wh" && v.Milli != nil
}

// markRows is how many rows one marking statement takes: as many parameters as a meter
// value INSERT of the dialect, which is what its statement cost was measured for.
func markRows(t *wtx, params int) int {
	return max(1, t.rowsPerInsert*meterValueParams/params)
}

type stationTx struct{ station, tx int64 }

type stationConnector struct {
	station   int64
	connector int
}

type timeRange struct{ lo, hi int64 }

// markMeterValues marks the series that values, about to be inserted, change: those of the
// transactions the values name, and for register readings without a transaction id those of
// the transactions of their station and connector whose span contains them. Each is one
// statement per batch of rows.
func markMeterValues(t *wtx, values []station.MeterValue) error {
	var (
		named []stationTx
		loose map[stationConnector]timeRange
		order []stationConnector
	)
	for _, v := range values {
		if !isSeriesReading(v) {
			continue
		}
		if v.TransactionID != 0 {
			p := stationTx{v.StationID, v.TransactionID}
			// A MeterValues message names one transaction; a batch, a few hundred.
			if len(named) == 0 || named[len(named)-1] != p {
				named = append(named, p)
			}
			continue
		}
		k := stationConnector{v.StationID, v.ConnectorID}
		at := ms(v.Timestamp)
		if loose == nil {
			loose = make(map[stationConnector]timeRange)
		}
		r, ok := loose[k]
		if !ok {
			order = append(order, k)
			r = timeRange{at, at}
		}
		loose[k] = timeRange{min(r.lo, at), max(r.hi, at)}
	}
	if len(named) > 1 {
		// Duplicates would make PostgreSQL's upsert touch a row twice.
		slices.SortFunc(named, func(a, b stationTx) int {
			return cmp.Or(cmp.Compare(a.station, b.station), cmp.Compare(a.tx, b.tx))
		})
		named = slices.Compact(named)
	}
	for chunk := range slices.Chunk(named, markRows(t, 2)) {
		if err := markNamed(t, chunk); err != nil {
			return err
		}
	}
	for chunk := range slices.Chunk(order, markRows(t, 4)) {
		if err := markSpans(t, chunk, loose); err != nil {
			return err
		}
	}
	return nil
}

func markNamed(t *wtx, pairs []stationTx) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO series_pending (station_id, transaction_id, generation, marked_at) VALUES `)
	args := make([]any, 0, 1+2*len(pairs))
	args = append(args, ms(t.at))
	for i, p := range pairs {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, p.station, p.tx)
		fmt.Fprintf(&b, "($%d, $%d, 1, $1)", len(args)-1, len(args))
	}
	b.WriteString(markConflict)
	_, err := t.exec(b.String(), args...)
	return err
}

// markSpans marks the transactions of each station and connector whose span overlaps the
// range of its readings without a transaction id. Overlapping the range rather than
// containing one of the readings may mark a transaction between two readings needlessly,
// which costs a rebuild that changes nothing.
func markSpans(t *wtx, keys []stationConnector, ranges map[stationConnector]timeRange) error {
	if len(keys) == 1 {
		// The common case, in a statement SQLite compiles in a fraction of the time.
		k := keys[0]
		r := ranges[k]
		_, err := t.exec(`INSERT INTO series_pending (station_id, transaction_id, generation, marked_at)
			SELECT station_id, id, 1, $1 FROM transactions
			WHERE station_id = $2 AND connector_id = $3 AND started_at <= $5 AND (stopped = FALSE OR stopped_at >= $4)`+
			markConflict, ms(t.at), k.station, k.connector, r.lo, r.hi)
		return err
	}
	var b strings.Builder
	b.WriteString(`WITH r (station_id, connector_id, lo, hi) AS (VALUES `)
	args := make([]any, 0, 1+4*len(keys))
	args = append(args, ms(t.at))
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		r := ranges[k]
		args = append(args, k.station, k.connector, r.lo, r.hi)
		n := len(args)
		fmt.Fprintf(&b, "(CAST($%d AS BIGINT), CAST($%d AS INTEGER), CAST($%d AS BIGINT), CAST($%d AS BIGINT))", n-3, n-2, n-1, n)
	}
	// SQLite needs the WHERE to tell the upsert's ON from a join's.
	b.WriteString(`)
		INSERT INTO series_pending (station_id, transaction_id, generation, marked_at)
		SELECT t.station_id, t.id, 1, CAST($1 AS BIGINT) FROM r, transactions t
		WHERE t.station_id = r.station_id AND t.connector_id = r.connector_id AND t.started_at <= r.hi
		AND (t.stopped = FALSE OR t.stopped_at >= r.lo)` + markConflict)
	_, err := t.exec(b.String(), args...)
	return err
}

// PendingSeries returns up to limit marked transactions, the oldest first mark first.
func (s *Store) PendingSeries(ctx context.Context, limit int) ([]metering.Pending, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT station_id, transaction_id, generation FROM series_pending
		ORDER BY marked_at, station_id, transaction_id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending series: %w", err)
	}
	defer rows.Close()
	var out []metering.Pending
	for rows.Next() {
		var p metering.Pending
		if err := rows.Scan(&p.StationID, &p.TransactionID, &p.Generation); err != nil {
			return nil, fmt.Errorf("store: pending series: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending series: %w", err)
	}
	return out, nil
}

// SeriesInput returns the transaction's span and its energy register readings, read in one
// snapshot. See readingsOf for which readings count.
func (s *Store) SeriesInput(ctx context.Context, p metering.Pending) (metering.Span, []metering.Reading, error) {
	span, readings, err := s.seriesInput(ctx, p)
	if err != nil {
		return metering.Span{}, nil, fmt.Errorf("store: series input of transaction %d: %w", p.TransactionID, err)
	}
	return span, readings, nil
}

func (s *Store) seriesInput(ctx context.Context, p metering.Pending) (metering.Span, []metering.Reading, error) {
	rtx, err := s.read.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return metering.Span{}, nil, err
	}
	defer rtx.Rollback()
	tx, err := scanTransaction(rtx.QueryRowContext(ctx, selectTransaction+` WHERE t.id = $1 AND t.station_id = $2`,
		p.TransactionID, p.StationID))
	if err != nil {
		return metering.Span{}, nil, notFound(err, station.ErrNotFound)
	}
	span := metering.Span{
		TransactionID: tx.ID,
		AccountID:     tx.AccountID,
		StationID:     tx.StationID,
		ConnectorID:   tx.ConnectorID,
		IdTag:         tx.IdTag,
		StartedAt:     tx.StartedAt,
		MeterStartWh:  tx.MeterStartWh,
		Stopped:       tx.Stopped,
		StoppedAt:     tx.StoppedAt,
		MeterStopWh:   tx.MeterStopWh,
	}
	if tx.Stopped {
		span.EnergyWh = tx.EnergyWh
	}
	until := int64(1<<63 - 1)
	if tx.Stopped {
		until = ms(tx.StoppedAt)
	}
	// Two indexed halves: the transaction's own values, and the connector's values without
	// a transaction id in the span.
	rows, err := rtx.QueryContext(ctx, `SELECT sampled_at, 1, context, location, phase, milli, id FROM meter_values
		WHERE transaction_id = $1 AND station_id = $2 AND measurand = $3 AND unit = 'Wh' AND milli IS NOT NULL
		UNION ALL
		SELECT sampled_at, 0, context, location, phase, milli, id FROM meter_values
		WHERE station_id = $2 AND sampled_at >= $5 AND sampled_at <= $6 AND transaction_id IS NULL
		AND connector_id = $4 AND measurand = $3 AND unit = 'Wh' AND milli IS NOT NULL
		ORDER BY 1, 7`,
		tx.ID, tx.StationID, registerMeasurand, tx.ConnectorID, ms(tx.StartedAt), until)
	if err != nil {
		return metering.Span{}, nil, err
	}
	defer rows.Close()
	var regs []registerRow
	for rows.Next() {
		var (
			r  registerRow
			id int64
		)
		if err := rows.Scan(&r.at, &r.own, &r.context, &r.location, &r.phase, &r.milli, &id); err != nil {
			return metering.Span{}, nil, err
		}
		regs = append(regs, r)
	}
	if err := rows.Err(); err != nil {
		return metering.Span{}, nil, err
	}
	return span, readingsOf(regs), nil
}

// registerRow is a stored energy register value in thousandths of a Wh.
type registerRow struct {
	at                       int64
	own                      int // 1: names the transaction; 0: sent without a transaction id
	context, location, phase string
	milli                    int64
}

// readingsOf turns register values, in timestamp order, into readings. At each timestamp:
//
//   - Of the locations sent, Outlet (what a value without one means) is taken, else the
//     first other by name, so that an Inlet and an Outlet meter are never mixed.
//   - Totals (no phase) are the readings; phases are then ignored.
//   - Without a total, the phases sent together (same context, both the transaction's or
//     both without a transaction id) are summed into one reading: L1, L2 and L3, or L1-N,
//     L2-N and L3-N when no phase is named L1, L2 or L3. Each phase counts once.
func readingsOf(regs []registerRow) []metering.Reading {
	var out []metering.Reading
	for i := 0; i < len(regs); {
		j := i + 1
		for j < len(regs) && regs[j].at == regs[i].at {
			j++
		}
		out = appendReadings(out, regs[i:j])
		i = j
	}
	return out
}

func outlet(location string) string {
	if location == "" {
		return station.DefaultLocation
	}
	return location
}

func appendReadings(out []metering.Reading, regs []registerRow) []metering.Reading {
	at := fromMS(regs[0].at)
	loc := ""
	for _, r := range regs {
		l := outlet(r.location)
		switch {
		case loc == station.DefaultLocation:
		case l == station.DefaultLocation, loc == "", l < loc:
			loc = l
		}
	}
	total := false
	for _, r := range regs {
		if outlet(r.location) == loc && r.phase == "" {
			out = append(out, metering.Reading{At: at, Wh: whOf(r.milli), Context: r.context})
			total = true
		}
	}
	if total {
		return out
	}
	type group struct {
		own     int
		context string
	}
	type sum struct {
		line, lineN       int64
		hasLine, hasLineN bool
		seen              [6]bool
	}
	sums := map[group]*sum{}
	var groups []group
	for _, r := range regs {
		if outlet(r.location) != loc {
			continue
		}
		k := slices.Index(phases[:], r.phase)
		if k < 0 {
			continue // N, L1-L2, ...: not a share of the total
		}
		g := group{r.own, r.context}
		s := sums[g]
		if s == nil {
			s = &sum{}
			sums[g] = s
			groups = append(groups, g)
		}
		if s.seen[k] {
			continue
		}
		s.seen[k] = true
		if k < 3 {
			s.line += r.milli
			s.hasLine = true
		} else {
			s.lineN += r.milli
			s.hasLineN = true
		}
	}
	for _, g := range groups {
		s := sums[g]
		milli := s.lineN
		if s.hasLine {
			milli = s.line
		}
		out = append(out, metering.Reading{At: at, Wh: whOf(milli), Context: g.context})
	}
	return out
}

// phases are the phases whose registers add up to the total: the first three, or when none
// of them was sent, the last three.
var phases = [6]string{"L1", "L2", "L3", "L1-N", "L2-N", "L3-N"}

// whOf rounds thousandths of a Wh as station.MeterValue.Wh does.
func whOf(milli int64) int64 {
	wh, _ := station.MeterValue{Unit: "Wh", Milli: &milli}.Wh()
	return wh
}

// ReplaceSeries replaces the transaction's stored intervals and clears the mark p if no
// write marked the transaction again since p was read. Missing quarter hours without energy
// are not stored.
func (s *Store) ReplaceSeries(ctx context.Context, p metering.Pending, span metering.Span, intervals []metering.Interval) error {
	if span.TransactionID != p.TransactionID || span.StationID != p.StationID {
		return fmt.Errorf("store: replace series: span of transaction %d at station %d for mark of %d at %d",
			span.TransactionID, span.StationID, p.TransactionID, p.StationID)
	}
	keep := make([]metering.Interval, 0, len(intervals))
	for _, iv := range intervals {
		if iv.Quality == metering.Missing && iv.EnergyWh == 0 {
			continue
		}
		keep = append(keep, iv)
	}
	err := s.w.do(ctx, func(t *wtx) error {
		if _, err := t.exec(`DELETE FROM energy_intervals WHERE transaction_id = $1`, span.TransactionID); err != nil {
			return err
		}
		for chunk := range slices.Chunk(keep, markRows(t, 3)) {
			if err := insertIntervals(t, span, chunk); err != nil {
				return err
			}
		}
		return clearPending(t, p)
	})
	if err != nil {
		return fmt.Errorf("store: replace series of transaction %d: %w", p.TransactionID, err)
	}
	return nil
}

func insertIntervals(t *wtx, span metering.Span, intervals []metering.Interval) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO energy_intervals (transaction_id, interval_start, account_id, station_id,
		connector_id, energy_wh, quality) VALUES `)
	args := make([]any, 0, 4+3*len(intervals))
	args = append(args, span.TransactionID, span.AccountID, span.StationID, span.ConnectorID)
	for i, iv := range intervals {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, ms(iv.Start), iv.EnergyWh, int(iv.Quality))
		n := len(args)
		fmt.Fprintf(&b, "($1, $%d, $2, $3, $4, $%d, $%d)", n-2, n-1, n)
	}
	_, err := t.exec(b.String(), args...)
	return err
}

func clearPending(t *wtx, p metering.Pending) error {
	_, err := t.exec(`DELETE FROM series_pending WHERE station_id = $1 AND transaction_id = $2 AND generation = $3`,
		p.StationID, p.TransactionID, p.Generation)
	return err
}

// ClearPending clears the mark p if no write marked the transaction again since p was read.
func (s *Store) ClearPending(ctx context.Context, p metering.Pending) error {
	if err := s.w.do(ctx, func(t *wtx) error { return clearPending(t, p) }); err != nil {
		return fmt.Errorf("store: clear pending series of transaction %d: %w", p.TransactionID, err)
	}
	return nil
}

// Series sums the account's stored intervals by group, ordered by key (station, connector,
// user, idTag, transaction, in that order of precedence) and then by start.
//
// The user of a transaction is the user of its idTag or of the tag's nearest parent that has
// one, idTags compared without regard to ASCII case, as prices find it (DriverOf). Since that
// is a walk up the tags, intervals are summed per idTag in SQL and per user here.
func (s *Store) Series(ctx context.Context, accountID int64, f metering.SeriesFilter, by metering.GroupBy) ([]metering.SeriesRow, error) {
	out, err := s.series(ctx, accountID, f, by)
	if err != nil {
		return nil, fmt.Errorf("store: series: %w", err)
	}
	return out, nil
}

func (s *Store) series(ctx context.Context, accountID int64, f metering.SeriesFilter, by metering.GroupBy) ([]metering.SeriesRow, error) {
	var keys []string // the grouped columns, scanned in this order
	join := ""
	switch by {
	case metering.GroupNone:
	case metering.GroupStation:
		keys = []string{"e.station_id", "s.charge_point_id"}
	case metering.GroupConnector:
		keys = []string{"e.station_id", "s.charge_point_id", "e.connector_id"}
	case metering.GroupTransaction:
		keys = []string{"e.transaction_id"}
	case metering.GroupUser:
	default:
		return nil, fmt.Errorf("unknown grouping %q", by)
	}
	if by == metering.GroupStation || by == metering.GroupConnector {
		join += ` JOIN stations s ON s.id = e.station_id`
	}
	byTag := by == metering.GroupUser || f.UserID != 0
	if byTag || f.IdTag != "" {
		join += ` JOIN transactions t ON t.id = e.transaction_id`
	}
	if byTag {
		keys = append(keys, "t.id_tag")
	}

	var w where
	w.add("e.account_id = ?", accountID)
	if !f.From.IsZero() {
		w.add("e.interval_start >= ?", ms(f.From))
	}
	if !f.To.IsZero() {
		w.add("e.interval_start < ?", ms(f.To))
	}
	if f.StationID != 0 {
		w.add("e.station_id = ?", f.StationID)
		if f.ConnectorID != 0 {
			w.add("e.connector_id = ?", f.ConnectorID)
		}
	}
	if f.TransactionID != 0 {
		w.add("e.transaction_id = ?", f.TransactionID)
	}
	if f.IdTag != "" {
		w.add("t.id_tag = ?", f.IdTag)
	}

	var users tagOwners
	if byTag {
		var err error
		if users, err = loadTagUsers(ctx, s.read, accountID); err != nil {
			return nil, err
		}
	}

	group := strings.Join(append(slices.Clone(keys), "e.interval_start"), ", ")
	query := `SELECT ` + group + `, CAST(SUM(e.energy_wh) AS BIGINT), MAX(e.quality), COUNT(*)
		FROM energy_intervals e` + join + w.sql() + ` GROUP BY ` + group
	rows, err := s.read.QueryContext(ctx, query, w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	type slot struct {
		key   metering.SeriesKey
		start int64
	}
	index := map[slot]int{}
	var out []metering.SeriesRow
	for rows.Next() {
		var (
			k       metering.SeriesKey
			idTag   string
			start   int64
			energy  int64
			quality int
			n       int
		)
		var dest []any
		switch by {
		case metering.GroupStation:
			dest = append(dest, &k.StationID, &k.ChargePointID)
		case metering.GroupConnector:
			dest = append(dest, &k.StationID, &k.ChargePointID, &k.ConnectorID)
		case metering.GroupTransaction:
			dest = append(dest, &k.TransactionID)
		}
		if byTag {
			dest = append(dest, &idTag)
		}
		dest = append(dest, &start, &energy, &quality, &n)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if byTag {
			u := users.of(idTag)
			if f.UserID != 0 && u.id != f.UserID {
				continue
			}
			if by == metering.GroupUser {
				if u.id != 0 {
					k.UserID, k.UserName = u.id, u.name
				} else {
					k.IdTag = idTag
				}
			}
		}
		sl := slot{k, start}
		if i, ok := index[sl]; ok {
			r := &out[i]
			r.EnergyWh += energy
			r.Quality = max(r.Quality, metering.Quality(quality))
			r.Sessions += n
			continue
		}
		index[sl] = len(out)
		out = append(out, metering.SeriesRow{Key: k, Sessions: n,
			Interval: metering.Interval{Start: fromMS(start), EnergyWh: energy, Quality: metering.Quality(quality)}})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b metering.SeriesRow) int {
		return cmp.Or(
			cmp.Compare(a.Key.StationID, b.Key.StationID),
			cmp.Compare(a.Key.ConnectorID, b.Key.ConnectorID),
			cmp.Compare(a.Key.UserID, b.Key.UserID),
			strings.Compare(a.Key.IdTag, b.Key.IdTag),
			cmp.Compare(a.Key.TransactionID, b.Key.TransactionID),
			a.Start.Compare(b.Start))
	})
	return out, nil
}

// tagOwners are an account's registered tags by their ASCII-lower-cased idTag.
type tagOwners map[string]tagOwner

type tagOwner struct {
	parent string
	id     int64 // 0: none
	name   string
}

func loadTagUsers(ctx context.Context, q querier, accountID int64) (tagOwners, error) {
	rows, err := q.QueryContext(ctx, `SELECT it.id_tag, it.parent_id_tag, u.id, u.name FROM id_tags it
		LEFT JOIN access_users u ON u.id = it.user_id AND u.account_id = it.account_id
		WHERE it.account_id = $1 AND it.known`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type row struct {
		idTag string
		tagOwner
	}
	var all []row
	for rows.Next() {
		var (
			r    row
			id   sql.NullInt64
			name sql.NullString
		)
		if err := rows.Scan(&r.idTag, &r.parent, &id, &name); err != nil {
			return nil, err
		}
		r.id, r.name = id.Int64, name.String
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Of tags that differ in case only, the first by idTag, as tagUser takes it.
	slices.SortFunc(all, func(a, b row) int { return strings.Compare(a.idTag, b.idTag) })
	users := make(tagOwners, len(all))
	for _, r := range all {
		k := asciiLower(r.idTag)
		if _, ok := users[k]; !ok {
			users[k] = r.tagOwner
		}
	}
	return users, nil
}

// of is the user idTag acts for: its own, or its nearest parent's.
func (u tagOwners) of(idTag string) tagOwner {
	for range maxParentHops {
		t, ok := u[asciiLower(idTag)]
		switch {
		case !ok:
			return tagOwner{}
		case t.id != 0:
			return t
		}
		idTag = t.parent
	}
	return tagOwner{}
}
