package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// A minimal netlink client: one request, its answers. Route lookups
// (rtnetlink) and the kernel's TCP metrics cache (generic netlink family
// "tcp_metrics", net/ipv4/tcp_metrics.c) are all the probe needs.

const (
	nlmsgHdrLen        = 16
	genlHdrLen         = 4
	rtmsgLen           = 12
	genlIDCtrl         = 0x10 // GENL_ID_CTRL
	ctrlCmdGetFamily   = 3
	ctrlAttrFamilyID   = 1
	ctrlAttrFamilyName = 2

	tcpMetricsCmdGet      = 1 // TCP_METRICS_CMD_GET: anyone
	tcpMetricsCmdDel      = 2 // TCP_METRICS_CMD_DEL: CAP_NET_ADMIN
	tcpMetricsAttrAddrV4  = 1
	tcpMetricsAttrAddrV6  = 2
	tcpMetricsAttrCookie  = 10 // TCP_METRICS_ATTR_FOPEN_COOKIE
	tcpMetricsGenlVersion = 1
)

// nlRequest sends one netlink message of type typ with body on protocol
// proto and returns the bodies of the answers until NLMSG_DONE or the
// single answer; an NLMSG_ERROR answer is returned as its errno.
func nlRequest(proto int, typ uint16, flags uint16, body []byte) ([][]byte, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	tv := unix.Timeval{Sec: 2}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, err
	}
	msg := make([]byte, nlmsgHdrLen, nlmsgHdrLen+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(nlmsgHdrLen+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], 1)
	msg = append(msg, body...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink send: %w", err)
	}
	var answers [][]byte
	buf := make([]byte, 1<<16)
	for range 64 { // bounded: an answer is a few messages
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("netlink receive: %w", err)
		}
		done, err := nlMessages(buf[:n], func(payload []byte) {
			answers = append(answers, append([]byte(nil), payload...))
		})
		if done || err != nil {
			return answers, err
		}
	}
	return nil, errors.New("netlink: no end to the answer")
}

// nlMessages hands the payload of each message in b to fn, and reports
// whether the answer ended (NLMSG_DONE, or NLMSG_ERROR: an errno or the
// ACK).
func nlMessages(b []byte, fn func(payload []byte)) (done bool, err error) {
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b[0:]))
		if l < nlmsgHdrLen || l > len(b) {
			return true, errors.New("netlink: malformed answer")
		}
		payload := b[nlmsgHdrLen:l]
		switch binary.NativeEndian.Uint16(b[4:]) {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			if len(payload) < 4 {
				return true, errors.New("netlink: short error")
			}
			if errno := int32(binary.NativeEndian.Uint32(payload)); errno != 0 {
				return true, unix.Errno(-errno)
			}
			return true, nil
		default:
			fn(payload)
		}
		if nlAlign(l) >= len(b) {
			return false, nil
		}
		b = b[nlAlign(l):]
	}
	return false, nil
}

func nlAlign(n int) int { return (n + 3) &^ 3 }

