package analyze

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Link types (LINKTYPE_* numbers, https://www.tcpdump.org/linktypes.html)
// that Decode understands.
const (
	LinkNull     = 0   // BSD loopback: 4-byte address family, host byte order
	LinkEthernet = 1   // EN10MB
	LinkPPP      = 9   // PPP, RFC 1661
	LinkRawBSD   = 12  // DLT_RAW on some BSDs
	LinkRawBSD2  = 14  // DLT_RAW on OpenBSD
	LinkPPPHDLC  = 50  // PPP in HDLC-like framing, RFC 1662
	LinkRaw      = 101 // raw IPv4 or IPv6
	LinkLoop     = 108 // OpenBSD loopback: address family, network byte order
	LinkSLL      = 113 // Linux cooked capture v1
	LinkIPv4     = 228
	LinkIPv6     = 229
	LinkSLL2     = 276 // Linux cooked capture v2 (tcpdump -i any)
)

var linkNames = map[uint16]string{
	LinkNull: "NULL", LinkEthernet: "EN10MB", LinkPPP: "PPP", LinkRawBSD: "RAW",
	LinkRawBSD2: "RAW", LinkPPPHDLC: "PPP_HDLC", LinkRaw: "RAW", LinkLoop: "LOOP",
	LinkSLL: "LINUX_SLL", LinkIPv4: "IPV4", LinkIPv6: "IPV6", LinkSLL2: "LINUX_SLL2",
}

// LinkTypeName returns tcpdump's name for a link type (EN10MB, LINUX_SLL2),
// or "LINKTYPE_N" for one tfopcap does not decode.
func LinkTypeName(lt uint16) string {
	if n, ok := linkNames[lt]; ok {
		return n
	}
	return fmt.Sprintf("LINKTYPE_%d", lt)
}

// LinkTypeSupported reports whether Decode can find IP inside lt.
func LinkTypeSupported(lt uint16) bool {
	_, ok := linkNames[lt]
	return ok
}

// LinkInterface returns the capturing interface that the link header names,
// when it names one: Linux cooked v2 (tcpdump -i any) carries the ifindex,
// so a packet seen on two interfaces (a veth and the bridge it is
// enslaved to) can be told from a retransmission. Cooked v1 (tcpdump -i
// any with libpcap < 1.10) names only the direction: frames the host sent
// get SLLOutgoing, so a router's copies of a forwarded packet, received on
// one side and sent on the other, are two vantage points.
func LinkInterface(lt uint16, data []byte) (uint32, bool) {
	switch {
	case lt == LinkSLL2 && len(data) >= 8:
		return binary.BigEndian.Uint32(data[4:8]), true
	case lt == LinkSLL && len(data) >= 2 && binary.BigEndian.Uint16(data) == sllOutgoingPacket:
		return SLLOutgoing, true
	}
	return 0, false
}

// SLLOutgoing is the interface LinkInterface gives cooked-v1 frames the
// capturing host sent; no ifindex is that large. sllOutgoingPacket is their
// packet type (PACKET_OUTGOING).
const (
	SLLOutgoing       = 1<<32 - 1
	sllOutgoingPacket = 4
)

// TCP flags, RFC 9293 section 3.1.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
)

// Segment is the decoded view of one TCP segment. It holds no reference to
// the frame it came from.
type Segment struct {
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Flags    uint8
	// Fragmented is set when the segment is the first fragment of an IP
	// datagram (IPv4 more-fragments flag, or an IPv6 fragment header at
	// offset 0 with M set): its header is whole, but DataLen counts only
	// the data in this fragment, a lower bound (at least one more byte
	// follows). Later fragments hold no TCP header and decode as Fragment.
	// (Beside Flags, where it fills padding: a Segment is 136 bytes.)
	Fragmented bool
	// DataLen is the payload length on the wire, taken from the IP lengths,
	// so it is right even when snaplen cut the payload.
	DataLen int
	// Options is valid iff Flags has SYN: other segments' options are not
	// walked, to keep the common path short.
	Options Options
	// flow is the 64-bit hash of the segment's flow, client first
	// (flowHash64), when hashedWith is the seed of the Tracker whose
	// FlowHasher stored it (seeds are odd; 0: not hashed). A file's stage
	// hashes on its own goroutine what the tracker would otherwise hash
	// on the critical path (8% of its time on the real handshake
	// capture).
	flow       uint64
	hashedWith uint64
}

