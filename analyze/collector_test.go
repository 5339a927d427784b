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
