package csms_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/csms"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/store"
)

// storePasswords reads the passwords of the env's store once it exists.
type storePasswords struct{ env **testEnv }

func (p storePasswords) StationPassword(ctx context.Context, accountID int64, cpID string) (string, time.Time, error) {
	return (*p.env).store.StationPassword(ctx, accountID, cpID)
}

// A station with a password set connects only with Basic authentication, its charge point
// id as user; others are refused with 401 at the upgrade. Stations without one need none.
func TestStationPassword(t *testing.T) {
	var e *testEnv
	e = newEnv(t, func(c envConfig) { c.opts.Passwords = storePasswords{&e} })
	dial(t, e.url("CP-1"), nil).heartbeat()
	st := e.station("CP-1")
	const password = "a-random-station-password"
	if err := e.store.SetStationPassword(e.ctx, e.acct.ID, st.ID, account.HashToken(password), time.Time{}); err != nil {
		t.Fatal(err)
	}
	basic := func(user, pw string) http.Header {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(user, pw)
		return r.Header
	}
	for name, h := range map[string]http.Header{
		"no credentials":    nil,
		"wrong password":    basic("CP-1", password+"x"),
		"another user":      basic("CP-2", password),
		"bearer, not basic": {"Authorization": {"Bearer " + password}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		_, err := rpc.Dial(ctx, e.url("CP-1"), rpc.Options{Logger: quiet}, h)
		cancel()
		if err == nil {
			t.Errorf("%s: connected", name)
			continue
		}
		if want := "401"; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want a %s", name, err, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, err := rpc.Dial(ctx, e.url("CP-1"), rpc.Options{Logger: quiet}, basic("CP-1", password))
	if err != nil {
		t.Fatalf("with the password: %v", err)
	}
	conn.Close(websocket.StatusNormalClosure, "")
	// Another station of the account has no password.
	dial(t, e.url("CP-2"), nil).heartbeat()
}

var _ csms.Passwords = (*store.Store)(nil)
