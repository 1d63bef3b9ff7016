package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/chargebook/chargebook/internal/ocpp"
)

// Handler answers an incoming CALL with the payload of the CALLRESULT (a JSON object; nil
// sends {}), or with an error: an *ocpp.Error (also wrapped) is sent as the CALLERROR as it
// is, any other error as InternalError and logged. A panic is recovered, logged and answered
// with InternalError; the connection stays up.
//
// Handlers run one at a time on the connection's read loop, so while one runs nothing else is
// read from that connection: no replies to our calls, no pongs. Keep them short, and never Call
// the same connection from a handler, or from a goroutine the handler waits for: the reply
// could not be read until the handler returns. To send a CALL in reaction to one, start a
// goroutine and return; its Call waits for the handler to return. A Call made with the
// handler's context (or one derived from it) that is still waiting after a second fails with
// ErrCallInHandler instead of deadlocking.
type Handler func(ctx context.Context, call Call) (json.RawMessage, error)

// Call is an incoming CALL.
type Call struct {
	ID         string
	Action     string
	Payload    json.RawMessage // a JSON object; owned by the handler, it may keep it
	ReceivedAt time.Time
}

// Conn is one OCPP-J connection. Serve must run for the Conn to work: it reads the replies to
// Call, answers the peer's CALLs and answers pings. All methods are safe for concurrent use.
type Conn struct {
	ws   *websocket.Conn
	opts Options
	log  *slog.Logger
	// readCtx bounds every read; kill cancels it. It is how CloseNow cuts a connection that
	// is in the middle of a close handshake: websocket.Conn.CloseNow then only waits for the
	// handshake, but a read whose context ends closes the connection at once.
	readCtx context.Context
	kill    context.CancelFunc
	// handshake is set once a close handshake has begun (websocket.Conn.Close); whoever began
	// it finishes it, so nobody else waits for it.
	handshake atomic.Bool

	// sem is the single slot for our outgoing CALL: OCPP-J allows one unanswered CALL per
	// direction, and a slot honours the caller's context where a mutex would not.
	sem chan struct{}
	// replies carries the reply to the CALL holding sem. It is sent on only under mu, by
	// whoever clears hasPending, so at most one value is in flight and Call can always tell
	// whether one is coming.
	replies   chan reply
	nextID    atomic.Uint64
	callTimer *time.Timer // only touched by the holder of sem

	mu          sync.Mutex
	pending     pendingCall // valid while hasPending
	hasPending  bool
	cause       error                   // why the connection ended; nil while it is up
	closed      chan struct{}           // closed when cause is set
	cancelServe context.CancelCauseFunc // cancels the handlers' context
	pingTimer   *time.Timer
	// bg counts timer callbacks (ping, write watchdog, context watch) so Serve can wait for
	// them: Add happens only under mu while cause is nil, Wait only once cause is set.
	bg sync.WaitGroup

	serving  atomic.Bool
	done     chan struct{} // closed when Serve returns
	handling atomic.Uint64 // number of the handler running now, 0 when none
	handled  uint64        // handlers started so far; read loop only
	framesIn atomic.Uint64 // data frames received, so a late pong is not taken for a dead peer

	// Writes are serialised by wmu so that one reusable timer can watch them all; a
	// per-write context with a deadline would cost several allocations per frame.
	wmu           sync.Mutex
	writeDeadline atomic.Int64 // UnixNano deadline of the write in progress, 0 when none
	writeTimer    *time.Timer
}

type pendingCall struct {
	id, action string
}

type reply struct {
	payload json.RawMessage
	err     error
	closed  bool // the connection ended; Call builds the error from cause
}

// NewConn wraps an established websocket, from websocket.Accept (with AcceptOptions) or from
// Dial. The Conn takes ownership of ws: close it through the Conn. Nothing happens until Serve
// is called.
func NewConn(ws *websocket.Conn, opts Options) *Conn {
	opts = opts.withDefaults()
	c := &Conn{
		ws:      ws,
		opts:    opts,
		log:     opts.Logger,
		sem:     make(chan struct{}, 1),
		replies: make(chan reply, 1),
		closed:  make(chan struct{}),
		done:    make(chan struct{}),
	}
	c.readCtx, c.kill = context.WithCancel(context.Background())
	ws.SetReadLimit(opts.MaxFrameBytes)
	c.writeTimer = time.AfterFunc(time.Hour, c.writeExpired)
	c.writeTimer.Stop()
	return c
}

