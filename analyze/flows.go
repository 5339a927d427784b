package analyze

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// hash returns 32 bits of a seeded hash of k: the five words of the key
// folded by three 64x64-bit multiplications (wyhash's mixer), in half
// the time of maphash.Comparable (BenchmarkFlowHash), which recent used;
// the seed keeps a crafted capture from making its flows collide.
func (k *flowKey) hash(seed uint64) uint32 { return fold(k.hash64(seed)) }

// hash64 is the 64-bit hash that hash folds.
func (k *flowKey) hash64(seed uint64) uint64 {
	return hashFlow(&k.client, &k.server, uint64(k.cport)|uint64(k.sport)<<16|uint64(k.is4)<<32, seed)
}

// fold makes a flow's 32-bit hash from its 64-bit one.
func fold(h uint64) uint32 { return uint32(h ^ h>>32) }

// flowHash64 is newFlowKey(*client, *server).hash64(seed) without making
// the key, which a reply to an open attempt never needs: 3 of its 38
// bytes are computed apart (ports, is4) and nothing is stored. (The
// flows' lookups take their addresses by pointer: two netip.AddrPorts
// are eight words, more than fit in registers beside the other
// arguments.)
func flowHash64(client, server *netip.AddrPort, seed uint64) uint64 {
	c, s := client.Addr().As16(), server.Addr().As16()
	ports := uint64(client.Port()) | uint64(server.Port())<<16
	if client.Addr().Is4() {
		ports |= 1 << 32
	}
	if server.Addr().Is4() {
		ports |= 2 << 32
	}
	return hashFlow(&c, &s, ports, seed)
}

// FlowHasher hashes segments' flows as a Tracker does, so that a
// goroutine other than the tracker's can do it ahead of Tracker.Add. Its
// zero value hashes nothing.
type FlowHasher struct{ seed uint64 }

// FlowHasher returns the hasher of t's flows.
func (t *Tracker) FlowHasher() FlowHasher { return FlowHasher{t.seed} }

// Hash stores in seg the hash of its flow, which Tracker.Add then uses:
// a SYN's from source to destination, a reply's the other way. seg must
// not change afterwards.
func (h FlowHasher) Hash(seg *Segment) {
	if h.seed == 0 {
		return
	}
	if seg.IsSYN() {
		seg.flow = flowHash64(&seg.Src, &seg.Dst, h.seed)
	} else {
		seg.flow = flowHash64(&seg.Dst, &seg.Src, h.seed)
	}
	seg.hashedWith = h.seed
}

// flowOf returns the 64-bit hash of seg's flow from client to server
// for t, the one its FlowHasher stored if it did: the recent memory
// settles its matches with it, the open table folds it (fold).
func (t *Tracker) flowOf(seg *Segment, client, server *netip.AddrPort) uint64 {
	if seg.hashedWith == t.seed {
		return seg.flow
	}
	return flowHash64(client, server, t.seed)
}

