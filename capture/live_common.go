package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tfopcap/tfopcap/internal/caps"
)

// Errors OpenLive wraps, for errors.Is. The error's text is one line that
// says what to do.
var (
	// ErrPermission: the process may not capture (it lacks CAP_NET_RAW).
	ErrPermission = errors.New("no permission to capture")
	// ErrNoSuchInterface: the interface does not exist (in this network
	// namespace); the message lists the ones that do.
	ErrNoSuchInterface = errors.New("no such interface")
	// ErrInterfaceDown: the interface exists but is administratively down.
	ErrInterfaceDown = errors.New("interface is down")
)

// Capture backends a LiveConfig may ask for.
const (
	// BackendAuto is AF_PACKET on Linux, libpcap elsewhere, and libpcap
	// for the -f filters AF_PACKET cannot run (see ringFilters).
	BackendAuto = "auto"
	// BackendAFPacket is the pure-Go TPACKET_V3 ring (Linux only).
	BackendAFPacket = "afpacket"
	// BackendPcap is libpcap (builds with cgo only).
	BackendPcap = "pcap"
)

// Backends lists the values LiveConfig.Backend takes.
var Backends = []string{BackendAuto, BackendAFPacket, BackendPcap}

// LiveConfig says what OpenLive opens and how.
type LiveConfig struct {
	Interface  string // interface name, or "any" for all of them (Linux)
	Snaplen    int    // bytes kept of each packet; 0: DefaultSnaplen
	BufferSize int    // kernel ring in bytes; 0: DefaultBufferSize
	Promisc    bool   // promiscuous mode (ignored for "any", which has none)
	// Filter is a tcpdump expression ANDed with the SYN/RST kernel filter
	// (see LiveFilter); "" adds nothing. Only libpcap compiles one.
	Filter string
	// Backend is one of Backends; "" is BackendAuto.
	Backend string
}

// LiveStats are the kernel's counters (libpcap's pcap_stats, or
// PACKET_STATISTICS) plus the frames handed out.
type LiveStats struct {
	// Received counts packets that passed the kernel filter, including
	// those then dropped (Linux: tp_packets). On loopback the kernel
	// shows each packet twice, going out and coming in, and one copy is
	// discarded: there Received is twice the frames captured.
	Received int
	// Dropped counts packets the kernel dropped for want of buffer space
	// (Linux: tp_drops): raise the buffer size.
	Dropped int
	// IfDropped counts packets the interface or its driver dropped, where
	// libpcap can tell (0 for "any" and for AF_PACKET).
	IfDropped int
	// Captured counts frames Next has returned.
	Captured int
}

// Interface is a network interface one can capture on.
type Interface struct {
	Name        string
	Description string
	Addrs       []netip.Prefix
	Up          bool // administratively up
	Running     bool // operationally up (carrier)
	Loopback    bool
}

// packetSource is a backend's kernel capture, read by Live.
type packetSource interface {
	// read returns the next frame with its length on the wire and its
	// time (Unix ns). The frame is the source's own memory (a copy, or
	// AF_PACKET's ring, which close then leaves mapped for the reader to
	// unmap), valid until the next read, also after close: a Close from
	// another goroutine (a second Ctrl-C) must not free the bytes a
	// caller is still decoding.
	// It returns errTimeout when nothing came within liveReadTimeout and
	// io.EOF once closed.
	read() (frame []byte, wireLen int, t int64, err error)
	// counters returns the kernel's counters since the capture opened
	// (Received, Dropped, IfDropped).
	counters() (LiveStats, error)
	// close releases the capture; a read in progress returns io.EOF.
	close()
	// buffered reports whether a frame is waiting, so that a reader may
	// batch them (see Live.Buffered); false if the backend cannot tell.
	// A method of every backend rather than a type assertion in Buffered,
	// which is called once or twice a frame (the assertion's itab lookup
	// was 0.2-0.5% of a replay's samples).
	buffered() bool
}

// awaiter is a packetSource that can also wait for a frame with a
// deadline (see Live.Await).
type awaiter interface {
	// await waits up to d for a frame; true when one is waiting or
	// read has an error to return.
	await(d time.Duration) bool
}

// errTimeout is a packetSource's read finding nothing in time.
var errTimeout = errors.New("read timeout")

