package analyze

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// TestCollectorAllocs: the facts findings need are a few fields per server
// and per client IP, so an attempt from a known client to a known server
// allocates nothing.
func TestCollectorAllocs(t *testing.T) {
	c := NewCollector(-1)
	a := Attempt{
		Client:  netip.MustParseAddrPort("192.0.2.1:40000"),
		Server:  netip.MustParseAddrPort("192.0.2.2:443"),
		SYN:     SYNInfo{PacketRef: PacketRef{Frame: 1, Time: 1}, TFO: TFOOption{State: TFORequest, Kind: optFastOpen}},
		Reply:   ReplyInfo{PacketRef: PacketRef{Frame: 2, Time: 2}, Kind: ReplySYNACK, TFO: TFOOption{State: TFOCookie}},
		Outcome: Granted,
	}
	c.Attempt(&a)
	if n := testing.AllocsPerRun(1000, func() {
		a.SYN.Frame += 2
		a.SYN.Time += 2
		a.Reply.Frame += 2
		a.Reply.Time += 2
		c.Attempt(&a)
	}); n != 0 {
		t.Errorf("Collector.Attempt allocates %v times per attempt", n)
	}
}

// TestClientTableBounded: a capture of more client IPs than the client
// table holds (a SYN flood from spoofed sources) keeps the table at its
// bound and says the blackhole rule saw only the first clients.
func TestClientTableBounded(t *testing.T) {
	c := NewCollector(-1)
	a := Attempt{
		Server:  netip.MustParseAddrPort("192.0.2.2:443"),
		SYN:     SYNInfo{PacketRef: PacketRef{Frame: 1, Time: 1}},
		Outcome: Unanswered,
	}
	const extra = 10
	for i := range maxTrackedClients + extra {
		a.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 40000)
		c.Attempt(&a)
	}
	if len(c.clients) != maxTrackedClients {
		t.Errorf("%d clients tracked, want the bound %d", len(c.clients), maxTrackedClients)
	}
	sum := c.Summary()
	if n := sum.Attempts(); n != maxTrackedClients+extra {
		t.Errorf("%d attempts counted, want all %d", n, maxTrackedClients+extra)
	}
	if !slices.ContainsFunc(sum.Warnings, func(w string) bool { return strings.Contains(w, "client IPs") && strings.Contains(w, "10 attempts") }) {
		t.Errorf("no warning about untracked clients: %q", sum.Warnings)
	}
}

// benchAttempts are n attempts shaped like bench/realcap's capture: one
// client per address family, each connection from a new port, the IPv4
// ones accepted by a server that grants cookies and the IPv6 ones
// omitted by one that does not, judged in the order they were sent.
func benchAttempts(n int) []Attempt {
	clients := [2]netip.Addr{netip.MustParseAddr("10.77.0.2"), netip.MustParseAddr("fd77::2")}
	servers := [2]netip.AddrPort{netip.MustParseAddrPort("10.77.0.1:8443"), netip.MustParseAddrPort("[fd77::1]:8080")}
	list := make([]Attempt, n)
	for i := range list {
		f, t := i%2, int64(1_764_000_000_000_000_000)+int64(i)*70_000
		a := &list[i]
		a.ID, a.ISN = uint64(i+1), uint32(i)*2654435761
		a.Client, a.Server = netip.AddrPortFrom(clients[f], uint16(32768+i%28000)), servers[f]
		a.SYN.PacketRef = PacketRef{Frame: 9*i + 1, Time: t}
		a.Reply.PacketRef = PacketRef{Frame: 9*i + 2, Time: t + 40_000}
		a.Reply.Kind = ReplySYNACK
		if f == 0 {
			a.SYN.TFO = TFOOption{State: TFOCookie, Kind: optFastOpen, Len: 10, cookieLen: 8, cookie: [maxCookieLen]byte{1, 2, 3, 4, 5, 6, 7, 8}}
			a.SYN.DataLen, a.Reply.AckedData, a.Outcome = 200, 200, Accepted
		} else {
			a.SYN.TFO = TFOOption{State: TFORequest, Kind: optFastOpen, Len: 2}
			a.Outcome = Omitted
		}
	}
	return list
}

// BenchmarkCollector judges the 60000 attempts of a real handshake-heavy
// capture into a collector keeping the default 10000.
func BenchmarkCollector(b *testing.B) {
	list := benchAttempts(60000)
	b.ReportAllocs()
	for b.Loop() {
		c := NewCollector(0)
		for i := range list {
			c.Attempt(&list[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(list)), "ns/attempt")
}
