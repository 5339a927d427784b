package engine

import (
	"container/heap"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
)

// DefaultEvidenceMax is how many attempts per server --evidence writes
// unless --evidence-max says otherwise: enough to show a server's
// behaviour and its repetition, small enough that a capture of a million
// failing attempts gives a file one can open.
const DefaultEvidenceMax = 20

// Evidence writes the packets that prove chosen outcomes: the SYNs, their
// retransmissions and the replies of every attempt whose outcome is in the
// set, with original bytes, timestamps and link types, at most perServer
// attempts per server. Frames are held only while their attempt is open,
// then while they wait for their turn in a small reorder window: attempts
// end out of order (an unanswered one is judged minutes after its SYN), and
// readers of a capture file expect its records in time order. So memory
// follows the attempts open at once, not the length of the capture.
type Evidence struct {
	path      string
	outcomes  []analyze.Outcome
	perServer int // 0: no limit

	file *os.File
	out  capture.FrameWriter
	err  error // the first write error; every later write is skipped

	pending      map[uint64][]capture.OwnedFrame
	pendingBytes int
	pendingMax   int // budget of pendingBytes: maxPendingBytes
	// evicted are open attempts whose frames went to keep pendingBytes
	// within budget; judged, they count as left out.
	evicted map[uint64]struct{}
	// opened lists pending attempts in the order their first frame came,
	// which is time order: its first entry still pending bounds the time
	// of every frame an open attempt may yet hand over.
	opened []openedAttempt
	// loose holds the last frames that joined no attempt when they came:
	// a reply the tracker parks until its SYN arrives is found here.
	loose     map[frameID]capture.OwnedFrame
	looseFIFO []frameID

	ready      frameHeap // frames of kept attempts, earliest first
	readyBytes int
	now        int64 // latest frame time seen
	lastOut    int64 // time of the last frame written

	written    map[netip.AddrPort]int // attempts written per server
	done       *serverSet             // servers with perServer attempts written
	attempts   int                    // attempts written
	frames     int                    // frames written
	leftOut    int                    // attempts beyond perServer
	overBudget int                    // attempts evicted for the pending budget
	capped     int                    // servers with attempts left out
	disordered int                    // frames written before an earlier one
}

type openedAttempt struct {
	id   uint64
	time int64
}

// frameID names a frame across inputs.
type frameID struct{ input, frame int }

const (
	// maxLoose bounds the frames kept for replies that came before their SYN.
	maxLoose = 4096
	// maxReorderBytes bounds the frames waiting in the reorder window; past
	// it the earliest goes out even if an open attempt might still hand
	// over an earlier one.
	maxReorderBytes = 8 << 20
	// maxPendingBytes bounds the frames held for attempts not yet judged.
	// The tracker bounds open attempts (analyze.DefaultMaxOpen), but not
	// their size: sixteen thousand 64 KB SYNs would be a gigabyte.
	maxPendingBytes = 32 << 20
)

// NewEvidence writes evidence to f, the file at path, which the caller
// creates before any input is read, so that a path that cannot be written
// fails at once. A non-zero linkType makes it a pcap of that link type
// (frames of any other are an error); zero makes it pcapng, with an
// interface per link type. The engine closes f.
func NewEvidence(f *os.File, path string, outcomes []analyze.Outcome, perServer int, linkType uint16, snaplen int) (*Evidence, error) {
	var err error
	e := &Evidence{path: path, outcomes: outcomes, perServer: perServer, file: f,
		pending: map[uint64][]capture.OwnedFrame{}, pendingMax: maxPendingBytes, evicted: map[uint64]struct{}{}, loose: map[frameID]capture.OwnedFrame{},
		written: map[netip.AddrPort]int{}, done: &serverSet{m: map[netip.AddrPort]struct{}{}}}
	if linkType != 0 {
		e.out, err = capture.NewPcapWriter(f, linkType, snaplen)
	} else {
		e.out, err = capture.NewNgWriter(f)
	}
	if err != nil {
		f.Close()
		return nil, e.wrap(err)
	}
	return e, nil
}

