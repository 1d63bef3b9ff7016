package simulator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
)

// stopGrace bounds how long Run spends stopping transactions and delivering the queue when
// its context ends.
const stopGrace = 5 * time.Second

// Run behaves like a charger in the field until ctx ends: it connects (reconnecting with a
// jittered backoff after drops), boots (again after the interval the central system gives
// while it is Pending or Rejected), reports its connectors, heartbeats, delivers queued
// transaction messages after reconnecting, and once accepted runs charging sessions on every
// connector. When ctx ends it stops the running transactions (reason Local), tries for a few
// seconds to deliver what is queued, and disconnects. It returns nil then; Run may not run
// twice at once.
func (s *Station) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return fmt.Errorf("simulator: %s: Run is already running", s.cfg.ID)
	}
	defer s.running.Store(false)

	accepted := make(chan struct{})
	linkDone := make(chan struct{})
	go func() {
		defer close(linkDone)
		s.runLink(ctx, accepted)
	}()
	s.runCharging(ctx, accepted)
	<-linkDone

	grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace)
	defer cancel()
	s.mu.Lock()
	var busy []int
	for _, c := range s.connectors {
		if c.tx != nil {
			busy = append(busy, c.id)
		}
	}
	s.mu.Unlock()
	for _, id := range busy {
		s.stopAndReport(grace, id, ocpp.ReasonLocal)
	}
	if err := s.Flush(grace); err != nil && s.Connected() {
		s.log.Warn("queue not delivered before stopping", "err", err)
	}
	return s.Disconnect()
}

// sleep waits for d on the station's clock; false means ctx ended.
func (s *Station) sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	select {
	case <-s.clock.After(d):
		return true
	case <-wake:
		return true
	case <-ctx.Done():
		return false
	}
}

// jitter spreads d by ±frac, so that a fleet does not move in lockstep.
func (s *Station) jitter(d time.Duration, frac float64) time.Duration {
	s.mu.Lock()
	r := s.rng.Float64()
	s.mu.Unlock()
	return time.Duration(float64(d) * (1 + frac*(2*r-1)))
}

// runLink keeps the station connected and in touch: connection, boot, status, queue and
// heartbeats. It closes accepted once the first BootNotification is accepted.
func (s *Station) runLink(ctx context.Context, accepted chan struct{}) {
	backoff := s.cfg.ReconnectMin
	for ctx.Err() == nil {
		if err := s.Connect(ctx); err != nil {
			// Between half and all of the step, so that stations dropped together do not
			// come back together.
			wait := s.jitter(backoff*3/4, 1.0/3)
			s.log.Debug("connect failed", "err", err, "retry", wait)
			if !s.sleep(ctx, wait, nil) {
				return
			}
			backoff = min(2*backoff, s.cfg.ReconnectMax)
			continue
		}
		backoff = s.cfg.ReconnectMin
		s.online(ctx, accepted)
	}
}

