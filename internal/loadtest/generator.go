package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Mode is what the stations do once connected.
type Mode string

const (
	// ModeCalls: each station starts a transaction, then sends calls in a closed loop, one
	// after the other's answer: 18 MeterValues with four sampled values, one Heartbeat and
	// one StatusNotification in every 20.
	ModeCalls Mode = "calls"
	// ModeIdle: each station boots, reports its connectors and stays connected, answering
	// the server's pings.
	ModeIdle Mode = "idle"
)

// Config is the share of a load that one process runs.
type Config struct {
	Mode Mode `json:"mode"`
	// URL is the account's OCPP URL; station ids are appended.
	URL    string `json:"url"`
	Prefix string `json:"prefix"` // default "LOAD-"
	// First is the number of the first station, so that processes do not share ids.
	First    int `json:"first"`
	Stations int `json:"stations"`
	// ConnectRate is how many stations start connecting per second (default 1000), and
	// ConnectConcurrency how many handshakes may be under way at once (default 200).
	ConnectRate        float64       `json:"connect_rate"`
	ConnectConcurrency int           `json:"connect_concurrency"`
	SetupTimeout       time.Duration `json:"setup_timeout"` // per station, default 60s
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = "LOAD-"
	}
	if c.First <= 0 {
		c.First = 1
	}
	if c.ConnectRate <= 0 {
		c.ConnectRate = 1000
	}
	if c.ConnectConcurrency <= 0 {
		c.ConnectConcurrency = 200
	}
	if c.SetupTimeout <= 0 {
		c.SetupTimeout = 60 * time.Second
	}
	if !strings.HasSuffix(c.URL, "/") {
		c.URL += "/"
	}
	return c
}

// Setup is how connecting the stations went.
type Setup struct {
	Connected  int     `json:"connected"`
	Failed     int     `json:"failed"`
	Seconds    float64 `json:"seconds"`
	FirstError string  `json:"first_error,omitempty"`
}

// Window is when the load runs and when it counts: the calls loops start at Start, and
// calls answered in [Measure, End) are counted. In idle mode the stations just stay.
type Window struct {
	Start   time.Time `json:"start"`
	Measure time.Time `json:"measure"`
	End     time.Time `json:"end"`
}

// Result is what one generator counted in the window.
type Result struct {
	Stations int    `json:"stations"`
	Calls    uint64 `json:"calls"`  // answered with a CALLRESULT
	Errors   uint64 `json:"errors"` // answered with a CALLERROR, or lost
	// Live is the number of stations still connected at the end; Dropped those whose
	// connection ended before it.
	Live       int           `json:"live"`
	Dropped    int           `json:"dropped"`
	Latency    HistogramData `json:"latency"`
	CPUSeconds float64       `json:"cpu_seconds"` // this process's, during [Measure, End)
	RSSKiB     int64         `json:"rss_kib"`     // this process's, at the end
	FirstError string        `json:"first_error,omitempty"`
}

// Generator runs the stations of one process.
type Generator struct {
	cfg    Config
	client *http.Client
	hist   Histogram

	start  chan struct{} // closed by Run: the calls loops go
	window Window        // set before start is closed

	stations  []*loadStation
	wg        sync.WaitGroup // every station goroutine
	loops     sync.WaitGroup // the calls loops
	setups    sync.WaitGroup
	connected atomic.Int64
	failed    atomic.Int64
	dropped   atomic.Int64
	closing   atomic.Bool

	errMu    sync.Mutex
	firstErr string
}

// NewGenerator returns a generator; nothing connects until Connect.
func NewGenerator(cfg Config) *Generator {
	cfg = cfg.withDefaults()
	g := &Generator{cfg: cfg, start: make(chan struct{})}
	g.client = &http.Client{Transport: &http.Transport{
		DialContext: (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}).DialContext,
		// Small: they are only used for the handshake, and thousands are made.
		ReadBufferSize:     2048,
		WriteBufferSize:    1024,
		DisableCompression: true,
	}}
	width := max(6, len(strconv.Itoa(cfg.First+cfg.Stations)))
	for i := range cfg.Stations {
		g.stations = append(g.stations, &loadStation{id: fmt.Sprintf("%s%0*d", cfg.Prefix, width, cfg.First+i)})
	}
	return g
}

func (g *Generator) noteError(err error) {
	g.errMu.Lock()
	defer g.errMu.Unlock()
	if g.firstErr == "" {
		g.firstErr = err.Error()
	}
}

