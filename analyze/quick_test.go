package analyze

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// checkQuick fails when QuickFlags claims a frame that Decode does not
// decode as TCP with the same flags, whether the frame was captured whole
// or cut by snaplen (wire lengths beyond it), or its wire length is
// unknown (0).
func checkQuick(t *testing.T, lt uint16, frame []byte) {
	t.Helper()
	flags, ok := QuickFlags(lt, frame)
	if !ok {
		return
	}
	for _, wireLen := range [...]int{len(frame), len(frame) + 1, len(frame) + 1500, 0} {
		var seg Segment
		if st := Decode(lt, frame, wireLen, &seg); st != DecodedTCP || seg.Flags != flags {
			t.Fatalf("QuickFlags = %#x, true; Decode(wire length %d) = %v with flags %#x (link type %d, frame % x)",
				flags, wireLen, st, seg.Flags, lt, frame)
		}
	}
}

// Frames for the QuickFlags tests: a data segment and a SYN, each over
// IPv4 and IPv6.
var (
	quickData4 = ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK|FlagPSH, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}, make([]byte, 100)))
	quickData6 = ipv6("2001:db8::1", "2001:db8::2", nil, tcpSeg(1, 2, 3, 4, FlagACK|FlagPSH, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}, make([]byte, 100)))
	quickSYN4  = ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 0, FlagSYN, []byte{2, 4, 5, 180, 34, 2}, nil))
	quickSYN6  = ipv6("2001:db8::1", "2001:db8::2", nil, tcpSeg(1, 2, 3, 0, FlagSYN, []byte{2, 4, 5, 180, 34, 2}, nil))
)

// sllFrame and sll2Frame put an IP packet of EtherType et behind a Linux
// cooked header, v1 (16 bytes, protocol last) or v2 (20, protocol first).
func sllFrame(et uint16, ip []byte) []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[14:], et)
	return append(h, ip...)
}

func sll2Frame(et uint16, ip []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], et)
	return append(h, ip...)
}

// edit returns a copy of b changed by f.
func edit(b []byte, f func(b []byte)) []byte {
	c := bytes.Clone(b)
	f(c)
	return c
}

