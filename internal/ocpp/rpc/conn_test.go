package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chargebook/chargebook/internal/ocpp"
)

func TestRoundTrip(t *testing.T) {
	var mu sync.Mutex
	var wire []string
	record := func(dir Direction, frame []byte) {
		mu.Lock()
		wire = append(wire, dir.String()+" "+string(frame))
		mu.Unlock()
	}
	srv := newTestServer(t, Options{}, handle(func(ctx context.Context, call Call) (json.RawMessage, error) {
		if call.Action != "Heartbeat" || string(call.Payload) != `{}` || call.ReceivedAt.IsZero() {
			return nil, fmt.Errorf("unexpected call %+v", call)
		}
		return heartbeat(ctx, call)
	}))
	station, _ := dialClient(t, srv.url, Options{OnFrame: record}, func(ctx context.Context, call Call) (json.RawMessage, error) {
		if call.Action != "Reset" {
			return nil, ocpp.Errorf(ocpp.NotImplemented, "%s", call.Action)
		}
		return json.RawMessage(`{"status":"Accepted"}`), nil
	})
	if station.Subprotocol() != Subprotocol {
		t.Errorf("subprotocol %q", station.Subprotocol())
	}
	ctx := context.Background()

	got, err := station.Call(ctx, "Heartbeat", []byte(`{}`))
	if err != nil || string(got) != `{"currentTime":"2025-06-01T12:00:00Z"}` {
		t.Fatalf("station call: %s, %v", got, err)
	}
	central := <-srv.conns
	got, err = central.Call(ctx, "Reset", []byte(`{"type":"Soft"}`))
	if err != nil || string(got) != `{"status":"Accepted"}` {
		t.Fatalf("central call: %s, %v", got, err)
	}

	want := []string{
		`sent [2,"1","Heartbeat",{}]`,
		`received [3,"1",{"currentTime":"2025-06-01T12:00:00Z"}]`,
		`received [2,"1","Reset",{"type":"Soft"}]`,
		`sent [3,"1",{"status":"Accepted"}]`,
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(wire, "\n") != strings.Join(want, "\n") {
		t.Errorf("wire:\n%s\nwant:\n%s", strings.Join(wire, "\n"), strings.Join(want, "\n"))
	}
}

func TestHandlerErrors(t *testing.T) {
	srv := newTestServer(t, Options{}, handle(func(ctx context.Context, call Call) (json.RawMessage, error) {
		switch call.Action {
		case "OcppError":
			return nil, &ocpp.Error{Code: ocpp.PropertyConstraintViolation, Description: "connectorId", Details: map[string]any{"max": 2}}
		case "WrappedOcppError":
			return nil, fmt.Errorf("authorize: %w", ocpp.Errorf(ocpp.NotSupported, "no tags here"))
		case "PlainError":
			return nil, errors.New("database is down")
		case "Panic":
			panic("boom")
		case "NotAnObject":
			return json.RawMessage(`[1,2]`), nil
		case "Empty":
			return nil, nil
		}
		return heartbeat(ctx, call)
	}))
	station, _ := dialClient(t, srv.url, Options{}, nil)

	tests := []struct {
		action      string
		code        ocpp.ErrorCode
		description string
		details     string
	}{
		{"OcppError", ocpp.PropertyConstraintViolation, "connectorId", `{"max":2}`},
		{"WrappedOcppError", ocpp.NotSupported, "no tags here", `{}`},
		{"PlainError", ocpp.InternalError, "internal error", `{}`},
		{"Panic", ocpp.InternalError, "internal error", `{}`},
		{"NotAnObject", ocpp.InternalError, "internal error", `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			_, err := station.Call(context.Background(), tt.action, nil)
			var ce *CallError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *CallError", err)
			}
			if ce.Action != tt.action || ce.Code != tt.code || ce.Description != tt.description || string(ce.Details) != tt.details {
				t.Errorf("got %+v (details %s)", ce, ce.Details)
			}
		})
	}
	// The connection survived all of that.
	if got, err := station.Call(context.Background(), "Empty", nil); err != nil || string(got) != `{}` {
		t.Errorf("after errors: %s, %v", got, err)
	}
	if got, err := station.Call(context.Background(), "Heartbeat", nil); err != nil || !strings.Contains(string(got), "currentTime") {
		t.Errorf("after errors: %s, %v", got, err)
	}
}

func TestCallRejectsBadPayload(t *testing.T) {
	url, _ := newRawServer(t)
	station, _ := dialClient(t, url, Options{}, nil)
	for _, p := range []string{`[]`, `"x"`, `42`} {
		if _, err := station.Call(context.Background(), "DataTransfer", []byte(p)); err == nil {
			t.Errorf("payload %s accepted", p)
		}
	}
	if _, err := station.Call(context.Background(), "", nil); err == nil {
		t.Error("empty action accepted")
	}
}

func TestRepliesMatchedByID(t *testing.T) {
	url, peers := newRawServer(t)
	station, _ := dialClient(t, url, Options{CallTimeout: 200 * time.Millisecond}, nil)
	peer := <-peers

	type result struct {
		payload json.RawMessage
		err     error
	}
	call := func() <-chan result {
		ch := make(chan result, 1)
		go func() {
			p, err := station.Call(context.Background(), "DataTransfer", []byte(`{"vendorId":"x"}`))
			ch <- result{p, err}
		}()
		return ch
	}

	// 1. A reply with another id does not complete the call.
	r1 := call()
	f := readFrame(t, peer)
	writeRaw(t, peer, `[3,"nope",{"status":"Accepted"}]`)
	if r := <-r1; !errors.Is(r.err, ErrTimeout) {
		t.Fatalf("call answered with a wrong id: %s, %v", r.payload, r.err)
	}
	first := f.ID

	// 2. The late reply to the timed-out call does not satisfy the next one.
	r2 := call()
	f = readFrame(t, peer)
	if f.ID == first {
		t.Fatalf("id %s reused", f.ID)
	}
	writeRaw(t, peer, `[3,"`+first+`",{"late":true}]`)
	if r := <-r2; !errors.Is(r.err, ErrTimeout) {
		t.Fatalf("late reply satisfied a later call: %s, %v", r.payload, r.err)
	}

	// 3. Among stray replies, the one with the right id is taken.
	r3 := call()
	f = readFrame(t, peer)
	writeRaw(t, peer, `[4,"`+first+`","GenericError","stale",{}]`)
	writeRaw(t, peer, `[3,"`+f.ID+`",{"status":"Accepted"}]`)
	if r := <-r3; r.err != nil || string(r.payload) != `{"status":"Accepted"}` {
		t.Fatalf("got %s, %v", r.payload, r.err)
	}

	// 4. A CALLERROR with the right id fails the call with the peer's error.
	r4 := call()
	f = readFrame(t, peer)
	writeRaw(t, peer, `[4,"`+f.ID+`","NotSupported","no vendor x",{"hint":1}]`)
	r := <-r4
	var ce *CallError
	if !errors.As(r.err, &ce) || ce.Code != ocpp.NotSupported || ce.Description != "no vendor x" ||
		string(ce.Details) != `{"hint":1}` || ce.Action != "DataTransfer" {
		t.Fatalf("got %v", r.err)
	}

	// 5. A malformed reply with the right id fails the call at once.
	r5 := call()
	f = readFrame(t, peer)
	writeRaw(t, peer, `[3,"`+f.ID+`","not an object"]`)
	r = <-r5
	var oe *ocpp.Error
	if !errors.Is(r.err, ErrBadReply) || !errors.As(r.err, &oe) || oe.Code != ocpp.FormationViolation {
		t.Fatalf("got %v", r.err)
	}
}

// TestCallsSerialised checks on the wire that the peer never has two of our CALLs unanswered,
// and that each of many concurrent callers gets its own reply.
func TestCallsSerialised(t *testing.T) {
	url, peers := newRawServer(t)
	station, _ := dialClient(t, url, Options{}, nil)
	peer := <-peers

	var outstanding, overlaps, calls atomic.Int32
	go func() {
		for {
			_, data, err := peer.Read(context.Background())
			if err != nil {
				return
			}
			f, perr := ocpp.ParseFrame(data)
			if perr != nil || f.Type != ocpp.Call {
				t.Errorf("peer got %s", data)
				return
			}
			calls.Add(1)
			if !outstanding.CompareAndSwap(0, 1) {
				overlaps.Add(1)
			}
			go func() {
				time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
				outstanding.Store(0)
				peer.Write(context.Background(), websocket.MessageText, ocpp.AppendCallResult(nil, f.ID, f.Payload))
			}()
		}
	}()

	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			payload := fmt.Sprintf(`{"vendorId":"v","messageId":"%d"}`, i)
			got, err := station.Call(context.Background(), "DataTransfer", []byte(payload))
			if err != nil || string(got) != payload {
				t.Errorf("caller %d: %s, %v", i, got, err)
			}
		})
	}
	waitAll(t, &wg, 10*time.Second)
	if calls.Load() != n || overlaps.Load() != 0 {
		t.Errorf("peer saw %d calls, %d while another was unanswered", calls.Load(), overlaps.Load())
	}
}

func TestCallTimeout(t *testing.T) {
	url, _ := newRawServer(t) // a peer that never answers
	station, _ := dialClient(t, url, Options{CallTimeout: 50 * time.Millisecond}, nil)
	start := time.Now()
	_, err := station.Call(context.Background(), "Heartbeat", nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > time.Second {
		t.Errorf("timed out after %v", d)
	}
}

// TestManyTimeouts: calls that time out together, on several connections and queued on one,
// all finish promptly; a known fault elsewhere is a deadlock here.
func TestManyTimeouts(t *testing.T) {
	url, _ := newRawServer(t)
	const conns, perConn = 8, 25
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		station, _ := dialClient(t, url, Options{CallTimeout: 20 * time.Millisecond}, nil)
		for range perConn {
			wg.Go(func() {
				if _, err := station.Call(context.Background(), "Heartbeat", nil); !errors.Is(err, ErrTimeout) {
					t.Errorf("err = %v", err)
				}
			})
		}
	}
	waitAll(t, &wg, 10*time.Second)
	// Calls on one connection time out one after another: 25 × 20ms.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("%d timeouts took %v", conns*perConn, d)
	}

	// Queued callers whose contexts expire leave the queue at once.
	station, _ := dialClient(t, url, Options{CallTimeout: time.Minute}, nil)
	start = time.Now()
	for range 200 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if _, err := station.Call(ctx, "Heartbeat", nil); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v", err)
			}
		})
	}
	waitAll(t, &wg, 10*time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("200 expired contexts took %v", d)
	}
}

func TestFrameSizeLimit(t *testing.T) {
	// call builds a CALL frame of exactly size bytes.
	call := func(size int) string {
		head, tail := `[2,"1","DataTransfer",{"vendorId":"v","data":"`, `"}]`
		return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
	}
	tests := []struct {
		limit  int64
		size   int
		tooBig bool
	}{
		{1024, 1024, false},
		{1024, 1025, true},
		{1024, 200_000, true},
		{0, 256 << 10, false},
		{0, 256<<10 + 1, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit %d size %d", tt.limit, tt.size), func(t *testing.T) {
			srv := newTestServer(t, Options{MaxFrameBytes: tt.limit}, handle(heartbeat))
			ws := dialRaw(t, srv.url, nil)
			writeRaw(t, ws, call(tt.size))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, data, err := ws.Read(ctx)
			if !tt.tooBig {
				if err != nil || !strings.HasPrefix(string(data), `[3,"1",`) {
					t.Fatalf("got %s, %v", data, err)
				}
				return
			}
			if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
				t.Fatalf("peer read %s, %v; want close status 1009", data, err)
			}
			if err := waitErr(t, srv.errs, 5*time.Second); !errors.Is(err, websocket.ErrMessageTooBig) {
				t.Errorf("Serve returned %v", err)
			}
		})
	}
}

func TestMalformedFrames(t *testing.T) {
	srv := newTestServer(t, Options{}, handle(heartbeat))
	ws := dialRaw(t, srv.url, nil)
	tests := []struct {
		frame string
		id    string
		code  ocpp.ErrorCode
	}{
		{`not json`, "-1", ocpp.FormationViolation},
		{`{"a":1}`, "-1", ocpp.FormationViolation},
		{`[2,"5"]`, "-1", ocpp.FormationViolation},
		{`[2,17,"Heartbeat",{}]`, "-1", ocpp.FormationViolation},
		{`[2,"6","Heartbeat"]`, "6", ocpp.FormationViolation},
		{`[2,"7","Heartbeat",[]]`, "7", ocpp.FormationViolation},
		{`[2,"8","",{}]`, "8", ocpp.FormationViolation},
		{`[9,"9","x"]`, "9", ocpp.ProtocolError},
	}
	for _, tt := range tests {
		writeRaw(t, ws, tt.frame)
		f := readFrame(t, ws)
		if f.Type != ocpp.CallError || f.ID != tt.id || f.ErrorCode != tt.code {
			t.Errorf("%s: answered %+v, want %s %s", tt.frame, f, tt.id, tt.code)
		}
	}
	// Malformed or unmatched replies get no answer: the next frame answers the next CALL.
	writeRaw(t, ws, `[4,"10","Foo"]`)
	writeRaw(t, ws, `[3,"11",[]]`)
	writeRaw(t, ws, `[3,"12",{}]`)
	writeRaw(t, ws, `[2,"13","Heartbeat",{}]`)
	if f := readFrame(t, ws); f.Type != ocpp.CallResult || f.ID != "13" {
		t.Errorf("answered %+v, want the CALLRESULT for 13", f)
	}
}

func TestPings(t *testing.T) {
	opts := Options{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond}

	t.Run("dead peer", func(t *testing.T) {
		srv := newTestServer(t, opts, handle(heartbeat))
		ws := dialRaw(t, srv.url, &websocket.DialOptions{
			OnPingReceived: func(context.Context, []byte) bool { return false }, // never pong
		})
		start := time.Now()
		go ws.Read(context.Background()) // control frames are read only by a reader
		err := waitErr(t, srv.errs, 5*time.Second)
		if !errors.Is(err, ErrPingTimeout) {
			t.Fatalf("Serve returned %v", err)
		}
		// Interval + timeout, plus scheduling slack.
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("dead peer noticed after %v", d)
		}
	})

	t.Run("live peer", func(t *testing.T) {
		srv := newTestServer(t, opts, handle(heartbeat))
		station, _ := dialClient(t, srv.url, Options{PingInterval: -1}, nil)
		time.Sleep(10 * opts.PingInterval)
		select {
		case err := <-srv.errs:
			t.Fatalf("live peer disconnected: %v", err)
		default:
		}
		if _, err := station.Call(context.Background(), "Heartbeat", nil); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("slow handler", func(t *testing.T) {
		// While a handler runs, pongs wait unread; that is no reason to drop the peer.
		srv := newTestServer(t, opts, handle(func(ctx context.Context, call Call) (json.RawMessage, error) {
			time.Sleep(6 * opts.PingTimeout)
			return nil, nil
		}))
		ws := dialRaw(t, srv.url, nil)
		writeRaw(t, ws, `[2,"1","Heartbeat",{}]`)
		if f := readFrame(t, ws); f.Type != ocpp.CallResult {
			t.Fatalf("got %+v", f)
		}
	})
}

func TestCloseFailsOutstandingCalls(t *testing.T) {
	url, peers := newRawServer(t)
	station, served := dialClient(t, url, Options{CallTimeout: time.Minute}, nil)
	peer := <-peers

	errs := make(chan error, 10)
	for range cap(errs) {
		go func() {
			_, err := station.Call(context.Background(), "Heartbeat", nil)
			errs <- err
		}()
	}
	readFrame(t, peer) // one CALL is out, the others queue
	peerClosed := make(chan error, 1)
	go func() {
		_, _, err := peer.Read(context.Background())
		peerClosed <- err
	}()

	if err := station.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Errorf("close: %v", err)
	}
	for range cap(errs) {
		if err := waitErr(t, errs, time.Second); !errors.Is(err, ErrClosed) {
			t.Errorf("call returned %v", err)
		}
	}
	if err := waitErr(t, served, 5*time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("Serve returned %v", err)
	}
	<-station.Done()
	if err := <-peerClosed; websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("peer saw %v", err)
	}
	if _, err := station.Call(context.Background(), "Heartbeat", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("call after close: %v", err)
	}
	if err := station.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// TestCloseNowCutsHandshake: a close handshake with a dead peer waits for it; CloseNow, as used
// when a station's new connection replaces its dead one, must end the connection at once.
func TestCloseNowCutsHandshake(t *testing.T) {
	for _, busy := range []bool{false, true} {
		t.Run(fmt.Sprintf("handler running %v", busy), func(t *testing.T) {
			release := make(chan struct{})
			srv := newTestServer(t, Options{}, handle(func(ctx context.Context, call Call) (json.RawMessage, error) {
				<-release
				return nil, nil
			}))
			dead := dialRaw(t, srv.url, nil) // reads nothing, so never answers the close frame
			central := <-srv.conns
			if busy {
				writeRaw(t, dead, `[2,"1","Heartbeat",{}]`)
			} else {
				close(release)
			}
			go central.Close(websocket.StatusPolicyViolation, "replaced")
			time.Sleep(50 * time.Millisecond)
			if busy {
				close(release)
			}
			start := time.Now()
			central.CloseNow()
			if err := waitErr(t, srv.errs, 5*time.Second); !errors.Is(err, ErrClosed) {
				t.Errorf("Serve returned %v", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("Serve returned %v after CloseNow", d)
			}
		})
	}
}

func TestCloseFromHandler(t *testing.T) {
	srv := newTestServer(t, Options{}, func(c *Conn) Handler {
		return func(ctx context.Context, call Call) (json.RawMessage, error) {
			c.Close(websocket.StatusPolicyViolation, "unknown station")
			return nil, nil
		}
	})
	station, served := dialClient(t, srv.url, Options{}, nil)
	if _, err := station.Call(context.Background(), "BootNotification", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("call returned %v", err)
	}
	if err := waitErr(t, served, 5*time.Second); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("station's Serve returned %v", err)
	}
	if err := waitErr(t, srv.errs, 5*time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("central's Serve returned %v", err)
	}
}

func TestNilHandler(t *testing.T) {
	srv := newTestServer(t, Options{}, handle(nil))
	station, _ := dialClient(t, srv.url, Options{}, nil)
	_, err := station.Call(context.Background(), "Heartbeat", nil)
	if ce := (*CallError)(nil); !errors.As(err, &ce) || ce.Code != ocpp.NotImplemented {
		t.Errorf("got %v", err)
	}
}

func TestServeContext(t *testing.T) {
	srv := newTestServer(t, Options{}, handle(heartbeat))
	station, err := Dial(context.Background(), srv.url, Options{Logger: quiet}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- station.Serve(ctx, nil) }()
	if _, err := station.Call(ctx, "Heartbeat", nil); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := waitErr(t, served, 5*time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Serve returned %v", err)
	}
	if err := waitErr(t, srv.errs, 5*time.Second); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("peer's Serve returned %v", err)
	}
	if err := station.Serve(context.Background(), nil); err == nil {
		t.Error("second Serve returned nil")
	}
}

func TestCloseBeforeServe(t *testing.T) {
	srv := newTestServer(t, Options{}, handle(heartbeat))
	station, err := Dial(context.Background(), srv.url, Options{Logger: quiet}, nil)
	if err != nil {
		t.Fatal(err)
	}
	station.Close(websocket.StatusNormalClosure, "")
	if err := station.Serve(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Serve returned %v", err)
	}
	<-station.Done()
}

func TestCallFromHandler(t *testing.T) {
	later := make(chan error, 1)
	direct := make(chan error, 1)
	srv := newTestServer(t, Options{}, func(c *Conn) Handler {
		return func(ctx context.Context, call Call) (json.RawMessage, error) {
			if call.Action == "BootNotification" {
				start := time.Now()
				_, err := c.Call(ctx, "GetConfiguration", nil)
				if time.Since(start) > 3*time.Second {
					err = fmt.Errorf("took %v: %w", time.Since(start), err)
				}
				direct <- err
				// The usual way to react with a CALL: leave it to a goroutine.
				go func() {
					_, err := c.Call(ctx, "GetConfiguration", nil)
					later <- err
				}()
			}
			return json.RawMessage(`{"status":"Accepted","currentTime":"2025-06-01T12:00:00Z","interval":300}`), nil
		}
	})
	station, _ := dialClient(t, srv.url, Options{}, func(ctx context.Context, call Call) (json.RawMessage, error) {
		return json.RawMessage(`{"configurationKey":[]}`), nil
	})
	if _, err := station.Call(context.Background(), "BootNotification", nil); err != nil {
		t.Fatal(err)
	}
	if err := <-direct; !errors.Is(err, ErrCallInHandler) {
		t.Errorf("Call from handler returned %v", err)
	}
	if err := waitErr(t, later, 5*time.Second); err != nil {
		t.Errorf("Call from the handler's goroutine returned %v", err)
	}
}

func TestDialNeedsSubprotocol(t *testing.T) {
	// A websocket server that does not speak ocpp1.6 but accepts anyway.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ws, err := websocket.Accept(w, r, nil); err == nil {
			ws.CloseNow()
		}
	}))
	defer other.Close()
	if c, err := Dial(context.Background(), other.URL, Options{}, nil); err == nil {
		c.Close(websocket.StatusNormalClosure, "")
		t.Fatal("Dial accepted a server without ocpp1.6")
	}
}

func TestWriteTimeout(t *testing.T) {
	big := json.RawMessage(`{"data":"` + strings.Repeat("x", 1<<20) + `"}`)
	srv := newTestServer(t, Options{WriteTimeout: 100 * time.Millisecond}, handle(
		func(ctx context.Context, call Call) (json.RawMessage, error) { return big, nil }))
	ws := dialRaw(t, srv.url, nil)
	// Ask for replies larger than the socket buffers can hold, and read none of them.
	for i := range 64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := ws.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`[2,"%d","DataTransfer",{}]`, i)))
		cancel()
		if err != nil {
			break // the server has given up on us
		}
	}
	if err := waitErr(t, srv.errs, 10*time.Second); !errors.Is(err, ErrWriteTimeout) {
		t.Errorf("Serve returned %v", err)
	}
}

// TestBrokenPipe cuts the station's TCP connection under load: nothing may panic, and both
// ends must notice.
func TestBrokenPipe(t *testing.T) {
	srv := newTestServer(t, Options{}, handle(heartbeat))
	var tcp atomic.Pointer[net.TCPConn]
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				tcp.Store(c.(*net.TCPConn))
			}
			return c, err
		},
	}}
	station, served := dialClient(t, srv.url, Options{HTTPClient: client}, func(ctx context.Context, call Call) (json.RawMessage, error) {
		return json.RawMessage(`{"status":"Accepted"}`), nil
	})
	central := <-srv.conns

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range []*Conn{station, central} {
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := c.Call(context.Background(), "Heartbeat", nil); err != nil {
						if !errors.Is(err, ErrClosed) {
							t.Errorf("call: %v", err)
						}
						return
					}
				}
			})
		}
	}
	time.Sleep(50 * time.Millisecond)
	tcp.Load().SetLinger(0) // close with a reset, not a FIN
	tcp.Load().Close()

	if err := waitErr(t, served, 5*time.Second); err == nil {
		t.Error("station's Serve returned nil")
	}
	if err := waitErr(t, srv.errs, 5*time.Second); err == nil {
		t.Error("central's Serve returned nil")
	}
	close(stop)
	waitAll(t, &wg, 10*time.Second)
}

// TestNoGoroutineLeak opens and ends many connections in every way they can end and checks
// that no goroutine is left behind.
func TestNoGoroutineLeak(t *testing.T) {
	srv := newTestServer(t, Options{PingInterval: 20 * time.Millisecond}, handle(heartbeat))
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	opts := Options{Logger: quiet, HTTPClient: &http.Client{Transport: transport}, PingInterval: 20 * time.Millisecond}
	time.Sleep(10 * time.Millisecond)
	base := runtime.NumGoroutine()

	ends := []func(station, central *Conn, cancel context.CancelFunc){
		func(s, c *Conn, _ context.CancelFunc) { s.Close(websocket.StatusNormalClosure, "") },
		func(s, c *Conn, _ context.CancelFunc) { c.Close(websocket.StatusPolicyViolation, "go away") },
		func(s, c *Conn, cancel context.CancelFunc) { cancel() },
		func(s, c *Conn, _ context.CancelFunc) { s.ws.CloseNow() },
	}
	for i := range 100 {
		station, err := Dial(context.Background(), srv.url, opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go station.Serve(ctx, heartbeat)
		central := <-srv.conns
		if _, err := station.Call(ctx, "Heartbeat", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := central.Call(ctx, "Heartbeat", nil); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			time.Sleep(30 * time.Millisecond) // let a ping happen
		}
		ends[i%len(ends)](station, central, cancel)
		<-station.Done()
		<-central.Done()
		<-srv.errs
		cancel()
	}
	transport.CloseIdleConnections()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}
