package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

// childArgsEnv makes the test binary run chargebook itself with these arguments (JSON), so
// that tests can kill a real server process.
const childArgsEnv = "CHARGEBOOK_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childArgsEnv); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		main2(argv)
		return
	}
	os.Exit(m.Run())
}

// main2 is main with given arguments.
func main2(argv []string) {
	os.Args = append([]string{"chargebook"}, argv...)
	main()
}

// startServer runs `chargebook serve` in a child process on a free port.
func startServer(t *testing.T, dataDir string) (cmd *exec.Cmd, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	argv, _ := json.Marshal([]string{"serve", "--listen", addr, "--data", dataDir, "--log-level", "warn"})
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgsEnv+"="+string(argv))
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return cmd, addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// acked is what the server acknowledged before it was killed.
type acked struct {
	mu       sync.Mutex
	readings map[int64][]string // transaction id -> raw readings

	stopped   map[int64]int64 // transaction id -> meterStop
	callCount int
}

func TestSIGKILLLosesNoAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a server process; skipped with -short")
	}
	dir := t.TempDir()
	ctx := context.Background()
	key := createAccount(t, dir)

	cmd, addr := startServer(t, dir)
	url := "ws://" + addr + "/api/Ocpp16/" + key + "/"
	a := &acked{readings: map[int64][]string{}, stopped: map[int64]int64{}}

	const stations = 20
	var wg sync.WaitGroup
	for i := range stations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			driveStation(ctx, url, fmt.Sprintf("CRASH-%02d", i), a)
		}()
	}
	// Kill once traffic is flowing, mid-stream.
	deadline := time.Now().Add(20 * time.Second)
	for {
		a.mu.Lock()
		n := a.callCount
		a.mu.Unlock()
		if n >= 2000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	wg.Wait()
	if a.callCount < 100 {
		t.Fatalf("only %d calls were acknowledged before the kill; the test proves nothing", a.callCount)
	}

	// Everything acknowledged is in the database.
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "chargebook.db"), quietLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	op, err := st.OperatorByEmail(ctx, "crash@example.com")
	if err != nil {
		t.Fatal(err)
	}
	var missing, checked int
	for txID, readings := range a.readings {
		tx, err := st.Transaction(ctx, op.AccountID, txID)
		if err != nil {
			t.Errorf("acknowledged transaction %d: %v", txID, err)
			continue
		}
		if stop, ok := a.stopped[txID]; ok && (!tx.Stopped || tx.MeterStopWh != stop) {
			t.Errorf("transaction %d: acknowledged stop at %d Wh, stored %+v", txID, stop, tx)
		}
		values, err := st.MeterValues(ctx, op.AccountID, station.MeterValueFilter{TransactionID: txID})
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string]bool{}
		for _, v := range values {
			stored[v.RawValue] = true
		}
		for _, r := range readings {
			checked++
			if !stored[r] {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged readings lost after SIGKILL", missing, checked)
	}
	t.Logf("%d calls acknowledged before SIGKILL; all %d acknowledged readings of %d transactions found", a.callCount, checked, len(a.readings))
	st.Close()

	// The server starts again on the recovered database and takes stations.
	_, addr = startServer(t, dir)
	conn, err := rpc.Dial(ctx, "ws://"+addr+"/api/Ocpp16/"+key+"/CRASH-00", rpc.Options{}, nil)
	if err != nil {
		t.Fatalf("reconnect after restart: %v", err)
	}
	go conn.Serve(ctx, nil)
	defer conn.Close(1000, "")
	if _, err := call[*ocpp.HeartbeatResponse](ctx, conn, &ocpp.HeartbeatRequest{}); err != nil {
		t.Fatalf("heartbeat after restart: %v", err)
	}
}

func createAccount(t *testing.T, dir string) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "chargebook.db"), quietLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acct, op, err := account.New("", "crash@example.com", "crash-test-password", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	acct, _, err = st.CreateAccount(ctx, acct, op)
	if err != nil {
		t.Fatal(err)
	}
	return acct.Key
}

// driveStation boots, starts a transaction and sends MeterValues until the server dies,
// recording what was acknowledged; every tenth reading it stops and starts a transaction.
func driveStation(ctx context.Context, url, id string, a *acked) {
	conn, err := rpc.Dial(ctx, url+id, rpc.Options{CallTimeout: 5 * time.Second}, nil)
	if err != nil {
		return
	}
	go conn.Serve(ctx, nil)
	defer conn.Close(1000, "")
	if _, err := call[*ocpp.BootNotificationResponse](ctx, conn, &ocpp.BootNotificationRequest{ChargePointVendor: "crash", ChargePointModel: "test"}); err != nil {
		return
	}
	register := 0
	for n := 0; ; n++ {
		start, err := call[*ocpp.StartTransactionResponse](ctx, conn, &ocpp.StartTransactionRequest{
			ConnectorID: 1, IdTag: "TAG-" + id, MeterStart: register, Timestamp: ocpp.DateTime{Time: time.Now()},
		})
		if err != nil {
			return
		}
		txID := int64(start.TransactionID)
		a.mu.Lock()
		a.readings[txID] = []string{}
		a.callCount++
		a.mu.Unlock()
		for range 10 {
			register += 7
			reading := strconv.Itoa(register)
			tx := int(txID)
			_, err := call[*ocpp.MeterValuesResponse](ctx, conn, &ocpp.MeterValuesRequest{
				ConnectorID: 1, TransactionID: &tx,
				MeterValue: []ocpp.MeterValue{{Timestamp: ocpp.DateTime{Time: time.Now()}, SampledValue: []ocpp.SampledValue{{Value: reading}}}},
			})
			if err != nil {
				return
			}
			a.mu.Lock()
			a.readings[txID] = append(a.readings[txID], reading)
			a.callCount++
			a.mu.Unlock()
		}
		if _, err := call[*ocpp.StopTransactionResponse](ctx, conn, &ocpp.StopTransactionRequest{
			TransactionID: int(txID), MeterStop: register, Timestamp: ocpp.DateTime{Time: time.Now()}, Reason: ocpp.ReasonLocal,
		}); err != nil {
			return
		}
		a.mu.Lock()
		a.stopped[txID] = int64(register)
		a.callCount++
		a.mu.Unlock()
	}
}

// call sends a typed request and decodes the typed response.
func call[R any](ctx context.Context, conn *rpc.Conn, req any) (R, error) {
	var zero R
	action, _ := ocpp.ActionOf(req)
	payload, err := ocpp.EncodePayload(req)
	if err != nil {
		return zero, err
	}
	raw, err := conn.Call(ctx, action, payload)
	if err != nil {
		return zero, err
	}
	resp, _, err := ocpp.DecodeResponse(action, raw, ocpp.Strict)
	if err != nil {
		return zero, err
	}
	r, ok := resp.(R)
	if !ok {
		return zero, errors.New("unexpected response type")
	}
	return r, nil
}
