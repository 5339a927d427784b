package analyze

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
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
	inexact := 0
	defer func() { t.Logf("%d of 2000 rounds inexact", inexact) }()
	for round := range 2000 {
		n := 1 + rng.IntN(300) // past maxChangeRuns runs too
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
		if c != nil && c.Inexact {
			inexact++
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

// TestCollectorOnChange checks that a collector tells a change as it
// happens: the first switch, then once when it turns interleaved; and
// that a batch judged out of order is told once it is all in.
func TestCollectorOnChange(t *testing.T) {
	c := NewCollector(0)
	var told []string
	c.OnChange(func(server netip.AddrPort, ch *Change) {
		told = append(told, fmt.Sprintf("%s %s %d", server, ch.Kind, ch.Switches))
	})
	server := netip.MustParseAddrPort("192.0.2.2:443")
	for i, a := range timeline("GG.OOGOGOG") {
		a.Client = netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(40000+i))
		a.Server = server
		a.SYN.TFO.State = TFORequest
		c.Attempt(a)
		c.TellChanges()
	}
	want := []string{"192.0.2.2:443 stopped-granting 1", "192.0.2.2:443 interleaved 2"}
	if !slices.Equal(told, want) {
		t.Errorf("told %q, want %q", told, want)
	}
	if ch := c.Summary().Servers[0].Change; ch == nil || ch.Switches != 6 {
		t.Errorf("summary change %+v, want 6 switches", ch)
	}

	c = NewCollector(0)
	var change *Change
	c.OnChange(func(_ netip.AddrPort, ch *Change) { change = ch })
	batch := timeline("GGGOOO")
	for _, i := range []int{0, 5, 1, 4, 2, 3} { // a sweep's order
		batch[i].Server, batch[i].SYN.TFO.State = server, TFORequest
		c.Attempt(batch[i])
	}
	c.TellChanges()
	if change == nil || change.Before.SYN.Frame != 30 || change.After.SYN.Frame != 40 {
		t.Errorf("batch told %+v, want the switch between SYNs 30 and 40", change)
	}
}

// TestTrackerJudgesInReplyOrder feeds the real tracker a load balancer's
// alternating grants and omissions, 1 ms apart, so that every sweep
// finalises a batch of a thousand: the collector's change must be exact.
func TestTrackerJudgesInReplyOrder(t *testing.T) {
	c := NewCollector(0)
	tr := NewTracker(c, 0)
	synSeg := pkt{from: "c", flags: syn, tfo: TFORequest}.segment()
	granted := pkt{from: "s", flags: synack, tfo: TFOCookie}.segment()
	omitted := pkt{from: "s", flags: synack}.segment()
	const n = 5000
	for i := range n {
		now := int64(i+1) * 1e6
		synSeg.Seq += 7919
		synSeg.Src = netip.AddrPortFrom(synSeg.Src.Addr(), uint16(10000+i))
		reply := &granted
		if i%2 == 1 {
			reply = &omitted
		}
		reply.Dst, reply.Ack = synSeg.Src, synSeg.Seq+1
		tr.Add(PacketRef{Frame: 2*i + 1, Time: now}, &synSeg)
		tr.Add(PacketRef{Frame: 2*i + 2, Time: now + 1e5}, reply)
	}
	tr.Flush()
	ch := c.Summary().Servers[0].Change
	if ch == nil || ch.Kind != Interleaved || ch.Switches != n-1 || ch.Inexact || ch.Before.Reply.Frame != 2 || ch.After.Reply.Frame != 4 {
		t.Fatalf("change %+v, want interleaved with %d switches, exact, first between frames 2 and 4", ch, n-1)
	}
}
