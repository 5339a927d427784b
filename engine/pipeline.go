package engine

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
)

// event is one decoded SYN, SYN-ACK or RST on its way from a source's
// goroutine to the tracker. Other segments never leave the source goroutine.
type event struct {
	ref analyze.PacketRef
	seg analyze.Segment
	// raw is a copy of the frame, made only when evidence is written (nil
	// otherwise), in its batch's frames. A pointer: an event of 240 bytes
	// with the frame inline took the stage 341k cache misses to write on
	// the real handshake capture (callgrind), where evidence is off.
	raw *capture.OwnedFrame
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
	// frames holds the copies of frames that events' raw point to.
	frames []capture.OwnedFrame
	err    error // set on the last batch of a source that failed
}

// next returns the slot after b's events, growing them if they are full:
// a frame is decoded there, and the slot taken as an event by extending
// b.events over it.
func (b *batch) next() *event {
	if len(b.events) == cap(b.events) {
		b.events = slices.Grow(b.events, 1)
	}
	return &b.events[:len(b.events)+1][len(b.events)]
}

// keep copies f into b.frames for the evidence and returns the copy:
// one allocation per frame (its bytes) and one per batch. A full frames
// slice is left to the events pointing into it and a new one begun.
func (b *batch) keep(f *capture.Frame) *capture.OwnedFrame {
	if len(b.frames) == cap(b.frames) {
		b.frames = make([]capture.OwnedFrame, 0, batchSize)
	}
	b.frames = append(b.frames, f.Clone())
	return &b.frames[len(b.frames)-1]
}

// SourceStats counts what one source's frames held.
type SourceStats struct {
	frames      int
	status      [6]int // by analyze.DecodeStatus
	unsupported map[uint16]int
	clock       clockWatch
	// firstFragments counts first IP fragments whose TCP header was
	// whole and decoded (status Fragment counts the others); completed
	// counts the fragmented SYNs whose data length the datagram's last
	// fragment gave.
	firstFragments, completed int
}

// Timestamps that clockWatch reports: a step back of more than
// clockBackSlack (several interfaces written at once reorder by up to
// 250 ms), and in files a step forward of more than clockJumpAhead (in a
// live capture only handshakes pass the kernel filter, and quiet minutes
// are normal).
const (
	clockBackSlack = int64(time.Second)
	clockJumpAhead = int64(3 * time.Minute)
)

// clockWatch notices timestamps that go back, or jump ahead, in one
// source's order: out-of-order records, a clock stepped, a damaged
// timestamp. It costs two comparisons a frame.
type clockWatch struct {
	last  int64
	seen  bool
	ahead bool // report forward jumps (files)
	back  clockSteps
	jumps clockSteps
}

// clockSteps counts steps of one direction, with the first and the largest.
type clockSteps struct {
	n          int
	firstFrame int
	first      int64
	largest    int64
}

func (c *clockSteps) add(frame int, d int64) {
	if c.n == 0 {
		c.firstFrame, c.first = frame, d
	}
	c.n++
	c.largest = max(c.largest, d)
}

func (c *clockWatch) observe(t int64, frame int) {
	if c.seen {
		switch d := t - c.last; {
		case d < -clockBackSlack:
			c.back.add(frame, -d)
		case c.ahead && d > clockJumpAhead:
			c.jumps.add(frame, d)
		}
	}
	c.last, c.seen = t, true
}

// warnings describes the steps in one line each.
func (c *clockWatch) warnings() []string {
	var w []string
	if b := c.back; b.n > 0 {
		w = append(w, fmt.Sprintf("%d record(s) stamped more than %v before the record preceding them "+
			"(first: frame %d, %v back; largest %v): records out of order, a clock stepped back or a damaged timestamp",
			b.n, time.Duration(clockBackSlack), b.firstFrame, time.Duration(b.first), time.Duration(b.largest)))
	}
	if j := c.jumps; j.n > 0 {
		w = append(w, fmt.Sprintf("%d jump(s) of more than %v between records (first: frame %d, %v ahead; largest %v): "+
			"a pause, a clock stepped forward or a damaged timestamp",
			j.n, time.Duration(clockJumpAhead), j.firstFrame, time.Duration(j.first), time.Duration(j.largest)))
	}
	return w
}

