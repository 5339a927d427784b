package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
)

// frameSource is where frames come from: a capture file or a live interface.
type frameSource interface {
	Next(f *capture.Frame) error
}

// event is one decoded SYN, SYN-ACK or RST on its way from a source's
// goroutine to the tracker. Other segments never leave the source goroutine.
type event struct {
	ref analyze.PacketRef
	seg analyze.Segment
	// raw is a copy of the frame, made only when evidence is written (Data
	// nil otherwise). A value, not a pointer: one allocation per frame
	// instead of two.
	raw capture.OwnedFrame
}

const batchSize = 256

// stageQueue is how many batches each of n files' stages may read ahead of
// the merger. Sixteen for one or two files: enough to ride out bursts of
// handshakes on one side and stalls on the other (handshake benchmark 86
// -> 75 ms against 4), and to let the second of two consecutive files
// (tcpdump -C rotations) be read on the other core meanwhile (two halves
// of bulk.pcap 141 -> 93 ms). With more files the depth shrinks to 4, so
// that the batches parked by files waiting their turn (40 KB each, up to
// depth+3 per file) stay about the same in total: 20 rotations of the
// handshake capture peak at 40 MB with 4 each, 49 MB with 16.
func stageQueue(n int) int { return min(16, max(4, 32/max(n, 1))) }

// batch carries events in bulk so the channel costs little per packet.
type batch struct {
	events []event
	err    error // set on the last batch of a source that failed
}

// sourceStats counts what one source's frames held.
type sourceStats struct {
	frames      int
	status      [6]int // by analyze.DecodeStatus
	unsupported map[uint16]int
}

// warnings describes skipped frames in one line each.
func (s *sourceStats) warnings() []string {
	var w []string
	lts := make([]int, 0, len(s.unsupported))
	for lt := range s.unsupported {
		lts = append(lts, int(lt))
	}
	sort.Ints(lts)
	for _, lt := range lts {
		w = append(w, fmt.Sprintf("%d packet(s) of unsupported link type %s (%d) skipped",
			s.unsupported[uint16(lt)], analyze.LinkTypeName(uint16(lt)), lt))
	}
	if n := s.status[analyze.CutShort]; n > 0 {
		w = append(w, fmt.Sprintf("%d packet(s) cut by snaplen before the TCP flags skipped", n))
	}
	if n := s.status[analyze.Malformed]; n > 0 {
		w = append(w, fmt.Sprintf("%d packet(s) with malformed IP or TCP headers skipped", n))
	}
	return w
}

// filterError is a -f expression that cannot apply to a frame: fatal, unlike
// a capture that ends early.
type filterError struct{ err error }

func (e *filterError) Error() string { return e.err.Error() }
func (e *filterError) Unwrap() error { return e.err }

// segmentFilter keeps the segments that concern the servers asked for, and
// counts what each --server matched, so that one matching nothing can be
// told (a typo must not leave a --fail-on gate that cannot fail).
type segmentFilter struct {
	given []string         // the --server values, in order
	addrs []netip.Addr     // any port
	ports []netip.AddrPort // exact
	// hits counts the segments each --server matched, by position in
	// given. Atomic: every input's stage matches at once.
	hits []atomic.Int64
	// index maps addrs and ports entries to their position in given.
	addrIdx, portIdx []int
}

func (f *segmentFilter) empty() bool { return len(f.addrs) == 0 && len(f.ports) == 0 }

// match reports whether server (the SYN's destination or the reply's
// source) is one of the servers asked for.
func (f *segmentFilter) match(server netip.AddrPort) bool {
	if f.empty() {
		return true
	}
	for i, a := range f.addrs {
		if a == server.Addr() {
			f.hits[f.addrIdx[i]].Add(1)
			return true
		}
	}
	for i, ap := range f.ports {
		if ap == server {
			f.hits[f.portIdx[i]].Add(1)
			return true
		}
	}
	return false
}

// unmatched lists the --server values that matched no segment.
func (f *segmentFilter) unmatched() []string {
	var out []string
	for i, s := range f.given {
		if f.hits[i].Load() == 0 {
			out = append(out, s)
		}
	}
	return out
}

// parseServer parses --server: ip, ip:port, [ipv6]:port, [ipv6] or a bare
// IPv6. A bare IPv6 that reads as well as an address and a port
// (fd77::1:8001: fd77::1 port 8001?) is refused: which one was meant
// cannot be told, and guessing wrong filters out every packet.
func parseServer(s string) (netip.Addr, netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.Addr{}, ap, nil
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		if host, port, ok := ambiguousIPv6(s); ok {
			return netip.Addr{}, netip.AddrPort{}, fmt.Errorf("--server %q is ambiguous: write [%s]:%s for port %s of %s, or [%s] for the address", s, host, port, port, host, s)
		}
		return a, netip.AddrPort{}, nil
	}
	return netip.Addr{}, netip.AddrPort{}, fmt.Errorf("--server %q: want IP, IP:PORT or [IPv6]:PORT", s)
}

// ambiguousIPv6 reports whether s, an unbracketed IPv6 address, also reads
// as an IPv6 address, a colon and a port number.
func ambiguousIPv6(s string) (host, port string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if strings.HasPrefix(s, "[") || i < 0 {
		return "", "", false
	}
	host, port = s[:i], s[i+1:]
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 || port[0] == '0' {
		return "", "", false
	}
	if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
		return "", "", false
	}
	return host, port, true
}

