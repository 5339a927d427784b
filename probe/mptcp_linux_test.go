package probe

import (
	"net/netip"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
)

// TestMPTCPWithoutPackets covers the MPTCP round judged from the kernel's
// account alone. Seen on Linux 6.18: a probe as nobody (cookie cache not
// clearable) sent SYN data to an MPTCP listener without TFO; the SYN-ACK
// carried MP_CAPABLE, but the client fell back to TCP when it resent the
// data, so MPTCP_INFO failed and the report said "the listener is plain
// TCP" (not-mptcp), which the packets contradict.
func TestMPTCPWithoutPackets(t *testing.T) {
	tests := []struct {
		name       string
		status     string // what MPTCP_INFO said
		kernel     Kernel
		want       string
		notMPTCP   bool // the not-mptcp finding is given
		mptcpSYNs  int
		mptcpReply int
	}{
		{"cookie request answered without MPTCP", "no",
			Kernel{CookieKnown: true}, "no", true, 1, 0},
		{"cookie request answered with MPTCP", "yes",
			Kernel{CookieKnown: true}, "yes", false, 1, 1},
		{"data not acked, client fell back", "no",
			Kernel{SYNData: true, CookieKnown: true, CookieAfter: true}, "unknown", false, 0, 0},
		{"data acked, plain TCP listener", "no",
			Kernel{SYNData: true, SYNDataAcked: true, CookieKnown: true, CookieAfter: true}, "no", false, 1, 0},
	}
	server := netip.MustParseAddrPort("192.0.2.1:8004")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mptcpAfter(tt.status, tt.kernel); got != tt.want {
				t.Fatalf("mptcpAfter(%q) = %q, want %q", tt.status, got, tt.want)
			}
			// An omitted request and a rejected cookie are what draw the
			// findings; grants draw none.
			tr := &target{spec: server.String(), server: server}
			r := &round{RoundResult: RoundResult{Round: RoundMPTCP, Client: netip.MustParseAddrPort("192.0.2.2:40000"),
				MPTCP: tt.want, Kernel: tt.kernel}, fastopen: true}
			feed := &kernelFeed{coll: analyze.NewCollector(-1)}
			r.fromKernel(tr, feed)
			sum := feed.coll.Summary()
			if len(sum.Servers) != 1 {
				t.Fatalf("%d servers", len(sum.Servers))
			}
			s := sum.Servers[0]
			if s.MPTCP.SYN != tt.mptcpSYNs || s.MPTCP.SYNACK != tt.mptcpReply {
				t.Errorf("MPTCP counts %+v, want SYN %d reply %d", s.MPTCP, tt.mptcpSYNs, tt.mptcpReply)
			}
			got := false
			for _, f := range s.Findings {
				got = got || f.ID == analyze.FindNotMPTCP
			}
			if got != tt.notMPTCP {
				t.Errorf("not-mptcp given %v, want %v (findings %v)", got, tt.notMPTCP, s.Findings)
			}
		})
	}
}
