package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/chargebook/chargebook/internal/loadtest"
)

const loadUsage = `Usage: chargebook load [flags]

Measures a chargebook server and prints the figures, then one JSON line with all of them.

  --mode calls: each station starts a transaction, then sends calls in a closed loop (18
    MeterValues with four sampled values, one Heartbeat and one StatusNotification in every
    20); prints the acknowledged calls a second and the round-trip times.
  --mode idle: the stations boot, report their connectors and stay connected; prints the
    server's memory per connected station.

Without --url, a server is spawned from this executable on a temporary data directory and
stopped afterwards. With --url, give --server-pid to have the server's memory and CPU read.
More stations than --max-per-process are spread over worker processes, as a process may
hold only so many open files.

Flags:
`

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", "calls", "calls or idle")
	stations := fs.Int("stations", 500, "number of stations")
	duration := fs.Duration("duration", 30*time.Second, "how long calls are counted, or the idle stations held")
	warmup := fs.Duration("warmup", 5*time.Second, "calls before counting starts; in idle mode, time to settle before the memory is read")
	url := fs.String("url", "", "OCPP URL of an account on a running server, ws://HOST:PORT/api/Ocpp16/<accountKey>/")
	serverPID := fs.Int("server-pid", 0, "with --url: the server's process id, to read its memory and CPU from /proc")
	spawn := fs.Bool("spawn-server", false, "spawn a server on a temporary data directory (the default without --url)")
	serverPprof := fs.String("server-pprof", "", "spawned server: serve Go profiles on this address (serve --pprof)")
	processes := fs.Int("processes", 0, "worker processes for the stations; 0 picks the fewest that respect --max-per-process, and none for small loads")
	maxPerProcess := fs.Int("max-per-process", 9000, "most stations in one process (each holds an open file)")
	rate := fs.Float64("connect-rate", 1000, "stations connecting per second, all processes together")
	prefix := fs.String("prefix", "LOAD-", "charge point id prefix")
	worker := fs.Bool("worker", false, "") // hidden: how the parent starts its workers
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), loadUsage)
		shown := flag.NewFlagSet("load", flag.ContinueOnError)
		shown.SetOutput(fs.Output())
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name != "worker" {
				shown.Var(f.Value, f.Name, f.Usage)
			}
		})
		shown.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("load: unexpected arguments %q", fs.Args())
	}
	if *worker {
		return loadtest.Worker(ctx, os.Stdin, stdout)
	}
	if *url != "" && *spawn {
		return errors.New("load: --url and --spawn-server exclude each other")
	}
	if *url == "" && *serverPID != 0 {
		return errors.New("load: --server-pid goes with --url")
	}
	if *mode != string(loadtest.ModeCalls) && *mode != string(loadtest.ModeIdle) {
		return fmt.Errorf("load: --mode %q: want calls or idle", *mode)
	}
	var serverArgs []string
	if *serverPprof != "" {
		if *url != "" {
			return errors.New("load: --server-pprof is for a spawned server")
		}
		serverArgs = []string{"--pprof", *serverPprof}
	}
	rep, err := loadtest.Run(ctx, loadtest.Options{
		Mode: loadtest.Mode(*mode), Stations: *stations, Duration: *duration, Warmup: *warmup,
		URL: *url, ServerPID: *serverPID, WorkerArgs: []string{"load", "--worker"}, ServerArgs: serverArgs,
		Processes: *processes, MaxPerProcess: *maxPerProcess, ConnectRate: *rate, Prefix: *prefix,
		Log: stdout,
	})
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return rep.Print(stdout)
}
