package metrics

import (
	"time"

	"github.com/tfopcap/tfopcap/analyze"
)

// windowSlices is how many slices a verdict window is counted in: the
// window reaches back between 9/10 of its length and all of it, and a
// server's window takes about a kilobyte.
const windowSlices = 10

// window counts the outcomes judged in the last span, in windowSlices
// slices of span/windowSlices: a ring whose slot for a slice is reset when
// a later slice reuses it. Its zero value, with its span, is empty.
type window struct {
	span   time.Duration
	slices [windowSlices]windowSlice
}

type windowSlice struct {
	n      int64 // which slice of time: unix time / slice length; 0 unused
	counts analyze.OutcomeCounts
}

func newWindow(span time.Duration) window { return window{span: span} }

// slice numbers the slice that holds t.
func (w *window) slice(t time.Time) int64 {
	return t.UnixNano() / int64(w.span/windowSlices)
}

func (w *window) add(t time.Time, o analyze.Outcome) {
	n := w.slice(t)
	s := &w.slices[n%windowSlices]
	if s.n != n {
		*s = windowSlice{n: n}
	}
	s.counts[o]++
}

// sum is the outcomes of the slices that end after t minus the span.
func (w *window) sum(t time.Time) analyze.OutcomeCounts {
	var c analyze.OutcomeCounts
	now := w.slice(t)
	for i := range w.slices {
		s := &w.slices[i]
		if s.n > now-windowSlices && s.n <= now {
			for o, k := range s.counts {
				c[o] += k
			}
		}
	}
	return c
}

// verdict is analyze's verdict over the attempts in the window.
func (w *window) verdict(t time.Time) analyze.Verdict {
	c := w.sum(t)
	return c.Verdict()
}