// IsSYN reports whether s is a client SYN (SYN without ACK).
func (s *Segment) IsSYN() bool { return s.Flags&(FlagSYN|FlagACK) == FlagSYN }

// IsSYNACK reports whether s is a SYN-ACK.
func (s *Segment) IsSYNACK() bool { return s.Flags&(FlagSYN|FlagACK) == FlagSYN|FlagACK }

// IsRST reports whether s is a reset.
func (s *Segment) IsRST() bool { return s.Flags&FlagRST != 0 }

// DecodeStatus says what Decode found in a frame.
type DecodeStatus uint8

const (
	DecodedTCP      DecodeStatus = iota // a TCP segment; the Segment is valid
	NotTCP                              // IP without TCP, or not IP at all (ARP, LLC)
	Fragment                            // a non-first IP fragment, or a first one too short for the TCP header
	UnsupportedLink                     // a link type Decode does not know
	CutShort                            // the capture ends before the TCP header does (snaplen)
	Malformed                           // a header contradicts itself (IHL < 5, data offset < 5)
)

var decodeStatusNames = [...]string{"tcp", "not-tcp", "fragment", "unsupported-link", "cut-short", "malformed"}

func (s DecodeStatus) String() string {
	if int(s) < len(decodeStatusNames) {
		return decodeStatusNames[s]
	}
	return fmt.Sprintf("unknown(%d)", uint8(s))
}

// EtherTypes seen on the way to IP.
const (
	etherIPv4      = 0x0800
	etherIPv6      = 0x86dd
	etherVLAN      = 0x8100 // 802.1Q
	etherQinQ      = 0x88a8 // 802.1ad
	etherQinQv1    = 0x9100 // pre-standard QinQ
	etherMPLS      = 0x8847 // RFC 3032
	etherMPLSMulti = 0x8848
	etherPPPoE     = 0x8864 // RFC 2516 session stage
	etherTEB       = 0x6558 // transparent Ethernet bridging (GRE, VXLAN-like)
)

// maxMPLSLabels bounds the label stack walk.
const maxMPLSLabels = 8

// maxVLANTags bounds the tag walk so a frame of repeated tags cannot loop long.
const maxVLANTags = 8

// Decode finds the TCP segment in one frame of link type lt. wireLen is the
// frame's length on the wire (pcap's orig_len), used when IP lengths are zero
// (TSO on the capturing host). It fills seg only when it returns DecodedTCP,
// never reads past data, and does not allocate.
func Decode(lt uint16, data []byte, wireLen int, seg *Segment) DecodeStatus {
	var ip []byte
	var etherType uint16
	if lt == LinkEthernet && len(data) >= 14 {
		// Untagged Ethernet, the commonest, without linkPayload's
		// and etherPayload's calls (callgrind, the 120k SYNs and
		// SYN-ACKs of the real handshake capture: 33.2 -> 26.9 M
		// instructions in Decode and its callees but ParseOptions).
		ip, etherType = data[14:], binary.BigEndian.Uint16(data[12:14])
	}
	if etherType != etherIPv4 && etherType != etherIPv6 {
		var st DecodeStatus
		if ip, etherType, st = linkPayload(lt, data); st != DecodedTCP {
			return st
		}
	}
	wireIP := wireLen - (len(data) - len(ip))
	st := decodeIP(etherType, ip, wireIP, seg, 0)
	// A frame that holds all its bytes on the wire was not cut by
	// snaplen: headers that run past its end are malformed.
	if len(data) >= wireLen && wireLen > 0 {
		switch {
		case st == CutShort:
			st = Malformed
		case st == DecodedTCP && seg.Flags&FlagSYN != 0 && seg.Options.Stop == WalkTruncated:
			seg.Options.Stop = WalkBadLength
			st = Malformed
		}
	}
	return st
}

// decodeIP decodes an IPv4 or IPv6 packet; depth counts the tunnels
// already entered.
func decodeIP(etherType uint16, ip []byte, wireLen int, seg *Segment, depth int) DecodeStatus {
	switch etherType {
	case etherIPv4:
		return decodeIPv4(ip, wireLen, seg, depth)
	case etherIPv6:
		return decodeIPv6(ip, wireLen, seg, depth)
	}
	return NotTCP
}

// IP protocols that carry another IP packet.
const (
	protoIPIP = 4  // IPv4 in IP, RFC 2003
	protoIPv6 = 41 // IPv6 in IP, RFC 4213
	protoGRE  = 47 // RFC 2784, 2890

	// maxTunnels bounds nesting, so a packet of tunnels in tunnels
	// cannot recurse long.
	maxTunnels = 4
)

