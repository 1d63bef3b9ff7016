package metering_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/metering"
	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/station"
)

// BenchmarkSeriesIngest measures the rate at which MeterValues go into the stored 15-minute
// series while stations charge: 50 connectors with open transactions send MeterValues
// (register, power and three phase currents, 30 s apart in the stations' time) through the
// station service onto a SQLite store, as the OCPP endpoint does, while the series worker
// runs as the server runs it. The clock stops once every series is current again, so the
// figure includes the rebuilds, not just the inserts. It reports messages and sampled
// values per second, and checks that each transaction's series adds up to its register.
func BenchmarkSeriesIngest(b *testing.B) {
	const connectors = 50
	const stepWh = 92 // 11 kW for 30 s
	e := newEnv(b)
	txs := make([]int, connectors)
	for c := range txs {
		txs[c] = e.start(c+1, 1_000_000, t0)
	}
	for e.rebuild() > 0 {
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.svc.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(connectors / 2) // as many senders as connectors on 2 cores: group commit needs concurrent writers
	b.ResetTimer()
	began := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			c, k := int(i%connectors), i/connectors+1
			at := t0.Add(time.Duration(k) * 30 * time.Second)
			wh := 1_000_000 + k*stepWh
			tx := txs[c]
			req := &ocpp.MeterValuesRequest{ConnectorID: c + 1, TransactionID: &tx, MeterValue: []ocpp.MeterValue{{
				Timestamp: ocpp.DateTime{Time: at},
				SampledValue: []ocpp.SampledValue{
					{Value: strconv.FormatInt(wh, 10)},
					{Value: "11040", Measurand: "Power.Active.Import", Unit: "W"},
					{Value: "16.0", Measurand: "Current.Import", Phase: "L1", Unit: "A"},
					{Value: "16.0", Measurand: "Current.Import", Phase: "L2", Unit: "A"},
					{Value: "16.0", Measurand: "Current.Import", Phase: "L3", Unit: "A"},
				},
			}}}
			if _, err := e.stations.Handle(e.ctx, e.sess, req, station.Source{Action: "MeterValues", ReceivedAt: at}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	for {
		pending, err := e.store.PendingSeries(e.ctx, 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(pending) == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(began)
	b.StopTimer()
	sent := next.Load()
	b.ReportMetric(float64(sent)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(5*float64(sent)/elapsed.Seconds(), "values/s")

	for c, tx := range txs {
		n := sent / connectors
		if int64(c) < sent%connectors {
			n++
		}
		rows, err := e.store.Series(e.ctx, e.acct.ID, metering.SeriesFilter{From: t0.Add(-time.Hour), To: t0.Add(time.Duration(n+1)*30*time.Second + time.Hour), TransactionID: int64(tx)}, metering.GroupTransaction)
		if err != nil {
			b.Fatal(err)
		}
		var sum int64
		for _, r := range rows {
			sum += r.EnergyWh
		}
		if sum != n*stepWh {
			b.Fatalf("transaction %d: series adds up to %d Wh after %d readings, want %d", tx, sum, n, n*stepWh)
		}
	}
}
