package loadtest

import (
	"encoding/json"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	prevHi := uint64(0)
	for b := 1; b < numBuckets; b++ {
		lo, hi := bucketRange(b)
		if lo != prevHi+1 || hi < lo {
			t.Fatalf("bucket %d is %d..%d after %d", b, lo, hi, prevHi)
		}
		if bucketOf(lo) != b || bucketOf(hi) != b {
			t.Fatalf("bucket %d: bucketOf(%d)=%d bucketOf(%d)=%d", b, lo, bucketOf(lo), hi, bucketOf(hi))
		}
		if lo >= 2*subBuckets && float64(hi-lo+1)/float64(lo) > 1.0/subBuckets+1e-9 {
			t.Fatalf("bucket %d too wide: %d..%d", b, lo, hi)
		}
		prevHi = hi
	}
	if bucketOf(1<<62) != numBuckets-1 {
		t.Error("huge values do not land in the last bucket")
	}
}

func TestQuantilesAndMerge(t *testing.T) {
	var a, b Histogram
	for i := 1; i <= 1000; i++ {
		a.Record(time.Duration(i) * time.Millisecond)
	}
	for i := 1; i <= 1000; i++ {
		b.Record(time.Duration(i) * time.Microsecond)
	}
	near := func(got, want time.Duration) bool {
		return got >= want-want/50 && got <= want+want/50
	}
	if got := a.Quantile(0.5); !near(got, 500*time.Millisecond) {
		t.Errorf("p50 %v", got)
	}
	if got := a.Quantile(0.99); !near(got, 990*time.Millisecond) {
		t.Errorf("p99 %v", got)
	}
	if a.Max() != time.Second {
		t.Errorf("max %v", a.Max())
	}
	// Through the portable form, as workers send it.
	raw, err := json.Marshal(b.Data())
	if err != nil {
		t.Fatal(err)
	}
	var d HistogramData
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	var m Histogram
	m.Merge(&a)
	m.MergeData(d)
	if m.Count() != 2000 || m.Max() != time.Second {
		t.Fatalf("merged count %d max %v", m.Count(), m.Max())
	}
	if got := m.Quantile(0.5); got > time.Millisecond+time.Millisecond/50 {
		t.Errorf("merged p50 %v", got)
	}
	if got := m.Quantile(0.75); !near(got, 500*time.Millisecond) {
		t.Errorf("merged p75 %v", got)
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i%50000) * time.Microsecond)
	}
}
