package check

import (
	"cmp"
	"net"
	"net/netip"

	"github.com/tfopcap/tfopcap/host/procs"
	"github.com/tfopcap/tfopcap/host/sockdiag"
)

// Local is a snapshot of this host's listeners and addresses, for
// naming the listener behind a server address in analyze and live
// reports.
type Local struct {
	addrs     map[netip.Addr]bool
	listeners []sockdiag.Listener
	owners    map[uint32][]procs.Process
}

// LocalListeners takes the snapshot for servers: the addresses of this
// network namespace's interfaces, and, only when one of servers is among
// them, sock_diag's listeners and the owners of those on the servers'
// ports. A report whose servers are all remote, the usual capture read on
// a laptop, so costs no socket dump and no walk of /proc (3-4 ms of every
// run on a busy host).
func LocalListeners(procRoot string, servers []netip.AddrPort) (*Local, error) {
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	l := &Local{addrs: map[netip.Addr]bool{}}
	for _, a := range ifaddrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			l.addrs[p.Addr()] = true
		}
	}
	ports := map[uint16]bool{}
	for _, s := range servers {
		if l.addrs[s.Addr().Unmap()] {
			ports[s.Port()] = true
		}
	}
	if len(ports) == 0 {
		return l, nil
	}
	if l.listeners, err = sockdiag.Listeners(); err != nil {
		return nil, err
	}
	inodes := map[uint32]bool{}
	for _, x := range l.listeners {
		if ports[x.Addr.Port()] {
			inodes[x.Inode] = true
		}
	}
	l.owners, _ = procs.Owners(cmp.Or(procRoot, "/proc"), inodes)
	return l, nil
}

// Find returns the listener that takes connections to server: one bound
// to exactly that address, else a wildcard of its family (or a dual-stack
// [::] for IPv4), when server's address is this host's.
func (l *Local) Find(server netip.AddrPort) (sockdiag.Listener, []procs.Process, bool) {
	a := server.Addr().Unmap()
	if !l.addrs[a] {
		return sockdiag.Listener{}, nil, false
	}
	best := -1
	for i, x := range l.listeners {
		if x.Addr.Port() != server.Port() {
			continue
		}
		switch bound := x.Addr.Addr(); {
		case bound == a:
			return x, l.owners[x.Inode], true
		case bound == netip.IPv4Unspecified() && a.Is4(),
			bound == netip.IPv6Unspecified() && (a.Is6() || !x.V6Only):
			if best < 0 || x.Addr.Addr().Is4() == a.Is4() {
				best = i
			}
		}
	}
	if best < 0 {
		return sockdiag.Listener{}, nil, false
	}
	x := l.listeners[best]
	return x, l.owners[x.Inode], true
}
