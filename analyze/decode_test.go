package analyze

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

// tcpSeg builds a TCP header with options (padded to 4 bytes) and payload.
func tcpSeg(sport, dport uint16, seq, ack uint32, flags uint8, opts, payload []byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, 1)
	}
	h := make([]byte, 20+len(opts))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint32(h[4:], seq)
	binary.BigEndian.PutUint32(h[8:], ack)
	h[12] = byte(len(h)/4) << 4
	h[13] = flags
	copy(h[20:], opts)
	return append(h, payload...)
}

// ipv4 wraps a TCP segment in IPv4 with optional IP options.
func ipv4(src, dst string, ipOpts, tcp []byte) []byte {
	h := make([]byte, 20+len(ipOpts))
	h[0] = 0x40 | byte(len(h)/4)
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(tcp)))
	h[8] = 64
	h[9] = protoTCP
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	copy(h[20:], ipOpts)
	return append(h, tcp...)
}

// ipv6 wraps a TCP segment in IPv6 behind the given extension headers, each
// given as (next header, body) and laid out in order.
func ipv6(src, dst string, ext [][]byte, tcp []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	h[7] = 64
	next := &h[6]
	var body []byte
	for _, e := range ext {
		*next = e[0]
		hdr := append([]byte{0}, e[1:]...)
		body = append(body, hdr...)
		next = &body[len(body)-len(hdr)]
	}
	*next = protoTCP
	body = append(body, tcp...)
	binary.BigEndian.PutUint16(h[4:], uint16(len(body)))
	return append(h, body...)
}

// tunnelIPv4 wraps an inner packet in IPv4 with protocol proto, after hdr
// (a GRE header, or nothing for IP-in-IP).
func tunnelIPv4(proto uint8, hdr, inner []byte) []byte {
	b := ipv4("203.0.113.1", "203.0.113.2", nil, append(bytes.Clone(hdr), inner...))
	b[9] = proto
	return b
}

func ether(etherTypes []uint16, payload []byte) []byte {
	b := make([]byte, 12)
	for i, et := range etherTypes {
		b = binary.BigEndian.AppendUint16(b, et)
		if i < len(etherTypes)-1 {
			b = append(b, 0, 100) // TCI: VLAN 100
		}
	}
	return append(b, payload...)
}

