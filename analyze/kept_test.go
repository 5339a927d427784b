package analyze

import (
	"math"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"unsafe"
)

// keptFixture is an Attempt with every field a report shows set to a
// value of its own, and a sighting log with a NAT alias.
func keptFixture(client, server string) Attempt {
	a := Attempt{
		ID:      7,
		Client:  netip.MustParseAddrPort(client),
		Server:  netip.MustParseAddrPort(server),
		ISN:     0xdeadbeef,
		Outcome: Rejected,
		SYN: SYNInfo{
			PacketRef:     PacketRef{Input: 3, Frame: math.MaxInt, Interface: PackInterface(1, 2, 3), Time: 1_764_000_000_123_456_789},
			TFO:           TFOOption{State: TFOCookie, Kind: 34, Len: 10, cookie: [maxCookieLen]byte{1, 2, 3, 4, 5, 6, 7, 8}, cookieLen: 8},
			MPTCP:         MPTCPOption{Present: true, Subtype: MPCapable, Version: 1, Len: 12},
			DataLen:       1400,
			Retransmits:   2,
			Duplicates:    5,
			MalformedCopy: true,
			Truncated:     true,
			Fragmented:    true,
			ts:            stamp{5, true},
			last:          12,
		},
		Reply: ReplyInfo{
			PacketRef: PacketRef{Input: 1 << 20, Frame: 8, Interface: 4, Time: 1_764_000_000_223_456_789},
			Kind:      ReplySYNACK,
			TFO:       TFOOption{State: TFOMalformed, Kind: 254, Len: 3},
			MPTCP:     MPTCPOption{Present: true, Len: 2},
			AckedData: 1400,
			Truncated: true,
			Copies:    3,
		},
		hash: 1, idx: 2, queue: 3, newer: true,
	}
	a.log = &sightingLog{aliased: true, alias: newFlowKey(netip.MustParseAddrPort("198.51.100.9:1"), netip.MustParseAddrPort("[2001:db8::9]:2")),
		plainRetry: PacketRef{Input: 4, Frame: 99, Interface: 9, Time: 11},
		stripped:   Sighting{Interface: 6, Frame: 77, Input: 2, Send: 1, TFO: TFORequest}}
	a.log.syn.add(a.SYN.PacketRef, 0, TFOCookie)
	a.log.syn.add(PacketRef{Input: 5, Frame: 6}, 0, TFONone)
	a.log.synSends.start(a.SYN.PacketRef, a.SYN.ts, a.SYN.DataLen)
	a.replies = &replyLog{}
	a.replies.reply.add(a.Reply.PacketRef, 0, TFONone)
	a.replies.reply.add(PacketRef{Input: 6, Frame: 7}, 0, TFOCookie)
	a.replies.sends.start(a.Reply.PacketRef, a.Reply.ts, 0)
	return a
}

// unkept is a with the fields KeptAttempts does not store made zero.
func unkept(a Attempt) Attempt {
	a.ID, a.hash, a.idx, a.prev, a.queue, a.newer = 0, 0, 0, nil, 0, false
	a.SYN.Interface, a.SYN.MalformedCopy, a.SYN.ts, a.SYN.last = 0, false, stamp{}, 0
	a.Reply.Interface, a.Reply.Copies, a.Reply.ts = 0, 0, stamp{}
	// Nor how the sightings group into sends.
	if a.log != nil {
		l := *a.log
		l.synSends = transmissions{}
		a.log = &l
	}
	if a.replies != nil {
		r := *a.replies
		r.sends = transmissions{}
		a.replies = &r
	}
	return a
}

