// Package csms is the central system's OCPP endpoint. It takes a station's websocket at
// /api/Ocpp16/<accountKey>/<chargePointId>, keeps one connection per station (a new one
// replaces the old), checks every frame with package ocpp and hands the decoded request to
// the station service, and lets the rest of chargebook send commands to connected stations.
//
// It is the edge between the OCPP transport and the domain: it decides nothing about what a
// message means.
package csms

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/station"
)

// PathPrefix is the start of every station URL; chargers are configured with it in any
// letter case.
const PathPrefix = "/api/Ocpp16/"

// MaxChargePointIDLength bounds the id a charger appends to its URL.
const MaxChargePointIDLength = 64

// Errors of Call that a caller must tell apart (besides those of package rpc).
var ErrNotConnected = errors.New("station is not connected")

// Options tune the endpoint.
type Options struct {
	RPC rpc.Options
	// TouchInterval is how often a station's last-seen time is written while it sends
	// messages other than Heartbeat; writing it on every MeterValues would double the writes.
	TouchInterval time.Duration
	// ReplaceWait bounds how long a new connection waits for the one it replaces to finish.
	ReplaceWait time.Duration
	Logger      *slog.Logger
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Passwords, if set, has the stations that must authenticate (OCPP security profile 1):
	// such a station's upgrade needs Authorization: Basic with its charge point id as user.
	Passwords Passwords
}

// Passwords tells the password a station must present. *store.Store implements it.
type Passwords interface {
	// StationPassword returns account.HashToken of the station's password, "" when the
	// station has none (or does not exist yet).
	StationPassword(ctx context.Context, accountID int64, chargePointID string) (hash string, setAt time.Time, err error)
}

// Server is the OCPP endpoint. It is an http.Handler for the station URLs.
type Server struct {
	accounts account.Store
	svc      *station.Service
	opts     Options
	log      *slog.Logger
	// ctx ends every connection's read loop on Shutdown.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	conns    map[stationKey]*stationConn
	closing  bool
	handlers sync.WaitGroup
}

type stationKey struct {
	accountID     int64
	chargePointID string
}