// DecodeCounts says in one line what the source's frames decoded to, for
// tfopcap -v: "181 frames: 170 tcp, 11 not-tcp".
func (s *SourceStats) DecodeCounts() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d frames", s.frames)
	sep := ": "
	for st, n := range s.status {
		if n > 0 {
			fmt.Fprintf(&b, "%s%d %s", sep, n, analyze.DecodeStatus(st))
			sep = ", "
		}
	}
	return b.String()
}

// Warnings describes skipped frames and clock steps in one line each.
func (s *SourceStats) Warnings() []string {
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
	if first, rest := s.firstFragments, s.status[analyze.Fragment]; first+rest > 0 {
		w = append(w, fmt.Sprintf("IP fragments: %d first fragment(s) decoded from their whole TCP header, "+
			"%d later fragment(s) or first ones too short for the TCP header skipped; the data length of %d "+
			"fragmented SYN(s) came from their datagram's last fragment, the others' (syn.fragmented) is a lower bound",
			first, rest, s.completed))
	}
	return append(w, s.clock.warnings()...)
}

// filterError is a -f expression that cannot apply to a frame: fatal, unlike
// a capture that ends early.
type filterError struct{ err error }

func (e *filterError) Error() string { return e.err.Error() }
func (e *filterError) Unwrap() error { return e.err }

// ServerFilter keeps the segments that concern the servers asked for, and
// counts what each --server matched, so that one matching nothing can be
// told (a typo must not leave a --fail-on gate that cannot fail).
type ServerFilter struct {
	given []string         // the --server values, in order
	addrs []netip.Addr     // any port
	ports []netip.AddrPort // exact
	// hits counts the segments each --server matched, by position in
	// given. Atomic: every input's stage matches at once.
	hits []atomic.Int64
	// index maps addrs and ports entries to their position in given.
	addrIdx, portIdx []int
}

// ParseServers parses the --server values: IP, IP:PORT or [IPv6]:PORT.
// None keeps every server.
func ParseServers(values []string) (*ServerFilter, error) {
	f := &ServerFilter{given: values, hits: make([]atomic.Int64, len(values))}
	for i, s := range values {
		a, ap, err := parseServer(s)
		if err != nil {
			return nil, err
		}
		if a.IsValid() {
			f.addrs, f.addrIdx = append(f.addrs, a), append(f.addrIdx, i)
		} else {
			f.ports, f.portIdx = append(f.ports, ap), append(f.portIdx, i)
		}
	}
	return f, nil
}

func (f *ServerFilter) empty() bool {
	return f == nil || len(f.addrs) == 0 && len(f.ports) == 0
}

