package check

import (
	"net/netip"
	"testing"

	"github.com/tfopcap/tfopcap/host/procs"
	"github.com/tfopcap/tfopcap/host/sockdiag"
)

func TestLocalFind(t *testing.T) {
	ap := netip.MustParseAddrPort
	l := &Local{
		addrs: map[netip.Addr]bool{netip.MustParseAddr("10.0.0.1"): true, netip.MustParseAddr("fd00::1"): true},
		listeners: []sockdiag.Listener{
			{Addr: ap("10.0.0.1:443"), Protocol: sockdiag.MPTCP, Inode: 1},
			{Addr: ap("[::]:443"), Protocol: sockdiag.TCP, Inode: 2},
			{Addr: ap("0.0.0.0:80"), Protocol: sockdiag.TCP, Inode: 3},
			{Addr: ap("[::]:80"), Protocol: sockdiag.TCP, Inode: 4, V6Only: true},
			{Addr: ap("[::]:8080"), Protocol: sockdiag.MPTCP, Inode: 5},
			{Addr: ap("[::]:8443"), Protocol: sockdiag.TCP, Inode: 6, V6Only: true},
		},
		owners: map[uint32][]procs.Process{1: {{PID: 812, Name: "xray"}}},
	}
	for _, tc := range []struct {
		server string
		inode  uint32 // 0: none
	}{
		{"10.0.0.1:443", 1},          // the exact address beats the wildcard
		{"[fd00::1]:443", 2},         // the IPv6 wildcard
		{"10.0.0.1:80", 3},           // the IPv4 wildcard
		{"[fd00::1]:80", 4},          // the v6only wildcard for IPv6
		{"10.0.0.1:8080", 5},         // a dual-stack [::] takes IPv4
		{"10.0.0.1:8443", 0},         // a v6only [::] does not
		{"10.0.0.9:443", 0},          // not this host's address
		{"10.0.0.1:22", 0},           // nothing listens
		{"[::ffff:10.0.0.1]:443", 1}, // a v4-mapped address is the IPv4 one
	} {
		x, owners, ok := l.Find(ap(tc.server))
		if got := map[bool]uint32{true: x.Inode}[ok]; got != tc.inode {
			t.Errorf("Find(%s) = inode %d (ok %v), want %d", tc.server, x.Inode, ok, tc.inode)
		}
		if tc.inode == 1 && (len(owners) != 1 || owners[0].Name != "xray") {
			t.Errorf("Find(%s) owners = %v", tc.server, owners)
		}
	}
}
