package analyze

import (
	"cmp"
	"iter"
	"math"
	"slices"
)

// KeptAttempts are the attempts a Collector keeps in detail for the
// report, in the order they were judged. Each is stored as a keptAttempt:
// what a report reads of an Attempt, in 160 bytes where a clone of the
// Attempt took 368 (304 since), and without pointers, so that the garbage
// collector does not scan the chunks. They are live while the tracker's
// tables peak: 10000 kept attempts take 1.6 MB instead of 3.6.
type KeptAttempts struct {
	// chunks hold the attempts, keptChunk each, so that growing never
	// copies.
	chunks [][]keptAttempt
	n      int
	// logs are what a report reads of the sighting logs of the attempts
	// seen more than once, and replies the sightings of the replies seen
	// more than once, which keptAttempt.log and keptAttempt.replies
	// number. Under a flood of retransmitted SYNs every kept attempt has
	// a log: 10000 of them took 4.4 MB as whole logs, 1.9 MB so.
	logs    []keptLog
	replies []sightings
}

// keptLog is what a report reads of a sighting log: the SYN's sightings,
// plain retry, stripped copy and NAT alias, not how the sightings group
// into sends.
type keptLog struct {
	syn        sightings
	plainRetry PacketRef
	stripped   Sighting
	alias      flowKey
	aliased    bool
}

const keptChunk = 1024 // attempts per chunk of KeptAttempts: 160 KB

// keptAttempt is an Attempt as KeptAttempts stores it: its exported
// fields but the ID, the SYN's MalformedCopy, the reply's Copies and the
// packets' Interface, none of which a report shows, and an index in
// KeptAttempts.logs for its log (which holds the plain retry and the
// stripped copy, if any).
type keptAttempt struct {
	flow                 flowKey // Client, Server
	outcome              Outcome
	replyKind            ReplyKind
	flags                keptFlags
	isn                  uint32
	log                  int32 // in KeptAttempts.logs; -1: none
	replies              int32 // in KeptAttempts.replies; -1: none
	syn, reply           keptRef
	synTFO, replyTFO     TFOOption
	synMPTCP, replyMPTCP MPTCPOption
	synInput, replyInput uint32
	// The SYN's data and the reply's acknowledged part are at most
	// 65535 bytes; counts past 2^32-1 stay there.
	dataLen, retransmits uint32
	duplicates, acked    uint32
}

// keptRef is a PacketRef without its Interface and Input.
type keptRef struct {
	time  int64
	frame int
}

type keptFlags uint8

const (
	keptSYNTruncated keptFlags = 1 << iota
	keptFragmented
	keptReplyTruncated
)

func newKeptRef(r PacketRef) keptRef { return keptRef{time: r.Time, frame: r.Frame} }

func (r keptRef) packetRef(input uint32) PacketRef {
	return PacketRef{Input: int(input), Frame: r.frame, Time: r.time}
}

// saturate32 is n, which is not negative, in 32 bits, or 2^32-1.
func saturate32(n int) uint32 {
	if uint64(n) > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(n)
}

// Len is the number of attempts kept.
func (k *KeptAttempts) Len() int { return k.n }

// add keeps a copy of a; limit bounds the attempts that will be kept, so
// that the last chunk is no larger than it needs.
func (k *KeptAttempts) add(a *Attempt, limit int) {
	if k.n%keptChunk == 0 {
		k.chunks = append(k.chunks, make([]keptAttempt, 0, min(keptChunk, limit-k.n)))
	}
	r := keptAttempt{
		flow:        newFlowKey(a.Client, a.Server),
		outcome:     a.Outcome,
		replyKind:   a.Reply.Kind,
		isn:         a.ISN,
		log:         -1,
		replies:     -1,
		syn:         newKeptRef(a.SYN.PacketRef),
		reply:       newKeptRef(a.Reply.PacketRef),
		synTFO:      a.SYN.TFO,
		replyTFO:    a.Reply.TFO,
		synMPTCP:    a.SYN.MPTCP,
		replyMPTCP:  a.Reply.MPTCP,
		synInput:    uint32(a.SYN.Input),
		replyInput:  uint32(a.Reply.Input),
		dataLen:     saturate32(a.SYN.DataLen),
		retransmits: saturate32(a.SYN.Retransmits),
		duplicates:  saturate32(a.SYN.Duplicates),
		acked:       saturate32(a.Reply.AckedData),
	}
	if a.SYN.Truncated {
		r.flags |= keptSYNTruncated
	}
	if a.SYN.Fragmented {
		r.flags |= keptFragmented
	}
	if a.Reply.Truncated {
		r.flags |= keptReplyTruncated
	}
	if l := a.log; l != nil {
		r.log = int32(len(k.logs))
		k.logs = append(k.logs, keptLog{syn: l.syn, plainRetry: l.plainRetry, stripped: l.stripped, alias: l.alias, aliased: l.aliased})
	}
	if a.replies != nil {
		r.replies = int32(len(k.replies))
		k.replies = append(k.replies, a.replies.reply)
	}
	chunk := &k.chunks[len(k.chunks)-1]
	*chunk = append(*chunk, r)
	k.n++
}

