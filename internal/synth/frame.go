package synth

import (
	"bufio"
	"encoding/binary"
	"net/netip"
)

// TCP flags and option kinds, as tfopcap's analyze package names them.
const (
	fin = 0x01
	syn = 0x02
	rst = 0x04
	psh = 0x08
	ack = 0x10

	optNOP      = 1
	optMSS      = 2
	optWS       = 3
	optSACKPerm = 4
	optSACK     = 5
	optTS       = 8
	optMPTCP    = 30 // RFC 8684
	optTFO      = 34 // RFC 7413
	optExp      = 254
	exidTFO     = 0xF989
)

// Frame sizes: Ethernet, IPv4 without options, IPv6 without extension
// headers, and a TCP header with the timestamps option that data segments
// of Linux connections carry.
const (
	ethLen   = 14
	ip4Len   = 20
	ip6Len   = 40
	tcpLen   = 20
	tsOptLen = 12 // NOP NOP TS
	mtu      = 1500
)

// pcapWriter writes a little-endian microsecond pcap.
type pcapWriter struct {
	w       *bufio.Writer
	bytes   int64 // file bytes written
	packets int64
	syns    int64  // packets with SYN or RST, which tfopcap analyses
	frame   []byte // scratch: one frame
	payload []byte // bytes data segments carry
}

func newPcapWriter(w *bufio.Writer) *pcapWriter {
	p := &pcapWriter{w: w, frame: make([]byte, 0, 2048), payload: make([]byte, mtu)}
	// Data segments carry a fixed pseudo-random pattern: tfopcap never
	// looks at payload, and compressors should not find it trivial.
	x := uint32(2463534242)
	for i := range p.payload {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p.payload[i] = byte(x)
	}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144) // snaplen
	binary.LittleEndian.PutUint32(h[20:], 1)      // LINKTYPE_ETHERNET
	p.w.Write(h[:])
	p.bytes = int64(len(h))
	return p
}

// segment is one TCP segment to write.
type segment struct {
	src, dst netip.AddrPort
	seq, ack uint32
	flags    uint8
	window   uint16
	opts     []byte // TCP options, padded by write to a multiple of 4
	dataLen  int
	ipID     uint16
}

var (
	macClient = [6]byte{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}
	macServer = [6]byte{0x02, 0x00, 0x5e, 0x10, 0x00, 0x02}
)

