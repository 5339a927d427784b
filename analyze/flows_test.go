package analyze

import (
	"hash/maphash"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
)

// TestFlowTableMatchesMap files (by set, or find and setAt), replaces and
// removes attempts on a few hundred flows at random, with the table forced through growth and long
// probe runs, and checks every flow against a Go map after each step.
// Hashes cut to 64 values collide a lot; cut to the 64 slots at either
// end of the table, runs from its end wrap into runs at its start.
func TestFlowTableMatchesMap(t *testing.T) {
	type flow struct{ client, server netip.AddrPort }
	for name, cut := range map[string]func(uint32) uint32{
		"full":  func(h uint32) uint32 { return h },
		"low 6": func(h uint32) uint32 { return h & 63 },
		"wrapped": func(h uint32) uint32 {
			if h&64 != 0 {
				return h | ^uint32(63)
			}
			return h & 63
		},
	} {
		var r arena
		tab := flowTable{arena: &r}
		want := map[flow]*Attempt{}
		rng := rand.New(rand.NewPCG(1, 2))
		keys := make([]flow, 300)
		for i := range keys {
			keys[i] = flow{netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(i)), testServer}
		}
		hash := func(f flow) uint32 {
			k := newFlowKey(f.client, f.server)
			return cut(k.hash(0))
		}
		for step := range 5000 {
			k := keys[rng.IntN(len(keys))]
			h := hash(k)
			switch old := want[k]; {
			case old != nil && rng.IntN(2) == 0:
				tab.remove(old)
				delete(want, k)
			default:
				a := r.alloc()
				a.Client, a.Server, a.hash = k.client, k.server, h
				if rng.IntN(2) == 0 {
					tab.set(a)
				} else { // as addSYN files a new attempt: one probe
					old, i := tab.find(&k.client, &k.server, h)
					if old != want[k] {
						t.Fatalf("%s, step %d: find has %p, want %p", name, step, old, want[k])
					}
					tab.setAt(i, a)
				}
				want[k] = a
			}
			if tab.n != len(want) {
				t.Fatalf("%s, step %d: %d flows filed, want %d", name, step, tab.n, len(want))
			}
			for i := range keys {
				if got := tab.get(&keys[i].client, &keys[i].server, hash(keys[i])); got != want[keys[i]] {
					t.Fatalf("%s, step %d: flow %d has %p, want %p", name, step, i, got, want[keys[i]])
				}
			}
		}
	}
}

// TestFlowHashSeparates checks that the hash depends on every part of the
// key and on the seed.
func TestFlowHashSeparates(t *testing.T) {
	c := netip.MustParseAddrPort("192.0.2.1:40000")
	s := netip.MustParseAddrPort("[2001:db8::1]:443")
	base := newFlowKey(c, s)
	variants := []flowKey{
		newFlowKey(s, c),
		newFlowKey(netip.MustParseAddrPort("192.0.2.2:40000"), s),
		newFlowKey(netip.MustParseAddrPort("192.0.2.1:40001"), s),
		newFlowKey(c, netip.MustParseAddrPort("[2001:db8::2]:443")),
		newFlowKey(c, netip.MustParseAddrPort("[2001:db8::1]:80")),
		newFlowKey(netip.MustParseAddrPort("[::ffff:192.0.2.1]:40000"), s),
	}
	for i, v := range variants {
		if v.hash(7) == base.hash(7) {
			t.Errorf("variant %d hashes like the base key", i)
		}
	}
	if base.hash(7) == base.hash(8) {
		t.Error("the seed does not change the hash")
	}
}

var sinkHash uint64

// BenchmarkFlowHash compares flowKey.hash with maphash.Comparable, which
// recent used before.
func BenchmarkFlowHash(b *testing.B) {
	k := newFlowKey(netip.MustParseAddrPort("192.0.2.1:40000"), testServer)
	b.Run("flowKey", func(b *testing.B) {
		for b.Loop() {
			k.cport++
			sinkHash += uint64(k.hash(1))
		}
	})
	b.Run("maphash", func(b *testing.B) {
		seed := maphash.MakeSeed()
		for b.Loop() {
			k.cport++
			sinkHash += maphash.Comparable(seed, k)
		}
	})
}

// TestFlowHashMatchesKey checks that flowHash, which hashes a flow without
// making its key, agrees with flowKey.hash, which the recent memory and
// the aliases use: IPv4, IPv6 and IPv4-mapped IPv6 on either side.
func TestFlowHashMatchesKey(t *testing.T) {
	addrs := []netip.AddrPort{
		netip.MustParseAddrPort("192.0.2.1:40000"),
		netip.MustParseAddrPort("[2001:db8::1]:443"),
		netip.MustParseAddrPort("[::ffff:192.0.2.1]:40000"),
		netip.MustParseAddrPort("0.0.0.0:0"),
	}
	for _, c := range addrs {
		for _, s := range addrs {
			for _, seed := range []uint64{0, 7, 1 << 63} {
				k := newFlowKey(c, s)
				if got, want := flowHash64(&c, &s, seed), k.hash64(seed); got != want {
					t.Errorf("%v -> %v, seed %d: flowHash64 %#x, flowKey.hash64 %#x", c, s, seed, got, want)
				}
			}
		}
	}
}

// TestFlowHasherSameJudgement: segments hashed ahead by the tracker's
// FlowHasher are judged as segments the tracker hashes itself, and a
// hash from another tracker's hasher (another seed) is not used: the
// tracker hashes those again. A hash taken the wrong way round (a SYN's
// as a reply's) or from the wrong tracker files attempts under the
// wrong flow, which the workload's replies and copies would show.
func TestFlowHasherSameJudgement(t *testing.T) {
	refs, segs := tickWorkload(7)
	run := func(prepare func(tr *Tracker, seg *Segment)) *judged {
		j := &judged{}
		tr := NewTracker(j, 2e9)
		tr.maxOpen = 300
		for i := range refs {
			seg := segs[i]
			if prepare != nil {
				prepare(tr, &seg)
			}
			tr.Add(refs[i], &seg)
		}
		tr.Flush()
		j.late, j.early, j.earlyFlow = tr.LateReplies().N, tr.Early(), tr.EarlyPerFlow().N
		return j
	}
	want := run(nil)
	other := NewTracker(&judged{}, 2e9).FlowHasher()
	tests := []struct {
		name    string
		prepare func(tr *Tracker, seg *Segment)
		used    bool // the stored hash is the tracker's
	}{
		{"own hasher", func(tr *Tracker, seg *Segment) { tr.FlowHasher().Hash(seg) }, true},
		{"another tracker's hasher", func(_ *Tracker, seg *Segment) { other.Hash(seg) }, false},
		{"zero hasher", func(_ *Tracker, seg *Segment) { FlowHasher{}.Hash(seg) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(tt.prepare)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("judged %d attempts (%d late, %d early), want %d (%d, %d) as without", len(got.attempts), got.late, got.early, len(want.attempts), want.late, want.early)
			}
			tr := NewTracker(&judged{}, 2e9)
			seg := segs[0]
			tt.prepare(tr, &seg)
			if used := seg.hashedWith == tr.seed; used != tt.used {
				t.Errorf("hash used: %v, want %v", used, tt.used)
			}
		})
	}
}