// Live captures from a network interface with a kernel filter that passes
// only TCP SYN and RST segments. Make one with OpenLive.
//
// One goroutine calls Next; Stop, Stats and Close may be called from any
// goroutine. Frame.Data from Next is the Live's own memory, valid until the
// next call to Next, also when Close is called meanwhile: libpcap's frames
// are copied out of its ring, which Close frees; AF_PACKET's are lent
// from the ring, which Close leaves mapped while the reader holds a block
// (the reader unmaps it at its next call).
type Live struct {
	src      packetSource
	backend  string
	name     string
	linkType uint16 // LINKTYPE_* of the frames
	snaplen  int
	filter   string

	// Set by Stop: Next drains what is pending, then ends.
	stopping atomic.Bool
	stopAt   atomic.Int64 // UnixNano deadline of the drain

	// owned by the goroutine calling Next
	number      int
	first, last int64
	save        *PcapWriter
	ended       bool
	polled      int64 // UnixNano of the last counters refresh

	mu     sync.Mutex // guards src's lifetime against Stats, and stats
	closed bool
	stats  LiveStats
}

// liveReadTimeout bounds how long a read waits before Next looks at Stop
// and refreshes the counters.
const liveReadTimeout = 100 * time.Millisecond

// blockTimeout is how long the kernel holds a ring block that is not full
// before it hands the block over: how late a lone SYN reaches the tracker.
// Both backends use TPACKET_V3 blocks; libpcap takes its read timeout for
// it.
const blockTimeout = 10 * time.Millisecond

// FrameDelay bounds how long a captured frame waits in the kernel before
// a read can return it: its ring block is handed over when full or when
// blockTimeout has passed, which the kernel's timer may overrun by a
// tick or two (4 ms at HZ=250). A live clock reading now has seen every
// frame captured before now - FrameDelay once no frame is waiting.
const FrameDelay = 2 * blockTimeout

// drainSettle is how long after Stop a read that finds nothing ends the
// capture: long enough for the kernel to hand over the block that held
// the last packets.
const drainSettle = 3 * blockTimeout

// stopDrain bounds how long Next goes on returning packets after Stop when
// they keep coming.
const stopDrain = 500 * time.Millisecond

// statsEvery is how often Next refreshes the counters Stats returns.
const statsEvery = 200 * time.Millisecond

// OpenLive opens cfg.Interface for capture through the backend cfg asks
// for: the snap length and buffer size asked for, and the kernel filter
// LiveFilter describes for the interface's link type. For "any" the frames
// are Linux cooked v2 (as tcpdump's), which name the interface of each
// packet.
func OpenLive(cfg LiveConfig) (*Live, error) {
	name := cfg.Interface
	if name == "" {
		return nil, errors.New("no interface given")
	}
	if cfg.Snaplen <= 0 {
		cfg.Snaplen = DefaultSnaplen
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = DefaultBufferSize
	}
	backend, err := chooseBackend(cfg.Backend, cfg.Filter)
	if err != nil {
		return nil, err
	}
	if err := checkInterface(name); err != nil {
		return nil, err
	}
	open := openPcap
	if backend == BackendAFPacket {
		open = openAFPacket
	}
	l, err := open(cfg)
	if errors.Is(err, errRingCannotFilter) && cfg.Backend != BackendAFPacket {
		// auto with -f on a cooked interface
		backend = BackendPcap
		l, err = openPcap(cfg)
	}
	if err != nil {
		return nil, err
	}
	l.backend = backend
	return l, nil
}

// chooseBackend resolves BackendAuto and checks that the backend can
// serve the request in this build.
func chooseBackend(backend, filter string) (string, error) {
	switch backend {
	case "", BackendAuto:
		if afpacketBuilt && (filter == "" || ringFilters(filter)) {
			backend = BackendAFPacket
		} else {
			backend = BackendPcap
		}
	case BackendAFPacket, BackendPcap:
	default:
		return "", fmt.Errorf("unknown capture backend %q (want one of %s)", backend, strings.Join(Backends, ", "))
	}
	switch {
	case filter != "" && !pcapBuilt:
		return "", errFilterNeedsLibpcap
	case backend == BackendPcap && !pcapBuilt:
		return "", errNoLibpcap
	case backend == BackendAFPacket && !afpacketBuilt:
		return "", errors.New("the afpacket capture backend is Linux-only")
	case backend == BackendAFPacket && filter != "" && !ringFilters(filter):
		return "", errRingCannotFilter
	}
	return backend, nil
}

// ringFilters reports whether the AF_PACKET backend can run the -f
// expression: libpcap compiles it (so only with cgo), but not one that
// names an encapsulation (vlan, mpls, ...). libpcap's live Linux handle
// tests VLAN tags the driver took off through the kernel's ancillary
// data; its compiler without a handle looks for them in the frame, where
// they no longer are.
func ringFilters(filter string) bool {
	return pcapBuilt && !encapsulation().MatchString(filter)
}

