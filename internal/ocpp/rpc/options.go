package rpc

import (
	"log/slog"
	"net/http"
	"time"
)

// Options tune a Conn. The zero value gives the defaults.
type Options struct {
	// CallTimeout bounds the wait for the reply to each outgoing CALL, counted from when the
	// call holds the connection's single outgoing slot (waiting for the slot is bounded by the
	// caller's context only). Default 30s.
	CallTimeout time.Duration
	// WriteTimeout bounds each frame write; a write that takes longer means a dead or stuck
	// peer, and the connection is closed. Default 10s.
	WriteTimeout time.Duration
	// MaxFrameBytes is the largest message accepted from the peer; a larger one closes the
	// connection with websocket status 1009 (message too big). Default 256 KiB.
	MaxFrameBytes int64
	// PingInterval is the time between websocket pings. Default 30s; negative disables pings
	// (rely on the peer's pings or TCP keepalive then).
	PingInterval time.Duration
	// PingTimeout is how long the peer may stay silent after a ping before the connection is
	// closed as dead. Default 10s.
	PingTimeout time.Duration
	// Logger receives what cannot be returned to a caller: handler failures and panics,
	// unmatched replies, malformed frames. Default slog.Default().
	Logger *slog.Logger
	// OnFrame, if set, sees every data frame, received or sent, before it is handled or
	// written. It runs on the reading or writing goroutine, so it must be quick, and frame is
	// only valid during the call. Meant for tests and wire logs.
	OnFrame func(dir Direction, frame []byte)
	// HTTPClient is used by Dial for the handshake (TLS settings, proxies, dialer).
	// Default http.DefaultClient.
	HTTPClient *http.Client
}

// Direction says whether OnFrame sees a frame received from or sent to the peer.
type Direction uint8

// The two directions.
const (
	Received Direction = iota + 1
	Sent
)

func (d Direction) String() string {
	switch d {
	case Received:
		return "received"
	case Sent:
		return "sent"
	}
	return "unknown"
}

const (
	defaultCallTimeout   = 30 * time.Second
	defaultWriteTimeout  = 10 * time.Second
	defaultMaxFrameBytes = 256 << 10
	defaultPingInterval  = 30 * time.Second
	defaultPingTimeout   = 10 * time.Second
)

func (o Options) withDefaults() Options {
	if o.CallTimeout <= 0 {
		o.CallTimeout = defaultCallTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = defaultWriteTimeout
	}
	if o.MaxFrameBytes <= 0 {
		o.MaxFrameBytes = defaultMaxFrameBytes
	}
	if o.PingInterval == 0 {
		o.PingInterval = defaultPingInterval
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = defaultPingTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
