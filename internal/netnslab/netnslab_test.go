package netnslab

import (
	"net/netip"
	"testing"
)

// TestPairTFO builds a pair and checks what the kernel does with the
// traffic helpers: a TFO server grants a cookie, the next connection's data
// rides in the SYN and is acknowledged, a server without TCP_FASTOPEN
// ignores the cookie, and MPTCP and IPv6 work the same way.
func TestPairTFO(t *testing.T) {
	p := NewPair(t)
	listen := func(addr netip.Addr, port uint16, tfo int, mptcp bool) *Server {
		t.Helper()
		s, err := p.Server.Listen(ServerConfig{Addr: netip.AddrPortFrom(addr, port), FastOpen: tfo, MPTCP: mptcp})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	tfo := listen(p.ServerV4, 8001, 16, false)
	plain := listen(p.ServerV4, 8002, 0, false)
	mptcp := listen(p.ServerV4, 8003, 16, true)
	v6 := listen(p.ServerV6, 8004, 16, false)

	dial := func(s *Server, fastOpen, mp bool) DialResult {
		t.Helper()
		r, err := p.Client.Dial(DialConfig{Server: s.Addr(), FastOpen: fastOpen, MPTCP: mp})
		if err != nil {
			t.Fatal(err)
		}
		if r.Reply != "ok\n" {
			t.Fatalf("%s: reply %q", s.Addr(), r.Reply)
		}
		t.Logf("%s -> %s: syn data acked %v, mptcp %v", r.Client, s.Addr(), r.SYNDataAcked, r.MPTCP)
		return r
	}
	flush := func() {
		t.Helper()
		if err := p.Client.FlushTCPMetrics(); err != nil {
			t.Fatal(err)
		}
	}
	flush()
	if r := dial(tfo, true, false); r.SYNDataAcked {
		t.Error("first TFO connection: SYN data acked without a cookie")
	}
	if r := dial(tfo, true, false); !r.SYNDataAcked {
		t.Error("second TFO connection: SYN data not acked")
	}
	if r := dial(plain, true, false); r.SYNDataAcked {
		t.Error("server without TCP_FASTOPEN acked SYN data")
	}
	flush()
	dial(mptcp, true, true)
	if r := dial(mptcp, true, true); !r.SYNDataAcked || !r.MPTCP {
		t.Errorf("MPTCP TFO: syn data acked %v, mptcp %v", r.SYNDataAcked, r.MPTCP)
	}
	dial(v6, true, false)
	if r := dial(v6, true, false); !r.SYNDataAcked {
		t.Error("IPv6 TFO: SYN data not acked")
	}
}

func TestTwoPairs(t *testing.T) {
	a, b := NewPair(t), NewPair(t)
	if a.Server.Name == b.Server.Name {
		t.Fatal("same names")
	}
}