// errRingCannotFilter is AF_PACKET asked for a -f it cannot run: one
// naming an encapsulation, or one for a cooked capture ("any"), whose
// filter libpcap rewrites for the kernel in ways only it knows.
var errRingCannotFilter = errors.New("this -f filter needs the pcap capture backend " +
	"(with vlan, mpls, pppoe, geneve or vxlan, or on \"any\" and other cooked interfaces)")

// errNoLibpcap is what the pcap backend and filters say in a build without
// cgo: reading capture files needs no C, but these need libpcap.
var errNoLibpcap = errors.New("filters (-f) and the pcap capture backend need libpcap, and this tfopcap " +
	"was built without cgo: install gcc and libpcap-dev, then build it again")

// errFilterNeedsLibpcap is what -f says in a build without libpcap.
var errFilterNeedsLibpcap = errors.New("-f filters need libpcap, and this tfopcap was built without cgo: " +
	"drop -f (live still captures SYNs and RSTs), or build with gcc and libpcap-dev")

// Name returns the interface name.
func (l *Live) Name() string { return l.name }

// Backend returns the capture backend in use (BackendAFPacket or
// BackendPcap).
func (l *Live) Backend() string { return l.backend }

// LinkType returns the LINKTYPE_ value of the frames.
func (l *Live) LinkType() uint16 { return l.linkType }

// Snaplen returns the snap length in force.
func (l *Live) Snaplen() int { return l.snaplen }

// Filter returns the kernel filter in force, as a tcpdump expression
// (AF_PACKET runs a hand-assembled program that matches the same
// packets).
func (l *Live) Filter() string { return l.filter }

// SaveTo makes Next also write every frame it returns to w as a pcap file
// (nanosecond timestamps, the capture's link type and snap length), so that
// `tfopcap analyze` can read the same packets later. Call it before the
// first Next. Writes are buffered and flushed when Next ends the capture
// and by Close. A failed write ends the capture: Next returns the error,
// which wraps ErrSaveFailed.
func (l *Live) SaveTo(w io.Writer) error {
	pw, err := NewPcapWriter(w, l.linkType, l.snaplen)
	if err != nil {
		return err
	}
	l.save = pw
	return nil
}

// Next fills f with the next captured frame, waiting as long as it takes.
// It returns io.EOF once Stop has been called and the frames the kernel
// still held are read (or after stopDrain if they keep coming), or after
// Close.
func (l *Live) Next(f *Frame) error {
	if l.ended {
		return io.EOF
	}
	for {
		data, wireLen, t, err := l.src.read()
		// A frame's kernel timestamp is the time, near enough, and saves
		// a clock read a packet.
		now := t
		if err != nil {
			now = time.Now().UnixNano()
		}
		if now-l.polled >= int64(statsEvery) {
			l.poll(now)
		}
		if l.stopping.Load() && l.drained(err, now) {
			return l.end(nil)
		}
		switch {
		case err == nil:
		case errors.Is(err, errTimeout):
			continue
		case errors.Is(err, io.EOF):
			// Closed under us.
			return l.end(nil)
		default:
			return l.end(fmt.Errorf("%s: read: %w", l.name, err))
		}
		l.number++
		if l.number == 1 || t < l.first {
			l.first = t
		}
		l.last = max(l.last, t)
		// Field by field: a composite literal is built on the stack and
		// copied in 16-byte loads of 8-byte stores, which stall store
		// forwarding: 10 of the 58 ns a frame in BenchmarkRingNext.
		f.Data = data[:len(data):len(data)]
		f.OrigLen, f.Time, f.LinkType, f.Number = wireLen, t, l.linkType, l.number
		f.Interface, f.Section, f.Offset = 0, 0, 0
		if l.save != nil {
			if err := l.save.Write(f); err != nil {
				return l.end(fmt.Errorf("%w: %w", ErrSaveFailed, err))
			}
		}
		return nil
	}
}

// drained reports whether a capture being stopped may end after a read
// that returned err at now (Unix ns): the kernel held nothing more once
// drainSettle had passed, or stopDrain is over.
func (l *Live) drained(err error, now int64) bool {
	deadline := l.stopAt.Load()
	if now > deadline {
		return true
	}
	settled := now >= deadline-int64(stopDrain-drainSettle)
	return err != nil && (settled || !errors.Is(err, errTimeout))
}

// Buffered reports whether Next would return a frame without waiting, as
// far as the backend can tell (AF_PACKET can; libpcap cannot, and says
// false). A reader handing frames on in batches sends what it holds when
// this is false.
func (l *Live) Buffered() bool {
	return !l.ended && !l.stopping.Load() && l.src.buffered()
}