// Subprotocol is the websocket subprotocol negotiated in the handshake.
func (c *Conn) Subprotocol() string { return c.ws.Subprotocol() }

// Done is closed when Serve has returned: the connection is closed, every Call on it has
// returned or will return ErrClosed, and no goroutine of the Conn is left.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Serve runs the connection until it ends: it reads every frame, hands incoming CALLs to h one
// at a time in order, and delivers replies to Call. It returns why the connection ended, never
// nil: ErrClosed after Close or CloseNow; ctx's error when ctx was done (the peer is then sent
// status 1001, going away); ErrPingTimeout or ErrWriteTimeout for a dead peer; otherwise the
// read error, which for a peer's close frame carries its status (see websocket.CloseStatus).
//
// The context passed to h carries ctx's values and is cancelled when the connection ends.
// Frames that do not parse are answered with the CALLERROR ocpp.ParseFrame gives (id "-1"
// when no id could be read), except replies: a malformed reply to our pending call fails that
// call with ErrBadReply, and a reply that matches no pending call is logged and dropped.
// h may be nil for a peer that only makes calls: CALLs are then answered NotImplemented.
// Serve may be called once.
func (c *Conn) Serve(ctx context.Context, h Handler) error {
	if !c.serving.CompareAndSwap(false, true) {
		return errors.New("rpc: Serve called twice")
	}
	defer close(c.done)

	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c.mu.Lock()
	cause := c.cause
	if cause == nil {
		c.cancelServe = cancel
		if c.opts.PingInterval > 0 {
			c.pingTimer = time.AfterFunc(c.opts.PingInterval, c.ping)
		}
	}
	c.mu.Unlock()
	if cause != nil { // closed before Serve
		return fmt.Errorf("rpc: %w", cause)
	}

	stop := context.AfterFunc(ctx, func() {
		if !c.bgStart() {
			return
		}
		defer c.bg.Done()
		if c.end(context.Cause(ctx)) {
			c.handshake.Store(true)
			_ = c.ws.Close(websocket.StatusGoingAway, "")
		}
	})
	err := c.readLoop(sctx, h)
	stop()

	if errors.Is(err, websocket.ErrMessageTooBig) {
		// The websocket has already sent status 1009; Close reads out the rest of the frame
		// and waits for the peer's close frame, so the peer sees the status rather than a
		// reset connection.
		c.end(fmt.Errorf("frame larger than %d bytes: %w", c.opts.MaxFrameBytes, err))
		c.handshake.Store(true)
		_ = c.ws.Close(websocket.StatusMessageTooBig, "")
	} else {
		c.end(fmt.Errorf("read: %w", err))
	}
	if !c.handshake.Load() {
		_ = c.ws.CloseNow()
	}
	c.kill()
	c.bg.Wait()

	c.mu.Lock()
	cause = c.cause
	c.mu.Unlock()
	return fmt.Errorf("rpc: %w", cause)
}

