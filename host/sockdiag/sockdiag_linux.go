package sockdiag

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
)

func errnoError(errno int32) error { return unix.Errno(errno) }

// Listeners lists the TCP and MPTCP listeners of the calling thread's
// network namespace, by port, then address (IPv4 first). An MPTCP listener's
// TCP subflow listener (on the same address, with the same inode, which
// the TCP dump shows too) is left out: it is the MPTCP listener seen from
// below. A kernel without MPTCP diag support (or without MPTCP) lists TCP
// listeners only.
func Listeners() ([]Listener, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("sock_diag: netlink socket: %w", err)
	}
	defer unix.Close(fd)
	var tcp, mptcp []Listener
	seq := uint32(1)
	for _, fam := range []uint8{afInet, afInet6} {
		if tcp, err = dump(fd, fam, TCP, seq, tcp); errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("%w: the kernel has no TCP sock_diag handler (modprobe tcp_diag)", err)
		}
		if err != nil {
			return nil, err
		}
		seq++
		mptcp, err = dump(fd, fam, MPTCP, seq, mptcp)
		seq++
		// ENOENT: no mptcp_diag (or no MPTCP); EINVAL: a kernel before
		// INET_DIAG_REQ_PROTOCOL. Neither has MPTCP listeners to show.
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) {
			err = nil
		}
		if err != nil {
			return nil, err
		}
	}
	ls := mergeSubflows(tcp, mptcp)
	slices.SortStableFunc(ls, byPortThenAddr)
	return ls, nil
}

// mergeSubflows drops the TCP listeners that share an MPTCP listener's
// address (its subflow listener) and adds the MPTCP ones.
func mergeSubflows(tcp, mptcp []Listener) []Listener {
	out := slices.DeleteFunc(tcp, func(t Listener) bool {
		return slices.ContainsFunc(mptcp, func(m Listener) bool { return m.Addr == t.Addr })
	})
	return append(out, mptcp...)
}

// dump sends one request and reads its answers to NLMSG_DONE.
func dump(fd int, family uint8, proto Protocol, seq uint32, ls []Listener) ([]Listener, error) {
	if err := unix.Sendto(fd, request(family, proto, seq), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return ls, fmt.Errorf("sock_diag: send %s dump: %w", proto, err)
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return ls, fmt.Errorf("sock_diag: read %s dump: %w", proto, err)
		}
		var done bool
		if ls, done, err = parseDump(buf[:n], proto, ls); err != nil || done {
			return ls, err
		}
	}
}