func TestQuickFlags(t *testing.T) {
	quick := []struct {
		name  string
		lt    uint16
		frame []byte
		flags uint8
	}{
		{"ethernet ipv4 data", LinkEthernet, ether([]uint16{etherIPv4}, quickData4), FlagACK | FlagPSH},
		{"ethernet ipv4 SYN", LinkEthernet, ether([]uint16{etherIPv4}, quickSYN4), FlagSYN},
		{"ethernet ipv6 data", LinkEthernet, ether([]uint16{etherIPv6}, quickData6), FlagACK | FlagPSH},
		{"ethernet ipv6 SYN", LinkEthernet, ether([]uint16{etherIPv6}, quickSYN6), FlagSYN},
		{"802.1q ipv4", LinkEthernet, ether([]uint16{etherVLAN, etherIPv4}, quickData4), FlagACK | FlagPSH},
		{"802.1q ipv6", LinkEthernet, ether([]uint16{etherVLAN, etherIPv6}, quickData6), FlagACK | FlagPSH},
		{"sll ipv4", LinkSLL, sllFrame(etherIPv4, quickData4), FlagACK | FlagPSH},
		{"sll ipv6", LinkSLL, sllFrame(etherIPv6, quickData6), FlagACK | FlagPSH},
		{"sll2 ipv4", LinkSLL2, sll2Frame(etherIPv4, quickData4), FlagACK | FlagPSH},
		{"sll2 ipv6", LinkSLL2, sll2Frame(etherIPv6, quickSYN6), FlagSYN},
		{"raw ipv4", LinkRaw, quickData4, FlagACK | FlagPSH},
		{"raw ipv6", LinkRawBSD, quickData6, FlagACK | FlagPSH},
		{"ipv4 link", LinkIPv4, quickSYN4, FlagSYN},
		{"ipv6 link", LinkIPv6, quickData6, FlagACK | FlagPSH},
		{"ipv6 header exactly", LinkIPv6, quickData6[:40+14], FlagACK | FlagPSH}, // snaplen right after the flags
	}
	for _, tc := range quick {
		if f, ok := QuickFlags(tc.lt, tc.frame); !ok || f != tc.flags {
			t.Errorf("%s: QuickFlags = %#x, %v; want %#x, true", tc.name, f, ok, tc.flags)
		}
		checkQuick(t, tc.lt, tc.frame)
	}

	data := ether([]uint16{etherIPv4}, quickData4)
	data6 := ether([]uint16{etherIPv6}, quickData6)
	syn6 := ether([]uint16{etherIPv6}, quickSYN6)
	notQuick := []struct {
		name  string
		lt    uint16
		frame []byte
	}{
		{"QinQ", LinkEthernet, ether([]uint16{etherQinQ, etherVLAN, etherIPv4}, quickData4)},
		{"two 802.1q tags", LinkEthernet, ether([]uint16{etherVLAN, etherVLAN, etherIPv6}, quickData6)},
		{"MPLS", LinkEthernet, ether([]uint16{etherMPLS}, append([]byte{0, 1, 1, 64}, quickData4...))},
		{"cut in VLAN tag", LinkEthernet, ether([]uint16{etherVLAN, etherIPv4}, quickData4)[:17]},
		{"IP options", LinkEthernet, ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", []byte{1, 1, 1, 0}, tcpSeg(1, 2, 3, 4, FlagACK, nil, nil)))},
		{"cut in TCP", LinkEthernet, data[:47]},
		{"UDP", LinkEthernet, edit(data, func(b []byte) { b[23] = 17 })},
		{"fragment", LinkEthernet, edit(data, func(b []byte) { binary.BigEndian.PutUint16(b[20:], 0x2001) })},
		{"data offset", LinkEthernet, edit(data, func(b []byte) { b[46] = 4 << 4 })},
		{"version 6 in IPv4", LinkEthernet, edit(data, func(b []byte) { b[14] = 0x65 })},
		{"IPv4 length 0 (TSO)", LinkEthernet, edit(data, func(b []byte) { b[16], b[17] = 0, 0 })},
		{"IPv6 hop-by-hop", LinkEthernet, ether([]uint16{etherIPv6}, ipv6("2001:db8::1", "2001:db8::2", [][]byte{{ip6HopByHop, 0, 1, 4, 0, 0, 0, 0}}, tcpSeg(1, 2, 3, 4, FlagACK, nil, nil)))},
		{"IPv6 fragment header", LinkEthernet, ether([]uint16{etherIPv6}, ipv6("2001:db8::1", "2001:db8::2", [][]byte{{ip6Fragment, 0, 0, 1, 0, 0, 0, 1}}, tcpSeg(1, 2, 3, 4, FlagACK, nil, nil)))},
		{"IPv6 UDP", LinkEthernet, edit(data6, func(b []byte) { b[20] = 17 })},
		{"IPv6 version 4", LinkEthernet, edit(data6, func(b []byte) { b[14] = 0x45 })},
		{"IPv6 payload length 0 (jumbo, TSO)", LinkEthernet, edit(data6, func(b []byte) { b[18], b[19] = 0, 0 })},
		{"IPv6 payload shorter than the data offset", LinkEthernet, edit(data6, func(b []byte) { b[18], b[19] = 0, 31 })},
		{"IPv6 data offset 4", LinkEthernet, edit(data6, func(b []byte) { b[66] = 4 << 4 })},
		{"IPv6 cut before the flags", LinkEthernet, data6[:14+40+13]},
		{"IPv6 SYN cut in its options", LinkEthernet, syn6[:len(syn6)-1]},
		{"IPv6 link, version 4", LinkIPv6, quickData4},
		{"IPv4 link, version 6", LinkIPv4, quickData6},
		{"raw, version 5", LinkRaw, edit(quickData4, func(b []byte) { b[0] = 0x55 })},
		{"raw empty", LinkRaw, nil},
		{"sll cut in header", LinkSLL, sllFrame(etherIPv4, nil)[:15]},
		{"sll2 cut in header", LinkSLL2, sll2Frame(etherIPv4, nil)[:19]},
		{"raw IP read as Ethernet", LinkEthernet, quickData4},
		{"null link", LinkNull, append([]byte{2, 0, 0, 0}, quickData4...)},
		{"unknown link", 147, data},
	}
	for _, tc := range notQuick {
		if _, ok := QuickFlags(tc.lt, tc.frame); ok {
			t.Errorf("%s: QuickFlags claimed it", tc.name)
		}
		checkQuick(t, tc.lt, tc.frame)
	}
}

func TestQuickFlagsAllocs(t *testing.T) {
	data := ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, make([]byte, 1448))))
	data6 := ether([]uint16{etherIPv6}, quickData6)
	if n := testing.AllocsPerRun(100, func() { QuickFlags(LinkEthernet, data); QuickFlags(LinkEthernet, data6) }); n != 0 {
		t.Errorf("QuickFlags allocates %v times", n)
	}
}

