package main

// reorderWindow is how far back in capture time a source's events may be
// out of order and still be put right. Files written from several
// interfaces at once (dumpcap -i a -i b) interleave each interface's
// packets in batches, so a SYN-ACK read from one interface can come before
// its SYN from another; such slips are milliseconds, and a quarter second
// holds only the SYNs, SYN-ACKs and RSTs of that long.
const reorderWindow = 250e6

// reorder puts one source's events back into capture-time order: a
// min-heap of the events of the last reorderWindow, by time and then frame
// number. Its zero value is ready; it allocates only while growing.
type reorder struct {
	h      []event
	latest int64
}

func (r *reorder) less(i, j int) bool {
	a, b := &r.h[i].ref, &r.h[j].ref
	return a.Time < b.Time || a.Time == b.Time && a.Frame < b.Frame
}

// push adds ev (by value, so nothing escapes) and hands every event that can no longer be overtaken, in
// order, to emit.
func (r *reorder) push(ev event, emit func(event)) {
	r.latest = max(r.latest, ev.ref.Time)
	r.h = append(r.h, ev)
	for i := len(r.h) - 1; i > 0; {
		p := (i - 1) / 2
		if !r.less(i, p) {
			break
		}
		r.h[i], r.h[p] = r.h[p], r.h[i]
		i = p
	}
	for len(r.h) > 0 && r.h[0].ref.Time < r.latest-reorderWindow {
		r.pop(emit)
	}
}

// drain hands out every event left, in order, at the end of the source.
func (r *reorder) drain(emit func(event)) {
	for len(r.h) > 0 {
		r.pop(emit)
	}
}

func (r *reorder) pop(emit func(event)) {
	top := r.h[0]
	last := len(r.h) - 1
	r.h[0] = r.h[last]
	r.h[last] = event{}
	r.h = r.h[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(r.h) && r.less(l, m) {
			m = l
		}
		if l+1 < len(r.h) && r.less(l+1, m) {
			m = l + 1
		}
		if m == i {
			break
		}
		r.h[i], r.h[m] = r.h[m], r.h[i]
		i = m
	}
	emit(top)
}