func (c *Conn) readLoop(ctx context.Context, h Handler) error {
	for {
		// Not ctx: when ctx ends, the peer is owed a close handshake, which a read cut by ctx
		// would preclude; Serve watches ctx itself.
		_, r, err := c.ws.Reader(c.readCtx)
		if err != nil {
			return err
		}
		// The buffer is taken only once a message has arrived, so idle connections hold none.
		bp := getBuf()
		data, err := readMessage(r, (*bp)[:0])
		if err != nil {
			putBuf(bp, data)
			return err
		}
		c.framesIn.Add(1)
		at := time.Now()
		if c.opts.OnFrame != nil {
			c.opts.OnFrame(Received, data)
		}
		// ParseFrame copies what it returns out of data, so the buffer can go back at once.
		f, perr := ocpp.ParseFrame(data)
		putBuf(bp, data)
		if perr != nil {
			c.badFrame(f, perr)
			continue
		}
		switch f.Type {
		case ocpp.Call:
			c.answer(ctx, h, Call{ID: f.ID, Action: f.Action, Payload: f.Payload, ReceivedAt: at})
		case ocpp.CallResult:
			c.deliver(f.ID, reply{payload: f.Payload})
		case ocpp.CallError:
			c.deliver(f.ID, reply{err: &CallError{
				Code: f.ErrorCode, Description: f.ErrorDescription, Details: f.ErrorDetails,
			}})
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
		// Only a bare io.EOF ends the message; a wrapped one is a connection cut mid-frame.
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

func (c *Conn) badFrame(f ocpp.Frame, perr *ocpp.Error) {
	switch f.Type {
	case ocpp.CallResult, ocpp.CallError:
		// OCPP-J answers only CALLs with a CALLERROR (answering an error with an error can
		// loop forever between two peers); the caller waiting for this reply hears about it.
		if !c.deliver(f.ID, reply{err: fmt.Errorf("%w: %w", ErrBadReply, perr)}) {
			return
		}
		c.log.Warn("rpc: malformed reply", "id", f.ID, "err", perr)
		return
	}
	c.log.Warn("rpc: malformed frame", "id", f.ID, "err", perr)
	c.writeCallError(f.ID, perr)
}

// deliver hands a reply to the pending call with the given id, and reports whether there was one.
func (c *Conn) deliver(id string, r reply) bool {
	c.mu.Lock()
	ok := c.hasPending && c.pending.id == id
	if ok {
		c.hasPending = false
		if ce, isCE := r.err.(*CallError); isCE {
			ce.Action = c.pending.action
		}
		c.replies <- r
	}
	c.mu.Unlock()
	if !ok {
		// A late reply to a call that timed out, or a peer confusing ids.
		c.log.Warn("rpc: reply matches no pending call, dropped", "id", id)
	}
	return ok
}

var emptyObject = json.RawMessage("{}")

// handlerKey marks the contexts passed to handlers, so Call can refuse to deadlock.
type handlerKey struct{}

type handlerMark struct {
	c *Conn
	n uint64 // which handler invocation; a goroutine outliving it may Call
}

func (c *Conn) answer(ctx context.Context, h Handler, call Call) {
	c.handled++
	c.handling.Store(c.handled)
	hctx := context.WithValue(ctx, handlerKey{}, &handlerMark{c: c, n: c.handled})
	payload, err := c.runHandler(hctx, h, call)
	c.handling.Store(0)

	if err == nil {
		if len(payload) == 0 {
			payload = emptyObject
		}
		if !isObject(payload) {
			c.log.Error("rpc: handler returned a payload that is not a JSON object",
				"action", call.Action, "id", call.ID)
			err = errInternal
		}
	}
	if err != nil {
		var oe *ocpp.Error
		if !errors.As(err, &oe) {
			if err != errInternal {
				c.log.Error("rpc: handler failed", "action", call.Action, "id", call.ID, "err", err)
			}
			oe = internalError
		}
		c.writeCallError(call.ID, oe)
		return
	}
	bp := getBuf()
	b := ocpp.AppendCallResult((*bp)[:0], call.ID, payload)
	_ = c.write(b) // a failed write ends the connection, and Serve reports it
	putBuf(bp, b)
}

// errInternal marks a failure that was already logged.
var errInternal = errors.New("internal error")

// internalError is what the peer is told when a handler fails; the details stay in our log.
var internalError = &ocpp.Error{Code: ocpp.InternalError, Description: "internal error"}

func (c *Conn) runHandler(ctx context.Context, h Handler, call Call) (payload json.RawMessage, err error) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("rpc: handler panicked", "action", call.Action, "id", call.ID,
				"panic", v, "stack", string(debug.Stack()))
			payload, err = nil, errInternal
		}
	}()
	if h == nil {
		return nil, ocpp.Errorf(ocpp.NotImplemented, "%s is not implemented", call.Action)
	}
	return h(ctx, call)
}

func (c *Conn) writeCallError(id string, e *ocpp.Error) {
	bp := getBuf()
	b := ocpp.AppendCallError((*bp)[:0], id, e)
	_ = c.write(b)
	putBuf(bp, b)
}

