package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
)

// Print writes the figures as lines for people, then as one JSON line for scripts.
func (r Report) Print(w io.Writer) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, "load: "+format+"\n", args...) }
	p("%d of %d stations connected in %.1fs in %d process(es); %d failed to connect",
		r.Connected, r.Stations, r.ConnectSeconds, r.Processes, r.ConnectErrors)
	switch r.Mode {
	case ModeCalls:
		p("calls: %d acknowledged in %.1fs = %.0f calls/s (target %d: %s); errors %d",
			r.Calls, r.DurationS, r.CallsPerSec, targetCallsPerSec, verdict(r.TargetMet), r.Errors)
		p("round trip: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms", r.P50ms, r.P90ms, r.P99ms, r.MaxMs)
	case ModeIdle:
		p("idle: %d stations still connected after %.1fs, %d dropped", r.Live, r.DurationS, r.Dropped)
	}
	if r.ServerPID != 0 {
		p("server pid %d: RSS %.1f MiB (peak %.1f MiB, %.1f MiB before the stations) = %.1f KiB per connected station (%.1f KiB above the baseline)",
			r.ServerPID, r.ServerRSSMiB, r.ServerHWMMiB, r.ServerBaselineRSSMiB, r.ServerRSSPerStationKiB, r.ServerRSSMarginalKiB)
		if r.Mode == ModeIdle {
			p("target: %d stations in under %d MiB of server RSS (%d stations: %.0f MiB): %s",
				targetStations, targetRSSMiB, r.Stations, float64(targetRSSMiB)*float64(r.Stations)/targetStations, verdict(r.TargetMet))
		}
		p("CPU during the measurement (100%% = one core): server %.0f%%, load generator %.0f%%", r.ServerCPUPercent, r.LoadgenCPUPercent)
	} else {
		p("server memory and CPU not measured: give --server-pid; load generator CPU %.0f%%", r.LoadgenCPUPercent)
	}
	if r.FirstError != "" {
		p("first error: %s", r.FirstError)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "NOT met"
}
