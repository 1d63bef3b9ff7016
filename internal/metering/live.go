package metering

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/station"
)

// What the Service keeps in memory per connector for its live power: the newest register
// readings (enough to find two at least 10 s apart at a sample every few seconds) and the
// power values of the newest timestamps (a total and three phases each).
const (
	keepRegisters  = 8
	keepPowerTimes = 2
	keepPowers     = 16
	// liveLookBack is how far back LivePower reads stored values when it has none in
	// memory (after a restart).
	liveLookBack = 10 * time.Minute
	// recentStops is how many of a station's newest stopped transactions LivePower reads
	// with them.
	recentStops = 20
	// subscriberBuffer is how many updates a subscriber may fall behind before it misses
	// some.
	subscriberBuffer = 64
)

type connKey struct {
	stationID   int64
	connectorID int
}

type connState struct {
	accountID     int64
	chargePointID string
	registers     []station.MeterValue // oldest first
	powers        []station.MeterValue // oldest first
	// stop, when set, is the power 0 of a stopped transaction, newer than the values.
	stop *Power
}

type subscriber struct {
	ch   chan Power
	once sync.Once
}

// add keeps the relevant values of v, within the bounds, and reports whether it kept any.
func (c *connState) add(values []station.MeterValue) bool {
	kept := false
	for _, v := range values {
		switch {
		case isRegister(v):
			c.registers = append(c.registers, v)
		case isPower(v):
			c.powers = append(c.powers, v)
		default:
			continue
		}
		kept = true
		if c.stop != nil && v.Timestamp.After(c.stop.SampledAt) {
			c.stop = nil
		}
	}
	if !kept {
		return false
	}
	byTime := func(a, b station.MeterValue) int { return a.Timestamp.Compare(b.Timestamp) }
	slices.SortStableFunc(c.registers, byTime)
	if n := len(c.registers); n > keepRegisters {
		c.registers = slices.Delete(c.registers, 0, n-keepRegisters)
	}
	slices.SortStableFunc(c.powers, byTime)
	times := 0
	for i := len(c.powers) - 1; i >= 0; i-- {
		if i == len(c.powers)-1 || !c.powers[i].Timestamp.Equal(c.powers[i+1].Timestamp) {
			times++
		}
		if times > keepPowerTimes || len(c.powers)-i > keepPowers {
			c.powers = slices.Delete(c.powers, 0, i+1)
			break
		}
	}
	return true
}

// power is the connector's live power at now.
func (c *connState) power(key connKey, now time.Time) (Power, bool) {
	if c.stop != nil {
		p := *c.stop
		p.Stale = now.Sub(p.SampledAt) > StaleAfter
		return p, true
	}
	values := make([]station.MeterValue, 0, len(c.registers)+len(c.powers))
	values = append(append(values, c.registers...), c.powers...)
	p, ok := LivePower(values, now)
	if !ok {
		return Power{}, false
	}
	p.StationID, p.ConnectorID, p.ChargePointID = key.stationID, key.connectorID, c.chargePointID
	return p, true
}

// observe feeds stored values into the live state and publishes the power of each connector
// they changed.
func (s *Service) observe(accountID int64, chargePointID string, values []station.MeterValue) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var changed []connKey
	for _, group := range byConnector(values) {
		key := connKey{group[0].StationID, group[0].ConnectorID}
		c := s.live[key]
		if c == nil {
			c = &connState{accountID: accountID, chargePointID: chargePointID}
		}
		if !c.add(group) {
			continue
		}
		s.live[key] = c
		changed = append(changed, key)
	}
	for _, key := range changed {
		if p, ok := s.live[key].power(key, now); ok {
			s.publish(accountID, p)
		}
	}
}

// byConnector splits values by station and connector, in the order of their first value.
func byConnector(values []station.MeterValue) [][]station.MeterValue {
	var groups [][]station.MeterValue
	for _, v := range values {
		i := slices.IndexFunc(groups, func(g []station.MeterValue) bool {
			return g[0].StationID == v.StationID && g[0].ConnectorID == v.ConnectorID
		})
		if i < 0 {
			groups = append(groups, nil)
			i = len(groups) - 1
		}
		groups[i] = append(groups[i], v)
	}
	return groups
}

