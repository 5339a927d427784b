package sockdiag

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
)

// diagMsg builds one SOCK_DIAG_BY_FAMILY answer as the kernel sends it.
func diagMsg(family uint8, addr netip.Addr, port uint16, inode uint32, attrs ...byte) []byte {
	m := make([]byte, nlmsgHdrLen+msgLen, nlmsgHdrLen+msgLen+len(attrs))
	m = append(m, attrs...)
	ne := binary.NativeEndian
	ne.PutUint32(m[0:], uint32(len(m)))
	ne.PutUint16(m[4:], sockDiagByFamily)
	b := m[nlmsgHdrLen:]
	b[0], b[1] = family, tcpListen
	binary.BigEndian.PutUint16(b[4:], port)
	copy(b[8:], addr.AsSlice())
	ne.PutUint32(b[64:], 1000)
	ne.PutUint32(b[68:], inode)
	return m
}

func done() []byte {
	m := make([]byte, nlmsgHdrLen+4)
	binary.NativeEndian.PutUint32(m[0:], uint32(len(m)))
	binary.NativeEndian.PutUint16(m[4:], nlmsgDone)
	return m
}

func TestParseDump(t *testing.T) {
	v6only := []byte{5, 0, inetDiagSKV6Only, 0, 1, 0, 0, 0} // u8 attribute, padded
	var b []byte
	b = append(b, diagMsg(afInet, netip.MustParseAddr("10.0.0.1"), 443, 77)...)
	b = append(b, diagMsg(afInet6, netip.IPv6Unspecified(), 8443, 78, v6only...)...)
	b = append(b, done()...)
	ls, fin, err := parseDump(b, MPTCP, nil)
	if err != nil || !fin {
		t.Fatalf("parseDump: done=%v err=%v", fin, err)
	}
	want := []Listener{
		{Addr: netip.MustParseAddrPort("10.0.0.1:443"), Protocol: MPTCP, Inode: 77, UID: 1000},
		{Addr: netip.MustParseAddrPort("[::]:8443"), Protocol: MPTCP, Inode: 78, UID: 1000, V6Only: true},
	}
	if len(ls) != len(want) {
		t.Fatalf("got %d listeners, want %d: %+v", len(ls), len(want), ls)
	}
	for i := range want {
		if ls[i] != want[i] {
			t.Errorf("listener %d = %+v, want %+v", i, ls[i], want[i])
		}
	}
}

func TestParseDumpDamaged(t *testing.T) {
	good := diagMsg(afInet, netip.MustParseAddr("10.0.0.1"), 443, 77)
	errMsg := make([]byte, nlmsgHdrLen+4)
	binary.NativeEndian.PutUint32(errMsg[0:], uint32(len(errMsg)))
	binary.NativeEndian.PutUint16(errMsg[4:], nlmsgError)
	binary.NativeEndian.PutUint32(errMsg[nlmsgHdrLen:], uint32(0xffffffff-1)) // -2: ENOENT
	overlong := append([]byte(nil), good...)
	binary.NativeEndian.PutUint32(overlong[0:], uint32(len(good)+4))
	short := append([]byte(nil), good[:nlmsgHdrLen+10]...)
	binary.NativeEndian.PutUint32(short[0:], uint32(len(short)))
	badFamily := diagMsg(7, netip.MustParseAddr("10.0.0.1"), 1, 1)
	for name, b := range map[string][]byte{
		"netlink error":        errMsg,
		"length past the read": overlong,
		"short inet_diag_msg":  short,
		"unknown family":       badFamily,
	} {
		if _, _, err := parseDump(b, TCP, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRequestMPTCPAttribute(t *testing.T) {
	r := request(afInet6, MPTCP, 9)
	if len(r) != nlmsgHdrLen+reqLen+protoAttrTotal {
		t.Fatalf("MPTCP request is %d bytes", len(r))
	}
	ne := binary.NativeEndian
	if got := ne.Uint32(r[len(r)-4:]); got != ipprotoMPTCP {
		t.Errorf("INET_DIAG_REQ_PROTOCOL = %d, want 262", got)
	}
	if r[nlmsgHdrLen] != afInet6 || ne.Uint32(r[nlmsgHdrLen+4:]) != 1<<tcpListen {
		t.Errorf("family or states wrong: % x", r[nlmsgHdrLen:nlmsgHdrLen+8])
	}
	if len(request(afInet, TCP, 1)) != nlmsgHdrLen+reqLen {
		t.Error("a TCP request carries an attribute")
	}
}

// FuzzParseDump: whatever the bytes, parseDump returns without panicking
// and every listener it returns has a valid address.
func FuzzParseDump(f *testing.F) {
	f.Add(append(diagMsg(afInet, netip.MustParseAddr("10.0.0.1"), 443, 77), done()...))            // one IPv4 listener
	f.Add(diagMsg(afInet6, netip.IPv6Unspecified(), 80, 1, 5, 0, inetDiagSKV6Only, 0, 1, 0, 0, 0)) // with SKV6ONLY
	f.Add(diagMsg(afInet6, netip.IPv6Unspecified(), 80, 1, 0xff, 0xff, 0, 0))                      // attribute longer than the message
	f.Add(done()[:10])                                                                             // a cut header
	f.Add([]byte{})                                                                                // nothing
	f.Fuzz(func(t *testing.T, b []byte) {
		ls, _, _ := parseDump(b, TCP, nil)
		for _, l := range ls {
			if !l.Addr.IsValid() {
				t.Fatalf("invalid address in %+v", l)
			}
		}
	})
}

func TestListenerOrder(t *testing.T) {
	ap := netip.MustParseAddrPort
	ls := []Listener{{Addr: ap("[::]:80")}, {Addr: ap("10.0.0.1:443"), Protocol: MPTCP}, {Addr: ap("0.0.0.0:80")}, {Addr: ap("10.0.0.1:443")}}
	slices.SortStableFunc(ls, byPortThenAddr)
	want := []Listener{{Addr: ap("0.0.0.0:80")}, {Addr: ap("[::]:80")}, {Addr: ap("10.0.0.1:443")}, {Addr: ap("10.0.0.1:443"), Protocol: MPTCP}}
	if !slices.Equal(ls, want) {
		t.Errorf("order %v, want %v", ls, want)
	}
}
