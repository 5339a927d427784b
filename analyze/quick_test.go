package analyze

import (
	"encoding/binary"
	"testing"
)

// checkQuick fails when QuickFlags claims a frame that Decode does not
// decode as TCP with the same flags.
func checkQuick(t *testing.T, lt uint16, frame []byte) {
	t.Helper()
	flags, ok := QuickFlags(lt, frame)
	if !ok {
		return
	}
	var seg Segment
	if st := Decode(lt, frame, len(frame), &seg); st != DecodedTCP || seg.Flags != flags {
		t.Fatalf("QuickFlags = %#x, true; Decode = %v with flags %#x (frame % x)", flags, st, seg.Flags, frame)
	}
}

func TestQuickFlags(t *testing.T) {
	data := ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK|FlagPSH, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}, make([]byte, 100))))
	syn := ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 0, FlagSYN, []byte{2, 4, 5, 180, 34, 2}, nil)))
	if f, ok := QuickFlags(LinkEthernet, data); !ok || f != FlagACK|FlagPSH {
		t.Errorf("data segment: %#x, %v", f, ok)
	}
	if f, ok := QuickFlags(LinkEthernet, syn); !ok || f != FlagSYN {
		t.Errorf("SYN: %#x, %v", f, ok)
	}
	notQuick := map[string][]byte{
		"IPv6":         ether([]uint16{etherIPv6}, ipv6("2001:db8::1", "2001:db8::2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, nil))),
		"VLAN":         ether([]uint16{etherVLAN, etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, nil))),
		"IP options":   ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", []byte{1, 1, 1, 0}, tcpSeg(1, 2, 3, 4, FlagACK, nil, nil))),
		"cut in TCP":   data[:47],
		"UDP":          func() []byte { b := append([]byte(nil), data...); b[23] = 17; return b }(),
		"fragment":     func() []byte { b := append([]byte(nil), data...); binary.BigEndian.PutUint16(b[20:], 0x2001); return b }(),
		"data offset":  func() []byte { b := append([]byte(nil), data...); b[46] = 4 << 4; return b }(),
		"version 6":    func() []byte { b := append([]byte(nil), data...); b[14] = 0x65; return b }(),
		"raw IP":       data[14:],
		"unknown link": data,
	}
	for name, frame := range notQuick {
		lt := uint16(LinkEthernet)
		switch name {
		case "raw IP":
			lt = LinkRaw
		case "unknown link":
			lt = 147
		}
		if _, ok := QuickFlags(lt, frame); ok {
			t.Errorf("%s: QuickFlags claimed it", name)
		}
		checkQuick(t, lt, frame)
	}
}

func TestQuickFlagsAllocs(t *testing.T) {
	data := ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, make([]byte, 1448))))
	if n := testing.AllocsPerRun(100, func() { QuickFlags(LinkEthernet, data) }); n != 0 {
		t.Errorf("QuickFlags allocates %v times", n)
	}
}

// FuzzQuickFlags: whatever the bytes, QuickFlags never claims a frame that
// Decode would not decode as TCP with the same flags.
func FuzzQuickFlags(f *testing.F) {
	offsetPastIPLength := ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, make([]byte, 8))))
	offsetPastIPLength[46] = 0xf0
	f.Add(ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, make([]byte, 10)))))            // data segment
	f.Add(ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 0, FlagSYN, []byte{2, 4, 5, 180, 34, 2}, nil)))) // SYN with options
	f.Add(ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", []byte{1, 1, 1, 0}, tcpSeg(1, 2, 3, 4, FlagRST|FlagACK, nil, nil))))  // IP options
	f.Add(ether([]uint16{etherIPv6}, ipv6("2001:db8::1", "2001:db8::2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, nil))))                     // IPv6
	f.Add(ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, nil, nil)))[:47])                    // cut before the flags
	f.Add(make([]byte, 60))                                                                                                               // zeros
	f.Add(offsetPastIPLength)                                                                                                             // data offset 60 past an IP length of 48: malformed (found by fuzzing)
	f.Fuzz(func(t *testing.T, frame []byte) {
		checkQuick(t, LinkEthernet, frame)
	})
}

func BenchmarkQuickFlags(b *testing.B) {
	frame := ether([]uint16{etherIPv4}, ipv4("192.0.2.1", "192.0.2.2", nil, tcpSeg(1, 2, 3, 4, FlagACK, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}, make([]byte, 1448))))
	b.ReportAllocs()
	for b.Loop() {
		QuickFlags(LinkEthernet, frame)
	}
}
