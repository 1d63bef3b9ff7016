package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options describe a whole load run.
type Options struct {
	Mode     Mode
	Stations int
	Duration time.Duration // how long calls are counted, or idle stations held
	// Warmup is the time between the start of the calls loops and the start of counting;
	// in idle mode, the time the connected stations settle before the memory is read.
	Warmup time.Duration

	// URL is the account's OCPP URL of a running server; ServerPID, if set, is that server's
	// process, whose memory and CPU are then read. Without a URL a server is spawned.
	URL       string
	ServerPID int
	// Executable is the chargebook binary that is spawned as the server and the workers.
	Executable string
	// WorkerArgs are the arguments that make Executable a worker (see Worker).
	WorkerArgs []string
	// ServerArgs are added to the spawned server's command line (e.g. --pprof ADDR).
	ServerArgs []string

	// Processes is the number of worker processes; 0 runs the stations in this process when
	// there are at most MaxPerProcess (default 9000) of them, and spreads them over as many
	// workers as needed otherwise.
	Processes     int
	MaxPerProcess int
	ConnectRate   float64 // stations per second, all processes together; default 1000
	Prefix        string

	// Log receives the progress lines; the report is printed by the caller.
	Log io.Writer
}

// Report is the figures of a run. The JSON names are those of the final line of
// `chargebook load`.
type Report struct {
	Mode           Mode    `json:"mode"`
	Stations       int     `json:"stations"`
	Processes      int     `json:"processes"`
	Connected      int     `json:"connected"`
	ConnectErrors  int     `json:"connect_errors"`
	ConnectSeconds float64 `json:"connect_seconds"`
	DurationS      float64 `json:"duration_s"`
	WarmupS        float64 `json:"warmup_s"`

	Calls       uint64  `json:"calls"`
	CallsPerSec float64 `json:"calls_per_sec"`
	P50ms       float64 `json:"p50_ms"`
	P90ms       float64 `json:"p90_ms"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	Errors      uint64  `json:"errors"`

	Live    int `json:"live"`    // stations connected at the end
	Dropped int `json:"dropped"` // stations whose connection ended during the run

	ServerPID              int     `json:"server_pid,omitempty"`
	ServerRSSMiB           float64 `json:"server_rss_mib"`
	ServerHWMMiB           float64 `json:"server_hwm_mib"`
	ServerBaselineRSSMiB   float64 `json:"server_rss_baseline_mib"`
	ServerRSSPerStationKiB float64 `json:"server_rss_per_station_kib"`
	ServerRSSMarginalKiB   float64 `json:"server_rss_marginal_per_station_kib"`
	ServerCPUPercent       float64 `json:"server_cpu_pct"`
	LoadgenCPUPercent      float64 `json:"loadgen_cpu_pct"`
	LoadgenRSSMiB          float64 `json:"loadgen_rss_mib"`
	FirstError             string  `json:"first_error,omitempty"`
	TargetCallsPerSec      float64 `json:"target_calls_per_sec,omitempty"`
	TargetStations         int     `json:"target_stations,omitempty"`
	TargetServerRSSMiB     float64 `json:"target_server_rss_mib,omitempty"`
	TargetMet              bool    `json:"target_met"`
}

// The targets the figures are held against.
const (
	targetCallsPerSec = 10_000
	targetStations    = 15_000
	targetRSSMiB      = 600
)

func (o Options) withDefaults() (Options, error) {
	if o.Mode != ModeCalls && o.Mode != ModeIdle {
		return o, fmt.Errorf("loadtest: mode %q: want calls or idle", o.Mode)
	}
	if o.Stations <= 0 {
		return o, errors.New("loadtest: stations must be positive")
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Warmup < 0 {
		o.Warmup = 0
	}
	if o.MaxPerProcess <= 0 {
		o.MaxPerProcess = 9000
	}
	if o.ConnectRate <= 0 {
		o.ConnectRate = 1000
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Executable == "" && (o.URL == "" || o.Processes > 0 || o.Stations > o.MaxPerProcess) {
		exe, err := os.Executable()
		if err != nil {
			return o, fmt.Errorf("loadtest: own executable: %w", err)
		}
		o.Executable = exe
	}
	return o, nil
}

func (o Options) logf(format string, args ...any) {
	fmt.Fprintf(o.Log, "load: "+format+"\n", args...)
}

// Run runs a load and returns its figures.
func Run(ctx context.Context, o Options) (Report, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Report{}, err
	}
	rep := Report{Mode: o.Mode, Stations: o.Stations, DurationS: o.Duration.Seconds(), WarmupS: o.Warmup.Seconds()}

	if o.URL == "" {
		srv, err := SpawnServer(ctx, o.Executable, o.ServerArgs)
		if err != nil {
			return rep, err
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				o.logf("stopping the server: %v", err)
			}
		}()
		o.URL, o.ServerPID = srv.URL, srv.PID
		o.logf("spawned server pid %d at %s (data %s)", srv.PID, srv.Addr, srv.Dir)
	}
	rep.ServerPID = o.ServerPID
	if o.ServerPID != 0 {
		// Let the server finish starting before its memory is taken as the baseline.
		time.Sleep(500 * time.Millisecond)
		if rss, err := rssKiB(o.ServerPID); err == nil {
			rep.ServerBaselineRSSMiB = mib(rss)
		}
	}

	groups := o.plan()
	rep.Processes = len(groups)
	where := "in this process"
	if _, ok := groups[0].(*procGroup); ok {
		where = fmt.Sprintf("in %d worker processes", len(groups))
	}
	o.logf("%s mode: %d stations %s, connecting at %.0f/s to %s", o.Mode, o.Stations, where, o.ConnectRate, o.URL)
	defer func() {
		for _, g := range groups {
			g.close()
		}
	}()

	began := time.Now()
	setups := make([]Setup, len(groups))
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() { setups[i], errs[i] = g.connect(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return rep, err
	}
	for _, s := range setups {
		rep.Connected += s.Connected
		rep.ConnectErrors += s.Failed
		if rep.FirstError == "" {
			rep.FirstError = s.FirstError
		}
	}
	rep.ConnectSeconds = time.Since(began).Seconds()
	o.logf("connected %d of %d stations in %.1fs (%d failed%s)", rep.Connected, o.Stations, rep.ConnectSeconds,
		rep.ConnectErrors, firstErrorNote(rep.FirstError))
	if rep.Connected == 0 {
		return rep, errors.New("loadtest: no station connected")
	}
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}

	// Far enough ahead for every worker to hear of it.
	start := time.Now().Add(200 * time.Millisecond)
	w := Window{Start: start, Measure: start.Add(o.Warmup), End: start.Add(o.Warmup + o.Duration)}
	if o.Mode == ModeCalls {
		o.logf("calls for %v after a %v warmup", o.Duration, o.Warmup)
	} else {
		o.logf("holding the stations for %v after %v to settle", o.Duration, o.Warmup)
	}

	// The server's CPU time is read at the edges of the window while the generators run.
	var serverCPU float64
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		if o.ServerPID == 0 {
			return
		}
		sleepUntil(ctx, w.Measure)
		cpu0 := cpuSeconds(o.ServerPID)
		sleepUntil(ctx, w.End)
		serverCPU = cpuSeconds(o.ServerPID) - cpu0
	}()

	results := make([]Result, len(groups))
	for i, g := range groups {
		wg.Go(func() { results[i], errs[i] = g.run(ctx, w) })
	}
	wg.Wait()
	<-watchDone
	if err := errors.Join(errs...); err != nil {
		return rep, err
	}

	// The memory is read while every station is still connected.
	if o.ServerPID != 0 {
		if rss, hwm, err := memKiB(o.ServerPID); err == nil {
			rep.ServerRSSMiB, rep.ServerHWMMiB = mib(rss), mib(hwm)
		}
		rep.ServerCPUPercent = 100 * serverCPU / o.Duration.Seconds()
	}
	var hist Histogram
	var loadCPU float64
	var loadRSS int64
	for _, r := range results {
		rep.Calls += r.Calls
		rep.Errors += r.Errors
		rep.Live += r.Live
		rep.Dropped += r.Dropped
		hist.MergeData(r.Latency)
		loadCPU += r.CPUSeconds
		loadRSS += r.RSSKiB
		if rep.FirstError == "" {
			rep.FirstError = r.FirstError
		}
	}
	rep.LoadgenCPUPercent = 100 * loadCPU / o.Duration.Seconds()
	rep.LoadgenRSSMiB = mib(loadRSS)
	rep.CallsPerSec = float64(rep.Calls) / o.Duration.Seconds()
	rep.P50ms, rep.P90ms, rep.P99ms = ms(hist.Quantile(0.5)), ms(hist.Quantile(0.9)), ms(hist.Quantile(0.99))
	rep.MaxMs = ms(hist.Max())
	if rep.Connected > 0 && rep.ServerRSSMiB > 0 {
		rep.ServerRSSPerStationKiB = round1(rep.ServerRSSMiB * 1024 / float64(rep.Connected))
		rep.ServerRSSMarginalKiB = round1((rep.ServerRSSMiB - rep.ServerBaselineRSSMiB) * 1024 / float64(rep.Connected))
	}
	switch o.Mode {
	case ModeCalls:
		rep.TargetCallsPerSec = targetCallsPerSec
		rep.TargetMet = rep.CallsPerSec >= targetCallsPerSec && rep.Errors == 0
	case ModeIdle:
		rep.TargetStations, rep.TargetServerRSSMiB = targetStations, targetRSSMiB
		// Held to its share of the target when fewer stations are run.
		budget := targetRSSMiB * float64(rep.Stations) / targetStations
		rep.TargetMet = rep.Live == rep.Stations && rep.ServerRSSMiB > 0 && rep.ServerRSSMiB <= budget
	}
	return rep, nil
}

func firstErrorNote(s string) string {
	if s == "" {
		return ""
	}
	return "; first error: " + s
}

func mib(kib int64) float64      { return round1(float64(kib) / 1024) }
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func round1(v float64) float64   { return float64(int64(v*10+0.5)) / 10 }

// plan splits the stations over groups: this process, or worker processes.
func (o Options) plan() []group {
	procs := o.Processes
	if procs <= 0 {
		if o.Stations <= o.MaxPerProcess {
			cfg := Config{Mode: o.Mode, URL: o.URL, Prefix: o.Prefix, First: 1, Stations: o.Stations, ConnectRate: o.ConnectRate}
			return []group{&localGroup{gen: NewGenerator(cfg)}}
		}
		procs = (o.Stations + o.MaxPerProcess - 1) / o.MaxPerProcess
	}
	procs = min(procs, o.Stations)
	var groups []group
	first := 1
	for i := range procs {
		n := o.Stations / procs
		if i < o.Stations%procs {
			n++
		}
		cfg := Config{Mode: o.Mode, URL: o.URL, Prefix: o.Prefix, First: first, Stations: n, ConnectRate: o.ConnectRate / float64(procs)}
		groups = append(groups, &procGroup{opts: o, cfg: cfg})
		first += n
	}
	return groups
}

// group is a share of the stations: in this process, or in a worker process.
type group interface {
	connect(ctx context.Context) (Setup, error)
	run(ctx context.Context, w Window) (Result, error)
	close()
}

type localGroup struct{ gen *Generator }

func (g *localGroup) connect(ctx context.Context) (Setup, error) { return g.gen.Connect(ctx), nil }
func (g *localGroup) run(ctx context.Context, w Window) (Result, error) {
	return g.gen.Run(ctx, w), nil
}
func (g *localGroup) close() { g.gen.Close() }

// The messages between the parent and a worker, one JSON object a line: the parent sends
// the config, then the window, then close (or just closes stdin); the worker answers ready
// after connecting and result after the window.
type workerMessage struct {
	Config *Config `json:"config,omitempty"`
	Window *Window `json:"window,omitempty"`
	Close  bool    `json:"close,omitempty"`
	Ready  *Setup  `json:"ready,omitempty"`
	Result *Result `json:"result,omitempty"`
	Error  string  `json:"error,omitempty"`
}

type procGroup struct {
	opts  Options
	cfg   Config
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
	// stopKill ends the watch that kills the worker when the run's context ends, which
	// would otherwise leave the parent waiting for a worker's answer.
	stopKill func() bool
}

func (g *procGroup) send(m workerMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = g.stdin.Write(append(b, '\n'))
	return err
}

func (g *procGroup) receive() (workerMessage, error) {
	var m workerMessage
	if !g.out.Scan() {
		err := g.out.Err()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return m, fmt.Errorf("loadtest: worker %d: %w", g.cmd.Process.Pid, err)
	}
	if err := json.Unmarshal(g.out.Bytes(), &m); err != nil {
		return m, fmt.Errorf("loadtest: worker %d: %w", g.cmd.Process.Pid, err)
	}
	if m.Error != "" {
		return m, fmt.Errorf("loadtest: worker %d: %s", g.cmd.Process.Pid, m.Error)
	}
	return m, nil
}

func (g *procGroup) connect(ctx context.Context) (Setup, error) {
	g.cmd = exec.Command(g.opts.Executable, g.opts.WorkerArgs...)
	g.cmd.Stderr = os.Stderr
	var err error
	if g.stdin, err = g.cmd.StdinPipe(); err != nil {
		return Setup{}, err
	}
	stdout, err := g.cmd.StdoutPipe()
	if err != nil {
		return Setup{}, err
	}
	g.out = bufio.NewScanner(stdout)
	g.out.Buffer(make([]byte, 0, 64<<10), 16<<20)
	if err := g.cmd.Start(); err != nil {
		return Setup{}, fmt.Errorf("loadtest: start worker: %w", err)
	}
	g.stopKill = context.AfterFunc(ctx, func() { g.cmd.Process.Kill() })
	cfg := g.cfg
	if err := g.send(workerMessage{Config: &cfg}); err != nil {
		return Setup{}, fmt.Errorf("loadtest: worker %d: %w", g.cmd.Process.Pid, err)
	}
	m, err := g.receive()
	if err != nil {
		return Setup{}, err
	}
	if m.Ready == nil {
		return Setup{}, fmt.Errorf("loadtest: worker %d: expected ready", g.cmd.Process.Pid)
	}
	return *m.Ready, nil
}

func (g *procGroup) run(ctx context.Context, w Window) (Result, error) {
	if err := g.send(workerMessage{Window: &w}); err != nil {
		return Result{}, fmt.Errorf("loadtest: worker %d: %w", g.cmd.Process.Pid, err)
	}
	m, err := g.receive()
	if err != nil {
		return Result{}, err
	}
	if m.Result == nil {
		return Result{}, fmt.Errorf("loadtest: worker %d: expected result", g.cmd.Process.Pid)
	}
	return *m.Result, nil
}

func (g *procGroup) close() {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	g.stopKill()
	_ = g.send(workerMessage{Close: true})
	g.stdin.Close()
	done := make(chan struct{})
	go func() { g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		g.cmd.Process.Kill()
		<-done
	}
}

// Worker runs the worker side of the protocol on stdin and stdout: it is what the
// executable does when the parent starts it with Options.WorkerArgs.
func Worker(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 0, 64<<10), 1<<20)
	enc := json.NewEncoder(stdout)
	next := func() (workerMessage, error) {
		var m workerMessage
		if !in.Scan() {
			if err := in.Err(); err != nil {
				return m, err
			}
			return m, io.EOF
		}
		return m, json.Unmarshal(in.Bytes(), &m)
	}
	m, err := next()
	if err != nil || m.Config == nil {
		return fmt.Errorf("loadtest worker: expected the config: %v", err)
	}
	gen := NewGenerator(*m.Config)
	defer gen.Close()
	setup := gen.Connect(ctx)
	if err := enc.Encode(workerMessage{Ready: &setup}); err != nil {
		return err
	}
	for {
		m, err := next()
		if err == io.EOF || m.Close {
			return nil
		}
		if err != nil {
			return fmt.Errorf("loadtest worker: %w", err)
		}
		if m.Window != nil {
			res := gen.Run(ctx, *m.Window)
			if err := enc.Encode(workerMessage{Result: &res}); err != nil {
				return err
			}
		}
	}
}

// Server is a chargebook server spawned for a load run, with its own data directory.
type Server struct {
	URL    string // the load account's OCPP URL
	Addr   string
	PID    int
	Dir    string
	cmd    *exec.Cmd
	log    *os.File
	exited chan error // receives cmd.Wait's result
}

// The operator account the load stations belong to.
const (
	loadEmail    = "load@example.com"
	loadPassword = "loadtest-password"
)

// SpawnServer creates a data directory with an operator account and starts
// `exe serve` on a free loopback port, returning once it accepts connections. Its log goes
// to server.log in the data directory.
func SpawnServer(ctx context.Context, exe string, extraArgs []string) (*Server, error) {
	dir, err := os.MkdirTemp("", "chargebook-load-")
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	out, err := exec.CommandContext(ctx, exe, "operator", "create", "--data", dir, "--email", loadEmail, "--password", loadPassword).Output()
	if err != nil {
		os.RemoveAll(dir)
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("loadtest: operator create: %w", err)
	}
	var acct struct {
		AccountKey string `json:"accountKey"`
	}
	if err := json.Unmarshal(out, &acct); err != nil || acct.AccountKey == "" {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("loadtest: operator create printed %q: %v", out, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("loadtest: find a free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()

	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	args := append([]string{"serve", "--listen", addr, "--data", dir, "--log-level", "warn"}, extraArgs...)
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("loadtest: start server: %w", err)
	}
	s := &Server{URL: "ws://" + addr + "/api/Ocpp16/" + acct.AccountKey + "/", Addr: addr, PID: cmd.Process.Pid, Dir: dir, cmd: cmd, log: logf}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			logf.Close()
			tail, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("loadtest: server exited (%v): %s", err, lastLines(string(tail), 10))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			cmd.Process.Kill()
			<-exited
			logf.Close()
			os.RemoveAll(dir)
			return nil, fmt.Errorf("loadtest: server did not accept connections on %s", addr)
		}
	}
	s.exited = exited
	return s, nil
}

// Stop stops the server with SIGTERM, as an operator would, waits for it, and removes its
// data directory.
func (s *Server) Stop() error {
	defer os.RemoveAll(s.Dir)
	defer s.log.Close()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-s.exited:
		return err
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		return errors.New("loadtest: server did not stop within 60s of SIGTERM; killed")
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
