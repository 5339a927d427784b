package selfprobe

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
)

func TestSYNOptionsParse(t *testing.T) {
	if len(synOptions)%4 != 0 || len(synOptions) > 40 {
		t.Fatalf("options are %d bytes", len(synOptions))
	}
	o := analyze.ParseOptions(synOptions, len(synOptions))
	if o.TFO.State != analyze.TFORequest || o.TFO.Kind != 34 || o.MPTCP.String() != "MP_CAPABLE v1" || o.Stop != analyze.WalkEnd {
		t.Errorf("probe SYN options read as %+v", o)
	}
}

// TestChecksumVerifies: a segment's checksum summed with the segment is 0.
func TestChecksumVerifies(t *testing.T) {
	for _, pair := range [][2]string{{"127.0.0.1:40000", "127.0.0.1:443"}, {"[fd00::1]:40000", "[fd00::2]:443"}} {
		src, dst := netip.MustParseAddrPort(pair[0]), netip.MustParseAddrPort(pair[1])
		seg := segment(src, dst, 12345, flagSYN, synOptions)
		if c := checksum(src.Addr(), dst.Addr(), seg); c != 0 {
			t.Errorf("%s -> %s: checksum over the segment is %#x, want 0", src, dst, c)
		}
	}
}

func TestAnswer(t *testing.T) {
	target := netip.MustParseAddrPort("127.0.0.1:443")
	const port, isn = 40000, 1000
	synack := func(ack uint32, flags uint8, opts ...byte) []byte {
		s := segment(target, netip.AddrPortFrom(target.Addr(), port), 7, flags, opts)
		binary.BigEndian.PutUint32(s[8:], ack)
		return s
	}
	cookie := []byte{34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 30, 12, 0x01, 0x01, 1, 2, 3, 4, 5, 6, 7, 8}
	for _, tc := range []struct {
		name  string
		seg   []byte
		kind  string
		tfo   analyze.TFOState
		mptcp string
	}{
		{"cookie and MP_CAPABLE", synack(isn+1, flagSYN|flagACK, append(cookie, 1, 1)...), ReplySYNACK, analyze.TFOCookie, "MP_CAPABLE v1"},
		{"no options", synack(isn+1, flagSYN|flagACK), ReplySYNACK, analyze.TFONone, ""},
		{"reset", synack(isn+1, flagRST|flagACK), ReplyRST, analyze.TFONone, ""},
		{"another SYN's answer", synack(isn+2, flagSYN|flagACK), "", analyze.TFONone, ""},
		{"a bare ACK", synack(isn+1, flagACK), "", analyze.TFONone, ""},
		{"short", []byte{1, 2, 3}, "", analyze.TFONone, ""},
	} {
		r := answer(tc.seg, target, port, isn)
		if r.kind != tc.kind || r.tfo.State != tc.tfo || r.mptcp != tc.mptcp {
			t.Errorf("%s: answer = %q %v %q, want %q %v %q", tc.name, r.kind, r.tfo.State, r.mptcp, tc.kind, tc.tfo, tc.mptcp)
		}
	}
}

func TestIPv4Payload(t *testing.T) {
	src := netip.MustParseAddr("10.0.0.1")
	pkt := make([]byte, 24)
	pkt[0] = 0x45
	copy(pkt[12:], src.AsSlice())
	if p, ok := ipv4Payload(pkt, src); !ok || len(p) != 4 {
		t.Errorf("ipv4Payload = %d bytes, %v", len(p), ok)
	}
	if _, ok := ipv4Payload(pkt, netip.MustParseAddr("10.0.0.2")); ok {
		t.Error("a packet from another address is taken")
	}
	pkt[0] = 0x4f // IHL 60 > packet
	if _, ok := ipv4Payload(pkt, src); ok {
		t.Error("an IHL past the packet is taken")
	}
}
