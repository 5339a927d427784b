package analyze

// Late copies of finalised attempts are recognised this long after the
// attempt ends, which covers Linux's SYN-ACK retransmissions
// (tcp_synack_retries=5: 1+2+4+8+16 s) and SYN retries.
const recentWindow = 60e9

// RecentCapacity bounds the finalised attempts remembered for their late
// copies, which bounds memory at any rate (Tracker.Forgotten counts what
// a faster rate lets go early).
const RecentCapacity = 1 << 16

// recent is a bounded memory of finalised attempts, oldest evicted first.
// A later attempt on the same flow replaces an earlier one.
//
// It is a ring of entries, grown to its capacity as needed and then
// reused, with an open-addressing index over it (linear probing, at most
// half full, backward-shift deletion, so no tombstones). Each index slot
// holds 32 bits of the key's hash and the ring position, so probing
// touches a ring entry only when the hash matches. An entry keeps the
// flow's 64-bit hash in place of its 38-byte key: two flows would have
// to share all 64 bits under the run's random seed (and, to match, the
// ISN or the acknowledged range too) to be taken for one. At capacity it
// takes 24 bytes per entry and 16 per entry of index, 2.5 MiB for 65536
// (with the key, 56 bytes and 4.5 MiB), and an eviction is one probe
// rather than a map lookup and a delete. The same ring indexed by a Go
// map (Swiss tables since Go 1.24) took 9.5 MiB and 287 ns per SYN
// against 241 (BenchmarkRecentMemory, BenchmarkRecentMap).
type recent struct {
	// ring holds the entries in chunks, so that growing it never copies
	// and its memory is what it holds.
	ring     [][]recentEntry
	n        int // entries in ring
	next     int // the oldest entry, once the ring is full
	capacity int
	index    []uint64 // hash<<32 | ring position+1; 0 is an empty slot
	indexed  int      // entries the index points to
	seed     uint64
}

type recentEntry struct {
	flow uint64 // the flow's 64-bit hash (flowHash64), whose fold indexes it
	isn  uint32
	// data is the SYN's data length, and answeredBit when the attempt
	// had a reply (or a late one came).
	data uint32
	at   int64 // the attempt's last activity
}

// answeredBit marks recentEntry.data; a SYN's data is far below it.
const answeredBit = 1 << 31

func (e *recentEntry) dataLen() uint32 { return e.data &^ answeredBit }
func (e *recentEntry) answered() bool  { return e.data&answeredBit != 0 }

// newRecent returns a memory of capacity attempts whose flows hash with
// seed: the tracker's, so that it hashes a flow once for its open
// attempts and this memory both (every method takes the key's hash).
func newRecent(capacity int, seed uint64) recent {
	return recent{capacity: capacity, seed: seed}
}

// len is the number of flows remembered.
func (r *recent) len() int { return r.indexed }

const recentChunk = 4096 // entries per ring chunk: 96 KB

// entry returns the entry at ring position pos, which is never negative:
// unsigned, the division and remainder are a shift and a mask.
func (r *recent) entry(pos int) *recentEntry {
	return &r.ring[uint(pos)/recentChunk][uint(pos)%recentChunk]
}

// add remembers an attempt on the flow whose 64-bit hash is flow. It
// reports whether that made room by forgetting an attempt active less
// than recentWindow before at: a late copy of that one will not be known.
func (r *recent) add(flow uint64, isn uint32, dataLen int, at int64, answered bool) (forgot bool) {
	var pos int
	if r.n < r.capacity {
		pos = r.n
		r.n++
		if pos%recentChunk == 0 {
			r.ring = append(r.ring, make([]recentEntry, min(recentChunk, r.capacity-pos)))
		}
	} else {
		pos = r.next
		r.next = (r.next + 1) % r.capacity
		old := r.entry(pos)
		forgot = r.unindex(fold(old.flow), pos) && at-old.at < recentWindow
	}
	data := uint32(min(dataLen, answeredBit-1))
	if answered {
		data |= answeredBit
	}
	*r.entry(pos) = recentEntry{flow: flow, isn: isn, data: data, at: at}
	r.put(fold(flow), pos)
	return forgot
}

