package analyze

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
)

// refRecent is the map-and-ring memory that recent replaced, kept as the
// reference it must agree with.
type refRecent struct {
	m        map[flowKey]refEntry
	ring     []refSlot
	next     int
	capacity int
	gen      uint64
}

type refEntry struct {
	isn, dataLen uint32
	at           int64
	gen          uint64
}

type refSlot struct {
	key flowKey
	gen uint64
}

func (r *refRecent) add(key flowKey, isn uint32, dataLen int, at int64) {
	r.gen++
	slot := refSlot{key, r.gen}
	if len(r.ring) < r.capacity {
		r.ring = append(r.ring, slot)
	} else {
		old := r.ring[r.next]
		if e, ok := r.m[old.key]; ok && e.gen == old.gen {
			delete(r.m, old.key)
		}
		r.ring[r.next] = slot
		r.next = (r.next + 1) % r.capacity
	}
	r.m[key] = refEntry{isn, uint32(dataLen), at, r.gen}
}

func (r *refRecent) lateSYN(key flowKey, isn uint32, now int64) bool {
	e, ok := r.m[key]
	if !ok || e.isn != isn || now-e.at >= recentWindow {
		return false
	}
	e.at = now
	r.m[key] = e
	return true
}

func (r *refRecent) lateReply(key flowKey, ack uint32, now int64) bool {
	e, ok := r.m[key]
	return ok && ack-(e.isn+1) <= e.dataLen && now-e.at < recentWindow
}

// TestRecentMatchesReference drives both memories with the same random
// adds and queries over a small key space (so flows repeat, entries are
// replaced and evicted, and probe runs wrap and shift) and compares every
// answer.
func TestRecentMatchesReference(t *testing.T) {
	for _, c := range []struct{ capacity, keys int }{{1, 3}, {4, 7}, {64, 50}, {64, 500}, {1000, 3000}} {
		rng := rand.New(rand.NewPCG(uint64(c.capacity), uint64(c.keys)))
		got := newRecent(c.capacity, rand.Uint64())
		want := &refRecent{m: map[flowKey]refEntry{}, capacity: c.capacity}
		key := func() flowKey {
			n := rng.IntN(c.keys)
			client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 19, byte(n >> 8), byte(n)}), uint16(n%5))
			if n%3 == 0 {
				client = netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 1, 0xd, 0xb8, 14: byte(n >> 8), 15: byte(n)}), 1)
			}
			return newFlowKey(client, testServer)
		}
		var now int64
		for step := range 20000 {
			now += rng.Int64N(2e9)
			k := key()
			isn := uint32(rng.IntN(4))
			switch rng.IntN(3) {
			case 0:
				dl := rng.IntN(3)
				got.add(k.hash64(got.seed), isn, dl, now, false)
				want.add(k, isn, dl, now)
			case 1:
				if g, w := got.lateSYN(k.hash64(got.seed), isn, now), want.lateSYN(k, isn, now); g != w {
					t.Fatalf("capacity %d, step %d: lateSYN = %v, reference %v", c.capacity, step, g, w)
				}
			case 2:
				ack := isn + 1 + uint32(rng.IntN(3))
				if g, w := got.lateReply(k.hash64(got.seed), ack, now), want.lateReply(k, ack, now); g != w {
					t.Fatalf("capacity %d, step %d: lateReply = %v, reference %v", c.capacity, step, g, w)
				}
			}
			if got.len() != len(want.m) {
				t.Fatalf("capacity %d, step %d: %d flows remembered, reference %d", c.capacity, step, got.len(), len(want.m))
			}
		}
	}
}

func BenchmarkRecent(b *testing.B) {
	r := newRecent(RecentCapacity, rand.Uint64())
	keys := make([]flowKey, 1<<17)
	for i := range keys {
		keys[i] = newFlowKey(netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)}), uint16(i)), testServer)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := keys[i&(len(keys)-1)]
		r.lateSYN(k.hash64(r.seed), uint32(i), int64(i))
		r.add(k.hash64(r.seed), uint32(i), 0, int64(i), false)
		i++
	}
}

// recentMap is recent with a Go map (Swiss tables since Go 1.24) for its
// index instead of the open-addressing table: the measured alternative.
type recentMap struct {
	ring     [][]mapEntry
	n, next  int
	capacity int
	index    map[flowKey]int32 // ring position
}

// mapEntry is what recentEntry was before it kept a hash for the key.
type mapEntry struct {
	key      flowKey
	answered bool
	isn      uint32
	dataLen  uint32
	at       int64
}

func (r *recentMap) entry(pos int) *mapEntry { return &r.ring[pos/recentChunk][pos%recentChunk] }