// appendAttr appends one netlink attribute.
func appendAttr(b []byte, typ uint16, value []byte) []byte {
	var h [4]byte
	binary.NativeEndian.PutUint16(h[0:], uint16(4+len(value)))
	binary.NativeEndian.PutUint16(h[2:], typ)
	b = append(b, h[:]...)
	b = append(b, value...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// attrs walks netlink attributes, calling fn for each; it stops at the
// first malformed one.
func attrs(b []byte, fn func(typ uint16, value []byte)) {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		if l < 4 || l > len(b) {
			return
		}
		fn(binary.NativeEndian.Uint16(b[2:])&0x3fff, b[4:l])
		if nlAlign(l) >= len(b) {
			return
		}
		b = b[nlAlign(l):]
	}
}

// routeInterface is the name of the interface the kernel routes dst
// through (RTM_GETROUTE, as `ip route get` asks): lo for the host's own
// addresses.
func routeInterface(dst netip.Addr) (string, error) {
	family, bits := byte(unix.AF_INET), byte(32)
	if dst.Is6() {
		family, bits = unix.AF_INET6, 128
	}
	body := make([]byte, rtmsgLen)
	body[0], body[1] = family, bits
	body = appendAttr(body, unix.RTA_DST, dst.AsSlice())
	answers, err := nlRequest(unix.NETLINK_ROUTE, unix.RTM_GETROUTE, 0, body)
	if err != nil {
		return "", err
	}
	for _, a := range answers {
		if len(a) < rtmsgLen {
			continue
		}
		oif := -1
		attrs(a[rtmsgLen:], func(typ uint16, v []byte) {
			if typ == unix.RTA_OIF && len(v) == 4 {
				oif = int(binary.NativeEndian.Uint32(v))
			}
		})
		if oif > 0 {
			ifc, err := net.InterfaceByIndex(oif)
			if err != nil {
				return "", err
			}
			return ifc.Name, nil
		}
	}
	return "", errors.New("the kernel named no interface for it")
}

// metricsFamily is the generic netlink ID of "tcp_metrics", found once.
var metricsFamily = sync.OnceValues(func() (uint16, error) {
	body := []byte{ctrlCmdGetFamily, 1, 0, 0}
	body = appendAttr(body, ctrlAttrFamilyName, []byte("tcp_metrics\x00"))
	answers, err := nlRequest(unix.NETLINK_GENERIC, genlIDCtrl, 0, body)
	if err != nil {
		return 0, fmt.Errorf("generic netlink family tcp_metrics: %w", err)
	}
	for _, a := range answers {
		if len(a) < genlHdrLen {
			continue
		}
		id := uint16(0)
		attrs(a[genlHdrLen:], func(typ uint16, v []byte) {
			if typ == ctrlAttrFamilyID && len(v) >= 2 {
				id = binary.NativeEndian.Uint16(v)
			}
		})
		if id != 0 {
			return id, nil
		}
	}
	return 0, errors.New("generic netlink family tcp_metrics not found")
})

// metricsRequest is a tcp_metrics command about the destination dst.
func metricsRequest(cmd byte, dst netip.Addr) ([][]byte, error) {
	fam, err := metricsFamily()
	if err != nil {
		return nil, err
	}
	body := []byte{cmd, tcpMetricsGenlVersion, 0, 0}
	if dst.Is4() {
		body = appendAttr(body, tcpMetricsAttrAddrV4, dst.AsSlice())
	} else {
		body = appendAttr(body, tcpMetricsAttrAddrV6, dst.AsSlice())
	}
	return nlRequest(unix.NETLINK_GENERIC, fam, 0, body)
}

// cachedCookie reports whether the kernel holds a TFO cookie for dst
// (TCP_METRICS_CMD_GET, which needs no privilege).
func cachedCookie(dst netip.Addr) (bool, error) {
	answers, err := metricsRequest(tcpMetricsCmdGet, dst)
	if errors.Is(err, unix.ESRCH) {
		return false, nil // no entry at all
	}
	if err != nil {
		return false, err
	}
	found := false
	for _, a := range answers {
		if len(a) < genlHdrLen {
			continue
		}
		attrs(a[genlHdrLen:], func(typ uint16, v []byte) {
			if typ == tcpMetricsAttrCookie && len(v) > 0 {
				found = true
			}
		})
	}
	return found, nil
}

// forgetCookie deletes the kernel's metrics entry for dst, with its
// cookie, as `ip tcp_metrics delete ADDR` does; it needs CAP_NET_ADMIN.
func forgetCookie(dst netip.Addr) error {
	_, err := metricsRequest(tcpMetricsCmdDel, dst)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// kernelAtLeast reports whether the running kernel is major.minor or later.
func kernelAtLeast(major, minor int) bool {
	v := kernelVersion()
	return v[0] > major || v[0] == major && v[1] >= minor
}

var kernelVersion = sync.OnceValue(func() [2]int {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return [2]int{}
	}
	rel := unix.ByteSliceToString(u.Release[:])
	parts := strings.SplitN(rel, ".", 3)
	var v [2]int
	for i := 0; i < 2 && i < len(parts); i++ {
		digits := strings.TrimRightFunc(parts[i], func(r rune) bool { return r < '0' || r > '9' })
		v[i], _ = strconv.Atoi(digits)
	}
	return v
})