func TestDecode(t *testing.T) {
	synOpts := []byte{2, 4, 5, 180, 34, 2, 30, 4, 0x01, 0x81}
	syn4 := ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(55658, 8001, 1000, 0, FlagSYN, synOpts, nil))
	syn6 := ipv6("2001:db8::1", "2001:db8::2", nil, tcpSeg(55658, 8001, 1000, 0, FlagSYN, synOpts, []byte("hello")))
	sll := func(proto uint16, p []byte) []byte {
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[14:], proto)
		return append(h, p...)
	}
	sll2 := func(proto uint16, p []byte) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], proto)
		return append(h, p...)
	}
	hbh := []byte{ip6HopByHop, 0, 1, 4, 0, 0, 0, 0}                          // 8-byte hop-by-hop with PadN
	dst := []byte{ip6DestOpts, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // 16-byte destination options
	frag0 := []byte{ip6Fragment, 0, 0, 1, 0, 0, 0, 1}                        // offset 0, more fragments
	frag8 := []byte{ip6Fragment, 0, 0, 8, 0, 0, 0, 1}                        // offset 8: no TCP header
	ah := []byte{ip6AH, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}                     // 12-byte AH

	tests := []struct {
		name    string
		lt      uint16
		frame   []byte
		want    DecodeStatus
		src     string
		dataLen int
	}{
		{"ethernet ipv4", LinkEthernet, ether([]uint16{etherIPv4}, syn4), DecodedTCP, "192.0.2.1:55658", 0},
		{"ethernet 802.1q", LinkEthernet, ether([]uint16{etherVLAN, etherIPv4}, syn4), DecodedTCP, "192.0.2.1:55658", 0},
		{"ethernet qinq", LinkEthernet, ether([]uint16{etherQinQ, etherVLAN, etherIPv4}, syn4), DecodedTCP, "192.0.2.1:55658", 0},
		{"ethernet old qinq", LinkEthernet, ether([]uint16{etherQinQv1, etherVLAN, etherIPv6}, syn6), DecodedTCP, "[2001:db8::1]:55658", 5},
		{"ethernet too many tags", LinkEthernet, ether([]uint16{etherVLAN, etherVLAN, etherVLAN, etherVLAN, etherVLAN, etherVLAN, etherVLAN, etherVLAN, etherVLAN, etherIPv4}, syn4), Malformed, "", 0},
		{"ethernet padding ignored", LinkEthernet, append(ether([]uint16{etherIPv4}, syn4), 0, 0, 0, 0), DecodedTCP, "192.0.2.1:55658", 0},
		{"ethernet arp", LinkEthernet, ether([]uint16{0x0806}, make([]byte, 28)), NotTCP, "", 0},
		{"ethernet cut in header", LinkEthernet, ether([]uint16{etherIPv4}, syn4)[:13], CutShort, "", 0},
		{"ethernet cut in tag", LinkEthernet, ether([]uint16{etherVLAN, etherIPv4}, syn4)[:16], CutShort, "", 0},
		{"ethernet ipv6", LinkEthernet, ether([]uint16{etherIPv6}, syn6), DecodedTCP, "[2001:db8::1]:55658", 5},
		{"sll ipv4", LinkSLL, sll(etherIPv4, syn4), DecodedTCP, "192.0.2.1:55658", 0},
		{"sll vlan", LinkSLL, sll(etherVLAN, append([]byte{0, 100, 0x08, 0x00}, syn4...)), DecodedTCP, "192.0.2.1:55658", 0},
		{"sll2 ipv6", LinkSLL2, sll2(etherIPv6, syn6), DecodedTCP, "[2001:db8::1]:55658", 5},
		{"raw ipv4", LinkRaw, syn4, DecodedTCP, "192.0.2.1:55658", 0},
		{"raw ipv6", LinkRaw, syn6, DecodedTCP, "[2001:db8::1]:55658", 5},
		{"raw bsd 12", LinkRawBSD, syn4, DecodedTCP, "192.0.2.1:55658", 0},
		{"raw bsd 14", LinkRawBSD2, syn6, DecodedTCP, "[2001:db8::1]:55658", 5},
		{"raw version 5", LinkRaw, append([]byte{0x50}, syn4[1:]...), NotTCP, "", 0},
		{"linktype ipv4", LinkIPv4, syn4, DecodedTCP, "192.0.2.1:55658", 0},
		{"linktype ipv6", LinkIPv6, syn6, DecodedTCP, "[2001:db8::1]:55658", 5},
		{"null little-endian inet", LinkNull, append([]byte{2, 0, 0, 0}, syn4...), DecodedTCP, "192.0.2.1:55658", 0},
		{"null big-endian inet6 freebsd", LinkNull, append([]byte{0, 0, 0, 28}, syn6...), DecodedTCP, "[2001:db8::1]:55658", 5},
		{"null darwin inet6", LinkNull, append([]byte{30, 0, 0, 0}, syn6...), DecodedTCP, "[2001:db8::1]:55658", 5},
		{"null unknown family", LinkNull, append([]byte{7, 0, 0, 0}, syn4...), NotTCP, "", 0},
		{"loop inet", LinkLoop, append([]byte{0, 0, 0, 2}, syn4...), DecodedTCP, "192.0.2.1:55658", 0},
		{"ppp ipv4", LinkPPP, append([]byte{0x00, 0x21}, syn4...), DecodedTCP, "192.0.2.1:55658", 0},
		{"ppp hdlc framing ipv6", LinkPPP, append([]byte{0xff, 0x03, 0x00, 0x57}, syn6...), DecodedTCP, "[2001:db8::1]:55658", 5},
		{"ppp compressed protocol", LinkPPP, append([]byte{0x21}, syn4...), DecodedTCP, "192.0.2.1:55658", 0},
		{"ppp_hdlc", LinkPPPHDLC, append([]byte{0xff, 0x03, 0x00, 0x21}, syn4...), DecodedTCP, "192.0.2.1:55658", 0},
		{"ppp lcp", LinkPPP, append([]byte{0xc0, 0x21}, syn4...), NotTCP, "", 0},
		{"unsupported link", 127, syn4, UnsupportedLink, "", 0},
		{"ipv4 options", LinkRaw, ipv4("192.0.2.1", "192.0.2.2", []byte{1, 1, 1, 0, 7, 3, 4, 0}, tcpSeg(1, 2, 3, 0, FlagSYN, []byte{34, 2}, nil)), DecodedTCP, "192.0.2.1:1", 0},
		{"ipv4 udp", LinkRaw, func() []byte { b := bytes.Clone(syn4); b[9] = 17; return b }(), NotTCP, "", 0},
		{"ipv4 later fragment", LinkRaw, func() []byte { b := bytes.Clone(syn4); b[7] = 8; return b }(), Fragment, "", 0},
		{"ipv4 ihl 4", LinkRaw, func() []byte { b := bytes.Clone(syn4); b[0] = 0x44; return b }(), Malformed, "", 0},
		{"ipv4 cut in tcp", LinkRaw, syn4[:30], CutShort, "", 0},
		{"ipv6 hop-by-hop", LinkRaw, ipv6("2001:db8::1", "2001:db8::2", [][]byte{hbh}, tcpSeg(1, 2, 3, 0, FlagSYN, []byte{34, 2}, []byte{1, 2})), DecodedTCP, "[2001:db8::1]:1", 2},
		{"ipv6 hbh dst frag0 ah", LinkRaw, ipv6("2001:db8::1", "2001:db8::2", [][]byte{hbh, dst, frag0, ah}, tcpSeg(1, 2, 3, 0, FlagSYN, nil, nil)), DecodedTCP, "[2001:db8::1]:1", 0},
		{"ipv6 later fragment", LinkRaw, ipv6("2001:db8::1", "2001:db8::2", [][]byte{frag8}, tcpSeg(1, 2, 3, 0, FlagSYN, nil, nil)), Fragment, "", 0},
		{"ipv6 esp", LinkRaw, func() []byte { b := bytes.Clone(syn6); b[6] = 50; return b }(), NotTCP, "", 0},
		{"ipv6 cut in ext header", LinkRaw, ipv6("2001:db8::1", "2001:db8::2", [][]byte{dst}, nil)[:44], CutShort, "", 0},
		{"mpls one label", LinkEthernet, ether([]uint16{etherMPLS}, append([]byte{0, 0x10, 0x01, 64}, syn4...)), DecodedTCP, "192.0.2.1:55658", 0},
		{"mpls two labels ipv6", LinkEthernet, ether([]uint16{etherVLAN, etherMPLS}, append([]byte{0, 0x10, 0x00, 64, 0, 0x20, 0x01, 64}, syn6...)), DecodedTCP, "[2001:db8::1]:55658", 5},
		{"mpls cut in stack", LinkEthernet, ether([]uint16{etherMPLS}, []byte{0, 0x10, 0x00, 64, 0, 0x20}), CutShort, "", 0},
		{"pppoe session ipv4", LinkEthernet, ether([]uint16{etherPPPoE}, append([]byte{0x11, 0, 0, 1, 0, 0, 0x00, 0x21}, syn4...)), DecodedTCP, "192.0.2.1:55658", 0},
		{"pppoe session ipv6", LinkEthernet, ether([]uint16{etherPPPoE}, append([]byte{0x11, 0, 0, 1, 0, 0, 0x00, 0x57}, syn6...)), DecodedTCP, "[2001:db8::1]:55658", 5},
		{"ipip", LinkRaw, tunnelIPv4(protoIPIP, nil, syn4), DecodedTCP, "192.0.2.1:55658", 0},
		{"6in4", LinkRaw, tunnelIPv4(protoIPv6, nil, syn6), DecodedTCP, "[2001:db8::1]:55658", 5},
		{"gre ipv4", LinkEthernet, ether([]uint16{etherIPv4}, tunnelIPv4(protoGRE, []byte{0, 0, 0x08, 0x00}, syn4)), DecodedTCP, "192.0.2.1:55658", 0},
		{"gre with key and sequence", LinkRaw, tunnelIPv4(protoGRE, []byte{0x30, 0, 0x86, 0xdd, 0, 0, 0, 7, 0, 0, 0, 1}, syn6), DecodedTCP, "[2001:db8::1]:55658", 5},
		{"gre transparent ethernet", LinkRaw, tunnelIPv4(protoGRE, []byte{0, 0, 0x65, 0x58}, ether([]uint16{etherVLAN, etherIPv4}, syn4)), DecodedTCP, "192.0.2.1:55658", 0},
		{"gre version 1 (pptp)", LinkRaw, tunnelIPv4(protoGRE, []byte{0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 7}, syn4), NotTCP, "", 0},
		{"tunnels five deep", LinkRaw, tunnelIPv4(protoIPIP, nil, tunnelIPv4(protoIPIP, nil, tunnelIPv4(protoIPIP, nil, tunnelIPv4(protoIPIP, nil, tunnelIPv4(protoIPIP, nil, syn4))))), Malformed, "", 0},
		{"tcp data offset 4", LinkRaw, func() []byte { b := bytes.Clone(syn4); b[32] = 0x40; return b }(), Malformed, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seg Segment
			wire := len(tt.frame)
			if tt.want == CutShort {
				wire += 100 // snaplen cut the frame
			}
			got := Decode(tt.lt, tt.frame, wire, &seg)
			if got != tt.want {
				t.Fatalf("Decode = %v, want %v", got, tt.want)
			}
			if got != DecodedTCP {
				return
			}
			if seg.Src.String() != tt.src {
				t.Errorf("src = %v, want %v", seg.Src, tt.src)
			}
			if seg.DataLen != tt.dataLen {
				t.Errorf("data length = %d, want %d", seg.DataLen, tt.dataLen)
			}
			if !seg.IsSYN() {
				t.Errorf("flags %#x: not a SYN", seg.Flags)
			}
		})
	}
}

