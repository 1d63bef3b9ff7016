package authz_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/access"
	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

var quiet = slog.New(slog.DiscardHandler)

// clock is the Service's clock, which tests move.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// sender is a scripted fleet of stations for package operation: it records what it is
// sent and answers with answer, or as a station that accepts everything.
type sender struct {
	mu        sync.Mutex
	sent      []sent
	connected map[string]bool // by charge point id; Send fails with ErrNotConnected for the others
	answer    func(req any) (any, error)
}

type sent struct {
	chargePointID string
	req           any
}

func (s *sender) Send(ctx context.Context, accountID int64, chargePointID string, req any) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected[chargePointID] {
		return nil, operation.ErrNotConnected
	}
	s.sent = append(s.sent, sent{chargePointID, req})
	if s.answer != nil {
		if resp, err := s.answer(req); resp != nil || err != nil {
			return resp, err
		}
	}
	switch req.(type) {
	case *ocpp.SendLocalListRequest:
		return &ocpp.SendLocalListResponse{Status: ocpp.UpdateStatusAccepted}, nil
	case *ocpp.RemoteStopTransactionRequest:
		return &ocpp.RemoteStopTransactionResponse{Status: ocpp.RemoteStartStopStatusAccepted}, nil
	case *ocpp.GetLocalListVersionRequest:
		return &ocpp.GetLocalListVersionResponse{ListVersion: 0}, nil
	}
	return nil, errors.New("not scripted")
}

// Connected implements authz.Live.
func (s *sender) Connected(accountID int64, chargePointID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected[chargePointID]
}

// take returns what was sent since the last take.
func (s *sender) take() []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sent
	s.sent = nil
	return out
}

// env is an account with stations, its access service wired as serve.go wires it, and a
// second account.
type env struct {
	t      *testing.T
	ctx    context.Context
	store  *store.Store
	clock  *clock
	fleet  *sender
	ops    *operation.Service
	auth   *authz.Authorizer
	svc    *authz.Service
	acct   account.Account
	other  account.Account
	zurich *time.Location
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "chargebook.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	newAcct := func(email string) account.Account {
		a, _, err := st.CreateAccount(ctx, account.Account{Key: account.NewKey(), Name: email, TimeZone: "Europe/Zurich",
			Currency: "CHF", HeartbeatInterval: time.Minute, StationValidation: account.Strict, CreatedAt: time.Now()},
			account.Operator{Email: email, PasswordHash: "x", Role: account.RoleOwner})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	zurich, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, store: st, clock: &clock{}, fleet: &sender{connected: map[string]bool{}},
		acct: newAcct("a@example.com"), other: newAcct("b@example.com"), zurich: zurich}
	e.clock.Set(e.at("2026-06-08 10:00"))
	e.ops = operation.NewService(st, e.fleet, e.clock.Now, quiet)
	e.auth = authz.NewAuthorizer(st, quiet)
	e.svc = authz.NewService(authz.Deps{Authorizer: e.auth, Store: st, Stations: st, Operations: e.ops, Live: e.fleet,
		Now: e.clock.Now, Logger: quiet})
	return e
}

// at is a wall time in Zurich, "2006-01-02 15:04". 2026-06-08 is a Monday.
func (e *env) at(s string) time.Time {
	e.t.Helper()
	t, err := time.ParseInLocation("2006-01-02 15:04", s, e.zurich)
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

func (e *env) station(chargePointID string) station.Station {
	e.t.Helper()
	st, _, err := e.store.RegisterStation(e.ctx, e.acct.ID, chargePointID, station.Accepted, account.Strict, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) user(name string, groups ...int64) access.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(e.ctx, e.acct.ID, access.User{Name: name, GroupIDs: groups})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) group(name string) int64 {
	e.t.Helper()
	g, err := e.svc.CreateGroup(e.ctx, e.acct.ID, authz.Group{Group: access.Group{Name: name}})
	if err != nil {
		e.t.Fatal(err)
	}
	return g.ID
}

func (e *env) tag(idTag string, userID int64) {
	e.t.Helper()
	if err := e.svc.SaveTag(e.ctx, station.IdTag{AccountID: e.acct.ID, IdTag: idTag}, userID); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) rule(r access.StationRule) {
	e.t.Helper()
	if err := e.svc.SaveStationRule(e.ctx, e.acct.ID, r); err != nil {
		e.t.Fatal(err)
	}
}

// authorize asks as a station does.
func (e *env) authorize(st station.Station, idTag string, at time.Time, starting bool) station.Decision {
	e.t.Helper()
	req := station.AuthRequest{AccountID: e.acct.ID, StationID: st.ID, IdTag: idTag, At: at, Starting: starting}
	if starting {
		req.ConnectorID = 1
	}
	d, err := e.auth.Authorize(e.ctx, req)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) start(st station.Station, connector int, idTag string, at time.Time) station.Transaction {
	e.t.Helper()
	tx, _, err := e.store.StartTransaction(e.ctx, station.StartTx{AccountID: e.acct.ID, StationID: st.ID, ConnectorID: connector,
		IdTag: idTag, StartedAt: at, Source: station.Source{ReceivedAt: at}})
	if err != nil {
		e.t.Fatal(err)
	}
	return tx
}

var office = []access.Window{{Days: access.MonFri, Start: "07:00", End: "18:00"}}