// put indexes the entry at ring position pos, replacing the entry of the
// same flow if there is one (it stays in the ring, unindexed, until its
// slot is reused).
func (r *recent) put(h uint32, pos int) {
	if 2*(r.indexed+1) > len(r.index) {
		r.grow()
	}
	v := uint64(h)<<32 | uint64(pos+1)
	mask := len(r.index) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := r.index[i]
		if e == 0 {
			r.index[i] = v
			r.indexed++
			return
		}
		if uint32(e>>32) == h && r.entry(int(uint32(e))-1).flow == r.entry(pos).flow {
			r.index[i] = v
			return
		}
	}
}

// unindex removes ring position pos from the index, if it is there, and
// reports whether it was.
func (r *recent) unindex(h uint32, pos int) bool {
	mask := len(r.index) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := r.index[i]
		if e == 0 {
			return false // replaced by a later attempt on the same flow
		}
		if uint32(e) != uint32(pos+1) {
			continue
		}
		// Backward-shift deletion: move later entries of the probe run
		// into the hole unless that would put them before their home.
		for j := (i + 1) & mask; r.index[j] != 0; j = (j + 1) & mask {
			home := int(uint32(r.index[j]>>32)) & mask
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				r.index[i] = r.index[j]
				i = j
			}
		}
		r.index[i] = 0
		r.indexed--
		return true
	}
}

func (r *recent) grow() {
	old := r.index
	r.index = make([]uint64, max(64, 2*len(old)))
	prefault(r.index)
	mask := len(r.index) - 1
	for _, e := range old {
		if e == 0 {
			continue
		}
		i := int(uint32(e>>32)) & mask
		for r.index[i] != 0 {
			i = (i + 1) & mask
		}
		r.index[i] = e
	}
}

// touch loads the index slot where the flow whose hash folds to h is
// looked for, and returns it for the caller to keep (Tracker.Prefetch).
func (r *recent) touch(h uint32) uint32 {
	if r.indexed == 0 {
		return 0
	}
	return uint32(r.index[int(h)&(len(r.index)-1)])
}

// lookup returns the entry remembered for the flow whose 64-bit hash
// (flowHash64) is flow, or nil.
func (r *recent) lookup(flow uint64) *recentEntry {
	if r.indexed == 0 {
		return nil
	}
	h := fold(flow)
	mask := len(r.index) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := r.index[i]
		if e == 0 {
			return nil
		}
		if uint32(e>>32) == h {
			if en := r.entry(int(uint32(e)) - 1); en.flow == flow {
				return en
			}
		}
	}
}

// lateSYN reports whether a SYN with this ISN belongs to a finalised
// attempt; a client still retrying keeps the memory fresh.
func (r *recent) lateSYN(flow uint64, isn uint32, now int64) bool {
	e := r.lookup(flow)
	if e == nil || e.isn != isn || now-e.at >= recentWindow {
		return false
	}
	e.at = now
	return true
}

// lateReply reports whether a reply with this ack answers a finalised attempt.
func (r *recent) lateReply(flow uint64, ack uint32, now int64) bool {
	late, _ := r.lateAnswer(flow, ack, now)
	return late
}

// lateAnswer is lateReply that also reports whether the attempt had been
// judged unanswered: then this is the first reply to it, too late, and
// the attempt counts as answered from now on (its copies are not news).
func (r *recent) lateAnswer(flow uint64, ack uint32, now int64) (late, first bool) {
	e := r.lookup(flow)
	if e == nil || ack-(e.isn+1) > e.dataLen() || now-e.at >= recentWindow {
		return false, false
	}
	first = !e.answered()
	e.data |= answeredBit
	return true, first
}