// Awaits reports whether Await can wait for a frame: AF_PACKET can,
// libpcap cannot.
func (l *Live) Awaits() bool {
	_, ok := l.src.(awaiter)
	return ok
}

// Await waits up to d for a frame and reports whether Next would return
// without waiting: a frame, or the end of the capture or an error. Call
// it from the goroutine that calls Next; a reader that waits here can
// do other work at a deadline (a live run's clock ticks) without a
// second goroutine handing it the frames. Without Awaits, and once
// stopped, it returns true at once: Next then waits as it always does.
func (l *Live) Await(d time.Duration) bool {
	a, ok := l.src.(awaiter)
	if !ok || l.ended || l.stopping.Load() {
		return true
	}
	if a.await(d) {
		return true
	}
	if now := time.Now().UnixNano(); now-l.polled >= int64(statsEvery) {
		l.poll(now) // as Next does while it waits
	}
	return false
}

// end finishes the capture from Next's side: final counters, saved frames
// flushed. It returns err, or the flush's error, or io.EOF.
func (l *Live) end(err error) error {
	l.ended = true
	l.poll(time.Now().UnixNano())
	if l.save != nil {
		if ferr := l.save.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("%w: %w", ErrSaveFailed, ferr)
		}
		l.save = nil
	}
	if err == nil {
		err = io.EOF
	}
	return err
}

// poll refreshes the counters from the kernel, and Captured. Captured
// is not stored at each frame: an atomic store a frame cost 11 ns, the
// status line that shows it reads it once a second.
func (l *Live) poll(now int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.polled = now
	l.stats.Captured = l.number
	if !l.closed {
		l.refresh()
	}
}

// refresh reads the kernel's counters; l.mu is held.
func (l *Live) refresh() {
	if s, err := l.src.counters(); err == nil {
		l.stats.Received, l.stats.Dropped, l.stats.IfDropped = s.Received, s.Dropped, s.IfDropped
	}
}

// Stats returns the latest counters: refreshed by Next a few times a
// second (statsEvery) and when the capture ends, so they are final once
// Next has returned io.EOF.
func (l *Live) Stats() LiveStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// Stop asks Next to end the capture: it returns what the kernel already
// holds, then io.EOF. Safe from any goroutine, and more than once.
func (l *Live) Stop() {
	if l.stopping.CompareAndSwap(false, true) {
		l.stopAt.Store(time.Now().Add(stopDrain).UnixNano())
	}
}

// Close releases the interface. Next, if running, returns io.EOF; frames
// saved with SaveTo and not yet flushed are lost unless Next ended first.
// Safe from any goroutine, and more than once.
func (l *Live) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.refresh()
	l.closed = true
	l.mu.Unlock()
	l.src.close()
	return nil
}

// Info describes the capture as a source, in the terms of a file's Info:
// Format "live", the interface as Name. Call it from the goroutine that
// calls Next, or after Next has ended.
func (l *Live) Info() Info {
	return Info{
		Name:      l.name,
		Format:    "live",
		LinkTypes: []uint16{l.linkType},
		Snaplen:   l.snaplen,
		Packets:   l.number,
		First:     l.first,
		Last:      l.last,
		HasTimes:  l.number > 0,
	}
}

// checkInterface catches the mistakes the kernel and libpcap report
// vaguely: a name that does not exist here, an interface that is down.
func checkInterface(name string) error {
	if name == "any" {
		return nil
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		names := interfaceNames()
		if len(names) == 0 {
			return fmt.Errorf("%s: %w", name, ErrNoSuchInterface)
		}
		return fmt.Errorf("%s: %w (there are: %s)", name, ErrNoSuchInterface, strings.Join(names, ", "))
	}
	if ifc.Flags&net.FlagUp == 0 {
		return fmt.Errorf("%s: %w (bring it up: ip link set dev %s up)", name, ErrInterfaceDown, name)
	}
	return nil
}

// interfaceNames lists the interfaces one could capture on.
func interfaceNames() []string {
	var names []string
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifs {
			names = append(names, ifc.Name)
		}
	}
	slices.Sort(names)
	return append(names, "any")
}

// permissionHint says which capability is missing, from the effective set
// in /proc/self/status.
func permissionHint() string {
	has, ok := caps.Has(caps.NetRaw)
	switch {
	case ok && !has:
		return "the process lacks CAP_NET_RAW; run as root, or grant it: setcap cap_net_raw=eip " + executable()
	case ok:
		return "CAP_NET_RAW is there but the kernel refused (a seccomp or LSM policy, or a user namespace that does not own the interface?)"
	}
	return "capturing needs CAP_NET_RAW; run as root"
}

func executable() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "tfopcap"
}