func tunnel(proto uint8) bool { return proto == protoIPIP || proto == protoIPv6 || proto == protoGRE }

// decodeTunnel finds the TCP segment inside an IP-in-IP or GRE packet:
// the tunnel's inner packet is what the client and server exchanged.
func decodeTunnel(proto uint8, b []byte, wireLen int, seg *Segment, depth int) DecodeStatus {
	if depth == maxTunnels {
		return Malformed
	}
	switch proto {
	case protoIPIP:
		return decodeIP(etherIPv4, b, wireLen, seg, depth+1)
	case protoIPv6:
		return decodeIP(etherIPv6, b, wireLen, seg, depth+1)
	}
	// GRE: flags and version, protocol type, then optional checksum,
	// key and sequence number words.
	if len(b) < 4 {
		return CutShort
	}
	flags, et := b[0], binary.BigEndian.Uint16(b[2:4])
	if b[1]&0x07 != 0 { // version 1 is PPTP's enhanced GRE: not followed
		return NotTCP
	}
	n := 4
	for _, bit := range [...]byte{0x80, 0x20, 0x10} { // C, K, S
		if flags&bit != 0 {
			n += 4
		}
	}
	if len(b) < n {
		return CutShort
	}
	b, wireLen = b[n:], wireLen-n
	if et == etherTEB {
		if len(b) < 14 {
			return CutShort
		}
		inner, et2, st := etherPayload(binary.BigEndian.Uint16(b[12:14]), b[14:])
		if st != DecodedTCP {
			return st
		}
		return decodeIP(et2, inner, wireLen-(len(b)-len(inner)), seg, depth+1)
	}
	return decodeIP(et, b, wireLen, seg, depth+1)
}

// linkPayload strips the link-layer header and returns the network-layer
// bytes and their EtherType (IPv4 or IPv6). The status is DecodedTCP when
// the payload is IP and decoding should go on.
func linkPayload(lt uint16, b []byte) ([]byte, uint16, DecodeStatus) {
	switch lt {
	case LinkEthernet:
		if len(b) < 14 {
			return nil, 0, CutShort
		}
		return etherPayload(binary.BigEndian.Uint16(b[12:14]), b[14:])
	case LinkSLL:
		if len(b) < 16 {
			return nil, 0, CutShort
		}
		return etherPayload(binary.BigEndian.Uint16(b[14:16]), b[16:])
	case LinkSLL2:
		if len(b) < 20 {
			return nil, 0, CutShort
		}
		return etherPayload(binary.BigEndian.Uint16(b[0:2]), b[20:])
	case LinkRaw, LinkRawBSD, LinkRawBSD2:
		return rawIP(b)
	case LinkIPv4:
		return b, etherIPv4, DecodedTCP
	case LinkIPv6:
		return b, etherIPv6, DecodedTCP
	case LinkNull, LinkLoop:
		if len(b) < 4 {
			return nil, 0, CutShort
		}
		// The family is in the capturing host's byte order for NULL and
		// in network order for LOOP; either way one end byte holds it.
		// IPv6's value differs by OS (10 Linux, 24 NetBSD/OpenBSD, 28
		// FreeBSD, 30 Darwin), so trust the version nibble instead.
		af := uint32(b[0]) | uint32(b[3])
		if b[1]|b[2] != 0 || (af != 2 && af != 10 && af != 24 && af != 28 && af != 30) {
			return nil, 0, NotTCP
		}
		return rawIP(b[4:])
	case LinkPPP, LinkPPPHDLC:
		return pppPayload(b)
	}
	return nil, 0, UnsupportedLink
}

// etherPayload follows an EtherType through any 802.1Q/802.1ad tags, an
// MPLS label stack or a PPPoE session header to IP.
func etherPayload(et uint16, b []byte) ([]byte, uint16, DecodeStatus) {
	for i := 0; et == etherVLAN || et == etherQinQ || et == etherQinQv1; i++ {
		if i == maxVLANTags {
			return nil, 0, Malformed
		}
		if len(b) < 4 {
			return nil, 0, CutShort
		}
		et = binary.BigEndian.Uint16(b[2:4])
		b = b[4:]
	}
	switch et {
	case etherIPv4, etherIPv6:
		return b, et, DecodedTCP
	case etherMPLS, etherMPLSMulti:
		// Labels until the bottom-of-stack bit; then the payload has no
		// type field, and IP tells itself by its version nibble.
		for i := 0; ; i++ {
			if i == maxMPLSLabels {
				return nil, 0, Malformed
			}
			if len(b) < 4 {
				return nil, 0, CutShort
			}
			bottom := b[2]&1 == 1
			b = b[4:]
			if bottom {
				return rawIP(b)
			}
		}
	case etherPPPoE:
		// Version/type, code, session id, length; then a PPP protocol.
		if len(b) < 6 {
			return nil, 0, CutShort
		}
		return pppPayload(b[6:])
	}
	return nil, 0, NotTCP
}

