package sockdiag

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Wire constants from linux/sock_diag.h, linux/inet_diag.h and linux/in.h.
const (
	sockDiagByFamily    = 20  // SOCK_DIAG_BY_FAMILY
	inetDiagReqProtocol = 3   // INET_DIAG_REQ_PROTOCOL (u32), Linux >= 5.10
	inetDiagSKV6Only    = 11  // INET_DIAG_SKV6ONLY (u8)
	ipprotoTCP          = 6   // IPPROTO_TCP
	ipprotoMPTCP        = 262 // IPPROTO_MPTCP
	tcpListen           = 10  // TCP_LISTEN
	afInet, afInet6     = 2, 10

	nlmsgHdrLen    = 16
	reqLen         = 56 // struct inet_diag_req_v2
	msgLen         = 72 // struct inet_diag_msg
	attrHdrLen     = 4
	nlmsgDone      = 3 // NLMSG_DONE
	nlmsgError     = 2 // NLMSG_ERROR
	nlmFRequest    = 0x1
	nlmFDump       = 0x300 // NLM_F_ROOT | NLM_F_MATCH
	protoAttrTotal = attrHdrLen + 4
)

// request builds a dump request for the listeners of one family and
// protocol. MPTCP rides in INET_DIAG_REQ_PROTOCOL; the one-byte field then
// holds IPPROTO_TCP, as the kernel's own mptcp selftests send it.
func request(family uint8, proto Protocol, seq uint32) []byte {
	n := nlmsgHdrLen + reqLen
	if proto == MPTCP {
		n += protoAttrTotal
	}
	b := make([]byte, n)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(n))
	ne.PutUint16(b[4:], sockDiagByFamily)
	ne.PutUint16(b[6:], nlmFRequest|nlmFDump)
	ne.PutUint32(b[8:], seq)
	r := b[nlmsgHdrLen:]
	r[0], r[1] = family, ipprotoTCP
	ne.PutUint32(r[4:], 1<<tcpListen) // idiag_states
	// id stays zero: a dump matches every socket
	if proto == MPTCP {
		a := b[nlmsgHdrLen+reqLen:]
		ne.PutUint16(a[0:], protoAttrTotal)
		ne.PutUint16(a[2:], inetDiagReqProtocol)
		ne.PutUint32(a[4:], ipprotoMPTCP)
	}
	return b
}

// parseDump reads the netlink messages in b, appending the listeners found
// to ls. done reports NLMSG_DONE; an NLMSG_ERROR becomes err (its errno).
func parseDump(b []byte, proto Protocol, ls []Listener) (_ []Listener, done bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= nlmsgHdrLen {
		n := int(ne.Uint32(b[0:]))
		if n < nlmsgHdrLen || n > len(b) {
			return ls, false, fmt.Errorf("sock_diag: netlink message of length %d in %d bytes", n, len(b))
		}
		typ, body := ne.Uint16(b[4:]), b[nlmsgHdrLen:n]
		switch typ {
		case nlmsgDone:
			return ls, true, nil
		case nlmsgError:
			if len(body) < 4 {
				return ls, false, fmt.Errorf("sock_diag: short netlink error")
			}
			if errno := -int32(ne.Uint32(body)); errno != 0 {
				return ls, false, errnoError(errno)
			}
		case sockDiagByFamily:
			l, err := parseMsg(body, proto)
			if err != nil {
				return ls, false, err
			}
			ls = append(ls, l)
		}
		b = b[min(align4(n), len(b)):]
	}
	return ls, false, nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// parseMsg reads one struct inet_diag_msg and its attributes.
func parseMsg(m []byte, proto Protocol) (Listener, error) {
	if len(m) < msgLen {
		return Listener{}, fmt.Errorf("sock_diag: inet_diag_msg of %d bytes, want %d", len(m), msgLen)
	}
	ne := binary.NativeEndian
	port := binary.BigEndian.Uint16(m[4:])
	var addr netip.Addr
	switch m[0] {
	case afInet:
		addr = netip.AddrFrom4([4]byte(m[8:12]))
	case afInet6:
		addr = netip.AddrFrom16([16]byte(m[8:24]))
	default:
		return Listener{}, fmt.Errorf("sock_diag: address family %d", m[0])
	}
	l := Listener{
		Addr:     netip.AddrPortFrom(addr, port),
		Protocol: proto,
		UID:      ne.Uint32(m[64:]),
		Inode:    ne.Uint32(m[68:]),
	}
	for a := m[msgLen:]; len(a) >= attrHdrLen; {
		n := int(ne.Uint16(a[0:]))
		if n < attrHdrLen || n > len(a) {
			break
		}
		if ne.Uint16(a[2:]) == inetDiagSKV6Only && n > attrHdrLen {
			l.V6Only = a[attrHdrLen] != 0
		}
		a = a[min(align4(n), len(a)):]
	}
	return l, nil
}
