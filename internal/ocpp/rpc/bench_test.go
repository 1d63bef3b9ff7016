package rpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

var meterValues = []byte(`{"connectorId":1,"transactionId":4711,"meterValue":[{"timestamp":"2025-06-01T12:00:00Z",` +
	`"sampledValue":[{"value":"12345.6","measurand":"Energy.Active.Import.Register","unit":"Wh"},` +
	`{"value":"11040","measurand":"Power.Active.Import","unit":"W"},` +
	`{"value":"16.0","measurand":"Current.Import","phase":"L1","unit":"A"},` +
	`{"value":"230.1","measurand":"Voltage","phase":"L1-N","unit":"V"}]}]}`)

// BenchmarkRoundTrip: station Call → central handler → reply, over loopback, one call at a time.
func BenchmarkRoundTrip(b *testing.B) {
	for _, bc := range []struct {
		action  string
		payload []byte
	}{
		{"Heartbeat", []byte(`{}`)},
		{"MeterValues", meterValues},
	} {
		b.Run(bc.action, func(b *testing.B) {
			srv := newTestServer(b, Options{}, handle(heartbeat))
			station, _ := dialClient(b, srv.url, Options{}, nil)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := station.Call(ctx, bc.action, bc.payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRoundTripParallel drives many stations at once, as the load tool does; calls/s is
// the acknowledged call rate of central system and load generator together.
func BenchmarkRoundTripParallel(b *testing.B) {
	const conns = 64
	srv := newTestServer(b, Options{}, handle(func(ctx context.Context, call Call) (json.RawMessage, error) {
		return json.RawMessage(`{}`), nil
	}))
	stations := make([]*Conn, conns)
	for i := range stations {
		stations[i], _ = dialClient(b, srv.url, Options{}, nil)
	}
	var next atomic.Int32
	b.SetParallelism((conns + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := stations[int(next.Add(1)-1)%conns]
		for pb.Next() {
			if _, err := c.Call(context.Background(), "MeterValues", meterValues); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkIdleConnMemory measures what an idle station connection costs the central system:
// heap and stack in use, RSS and goroutines per connection. The stations run in a child
// process so that only the server side is counted.
func BenchmarkIdleConnMemory(b *testing.B) {
	const n = 2000
	for range b.N {
		perConn := idleConnCost(b, n)
		b.ReportMetric(perConn.heapStack, "heap+stack-B/conn")
		b.ReportMetric(perConn.rss, "rss-B/conn")
		b.ReportMetric(perConn.goroutines, "goroutines/conn")
	}
}

// TestOneGoroutinePerIdleConn holds the central system to one goroutine per idle station.
func TestOneGoroutinePerIdleConn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	if g := idleConnCost(t, 200).goroutines; g != 1 {
		t.Errorf("%v goroutines per idle connection, want 1", g)
	}
}

type connCost struct{ heapStack, rss, goroutines float64 }

func idleConnCost(tb testing.TB, n int) connCost {
	var served atomic.Int32
	srv := newTestServer(tb, Options{}, func(*Conn) Handler { served.Add(1); return heartbeat })
	before := measure()

	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleStationsHelper$")
	cmd.Env = append(os.Environ(), "RPC_IDLE_URL="+srv.url, "RPC_IDLE_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		stdin.Close() // the child exits, and its connections with it
		cmd.Wait()
	}()
	ready := make(chan error, 1)
	go func() {
		out := bufio.NewScanner(stdout)
		for out.Scan() {
			if out.Text() == "ready" {
				ready <- nil // and stop reading: this goroutine must not be counted
				return
			}
		}
		ready <- fmt.Errorf("child exited before ready: %v", out.Err())
	}()
	if err := waitErr(tb, ready, time.Minute); err != nil {
		tb.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); served.Load() < int32(n); {
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d connections served", served.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let every Serve reach its idle read
	after := measure()
	return connCost{
		heapStack:  float64(after.heapStack-before.heapStack) / float64(n),
		rss:        float64(after.rss-before.rss) / float64(n),
		goroutines: float64(after.goroutines-before.goroutines) / float64(n),
	}
}

type usage struct{ heapStack, rss, goroutines int64 }

func measure() usage {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	u := usage{heapStack: int64(m.HeapInuse + m.StackInuse), goroutines: int64(runtime.NumGoroutine())}
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		if _, rest, ok := bytes.Cut(status, []byte("VmRSS:")); ok {
			fields := bytes.Fields(rest)
			if kb, err := strconv.ParseInt(string(fields[0]), 10, 64); err == nil {
				u.rss = kb << 10
			}
		}
	}
	return u
}

// TestIdleStationsHelper is the child process of idleConnCost: it connects RPC_IDLE_N idle
// stations to RPC_IDLE_URL, says "ready", and holds them until its stdin closes.
func TestIdleStationsHelper(t *testing.T) {
	url := os.Getenv("RPC_IDLE_URL")
	if url == "" {
		t.Skip("child process of idleConnCost")
	}
	n, _ := strconv.Atoi(os.Getenv("RPC_IDLE_N"))
	for range n {
		ws, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{Subprotocols: []string{Subprotocol}})
		if err != nil {
			t.Fatal(err)
		}
		ws.CloseRead(context.Background()) // answers the server's pings
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}
