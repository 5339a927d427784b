package capture

import (
	"errors"
	"net/netip"
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

// LiveConfig says what OpenLive opens and how.
type LiveConfig struct {
	Interface  string // interface name, or "any" for all of them (Linux)
	Snaplen    int    // bytes kept of each packet; 0: DefaultSnaplen
	BufferSize int    // kernel ring in bytes; 0: DefaultBufferSize
	Promisc    bool   // promiscuous mode (ignored for "any", which has none)
	// Filter is a tcpdump expression ANDed with the SYN/RST kernel filter
	// (see LiveFilter); "" adds nothing.
	Filter string
}

// LiveStats are libpcap's counters (pcap_stats) plus the frames handed out.
type LiveStats struct {
	// Received counts packets that passed the kernel filter, including
	// those then dropped (Linux: tp_packets). On loopback the kernel
	// shows each packet twice, going out and coming in, and libpcap
	// discards one copy: there Received is twice the frames captured.
	Received int
	// Dropped counts packets the kernel dropped for want of buffer space
	// (Linux: tp_drops): raise the buffer size.
	Dropped int
	// IfDropped counts packets the interface or its driver dropped, where
	// libpcap can tell (0 for "any").
	IfDropped int
	// Captured counts frames Next has returned.
	Captured int
}

// Interface is a network interface libpcap can capture on.
type Interface struct {
	Name        string
	Description string
	Addrs       []netip.Prefix
	Up          bool // administratively up
	Running     bool // operationally up (carrier)
	Loopback    bool
}