func (r *recentMap) add(key flowKey, isn uint32, dataLen int, at int64, answered bool) {
	var pos int
	if r.n < r.capacity {
		pos = r.n
		r.n++
		if pos%recentChunk == 0 {
			r.ring = append(r.ring, make([]mapEntry, min(recentChunk, r.capacity-pos)))
		}
	} else {
		pos = r.next
		r.next = (r.next + 1) % r.capacity
		if old := r.entry(pos).key; r.index[old] == int32(pos) {
			delete(r.index, old)
		}
	}
	*r.entry(pos) = mapEntry{key: key, answered: answered, isn: isn, dataLen: uint32(dataLen), at: at}
	r.index[key] = int32(pos)
}

func (r *recentMap) lateSYN(key flowKey, isn uint32, now int64) bool {
	pos, ok := r.index[key]
	if !ok {
		return false
	}
	e := r.entry(int(pos))
	if e.isn != isn || now-e.at >= recentWindow {
		return false
	}
	e.at = now
	return true
}

// recentKeys are twice RecentCapacity flows, so that the memory is full
// and evicts.
func recentKeys() []flowKey {
	keys := make([]flowKey, 1<<17)
	for i := range keys {
		keys[i] = newFlowKey(netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)}), uint16(i)), testServer)
	}
	return keys
}

// BenchmarkRecentMap is BenchmarkRecent on recentMap.
func BenchmarkRecentMap(b *testing.B) {
	r := recentMap{capacity: RecentCapacity, index: map[flowKey]int32{}}
	keys := recentKeys()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := keys[i&(len(keys)-1)]
		r.lateSYN(k, uint32(i), int64(i))
		r.add(k, uint32(i), 0, int64(i), false)
		i++
	}
}

// heapAfter is the live heap after fill has run, less before.
func heapAfter(fill func() any) float64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	keep := fill()
	runtime.GC()
	runtime.ReadMemStats(&b)
	runtime.KeepAlive(keep)
	return float64(b.HeapAlloc-a.HeapAlloc) / (1 << 20)
}

// BenchmarkRecentMemory reports the heap a full memory of recent attempts
// holds: the open-addressing table against a Go map.
func BenchmarkRecentMemory(b *testing.B) {
	keys := recentKeys()
	for _, impl := range []string{"table", "map"} {
		b.Run(impl, func(b *testing.B) {
			var mb float64
			for b.Loop() {
				mb = heapAfter(func() any {
					if impl == "map" {
						r := &recentMap{capacity: RecentCapacity, index: map[flowKey]int32{}}
						for i, k := range keys {
							r.add(k, uint32(i), 0, int64(i), false)
						}
						return r
					}
					r := newRecent(RecentCapacity, rand.Uint64())
					for i, k := range keys {
						r.add(k.hash64(r.seed), uint32(i), 0, int64(i), false)
					}
					return &r
				})
			}
			b.ReportMetric(mb, "MiB")
		})
	}
}

// TestRecentForgets: add reports an eviction of an entry active within
// recentWindow, and not one of an older entry, nor of one a later attempt
// on the same flow replaced.
func TestRecentForgets(t *testing.T) {
	type add struct {
		port uint16
		at   int64
	}
	tests := []struct {
		name string
		adds []add
		want []bool
	}{
		{"within the window", []add{{1, 0}, {2, 1e9}, {3, 2e9}}, []bool{false, false, true}},
		{"past the window", []add{{1, 0}, {2, 1e9}, {3, recentWindow}}, []bool{false, false, false}},
		{"replaced on its flow", []add{{1, 0}, {1, 1e9}, {3, 2e9}}, []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecent(2, 1)
			for i, a := range tt.adds {
				k := newFlowKey(netip.AddrPortFrom(testClient.Addr(), a.port), testServer)
				if got := r.add(k.hash64(1), 1, 0, a.at, false); got != tt.want[i] {
					t.Errorf("add %d forgot = %v, want %v", i, got, tt.want[i])
				}
			}
		})
	}
}

// TestTrackerForgets: a flood judges more attempts within a minute than
// the memory of recent ones holds. Forgotten counts what it let go, and a
// retransmission of the first SYN after that is an attempt of its own, as
// the warning built on Forgotten says.
func TestTrackerForgets(t *testing.T) {
	rec := &recorder{}
	tr := NewTracker(rec, 0)
	n := RecentCapacity + DefaultMaxOpen + 1000
	syn := func(i int, atUs int64) {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i >> 16), byte(i >> 8)}), uint16(1024+i&0xff))
		seg := Segment{Src: client, Dst: testServer, Flags: FlagSYN, Seq: uint32(i)}
		tr.Add(PacketRef{Frame: i + 1, Time: atUs * 1e3}, &seg)
	}
	for i := range n {
		syn(i, int64(i)*50) // 20000 a second: all within a minute
	}
	early := tr.Early()
	if got, want := tr.Forgotten(), early-RecentCapacity; got != want {
		t.Errorf("Forgotten %d, want %d (%d judged early, %d remembered)", got, want, early, RecentCapacity)
	}
	syn(0, int64(n)*50+1e6) // the first SYN again, a second later
	tr.Flush()
	if len(rec.attempts) != n+1 {
		t.Errorf("%d attempts, want %d: the retransmission of a forgotten one is new", len(rec.attempts), n+1)
	}
}
