package rpc

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chargebook/chargebook/internal/ocpp"
)

// quiet keeps expected warnings (malformed frames, dropped replies) out of test output; a
// logger writing to t would also panic when a connection logs after its test has ended.
var quiet = slog.New(slog.DiscardHandler)

// testServer is a central system in miniature: every accepted websocket is wrapped in a Conn
// and served with the handler newHandler makes for it.
type testServer struct {
	url   string
	conns chan *Conn // each Conn as it is accepted
	errs  chan error // what each Serve returned
}

func newTestServer(t testing.TB, opts Options, newHandler func(c *Conn) Handler) *testServer {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{conns: make(chan *Conn, 4096), errs: make(chan error, 4096)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, AcceptOptions())
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		if ws.Subprotocol() != Subprotocol {
			ws.Close(websocket.StatusProtocolError, "ocpp1.6 required")
			return
		}
		c := NewConn(ws, opts)
		ts.conns <- c
		ts.errs <- c.Serve(ctx, newHandler(c))
	}))
	t.Cleanup(func() {
		cancel()
		srv.Close()
	})
	ts.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return ts
}

// handle adapts a plain Handler to newTestServer.
func handle(h Handler) func(*Conn) Handler { return func(*Conn) Handler { return h } }

// heartbeat answers every CALL as the central system answers a Heartbeat.
func heartbeat(ctx context.Context, call Call) (json.RawMessage, error) {
	return json.RawMessage(`{"currentTime":"2025-06-01T12:00:00Z"}`), nil
}

// dialClient dials a station-side Conn and serves it until the test ends.
func dialClient(t testing.TB, url string, opts Options, h Handler) (*Conn, <-chan error) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	c, err := Dial(context.Background(), url, opts, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- c.Serve(context.Background(), h) }()
	t.Cleanup(func() {
		c.CloseNow() // Close would wait for peers that do not read
		<-c.Done()
	})
	return c, served
}

// newRawServer accepts websockets and gives them to the test as they are, to play a peer
// that misbehaves in ways a Conn never would.
func newRawServer(t testing.TB) (url string, peers <-chan *websocket.Conn) {
	t.Helper()
	ch := make(chan *websocket.Conn, 64)
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, AcceptOptions())
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		ch <- ws
		<-stop
		ws.CloseNow()
	}))
	t.Cleanup(func() {
		close(stop)
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http"), ch
}

// dialRaw dials a bare websocket, to play a misbehaving station.
func dialRaw(t testing.TB, url string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	if opts == nil {
		opts = &websocket.DialOptions{}
	}
	opts.Subprotocols = []string{Subprotocol}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("raw dial: %v", err)
	}
	ws.SetReadLimit(-1)
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// readFrame reads and parses the next frame from a bare websocket.
func readFrame(t testing.TB, ws *websocket.Conn) ocpp.Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("raw read: %v", err)
	}
	f, perr := ocpp.ParseFrame(data)
	if perr != nil {
		t.Fatalf("raw read: %s does not parse: %v", data, perr)
	}
	return f
}

func writeRaw(t testing.TB, ws *websocket.Conn, frame string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatalf("raw write: %v", err)
	}
}

// waitErr waits for a result that must come soon.
func waitErr(t testing.TB, ch <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(within):
		t.Fatalf("no result within %v", within)
		return nil
	}
}

// waitAll waits for wg, failing the test instead of hanging when it takes too long.
func waitAll(t testing.TB, wg *sync.WaitGroup, within time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		t.Fatalf("goroutines still running after %v", within)
	}
}
