package selfprobe

import (
	"encoding/binary"
	"net/netip"

	"github.com/tfopcap/tfopcap/analyze"
)

// TCP flag bits.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagACK = 0x10
)

// synOptions are the probe SYN's options, 20 bytes (a multiple of 4): MSS
// 1460, SACK permitted, window scale 7, a TFO cookie request (RFC 7413:
// kind 34, length 2) and MP_CAPABLE v1 with the HMAC-SHA256 flag (RFC 8684
// section 3.1: kind 30, length 4 in a SYN). No timestamps: none is needed.
var synOptions = []byte{
	2, 4, 0x05, 0xb4, // MSS 1460
	4, 2, // SACK permitted
	1, 3, 3, 7, // NOP, window scale 7
	34, 2, // TFO cookie request
	1, 1, // NOP NOP
	30, 4, 0x01, 0x01, // MP_CAPABLE v1, flag H
	1, 1, // NOP NOP
}

// segment builds a TCP segment from src to dst with a valid checksum.
func segment(src, dst netip.AddrPort, seq uint32, flags uint8, opts []byte) []byte {
	b := make([]byte, 20+len(opts))
	be := binary.BigEndian
	be.PutUint16(b[0:], src.Port())
	be.PutUint16(b[2:], dst.Port())
	be.PutUint32(b[4:], seq)
	b[12] = uint8((20+len(opts))/4) << 4
	b[13] = flags
	be.PutUint16(b[14:], 64240)
	copy(b[20:], opts)
	be.PutUint16(b[16:], checksum(src.Addr(), dst.Addr(), b))
	return b
}

// checksum is the TCP checksum of seg over the IPv4 or IPv6 pseudo header
// (RFC 9293 section 3.1, RFC 8200 section 8.1).
func checksum(src, dst netip.Addr, seg []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for len(b) >= 2 {
			sum += uint32(b[0])<<8 | uint32(b[1])
			b = b[2:]
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	s, d := src.AsSlice(), dst.AsSlice()
	add(s)
	add(d)
	sum += 6 + uint32(len(seg)) // protocol TCP, TCP length
	add(seg)
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// reply is what a received TCP segment says to the probe.
type reply struct {
	kind  string // ReplySYNACK or ReplyRST, "" when it is not the answer
	tfo   analyze.TFOOption
	mptcp string
}

// answer reads seg (a TCP header and what follows) as the answer from
// target to the probe's port for the SYN with sequence number isn; any
// other segment reads as kind "".
func answer(seg []byte, target netip.AddrPort, port uint16, isn uint32) reply {
	if len(seg) < 20 {
		return reply{}
	}
	be := binary.BigEndian
	if be.Uint16(seg[0:]) != target.Port() || be.Uint16(seg[2:]) != port || be.Uint32(seg[8:]) != isn+1 {
		return reply{}
	}
	hlen := int(seg[12]>>4) * 4
	flags := seg[13]
	switch {
	case flags&flagRST != 0:
		return reply{kind: ReplyRST}
	case flags&(flagSYN|flagACK) != flagSYN|flagACK || hlen < 20 || hlen > len(seg):
		return reply{}
	}
	o := analyze.ParseOptions(seg[20:hlen], hlen-20)
	return reply{kind: ReplySYNACK, tfo: o.TFO, mptcp: o.MPTCP.String()}
}

// ipv4Payload strips the IPv4 header a raw IPv4 socket delivers, checking
// that the packet came from src; ok is false otherwise.
func ipv4Payload(pkt []byte, src netip.Addr) ([]byte, bool) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return nil, false
	}
	ihl := int(pkt[0]&0x0f) * 4
	if ihl < 20 || ihl > len(pkt) || netip.AddrFrom4([4]byte(pkt[12:16])) != src {
		return nil, false
	}
	return pkt[ihl:], true
}