// hashFlow hashes the parts of a flowKey: its addresses, and its ports
// and is4 packed in one word.
func hashFlow(client, server *[16]byte, ports, seed uint64) uint64 {
	const m1, m2 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db
	le := binary.LittleEndian
	a := mix(le.Uint64(client[:8])^seed, le.Uint64(client[8:])^m1)
	b := mix(le.Uint64(server[:8])^m2, le.Uint64(server[8:])^seed)
	return mix(a^ports, b^m1)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// arena holds the tracker's Attempts in chunks of arenaChunk, numbered
// from 0, so that the flow table refers to them by a 32-bit number: its
// slots are 8 bytes without a pointer, which the garbage collector
// neither scans nor puts write barriers on, and a chunk is one allocation
// where new(Attempt) was 16384.
type arena struct {
	chunks [][]Attempt
	n      int32
}

const arenaChunk = 256 // Attempts a chunk: 74 KiB

func (r *arena) at(i int32) *Attempt {
	return &r.chunks[uint32(i)/arenaChunk][uint32(i)%arenaChunk]
}

// alloc returns a new zero Attempt, numbered in Attempt.idx.
func (r *arena) alloc() *Attempt {
	if r.n%arenaChunk == 0 {
		r.chunks = append(r.chunks, make([]Attempt, arenaChunk))
	}
	a := r.at(r.n)
	a.idx = r.n
	r.n++
	return a
}

// prefault writes the zeros of a table just made, which probing reads
// before it writes. Fresh from the kernel, a page read first maps the
// shared zero page, and the write after it faults again and flushes the
// TLB of every CPU running the process (do_wp_page): the real handshake
// capture took 1100 such faults in the recent memory's and the flow
// table's indexes, 2.3% of its samples. Written first, a page faults
// once.
func prefault[T any](s []T) { clear(s) }

// flowTable maps a flow to its newest open attempt, in place of a Go map
// keyed by flowKey: open addressing with linear probing, at most half
// full, backward-shift deletion (no tombstones). A slot holds the flow's
// hash and the attempt's number in the arena, whose addresses settle a
// hash match, so a probe reads 8-byte slots and touches an attempt only
// where the hash matches; the caller hashes a flow once for its lookup,
// its insertion and, from Attempt.hash, its deletion. Comparing the
// attempt's netip.AddrPorts, as a flowKey does (decoded packets have no
// zones), spares the Attempt a copy of its key: 40 bytes each.
type flowTable struct {
	slots []flowSlot // a power of two long, or nil
	n     int
	arena *arena
}

type flowSlot struct {
	hash uint32
	idx  int32 // Attempt.idx+1; 0: empty
}

func (t *flowTable) attempt(s flowSlot) *Attempt { return t.arena.at(s.idx - 1) }

// touch loads the slot where the flow hashed h is looked for, and the
// attempt filed there when its hash matches, so that a later find of it
// finds them in the cache. It returns what it read, for the caller to
// keep: a load whose value goes nowhere may be left out.
func (t *flowTable) touch(h uint32) uint32 {
	if t.n == 0 {
		return 0
	}
	s := t.slots[int(h)&(len(t.slots)-1)]
	if s.idx == 0 || s.hash != h {
		return uint32(s.idx)
	}
	return uint32(s.idx) + t.attempt(s).ISN
}

// get returns the attempt filed for the flow from client to server,
// whose hash is h, or nil.
func (t *flowTable) get(client, server *netip.AddrPort, h uint32) *Attempt {
	a, _ := t.find(client, server, h)
	return a
}

// find is get that also returns where the flow's slot is, or the empty
// slot that ends its probe run (-1 in an empty table): setAt files a new
// attempt there without probing again, as long as nothing changed the
// table since. A new SYN probed twice, once to find its flow's newest
// attempt and once to file itself (set: 3.5 M instructions on the real
// capture's 60000 SYNs).
func (t *flowTable) find(client, server *netip.AddrPort, h uint32) (*Attempt, int) {
	if t.n == 0 {
		return nil, -1
	}
	mask := len(t.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s.idx == 0 {
			return nil, i
		}
		if s.hash == h {
			if a := t.attempt(s); a.Client == *client && a.Server == *server {
				return a, i
			}
		}
	}
}

// setAt files a for its flow at slot i, which find returned for that
// flow with the table unchanged since: the flow's slot, or the empty slot
// where a new flow goes.
func (t *flowTable) setAt(i int, a *Attempt) {
	if i < 0 || (t.slots[i].idx == 0 && 2*(t.n+1) > len(t.slots)) {
		t.set(a) // the table grows: i is no longer where the flow goes
		return
	}
	if t.slots[i].idx == 0 {
		t.n++
	}
	t.slots[i] = flowSlot{a.hash, a.idx + 1}
}

// set files a for its flow (a.Client, a.Server, a.hash), replacing the
// attempt filed for it before.
func (t *flowTable) set(a *Attempt) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := len(t.slots) - 1
	for i := int(a.hash) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.idx == 0 {
			*s = flowSlot{a.hash, a.idx + 1}
			t.n++
			return
		}
		if s.hash == a.hash {
			if b := t.attempt(*s); b.Client == a.Client && b.Server == a.Server {
				s.idx = a.idx + 1
				return
			}
		}
	}
}

// remove takes a's flow out of the table: a must be the attempt filed.
func (t *flowTable) remove(a *Attempt) {
	mask := len(t.slots) - 1
	i := int(a.hash) & mask
	for t.slots[i].idx != a.idx+1 {
		if t.slots[i].idx == 0 {
			return // not filed
		}
		i = (i + 1) & mask
	}
	// Backward-shift deletion: move later slots of the probe run into the
	// hole unless that would put them before their home.
	for j := (i + 1) & mask; t.slots[j].idx != 0; j = (j + 1) & mask {
		home := int(t.slots[j].hash) & mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = flowSlot{}
	t.n--
}

func (t *flowTable) grow() {
	old := t.slots
	t.slots = make([]flowSlot, max(64, 2*len(old)))
	prefault(t.slots)
	mask := len(t.slots) - 1
	for _, s := range old {
		if s.idx == 0 {
			continue
		}
		i := int(s.hash) & mask
		for t.slots[i].idx != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// each calls f with every attempt filed.
func (t *flowTable) each(f func(*Attempt)) {
	for _, s := range t.slots {
		if s.idx != 0 {
			f(t.attempt(s))
		}
	}
}
