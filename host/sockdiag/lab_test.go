//go:build linux

package sockdiag

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/tfopcap/tfopcap/internal/netnslab"
)

// TestListenersRealKernel lists Go listeners in a fresh network namespace:
// each once, MPTCP ones as MPTCP (their TCP subflow listener folded in),
// with the inode of the socket the process holds.
func TestListenersRealKernel(t *testing.T) {
	netnslab.Require(t)
	ns := netnslab.Netns{Name: fmt.Sprintf("ck-%d-diag", os.Getpid())}
	exec.Command("ip", "netns", "del", ns.Name).Run()
	if out, err := exec.Command("ip", "netns", "add", ns.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns.Name).Run() })
	if _, err := ns.Run("ip", "link", "set", "lo", "up"); err != nil {
		t.Fatal(err)
	}
	want := []Listener{
		{Addr: netip.MustParseAddrPort("127.0.0.1:8001"), Protocol: TCP},
		{Addr: netip.MustParseAddrPort("127.0.0.1:8002"), Protocol: MPTCP},
		{Addr: netip.MustParseAddrPort("[::1]:8003"), Protocol: MPTCP},
		{Addr: netip.MustParseAddrPort("[::]:8004"), Protocol: TCP},
	}
	for _, l := range want {
		s, err := ns.Listen(netnslab.ServerConfig{Addr: l.Addr, MPTCP: l.Protocol == MPTCP})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
	}
	var got []Listener
	if err := ns.Do(func() (err error) { got, err = Listeners(); return err }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("listed %+v, want %d listeners", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Addr != w.Addr || g.Protocol != w.Protocol || g.Inode == 0 || g.UID != uint32(os.Geteuid()) {
			t.Errorf("listener %d = %+v, want %s %s held by uid %d", i, g, w.Protocol, w.Addr, os.Geteuid())
		}
	}
	if !slices.IsSortedFunc(got, byPortThenAddr) {
		t.Errorf("not sorted: %+v", got)
	}
}