// Connect connects and sets up every station, at the configured rate, and returns once all
// are set up or have failed. Each station's goroutine then waits for Run.
func (g *Generator) Connect(ctx context.Context) Setup {
	began := time.Now()
	step := time.Duration(float64(time.Second) / g.cfg.ConnectRate)
	slots := make(chan struct{}, g.cfg.ConnectConcurrency)
	for i, st := range g.stations {
		if d := time.Until(began.Add(time.Duration(i) * step)); d > 0 {
			time.Sleep(d)
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			g.failed.Add(int64(len(g.stations) - i))
			break
		}
		g.wg.Add(1)
		g.setups.Add(1)
		go g.run(ctx, st, func(err error) {
			<-slots
			if err != nil {
				g.failed.Add(1)
				g.noteError(fmt.Errorf("%s: %w", st.id, err))
			} else {
				g.connected.Add(1)
			}
			g.setups.Done()
		})
	}
	g.setups.Wait()
	if g.cfg.Mode == ModeIdle {
		// The handshakes grew the stations' stacks and left garbage; an idle process would
		// not collect for minutes. Thousands of stations must fit in a worker.
		debug.FreeOSMemory()
	}
	g.errMu.Lock()
	defer g.errMu.Unlock()
	return Setup{
		Connected: int(g.connected.Load()), Failed: int(g.failed.Load()),
		Seconds: time.Since(began).Seconds(), FirstError: g.firstErr,
	}
}

// run is a station's one goroutine, from its handshake to its end.
func (g *Generator) run(ctx context.Context, st *loadStation, setupDone func(error)) {
	defer g.wg.Done()
	err := st.setup(ctx, g)
	if err == nil && g.cfg.Mode == ModeCalls {
		g.loops.Add(1) // before Connect can return, so that Run waits for this loop
	}
	setupDone(err)
	if err != nil {
		return
	}
	switch g.cfg.Mode {
	case ModeCalls:
		select {
		case <-g.start:
		case <-ctx.Done():
			g.loops.Done()
			return
		}
		st.callLoop(g)
		defer g.loops.Done()
		// Close the books on the transaction, after the window; a failure only matters to
		// a server that is kept.
		if st.broken == nil {
			st.seq++
			st.register += 3
			id := strconv.AppendUint(st.idBuf[:0], st.seq, 10)
			st.wbuf = stopTransaction(st.wbuf[:0], id, st.txID, st.register, time.Now())
			tctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, _ = st.roundTrip(tctx, st.wbuf, id, &st.rbuf)
			cancel()
		}
	case ModeIdle:
		st.idle(g)
	}
}

// Run runs the window and returns what was counted. Calls mode returns once the calls loops
// have finished; idle mode at the end of the window.
func (g *Generator) Run(ctx context.Context, w Window) Result {
	g.window = w
	close(g.start)
	sleepUntil(ctx, w.Measure)
	cpu0 := cpuSeconds(0)
	sleepUntil(ctx, w.End)
	cpu1 := cpuSeconds(0)
	res := Result{Stations: len(g.stations), CPUSeconds: cpu1 - cpu0}
	if g.cfg.Mode == ModeCalls {
		done := make(chan struct{})
		go func() { g.loops.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			// A server that stopped answering: end the calls still waiting.
			g.closeConns()
			<-done
		}
		for _, st := range g.stations {
			res.Calls += st.calls
			res.Errors += st.errors
			if st.broken != nil {
				res.Dropped++
			}
		}
	} else {
		res.Dropped = int(g.dropped.Load())
	}
	res.Live = int(g.connected.Load()) - res.Dropped
	res.Latency = g.hist.Data()
	res.RSSKiB, _ = rssKiB(0)
	g.errMu.Lock()
	res.FirstError = g.firstErr
	g.errMu.Unlock()
	return res
}

// Histogram is the latency histogram of the calls counted.
func (g *Generator) Histogram() *Histogram { return &g.hist }

// Close disconnects every station and waits for their goroutines.
func (g *Generator) Close() {
	g.closing.Store(true)
	select {
	case <-g.start:
	default:
		close(g.start)
	}
	g.setups.Wait()
	g.closeConns()
	g.wg.Wait()
}

