// Package sockdiag lists the TCP and MPTCP listeners of the current network
// namespace through NETLINK_SOCK_DIAG, as `ss -Mlt` does: inet_diag dumps
// of IPPROTO_TCP for AF_INET and AF_INET6, and of IPPROTO_MPTCP (asked for
// with the INET_DIAG_REQ_PROTOCOL attribute, since 262 does not fit the
// request's one-byte protocol field).
//
// Listing needs no privilege. Linux only: on other systems Listeners
// returns ErrUnsupported.
package sockdiag

import (
	"cmp"
	"errors"
	"net/netip"
)

// Protocol is a listener's transport protocol.
type Protocol uint8

const (
	TCP   Protocol = iota // plain TCP (IPPROTO_TCP)
	MPTCP                 // Multipath TCP (IPPROTO_MPTCP)
)

func (p Protocol) String() string {
	if p == MPTCP {
		return "mptcp"
	}
	return "tcp"
}

// Listener is one listening socket.
type Listener struct {
	Addr     netip.AddrPort // the bound address; unspecified (0.0.0.0, ::) for all
	Protocol Protocol
	// Inode is the socket's inode number, which /proc/PID/fd links name
	// (socket:[INODE]); 0 for a kernel socket no file refers to.
	Inode uint32
	UID   uint32
	// V6Only is set for an AF_INET6 listener that takes no IPv4; valid
	// iff Addr is IPv6 and the kernel sent INET_DIAG_SKV6ONLY.
	V6Only bool
}

// ErrUnsupported is returned where sock_diag does not exist.
var ErrUnsupported = errors.New("sock_diag listener listing needs Linux")

// byPortThenAddr orders listeners as a reader looks for them: by port, then
// address (netip orders IPv4 before IPv6).
func byPortThenAddr(a, b Listener) int {
	return cmp.Or(cmp.Compare(a.Addr.Port(), b.Addr.Port()), a.Addr.Addr().Compare(b.Addr.Addr()), cmp.Compare(a.Protocol, b.Protocol))
}