// TestDecodeSnaplen checks that a SYN cut by snaplen inside its options is
// marked truncated and its data length still comes from the IP header.
func TestDecodeSnaplen(t *testing.T) {
	opts := []byte{2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8}
	frame := ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 0, FlagSYN, opts, make([]byte, 100))))
	for _, snap := range []int{14 + 20 + 14, 14 + 20 + 20, 14 + 20 + 30, 14 + 20 + 40, 14 + 20 + 20 + 26} {
		var seg Segment
		if st := Decode(LinkEthernet, frame[:snap], len(frame), &seg); st != DecodedTCP {
			t.Fatalf("snap %d: Decode = %v", snap, st)
		}
		if seg.Options.Stop != WalkTruncated {
			t.Errorf("snap %d: stop = %v, want truncated", snap, seg.Options.Stop)
		}
		if seg.DataLen != 100 {
			t.Errorf("snap %d: data length = %d, want 100", snap, seg.DataLen)
		}
	}
	var seg Segment
	if st := Decode(LinkEthernet, frame[:14+20+13], len(frame), &seg); st != CutShort {
		t.Errorf("cut before the flags: Decode = %v, want cut-short", st)
	}
}

// TestDecodeShortNotCut checks that a header running past the end of a
// frame that snaplen did not cut (captured length == original length) is
// malformed, not "cut by snaplen": the frame holds all there was.
func TestDecodeShortNotCut(t *testing.T) {
	opts := []byte{2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8}
	syn := ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 0, FlagSYN, opts, nil))
	// The data offset says 60 bytes of header, the IP total length 40.
	overrun := bytes.Clone(syn[:40])
	overrun[2], overrun[3] = 0, 40
	overrun[32] = 0xf0
	tests := []struct {
		name  string
		frame []byte
		wire  int
		want  DecodeStatus
		stop  WalkStop
	}{
		{"options cut by snaplen", syn[:50], len(syn), DecodedTCP, WalkTruncated},
		{"options end with the frame, not cut", syn[:50], 50, Malformed, 0},
		{"flags cut by snaplen", syn[:30], len(syn), CutShort, 0},
		{"frame ends before the flags, not cut", syn[:30], 30, Malformed, 0},
		{"data offset past the ip length", overrun, len(overrun), Malformed, 0},
		{"data offset past the ip length, cut", overrun, 100, Malformed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seg Segment
			st := Decode(LinkRaw, tt.frame, tt.wire, &seg)
			if st != tt.want {
				t.Fatalf("Decode = %v, want %v", st, tt.want)
			}
			if st == DecodedTCP && seg.Options.Stop != tt.stop {
				t.Errorf("stop = %v, want %v", seg.Options.Stop, tt.stop)
			}
		})
	}
}