func (g *Generator) closeConns() {
	g.closing.Store(true)
	for _, st := range g.stations {
		if ws := st.conn.Load(); ws != nil {
			ws.CloseNow()
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// loadStation is one station; only its goroutine touches it, apart from conn.
type loadStation struct {
	id   string
	conn atomic.Pointer[websocket.Conn]

	seq      uint64
	idBuf    []byte
	wbuf     []byte
	rbuf     []byte
	txID     int64
	register int64
	calls    uint64
	errors   uint64
	broken   error // the connection failed during the calls loop
}

// bufPool lends setup and idle stations a buffer only while they handle a frame, so that
// thousands of idle stations hold none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (st *loadStation) setup(ctx context.Context, g *Generator) error {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.SetupTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, g.cfg.URL+st.id, &websocket.DialOptions{
		HTTPClient:      g.client,
		Subprotocols:    []string{"ocpp1.6"},
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return err
	}
	if ws.Subprotocol() != "ocpp1.6" {
		ws.CloseNow()
		return errors.New("server did not select subprotocol ocpp1.6")
	}
	st.conn.Store(ws)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	wb := bufPool.Get().(*[]byte)
	defer bufPool.Put(wb)

	call := func(frame func(b, id []byte) []byte) ([]byte, error) {
		st.seq++
		id := strconv.AppendUint(st.idBuf[:0], st.seq, 10)
		*wb = frame((*wb)[:0], id)
		r, err := st.roundTrip(ctx, *wb, id, bp)
		if err != nil {
			return nil, err
		}
		if r.typ != '3' {
			return nil, fmt.Errorf("answered %s", r.payload)
		}
		return r.payload, nil
	}
	payload, err := call(func(b, id []byte) []byte { return bootNotification(b, id, st.id) })
	if err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	if !strings.Contains(string(payload), `"Accepted"`) {
		return fmt.Errorf("boot: not accepted: %s", payload)
	}
	for conn := range 2 {
		if _, err := call(func(b, id []byte) []byte { return statusNotification(b, id, conn, "Available", time.Now()) }); err != nil {
			return fmt.Errorf("status: %w", err)
		}
	}
	if g.cfg.Mode != ModeCalls {
		return nil
	}
	st.register = 1_000_000
	payload, err = call(func(b, id []byte) []byte { return startTransaction(b, id, "LOADTAG", st.register, time.Now()) })
	if err != nil {
		return fmt.Errorf("start transaction: %w", err)
	}
	var ok bool
	if st.txID, ok = intField(payload, "transactionId"); !ok {
		return fmt.Errorf("start transaction: no transactionId in %s", payload)
	}
	if _, err := call(func(b, id []byte) []byte { return statusNotification(b, id, 1, "Charging", time.Now()) }); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	st.wbuf = make([]byte, 0, 1024)
	st.rbuf = make([]byte, 0, 1024)
	return nil
}

// roundTrip sends a CALL and reads until its answer, refusing the server's own CALLs on the
// way. The answer points into *buf.
func (st *loadStation) roundTrip(ctx context.Context, frame, id []byte, buf *[]byte) (reply, error) {
	ws := st.conn.Load()
	if err := ws.Write(ctx, websocket.MessageText, frame); err != nil {
		return reply{}, err
	}
	for {
		_, r, err := ws.Reader(ctx)
		if err != nil {
			return reply{}, err
		}
		if *buf, err = readMessage(r, (*buf)[:0]); err != nil {
			return reply{}, err
		}
		rep := parseReply(*buf)
		switch {
		case rep.typ == '2':
			var out [128]byte
			if err := ws.Write(ctx, websocket.MessageText, callErrorNotSupported(out[:0], rep.id)); err != nil {
				return reply{}, err
			}
		case rep.typ == 0:
			return reply{}, fmt.Errorf("unreadable frame %.100q", *buf)
		case string(rep.id) == string(id):
			return rep, nil
		}
		// Otherwise a late answer to an earlier call: skip it.
	}
}

// callLoop sends calls until the window ends. It uses context.Background for every read and
// write: a cancellable context costs the websocket a registration per frame.
func (st *loadStation) callLoop(g *Generator) {
	w := g.window
	bg := context.Background()
	for i := 0; ; i++ {
		now := time.Now()
		if !now.Before(w.End) {
			return
		}
		st.seq++
		id := strconv.AppendUint(st.idBuf[:0], st.seq, 10)
		switch i % 20 {
		case 19:
			st.wbuf = heartbeat(st.wbuf[:0], id)
		case 9:
			st.wbuf = statusNotification(st.wbuf[:0], id, 1, "Charging", now)
		default:
			st.register += 3 // 11 kW for a second, give or take
			st.wbuf = meterValues(st.wbuf[:0], id, st.txID, st.register, 10_800+int64(st.seq%400), 20+int(st.seq/64%80), now)
		}
		rep, err := st.roundTrip(bg, st.wbuf, id, &st.rbuf)
		done := time.Now()
		counted := !done.Before(w.Measure) && done.Before(w.End)
		if err != nil {
			if !g.closing.Load() {
				g.noteError(fmt.Errorf("%s: %w", st.id, err))
			}
			st.broken = err
			if counted {
				st.errors++
			}
			return
		}
		if !counted {
			continue
		}
		if rep.typ != '3' {
			st.errors++
			g.noteError(fmt.Errorf("%s: answered %s", st.id, rep.payload))
			continue
		}
		st.calls++
		g.hist.Record(done.Sub(now))
	}
}

// idle keeps the station connected: reading lets the websocket answer the server's pings.
func (st *loadStation) idle(g *Generator) {
	ws := st.conn.Load()
	for {
		_, r, err := ws.Reader(context.Background())
		if err != nil {
			if !g.closing.Load() {
				g.dropped.Add(1)
				g.noteError(fmt.Errorf("%s: %w", st.id, err))
			}
			return
		}
		bp := bufPool.Get().(*[]byte)
		*bp, err = readMessage(r, (*bp)[:0])
		if err == nil {
			if rep := parseReply(*bp); rep.typ == '2' {
				var out [128]byte
				err = ws.Write(context.Background(), websocket.MessageText, callErrorNotSupported(out[:0], rep.id))
			}
		}
		bufPool.Put(bp)
		if err != nil {
			if !g.closing.Load() {
				g.dropped.Add(1)
				g.noteError(fmt.Errorf("%s: %w", st.id, err))
			}
			return
		}
	}
}

// readMessage reads one websocket message into b, growing it as needed.
func readMessage(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
