package analyze

import "math/bits"

// A Timeline is what a picture of "when did it break" needs of a server:
// its attempts over capture time, exact and in bounded memory for any
// capture length. Every attempt a server's row counts by outcome lands in
// one of TimelineBuckets buckets of equal width; when an attempt falls
// outside them, the width doubles and neighbouring buckets merge, so that
// counts stay exact and only the resolution drops. Buckets are aligned to
// multiples of their width since the Unix epoch, which makes two timelines
// comparable after Coarsen brings them to one width.
//
// Attempts reach the Collector in the order they are finalised, not sent
// (an unanswered SYN waits for its timeout), so a timeline takes times in
// any order.

// TimelineBuckets is the number of buckets of a Timeline.
const TimelineBuckets = 64

// minTimelineWidth is the narrowest bucket, 2^20 ns (about 1 ms): finer
// resolution says nothing of when a server changed.
const minTimelineWidth = 1 << 20

// Class groups outcomes by what they say of the server, the colours of a
// timeline.
type Class uint8

const (
	ClassGrants Class = iota // granted, accepted, renewed
	ClassOmits               // omitted, rejected
	ClassOther               // the outcomes that decide nothing
	NumClasses
)

var classNames = [NumClasses]string{"grants", "omits", "other"}

func (c Class) String() string {
	if c < NumClasses {
		return classNames[c]
	}
	return "unknown"
}

// ClassOf returns the class of outcome o.
func ClassOf(o Outcome) Class {
	switch {
	case o.Grants():
		return ClassGrants
	case o.Omits():
		return ClassOmits
	}
	return ClassOther
}

// Timeline counts attempts per class in time buckets. Its zero value is
// empty. It holds no pointer and never allocates.
type Timeline struct {
	// Width is the bucket width in ns, a power of two; 0 when empty.
	Width int64
	// First is the index of bucket 0: bucket i covers the SYN times
	// [(First+i)*Width, (First+i+1)*Width) ns since the epoch.
	First int64
	// Counts are the attempts per bucket and class.
	Counts [TimelineBuckets][NumClasses]uint32
	// lo and hi are the absolute indices of the first and last buckets
	// in use, valid iff Width != 0: Add checks them, not the buckets.
	lo, hi int64
}

// Add counts one attempt whose SYN was sent at ns (since the epoch).
func (t *Timeline) Add(ns int64, c Class) {
	if t.Width == 0 {
		t.Width, t.First = minTimelineWidth, floorDiv(ns, minTimelineWidth)
		t.lo, t.hi = t.First, t.First
	}
	idx := t.bucket(ns)
	for max(t.hi, idx)-min(t.lo, idx) >= TimelineBuckets {
		t.halve()
		idx = t.bucket(ns)
	}
	t.lo, t.hi = min(t.lo, idx), max(t.hi, idx)
	if idx < t.First || idx >= t.First+TimelineBuckets {
		t.rebase(t.lo)
	}
	t.Counts[idx-t.First][c]++
}

// bucket returns the absolute index of the bucket that holds ns, valid
// iff Width != 0. Width is a power of two, so an arithmetic shift floors
// as floorDiv does, without its 64-bit division (tens of cycles, once per
// attempt on the tracker's goroutine).
func (t *Timeline) bucket(ns int64) int64 {
	return ns >> bits.TrailingZeros64(uint64(t.Width))
}

// Span returns the absolute indices of the first and last buckets in
// use; ok is false when t is empty.
func (t *Timeline) Span() (lo, hi int64, ok bool) {
	return t.lo, t.hi, t.Width != 0
}

// rebase makes first the index of bucket 0; the buckets in use must fit.
func (t *Timeline) rebase(first int64) {
	var moved [TimelineBuckets][NumClasses]uint32
	for i := range t.Counts {
		if k := t.First + int64(i) - first; k >= 0 && k < TimelineBuckets {
			moved[k] = t.Counts[i]
		}
	}
	t.First, t.Counts = first, moved
}

// halve doubles the width, merging pairs of buckets.
func (t *Timeline) halve() {
	var merged [TimelineBuckets][NumClasses]uint32
	first := floorDiv(t.First, 2)
	for i := range t.Counts {
		k := floorDiv(t.First+int64(i), 2) - first
		for c := range merged[k] {
			merged[k][c] += t.Counts[i][c]
		}
	}
	t.Width, t.First, t.Counts = t.Width*2, first, merged
	t.lo, t.hi = floorDiv(t.lo, 2), floorDiv(t.hi, 2)
}

// Coarsen brings t to width, merging buckets, and reports whether it
// could: width must be t.Width times a power of two.
func (t *Timeline) Coarsen(width int64) bool {
	if t.Width == 0 {
		return true
	}
	c := *t
	for c.Width < width {
		c.halve()
	}
	if c.Width != width {
		return false
	}
	*t = c
	return true
}

// normalized is t with bucket 0 the first in use: the same attempts make
// the same Timeline in whatever order they came.
func (t Timeline) normalized() Timeline {
	if lo, _, ok := t.Span(); ok {
		t.rebase(lo)
	}
	return t
}

// Total counts the attempts in t.
func (t *Timeline) Total() int {
	n := 0
	for i := range t.Counts {
		for _, v := range t.Counts[i] {
			n += int(v)
		}
	}
	return n
}

// floorDiv is a/b rounded towards minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