// TestDecodeTSO checks that a zero IP total length (TSO on the capturing
// host) falls back to the wire length.
func TestDecodeTSO(t *testing.T) {
	ip := ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, make([]byte, 3000)))
	ip[2], ip[3] = 0, 0
	var seg Segment
	if st := Decode(LinkRaw, ip[:200], len(ip), &seg); st != DecodedTCP {
		t.Fatalf("Decode = %v", st)
	}
	if seg.DataLen != 3000 {
		t.Errorf("data length = %d, want 3000", seg.DataLen)
	}
}

func TestDecodeAllocs(t *testing.T) {
	syn := tcpSeg(1, 2, 3, 0, FlagSYN, []byte{34, 2, 30, 4, 1, 129}, nil)
	for name, frame := range map[string][]byte{
		"vlan ipv6":  ether([]uint16{etherVLAN, etherIPv6}, ipv6("2001:db8::1", "2001:db8::2", nil, syn)),
		"gre bridge": ether([]uint16{etherIPv4}, tunnelIPv4(protoGRE, []byte{0x20, 0, 0x65, 0x58, 0, 0, 0, 7}, ether([]uint16{etherIPv4}, ipv4("10.0.0.1", "10.0.0.2", nil, syn)))),
	} {
		var seg Segment
		if st := Decode(LinkEthernet, frame, len(frame), &seg); st != DecodedTCP {
			t.Fatalf("%s: %v", name, st)
		}
		if n := testing.AllocsPerRun(100, func() { Decode(LinkEthernet, frame, len(frame), &seg) }); n != 0 {
			t.Errorf("%s: Decode allocates %v times per frame", name, n)
		}
	}
}