// New returns the endpoint.
func New(accounts account.Store, svc *station.Service, opts Options) *Server {
	if opts.TouchInterval <= 0 {
		opts.TouchInterval = time.Minute
	}
	if opts.ReplaceWait <= 0 {
		opts.ReplaceWait = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RPC.Logger == nil {
		opts.RPC.Logger = opts.Logger
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		accounts: accounts, svc: svc, opts: opts, log: opts.Logger,
		ctx: ctx, cancel: cancel, conns: make(map[stationKey]*stationConn),
	}
}

// IsStationPath reports whether an HTTP path is a station URL, in any letter case.
func IsStationPath(path string) bool {
	return len(path) >= len(PathPrefix) && strings.EqualFold(path[:len(PathPrefix)], PathPrefix)
}

// parsePath splits /api/Ocpp16/<accountKey>/<chargePointId>[/] into its two ids. Empty
// segments are ignored: chargers that append "/"+id to a URL ending in "/" ask for
// <accountKey>//<chargePointId>.
func parsePath(escapedPath string) (accountKey, chargePointID string, err error) {
	if !IsStationPath(escapedPath) {
		return "", "", errors.New("not a station URL")
	}
	var segments []string
	for seg := range strings.SplitSeq(escapedPath[len(PathPrefix):], "/") {
		if seg != "" {
			segments = append(segments, seg)
		}
	}
	if len(segments) != 2 {
		return "", "", errors.New("the URL must end in /<accountKey>/<chargePointId>")
	}
	if accountKey, err = url.PathUnescape(segments[0]); err != nil {
		return "", "", fmt.Errorf("account key: %w", err)
	}
	if chargePointID, err = url.PathUnescape(segments[1]); err != nil {
		return "", "", fmt.Errorf("charge point id: %w", err)
	}
	if len(chargePointID) > MaxChargePointIDLength {
		return "", "", fmt.Errorf("the charge point id must have at most %d characters", MaxChargePointIDLength)
	}
	for _, r := range chargePointID {
		if r < 0x20 || r == 0x7f || r == '/' {
			return "", "", errors.New("the charge point id must not contain '/' or control characters")
		}
	}
	return accountKey, chargePointID, nil
}

// ServeHTTP takes a station's websocket.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, cpID, err := parsePath(r.URL.EscapedPath())
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	acct, err := s.accounts.AccountByKey(r.Context(), key)
	if errors.Is(err, account.ErrNotFound) {
		http.Error(w, "no account has this key: check the URL pasted into the charger", http.StatusNotFound)
		return
	}
	if err != nil {
		s.log.Error("station upgrade: look up account", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if ok, err := s.authenticated(r, acct.ID, cpID); err != nil {
		s.log.Error("station upgrade: look up password", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	} else if !ok {
		s.log.Info("station refused: wrong or missing password", "account", acct.ID, "station", cpID, "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Basic realm="chargebook", charset="UTF-8"`)
		http.Error(w, "this station needs its password: Authorization: Basic with the charge point id as user", http.StatusUnauthorized)
		return
	}
	ws, err := websocket.Accept(w, r, rpc.AcceptOptions())
	if err != nil {
		s.log.Info("station upgrade refused", "station", cpID, "remote", r.RemoteAddr, "err", err)
		return // Accept has answered the request
	}
	// OCPP-J 1.6 section 3.1.2: without an agreed subprotocol the handshake completes
	// without one and the connection is closed at once.
	if !strings.EqualFold(ws.Subprotocol(), rpc.Subprotocol) {
		s.log.Info("station offered no ocpp1.6 subprotocol", "station", cpID, "offered", r.Header.Values("Sec-WebSocket-Protocol"))
		ws.Close(websocket.StatusProtocolError, "subprotocol ocpp1.6 required")
		return
	}
	// The connection is served from a fresh goroutine and this handler returns: the HTTP
	// server's goroutine has grown its stack during the handshake, and as the read loop of
	// an idle station it would keep that stack for as long as the station stays connected.
	go s.serve(acct, cpID, rpc.NewConn(ws, s.opts.RPC), r.RemoteAddr)
}

// authenticated reports whether the request may connect as the station: a station without
// a password always may; one with a password needs Basic authentication with its charge
// point id as user.
func (s *Server) authenticated(r *http.Request, accountID int64, cpID string) (bool, error) {
	if s.opts.Passwords == nil {
		return true, nil
	}
	hash, _, err := s.opts.Passwords.StationPassword(r.Context(), accountID, cpID)
	if err != nil || hash == "" {
		return err == nil, err
	}
	user, password, ok := r.BasicAuth()
	if !ok || user != cpID {
		return false, nil
	}
	return subtle.ConstantTimeCompare([]byte(account.HashToken(password)), []byte(hash)) == 1, nil
}

// stationConn is one station's connection.
type stationConn struct {
	key  stationKey
	conn *rpc.Conn
	// sess is set under Server.mu once the station is registered; from then on only its
	// read loop changes the station record in it.
	sess *station.Session
	// replaced is set, under Server.mu, when a newer connection of the same station took over.
	replaced bool
	// finished is closed once the connection is cleaned up and its disconnection recorded.
	finished     chan struct{}
	lastTouch    time.Time
	lastRejected time.Time
}

func (s *Server) serve(acct account.Account, cpID string, conn *rpc.Conn, remote string) {
	sc := &stationConn{key: stationKey{acct.ID, cpID}, conn: conn, finished: make(chan struct{})}
	if !s.register(sc) {
		conn.Close(websocket.StatusGoingAway, "server shutting down")
		close(sc.finished)
		return
	}
	defer s.handlers.Done()
	sess, err := s.svc.Connect(s.ctx, acct, cpID)
	if err != nil {
		s.log.Error("station connect", "station", cpID, "err", err)
		conn.Close(websocket.StatusInternalError, "could not register the station")
		s.unregister(sc, false)
		return
	}
	s.mu.Lock()
	sc.sess, sc.lastTouch = sess, s.opts.Now()
	s.mu.Unlock()
	s.log.Info("station connected", "account", acct.ID, "station", cpID, "remote", remote)
	err = conn.Serve(s.ctx, func(ctx context.Context, call rpc.Call) (json.RawMessage, error) {
		return s.handle(ctx, sc, call)
	})
	s.log.Info("station disconnected", "account", acct.ID, "station", cpID, "reason", err)
	s.unregister(sc, true)
}

// register makes sc the station's connection, closing and waiting for the one it replaces,
// so that the old one's disconnection is recorded before the new one's connection.
func (s *Server) register(sc *stationConn) bool {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return false
	}
	old := s.conns[sc.key]
	s.conns[sc.key] = sc
	if old != nil {
		old.replaced = true
	}
	s.handlers.Add(1)
	s.mu.Unlock()
	if old != nil {
		// The close handshake waits for the old peer, which may be dead: the new connection
		// waits for it no longer than ReplaceWait.
		go old.conn.Close(websocket.StatusPolicyViolation, "replaced by a new connection of the same station")
		select {
		case <-old.finished:
		case <-time.After(s.opts.ReplaceWait):
			old.conn.CloseNow()
			s.log.Warn("replaced connection did not close in time", "station", sc.key.chargePointID)
			<-old.finished
		}
	}
	return true
}

func (s *Server) unregister(sc *stationConn, recordDisconnect bool) {
	defer close(sc.finished)
	s.mu.Lock()
	replaced, closing := sc.replaced, s.closing
	s.mu.Unlock()
	if recordDisconnect && !replaced {
		// Recorded before leaving the map, so that a new connection waits for it.
		note := "connection closed"
		if closing {
			note = "server shut down"
		}
		if err := s.svc.Disconnect(context.WithoutCancel(s.ctx), sc.sess, note); err != nil {
			s.log.Error("record disconnection", "station", sc.key.chargePointID, "err", err)
		}
	}
	s.mu.Lock()
	if s.conns[sc.key] == sc {
		delete(s.conns, sc.key)
	}
	s.mu.Unlock()
}

// handle answers one CALL of a station.
func (s *Server) handle(ctx context.Context, sc *stationConn, call rpc.Call) (json.RawMessage, error) {
	src := station.Source{Action: call.Action, MessageID: call.ID, Payload: call.Payload, ReceivedAt: call.ReceivedAt.UTC()}
	resp, err := s.dispatch(ctx, sc, call, src)
	if err != nil {
		var callErr *ocpp.Error
		if errors.As(err, &callErr) {
			s.recordRejected(ctx, sc, src, callErr)
		}
		return nil, err
	}
	payload, err := ocpp.EncodePayload(resp)
	if err != nil {
		return nil, fmt.Errorf("encode %s response: %w", call.Action, err)
	}
	if now := s.opts.Now(); now.Sub(sc.lastTouch) >= s.opts.TouchInterval {
		sc.lastTouch = now
		if err := s.svc.Touch(ctx, sc.sess, now.UTC()); err != nil {
			s.log.Error("touch station", "station", sc.key.chargePointID, "err", err)
		}
	}
	return payload, nil
}

func (s *Server) dispatch(ctx context.Context, sc *stationConn, call rpc.Call, src station.Source) (any, error) {
	action, known := ocpp.LookupAction(call.Action)
	if !known {
		return nil, ocpp.Errorf(ocpp.NotImplemented, "unknown action %q", call.Action)
	}
	if !action.SentBy(ocpp.ChargePoint) {
		return nil, ocpp.Errorf(ocpp.NotSupported, "%s is sent by a central system, not by a charge point", call.Action)
	}
	req, warnings, err := ocpp.DecodeRequest(call.Action, call.Payload, decodeMode(sc.sess))
	if err != nil && decodeMode(sc.sess) == ocpp.Strict {
		// Before refusing, make sure the operator has not made the station lenient since.
		if rerr := s.svc.Refresh(ctx, sc.sess); rerr != nil {
			return nil, rerr
		}
		if decodeMode(sc.sess) == ocpp.Lenient {
			req, warnings, err = ocpp.DecodeRequest(call.Action, call.Payload, ocpp.Lenient)
		}
	}
	if err != nil {
		return nil, err
	}
	if len(warnings) > 0 {
		s.log.Warn("station message bends the rules", "station", sc.key.chargePointID, "action", call.Action, "warnings", warnings)
		if err := s.svc.RecordWarnings(ctx, sc.sess, src, warnings); err != nil {
			return nil, err
		}
	}
	return s.svc.Handle(ctx, sc.sess, req, src)
}

func decodeMode(sess *station.Session) ocpp.Mode {
	if sess.Station.Validation == account.Lenient {
		return ocpp.Lenient
	}
	return ocpp.Strict
}

// recordRejected keeps a rejected message in the station's log, at most one a second so
// that a station stuck in a loop of bad frames cannot fill the database.
func (s *Server) recordRejected(ctx context.Context, sc *stationConn, src station.Source, callErr *ocpp.Error) {
	s.log.Info("station message rejected", "station", sc.key.chargePointID, "action", src.Action, "err", callErr)
	now := s.opts.Now()
	if now.Sub(sc.lastRejected) < time.Second {
		return
	}
	sc.lastRejected = now
	if err := s.svc.RecordRejected(ctx, sc.sess, src, callErr); err != nil {
		s.log.Error("record rejected message", "station", sc.key.chargePointID, "err", err)
	}
}

// Connected reports whether the station has a live connection to this server.
func (s *Server) Connected(accountID int64, chargePointID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.conns[stationKey{accountID, chargePointID}]
	return ok
}

// Call sends a request of package ocpp (e.g. *ocpp.ResetRequest) to a connected station and
// returns its decoded response. Errors: ErrNotConnected, an *ocpp.Error for a request that
// does not validate, and those of rpc.Conn.Call (*rpc.CallError, rpc.ErrTimeout, ...).
func (s *Server) Call(ctx context.Context, accountID int64, chargePointID string, req any) (any, error) {
	s.mu.Lock()
	sc := s.conns[stationKey{accountID, chargePointID}]
	ready := sc != nil && sc.sess != nil
	s.mu.Unlock()
	if !ready {
		return nil, ErrNotConnected
	}
	action, ok := ocpp.ActionOf(req)
	if !ok {
		return nil, fmt.Errorf("call %s: %T is not an OCPP request", chargePointID, req)
	}
	payload, err := ocpp.EncodePayload(req)
	if err != nil {
		return nil, err
	}
	raw, err := sc.conn.Call(ctx, action, payload)
	if err != nil {
		return nil, err
	}
	resp, _, err := ocpp.DecodeResponse(action, raw, ocpp.Lenient)
	if err != nil {
		return nil, fmt.Errorf("call %s %s: station's answer: %w", chargePointID, action, err)
	}
	return resp, nil
}

// Shutdown closes every station connection (websocket status 1001, going away) and waits
// until their last messages are handled and their disconnections recorded.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*stationConn, 0, len(s.conns))
	for _, sc := range s.conns {
		conns = append(conns, sc)
	}
	s.mu.Unlock()
	// Each close handshake may wait for a dead peer; they run side by side, and whatever is
	// still open when ctx ends is cut.
	for _, sc := range conns {
		go sc.conn.Close(websocket.StatusGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() { s.handlers.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		for _, sc := range conns {
			sc.conn.CloseNow()
		}
		s.cancel()
		<-done
		return fmt.Errorf("csms shutdown: %w", ctx.Err())
	}
}
