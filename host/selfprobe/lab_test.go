//go:build linux

package selfprobe

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/netnslab"
)

// TestProbeRealKernel probes Go listeners in a fresh network namespace:
// the kernel's own SYN-ACKs say whether TFO is on (a cookie), whether the
// listener is MPTCP (MP_CAPABLE), and a port nothing listens on resets.
func TestProbeRealKernel(t *testing.T) {
	netnslab.Require(t)
	ns := netnslab.Netns{Name: fmt.Sprintf("ck-%d-probe", os.Getpid())}
	exec.Command("ip", "netns", "del", ns.Name).Run()
	if out, err := exec.Command("ip", "netns", "add", ns.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns.Name).Run() })
	for _, args := range [][]string{{"ip", "link", "set", "lo", "up"}, {"sysctl", "-qw", "net.ipv4.tcp_fastopen=3"}} {
		if _, err := ns.Run(args[0], args[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	release, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	var major, minor int
	fmt.Sscanf(string(release), "%d.%d", &major, &minor)
	mptcpTFO := major > 6 || major == 6 && minor >= 2

	for _, tc := range []struct {
		addr     string
		fastOpen int
		mptcp    bool
	}{
		{"127.0.0.1:8001", 16, false},
		{"127.0.0.1:8002", 0, false},
		{"127.0.0.1:8003", 16, true},
		{"127.0.0.1:8004", 0, true},
		{"[::1]:8005", 16, false},
		{"[::1]:8006", 0, true},
	} {
		ap := netip.MustParseAddrPort(tc.addr)
		s, err := ns.Listen(netnslab.ServerConfig{Addr: ap, FastOpen: tc.fastOpen, MPTCP: tc.mptcp})
		if err != nil {
			t.Fatal(err)
		}
		var res *Result
		err = ns.Do(func() (err error) { res, err = Probe(ap, time.Second); return err })
		s.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		wantTFO := analyze.TFONone
		if tc.fastOpen > 0 && (!tc.mptcp || mptcpTFO) {
			wantTFO = analyze.TFOCookie
		}
		wantMPTCP := map[bool]string{true: "MP_CAPABLE v1"}[tc.mptcp]
		if res.Reply != ReplySYNACK || res.TFO != wantTFO || res.MPTCP != wantMPTCP || res.Method != MethodRawSYN {
			t.Errorf("%s (TCP_FASTOPEN %d, MPTCP %v): %+v, want a SYN-ACK with TFO %v and %q", tc.addr, tc.fastOpen, tc.mptcp, res, wantTFO, wantMPTCP)
		}
	}
	var res *Result
	closed := netip.MustParseAddrPort("127.0.0.1:8999")
	if err := ns.Do(func() (err error) { res, err = Probe(closed, time.Second); return err }); err != nil || res.Reply != ReplyRST {
		t.Errorf("a port nothing listens on: %+v, %v; want an RST", res, err)
	}
}