func BenchmarkDecodeSYN(b *testing.B) {
	frame := ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 0, FlagSYN, []byte{2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 34, 2}, nil)))
	var seg Segment
	b.ReportAllocs()
	for b.Loop() {
		Decode(LinkEthernet, frame, len(frame), &seg)
	}
}

func BenchmarkDecodeData(b *testing.B) {
	frame := ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}, make([]byte, 1448))))
	var seg Segment
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		Decode(LinkEthernet, frame, len(frame), &seg)
	}
}

func FuzzDecode(f *testing.F) {
	syn := tcpSeg(55658, 8001, 1000, 0, FlagSYN, []byte{2, 4, 5, 180, 34, 2, 30, 4, 1, 129}, nil)
	f.Add(uint16(LinkEthernet), ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, syn)))                                                                                 // plain Ethernet SYN
	f.Add(uint16(LinkEthernet), ether([]uint16{etherQinQ, etherVLAN, etherIPv6}, ipv6("2001:db8::1", "2001:db8::2", nil, syn)))                                                       // QinQ IPv6
	f.Add(uint16(LinkSLL2), append(make([]byte, 20), ipv4("10.0.0.1", "10.0.0.2", nil, syn)...))                                                                                      // SLL2 with protocol 0
	f.Add(uint16(LinkRaw), ipv6("2001:db8::1", "2001:db8::2", [][]byte{{ip6HopByHop, 0, 1, 4, 0, 0, 0, 0}, {ip6Fragment, 0, 0, 0, 0, 0, 0, 1}}, syn))                                 // extension headers
	f.Add(uint16(LinkRaw), ipv4("192.0.2.1", "192.0.2.2", []byte{1, 1, 1, 0}, syn)[:30])                                                                                              // cut inside TCP
	f.Add(uint16(LinkNull), append([]byte{2, 0, 0, 0}, ipv4("192.0.2.1", "192.0.2.2", nil, syn)...))                                                                                  // BSD loopback
	f.Add(uint16(LinkPPP), append([]byte{0xff, 0x03, 0x00, 0x21}, ipv4("192.0.2.1", "192.0.2.2", nil, syn)...))                                                                       // PPP
	f.Add(uint16(LinkEthernet), ether([]uint16{etherMPLS}, append([]byte{0, 0x10, 0x01, 64}, ipv4("192.0.2.1", "192.0.2.2", nil, syn)...)))                                           // MPLS
	f.Add(uint16(LinkRaw), tunnelIPv4(protoGRE, []byte{0xb0, 0, 0x65, 0x58, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1}, ether([]uint16{etherIPv4}, ipv4("10.0.0.1", "10.0.0.2", nil, syn)))) // GRE with every option, bridged Ethernet
	f.Add(uint16(LinkEthernet), ether([]uint16{etherPPPoE}, append([]byte{0x11, 0, 0, 1, 0, 0, 0x00, 0x21}, ipv4("192.0.2.1", "192.0.2.2", nil, syn)...)))                            // PPPoE
	f.Add(uint16(LinkRaw), []byte{0x4f})                                                                                                                                              // one byte
	f.Fuzz(func(t *testing.T, lt uint16, frame []byte) {
		var seg Segment
		st := Decode(lt, frame, len(frame), &seg)
		if st == DecodedTCP && seg.DataLen < 0 {
			t.Fatalf("negative data length %d", seg.DataLen)
		}
	})
}