// Call sends a CALL and waits for its reply, returning the CALLRESULT payload (a JSON object,
// for package ocpp to decode). payload must be a JSON object; nil sends {}. Calls on one Conn
// are sent one at a time, as OCPP-J requires; concurrent callers queue for their turn, bounded
// by ctx. Errors: a *CallError when the peer answers with a CALLERROR; ErrTimeout; ErrClosed;
// ErrBadReply; ErrCallInHandler; ctx's error.
func (c *Conn) Call(ctx context.Context, action string, payload []byte) (json.RawMessage, error) {
	if m, ok := ctx.Value(handlerKey{}).(*handlerMark); ok && m.c == c && c.handling.Load() == m.n {
		if err := c.awaitHandler(ctx, m.n); err != nil {
			return nil, fmt.Errorf("rpc: %s: %w", action, err)
		}
	}
	if action == "" {
		return nil, errors.New("rpc: call: empty action")
	}
	if len(payload) == 0 {
		payload = emptyObject
	} else if !isObject(payload) {
		return nil, fmt.Errorf("rpc: %s: payload is not a JSON object", action)
	}

	select {
	case c.sem <- struct{}{}:
	case <-c.closed:
		return nil, c.closedError(action)
	case <-ctx.Done():
		return nil, fmt.Errorf("rpc: %s: %w", action, ctx.Err())
	}
	defer func() { <-c.sem }()

	id := strconv.FormatUint(c.nextID.Add(1), 10)
	c.mu.Lock()
	if c.cause != nil {
		c.mu.Unlock()
		return nil, c.closedError(action)
	}
	c.pending = pendingCall{id: id, action: action}
	c.hasPending = true
	c.mu.Unlock()

	// From here on the reply channel always receives exactly one value unless we take the
	// pending call back: a write failure ends the connection, which answers it with closed.
	bp := getBuf()
	b := ocpp.AppendCall((*bp)[:0], id, action, payload)
	_ = c.write(b)
	putBuf(bp, b)

	if c.callTimer == nil {
		c.callTimer = time.NewTimer(c.opts.CallTimeout)
	} else {
		c.callTimer.Reset(c.opts.CallTimeout)
	}
	var r reply
	select {
	case r = <-c.replies:
		c.callTimer.Stop()
	case <-c.callTimer.C:
		if c.withdraw(id) {
			return nil, fmt.Errorf("rpc: %s: %w (%v)", action, ErrTimeout, c.opts.CallTimeout)
		}
		r = <-c.replies // the reply arrived as the timer fired; it wins
	case <-ctx.Done():
		c.callTimer.Stop()
		if c.withdraw(id) {
			return nil, fmt.Errorf("rpc: %s: %w", action, ctx.Err())
		}
		r = <-c.replies
	}
	switch {
	case r.closed:
		return nil, c.closedError(action)
	case r.err != nil:
		if _, ok := r.err.(*CallError); ok {
			return nil, r.err
		}
		return nil, fmt.Errorf("rpc: %s: %w", action, r.err)
	}
	return r.payload, nil
}

// handlerGrace is how long a Call made with the context of a running handler waits for that
// handler to return. The context cannot tell the handler itself (which would wait for ever)
// from a goroutine it started and is about to leave behind (which only has to wait a moment).
const handlerGrace = time.Second

// awaitHandler waits for handler invocation n to return, for up to handlerGrace. It polls:
// this is a rare path, and a notification would cost every CALL.
func (c *Conn) awaitHandler(ctx context.Context, n uint64) error {
	deadline := time.Now().Add(handlerGrace)
	for wait := 50 * time.Microsecond; c.handling.Load() == n; wait = min(2*wait, 10*time.Millisecond) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return ErrCallInHandler
		}
		time.Sleep(wait)
	}
	return nil
}

// withdraw takes back the pending call with id unless a reply has already been sent for it,
// and reports whether it did; after it, a reply to id is dropped as unmatched.
func (c *Conn) withdraw(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hasPending && c.pending.id == id {
		c.hasPending = false
		return true
	}
	return false
}

func (c *Conn) closedError(action string) error {
	c.mu.Lock()
	cause := c.cause
	c.mu.Unlock()
	if cause == nil || errors.Is(cause, ErrClosed) {
		return fmt.Errorf("rpc: %s: %w", action, ErrClosed)
	}
	return fmt.Errorf("rpc: %s: %w: %w", action, ErrClosed, cause)
}

// Close closes the connection with a close handshake: outstanding and queued calls return
// ErrClosed at once, then the websocket close frame with code and reason (at most 123 bytes)
// is sent and the peer's awaited, for up to 10s in all. It is safe to call from a handler and
// more than once, and CloseNow may cut it short. Serve returns when the peer has answered.
func (c *Conn) Close(code websocket.StatusCode, reason string) error {
	c.end(ErrClosed)
	c.handshake.Store(true)
	err := c.ws.Close(code, reason)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("rpc: close: %w", err)
	}
	return nil
}

