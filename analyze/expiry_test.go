package analyze

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestExpiryOrder drives expiry as the tracker does, against a model that
// sorts every open attempt by (deadline, ID): attempts opened in capture
// order with now and then one out of order, answered (their deadline
// drops), seen again (it rises), finalised early, and taken as a shed
// (the eighth that expires first, ties included), a sweep (all past a
// time) and Flush (all) take them. What is taken, and the order orderDue
// gives it, must be the model's.
func TestExpiryOrder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		seed     uint64
		disorder int   // one attempt in disorder comes out of time order
		ties     int64 // times are multiples of it: many equal deadlines
	}{
		{"in order", 1, 0, 1},
		{"some disorder", 2, 10, 1},
		{"much disorder", 3, 2, 1},
		{"ties", 4, 10, 1e6},
	} {
		rng := rand.New(rand.NewPCG(tc.seed, 9))
		tr := NewTracker(discard{}, 0)
		e := &tr.expiry
		model := map[*Attempt]int64{} // open attempt -> deadline
		var open []*Attempt
		var free []*Attempt
		now, lastID := int64(0), uint64(0)
		const wait, linger = 180e9, 3e9
		forget := func(a *Attempt) {
			delete(model, a)
			i := slices.Index(open, a)
			open = slices.Delete(open, i, i+1)
			free = append(free, a)
		}
		check := func(step int, what string, due []queued, want []*Attempt) {
			t.Helper()
			got := tr.orderDue(due)
			if !slices.Equal(got, want) {
				t.Fatalf("%s, step %d, %s: took %d attempts, want %d, or in another order", tc.name, step, what, len(got), len(want))
			}
			for _, a := range got {
				e.drop(a)
				forget(a)
			}
		}
		sorted := func() []*Attempt {
			s := slices.Clone(open)
			slices.SortFunc(s, func(a, b *Attempt) int { return cmp.Or(cmp.Compare(model[a], model[b]), cmp.Compare(a.ID, b.ID)) })
			return s
		}
		for step := range 20000 {
			now += rng.Int64N(3e6)
			at := now / tc.ties * tc.ties
			if tc.disorder > 0 && rng.IntN(tc.disorder) == 0 {
				at -= rng.Int64N(2e9) / tc.ties * tc.ties
			}
			switch r := rng.IntN(100); {
			case r < 45 || len(open) == 0: // a new attempt
				var a *Attempt
				if n := len(free); n > 0 {
					a, free = free[n-1], free[:n-1]
					*a = Attempt{idx: a.idx}
				} else {
					a = tr.arena.alloc()
				}
				lastID++
				a.ID = lastID
				model[a] = at + wait
				open = append(open, a)
				e.push(a, model[a])
			case r < 80: // an open attempt answered, or seen again
				a := open[rng.IntN(len(open))]
				e.drop(a)
				if a.Answered() || rng.IntN(4) == 0 {
					model[a] += rng.Int64N(2e9) / tc.ties * tc.ties
				} else {
					a.Reply.Kind = ReplySYNACK
					model[a] = at + linger
				}
				e.push(a, model[a])
			case r < 85: // finalised early (its flow's chain was trimmed)
				a := open[rng.IntN(len(open))]
				e.drop(a)
				forget(a)
			case r < 95: // shed
				want := sorted()
				k := len(want) / 8
				n := k + 1
				for n < len(want) && model[want[n]] == model[want[k]] {
					n++
				}
				check(step, "shed", e.takeDue(nil, k+1, math.MaxInt64), want[:n])
			default: // sweep
				var want []*Attempt
				for _, a := range sorted() {
					if now > model[a] {
						want = append(want, a)
					}
				}
				check(step, "sweep", e.takeDue(nil, 0, now-1), want)
			}
			if v := e.queues[0].valid + e.queues[1].valid + e.late.valid; v != len(open) {
				t.Fatalf("%s, step %d: %d entries current, %d attempts open", tc.name, step, v, len(open))
			}
		}
		check(-1, "flush", e.takeDue(nil, 0, math.MaxInt64), sorted())
		t.Logf("%s: queues %d and %d long, heap %d", tc.name, cap(e.queues[0].ents), cap(e.queues[1].ents), cap(e.late.ents))
	}
}
