// Package api is chargebook's REST API: JSON over HTTP under /api/v1, for scripts and other
// systems, authenticated with an account's API token (Authorization: Bearer cb_...). Every
// request acts as the token's account, and every lookup is scoped to it: a station,
// transaction or id tag of another account is answered 404, as if it did not exist.
//
// The API is described by the OpenAPI 3 document openapi.json, embedded and served at
// /api/v1/openapi.json without a token. The tests keep it true: TestOpenAPIMatchesRoutes
// checks that every route of the table is in the document with its path and query
// parameters, and that every operation of the document is a route;
// TestOpenAPIDescribesResponses checks real answers against the documented schemas.
//
// Conventions, which new routes keep:
//   - Properties are camelCase; ids are those of OCPP (chargePointId, connectorId,
//     transactionId, idTag); energy is in whole Wh; times are RFC 3339 in UTC.
//   - A property that has no value is null, never left out; a list is an object with one
//     array property named after what it lists ({"stations": [...]}), never null.
//   - Request bodies are decoded strictly (DecodeJSON): malformed JSON, an unknown property
//     or a value of the wrong type is a 400 that names the problem and the property.
//   - Query parameters a route does not take are refused with 400 naming them.
//   - Every error is {"error": {"code": ..., "message": ..., "field": ...}} (see Error).
//
// # Adding routes
//
// A route is a Route in the table New registers from: its method and path pattern, its query
// parameters, and a HandlerFunc that writes its answer (WriteJSON) or returns an error, which
// is written as the error body (an *Error as it is, station.ErrNotFound and
// account.ErrNotFound as 404, anything else as 500, logged). Before the handler runs, the
// token is checked, Account(r) is the token's account, the query parameters are checked, and
// a path with a {chargePointId} wildcard has its station resolved in the account (404 if it
// has none): Station(r). A station named elsewhere (a query parameter) is resolved with
// (*API).station, which answers the same 404.
//
// Routes built in this package, such as the remote operations of operations.go (operations
// log, configuration, reservations, charging profiles, POST
// /api/v1/stations/{chargePointId}/operations/{action}), are a method like stationRoutes
// whose table is appended in (*API).routes, with what they need added to Deps. Routes built
// by another package come in Deps.Extra. Either way their paths, parameters and answers go
// into openapi.json too, or the OpenAPI tests fail.
//
// This package decides nothing about charging: it reads and changes the records of package
// station through station.Store, has package operation send remote operations, and knows
// nothing of websockets or SQL.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/station"
)

// Prefix is the path every route of the API starts with; serve.go mounts the API there.
const Prefix = "/api/v1/"

// Accounts is what the API needs of the account side: the token of a request and its account.
// *store.Store implements it.
type Accounts interface {
	AccountByID(ctx context.Context, id int64) (account.Account, error)
	TokenByHash(ctx context.Context, hash string) (account.Token, error)
	TouchToken(ctx context.Context, id int64, at time.Time) error
}

// Live tells whether a station is connected to this server now; *csms.Server implements it.
type Live interface {
	Connected(accountID int64, chargePointID string) bool
}

// Deps are what the API works with.
type Deps struct {
	Accounts Accounts
	Stations station.Store
	// Live, if set, says which stations are connected now; without it the API reports the
	// connection state the store recorded.
	Live Live
	// Billing keeps tariffs and price plans and prices transactions (see tariffs.go);
	// without it those routes answer 503.
	Billing Billing
	// Now is the clock; time.Now by default.
	Now    func() time.Time
	Logger *slog.Logger
	// Extra are routes of other packages, served like the API's own: same token check,
	// station resolution, query check and error bodies. Their paths must not clash with
	// the API's (New panics, as http.ServeMux does).
	Extra []Route
	// Operations sends remote operations to stations and reads their records (see
	// operations.go); without it those routes answer 503.
	Operations Operations
	// Access keeps who may charge where and when (see access.go); without it those routes
	// answer 503, and id tags are saved without users.
	Access Access
	// Energy keeps the 15-minute energy series, the HT/NT calendar, live power and
	// external series (see energy.go); without it those routes answer 503.
	Energy Energy
}

// HandlerFunc handles a request that passed the checks of its Route. It writes a successful
// answer itself, or returns an error without having written anything.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one operation of the API.
type Route struct {
	Method string // GET, PUT, PATCH, POST, DELETE
	// Path is an http.ServeMux path pattern starting with Prefix, e.g.
	// "/api/v1/stations/{chargePointId}".
	Path string
	// Query are the query parameters the route takes; a request with any other is a 400.
	Query []string
	// Public routes need no token: only the OpenAPI document.
	Public bool
	Handle HandlerFunc
}

// API serves everything under Prefix. It is an http.Handler.
type API struct {
	deps  Deps
	mux   *http.ServeMux
	table []Route
}

// New returns the API, with its routes and those of d.Extra registered.
func New(d Deps) *API {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	a := &API{deps: d, mux: http.NewServeMux()}
	a.table = slices.Concat(a.routes(), d.Extra)
	methods := make(map[string][]string) // path -> methods, for 405 answers
	for _, rt := range a.table {
		a.mux.Handle(rt.Method+" "+rt.Path, a.handler(rt))
		methods[rt.Path] = append(methods[rt.Path], rt.Method)
	}
	for path, ms := range methods {
		a.mux.Handle(path, methodNotAllowed(ms))
	}
	a.mux.Handle(Prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, Errorf(http.StatusNotFound, CodeNotFound, "", "no resource at %s: see %sopenapi.json", r.URL.Path, Prefix))
	}))
	return a
}

