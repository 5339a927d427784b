package analyze

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestFindingsFollowTheEvidence runs small situations through the real
// Tracker and Collector. Each lists the IDs a server must and must not
// get; a "must not" is a finding the situation's own packets contradict.
// Attempts come from one client, 5 s apart, in the order listed.
func TestFindingsFollowTheEvidence(t *testing.T) {
	const (
		srv  = "192.0.2.2:8005" // the server judged
		peer = "192.0.2.2:8001" // another listener on the same host
		away = "192.0.2.3:8001" // a listener on another host
	)
	all := []FindingID{FindMPTCPTFOUnsupported, FindListenerNoTFO, FindNotMPTCP, FindMPTCPUnseen, FindOtherCauses}
	except := func(ids ...FindingID) []FindingID {
		return slices.DeleteFunc(slices.Clone(all), func(id FindingID) bool { return slices.Contains(ids, id) })
	}
	for _, tc := range []struct {
		name      string
		scenarios []scenario
		must      []FindingID
		mustNot   []FindingID
	}{
		{"seed: MPTCP listener, no grant on MPTCP anywhere on the host",
			[]scenario{{srv, []string{"omitted-mptcp", "omitted-mptcp"}}, {peer, []string{"granted", "accepted"}}},
			[]FindingID{FindMPTCPTFOUnsupported}, except(FindMPTCPTFOUnsupported)},
		{"E2: another listener grants on MPTCP, so the kernel does TFO on MPTCP",
			[]scenario{{peer, []string{"granted-mptcp"}}, {srv, []string{"omitted-mptcp", "omitted-mptcp"}}},
			[]FindingID{FindListenerNoTFO}, except(FindListenerNoTFO)},
		{"MPTCP listener, and a plain one on the host omits too: the server bit is not ruled out",
			[]scenario{{peer, []string{"omitted-mptcp-syn"}}, {srv, []string{"omitted-mptcp", "omitted-mptcp"}}},
			[]FindingID{FindMPTCPTFOUnsupported, FindOtherCauses}, except(FindMPTCPTFOUnsupported, FindOtherCauses)},
		{"E2 from another host proves nothing here",
			[]scenario{{away, []string{"granted-mptcp"}}, {srv, []string{"omitted-mptcp"}}},
			[]FindingID{FindMPTCPTFOUnsupported}, except(FindMPTCPTFOUnsupported)},
		{"E2 with a plain client: listener-no-tfo, not mptcp-unseen",
			[]scenario{{peer, []string{"granted-mptcp"}}, {srv, []string{"omitted"}}},
			[]FindingID{FindListenerNoTFO}, except(FindListenerNoTFO)},
		{"E1 no and E3 yes: plain listener without TFO",
			[]scenario{{peer, []string{"granted"}}, {srv, []string{"omitted-mptcp-syn", "omitted"}}},
			[]FindingID{FindListenerNoTFO, FindNotMPTCP}, except(FindListenerNoTFO, FindNotMPTCP)},
		{"E1 no alone: not MPTCP, other causes",
			[]scenario{{srv, []string{"omitted-mptcp-syn"}}},
			[]FindingID{FindNotMPTCP, FindOtherCauses}, except(FindNotMPTCP, FindOtherCauses)},
		{"E1 no and E2 yes",
			[]scenario{{peer, []string{"granted-mptcp"}}, {srv, []string{"omitted-mptcp-syn"}}},
			[]FindingID{FindListenerNoTFO, FindNotMPTCP}, except(FindListenerNoTFO, FindNotMPTCP)},
		{"E1 unseen, nothing else: MPTCP cannot be ruled out",
			[]scenario{{srv, []string{"omitted", "rejected"}}},
			[]FindingID{FindMPTCPUnseen, FindOtherCauses}, except(FindMPTCPUnseen, FindOtherCauses)},
		{"mixed server granting on MPTCP itself: never a kernel without TFO on MPTCP",
			[]scenario{{srv, []string{"granted-mptcp", "omitted-mptcp"}}},
			[]FindingID{FindMixedAnswers, FindOtherCauses}, []FindingID{FindMPTCPTFOUnsupported, FindListenerNoTFO}},
		{"mixed server's own grants are no E3 for itself",
			[]scenario{{srv, []string{"granted", "omitted-mptcp-syn"}}},
			[]FindingID{FindMixedAnswers, FindNotMPTCP, FindOtherCauses}, []FindingID{FindListenerNoTFO, FindMPTCPTFOUnsupported, FindMPTCPUnseen}},
		{"a granting server gets no cause",
			[]scenario{{srv, []string{"granted-mptcp", "accepted"}}},
			nil, all},
		{"a plain-only server gets no cause",
			[]scenario{{srv, []string{"plain", "plain"}}},
			nil, all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := synthReport(t, 0, tc.scenarios...)
			got := hintIDs(t, r, srv)
			for _, id := range tc.must {
				if !slices.Contains(got, id) {
					t.Errorf("%s lacks %s: %v", srv, id, got)
				}
			}
			for _, id := range tc.mustNot {
				if slices.Contains(got, id) {
					t.Errorf("%s has %s, which the capture contradicts: %v", srv, id, got)
				}
			}
		})
	}
}

