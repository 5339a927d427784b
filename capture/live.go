//go:build cgo

package capture

// #include <pcap/pcap.h>
import "C"

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
	"syscall"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"

	"github.com/tfopcap/tfopcap/internal/caps"
)

// Live captures from a network interface through libpcap with a kernel
// filter that passes only TCP SYN and RST segments. Make one with OpenLive.
//
// One goroutine calls Next; Stop, Stats and Close may be called from any
// goroutine. Frame.Data from Next is the Live's own buffer, valid until the
// next call to Next, also when Close is called meanwhile: libpcap's ring,
// which Close frees, is never handed out.
type Live struct {
	handle   *pcap.Handle
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
	// buf holds the frame Next returned last: a copy out of libpcap's
	// ring, so that a Close from another goroutine (a second Ctrl-C) cannot
	// free the bytes a caller is still decoding. Frames are at most a
	// snap length; the copy is a few hundred bytes a SYN, allocation-free.
	buf []byte

	mu     sync.Mutex // guards handle's lifetime against Stats, and stats
	closed bool
	stats  LiveStats
	polled time.Time
}

// liveReadTimeout bounds how long Next waits in libpcap before it looks at
// Stop and refreshes the counters; immediate mode delivers each packet as
// it arrives regardless.
const liveReadTimeout = 100 * time.Millisecond

// stopDrain bounds how long Next goes on returning packets after Stop when
// they keep coming.
const stopDrain = 500 * time.Millisecond

// statsEvery is how often Next refreshes the counters Stats returns.
const statsEvery = 200 * time.Millisecond

// OpenLive opens cfg.Interface for capture: immediate mode, the snap length
// and buffer size asked for, and the kernel filter LiveFilter builds for
// the interface's link type. For "any" it asks for Linux cooked v2 frames
// (as tcpdump does), which name the interface of each packet.
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
	if err := checkInterface(name); err != nil {
		return nil, err
	}
	in, err := pcap.NewInactiveHandle(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	defer in.CleanUp()
	for _, set := range []func() error{
		func() error { return in.SetSnapLen(cfg.Snaplen) },
		func() error { return in.SetBufferSize(cfg.BufferSize) },
		func() error { return in.SetImmediateMode(true) },
		func() error { return in.SetTimeout(liveReadTimeout) },
		// "any" has no promiscuous mode; asking makes libpcap warn, which
		// gopacket turns into a failure.
		func() error { return in.SetPromisc(cfg.Promisc && name != "any") },
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		return nil, activateError(name, err, in.Error())
	}
	l := &Live{handle: h, name: name, snaplen: cfg.Snaplen}
	if name == "any" {
		// Best effort: libpcap before 1.10 has only cooked v1.
		_ = h.SetLinkType(layers.LinkType(C.DLT_LINUX_SLL2))
	}
	l.linkType = dltToLinkType(int(h.LinkType()))
	if s := h.SnapLen(); s > 0 {
		l.snaplen = s
	}
	l.filter = LiveFilter(l.linkType, cfg.Filter)
	if err := h.SetBPFFilter(l.filter); err != nil {
		h.Close()
		if cfg.Filter != "" {
			return nil, fmt.Errorf("filter %q: %v", cfg.Filter, err)
		}
		return nil, fmt.Errorf("%s: kernel filter %q: %v", name, l.filter, err)
	}
	return l, nil
}

// checkInterface catches the mistakes libpcap reports vaguely: a name that
// does not exist here, an interface that is down.
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