// routes is the API's own route table. Files of this package that add routes append theirs.
func (a *API) routes() []Route {
	return slices.Concat(
		[]Route{{Method: "GET", Path: Prefix + "openapi.json", Public: true, Handle: serveOpenAPI}},
		a.stationRoutes(),
		a.tariffRoutes(),
		a.transactionRoutes(),
		a.idTagRoutes(),
		a.operationRoutes(),
		a.accessRoutes(),
		a.energyRoutes(),
	)
}

// Routes returns every route the API serves, Deps.Extra included.
func (a *API) Routes() []Route { return slices.Clone(a.table) }

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// maxBodyBytes bounds a request body; the API's bodies are a few hundred bytes.
const maxBodyBytes = 1 << 20

// requestInfo is what the checks before a handler found, kept in the request's context.
type requestInfo struct {
	account account.Account
	token   account.Token
	station station.Station
}

type infoKey struct{}

func info(r *http.Request) *requestInfo {
	ri, _ := r.Context().Value(infoKey{}).(*requestInfo)
	if ri == nil {
		return &requestInfo{}
	}
	return ri
}

// Account returns the account of the request's token; the zero Account on a public route.
func Account(r *http.Request) account.Account { return info(r).account }

// Token returns the API token the request was authenticated with; the zero Token on a
// public route.
func Token(r *http.Request) account.Token { return info(r).token }

// Station returns the station a route's {chargePointId} names, already resolved in the
// request's account; the zero Station on a route without that wildcard.
func Station(r *http.Request) station.Station { return info(r).station }

// handler runs the checks of rt, then its handler.
func (a *API) handler(rt Route) http.Handler {
	resolveStation := strings.Contains(rt.Path, "{chargePointId}")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		ri := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, ri))
		err := func() error {
			if !rt.Public {
				acct, err := a.authenticate(r)
				if err != nil {
					return err
				}
				ri.account = acct
			}
			if err := checkQuery(r, rt.Query); err != nil {
				return err
			}
			if resolveStation && !rt.Public {
				st, err := a.station(r.Context(), ri.account.ID, r.PathValue("chargePointId"))
				if err != nil {
					return err
				}
				ri.station = st
			}
			return rt.Handle(w, r)
		}()
		if err != nil {
			a.fail(w, r, err)
		}
	})
}

// station finds a station of the account; none is a 404 naming it.
func (a *API) station(ctx context.Context, accountID int64, chargePointID string) (station.Station, error) {
	st, err := a.deps.Stations.StationByChargePointID(ctx, accountID, chargePointID)
	if errors.Is(err, station.ErrNotFound) {
		return station.Station{}, Errorf(http.StatusNotFound, CodeNotFound, "chargePointId", "no station %q", chargePointID)
	}
	return st, err
}

// notFoundAs turns a not-found into a 404 naming what was not found; other errors pass.
func notFoundAs(err error, field, format string, args ...any) error {
	var e *Error
	if errors.Is(err, station.ErrNotFound) || (errors.As(err, &e) && e.Status == http.StatusNotFound) {
		return Errorf(http.StatusNotFound, CodeNotFound, field, format, args...)
	}
	return err
}

// connected is whether the station is connected now.
func (a *API) connected(st station.Station) bool {
	if a.deps.Live == nil {
		return st.Connected
	}
	return a.deps.Live.Connected(st.AccountID, st.ChargePointID)
}

// authenticate finds the account of the request's bearer token.
func (a *API) authenticate(r *http.Request) (account.Account, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return account.Account{}, Errorf(http.StatusUnauthorized, CodeUnauthorized, "",
			"missing token: send the header Authorization: Bearer <token> (tokens are made with chargebook token create)")
	}
	scheme, secret, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return account.Account{}, Errorf(http.StatusUnauthorized, CodeInvalidToken, "", "the Authorization header must be Bearer <token>")
	}
	secret = strings.TrimSpace(secret)
	invalid := Errorf(http.StatusUnauthorized, CodeInvalidToken, "", "the token is not valid or has been revoked")
	if !account.LooksLikeToken(secret) {
		return account.Account{}, invalid
	}
	ctx := r.Context()
	tok, err := a.deps.Accounts.TokenByHash(ctx, account.HashToken(secret))
	if errors.Is(err, account.ErrNotFound) {
		return account.Account{}, invalid
	}
	if err != nil {
		return account.Account{}, err
	}
	acct, err := a.deps.Accounts.AccountByID(ctx, tok.AccountID)
	if errors.Is(err, account.ErrNotFound) {
		return account.Account{}, invalid
	}
	if err != nil {
		return account.Account{}, err
	}
	info(r).token = tok
	// Throttled by the time read with the token: a write at most once a minute per token,
	// with no state kept here (a burst of parallel requests may write a few times).
	if now := a.deps.Now(); now.Sub(tok.LastUsedAt) >= account.TokenTouchInterval {
		if err := a.deps.Accounts.TouchToken(ctx, tok.ID, now.UTC()); err != nil {
			a.deps.Logger.Warn("api: record token use", "token", tok.ID, "err", err)
		}
	}
	return acct, nil
}

// fail writes err as the error body: an *Error as it is, a not-found as 404, anything else
// as a 500 whose cause is logged, not shown.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, station.ErrNotFound), errors.Is(err, account.ErrNotFound):
		e = Errorf(http.StatusNotFound, CodeNotFound, "", "not found")
	default:
		a.deps.Logger.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = Errorf(http.StatusInternalServerError, CodeInternal, "", "internal error")
	}
	WriteError(w, e)
}

func methodNotAllowed(methods []string) http.Handler {
	allow := slices.Clone(methods)
	if slices.Contains(allow, "GET") {
		allow = append(allow, "HEAD")
	}
	slices.Sort(allow)
	header := strings.Join(allow, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", header)
		WriteError(w, Errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "", "%s is not allowed here; allowed: %s", r.Method, header))
	})
}
