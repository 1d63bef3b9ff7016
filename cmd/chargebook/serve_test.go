package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
)

// syncBuffer collects what a server running in a goroutine prints.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveInProcess runs `chargebook serve` with args until the test ends, and returns what it
// printed on stdout once it answers /healthz (the listener opens before the first start has
// created its account, so a plain connect is too early).
func serveInProcess(t *testing.T, addr string, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve", "--listen", addr}, args...), &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v; stderr:\n%s", err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop after its context ended")
		}
	})
	scheme := "http://"
	if strings.Contains(strings.Join(args, " "), "--tls-cert") {
		scheme = "https://"
	}
	// Only whether it answers matters here, not who it is.
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := probe.Get(scheme + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &stdout
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v; stderr:\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not listen; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var stationURLPattern = regexp.MustCompile(`wss?://\S+/api/Ocpp16/[a-z0-9]+/`)

func TestFirstStartCreatesAnAccountAndPrintsTheStationURL(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	stdout := serveInProcess(t, addr, "--data", dir)

	out := stdout.String()
	url := stationURLPattern.FindString(out)
	if url == "" || !strings.Contains(out, "admin@chargebook.local") {
		t.Fatalf("first start did not print the account and station URL:\n%s", out)
	}
	if want := "ws://" + addr + "/api/Ocpp16/"; !strings.HasPrefix(url, want) {
		t.Errorf("station URL %s, want it to start with %s", url, want)
	}
	info, err := os.Stat(filepath.Join(dir, "first-login.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("first-login.txt has mode %v, want 0600: it holds a password", info.Mode().Perm())
	}

	// The printed URL is the one a charger uses: it appends its id and is accepted.
	ctx := context.Background()
	conn, err := rpc.Dial(ctx, url+"FIRST-1", rpc.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	go conn.Serve(ctx, nil)
	defer conn.CloseNow()
	boot, err := call[*ocpp.BootNotificationResponse](ctx, conn, &ocpp.BootNotificationRequest{ChargePointVendor: "V", ChargePointModel: "M"})
	if err != nil {
		t.Fatal(err)
	}
	if boot.Status != ocpp.RegistrationStatusAccepted || boot.Interval != 300 {
		t.Errorf("boot answered %+v, want Accepted with the default 300 s heartbeat", boot)
	}
}

func TestOperatorCreatePrintsKeyAndURL(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, "operator", "create", "--data", dir, "--email", "Ops@Example.com", "--password", "a long password", "--public-url", "https://charge.example.com")
	var got struct {
		AccountID  int64  `json:"accountId"`
		AccountKey string `json:"accountKey"`
		Email      string `json:"email"`
		OCPPURL    string `json:"ocppUrl"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.AccountID == 0 || len(got.AccountKey) != 24 || got.Email != "ops@example.com" {
		t.Errorf("got %+v", got)
	}
	if want := "wss://charge.example.com/api/Ocpp16/" + got.AccountKey + "/"; got.OCPPURL != want {
		t.Errorf("ocppUrl %q, want %q", got.OCPPURL, want)
	}
	if _, err := chargebook(t, "operator", "create", "--data", dir, "--email", "ops@example.com", "--password", "another long one"); err == nil {
		t.Error("a second account with the same e-mail was created")
	}
	if _, err := chargebook(t, "operator", "create", "--data", dir, "--email", "x@example.com", "--password", "short"); err == nil {
		t.Error("a too short password was accepted")
	}
}

func TestServeWSSWithCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	key := createAccount(t, dir)
	addr := freeAddr(t)
	serveInProcess(t, addr, "--data", dir, "--tls-cert", certFile, "--tls-key", keyFile)

	ctx := context.Background()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	conn, err := rpc.Dial(ctx, "wss://"+addr+"/api/Ocpp16/"+key+"/TLS-1", rpc.Options{HTTPClient: client}, nil)
	if err != nil {
		t.Fatal(err)
	}
	go conn.Serve(ctx, nil)
	defer conn.CloseNow()
	boot, err := call[*ocpp.BootNotificationResponse](ctx, conn, &ocpp.BootNotificationRequest{ChargePointVendor: "V", ChargePointModel: "M"})
	if err != nil {
		t.Fatal(err)
	}
	if boot.Status != ocpp.RegistrationStatusAccepted {
		t.Errorf("boot over wss answered %s", boot.Status)
	}
	// Plain ws to a TLS server fails.
	if c, err := rpc.Dial(ctx, "ws://"+addr+"/api/Ocpp16/"+key+"/TLS-2", rpc.Options{}, nil); err == nil {
		c.CloseNow()
		t.Error("plain ws was accepted by a TLS server")
	}
}

func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "chargebook test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
