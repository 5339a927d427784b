package analyze

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
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

// TestCollectorLatestMemo: remembering the latest servers and client
// changes no count. Random attempts (servers that turn from plain to TFO,
// rows beyond the listing limit, a few clients) are judged twice, once
// with the memos forgotten before every attempt, and must sum up alike.
func TestCollectorLatestMemo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	servers := make([]netip.AddrPort, 6)
	for i := range servers {
		servers[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 0, byte(i)}), 443)
	}
	outcomes := []Outcome{Granted, Omitted, Accepted, Rejected, Plain, Refused, Unanswered}
	for _, all := range []bool{false, true} {
		memo, plain := NewCollector(-1), NewCollector(-1)
		memo.LimitServers(3, all)
		plain.LimitServers(3, all)
		for i := range 5000 {
			a := &Attempt{
				Client:  netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(3))}), uint16(i)),
				Server:  servers[rng.IntN(len(servers))],
				SYN:     SYNInfo{PacketRef: PacketRef{Frame: 2*i + 1, Time: int64(i)}},
				Reply:   ReplyInfo{PacketRef: PacketRef{Frame: 2*i + 2, Time: int64(i) + 1}, Kind: ReplySYNACK},
				Outcome: outcomes[rng.IntN(len(outcomes))],
			}
			if a.Outcome != Plain && a.Outcome != Refused && rng.IntN(i/500+1) > 0 {
				a.SYN.TFO = TFOOption{State: TFORequest, Kind: optFastOpen, Len: 2}
			}
			memo.Attempt(a)
			plain.servers.latest, plain.latestClients = latestTwo[netip.AddrPort, int32]{}, latestTwo[netip.Addr, *clientStats]{}
			plain.Attempt(a)
		}
		if got, want := memo.Summary(), plain.Summary(); !reflect.DeepEqual(got, want) {
			t.Errorf("all %v: with the memos\n%+v\nwithout\n%+v", all, got, want)
		}
	}
}
