package simulator

import (
	"sync"
	"time"
)

// Clock is a station's time. The energy a connector charges is computed from it, so a test
// that controls the clock controls the energy.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
func RealClock() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// ScaledClock is a clock that starts at start and runs speed times faster than the wall
// clock, so that a test or a demonstration sees hours of charging, with MeterValues every 30
// seconds and clock-aligned values every quarter hour, in seconds. Speeds below 1 are taken
// as 1.
func ScaledClock(start time.Time, speed float64) Clock {
	return scaledClock{start: start, origin: time.Now(), speed: max(speed, 1)}
}

type scaledClock struct {
	start, origin time.Time
	speed         float64
}

func (c scaledClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.origin)) * c.speed))
}

func (c scaledClock) After(d time.Duration) <-chan time.Time {
	out := make(chan time.Time, 1)
	time.AfterFunc(time.Duration(float64(d)/c.speed), func() { out <- c.Now() })
	return out
}

// ManualClock is a Clock that moves only when told to, for tests that drive a Station step
// by step. It is safe for concurrent use.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []manualWaiter
}

type manualWaiter struct {
	at time.Time
	c  chan time.Time
}

// NewManualClock returns a ManualClock showing t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now implements Clock.
func (m *ManualClock) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// After implements Clock; the channel receives once Advance or Set has reached now+d.
func (m *ManualClock) After(d time.Duration) <-chan time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := make(chan time.Time, 1)
	at := m.now.Add(d)
	if d <= 0 {
		c <- m.now
		return c
	}
	m.waiters = append(m.waiters, manualWaiter{at: at, c: c})
	return c
}

// Advance moves the clock forward by d.
func (m *ManualClock) Advance(d time.Duration) { m.Set(m.Now().Add(d)) }

// Set moves the clock to t; a time before the current one is ignored, as clocks that go
// backwards would break the energy registers.
func (m *ManualClock) Set(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.Before(m.now) {
		return
	}
	m.now = t
	kept := m.waiters[:0]
	for _, w := range m.waiters {
		if !w.at.After(t) {
			w.c <- t
			continue
		}
		kept = append(kept, w)
	}
	clear(m.waiters[len(kept):])
	m.waiters = kept
}

// nextAligned is the first clock-aligned instant strictly after t for an interval: the
// multiples of interval since midnight UTC, restarting at each midnight (OCPP 1.6,
// ClockAlignedDataInterval). Zero means no clock-aligned data.
func nextAligned(t time.Time, interval time.Duration) time.Time {
	if interval <= 0 {
		return time.Time{}
	}
	t = t.UTC()
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	k := t.Sub(midnight)/interval + 1
	next := midnight.Add(k * interval)
	if end := midnight.AddDate(0, 0, 1); next.After(end) {
		return end
	}
	return next
}
