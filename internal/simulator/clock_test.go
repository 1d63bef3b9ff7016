package simulator

import (
	"testing"
	"time"
)

func TestScaledClockRunsFaster(t *testing.T) {
	start := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)
	c := ScaledClock(start, 3600) // an hour a second
	if got := c.Now(); got.Before(start) || got.After(start.Add(10*time.Minute)) {
		t.Fatalf("Now right after the start = %v, want close to %v", got, start)
	}
	began := time.Now()
	at := <-c.After(15 * time.Minute) // 0.25 s of wall time
	if waited := time.Since(began); waited > 5*time.Second {
		t.Errorf("After(15m) at speed 3600 took %v of wall time", waited)
	}
	if at.Before(start.Add(15 * time.Minute)) {
		t.Errorf("After(15m) fired at %v, before %v", at, start.Add(15*time.Minute))
	}
}