// match reports whether server (the SYN's destination or the reply's
// source) is one of the servers asked for.
func (f *ServerFilter) match(server netip.AddrPort) bool {
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

// Unmatched lists the --server values that matched no segment.
func (f *ServerFilter) Unmatched() []string {
	if f == nil {
		return nil
	}
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
	input int
	src   Source
	// in, when set, is the file src is opened from when the merger
	// starts the stage, and first its first record's timestamp.
	in      *FileInput
	first   int64
	bpf     *capture.Filter // nil: no -f
	servers *ServerFilter
	// flows hashes each event's flow for the run's tracker, off its
	// goroutine.
	flows analyze.FlowHasher
	// evidence copies the frames of events for an evidence file, but for
	// servers in evidenceDone, whose share of evidence is written already.
	evidence     bool
	evidenceDone *serverSet
	stats        SourceStats
	// out carries the batches, depth of them at most; a file's stage
	// has it from start until the merger has seen it closed.
	out   chan batch
	depth int
	// eager sends the events it holds whenever the source has no frame
	// waiting, instead of in full batches: a live capture's tracker must
	// see a SYN when it arrives, not 256 SYNs later. A source that cannot
	// tell (no Buffered method, or libpcap's) gets each event sent at once.
	eager bool
	// fragSYNs are the SYNs in the batch being filled that came as the
	// first fragment of an IPv4 datagram: the datagram's last fragment,
	// if it comes before the batch goes, gives their whole data length.
	fragSYNs []fragSYN
	// quit, closed, ends the stage at its next send: the run stopped
	// before the end of its input.
	quit <-chan struct{}
	// free returns batches' event slices from the merger for reuse, so
	// that steady state allocates nothing. The merger sets it before it
	// starts the stage, or run makes it before its first send on out (and
	// the merger uses it only after receiving from out).
	free chan []event
	// finished, when set, hears the stage's input number once it has
	// read its input to the end (or stopped): the merger then starts the
	// next file ahead, before it has merged this one's batches.
	finished chan<- int
	// deliver, when set, takes each batch on the stage's own goroutine
	// instead of out; false ends the stage. See inlineLive.
	deliver func(batch) bool
}

// fragSYN is a fragmented SYN waiting for its datagram's last fragment.
type fragSYN struct {
	datagram [10]byte
	event    int // index in the batch being filled
	first    int // IP payload length of the first fragment
}

// maxFragSYNs bounds the fragmented SYNs a batch waits on: fragments of a
// datagram come back to back.
const maxFragSYNs = 8

// fragmentedSYN notes a SYN event just added from a first fragment.
func (s *stage) fragmentedSYN(f *capture.Frame, b *batch) {
	if len(s.fragSYNs) == maxFragSYNs {
		return
	}
	if fr, ok := analyze.FragmentOf(f.LinkType, f.Data); ok && fr.Offset == 0 && fr.More {
		s.fragSYNs = append(s.fragSYNs, fragSYN{fr.Datagram, len(b.events) - 1, fr.Len})
	}
}

// lastFragment completes the data length of a waiting SYN from the last
// fragment of its datagram: the datagram's payload ends where this
// fragment's does, and the SYN's TCP header is what its first fragment
// held beyond its data.
func (s *stage) lastFragment(f *capture.Frame, b *batch) {
	fr, ok := analyze.FragmentOf(f.LinkType, f.Data)
	if !ok || fr.More {
		return
	}
	for i, p := range s.fragSYNs {
		if p.datagram != fr.Datagram {
			continue
		}
		seg := &b.events[p.event].seg
		header := p.first - seg.DataLen
		if total := fr.Offset + fr.Len; total >= p.first {
			seg.DataLen, seg.Fragmented = total-header, false
			s.stats.completed++
		}
		s.fragSYNs = slices.Delete(s.fragSYNs, i, i+1)
		return
	}
}

// send hands b to the merger; false when the run has stopped.
func (s *stage) send(b batch) bool {
	if s.deliver != nil {
		return s.deliver(b)
	}
	// First without waiting: a select of two cases locks both channels,
	// 9% of a libpcap live capture's CPU, whose batches are one event.
	select {
	case s.out <- b:
		return true
	default:
	}
	select {
	case s.out <- b:
		return true
	case <-s.quit:
		return false
	}
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

// openFailure is the only batch of a stage whose file could not be
// opened at its turn.
type openFailure struct{ err error }

func (o *openFailure) Error() string { return o.err.Error() }

// start starts reading on the stage's own goroutine, which also opens its
// file: opening reads the file's first 256 KB, which would otherwise be
// done on the tracker's goroutine, once per rotation file.
func (s *stage) start() {
	if s.out == nil {
		s.out = make(chan batch, s.depth)
	}
	go s.run()
}

func (s *stage) run() {
	defer close(s.out)
	var b batch // the batch being filled
	if s.finished != nil {
		defer func() { s.finished <- s.input }()
	}
	if s.in != nil {
		r, err := s.in.open()
		if err != nil {
			s.send(batch{err: &openFailure{err}})
			return
		}
		s.src = r
		// Before out is closed, so that the merger sees the file's info
		// once it has seen the end of the stage. The reader goes, with
		// its buffer (256 KB a file).
		defer func() { s.in.finish(); s.src = nil }()
	}
	var f capture.Frame
	size := batchSize
	// waiting tells an eager stage whether to hold its events for the
	// frames the source already has.
	waiting := func() bool { return false }
	if b, ok := s.src.(bufferedSource); ok {
		waiting = b.Buffered
	}
	// Batches in flight: the channel's, the one filling, the merger's head
	// and the one it has just finished. The merger may have given the
	// stage a pool shared with other stages instead.
	if s.free == nil {
		s.free = make(chan []event, cap(s.out)+3)
	}
	b = s.newBatch(size)
	copied := 0 // bytes of frame copies in b
	s.stats.clock.ahead = !s.eager
	for {
		if s.eager && len(b.events) > 0 && !waiting() {
			if !s.send(b) {
				return
			}
			b, copied = s.newBatch(size), 0
			s.fragSYNs = s.fragSYNs[:0]
		}
		err := s.src.Next(&f)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				b.err = err
			}
			s.send(b)
			return
		}
		s.stats.frames++
		s.stats.clock.observe(f.Time, f.Number)
		if s.bpf != nil {
			ok, err := s.bpf.Match(&f)
			if err != nil {
				b.err = &filterError{err}
				s.send(b)
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
		// Decoded into the batch's next slot, which becomes the event if
		// the segment is one: an event built aside and appended was
		// copied twice (168 bytes each time).
		ev := b.next()
		seg := &ev.seg
		st := analyze.Decode(f.LinkType, f.Data, f.OrigLen, seg)
		s.stats.status[st]++
		if st == analyze.DecodedTCP && seg.Fragmented {
			s.stats.firstFragments++
		}
		if st == analyze.Fragment && len(s.fragSYNs) > 0 {
			s.lastFragment(&f, &b)
		}
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
		s.flows.Hash(seg)
		ev.ref = analyze.PacketRef{Input: s.input, Frame: f.Number, Interface: linkInterface(&f), Time: f.Time}
		ev.raw = nil
		if s.evidence && !s.evidenceDone.has(server) {
			ev.raw = b.keep(&f)
			copied += len(f.Data)
		}
		// The slot becomes an event only now that it is whole.
		b.events = b.events[:len(b.events)+1]
		if seg.Fragmented && seg.IsSYN() {
			s.fragmentedSYN(&f, &b)
		}
		if len(b.events) == size || copied >= maxBatchCopies {
			if !s.send(b) {
				return
			}
			b, copied = s.newBatch(size), 0
			s.fragSYNs = s.fragSYNs[:0]
		}
	}
}

// bufferedSource is a live source that can tell a frame is waiting
// (capture.Live through AF_PACKET), so that its stage may batch a burst.
type bufferedSource interface {
	Buffered() bool
}

// maxBatchCopies bounds the bytes of frames a batch carries for evidence,
// so that the batches in flight stay small whatever the frames' size: 256
// copies of 64 KB SYNs would be 16 MB a batch, 300 MB over the queue.
const maxBatchCopies = 256 << 10

// linkInterface tells apart the interfaces a frame may have been captured
// on: the pcapng section and interface and, within it, the interface a
// cooked-v2 header names.
func linkInterface(f *capture.Frame) int64 {
	idx, _ := analyze.LinkInterface(f.LinkType, f.Data)
	return analyze.PackInterface(f.Section, f.Interface, idx)
}

// merger hands out events from several stages in timestamp order: a k-way
// merge over each stage's stream, which is in file order, with a min-heap
// of the stages' head events, so each event costs O(log k) however many
// inputs there are. Stages start lazily, in the order of their first
// timestamps: one is started when the merge reaches its first timestamp
// (or ties it), and the next in line meanwhile whenever fewer than
// minRunning are reading, so that the following rotation file is read on
// the other core. Rotations (tcpdump -C, -G) follow each other in time, so
// only two or three of hundreds are open at once.
type merger struct {
	stages []*stage
	heads  []batch
	pos    []int
	done   []bool
	errs   []error
	// err is the first input that could not be opened at its turn; the
	// merge stops there.
	err error
	// waiting lists the stages not started yet, earliest first, and
	// ahead those started before the merge needs them, earliest first.
	waiting []int
	ahead   []int
	started []bool
	// reading counts the started stages still reading their input; the
	// stages tell on finished when they are done.
	reading  int
	finished chan int
	// ready is a min-heap of started stages that have an unread head
	// event, ordered by (head time, stage index): ties go to the earlier
	// input, as the inputs were given.
	ready []int
	// spent are head batches read to the end. The event next returned
	// last may point into one, so they go back to their stage's free list
	// only at the following call.
	spent []spentBatch
}

// minRunning is how many stages read at once even before the merge needs
// the later one: one for the merge, one ahead on the other core.
const minRunning = 2

// maxAhead bounds the files read ahead of the merge. A file read to the
// end keeps only its batches (its reader and buffer go), so the stage
// after it may start at once: rotation files of one batch each (tcpdump
// -C 1 of a busy link) otherwise left the tracker waiting for every next
// file, one being read at a time.
const maxAhead = 8

type spentBatch struct {
	stage  int
	events []event
}

// newMerger merges the stages, which it starts as they are needed.
func newMerger(stages []*stage) *merger {
	m := &merger{
		stages:  stages,
		heads:   make([]batch, len(stages)),
		pos:     make([]int, len(stages)),
		done:    make([]bool, len(stages)),
		started: make([]bool, len(stages)),
		errs:    make([]error, len(stages)),
		waiting: make([]int, len(stages)),
		ready:   make([]int, 0, len(stages)),
		// Every stage tells once, so sends never block.
		finished: make(chan int, len(stages)),
	}
	// The stages share one pool of batches, as large as the ones started
	// at once need: finished inputs leave no batches behind, and the next
	// one reuses them (300 rotations: 90 MB of batches allocated and
	// dropped otherwise). The files read ahead count too: with room for
	// only three stages' batches, 1000 rotations still dropped 8.8 MB of
	// them. The pool's size costs nothing by itself (24 bytes a slot):
	// only batches in flight exist.
	depth := 0
	for _, s := range stages {
		depth = max(depth, s.depth)
	}
	free := make(chan []event, (depth+3)*(minRunning+maxAhead))
	for i, s := range stages {
		m.waiting[i] = i
		s.free = free
		s.finished = m.finished
	}
	sort.SliceStable(m.waiting, func(a, b int) bool {
		return stages[m.waiting[a]].first < stages[m.waiting[b]].first
	})
	return m
}

// admit merges in the stages the merge needs now: all whose first
// timestamp is not after the next event. It starts more while fewer than
// minRunning read, but merges those in (waits for their first batch) only
// at their turn, so that the tracker never waits for a file read ahead.
func (m *merger) admit() {
	for {
		var i int
		switch {
		case len(m.ahead) > 0:
			i = m.ahead[0]
		case len(m.waiting) > 0:
			i = m.waiting[0]
		default:
			return
		}
		if len(m.ready) == 0 || m.stages[i].first <= m.headTime(m.ready[0]) {
			if len(m.ahead) > 0 {
				m.ahead = m.ahead[1:]
			} else {
				m.waiting = m.waiting[1:]
				m.start(i)
			}
			m.mergeIn(i)
			continue
		}
		if len(m.waiting) == 0 || len(m.ahead) >= maxAhead || !m.roomToRead() {
			return
		}
		m.start(m.waiting[0])
		m.ahead = append(m.ahead, m.waiting[0])
		m.waiting = m.waiting[1:]
	}
}

func (m *merger) start(i int) {
	m.stages[i].start()
	m.reading++
	m.started[i] = true
}

// roomToRead reports whether fewer than minRunning stages are reading,
// after counting those that have finished since it last looked.
func (m *merger) roomToRead() bool {
	for m.reading >= minRunning {
		select {
		case <-m.finished:
			m.reading--
		default:
			return false
		}
	}
	return true
}

// mergeIn waits for stage i's first batch and adds the stage to the heap.
func (m *merger) mergeIn(i int) {
	m.fill(i)
	if !m.done[i] && m.err == nil {
		m.push(i)
	}
}

// fill makes sure stage i's head batch has an unread event, or marks the
// stage done.
func (m *merger) fill(i int) {
	for !m.done[i] && m.pos[i] >= len(m.heads[i].events) {
		b, ok := <-m.stages[i].out
		// The event next returns last may still point into the head:
		// it goes back to the pool only at the following call, even
		// when it is the stage's last (one per rotation file, 40 KB
		// each, was garbage otherwise).
		if m.heads[i].events != nil {
			m.spent = append(m.spent, spentBatch{i, m.heads[i].events})
		}
		if !ok {
			m.done[i] = true
			m.heads[i] = batch{}
			m.stages[i].out = nil // closed: its buffer can go
			return
		}
		if of, ok := b.err.(*openFailure); ok {
			// The merge stops here, with what came before.
			m.err, m.waiting, m.ahead, m.ready = of.err, nil, nil, nil
			return
		}
		if b.err != nil {
			m.errs[i] = b.err
		}
		m.heads[i], m.pos[i] = b, 0
	}
}

// next returns the earliest pending event, as a slice of one, or nil when
// all stages are done (or one could not be opened: see err).
func (m *merger) next() []event {
	for _, sb := range m.spent {
		select {
		case m.stages[sb.stage].free <- sb.events:
		default: // full: let the garbage collector have it
		}
	}
	m.spent = m.spent[:0]
	m.admit()
	if len(m.ready) == 0 {
		return nil
	}
	best := m.ready[0]
	ev := m.heads[best].events[m.pos[best] : m.pos[best]+1]
	m.pos[best]++
	m.fill(best)
	if m.done[best] {
		last := len(m.ready) - 1
		m.ready[0] = m.ready[last]
		m.ready = m.ready[:last]
	}
	m.down(0)
	return ev
}

// drain waits for the started stages to end, dropping what they send,
// once their quit channel is closed: their inputs are closed then, and
// their stats final.
func (m *merger) drain() {
	for i, s := range m.stages {
		if m.started[i] && !m.done[i] {
			for range s.out {
			}
			m.done[i] = true
		}
	}
	m.waiting, m.ahead, m.ready = nil, nil, nil
}

func (m *merger) headTime(i int) int64 { return m.heads[i].events[m.pos[i]].ref.Time }

// before orders the heap: earlier head event first, then earlier input.
func (m *merger) before(a, b int) bool {
	ta, tb := m.headTime(a), m.headTime(b)
	return ta < tb || ta == tb && a < b
}

func (m *merger) push(i int) {
	m.ready = append(m.ready, i)
	for j := len(m.ready) - 1; j > 0; {
		parent := (j - 1) / 2
		if !m.before(m.ready[j], m.ready[parent]) {
			break
		}
		m.ready[j], m.ready[parent] = m.ready[parent], m.ready[j]
		j = parent
	}
}

func (m *merger) down(j int) {
	n := len(m.ready)
	for {
		least := j
		for _, c := range [2]int{2*j + 1, 2*j + 2} {
			if c < n && m.before(m.ready[c], m.ready[least]) {
				least = c
			}
		}
		if least == j {
			return
		}
		m.ready[j], m.ready[least] = m.ready[least], m.ready[j]
		j = least
	}
}
