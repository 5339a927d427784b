package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Socket constants x/sys/unix does not name.
const (
	ipprotoMPTCP   = 262 // IPPROTO_MPTCP, include/uapi/linux/in.h
	solMPTCP       = 284 // SOL_MPTCP, include/linux/socket.h
	mptcpInfo      = 1   // MPTCP_INFO, include/uapi/linux/mptcp.h
	tcpiOptSYNData = 32  // TCPI_OPT_SYN_DATA, include/uapi/linux/tcp.h
)

// conn is one probe connection's socket, made and bound before the
// capture opens so that its 5-tuple can go into the capture filter.
type conn struct {
	fd     int
	mptcp  bool
	local  netip.AddrPort
	server netip.AddrPort
	// reset is set when the server reset the connection right after the
	// handshake: MPTCP_INFO cannot tell then.
	reset bool
}

// newConn makes a non-blocking socket for server, bound to an ephemeral
// port. mptcp asks for IPPROTO_MPTCP.
func newConn(server netip.AddrPort, mptcp bool) (*conn, error) {
	family := unix.AF_INET
	if server.Addr().Is6() {
		family = unix.AF_INET6
	}
	proto := 0
	if mptcp {
		proto = ipprotoMPTCP
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		if mptcp && (errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.ENOPROTOOPT) || errors.Is(err, unix.EINVAL)) {
			return nil, fmt.Errorf("this client cannot open MPTCP sockets (%v): Linux >= 5.6 with net.mptcp.enabled=1 is needed", err)
		}
		return nil, fmt.Errorf("socket: %w", err)
	}
	c := &conn{fd: fd, mptcp: mptcp, server: server}
	var any unix.Sockaddr = &unix.SockaddrInet4{}
	if family == unix.AF_INET6 {
		any = &unix.SockaddrInet6{}
	}
	if err := unix.Bind(fd, any); err != nil {
		c.close()
		return nil, fmt.Errorf("bind: %w", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("getsockname: %w", err)
	}
	c.local = addrPort(sa)
	return c, nil
}

func (c *conn) close() {
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
}

// connect sends the SYN through sendmsg(MSG_FASTOPEN): with a cached
// cookie the kernel puts the cookie and payload in the SYN, without one
// it asks for a cookie. It waits up to timeout for the handshake and
// returns whether the SYN carried data. An MPTCP socket of a kernel that
// cannot do TFO on MPTCP (before 6.2) connects without TFO: fastopen
// false.
func (c *conn) connect(payload []byte, timeout time.Duration) (synData, fastopen bool, err error) {
	sa := sockaddr(c.server)
	fastopen = true
	n, err := unix.SendmsgN(c.fd, payload, nil, sa, unix.MSG_FASTOPEN|unix.MSG_NOSIGNAL)
	if c.mptcp && (errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL)) {
		fastopen = false
		err = unix.Connect(c.fd, sa)
	}
	switch {
	case err == nil:
		synData = n > 0
	case errors.Is(err, unix.EINPROGRESS), errors.Is(err, unix.EAGAIN):
	default:
		return false, fastopen, connectError(err)
	}
	if err := c.wait(timeout); err != nil {
		return synData, fastopen, err
	}
	return synData, fastopen, nil
}

// wait polls until the handshake ends or timeout passes.
func (c *conn) wait(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return errTimeout
		}
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll: %w", err)
		}
		if n == 0 {
			continue
		}
		soerr, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return fmt.Errorf("SO_ERROR: %w", err)
		}
		// A reset after the handshake (a server that closes at once,
		// with our data unread) still answered the SYN: the round stands.
		if soerr != 0 && unix.Errno(soerr) != unix.ECONNRESET {
			return connectError(unix.Errno(soerr))
		}
		c.reset = soerr != 0
		return nil
	}
}

// errTimeout is a handshake that got no answer.
var errTimeout = errors.New("no answer (filtered port, or the host is down)")

// connectError names what a failed connection means for a probe.
func connectError(err error) error {
	switch {
	case errors.Is(err, unix.ECONNREFUSED):
		return errors.New("connection refused (closed port)")
	case errors.Is(err, unix.ENETUNREACH), errors.Is(err, unix.EHOSTUNREACH):
		return fmt.Errorf("no route to the server (%v)", err)
	case errors.Is(err, unix.ETIMEDOUT):
		return errTimeout
	}
	return fmt.Errorf("connect: %w", err)
}

// tcpInfo reads the kernel's account: whether the SYN data was acked, and
// tcpi_fastopen_client_fail (a 2-bit field beside
// tcpi_delivery_rate_app_limited in byte 7 of struct tcp_info, which
// x/sys/unix's TCPInfo leaves out as padding).
func (c *conn) tcpInfo(k *Kernel) error {
	var buf [256]byte
	size := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(c.fd), unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0)
	if e != 0 {
		return e
	}
	if size < 8 {
		return fmt.Errorf("TCP_INFO: %d bytes", size)
	}
	k.SYNDataAcked = buf[5]&tcpiOptSYNData != 0
	if kernelAtLeast(5, 5) {
		k.FastopenClientFail = clientFailName(clientFailBits(buf[7]))
	}
	return nil
}

// clientFailBits extracts tcpi_fastopen_client_fail: bits 1-2 where
// bitfields fill from the low bit (little-endian ABIs), 5-6 otherwise.
func clientFailBits(b byte) byte {
	if nativeLittle {
		return b >> 1 & 3
	}
	return b >> 5 & 3
}

var nativeLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// clientFailName names enum tfo_status (include/uapi/linux/tcp.h).
func clientFailName(v byte) string {
	switch v {
	case 0:
		return "none"
	case 1:
		return "cookie_unavailable"
	case 2:
		return "data_not_acked"
	case 3:
		return "syn_retransmitted"
	}
	return "unknown"
}

// mptcpStatus says whether an MPTCP connection stayed MPTCP: MPTCP_INFO
// answers on an MPTCP connection, and fails once it fell back to TCP (the
// server's SYN-ACK lacked MP_CAPABLE), as Go's net package tells them
// apart. Linux before 5.16 has no MPTCP_INFO: "unknown".
func (c *conn) mptcpStatus() string {
	if !kernelAtLeast(5, 16) || c.reset {
		return "unknown"
	}
	var buf [64]byte
	size := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(c.fd), solMPTCP, mptcpInfo,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0)
	switch {
	case e == 0:
		return "yes"
	case e == unix.ENOPROTOOPT || e == unix.EOPNOTSUPP:
		return "no"
	}
	return "unknown"
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	if zone := ap.Addr().Zone(); zone != "" { // link-local: fe80::1%eth0
		if ifc, err := net.InterfaceByName(zone); err == nil {
			sa.ZoneId = uint32(ifc.Index)
		} else if n, err := strconv.Atoi(zone); err == nil {
			sa.ZoneId = uint32(n)
		}
	}
	return sa
}

func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return netip.AddrPort{}
}
