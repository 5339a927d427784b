//go:build cgo

package capture

// #include <pcap/pcap.h>
import "C"

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// pcapBuilt: this build has the libpcap backend.
const pcapBuilt = true

// pcapSource reads a libpcap handle.
type pcapSource struct {
	handle *pcap.Handle
	// buf holds the frame read returned last: a copy out of libpcap's
	// ring, which close frees. Frames are at most a snap length; the
	// copy is a few hundred bytes a SYN, allocation-free.
	buf []byte
}

// openPcap opens cfg.Interface through libpcap: not immediate, the snap
// length and buffer size asked for, and the kernel filter LiveFilter builds
// for the interface's link type. For "any" it asks for Linux cooked v2
// frames (as tcpdump does), which name the interface of each packet.
func openPcap(cfg LiveConfig) (*Live, error) {
	name := cfg.Interface
	in, err := pcap.NewInactiveHandle(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	defer in.CleanUp()
	for _, set := range []func() error{
		func() error { return in.SetSnapLen(cfg.Snaplen) },
		func() error { return in.SetBufferSize(cfg.BufferSize) },
		// Not immediate: libpcap's TPACKET_V3 blocks then wake the
		// reader once a block (or blockTimeout), not once a packet,
		// which cut its system time by half on a replayed SYN flood.
		func() error { return in.SetImmediateMode(false) },
		func() error { return in.SetTimeout(blockTimeout) },
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
	l := &Live{src: &pcapSource{handle: h}, name: name, snaplen: cfg.Snaplen}
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

// compileRingFilter compiles expr with libpcap for an AF_PACKET socket of
// linkType (Ethernet or RAW) that keeps snaplen bytes: the program a live
// libpcap handle would attach, but for VLAN tests (see ringFilters).
func compileRingFilter(linkType uint16, snaplen int, expr string) ([]bpf.RawInstruction, error) {
	dlt := layers.LinkType(linkType)
	if linkType == linkTypeRaw {
		dlt = layers.LinkType(C.DLT_RAW)
	}
	ins, err := pcap.CompileBPFFilter(dlt, snaplen, expr)
	if err != nil {
		return nil, err
	}
	raw := make([]bpf.RawInstruction, len(ins))
	for i, in := range ins {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return raw, nil
}

func (s *pcapSource) read() ([]byte, int, int64, error) {
	data, ci, err := s.handle.ZeroCopyReadPacketData()
	switch {
	case err == nil:
		s.buf = append(s.buf[:0], data...)
		return s.buf, ci.Length, ci.Timestamp.UnixNano(), nil
	case errors.Is(err, pcap.NextErrorTimeoutExpired):
		return nil, 0, 0, errTimeout
	case errors.Is(err, pcap.NextErrorReadError):
		// gopacket says only "Read Error"; libpcap says what happened
		// ("The interface disappeared").
		return nil, 0, 0, s.handle.Error()
	}
	return nil, 0, 0, err
}

func (s *pcapSource) counters() (LiveStats, error) {
	st, err := s.handle.Stats()
	if err != nil {
		return LiveStats{}, err
	}
	return LiveStats{Received: st.PacketsReceived, Dropped: st.PacketsDropped, IfDropped: st.PacketsIfDropped}, nil
}

func (s *pcapSource) close() { s.handle.Close() }

// buffered is false: gopacket's handle cannot say whether libpcap holds
// a frame, so each frame's event is sent on at once.
func (s *pcapSource) buffered() bool { return false }

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
