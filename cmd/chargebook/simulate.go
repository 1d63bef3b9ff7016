package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/simulator"
)

const simulateUsage = `Usage: chargebook simulate --url URL [flags]

Runs simulated OCPP 1.6J charge points against a central system: each connects to URL + its
id, boots, reports its connectors, heartbeats, and runs charging sessions with MeterValues
while answering the central system's commands. Transaction messages made while offline are
queued and delivered after reconnecting. Stops at --duration, or on Ctrl-C, after stopping
the running transactions.

Flags:
`

func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the account's OCPP URL, ws://HOST:PORT/api/Ocpp16/<accountKey>/ (as printed by operator create); required")
	stations := fs.Int("stations", 1, "number of charge points")
	prefix := fs.String("prefix", "SIM-", "charge point ids are the prefix and a number: SIM-0001, SIM-0002, ...")
	connectors := fs.Int("connectors", 1, "connectors per charge point")
	interval := fs.Duration("interval", 30*time.Second, "MeterValueSampleInterval: how often a charging connector sends MeterValues")
	power := fs.Float64("power", 11000, "charging power in W")
	session := fs.Duration("session", 20*time.Minute, "length of a charging session (±10%)")
	idle := fs.Duration("idle", 2*time.Minute, "time between sessions (±10%)")
	duration := fs.Duration("duration", 0, "stop after this long; 0 runs until interrupted")
	idTags := fs.String("id-tags", "", "comma-separated idTags the drivers present (default: one per station, TAG-<id>)")
	aligned := fs.Duration("aligned", 0, "ClockAlignedDataInterval: also send MeterValues at each multiple of it since midnight UTC; 0 for none")
	speed := fs.Float64("speed", 1, "run the stations' clocks this many times faster than the wall clock (with --duration: the simulated time ends now, so hours of past charging are sent in minutes)")
	rate := fs.Float64("connect-rate", 100, "stations started per second")
	report := fs.Duration("report", 10*time.Second, "how often to print progress; 0 for only the summary")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error (the stations' log, on stderr)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), simulateUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("simulate: unexpected arguments %q", fs.Args())
	case *url == "":
		return errors.New("simulate: --url is required")
	case !strings.HasPrefix(*url, "ws://") && !strings.HasPrefix(*url, "wss://"):
		return fmt.Errorf("simulate: --url %q must start with ws:// or wss://", *url)
	case *stations < 1 || *connectors < 1:
		return errors.New("simulate: --stations and --connectors must be at least 1")
	case *speed < 1:
		return errors.New("simulate: --speed must be at least 1")
	case *speed > 1 && *duration == 0:
		return errors.New("simulate: --speed needs --duration, so that the simulated time can end now rather than in the future")
	case *interval < 0 || *session <= 0 || *idle <= 0 || *power <= 0 || *aligned < 0 || *duration < 0:
		return errors.New("simulate: --interval, --session, --idle, --power, --aligned and --duration must not be negative (nor zero for --session, --idle, --power)")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("simulate: --log-level: %w", err)
	}
	var tags []string
	for t := range strings.SplitSeq(*idTags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			if len(t) > 20 {
				return fmt.Errorf("simulate: idTag %q is longer than 20 characters", t)
			}
			tags = append(tags, t)
		}
	}

	clock := simulator.RealClock()
	if *speed > 1 {
		// Stations must not send timestamps from the future: the simulated time runs up to now.
		clock = simulator.ScaledClock(time.Now().Add(-time.Duration(float64(*duration)**speed)), *speed)
	}
	fleet := simulator.New(simulator.Config{
		Stations: *stations, Prefix: *prefix, ConnectRate: *rate,
		Station: simulator.StationConfig{
			URL: *url, Connectors: *connectors, SampleInterval: *interval, AlignedInterval: *aligned,
			PowerW: *power, Session: *session, Idle: *idle, IdTags: tags, Clock: clock,
			Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
		},
	})
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	fmt.Fprintf(stdout, "simulate: %d stations (%s...) with %d connector(s) each against %s\n",
		*stations, fleet.Stations()[0].ID(), *connectors, *url)

	began := time.Now()
	progress := func(prefix string) {
		st := fleet.Stats()
		fmt.Fprintf(stdout, "simulate: %s%v: %d/%d connected, %d calls sent, %d acknowledged, %d failed, %d reconnects, %d queued, %d dropped; %d transactions, %.1f kWh\n",
			prefix, time.Since(began).Round(time.Second), st.Connected, st.Stations, st.Sent, st.Acked, st.Failed,
			st.Reconnects, st.Queued, st.Dropped, st.Transactions, float64(st.EnergyWh)/1000)
	}
	done := make(chan struct{})
	if *report > 0 {
		go func() {
			t := time.NewTicker(*report)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					progress("")
				case <-done:
					return
				}
			}
		}()
	}
	err := fleet.Run(ctx)
	close(done)
	progress("done after ")
	return err
}