// CloseNow closes the connection without a close handshake, or cuts short one that Close
// started: for a peer that seems dead, or a connection being replaced by a newer one from the
// same station. It does not wait: calls return ErrClosed and Serve returns at once. (Only when
// Close began while a frame was being handled can the websocket stay open until Close's
// handshake gives up, 5s at most; Serve returns regardless.)
func (c *Conn) CloseNow() error {
	c.end(ErrClosed)
	c.kill()
	if c.handshake.Load() {
		// The websocket's CloseNow would only wait for the handshake to end; the read loop
		// is cut by kill, and Close's caller owns the rest.
		return nil
	}
	err := c.ws.CloseNow()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("rpc: close: %w", err)
	}
	return nil
}

// end records why the connection ends and releases everyone waiting on it. It does not touch
// the websocket; the caller closes that in the way the cause calls for. It reports whether
// this call was the one that ended it.
func (c *Conn) end(cause error) bool {
	c.mu.Lock()
	if c.cause != nil {
		c.mu.Unlock()
		return false
	}
	c.cause = cause
	close(c.closed)
	if c.hasPending {
		c.hasPending = false
		c.replies <- reply{closed: true}
	}
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	cancel := c.cancelServe
	c.mu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
	return true
}

// fail ends the connection without a close handshake, for a peer that is dead or unusable.
func (c *Conn) fail(cause error) {
	if c.end(cause) {
		c.kill()
		_ = c.ws.CloseNow()
	}
}

// bgStart registers a timer callback with bg, unless the connection has already ended.
func (c *Conn) bgStart() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cause != nil {
		return false
	}
	c.bg.Add(1)
	return true
}

// write sends one text frame; a failure ends the connection, as the websocket's buffered
// writer cannot be used after an error anyway.
func (c *Conn) write(b []byte) error {
	c.wmu.Lock()
	if c.opts.OnFrame != nil {
		c.opts.OnFrame(Sent, b)
	}
	c.writeDeadline.Store(time.Now().Add(c.opts.WriteTimeout).UnixNano())
	c.writeTimer.Reset(c.opts.WriteTimeout)
	err := c.ws.Write(context.Background(), websocket.MessageText, b)
	c.writeDeadline.Store(0)
	c.writeTimer.Stop()
	c.wmu.Unlock()
	if err != nil {
		c.fail(fmt.Errorf("write: %w", err))
	}
	return err
}

// writeExpired runs when the write timer fires. The timer may fire just as a write finishes,
// or belong to an earlier write, so the deadline in writeDeadline decides.
func (c *Conn) writeExpired() {
	if !c.bgStart() {
		return
	}
	defer c.bg.Done()
	d := c.writeDeadline.Load()
	if d == 0 {
		return
	}
	if wait := time.Duration(d - time.Now().UnixNano()); wait > 0 {
		c.writeTimer.Reset(wait)
		return
	}
	c.fail(fmt.Errorf("%w (%v)", ErrWriteTimeout, c.opts.WriteTimeout))
}

// ping runs on pingTimer, in a goroutine of its own that lives only until the pong.
func (c *Conn) ping() {
	if !c.bgStart() {
		return
	}
	defer c.bg.Done()
	seen := c.framesIn.Load()
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.PingTimeout)
	err := c.ws.Ping(ctx)
	cancel()
	if err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			return // the connection broke; the read loop reports why
		}
		// While a handler runs or frames arrive, the read loop is busy and the pong may be
		// sitting unread: the peer is alive.
		if c.handling.Load() == 0 && c.framesIn.Load() == seen {
			c.fail(fmt.Errorf("%w within %v", ErrPingTimeout, c.opts.PingTimeout))
			return
		}
	}
	c.mu.Lock()
	if c.cause == nil {
		c.pingTimer.Reset(c.opts.PingInterval)
	}
	c.mu.Unlock()
}

func isObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// Frame buffers are shared by all connections: a buffer is needed only while one frame is read
// or written, and 15,000 mostly idle connections must not each keep one.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// maxPooledBuf keeps the occasional large frame from pinning its buffer in the pool.
const maxPooledBuf = 64 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(bp *[]byte, b []byte) {
	if cap(b) > maxPooledBuf {
		return
	}
	*bp = b[:0]
	bufPool.Put(bp)
}