// online runs one connection until it ends or ctx does.
func (s *Station) online(ctx context.Context, accepted chan struct{}) {
	done := s.done()
	if done == nil {
		return
	}
	// Every early return below means the connection is ending (ErrOffline); waiting for it
	// keeps runLink from finding it still up and spinning.
	defer func() {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}()
	s.mu.Lock()
	needBoot := s.needBoot
	s.mu.Unlock()
	if needBoot {
		for {
			resp, err := s.Boot(ctx)
			wait := s.cfg.BootRetry
			switch {
			case err == nil && resp.Status == ocpp.RegistrationStatusAccepted:
			case err == nil:
				if resp.Interval > 0 {
					wait = time.Duration(resp.Interval) * time.Second
				}
				s.log.Info("boot not accepted", "status", resp.Status, "retry", wait)
			case errors.Is(err, ErrOffline):
				return
			default:
				s.log.Info("boot failed", "err", err)
			}
			if err == nil && resp.Status == ocpp.RegistrationStatusAccepted {
				break
			}
			select {
			case <-s.clock.After(wait):
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-accepted:
		default:
			close(accepted)
		}
	}

	if err := s.Flush(ctx); err != nil {
		s.log.Debug("flush after connecting", "err", err)
	}
	s.mu.Lock()
	n := len(s.connectors)
	s.mu.Unlock()
	for id := 0; id <= n; id++ {
		if err := s.sendStatus(ctx, id); errors.Is(err, ErrOffline) {
			return
		}
	}

	lastBeat := s.clock.Now()
	for {
		now := s.clock.Now()
		s.mu.Lock()
		hb, queued, retryAt := s.set.heartbeat, len(s.queue) > 0, s.retryAt
		s.mu.Unlock()
		wait := time.Hour
		if hb > 0 {
			due := lastBeat.Add(hb)
			if !now.Before(due) {
				if _, err := s.Heartbeat(ctx); errors.Is(err, ErrOffline) {
					return
				}
				lastBeat = s.clock.Now()
				due = lastBeat.Add(hb)
			}
			wait = due.Sub(now)
		}
		if queued {
			if !now.Before(retryAt) {
				// Normally the producer of a message delivers it; this catches what a failed
				// or timed-out delivery left behind.
				if err := s.Flush(ctx); errors.Is(err, ErrOffline) {
					return
				}
				retryAt = s.clock.Now().Add(time.Second)
			}
			wait = min(wait, max(retryAt.Sub(now), 100*time.Millisecond))
		}
		select {
		case <-s.clock.After(wait):
		case <-s.linkWake:
		case <-done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// schedule is what runCharging plans for one connector.
type schedule struct {
	local      int       // the transaction it is charging, 0 when idle
	until      time.Time // end of the session, or of the idle time
	lastSample time.Time
}

// runCharging runs the charging sessions of every connector, once the station is accepted.
func (s *Station) runCharging(ctx context.Context, accepted <-chan struct{}) {
	select {
	case <-accepted:
	case <-ctx.Done():
		return
	}
	now := s.clock.Now()
	s.mu.Lock()
	scheds := make([]schedule, len(s.connectors))
	for i := range scheds {
		// The first sessions start at random within the idle time, so that a fleet started
		// at once does not charge in step.
		scheds[i].until = now.Add(time.Duration(s.rng.Float64() * float64(s.cfg.Idle)))
	}
	aligned := s.set.alignedInterval
	s.mu.Unlock()
	alignedAt := nextAligned(now, aligned)

	for {
		now = s.clock.Now()
		wait := time.Hour
		for i := range scheds {
			wait = min(wait, s.stepConnector(ctx, i+1, &scheds[i], now))
		}

		s.mu.Lock()
		if a := s.set.alignedInterval; a != aligned {
			aligned, alignedAt = a, nextAligned(now, a)
		}
		s.mu.Unlock()
		if aligned > 0 {
			if !now.Before(alignedAt) {
				for i := range scheds {
					_ = s.sendMeterValues(ctx, i+1, ocpp.ReadingContextSampleClock, keyAlignedData)
				}
				alignedAt = nextAligned(now, aligned)
			}
			wait = min(wait, alignedAt.Sub(now))
		}
		if ctx.Err() != nil {
			return
		}
		if !s.sleep(ctx, max(wait, time.Millisecond), s.chargeWake) {
			return
		}
	}
}

// stepConnector does what is due on a connector and returns how long until the next thing.
func (s *Station) stepConnector(ctx context.Context, id int, sc *schedule, now time.Time) time.Duration {
	s.mu.Lock()
	c := s.connectors[id-1]
	local, deauthorized := 0, false
	if c.tx != nil {
		local = c.tx.Local
		deauthorized = c.tx.AuthStatus != "" && c.tx.AuthStatus != ocpp.AuthorizationStatusAccepted && s.set.bool(keyStopOnInvalidID)
	}
	canStart := c.operative && s.registration == ocpp.RegistrationStatusAccepted && !s.needBoot
	interval := s.set.sampleInterval
	s.mu.Unlock()

	if local != sc.local { // started or stopped by someone else: a remote start, a reset
		if local != 0 {
			*sc = schedule{local: local, until: now.Add(s.jitter(s.cfg.Session, 0.1)), lastSample: now}
		} else {
			*sc = schedule{until: now.Add(s.jitter(s.cfg.Idle, 0.1))}
		}
	}

	if sc.local == 0 {
		if now.Before(sc.until) {
			return sc.until.Sub(now)
		}
		sc.until = now.Add(s.jitter(s.cfg.Idle, 0.1))
		if !canStart {
			return sc.until.Sub(now)
		}
		s.mu.Lock()
		tag := s.cfg.IdTags[s.rng.IntN(len(s.cfg.IdTags))]
		s.mu.Unlock()
		// Offline, the charger trusts the tag (LocalAuthorizeOffline).
		if info, err := s.Authorize(ctx, tag); err == nil && info.Status != ocpp.AuthorizationStatusAccepted {
			s.log.Info("idTag not accepted", "idTag", tag, "status", info.Status)
			return sc.until.Sub(now)
		}
		tx, err := s.StartTransaction(ctx, id, tag)
		if err != nil && !errors.Is(err, ErrQueued) {
			s.log.Info("start transaction", "connector", id, "err", err)
			return sc.until.Sub(now)
		}
		_ = s.sendStatus(ctx, id)
		*sc = schedule{local: tx.Local, until: now.Add(s.jitter(s.cfg.Session, 0.1)), lastSample: now}
		return s.nextStep(sc, interval, now)
	}

	if deauthorized {
		s.stopAndReport(ctx, id, ocpp.ReasonDeAuthorized)
		*sc = schedule{until: now.Add(s.jitter(s.cfg.Idle, 0.1))}
		return sc.until.Sub(now)
	}
	if interval > 0 && !now.Before(sc.lastSample.Add(interval)) && now.Before(sc.until) {
		if err := s.SendMeterValues(ctx, id); err != nil && !errors.Is(err, ErrQueued) {
			s.log.Debug("meter values", "connector", id, "err", err)
		}
		// Keep the cadence unless the station fell a whole interval behind.
		if next := sc.lastSample.Add(interval); now.Sub(next) < interval {
			sc.lastSample = next
		} else {
			sc.lastSample = now
		}
	}
	if !now.Before(sc.until) {
		reason := ocpp.ReasonLocal
		s.mu.Lock()
		if s.rng.IntN(2) == 0 {
			reason = ocpp.ReasonEVDisconnected
		}
		s.mu.Unlock()
		s.stopAndReport(ctx, id, reason)
		*sc = schedule{until: now.Add(s.jitter(s.cfg.Idle, 0.1))}
		return sc.until.Sub(now)
	}
	return s.nextStep(sc, interval, now)
}

func (s *Station) nextStep(sc *schedule, interval time.Duration, now time.Time) time.Duration {
	next := sc.until
	if interval > 0 {
		if t := sc.lastSample.Add(interval); t.Before(next) {
			next = t
		}
	}
	return next.Sub(now)
}