// rawIP tells IPv4 from IPv6 by the version nibble.
func rawIP(b []byte) ([]byte, uint16, DecodeStatus) {
	if len(b) < 1 {
		return nil, 0, CutShort
	}
	switch b[0] >> 4 {
	case 4:
		return b, etherIPv4, DecodedTCP
	case 6:
		return b, etherIPv6, DecodedTCP
	}
	return nil, 0, NotTCP
}

// pppPayload strips the optional HDLC address and control bytes (0xff 0x03)
// and the protocol field, which may be compressed to one byte (RFC 1661
// section 6.5).
func pppPayload(b []byte) ([]byte, uint16, DecodeStatus) {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	if len(b) < 1 {
		return nil, 0, CutShort
	}
	var proto uint16
	if b[0]&1 == 1 { // compressed: the one byte is odd
		proto, b = uint16(b[0]), b[1:]
	} else {
		if len(b) < 2 {
			return nil, 0, CutShort
		}
		proto, b = binary.BigEndian.Uint16(b[0:2]), b[2:]
	}
	switch proto {
	case 0x0021:
		return b, etherIPv4, DecodedTCP
	case 0x0057:
		return b, etherIPv6, DecodedTCP
	}
	return nil, 0, NotTCP
}

const protoTCP = 6

func decodeIPv4(b []byte, wireLen int, seg *Segment, depth int) DecodeStatus {
	if len(b) < 20 {
		return CutShort
	}
	if b[0]>>4 != 4 {
		return Malformed
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 {
		return Malformed
	}
	if b[9] != protoTCP && !tunnel(b[9]) {
		return NotTCP
	}
	frag := binary.BigEndian.Uint16(b[6:8])
	if frag&0x1fff != 0 {
		return Fragment
	}
	more := frag&0x2000 != 0
	if len(b) < ihl {
		return CutShort
	}
	if b[9] != protoTCP {
		return decodeTunnel(b[9], b[ihl:], wireLen-ihl, seg, depth)
	}
	// A zero or short total length comes from TSO on the capturing host:
	// then the wire length is the best we have.
	ipLen := int(binary.BigEndian.Uint16(b[2:4]))
	if ipLen < ihl {
		ipLen = wireLen
	}
	seg.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[12:16])), 0)
	seg.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[16:20])), 0)
	if more && ipLen-ihl < 20 {
		return Fragment // the TCP header is split across fragments
	}
	return firstFragment(decodeTCP(b[ihl:], ipLen-ihl, seg), more, seg)
}

// firstFragment qualifies what decodeTCP found in a datagram's first
// fragment (more is set): a TCP header that runs past the fragment is
// split across fragments, not malformed.
func firstFragment(st DecodeStatus, more bool, seg *Segment) DecodeStatus {
	switch {
	case !more:
		return st
	case st == Malformed:
		return Fragment
	case st == DecodedTCP:
		seg.Fragmented = true
	}
	return st
}

// IPv6 extension headers (RFC 8200 section 4) that may stand before TCP.
const (
	ip6HopByHop = 0
	ip6Routing  = 43
	ip6Fragment = 44
	ip6AH       = 51
	ip6DestOpts = 60
	ip6Mobility = 135
	ip6HIP      = 139
	ip6Shim6    = 140
	ip6NoNext   = 59

	// maxIPv6ExtHeaders bounds the walk over extension headers.
	maxIPv6ExtHeaders = 16
)

