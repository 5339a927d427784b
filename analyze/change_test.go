package analyze

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// decision makes a judged attempt whose reply is frame n at n ms.
func decision(n int, o Outcome) *Attempt {
	a := &Attempt{Outcome: o}
	a.SYN.PacketRef = PacketRef{Frame: n, Time: int64(n) * 1e6}
	a.Reply.PacketRef = PacketRef{Frame: n + 1, Time: int64(n)*1e6 + 5e5}
	return a
}

// timeline turns "GGO.O" into attempts: G granted, A accepted, O omitted,
// R rejected, anything else an outcome that decides nothing (unanswered).
func timeline(s string) []*Attempt {
	var out []*Attempt
	for i, c := range s {
		o := Unanswered
		switch c {
		case 'G':
			o = Granted
		case 'A':
			o = Accepted
		case 'O':
			o = Omitted
		case 'R':
			o = Rejected
		}
		out = append(out, decision(10*(i+1), o))
	}
	return out
}

func TestChangeLog(t *testing.T) {
	tests := []struct {
		timeline      string
		kind          ChangeKind
		switches      int
		before, after int // SYN frames of the decisions either side of the first switch
	}{
		{"", NoChange, 0, 0, 0},
		{"GGGG", NoChange, 0, 0, 0},
		{"OO.O", NoChange, 0, 0, 0},
		{"GG.GOO", StoppedGranting, 1, 40, 50},
		{"GA..RO", StoppedGranting, 1, 20, 50},
		{"OOGG", StartedGranting, 1, 20, 30},
		{"GOG", Interleaved, 2, 10, 20},
		{"GOGOGOGO", Interleaved, 7, 10, 20},
	}
	for _, tt := range tests {
		attempts := timeline(tt.timeline)
		orders := map[string][]*Attempt{"in order": attempts, "reversed": reversed(attempts)}
		for name, order := range orders {
			var l changeLog
			for _, a := range order {
				l.add(a)
			}
			c := l.change()
			if tt.kind == NoChange {
				if c != nil {
					t.Errorf("%q %s: change %+v, want none", tt.timeline, name, c)
				}
				continue
			}
			if c == nil {
				t.Errorf("%q %s: no change, want %s", tt.timeline, name, tt.kind)
				continue
			}
			if c.Kind != tt.kind || c.Switches != tt.switches || c.Inexact {
				t.Errorf("%q %s: %s with %d switches (inexact %v), want %s with %d", tt.timeline, name,
					c.Kind, c.Switches, c.Inexact, tt.kind, tt.switches)
			}
			if c.Kind != Interleaved && (c.Before.SYN.Frame != tt.before || c.After.SYN.Frame != tt.after) {
				t.Errorf("%q %s: switch between SYNs %d and %d, want %d and %d", tt.timeline, name,
					c.Before.SYN.Frame, c.After.SYN.Frame, tt.before, tt.after)
			}
		}
	}
}

func reversed(s []*Attempt) []*Attempt {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

// TestChangeLogDisorder judges random timelines in the order a tracker
// finalises them (a sweep's worth at a time, in no order within it) and
// checks the result against the sorted timeline.
func TestChangeLogDisorder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		n := 1 + rng.IntN(60)
		pGrant := rng.Float64()
		sticky := rng.Float64() // how often an outcome repeats the previous one
		var attempts []*Attempt
		prev := Granted
		for i := range n {
			o := prev
			if rng.Float64() > sticky {
				o = Omitted
				if rng.Float64() < pGrant {
					o = Granted
				}
			}
			prev = o
			attempts = append(attempts, decision(10*(i+1), o))
		}
		want := switchesOf(attempts)
		// Batches of up to 8 in reverse order: the worst a sweep does.
		var order []*Attempt
		for i := 0; i < n; i += 8 {
			order = append(order, reversed(attempts[i:min(i+8, n)])...)
		}
		var l changeLog
		for _, a := range order {
			l.add(a)
		}
		c := l.change()
		got := 0
		if c != nil {
			got = c.Switches
		}
		if got != want && (c == nil || !c.Inexact) {
			t.Fatalf("round %d: %d switches, want %d", round, got, want)
		}
		if want == 1 && (c.Before.Reply != lastBefore(attempts) || c.After.Reply != firstAfter(attempts)) {
			t.Fatalf("round %d: switch at %+v, %+v", round, c.Before.Reply, c.After.Reply)
		}
	}
}

func switchesOf(attempts []*Attempt) int {
	n, last := 0, -1
	for _, a := range attempts {
		if k, ok := decided(a.Outcome); ok {
			if last >= 0 && int(k) != last {
				n++
			}
			last = int(k)
		}
	}
	return n
}

// lastBefore and firstAfter are the replies either side of a timeline's
// only switch.
func lastBefore(attempts []*Attempt) PacketRef {
	return attempts[switchIndex(attempts)-1].Reply.PacketRef
}

func firstAfter(attempts []*Attempt) PacketRef {
	return attempts[switchIndex(attempts)].Reply.PacketRef
}

func switchIndex(attempts []*Attempt) int {
	for i := 1; i < len(attempts); i++ {
		if attempts[i].Outcome != attempts[0].Outcome {
			return i
		}
	}
	return 0
}

func TestChangeLogBounded(t *testing.T) {
	var l changeLog
	for i := range 100000 {
		o := Granted
		if i%2 == 1 {
			o = Omitted
		}
		l.add(decision(10*(i+1), o))
	}
	c := l.change()
	if len(l.runs) > maxChangeRuns || c.Kind != Interleaved || c.Switches != 99999 || c.Inexact {
		t.Fatalf("%d runs, %+v", len(l.runs), c)
	}
	if allocs := testing.AllocsPerRun(100, func() { l.add(decision(10, Granted)) }); allocs > 1 {
		t.Errorf("add allocates %v times for a decision within a run", allocs)
	}
}