// write appends one Ethernet frame holding s at time ns. toServer picks
// the MAC addresses' direction.
func (p *pcapWriter) write(ns int64, s *segment, toServer bool) {
	optLen := (len(s.opts) + 3) &^ 3
	v6 := s.src.Addr().Is6()
	ipLen := ip4Len
	if v6 {
		ipLen = ip6Len
	}
	tcpHdr := tcpLen + optLen
	n := ethLen + ipLen + tcpHdr + s.dataLen
	f := p.frame[:n]

	// Ethernet.
	if toServer {
		copy(f[0:6], macServer[:])
		copy(f[6:12], macClient[:])
	} else {
		copy(f[0:6], macClient[:])
		copy(f[6:12], macServer[:])
	}
	ip := f[ethLen:]
	if v6 {
		binary.BigEndian.PutUint16(f[12:], 0x86dd)
		binary.BigEndian.PutUint32(ip[0:], 0x60000000)
		binary.BigEndian.PutUint16(ip[4:], uint16(tcpHdr+s.dataLen))
		ip[6] = 6 // TCP
		ip[7] = 64
		a, b := s.src.Addr().As16(), s.dst.Addr().As16()
		copy(ip[8:24], a[:])
		copy(ip[24:40], b[:])
	} else {
		binary.BigEndian.PutUint16(f[12:], 0x0800)
		ip[0] = 0x45
		ip[1] = 0
		binary.BigEndian.PutUint16(ip[2:], uint16(ip4Len+tcpHdr+s.dataLen))
		binary.BigEndian.PutUint16(ip[4:], s.ipID)
		binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
		ip[8] = 64
		ip[9] = 6
		ip[10], ip[11] = 0, 0
		a, b := s.src.Addr().As4(), s.dst.Addr().As4()
		copy(ip[12:16], a[:])
		copy(ip[16:20], b[:])
		binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip[:ip4Len]))
	}
	t := ip[ipLen:]
	binary.BigEndian.PutUint16(t[0:], s.src.Port())
	binary.BigEndian.PutUint16(t[2:], s.dst.Port())
	binary.BigEndian.PutUint32(t[4:], s.seq)
	binary.BigEndian.PutUint32(t[8:], s.ack)
	t[12] = byte(tcpHdr/4) << 4
	t[13] = s.flags
	binary.BigEndian.PutUint16(t[14:], s.window)
	// Checksum left zero, as in captures taken on a host with offload.
	t[16], t[17], t[18], t[19] = 0, 0, 0, 0
	o := t[tcpLen:tcpHdr]
	copy(o, s.opts)
	for i := len(s.opts); i < optLen; i++ {
		o[i] = optNOP
	}
	copy(t[tcpHdr:], p.payload[:s.dataLen])

	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(ns/1e9))
	binary.LittleEndian.PutUint32(h[4:], uint32(ns%1e9/1e3))
	binary.LittleEndian.PutUint32(h[8:], uint32(n))
	binary.LittleEndian.PutUint32(h[12:], uint32(n))
	p.w.Write(h[:])
	p.w.Write(f)
	p.bytes += int64(len(h) + n)
	p.packets++
	if s.flags&(syn|rst) != 0 {
		p.syns++
	}
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// Option builders append to b and return it.

func optSYN(b []byte, mss uint16, tsval, tsecr uint32) []byte {
	// Linux's order: MSS, SACK permitted, timestamps, NOP, window scale.
	b = append(b, optMSS, 4, byte(mss>>8), byte(mss))
	b = append(b, optSACKPerm, 2)
	b = appendTS(b, tsval, tsecr)
	return append(b, optNOP, optWS, 3, 7)
}

func appendTS(b []byte, tsval, tsecr uint32) []byte {
	b = append(b, optTS, 10)
	b = binary.BigEndian.AppendUint32(b, tsval)
	return binary.BigEndian.AppendUint32(b, tsecr)
}

// optTFOReq appends a cookie request in kind 34 or the experimental 254
// encoding.
func optTFOReq(b []byte, kind uint8) []byte {
	if kind == optExp {
		return append(b, optExp, 4, exidTFO>>8, exidTFO&0xff)
	}
	return append(b, optTFO, 2)
}

func optTFOCookie(b []byte, kind uint8, cookie []byte) []byte {
	if kind == optExp {
		b = append(b, optExp, byte(4+len(cookie)), exidTFO>>8, exidTFO&0xff)
	} else {
		b = append(b, optTFO, byte(2+len(cookie)))
	}
	return append(b, cookie...)
}

// optMPCapableSYN is a client's MP_CAPABLE v1 in a SYN (RFC 8684 3.1: no key).
func optMPCapableSYN(b []byte) []byte {
	return append(b, optMPTCP, 4, 0x01, 0x81)
}

// optMPCapableSYNACK carries the server's 64-bit key.
func optMPCapableSYNACK(b []byte, key uint64) []byte {
	b = append(b, optMPTCP, 12, 0x01, 0x01)
	return binary.BigEndian.AppendUint64(b, key)
}

// optDSS is a DSS option with a 4-byte data ACK, as MPTCP data segments
// carry.
func optDSS(b []byte, dataAck uint32) []byte {
	b = append(b, optMPTCP, 8, 0x20, 0x01)
	return binary.BigEndian.AppendUint32(b, dataAck)
}

func optSACKBlock(b []byte, left, right uint32) []byte {
	b = append(b, optNOP, optNOP, optSACK, 10)
	b = binary.BigEndian.AppendUint32(b, left)
	return binary.BigEndian.AppendUint32(b, right)
}