// stage reads one source, decodes each frame and sends the segments that
// matter (SYN, SYN-ACK, RST) to out in batches. It closes out when done.
type stage struct {
	input   int
	src     frameSource
	bpf     *capture.Filter // nil: no -f
	servers *segmentFilter
	// evidence copies the frames of events for an evidence file, but for
	// servers in evidenceDone, whose share of evidence is written already.
	evidence     bool
	evidenceDone *serverSet
	stats        sourceStats
	out          chan batch
	// eager sends each event at once instead of in full batches: a live
	// capture's tracker must see a SYN when it arrives, not 256 SYNs later.
	eager bool
	// free returns batches' event slices from the merger for reuse, so
	// that steady state allocates nothing. run makes it before its first
	// send on out, and the merger uses it only after receiving from out.
	free chan []event
}

// newBatch returns an empty batch, reusing one the merger is done with.
func (s *stage) newBatch(size int) batch {
	select {
	case ev := <-s.free:
		return batch{events: ev[:0]}
	default:
		return batch{events: make([]event, 0, size)}
	}
}

func (s *stage) run() {
	defer close(s.out)
	var f capture.Frame
	var seg analyze.Segment
	size := batchSize
	if s.eager {
		size = 1
	}
	// Batches in flight: the channel's, the one filling, the merger's head
	// and the one it has just finished.
	s.free = make(chan []event, cap(s.out)+3)
	b := s.newBatch(size)
	copied := 0 // bytes of frame copies in b
	for {
		err := s.src.Next(&f)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				b.err = err
			}
			s.out <- b
			return
		}
		s.stats.frames++
		if s.bpf != nil {
			ok, err := s.bpf.Match(&f)
			if err != nil {
				b.err = &filterError{err}
				s.out <- b
				return
			}
			if !ok {
				continue
			}
		}
		// Most frames are data segments: read their flags from fixed
		// offsets and skip the full decode when they are not SYN or RST.
		if flags, ok := analyze.QuickFlags(f.LinkType, f.Data); ok && flags&(analyze.FlagSYN|analyze.FlagRST) == 0 {
			s.stats.status[analyze.DecodedTCP]++
			continue
		}
		st := analyze.Decode(f.LinkType, f.Data, f.OrigLen, &seg)
		s.stats.status[st]++
		if st == analyze.UnsupportedLink {
			if s.stats.unsupported == nil {
				s.stats.unsupported = map[uint16]int{}
			}
			s.stats.unsupported[f.LinkType]++
		}
		if st != analyze.DecodedTCP || seg.Flags&(analyze.FlagSYN|analyze.FlagRST) == 0 {
			continue
		}
		server := seg.Dst
		if !seg.IsSYN() {
			server = seg.Src
		}
		if !s.servers.match(server) {
			continue
		}
		ev := event{
			ref: analyze.PacketRef{Input: s.input, Frame: f.Number, Interface: linkInterface(&f), Time: f.Time},
			seg: seg,
		}
		if s.evidence && !s.evidenceDone.has(server) {
			ev.raw = f.Clone()
			copied += len(f.Data)
		}
		b.events = append(b.events, ev)
		if len(b.events) == size || copied >= maxBatchCopies {
			s.out <- b
			b, copied = s.newBatch(size), 0
		}
	}
}

// maxBatchCopies bounds the bytes of frames a batch carries for evidence,
// so that the batches in flight stay small whatever the frames' size: 256
// copies of 64 KB SYNs would be 16 MB a batch, 300 MB over the queue.
const maxBatchCopies = 256 << 10

// linkInterface tells apart the interfaces a frame may have been captured
// on: the pcapng section and interface and, within it, the interface a
// cooked-v2 header names.
func linkInterface(f *capture.Frame) int {
	idx, _ := analyze.LinkInterface(f.LinkType, f.Data)
	return analyze.PackInterface(f.Section, f.Interface, idx)
}

// merger hands out events from several stages in timestamp order (a k-way
// merge over each stage's stream, which is in file order).
type merger struct {
	stages []*stage
	heads  []batch
	pos    []int
	done   []bool
	errs   []error
	// spent are head batches read to the end. The event next returned
	// last may point into one, so they go back to their stage's free list
	// only at the following call.
	spent []spentBatch
}

type spentBatch struct {
	stage  int
	events []event
}

func newMerger(stages []*stage) *merger {
	m := &merger{
		stages: stages,
		heads:  make([]batch, len(stages)),
		pos:    make([]int, len(stages)),
		done:   make([]bool, len(stages)),
		errs:   make([]error, len(stages)),
	}
	for i := range stages {
		m.fill(i)
	}
	return m
}

// fill makes sure stage i's head batch has an unread event, or marks the
// stage done.
func (m *merger) fill(i int) {
	for !m.done[i] && m.pos[i] >= len(m.heads[i].events) {
		b, ok := <-m.stages[i].out
		if !ok {
			m.done[i] = true
			return
		}
		if b.err != nil {
			m.errs[i] = b.err
		}
		if m.heads[i].events != nil {
			m.spent = append(m.spent, spentBatch{i, m.heads[i].events})
		}
		m.heads[i], m.pos[i] = b, 0
	}
}

// next returns the earliest pending event, or nil when all stages are done.
func (m *merger) next() *event {
	for _, sb := range m.spent {
		select {
		case m.stages[sb.stage].free <- sb.events:
		default: // full: let the garbage collector have it
		}
	}
	m.spent = m.spent[:0]
	best := -1
	for i := range m.stages {
		if m.done[i] {
			continue
		}
		if best < 0 || m.heads[i].events[m.pos[i]].ref.Time < m.heads[best].events[m.pos[best]].ref.Time {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	ev := &m.heads[best].events[m.pos[best]]
	m.pos[best]++
	m.fill(best)
	return ev
}
