// Package server assembles chargebook from its parts: the station service with the access
// rules, the OCPP endpoint, remote operations, session pricing, the REST API, the portal and the
// background work of the access rules. It is the one place they are wired together, used by
// `chargebook serve` and by the end-to-end tests, so that the tests run what is deployed.
//
// It holds no logic of its own beyond the wiring and the top-level routes.
package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/chargebook/chargebook/internal/api"
	"github.com/chargebook/chargebook/internal/authz"
	"github.com/chargebook/chargebook/internal/billing"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/operation"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
	"github.com/chargebook/chargebook/internal/web"
)

// Config tunes the assembled server; the zero value gives the defaults.
type Config struct {
	RPC    rpc.Options
	Logger *slog.Logger
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// PublicURL is the server's address as chargers and browsers reach it; the portal shows
	// station URLs with it. Empty: from each request.
	PublicURL string
}

// Server is chargebook assembled. Handler serves stations, the REST API and health checks.
type Server struct {
	Handler    http.Handler
	OCPP       *csms.Server
	Operations *operation.Service
	Billing    *billing.Service
	Access     *authz.Service
	Portal     *web.Portal
	Metering   *metering.Service

	// stopAccess stops the background work of access and metering; both close their done.
	stopAccess   context.CancelFunc
	accessDone   chan struct{}
	meteringDone chan struct{}
}

// New wires chargebook on the store and starts its background work; Shutdown stops it.
func New(st *store.Store, cfg Config) *Server {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if cfg.RPC.Logger == nil {
		cfg.RPC.Logger = log
	}
	// Stations are answered with the accounts' access rules.
	authorizer := authz.NewAuthorizer(st, log)
	svc := station.NewService(st, authorizer, now, log)
	ocppServer := csms.New(st, svc, csms.Options{RPC: cfg.RPC, Logger: log, Now: now, Passwords: st})
	// Remote operations go out through the OCPP endpoint and follow what the stations report;
	// sessions are priced as they start and stop.
	ops := operation.NewService(st, csms.Sender{Server: ocppServer}, now, log)
	prices := billing.NewService(st, st, st, st, now, log)
	// Stored meter values keep the 15-minute series current and feed live power.
	meters := metering.NewService(metering.Deps{Store: st, Stations: st, Operations: ops, Now: now, Logger: log})
	svc.SetMeterObserver(meters)
	svc.SetObserver(station.Observers{ops, prices, meters})
	// Rule changes reach the stations' local lists, and sessions are stopped at the end of
	// their window.
	access := authz.NewService(authz.Deps{Authorizer: authorizer, Store: st, Stations: st, Operations: ops, Live: ocppServer, Logger: log})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		access.Run(ctx)
	}()
	meteringDone := make(chan struct{})
	go func() {
		defer close(meteringDone)
		meters.Run(ctx)
	}()
	restAPI := api.New(api.Deps{Accounts: st, Stations: st, Live: ocppServer, Operations: ops, Billing: prices, Access: access, Energy: meters, Logger: log})
	// The portal is a sibling of the API on the same services, mounted at "/".
	portalMeters := web.Meters{Service: meters, Store: st, Now: now}
	portal, err := web.New(web.Deps{Store: st, Operations: ops, Live: ocppServer, Metering: portalMeters, BillingMetering: portalMeters, PublicURL: cfg.PublicURL, Now: now, Logger: log,
		AccessRules: access, Billing: prices, Energy: meters, DriverLinks: st})
	if err != nil {
		panic(fmt.Sprintf("server: the portal's embedded templates: %v", err)) // caught by every test that wires a server
	}
	return &Server{
		Handler:      routes(ocppServer, restAPI, portal),
		Portal:       portal,
		OCPP:         ocppServer,
		Operations:   ops,
		Billing:      prices,
		Access:       access,
		Metering:     meters,
		stopAccess:   stop,
		accessDone:   done,
		meteringDone: meteringDone,
	}
}

// Shutdown stops the background work and closes every station connection once its last
// message is stored. The store stays open: its owner closes it afterwards.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccess()
	<-s.accessDone
	<-s.meteringDone
	if err := s.OCPP.Shutdown(ctx); err != nil {
		return fmt.Errorf("server shutdown: %w", err)
	}
	return nil
}

// Routes sends station URLs, in any letter case, to the OCPP endpoint, /api/v1/ to the REST
// API, and answers health checks. New uses it; tests that wire a part differently (a clock of
// their own) use it to route as the product does.
func Routes(ocppServer *csms.Server, restAPI http.Handler) http.Handler {
	return routes(ocppServer, restAPI, nil)
}

// routes is Routes with the portal at "/"; without one, "/" says what the server is.
func routes(ocppServer *csms.Server, restAPI, portal http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(api.Prefix, restAPI)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	if portal != nil {
		mux.Handle("/", portal)
	} else {
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "chargebook central system is running.\nStations connect to /api/Ocpp16/<accountKey>/<chargePointId>.\nREST API: /api/v1/ (see /api/v1/openapi.json).\n")
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if csms.IsStationPath(r.URL.Path) {
			ocppServer.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
