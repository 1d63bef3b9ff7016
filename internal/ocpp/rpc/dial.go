package rpc

import (
	"context"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
)

// Subprotocol is the websocket subprotocol of OCPP-J 1.6.
const Subprotocol = "ocpp1.6"

// AcceptOptions are the options for websocket.Accept on the central system's side: they offer
// only Subprotocol and disable compression, whose per-connection state would cost more memory
// than small JSON frames save.
//
// websocket.Accept still succeeds when the station offers no subprotocol (RFC 6455 allows the
// empty one); the caller must check Conn.Subprotocol() == Subprotocol and refuse the station
// otherwise, e.g. with ws.Close(websocket.StatusProtocolError, "ocpp1.6 required").
func AcceptOptions() *websocket.AcceptOptions {
	return &websocket.AcceptOptions{
		Subprotocols:    []string{Subprotocol},
		CompressionMode: websocket.CompressionDisabled,
	}
}

// Dial opens a websocket to a central system as a station does, offering Subprotocol, and
// wraps it in a Conn. It fails if the server does not select Subprotocol. header is sent with
// the handshake (e.g. Authorization for basic auth); opts.HTTPClient, if set, makes the request.
// The caller must run Serve on the returned Conn for replies and pings to be read.
func Dial(ctx context.Context, url string, opts Options, header http.Header) (*Conn, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient:      opts.HTTPClient,
		HTTPHeader:      header,
		Subprotocols:    []string{Subprotocol},
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, fmt.Errorf("rpc: dial %s: %w", url, err)
	}
	if p := ws.Subprotocol(); p != Subprotocol {
		_ = ws.Close(websocket.StatusProtocolError, Subprotocol+" required")
		return nil, fmt.Errorf("rpc: dial %s: server selected subprotocol %q, not %q", url, p, Subprotocol)
	}
	return NewConn(ws, opts), nil
}