func decodeIPv6(b []byte, wireLen int, seg *Segment, depth int) DecodeStatus {
	if len(b) < 40 {
		return CutShort
	}
	if b[0]>>4 != 6 {
		return Malformed
	}
	// Payload length 0 is a jumbogram or TSO: fall back to the wire length.
	payLen := int(binary.BigEndian.Uint16(b[4:6]))
	if payLen == 0 {
		payLen = wireLen - 40
	}
	next := b[6]
	src, dst := [16]byte(b[8:24]), [16]byte(b[24:40])
	rest := b[40:]
	more := false
	for i := 0; next != protoTCP; i++ {
		if i == maxIPv6ExtHeaders {
			return Malformed
		}
		var hdrLen int
		switch next {
		case ip6HopByHop, ip6Routing, ip6DestOpts, ip6Mobility, ip6HIP, ip6Shim6:
			if len(rest) < 2 {
				return CutShort
			}
			hdrLen = (int(rest[1]) + 1) * 8
		case ip6Fragment:
			if len(rest) < 8 {
				return CutShort
			}
			if binary.BigEndian.Uint16(rest[2:4])&0xfff8 != 0 {
				return Fragment
			}
			more = more || rest[3]&1 != 0
			hdrLen = 8
		case ip6AH:
			if len(rest) < 2 {
				return CutShort
			}
			hdrLen = (int(rest[1]) + 2) * 4
		default:
			if tunnel(next) {
				return decodeTunnel(next, rest, payLen, seg, depth)
			}
			return NotTCP // ESP, no next header, or a transport other than TCP
		}
		if len(rest) < hdrLen {
			return CutShort
		}
		next = rest[0]
		rest = rest[hdrLen:]
		payLen -= hdrLen
	}
	seg.Src = netip.AddrPortFrom(netip.AddrFrom16(src), 0)
	seg.Dst = netip.AddrPortFrom(netip.AddrFrom16(dst), 0)
	if more && payLen < 20 {
		return Fragment
	}
	return firstFragment(decodeTCP(rest, payLen, seg), more, seg)
}

// decodeTCP reads the TCP header at the start of b; segLen is the segment's
// length (header and payload) according to the IP header.
func decodeTCP(b []byte, segLen int, seg *Segment) DecodeStatus {
	if len(b) < 14 { // through the flags byte
		return CutShort
	}
	doff := int(b[12]>>4) * 4
	if doff < 20 || doff > segLen {
		// The data offset is below the fixed header, or past the end of
		// the segment the IP header describes: not a snaplen cut.
		return Malformed
	}
	seg.Src = netip.AddrPortFrom(seg.Src.Addr(), binary.BigEndian.Uint16(b[0:2]))
	seg.Dst = netip.AddrPortFrom(seg.Dst.Addr(), binary.BigEndian.Uint16(b[2:4]))
	seg.Seq = binary.BigEndian.Uint32(b[4:8])
	seg.Ack = binary.BigEndian.Uint32(b[8:12])
	seg.Flags = b[13]
	seg.DataLen = max(segLen-doff, 0)
	seg.Fragmented = false
	// Options written once, not cleared and then parsed into.
	switch captured := min(len(b), doff); {
	case seg.Flags&FlagSYN == 0:
		seg.Options = Options{}
	case captured < 20:
		// Cut inside the fixed header: the options are not there at all.
		seg.Options = Options{Stop: WalkTruncated}
	default:
		seg.Options = ParseOptions(b[20:captured], doff-20)
	}
	return DecodedTCP
}

// IPFragment describes an IPv4 fragment: which datagram it belongs to and
// where in it it lies.
type IPFragment struct {
	// Datagram identifies the datagram: addresses, protocol and IP ID.
	Datagram [10]byte
	// Offset is where the fragment's payload starts in the datagram's;
	// Len is how long that payload is; More is the more-fragments flag.
	Offset, Len int
	More        bool
}

// FragmentOf reads the IPv4 fragment fields of a frame of link type lt;
// ok is false when the frame is not an IPv4 fragment (or not IPv4 at the
// outermost level). It does not allocate.
func FragmentOf(lt uint16, data []byte) (f IPFragment, ok bool) {
	ip, et, st := linkPayload(lt, data)
	if st != DecodedTCP || et != etherIPv4 || len(ip) < 20 || ip[0]>>4 != 4 {
		return f, false
	}
	ihl := int(ip[0]&0x0f) * 4
	word := binary.BigEndian.Uint16(ip[6:8])
	ipLen := int(binary.BigEndian.Uint16(ip[2:4]))
	if ihl < 20 || ipLen < ihl || word&0x3fff == 0 {
		return f, false
	}
	copy(f.Datagram[0:8], ip[12:20])
	f.Datagram[8], f.Datagram[9] = ip[4], ip[5]
	if ip[9] != protoTCP {
		return f, false
	}
	f.Offset, f.Len, f.More = int(word&0x1fff)*8, ipLen-ihl, word&0x2000 != 0
	return f, true
}