func TestLinkInterface(t *testing.T) {
	sll2 := []byte{0x08, 0x00, 0, 0, 0, 0, 0, 7, 0, 1, 4, 6, 0, 0, 0, 0, 0, 0, 0, 0}
	if idx, ok := LinkInterface(LinkSLL2, sll2); !ok || idx != 7 {
		t.Errorf("SLL2: %d, %v; want 7, true", idx, ok)
	}
	if _, ok := LinkInterface(LinkSLL2, sll2[:6]); ok {
		t.Error("SLL2 cut before the ifindex: want false")
	}
	if _, ok := LinkInterface(LinkEthernet, sll2); ok {
		t.Error("Ethernet names no interface: want false")
	}
}

// TestFragmentedTFOSYN cuts a TFO SYN carrying 2000 bytes of data into
// two IPv4 fragments, as a path MTU of 1500 would. The first fragment's
// TCP header is whole: it decodes, marked fragmented (its data length a
// lower bound); the second is a fragment. The SYN-ACK acknowledging all
// 2000 bytes answers it: accepted. Before, the first fragment read as a
// short SYN, the SYN-ACK matched nothing (a SYN-ACK without SYN) and the
// attempt was unanswered.
func TestFragmentedTFOSYN(t *testing.T) {
	cookie := []byte{34, 10, 1, 2, 3, 4, 5, 6, 7, 8}
	syn := ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(40000, 443, 1000, 0, FlagSYN, cookie, make([]byte, 2000)))
	const cut = 20 + 1480 // IP header + a multiple of 8
	first := bytes.Clone(syn[:cut])
	binary.BigEndian.PutUint16(first[2:], cut)
	first[6] = 0x20 // more fragments
	second := append(bytes.Clone(syn[:20]), syn[cut:]...)
	binary.BigEndian.PutUint16(second[2:], uint16(len(second)))
	binary.BigEndian.PutUint16(second[6:], 1480/8)

	var seg Segment
	if st := Decode(LinkRaw, first, len(first), &seg); st != DecodedTCP || !seg.Fragmented || seg.Options.TFO.State != TFOCookie {
		t.Fatalf("first fragment: %v, fragmented %v, TFO %v", st, seg.Fragmented, seg.Options.TFO.State)
	}
	wantData := cut - 20 - 32 // the TCP header with its options padded to 32 bytes
	if seg.DataLen != wantData {
		t.Errorf("first fragment: data length %d, want %d", seg.DataLen, wantData)
	}
	var later Segment
	if st := Decode(LinkRaw, second, len(second), &later); st != Fragment {
		t.Errorf("second fragment: %v, want fragment", st)
	}
	// IPv6: a fragment header at offset 0 with M set.
	frag0 := []byte{ip6Fragment, 0, 0, 1, 0, 0, 0, 1}
	v6 := ipv6("2001:db8::1", "2001:db8::2", [][]byte{frag0}, tcpSeg(40000, 443, 1000, 0, FlagSYN, cookie, make([]byte, 100)))
	var seg6 Segment
	if st := Decode(LinkRaw, v6, len(v6), &seg6); st != DecodedTCP || !seg6.Fragmented {
		t.Errorf("IPv6 first fragment: %v, fragmented %v; want tcp, true", st, seg6.Fragmented)
	}

	rec := &recorder{}
	tr := NewTracker(rec, 0)
	tr.Add(PacketRef{Frame: 1}, &seg)
	synack := ipv4("192.0.2.2", "192.0.2.1", nil, tcpSeg(443, 40000, 9000, 1000+1+2000, FlagSYN|FlagACK, nil, nil))
	var reply Segment
	if st := Decode(LinkRaw, synack, len(synack), &reply); st != DecodedTCP {
		t.Fatalf("SYN-ACK: %v", st)
	}
	tr.Add(PacketRef{Frame: 3, Time: 1e6}, &reply)
	tr.Flush()
	if len(rec.attempts) != 1 || rec.orphans != 0 {
		t.Fatalf("%d attempts, %d SYN-ACKs without SYN; want 1, 0", len(rec.attempts), rec.orphans)
	}
	if a := rec.attempts[0]; a.Outcome != Accepted || a.Reply.AckedData != 2000 || !a.SYN.Fragmented {
		t.Errorf("outcome %v, acked %d, fragmented %v; want accepted, 2000, true", a.Outcome, a.Reply.AckedData, a.SYN.Fragmented)
	}
}