func hintIDs(t *testing.T, r *Report, server string) []FindingID {
	t.Helper()
	for _, s := range r.Servers {
		if s.Server == server {
			if len(s.HintIDs) != len(s.Hints) {
				t.Fatalf("%s: %d hints, %d IDs", server, len(s.Hints), len(s.HintIDs))
			}
			return s.HintIDs
		}
	}
	if r.UnlistedServers != nil && r.UnlistedServers.Servers > 0 {
		return nil // a server without TFO attempts has no row, so no findings
	}
	t.Fatalf("%s not in the report", server)
	return nil
}

// TestCaptureFindings checks the capture-wide findings on small
// situations: one client, attempts 5 s apart in the order listed.
func TestCaptureFindings(t *testing.T) {
	const tfo, dropped = "192.0.2.2:8001", "192.0.2.2:8003"
	for _, tc := range []struct {
		name      string
		scenarios []scenario
		want      []FindingID
	}{
		{"blackhole: TFO SYN timed out, plain SYNs since, even to a granting server",
			[]scenario{{tfo, []string{"granted", "accepted"}}, {dropped, []string{"timeout"}}, {tfo, []string{"plain", "plain"}}},
			[]FindingID{FindClientBlackhole}},
		{"one plain SYN after a timeout may be the application's choice",
			[]scenario{{tfo, []string{"granted"}}, {dropped, []string{"timeout"}}, {tfo, []string{"plain"}}},
			nil},
		{"TFO again after the timeout: detection did not fire",
			[]scenario{{tfo, []string{"granted"}}, {dropped, []string{"timeout"}}, {tfo, []string{"plain", "plain", "accepted"}}},
			nil},
		{"plain SYNs before the timeout only",
			[]scenario{{tfo, []string{"plain", "plain", "granted"}}, {dropped, []string{"timeout"}}},
			nil},
		{"a fallback answered after one retransmission is no blackhole",
			[]scenario{{tfo, []string{"granted"}}, {dropped, []string{"fallback"}}, {tfo, []string{"plain", "plain"}}},
			nil},
		{"two retransmissions: the client may have given up before detection ran",
			[]scenario{{tfo, []string{"granted"}}, {dropped, []string{"timeout-2"}}, {tfo, []string{"plain", "plain"}}},
			nil},
		{"no SYN asks for TFO (refused SYNs neither)",
			[]scenario{{tfo, []string{"plain", "plain"}}, {dropped, []string{"refused-plain"}}},
			[]FindingID{FindNoTFOClients}},
		{"snaplen hid the options: cannot say no client asked",
			[]scenario{{tfo, []string{"plain", "truncated"}}},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := synthReport(t, 0, tc.scenarios...)
			var got []FindingID
			for _, f := range r.Findings {
				got = append(got, f.ID)
				if f.Servers == nil || f.Clients == nil {
					t.Errorf("%s: servers or clients is null", f.ID)
				}
				// Detection off (the sysctl 0) and applications that do
				// not use TFO leave the same packets: the text says so.
				if f.ID == FindClientBlackhole && !strings.Contains(f.Text, "applications that never ask for TFO") {
					t.Errorf("%s claims what packets cannot tell: %s", f.ID, f.Text)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings %v, want %v", got, tc.want)
			}
		})
	}
}