func TestKeptAttemptsRebuild(t *testing.T) {
	withLog := keptFixture("192.0.2.1:40000", "192.0.2.2:443")
	mapped := keptFixture("[::ffff:192.0.2.1]:1", "[2001:db8::2]:443") // IPv4-mapped stays IPv6
	mapped.log, mapped.replies = nil, nil
	unanswered := Attempt{Client: withLog.Client, Server: withLog.Server, ISN: 1, Outcome: Unanswered,
		SYN: SYNInfo{PacketRef: PacketRef{Frame: 1, Time: 5}}}
	synOnly := keptFixture("192.0.2.1:40001", "192.0.2.2:443") // its reply seen once
	synOnly.replies = nil
	want := []Attempt{withLog, mapped, unanswered, synOnly}

	var k KeptAttempts
	for i := range 2*keptChunk + 1 { // across chunks
		a := want[i%len(want)]
		a.ISN += uint32(i)
		k.add(&a, 2*keptChunk+1)
	}
	if k.Len() != 2*keptChunk+1 || len(k.chunks) != 3 || cap(k.chunks[2]) != 1 {
		t.Fatalf("Len %d, %d chunks, last of cap %d; want %d, 3, 1", k.Len(), len(k.chunks), cap(k.chunks[len(k.chunks)-1]), 2*keptChunk+1)
	}
	i := 0
	for got := range k.All() {
		w := want[i%len(want)]
		w.ISN += uint32(i)
		if !reflect.DeepEqual(*got, unkept(w)) {
			t.Fatalf("attempt %d rebuilt as\n%+v\nwant\n%+v", i, *got, unkept(w))
		}
		i++
	}
	if i != k.Len() {
		t.Fatalf("All yielded %d attempts, want %d", i, k.Len())
	}
	for range k.All() {
		break // stopping early must not panic
	}
}

// TestKeptAttemptsBySYN yields the kept attempts by their SYN's time,
// then input, then frame, and attempts equal in all three in the order
// they were judged, across chunks.
func TestKeptAttemptsBySYN(t *testing.T) {
	type syn struct {
		time         int64
		input, frame int
	}
	tests := []struct {
		name   string
		judged []syn
		want   []int // indices into judged, in the order BySYN yields
	}{
		{"in order", []syn{{1, 0, 1}, {2, 0, 2}, {3, 0, 3}}, []int{0, 1, 2}},
		{"by time", []syn{{30, 0, 3}, {10, 0, 1}, {20, 0, 2}}, []int{1, 2, 0}},
		{"input, then frame", []syn{{5, 1, 1}, {5, 0, 9}, {5, 0, 2}}, []int{2, 1, 0}},
		{"ties judged order", []syn{{5, 0, 0}, {4, 0, 0}, {5, 0, 0}, {5, 0, 0}}, []int{1, 0, 2, 3}},
		{"none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var k KeptAttempts
			for i, s := range tt.judged {
				a := Attempt{ISN: uint32(i), SYN: SYNInfo{PacketRef: PacketRef{Input: s.input, Frame: s.frame, Time: s.time}}}
				k.add(&a, len(tt.judged))
			}
			var got []int
			for a := range k.BySYN() {
				got = append(got, int(a.ISN))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("BySYN yields %v, want %v", got, tt.want)
			}
		})
	}
	// Across chunks: the last judged goes first.
	var k KeptAttempts
	n := 2*keptChunk + 1
	for i := range n {
		a := Attempt{ISN: uint32(i), SYN: SYNInfo{PacketRef: PacketRef{Frame: i + 1, Time: int64(n - i)}}}
		k.add(&a, n)
	}
	i := n - 1
	for a := range k.BySYN() {
		if int(a.ISN) != i {
			t.Fatalf("BySYN yields attempt %d where %d goes", a.ISN, i)
		}
		i--
	}
	if i != -1 {
		t.Fatalf("BySYN stopped %d attempts short", i+1)
	}
}

// TestKeptAttemptSize keeps the record small: it is why KeptAttempts
// exists (an Attempt takes 304 bytes).
func TestKeptAttemptSize(t *testing.T) {
	if n := unsafe.Sizeof(keptAttempt{}); n > 160 {
		t.Errorf("keptAttempt takes %d bytes, want at most 160", n)
	}
}

func TestKeptAttemptsAllocs(t *testing.T) {
	a := keptFixture("192.0.2.1:40000", "192.0.2.2:443")
	a.log, a.replies = nil, nil
	var k KeptAttempts
	k.add(&a, keptChunk) // the chunk
	if n := testing.AllocsPerRun(100, func() { k.add(&a, keptChunk) }); n != 0 {
		t.Errorf("add allocates %v times an attempt, want 0", n)
	}
	if n := testing.AllocsPerRun(10, func() {
		for range k.All() {
		}
	}); n > 1 {
		t.Errorf("All allocates %v times, want at most once", n)
	}
}

func TestSaturate32(t *testing.T) {
	tests := []struct {
		n    int
		want uint32
	}{
		{0, 0},
		{65535, 65535},
		{math.MaxInt32, math.MaxInt32},
		// Past 32 bits where int has them: a count stays at the most.
		{math.MaxInt, uint32(min(uint64(math.MaxInt), math.MaxUint32))},
	}
	for _, tt := range tests {
		if got := saturate32(tt.n); got != tt.want {
			t.Errorf("saturate32(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}