// quickLinks are the link types FuzzQuickFlags picks from: those
// QuickFlags takes, one Decode knows that it does not, and one neither does.
var quickLinks = [...]uint16{LinkEthernet, LinkSLL, LinkSLL2, LinkRaw, LinkIPv4, LinkIPv6, LinkNull, 147}

// FuzzQuickFlags: whatever the bytes and the link type, QuickFlags never
// claims a frame that Decode would not decode as TCP with the same flags.
func FuzzQuickFlags(f *testing.F) {
	offsetPastIPLength := ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, make([]byte, 8))))
	offsetPastIPLength[46] = 0xf0
	const eth, sll, sll2, raw, ip6 = 0, 1, 2, 3, 5                                                                                                   // indexes in quickLinks
	f.Add(uint8(eth), ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, make([]byte, 10)))))           // data segment
	f.Add(uint8(eth), ether([]uint16{etherIPv4}, quickSYN4))                                                                                         // SYN with options
	f.Add(uint8(eth), ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", []byte{1, 1, 1, 0}, tcpSeg(1, 2, 3, 4, FlagRST|FlagACK, nil, nil)))) // IP options
	f.Add(uint8(eth), ether([]uint16{etherIPv6}, ipv6("2001:db8::1", "2001:db8::2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, nil))))                    // IPv6
	f.Add(uint8(eth), ether([]uint16{etherIPv6}, quickSYN6))                                                                                         // IPv6 SYN with options
	f.Add(uint8(eth), ether([]uint16{etherIPv6}, ipv6("2001:db8::1", "2001:db8::2", [][]byte{{ip6Fragment, 0, 0, 1, 0, 0, 0, 1}}, quickData6[40:]))) // IPv6 first fragment
	f.Add(uint8(eth), ether([]uint16{etherVLAN, etherIPv6}, quickData6))                                                                             // 802.1Q
	f.Add(uint8(eth), ether([]uint16{etherQinQ, etherVLAN, etherIPv4}, quickData4))                                                                  // QinQ
	f.Add(uint8(sll), sllFrame(etherIPv4, quickData4))                                                                                               // cooked v1
	f.Add(uint8(sll2), sll2Frame(etherIPv6, quickData6))                                                                                             // cooked v2
	f.Add(uint8(raw), quickData6)                                                                                                                    // raw IPv6
	f.Add(uint8(ip6), quickData6[:40+14])                                                                                                            // IPv6 cut right after the flags
	f.Add(uint8(eth), ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, nil)))[:47])                   // cut before the flags
	f.Add(uint8(eth), make([]byte, 60))                                                                                                              // zeros
	f.Add(uint8(eth), offsetPastIPLength)                                                                                                            // data offset 60 past an IP length of 48: malformed (found by fuzzing)
	f.Fuzz(func(t *testing.T, link uint8, frame []byte) {
		checkQuick(t, quickLinks[int(link)%len(quickLinks)], frame)
	})
}

func BenchmarkQuickFlags(b *testing.B) {
	for _, bc := range []struct {
		name  string
		frame []byte
	}{
		{"ipv4", ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}, make([]byte, 1448))))},
		{"ipv6", ether([]uint16{etherIPv6}, ipv6("2001:db8::1", "2001:db8::2", nil, tcpSeg(1, 2, 3, 4, FlagACK, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}, make([]byte, 1448))))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				QuickFlags(LinkEthernet, bc.frame)
			}
		})
	}
}
