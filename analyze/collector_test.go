package analyze

import (
	"net/netip"
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