func (e *Evidence) wrap(err error) error {
	return fmt.Errorf("--evidence %s: %w", capture.DisplayName(e.path), capture.RootCause(err))
}

// failed returns the write error that ended the evidence file, if any.
func (e *Evidence) failed() error {
	if e.err != nil {
		return e.wrap(e.err)
	}
	return nil
}

// add files a frame under the attempt it joined; one that joined none is
// kept a while in case the tracker matches it later (a reply that came
// before its SYN). server is the segment's server side. f is copied: the
// caller may reuse it. It is nil when the stage made no copy.
func (e *Evidence) add(id uint64, server netip.AddrPort, ref analyze.PacketRef, f *capture.OwnedFrame) {
	e.now = max(e.now, ref.Time)
	if f == nil || f.Data == nil {
		return // not copied: its server is done
	}
	switch {
	case id != 0:
		if _, gone := e.evicted[id]; gone || e.full(server) {
			break // its frames could not be written anyway
		}
		if _, ok := e.pending[id]; !ok {
			e.opened = append(e.opened, openedAttempt{id, ref.Time})
		}
		e.pending[id] = append(e.pending[id], *f)
		e.pendingBytes += len(f.Data)
		e.evictPending()
	default:
		if len(e.looseFIFO) >= maxLoose {
			delete(e.loose, e.looseFIFO[0])
			e.looseFIFO = e.looseFIFO[1:]
		}
		fid := frameID{ref.Input, ref.Frame}
		e.loose[fid] = *f
		e.looseFIFO = append(e.looseFIFO, fid)
	}
	e.drain(false)
}

// doneServers returns the servers whose frames the evidence no longer
// needs (nil without evidence): stages need not copy them.
func (e *Evidence) doneServers() *serverSet {
	if e == nil {
		return nil
	}
	return e.done
}

// serverSet is a set of servers that one goroutine adds to while others
// look up: the evidence's finished servers, which every input's stage
// checks before it copies a frame. After a server's first attempts, a
// million more of its frames then cost a lookup each instead of a copy
// and the garbage collection it brings (2^20 omitted attempts: 58 -> 38 MiB
// RSS).
type serverSet struct {
	mu sync.RWMutex
	m  map[netip.AddrPort]struct{}
}

// has reports whether ap is in the set; a nil set is empty.
func (s *serverSet) has(ap netip.AddrPort) bool {
	if s == nil {
		return false
	}
	s.mu.RLock()
	_, ok := s.m[ap]
	s.mu.RUnlock()
	return ok
}

func (s *serverSet) add(ap netip.AddrPort) {
	s.mu.Lock()
	s.m[ap] = struct{}{}
	s.mu.Unlock()
}

// serverSide is the server's end of a segment: a SYN's destination, a
// reply's source.
func serverSide(seg *analyze.Segment) netip.AddrPort {
	if seg.IsSYN() {
		return seg.Dst
	}
	return seg.Src
}

// full reports whether server has its share of attempts written.
func (e *Evidence) full(server netip.AddrPort) bool {
	return e.perServer > 0 && e.written[server] >= e.perServer
}

// finalised keeps or drops an attempt's frames once its outcome is known.
func (e *Evidence) finalised(a *analyze.Attempt) {
	frames := e.pending[a.ID]
	delete(e.pending, a.ID)
	for _, f := range frames {
		e.pendingBytes -= len(f.Data)
	}
	_, evicted := e.evicted[a.ID]
	delete(e.evicted, a.ID)
	if a.Answered() {
		// A reply parked until its SYN came joined no attempt when read.
		fid := frameID{a.Reply.Input, a.Reply.Frame}
		if f, ok := e.loose[fid]; ok {
			delete(e.loose, fid)
			frames = append(frames, f)
		}
	}
	if !slices.Contains(e.outcomes, a.Outcome) {
		return
	}
	if evicted {
		e.overBudget++
		return
	}
	if e.full(a.Server) {
		if e.leftOut++; e.written[a.Server] == e.perServer {
			e.capped++
			e.written[a.Server]++ // count each server once
		}
		return
	}
	if e.written[a.Server]++; e.full(a.Server) {
		e.done.add(a.Server)
	}
	e.attempts++
	for _, f := range frames {
		heap.Push(&e.ready, f)
		e.readyBytes += len(f.Data)
	}
	e.drain(false)
}

