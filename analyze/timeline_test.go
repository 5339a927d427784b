package analyze

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestTimeline(t *testing.T) {
	const base = int64(1764633600) * int64(time.Second) // 2025-12-02T00:00:00Z
	ms := int64(time.Millisecond)
	tests := []struct {
		name   string
		times  []int64 // offsets from base
		width  int64   // the width the timeline ends at
		spread bool    // the first and last attempt land in different buckets
	}{
		{"one attempt", []int64{0}, minTimelineWidth, false},
		{"a burst within a bucket", []int64{0, 1, 2, 3}, minTimelineWidth, false},
		{"one second: 60 buckets of 2^24 ns", []int64{0, 1000 * ms}, 1 << 24, true},
		{"out of order: an early unanswered SYN last", []int64{500 * ms, 900 * ms, 0}, 1 << 24, true},
		{"an hour", []int64{0, 1800 * int64(time.Second), 3600 * int64(time.Second)}, 1 << 36, true},
		{"earlier first, across a bucket edge", []int64{3 * ms, -3 * ms, 70 * ms}, 1 << 21, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tl Timeline
			for i, off := range tt.times {
				tl.Add(base+off, Class(i%int(NumClasses)))
			}
			if tl.Width != tt.width {
				t.Errorf("width %d, want %d", tl.Width, tt.width)
			}
			if got := tl.Total(); got != len(tt.times) {
				t.Errorf("total %d, want %d: counts must stay exact", got, len(tt.times))
			}
			for i, off := range tt.times {
				k := floorDiv(base+off, tl.Width) - tl.First
				if k < 0 || k >= TimelineBuckets || tl.Counts[k][Class(i%int(NumClasses))] == 0 {
					t.Errorf("attempt %d at +%v not in its bucket %d", i, time.Duration(off), k)
				}
			}
			lo, hi, _ := tl.Span()
			if (lo != hi) != tt.spread {
				t.Errorf("buckets %d..%d, want spread %v", lo, hi, tt.spread)
			}
			if slo, shi := scanSpan(&tl); slo != lo || shi != hi {
				t.Errorf("Span %d..%d, the buckets in use are %d..%d", lo, hi, slo, shi)
			}
		})
	}
}

func TestTimelineCoarsen(t *testing.T) {
	var a, b Timeline
	base := int64(1764633600) * int64(time.Second)
	for i := range 10 {
		a.Add(base+int64(i)*int64(time.Millisecond), ClassGrants)
		b.Add(base+int64(i)*int64(time.Second), ClassOmits)
	}
	if !a.Coarsen(b.Width) || a.Width != b.Width || a.Total() != 10 {
		t.Fatalf("coarsen to %d: width %d total %d", b.Width, a.Width, a.Total())
	}
	if a.Coarsen(b.Width * 3) {
		t.Error("coarsen to a width that is no power-of-two multiple succeeded")
	}
}

func TestTimelineAddAllocs(t *testing.T) {
	var tl Timeline
	n := int64(0)
	if allocs := testing.AllocsPerRun(100, func() { n += int64(time.Second); tl.Add(n, ClassOther) }); allocs != 0 {
		t.Errorf("Add allocates %.0f times", allocs)
	}
}

// scanSpan finds the buckets in use the slow way, to check Span.
func scanSpan(t *Timeline) (lo, hi int64) {
	lo, hi = -1, -1
	for i := range t.Counts {
		if t.Counts[i] != ([NumClasses]uint32{}) {
			if lo < 0 {
				lo = int64(i)
			}
			hi = int64(i)
		}
	}
	return t.First + lo, t.First + hi
}

// BenchmarkTimelineAdd: attempts 1 ms apart, the width doubling as they
// go (31 ns/op on the lab machine; 333 when Add scanned the buckets).
func BenchmarkTimelineAdd(b *testing.B) {
	var tl Timeline
	n := int64(1764633600e9)
	for i := 0; b.Loop(); i++ {
		n += int64(time.Millisecond)
		tl.Add(n, Class(i%int(NumClasses)))
	}
}

// TestTimelineBucket: the shift that finds a bucket floors as floorDiv
// does, before the epoch too, at every width a timeline can have.
func TestTimelineBucket(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for width := int64(minTimelineWidth); width > 0; width *= 2 {
		tl := Timeline{Width: width}
		for _, ns := range []int64{0, 1, -1, width, -width, width - 1, -width + 1, math.MinInt64, math.MaxInt64, rng.Int64(), -rng.Int64()} {
			if got, want := tl.bucket(ns), floorDiv(ns, width); got != want {
				t.Fatalf("width %d: bucket(%d) = %d, want %d", width, ns, got, want)
			}
		}
	}
}