// activateError turns pcap_activate's failure into one line. gopacket's
// error only names the PCAP_ERROR_ code; detail is libpcap's message.
func activateError(name string, err error, detail error) error {
	msg := err.Error()
	var d string
	if detail != nil {
		d = detail.Error()
	}
	switch {
	case msg == "Permission Denied" || strings.Contains(d, "Operation not permitted") || strings.Contains(d, "ermission denied"):
		return fmt.Errorf("%s: %w: %s", name, ErrPermission, permissionHint())
	case msg == "No Such Device":
		return fmt.Errorf("%s: %w (there are: %s)", name, ErrNoSuchInterface, strings.Join(interfaceNames(), ", "))
	case msg == "Interface Not Up":
		return fmt.Errorf("%s: %w (bring it up: ip link set dev %s up)", name, ErrInterfaceDown, name)
	}
	if d != "" && !strings.Contains(msg, d) {
		msg += " (" + d + ")"
	}
	return fmt.Errorf("%s: cannot capture: %s", name, msg)
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

// dltToLinkType maps libpcap's DLT_ value for a live handle to the
// LINKTYPE_ value files and package analyze use (the inverse of
// linkTypeToDLT). DLT_RAW is 12 on Linux but LINKTYPE_RAW is 101.
func dltToLinkType(dlt int) uint16 {
	switch dlt {
	case C.DLT_ATM_RFC1483:
		return 100
	case C.DLT_RAW:
		return 101
	case C.DLT_SLIP_BSDOS:
		return 102
	case C.DLT_PPP_BSDOS:
		return 103
	}
	return uint16(dlt)
}

// Name returns the interface name.
func (l *Live) Name() string { return l.name }

// LinkType returns the LINKTYPE_ value of the frames.
func (l *Live) LinkType() uint16 { return l.linkType }

// Snaplen returns the snap length in force.
func (l *Live) Snaplen() int { return l.snaplen }

// Filter returns the kernel filter expression in force.
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
		data, ci, err := l.handle.ZeroCopyReadPacketData()
		now := time.Now()
		if now.Sub(l.polled) >= statsEvery {
			l.poll(now)
		}
		if l.stopping.Load() && (err != nil || now.UnixNano() > l.stopAt.Load()) {
			return l.end(nil)
		}
		switch {
		case err == nil:
		case errors.Is(err, pcap.NextErrorTimeoutExpired):
			continue
		case errors.Is(err, io.EOF):
			// Closed under us.
			return l.end(nil)
		case errors.Is(err, pcap.NextErrorReadError):
			// gopacket says only "Read Error"; libpcap says what happened
			// ("The interface disappeared").
			return l.end(fmt.Errorf("%s: read: %v", l.name, l.handle.Error()))
		default:
			return l.end(fmt.Errorf("%s: read: %w", l.name, err))
		}
		l.number++
		t := ci.Timestamp.UnixNano()
		if l.number == 1 || t < l.first {
			l.first = t
		}
		l.last = max(l.last, t)
		l.buf = append(l.buf[:0], data...)
		*f = Frame{
			Data:     l.buf,
			OrigLen:  ci.Length,
			Time:     t,
			LinkType: l.linkType,
			Number:   l.number,
		}
		l.mu.Lock()
		l.stats.Captured = l.number
		l.mu.Unlock()
		if l.save != nil {
			if err := l.save.Write(f); err != nil {
				return l.end(fmt.Errorf("%w: %w", ErrSaveFailed, err))
			}
		}
		return nil
	}
}

// end finishes the capture from Next's side: final counters, saved frames
// flushed. It returns err, or the flush's error, or io.EOF.
func (l *Live) end(err error) error {
	l.ended = true
	l.poll(time.Now())
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

// poll refreshes the counters from libpcap.
func (l *Live) poll(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.polled = now
	if l.closed {
		return
	}
	if s, err := l.handle.Stats(); err == nil {
		l.stats.Received, l.stats.Dropped, l.stats.IfDropped = s.PacketsReceived, s.PacketsDropped, s.PacketsIfDropped
	}
}

// Stats returns the latest counters: refreshed by Next a few times a
// second and when the capture ends, so they are final once Next has
// returned io.EOF.
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
	if s, err := l.handle.Stats(); err == nil {
		l.stats.Received, l.stats.Dropped, l.stats.IfDropped = s.PacketsReceived, s.PacketsDropped, s.PacketsIfDropped
	}
	l.closed = true
	l.mu.Unlock()
	l.handle.Close()
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

// pcap_if flags (pcap/pcap.h).
const (
	pcapIfLoopback = 0x1
	pcapIfUp       = 0x2
	pcapIfRunning  = 0x4
)

// Interfaces lists the interfaces libpcap can capture on, in its order
// (tcpdump -D), "any" included.
func Interfaces() ([]Interface, error) {
	devs, err := pcap.FindAllDevs()
	if err != nil {
		if errors.Is(err, syscall.EPERM) {
			return nil, fmt.Errorf("list interfaces: %w: %s", ErrPermission, permissionHint())
		}
		return nil, fmt.Errorf("list interfaces: %v", err)
	}
	out := make([]Interface, 0, len(devs))
	for _, d := range devs {
		ifc := Interface{
			Name:        d.Name,
			Description: d.Description,
			Up:          d.Flags&pcapIfUp != 0,
			Running:     d.Flags&pcapIfRunning != 0,
			Loopback:    d.Flags&pcapIfLoopback != 0,
		}
		for _, a := range d.Addresses {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			bits := ip.BitLen()
			if a.Netmask != nil {
				if ones, size := net.IPMask(a.Netmask).Size(); size != 0 {
					bits = ones
				}
			}
			ifc.Addrs = append(ifc.Addrs, netip.PrefixFrom(ip, bits))
		}
		out = append(out, ifc)
	}
	return out, nil
}