// All yields the kept attempts in the order they were judged, each
// rebuilt as an Attempt with the fields keptAttempt stores (the others
// zero). The Attempt is reused: it is valid until the next one.
func (k *KeptAttempts) All() iter.Seq[*Attempt] {
	return func(yield func(*Attempt) bool) {
		var b rebuilt
		for _, chunk := range k.chunks {
			for i := range chunk {
				k.rebuild(&chunk[i], &b)
				if !yield(&b.a) {
					return
				}
			}
		}
	}
}

// BySYN is All in the order of the attempts' SYNs: by time, input and
// frame, ties in the order they were judged, as a report lists them. It
// sorts small keys, where sorting the reports made from the attempts
// moved 10000 structs of some 300 bytes each about log2(n) times (10 ms
// of the synthetic handshake capture's 20 ms after its last packet).
func (k *KeptAttempts) BySYN() iter.Seq[*Attempt] {
	type key struct {
		time  int64
		input uint32
		at    int32 // judged order: the index in k
		frame int
	}
	keys := make([]key, 0, k.n)
	for c, chunk := range k.chunks {
		for i := range chunk {
			r := &chunk[i]
			keys = append(keys, key{r.syn.time, r.synInput, int32(c*keptChunk + i), r.syn.frame})
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.input, b.input), cmp.Compare(a.frame, b.frame), cmp.Compare(a.at, b.at))
	})
	return func(yield func(*Attempt) bool) {
		var b rebuilt
		for _, key := range keys {
			k.rebuild(&k.chunks[key.at/keptChunk][key.at%keptChunk], &b)
			if !yield(&b.a) {
				return
			}
		}
	}
}

// rebuilt is an Attempt as All yields it, and its sighting logs.
type rebuilt struct {
	a       Attempt
	log     sightingLog
	replies replyLog
}

// rebuild makes b.a the Attempt r was kept from.
func (k *KeptAttempts) rebuild(r *keptAttempt, b *rebuilt) {
	a := &b.a
	*a = Attempt{ISN: r.isn, Outcome: r.outcome}
	a.Client, a.Server = r.flow.addrs()
	a.SYN = SYNInfo{
		PacketRef:   r.syn.packetRef(r.synInput),
		TFO:         r.synTFO,
		MPTCP:       r.synMPTCP,
		DataLen:     int(r.dataLen),
		Retransmits: int(r.retransmits),
		Duplicates:  int(r.duplicates),
		Truncated:   r.flags&keptSYNTruncated != 0,
		Fragmented:  r.flags&keptFragmented != 0,
	}
	a.Reply = ReplyInfo{
		PacketRef: r.reply.packetRef(r.replyInput),
		Kind:      r.replyKind,
		TFO:       r.replyTFO,
		MPTCP:     r.replyMPTCP,
		AckedData: int(r.acked),
		Truncated: r.flags&keptReplyTruncated != 0,
	}
	if r.log >= 0 {
		l := &k.logs[r.log]
		b.log = sightingLog{syn: l.syn, plainRetry: l.plainRetry, stripped: l.stripped, alias: l.alias, aliased: l.aliased}
		a.log = &b.log
	}
	if r.replies >= 0 {
		b.replies = replyLog{reply: k.replies[r.replies]}
		a.replies = &b.replies
	}
}
