package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	// Access windows are in each account's time zone, which a host without a zoneinfo
	// database (a scratch container) could not load.
	_ "time/tzdata"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/server"
	"github.com/chargebook/chargebook/internal/store"
)

// storeFlags are the flags every command that opens the database shares.
type storeFlags struct {
	data        string
	databaseURL string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", env("CHARGEBOOK_DATA", "data"), "data directory; the embedded SQLite database is its chargebook.db (env CHARGEBOOK_DATA)")
	fs.StringVar(&f.databaseURL, "database-url", env("CHARGEBOOK_DATABASE_URL", ""), "PostgreSQL URL (postgres://...) to use instead of SQLite (env CHARGEBOOK_DATABASE_URL)")
}

func (f *storeFlags) open(ctx context.Context, log *slog.Logger) (*store.Store, error) {
	if f.databaseURL != "" {
		return store.OpenPostgres(ctx, f.databaseURL, log)
	}
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return store.OpenSQLite(ctx, filepath.Join(f.data, "chargebook.db"), log)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	listen := fs.String("listen", env("CHARGEBOOK_LISTEN", ":8080"), "address to listen on for stations, the API and the portal (env CHARGEBOOK_LISTEN)")
	publicURL := fs.String("public-url", env("CHARGEBOOK_PUBLIC_URL", ""), "the server's address as chargers and browsers reach it, e.g. https://charge.example.com; default from --listen (env CHARGEBOOK_PUBLIC_URL)")
	tlsCert := fs.String("tls-cert", env("CHARGEBOOK_TLS_CERT", ""), "TLS certificate file: serve https and wss (env CHARGEBOOK_TLS_CERT)")
	tlsKey := fs.String("tls-key", env("CHARGEBOOK_TLS_KEY", ""), "TLS key file (env CHARGEBOOK_TLS_KEY)")
	adminEmail := fs.String("admin-email", env("CHARGEBOOK_ADMIN_EMAIL", "admin@chargebook.local"), "e-mail of the operator account created on first start (env CHARGEBOOK_ADMIN_EMAIL)")
	logLevel := fs.String("log-level", env("CHARGEBOOK_LOG_LEVEL", "info"), "debug, info, warn or error (env CHARGEBOOK_LOG_LEVEL)")
	callTimeout := fs.Duration("call-timeout", envDuration("CHARGEBOOK_CALL_TIMEOUT", 30*time.Second), "how long a command waits for a station's answer (env CHARGEBOOK_CALL_TIMEOUT)")
	pingInterval := fs.Duration("ping-interval", envDuration("CHARGEBOOK_PING_INTERVAL", 30*time.Second), "websocket ping interval; a station silent for this plus 10s is disconnected (env CHARGEBOOK_PING_INTERVAL)")
	maxFrame := fs.Int64("max-frame-bytes", int64(envInt("CHARGEBOOK_MAX_FRAME_BYTES", 256<<10)), "largest OCPP frame accepted from a station (env CHARGEBOOK_MAX_FRAME_BYTES)")
	pprofAddr := fs.String("pprof", env("CHARGEBOOK_PPROF", ""), "if set, serve Go profiles (net/http/pprof) on this separate address, e.g. 127.0.0.1:6060 (env CHARGEBOOK_PPROF)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}

	st, err := sf.open(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	base := baseURL(*publicURL, ln.Addr().String(), *tlsCert != "")
	if err := firstStart(ctx, st, sf, *adminEmail, base, stdout); err != nil {
		ln.Close()
		return err
	}

	app := server.New(st, server.Config{
		RPC:       rpc.Options{CallTimeout: *callTimeout, PingInterval: *pingInterval, MaxFrameBytes: *maxFrame, Logger: log},
		Logger:    log,
		PublicURL: *publicURL,
	})
	srv := &http.Server{
		Handler:           app.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if *pprofAddr != "" {
		go servePprof(*pprofAddr, log)
	}

	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- srv.ServeTLS(ln, *tlsCert, *tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	log.Info("chargebook serving", "listen", ln.Addr().String(), "stations", wsURL(base)+csms.PathPrefix+"<accountKey>/<chargePointId>")

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: closing station connections")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := app.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown", "err", err)
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown http", "err", err)
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	log.Info("stopped")
	return nil
}

// firstStart creates an operator account when there is none, and tells the operator how to
// log in and what to paste into the chargers.
func firstStart(ctx context.Context, st *store.Store, sf storeFlags, email, base string, stdout io.Writer) error {
	n, err := st.CountAccounts(ctx)
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	if n > 0 {
		return nil
	}
	password := account.NewPassword()
	a, op, err := account.New("", email, password, time.Now())
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	a, op, err = st.CreateAccount(ctx, a, op)
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	msg := fmt.Sprintf(`
chargebook: first start, created an operator account.
  e-mail:     %s
  password:   %s (log in to the portal at %s/)
  station URL to paste into your chargers (the charger appends its id):
              %s
  REST API at %s/api/v1 — get a token with:
              chargebook token create --email %s
`, op.Email, password, base, ocppURL(base, a.Key), base, op.Email)
	if sf.databaseURL == "" {
		path := filepath.Join(sf.data, "first-login.txt")
		if err := os.WriteFile(path, []byte(strings.TrimLeft(msg, "\n")), 0o600); err != nil {
			return fmt.Errorf("first start: %w", err)
		}
		msg += fmt.Sprintf("  (also written to %s; change the password after logging in)\n", path)
	}
	fmt.Fprintln(stdout, msg)
	return nil
}

// baseURL is the server's address as chargers and browsers reach it.
func baseURL(public, listenAddr string, tls bool) string {
	if public != "" {
		return strings.TrimSuffix(public, "/")
	}
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		host, port = listenAddr, ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	if port == "" {
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// wsURL turns an http(s) base URL into the ws(s) one chargers use.
func wsURL(base string) string {
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest
	}
	if rest, ok := strings.CutPrefix(base, "http://"); ok {
		return "ws://" + rest
	}
	return base
}

// ocppURL is the URL an account's chargers are given.
func ocppURL(base, accountKey string) string {
	return wsURL(base) + csms.PathPrefix + accountKey + "/"
}

func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if err := http.ListenAndServe(addr, mux); err != nil {
		log.Error("pprof", "err", err)
	}
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(env(name, "")); err == nil {
		return d
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(env(name, "")); err == nil {
		return n
	}
	return def
}
