package loadtest

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// The histogram is log-linear: values below 2^subBits microseconds have a bucket each, and
// every power of two above is split into 2^subBits buckets, so a bucket is never wider than
// 1/64 of its values (about 1.6%). Fixed buckets make histograms of different processes
// mergeable by adding counts.
const (
	subBits    = 6
	subBuckets = 1 << subBits
	// maxExp covers up to 2^40 µs, about 12 days.
	maxExp     = 40 - subBits
	numBuckets = (maxExp + 2) * subBuckets
)

// Histogram counts durations at microsecond resolution. Record is safe for concurrent use
// and allocation-free; reading while recording gives a slightly inconsistent snapshot.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	total  atomic.Uint64
	max    atomic.Uint64 // µs
}

func bucketOf(us uint64) int {
	if us < subBuckets {
		return int(us)
	}
	shift := bits.Len64(us) - subBits - 1
	if shift > maxExp {
		return numBuckets - 1
	}
	return (shift+1)*subBuckets + int(us>>shift) - subBuckets
}

// bucketRange is the lowest and highest value (µs) of bucket b.
func bucketRange(b int) (lo, hi uint64) {
	if b < 2*subBuckets {
		return uint64(b), uint64(b)
	}
	shift := b/subBuckets - 1
	lo = uint64(b%subBuckets+subBuckets) << shift
	return lo, lo + 1<<shift - 1
}

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	h.counts[bucketOf(us)].Add(1)
	h.total.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			break
		}
	}
}

// Count is the number of durations recorded.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max is the longest duration recorded.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Quantile returns the duration below which a fraction q of the recorded ones fall: the
// middle of the bucket holding that rank.
func (h *Histogram) Quantile(q float64) time.Duration {
	total := h.total.Load()
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	rank = min(max(rank, 1), total)
	var seen uint64
	for b := range h.counts {
		seen += h.counts[b].Load()
		if seen >= rank {
			lo, hi := bucketRange(b)
			mid := min(lo+(hi-lo)/2, h.max.Load())
			return time.Duration(mid) * time.Microsecond
		}
	}
	return h.Max()
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for b := range o.counts {
		if n := o.counts[b].Load(); n > 0 {
			h.counts[b].Add(n)
		}
	}
	h.total.Add(o.total.Load())
	for {
		m, om := h.max.Load(), o.max.Load()
		if om <= m || h.max.CompareAndSwap(m, om) {
			break
		}
	}
}

// HistogramData is a histogram as workers send it to the parent process: the non-empty
// buckets as [bucket, count] pairs.
type HistogramData struct {
	Buckets [][2]uint64 `json:"buckets"`
	MaxUS   uint64      `json:"max_us"`
}

// Data returns h in its portable form.
func (h *Histogram) Data() HistogramData {
	d := HistogramData{MaxUS: h.max.Load(), Buckets: [][2]uint64{}}
	for b := range h.counts {
		if n := h.counts[b].Load(); n > 0 {
			d.Buckets = append(d.Buckets, [2]uint64{uint64(b), n})
		}
	}
	return d
}

// MergeData adds a portable histogram to h; buckets out of range are ignored.
func (h *Histogram) MergeData(d HistogramData) {
	for _, bc := range d.Buckets {
		if bc[0] < numBuckets {
			h.counts[bc[0]].Add(bc[1])
			h.total.Add(bc[1])
		}
	}
	for {
		m := h.max.Load()
		if d.MaxUS <= m || h.max.CompareAndSwap(m, d.MaxUS) {
			break
		}
	}
}