// TestNoTFOClients: a capture whose SYNs never ask for TFO says so.
func TestNoTFOClients(t *testing.T) {
	r := synthReport(t, 0, scenario{"192.0.2.2:80", []string{"plain", "plain"}})
	if len(r.Findings) != 1 || r.Findings[0].ID != FindNoTFOClients {
		t.Fatalf("findings %+v, want one no-tfo-clients", r.Findings)
	}
	if empty := NewCollector(0).Report("t", nil); len(empty.Findings) != 0 {
		t.Errorf("no attempts at all: %+v", empty.Findings)
	}
}

// TestFindingsIgnoreArrivalOrder: attempts reach the Collector in no
// particular order (unanswered ones last), yet the findings must name the
// same frames whatever the order.
func TestFindingsIgnoreArrivalOrder(t *testing.T) {
	var rec recorder
	tr := NewTracker(&rec, 0)

	frame := 0
	client := netip.MustParseAddr("192.0.2.1")
	var ms int64
	for i, sc := range []scenario{
		{"192.0.2.2:8001", []string{"granted-mptcp", "granted-mptcp"}},
		{"192.0.2.2:8005", []string{"omitted-mptcp", "omitted-mptcp"}},
		{"192.0.2.2:8003", []string{"timeout", "timeout"}},
		{"192.0.2.2:8001", []string{"plain", "plain", "plain"}},
	} {
		server := netip.MustParseAddrPort(sc.server)
		for k, name := range sc.outcomes {
			c := netip.AddrPortFrom(client, uint16(40000+100*i+k))
			for _, p := range exchange(name, uint32(1000*(k+1)+i), ms) {
				seg := p.segment()
				seg.Src, seg.Dst = c, server
				if p.from == "s" {
					seg.Src, seg.Dst = server, c
				}
				frame++
				tr.Add(PacketRef{Frame: frame, Time: (1_764_000_000_000 + p.atMs) * 1e6}, &seg)
			}
			ms += 5000
		}
	}
	tr.Flush()
	report := func(order []Attempt) *Report {
		c := NewCollector(-1)
		for i := range order {
			c.Attempt(&order[i])
		}
		return c.Report("t", nil)
	}
	forward := report(rec.attempts)
	reversed := slices.Clone(rec.attempts)
	slices.Reverse(reversed)
	backward := report(reversed)
	if !reflect.DeepEqual(forward.Findings, backward.Findings) || !reflect.DeepEqual(forward.Servers, backward.Servers) {
		t.Errorf("findings depend on the order attempts arrive in:\nforward  %+v\n%+v\nbackward %+v\n%+v",
			forward.Findings, forward.Servers, backward.Findings, backward.Servers)
	}
	if len(forward.Findings) != 1 || forward.Findings[0].ID != FindClientBlackhole {
		t.Errorf("findings %+v, want client-blackhole", forward.Findings)
	}
}

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
	r := c.Report("t", nil)
	if r.Totals.Attempts != maxTrackedClients+extra {
		t.Errorf("%d attempts counted, want all %d", r.Totals.Attempts, maxTrackedClients+extra)
	}
	if !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, "client IPs") && strings.Contains(w, "10 attempts") }) {
		t.Errorf("no warning about untracked clients: %q", r.Warnings)
	}
}