// evictPending drops the frames of the attempts open longest until the
// rest fit the budget: better a proof without some attempts than memory
// that grows with the size of SYNs.
func (e *Evidence) evictPending() {
	for e.pendingBytes > e.pendingMax && len(e.opened) > 0 {
		id := e.opened[0].id
		e.opened = e.opened[1:]
		frames, open := e.pending[id]
		if !open {
			continue
		}
		for _, f := range frames {
			e.pendingBytes -= len(f.Data)
		}
		delete(e.pending, id)
		e.evicted[id] = struct{}{}
	}
}

// watermark is the time before which no frame can still join the reorder
// window, but for late replies parked before their SYN.
func (e *Evidence) watermark() int64 {
	for len(e.opened) > 0 {
		if _, open := e.pending[e.opened[0].id]; open {
			return min(e.now, e.opened[0].time)
		}
		e.opened = e.opened[1:]
	}
	return e.now
}

// drain writes the frames whose turn has come: all of them at the end.
func (e *Evidence) drain(all bool) {
	if len(e.ready) == 0 {
		return
	}
	mark := e.watermark()
	for len(e.ready) > 0 && (all || e.ready[0].Time <= mark || e.readyBytes > maxReorderBytes) {
		f := heap.Pop(&e.ready).(capture.OwnedFrame)
		e.readyBytes -= len(f.Data)
		if e.err != nil {
			continue
		}
		if f.Time < e.lastOut {
			e.disordered++
		}
		e.lastOut = max(e.lastOut, f.Time)
		if e.err = e.out.Write(&f.Frame); e.err == nil {
			e.frames++
		}
	}
}

// close writes what is left, closes the file and returns the warnings the
// report carries about it.
func (e *Evidence) close() ([]string, error) {
	e.drain(true)
	err := e.err
	if err == nil {
		err = e.out.Flush()
	}
	if cerr := e.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, e.wrap(err)
	}
	var w []string
	if e.leftOut > 0 {
		w = append(w, fmt.Sprintf("--evidence %s holds the first %d %s attempt(s) of each server: %d more of %d server(s) left out (raise --evidence-max; 0 keeps all)",
			capture.DisplayName(e.path), e.perServer, e.outcomeNames(), e.leftOut, e.capped))
	}
	if e.overBudget > 0 {
		w = append(w, fmt.Sprintf("--evidence %s: %d %s attempt(s) left out: their frames, with those of other attempts open at the same time, outgrew the %d MiB held for attempts not yet judged",
			capture.DisplayName(e.path), e.overBudget, e.outcomeNames(), e.pendingMax>>20))
	}
	if e.disordered > 0 {
		w = append(w, fmt.Sprintf("--evidence %s: %d frame(s) written after a later one (a reply that came long before its SYN, or more than %d MiB of frames waiting for an attempt still open)",
			capture.DisplayName(e.path), e.disordered, maxReorderBytes>>20))
	}
	return w, nil
}

func (e *Evidence) outcomeNames() string {
	names := make([]string, len(e.outcomes))
	for i, o := range e.outcomes {
		names[i] = o.String()
	}
	return strings.Join(names, "/")
}

// frameHeap orders frames by time, then by arrival (heap.Push order is not
// kept by the heap itself, so ties compare input and frame number).
type frameHeap []capture.OwnedFrame

func (h frameHeap) Len() int { return len(h) }
func (h frameHeap) Less(i, j int) bool {
	if h[i].Time != h[j].Time {
		return h[i].Time < h[j].Time
	}
	return h[i].Number < h[j].Number
}
func (h frameHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *frameHeap) Push(x any)   { *h = append(*h, x.(capture.OwnedFrame)) }
func (h *frameHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	old[len(old)-1] = capture.OwnedFrame{}
	*h = old[:len(old)-1]
	return f
}
