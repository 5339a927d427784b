package analyze

import (
	"net/netip"
	"testing"
)

// TestServerTableBounded checks the per-server table of a scan: servers
// without TFO attempts are counted, not listed; at most MaxServers are
// listed and the rest summed in one "other" row; totals stay complete
// (before, every server had a row: 2^20 servers, 1.6 GB, a 292 MiB report).
func TestServerTableBounded(t *testing.T) {
	server := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), 443)
	}
	attempt := func(srv netip.AddrPort, tfo TFOState, out Outcome) *Attempt {
		a := &Attempt{Client: testClient, Server: srv, Outcome: out}
		a.SYN.TFO.State = tfo
		return a
	}
	build := func(all bool) *Summary {
		c := NewCollector(-1)
		c.LimitServers(100, all)
		// Server 0 answers a plain SYN first, then a TFO one: it is
		// listed with both.
		c.Attempt(attempt(server(0), TFONone, Plain))
		for i := range 500 {
			c.Attempt(attempt(server(i), TFORequest, Omitted))
		}
		for i := 500; i < 800; i++ {
			c.Attempt(attempt(server(i), TFONone, Plain))
			c.OrphanReply(server(i), PacketRef{})
		}
		return c.Summary()
	}

	r := build(false)
	if len(r.Servers) != 100 || r.Other == nil {
		t.Fatalf("%d servers listed, other %v: want 100 and other", len(r.Servers), r.Other)
	}
	if s := r.Servers[0]; s.Server != server(0) || s.Outcomes[Plain] != 1 || s.Outcomes[Omitted] != 1 {
		t.Errorf("first row %s: %v, want plain 1 and omitted 1", s.Server, s.Outcomes)
	}
	if o := r.Other; o.Aggregated != 400 || o.Outcomes.Total() != 400 || o.Verdict != Omits {
		t.Errorf("other row: %+v, want 400 servers, 400 attempts, omits", o)
	}
	u := r.Unlisted
	if u == nil || u.Servers != 300 || u.Attempts != 300 || u.Orphans != 300 {
		t.Errorf("unlisted servers %+v, want 300 servers, 300 attempts, 300 orphans", u)
	}
	if r.Attempts() != 801 {
		t.Errorf("totals: %d attempts, want 801", r.Attempts())
	}

	// --all-servers: plain servers take rows too, within the limit.
	r = build(true)
	if len(r.Servers) != 100 || r.Unlisted != nil || r.Other == nil || r.Other.Aggregated != 700 || r.Attempts() != 801 {
		t.Errorf("all servers: %d rows, unlisted %+v, other %+v, %d attempts", len(r.Servers), r.Unlisted, r.Other, r.Attempts())
	}
}