// stopped sets the connector's power to 0 at the stop of tx, unless it has newer values,
// and tells the subscribers if publish.
func (s *Service) stopped(accountID int64, chargePointID string, tx station.Transaction, publish bool) {
	key := connKey{tx.StationID, tx.ConnectorID}
	if tx.StoppedAt.IsZero() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.live[key]
	if c == nil {
		c = &connState{accountID: accountID, chargePointID: chargePointID}
		s.live[key] = c
	}
	for _, v := range slices.Concat(c.registers, c.powers) {
		if v.Timestamp.After(tx.StoppedAt) {
			return // the connector has moved on: a late stop says nothing of now
		}
	}
	c.registers, c.powers = nil, nil
	c.stop = &Power{StationID: tx.StationID, ChargePointID: chargePointID, ConnectorID: tx.ConnectorID,
		TransactionID: tx.ID, Source: SourcePowerStopped, SampledAt: tx.StoppedAt.UTC()}
	if publish {
		p, _ := c.power(key, s.now())
		s.publish(accountID, p)
	}
}

// publish sends p to the account's subscribers without waiting: a subscriber whose buffer
// is full misses the update rather than holding up the station that sent the values. s.mu
// is held, so that no subscriber is closed meanwhile.
func (s *Service) publish(accountID int64, p Power) {
	for sub := range s.subs[accountID] {
		select {
		case sub.ch <- p:
		default:
		}
	}
}

// Subscribe returns the live power updates of the account's connectors, as the stations
// send meter values and stop transactions, and the function that ends the subscription and
// closes the channel. Updates are buffered; a subscriber that reads too slowly misses some
// (it can read LivePower again), since ingesting meter values never waits for a reader.
func (s *Service) Subscribe(accountID int64) (<-chan Power, func()) {
	sub := &subscriber{ch: make(chan Power, subscriberBuffer)}
	s.mu.Lock()
	if s.subs[accountID] == nil {
		s.subs[accountID] = make(map[*subscriber]struct{})
	}
	s.subs[accountID][sub] = struct{}{}
	s.mu.Unlock()
	return sub.ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.unsubscribe(accountID, sub)
	}
}

// unsubscribe removes sub and closes its channel, once; s.mu is held.
func (s *Service) unsubscribe(accountID int64, sub *subscriber) {
	sub.once.Do(func() {
		delete(s.subs[accountID], sub)
		if len(s.subs[accountID]) == 0 {
			delete(s.subs, accountID)
		}
		close(sub.ch)
	})
}

// endSubscriptions closes every subscriber's channel: the server is shutting down.
func (s *Service) endSubscriptions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for accountID, subs := range s.subs {
		for sub := range subs {
			s.unsubscribe(accountID, sub)
		}
	}
}

// LivePower returns the live power of each connector of the account's station that has sent
// power or register values, by connector. After a restart, when nothing is in memory for the
// station, it reads the values of the last 10 minutes from the store.
func (s *Service) LivePower(ctx context.Context, acct account.Account, stationID int64) ([]Power, error) {
	sts, err := s.stations.Stations(ctx, acct.ID)
	if err != nil {
		return nil, fmt.Errorf("metering: live power: %w", err)
	}
	i := slices.IndexFunc(sts, func(st station.Station) bool { return st.ID == stationID })
	if i < 0 {
		return nil, fmt.Errorf("metering: live power of station %d: %w", stationID, station.ErrNotFound)
	}
	st := sts[i]
	now := s.now()
	if !s.hasLive(stationID) {
		values, err := s.stations.MeterValues(ctx, acct.ID, station.MeterValueFilter{StationID: stationID, From: now.Add(-liveLookBack)})
		if err != nil {
			return nil, fmt.Errorf("metering: live power of %s: %w", st.ChargePointID, err)
		}
		// The stops of the same minutes, so that a connector that stopped shows 0.
		stopped := false
		txs, err := s.stations.Transactions(ctx, acct.ID, station.TransactionFilter{StationID: stationID, Open: &stopped, Limit: recentStops})
		if err != nil {
			return nil, fmt.Errorf("metering: live power of %s: %w", st.ChargePointID, err)
		}
		s.seed(acct.ID, st.ChargePointID, values)
		for _, tx := range txs {
			if tx.StoppedAt.After(now.Add(-liveLookBack)) {
				s.stopped(acct.ID, st.ChargePointID, tx, false)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Power
	for key, c := range s.live {
		if key.stationID != stationID {
			continue
		}
		if p, ok := c.power(key, now); ok {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Power) int { return cmp.Compare(a.ConnectorID, b.ConnectorID) })
	return out, nil
}

func (s *Service) hasLive(stationID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key := range s.live {
		if key.stationID == stationID {
			return true
		}
	}
	return false
}

// seed feeds values read from the store into the live state without publishing them: they
// are not news.
func (s *Service) seed(accountID int64, chargePointID string, values []station.MeterValue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, group := range byConnector(values) {
		key := connKey{group[0].StationID, group[0].ConnectorID}
		c := s.live[key]
		if c == nil {
			c = &connState{accountID: accountID, chargePointID: chargePointID}
		}
		if c.add(group) {
			s.live[key] = c
		}
	}
}
