package analyze

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
)

// tickWorkload is a SYN flood with answers, copies and retries spread
// over seconds around the reply timeout and answeredLinger, on a tracker
// whose open-attempt cap is small enough to shed.
func tickWorkload(seed uint64) (refs []PacketRef, segs []Segment) {
	r := rand.New(rand.NewPCG(seed, 1))
	type ev struct {
		at  int64
		seg Segment
	}
	var evs []ev
	for i := range 3000 {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), uint16(40000+i%7))
		if i%5 == 0 { // a client reusing a 4-tuple
			client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 0, 1}), 40000)
		}
		at := int64(i)*3e6 + r.Int64N(2e6)
		syn := pkt{from: "c", flags: syn, tfo: TFORequest}.segment()
		syn.Src, syn.Seq = client, uint32(r.Uint64())
		evs = append(evs, ev{at, syn})
		for range r.IntN(3) { // copies or retries of the SYN
			evs = append(evs, ev{at + r.Int64N(5e9), syn})
		}
		if r.IntN(4) == 0 {
			continue // unanswered
		}
		sa := pkt{from: "s", flags: synack, tfo: TFOCookie}.segment()
		sa.Dst, sa.Seq, sa.Ack = client, uint32(r.Uint64()), syn.Seq+1
		reply := at + r.Int64N(2e9)
		evs = append(evs, ev{reply, sa})
		for range r.IntN(3) { // late copies around answeredLinger
			evs = append(evs, ev{reply + 2e9 + r.Int64N(3e9), sa})
		}
	}
	// In time order, as a capture is (stable: copies keep their order).
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].at < evs[j-1].at; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	for i, e := range evs {
		refs = append(refs, PacketRef{Frame: i + 1, Time: e.at})
		segs = append(segs, e.seg)
	}
	return refs, segs
}

// judged is what a run of the tracker decided, in finalisation order.
type judged struct {
	attempts             []Attempt
	orphans, late, early int
	earlyFlow            int
}

// Attempt keeps what the Sink may read of a: the tracker's bookkeeping
// (its seeded hash, arena index, queue) is not a judgement.
func (j *judged) Attempt(a *Attempt) {
	c := a.Clone()
	c.hash, c.idx, c.queue, c.newer, c.prev = 0, 0, 0, false, nil
	j.attempts = append(j.attempts, c)
}
func (j *judged) OrphanReply(netip.AddrPort, PacketRef) { j.orphans++ }

// runTicked feeds the events to a tracker, with ticks between packets when
// ticks is set (a live capture's clock, which may read any time up to the
// next packet's, never past a packet not yet seen), and checks Open
// against the open table now and then.
func runTicked(t *testing.T, refs []PacketRef, segs []Segment, ticks *rand.Rand) *judged {
	j := &judged{}
	tr := NewTracker(j, 2e9)
	tr.maxOpen = 300
	for i := range refs {
		if ticks != nil && i > 0 {
			for range ticks.IntN(3) {
				lo, hi := refs[i-1].Time, refs[i].Time
				tr.Advance(lo + ticks.Int64N(hi-lo+1))
			}
		}
		tr.Add(refs[i], &segs[i])
		if i%97 == 0 {
			if walked := openByWalk(tr); tr.Open() != walked {
				t.Fatalf("event %d: Open() = %d, %d attempts in the open table", i, tr.Open(), walked)
			}
		}
	}
	tr.Flush()
	j.late, j.early, j.earlyFlow = tr.LateReplies().N, tr.Early(), tr.EarlyPerFlow().N
	return j
}

// openByWalk counts the attempts in the open table's chains.
func openByWalk(t *Tracker) int {
	n := 0
	t.open.each(func(a *Attempt) {
		for ; a != nil; a = a.prev {
			n++
		}
	})
	return n
}

// TestTicksDoNotChangeJudgement: a live capture judges the packets it
// captured as analyze judges the file it wrote, whenever its clock ticked
// between them, as long as no tick passes a packet not yet seen.
func TestTicksDoNotChangeJudgement(t *testing.T) {
	for seed := range uint64(8) {
		refs, segs := tickWorkload(seed)
		want := runTicked(t, refs, segs, nil)
		got := runTicked(t, refs, segs, rand.New(rand.NewPCG(seed, 2)))
		if len(got.attempts) != len(want.attempts) {
			t.Errorf("seed %d: %d attempts with ticks, %d without", seed, len(got.attempts), len(want.attempts))
			continue
		}
		for i := range want.attempts {
			if !reflect.DeepEqual(got.attempts[i], want.attempts[i]) {
				t.Errorf("seed %d: attempt %d differs with ticks:\n got %+v\nwant %+v", seed, i, got.attempts[i], want.attempts[i])
				break
			}
		}
		got.attempts, want.attempts = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("seed %d: counters with ticks %+v, without %+v", seed, *got, *want)
		}
	}
}
