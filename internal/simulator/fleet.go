package simulator

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Config describes a fleet of stations that share one configuration.
type Config struct {
	// Station is the configuration of every station; its ID is ignored and Seed, when set,
	// is varied per station.
	Station  StationConfig
	Stations int
	// Prefix and a number make the ids: SIM-0001, SIM-0002, ... (at least four digits).
	Prefix string
	// ConnectRate is how many stations start per second, so that a large fleet does not
	// hit the central system all at once. Default 100.
	ConnectRate float64
}

// Fleet is a set of simulated stations run together.
type Fleet struct {
	cfg      Config
	stations []*Station
}

// New makes the fleet's stations; nothing connects until Run.
func New(cfg Config) *Fleet {
	if cfg.ConnectRate <= 0 {
		cfg.ConnectRate = 100
	}
	width := max(4, len(fmt.Sprint(cfg.Stations)))
	f := &Fleet{cfg: cfg}
	for i := 1; i <= cfg.Stations; i++ {
		sc := cfg.Station
		sc.ID = fmt.Sprintf("%s%0*d", cfg.Prefix, width, i)
		if sc.Seed != 0 {
			sc.Seed += uint64(i)
		}
		f.stations = append(f.stations, NewStation(sc))
	}
	return f
}

// Stations returns the fleet's stations, in id order.
func (f *Fleet) Stations() []*Station { return f.stations }

// Run runs every station (see Station.Run) until ctx ends, then closes them all.
func (f *Fleet) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	step := time.Duration(float64(time.Second) / f.cfg.ConnectRate)
	start := time.Now()
	for i, s := range f.stations {
		// Started on the wall clock: the pacing protects a real server, whatever the
		// stations' clock says.
		if d := time.Until(start.Add(time.Duration(i) * step)); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Run(ctx); err != nil {
				s.log.Debug("run ended", "err", err)
			}
		}()
	}
	wg.Wait()
	for _, s := range f.stations {
		s.Close()
	}
	return nil
}

// Stats adds up the stations' counters.
func (f *Fleet) Stats() Stats {
	var st Stats
	for _, s := range f.stations {
		st = st.add(s.Stats())
	}
	return st
}
