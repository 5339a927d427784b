package selfprobe

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Probe sends one TFO SYN to target from a raw socket and waits up to
// timeout for its answer (Reply is ReplyNone when none came). A SYN-ACK is
// answered with an RST, so the listener drops the half-open connection at
// once. The result is nil when the probe could not be sent.
func Probe(target netip.AddrPort, timeout time.Duration) (*Result, error) {
	res := &Result{Target: target, Method: MethodRawSYN, Reply: ReplyNone}
	src, err := sourceFor(target)
	if err != nil {
		return nil, err
	}
	// A bound TCP socket holds the probe's port, so no connect() of this
	// host takes it meanwhile; it never listens, so the kernel resets the
	// SYN-ACK too, should the probe's own RST be lost.
	hold, port, err := holdPort(src)
	if err != nil {
		return nil, err
	}
	defer unix.Close(hold)
	from := netip.AddrPortFrom(src, port)

	fd, err := rawSocket(target.Addr())
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)

	isn := randomISN()
	start := time.Now()
	if err := send(fd, target, segment(from, target, isn, flagSYN, synOptions)); err != nil {
		return nil, fmt.Errorf("self-probe %s: send SYN: %w", target, err)
	}
	r, err := await(fd, target, port, isn, start.Add(timeout))
	if err != nil {
		return nil, err
	}
	if r.kind == "" {
		return res, nil
	}
	res.RTT = time.Since(start)
	res.Reply = r.kind
	if r.kind == ReplySYNACK {
		res.TFO, res.CookieLen, res.MPTCP = r.tfo.State, len(r.tfo.Cookie()), r.mptcp
		// Best effort: the kernel's own RST (the port does not listen)
		// ends the connection as well.
		_ = send(fd, target, segment(from, target, isn+1, flagRST, nil))
	}
	return res, nil
}

// sourceFor is the address this host sends from to reach target (a UDP
// connect sends nothing).
func sourceFor(target netip.AddrPort) (netip.Addr, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(target))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("self-probe %s: no route: %w", target, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

func holdPort(src netip.Addr) (int, uint16, error) {
	fd, err := unix.Socket(family(src), unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, 0, fmt.Errorf("self-probe: tcp socket: %w", err)
	}
	if err := unix.Bind(fd, sockaddr(netip.AddrPortFrom(src, 0))); err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("self-probe: bind %s: %w", src, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("self-probe: getsockname: %w", err)
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return fd, uint16(sa.Port), nil
	case *unix.SockaddrInet6:
		return fd, uint16(sa.Port), nil
	}
	unix.Close(fd)
	return -1, 0, errors.New("self-probe: getsockname: not an inet socket")
}

func rawSocket(dst netip.Addr) (int, error) {
	fd, err := unix.Socket(family(dst), unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return -1, fmt.Errorf("self-probe: %w (%v)", ErrNoRawSocket, err)
	}
	if err != nil {
		return -1, fmt.Errorf("self-probe: raw socket: %w", err)
	}
	// A raw TCP socket gets a copy of every TCP segment the host receives:
	// room for a busy server's traffic while the answer is awaited (the
	// kernel caps it at net.core.rmem_max; a smaller buffer still works).
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	return fd, nil
}

func send(fd int, to netip.AddrPort, seg []byte) error {
	// The port of a raw socket's address is unused: the TCP header has it.
	return unix.Sendto(fd, seg, 0, sockaddr(netip.AddrPortFrom(to.Addr(), 0)))
}

// await reads segments until the answer to isn arrives or deadline passes
// (then the reply kind is "").
func await(fd int, target netip.AddrPort, port uint16, isn uint32, deadline time.Time) (reply, error) {
	buf := make([]byte, 1<<16)
	v4 := target.Addr().Is4()
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return reply{}, nil
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
			return reply{}, fmt.Errorf("self-probe %s: poll: %w", target, err)
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			continue
		}
		n, from, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return reply{}, fmt.Errorf("self-probe %s: read: %w", target, err)
		}
		seg, ok := buf[:n], true
		if v4 {
			seg, ok = ipv4Payload(seg, target.Addr())
		} else {
			ok = fromAddr(from) == target.Addr()
		}
		if !ok {
			continue
		}
		if r := answer(seg, target, port, isn); r.kind != "" {
			return r, nil
		}
	}
}

func family(a netip.Addr) int {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

func fromAddr(sa unix.Sockaddr) netip.Addr {
	if sa, ok := sa.(*unix.SockaddrInet6); ok {
		return netip.AddrFrom16(sa.Addr)
	}
	return netip.Addr{}
}

func randomISN() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}
