package analyze_test

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/scenario"
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
	all := []analyze.FindingID{analyze.FindMPTCPTFOUnsupported, analyze.FindListenerNoTFO, analyze.FindNotMPTCP, analyze.FindMPTCPUnseen, analyze.FindOtherCauses}
	except := func(ids ...analyze.FindingID) []analyze.FindingID {
		return slices.DeleteFunc(slices.Clone(all), func(id analyze.FindingID) bool { return slices.Contains(ids, id) })
	}
	for _, tc := range []struct {
		name      string
		scenarios []scenario.Scenario
		must      []analyze.FindingID
		mustNot   []analyze.FindingID
	}{
		{"seed: MPTCP listener, no grant on MPTCP anywhere on the host",
			[]scenario.Scenario{{Server: srv, Outcomes: []string{"omitted-mptcp", "omitted-mptcp"}}, {Server: peer, Outcomes: []string{"granted", "accepted"}}},
			[]analyze.FindingID{analyze.FindMPTCPTFOUnsupported}, except(analyze.FindMPTCPTFOUnsupported)},
		{"E2: another listener grants on MPTCP, so the kernel does TFO on MPTCP",
			[]scenario.Scenario{{Server: peer, Outcomes: []string{"granted-mptcp"}}, {Server: srv, Outcomes: []string{"omitted-mptcp", "omitted-mptcp"}}},
			[]analyze.FindingID{analyze.FindListenerNoTFO}, except(analyze.FindListenerNoTFO)},
		{"MPTCP listener, and a plain one on the host omits too: the server bit is not ruled out",
			[]scenario.Scenario{{Server: peer, Outcomes: []string{"omitted-mptcp-syn"}}, {Server: srv, Outcomes: []string{"omitted-mptcp", "omitted-mptcp"}}},
			[]analyze.FindingID{analyze.FindMPTCPTFOUnsupported, analyze.FindOtherCauses}, except(analyze.FindMPTCPTFOUnsupported, analyze.FindOtherCauses)},
		{"E2 from another host proves nothing here",
			[]scenario.Scenario{{Server: away, Outcomes: []string{"granted-mptcp"}}, {Server: srv, Outcomes: []string{"omitted-mptcp"}}},
			[]analyze.FindingID{analyze.FindMPTCPTFOUnsupported}, except(analyze.FindMPTCPTFOUnsupported)},
		{"E2 with a plain client: listener-no-tfo, not mptcp-unseen",
			[]scenario.Scenario{{Server: peer, Outcomes: []string{"granted-mptcp"}}, {Server: srv, Outcomes: []string{"omitted"}}},
			[]analyze.FindingID{analyze.FindListenerNoTFO}, except(analyze.FindListenerNoTFO)},
		{"E1 no and E3 yes: plain listener without TFO",
			[]scenario.Scenario{{Server: peer, Outcomes: []string{"granted"}}, {Server: srv, Outcomes: []string{"omitted-mptcp-syn", "omitted"}}},
			[]analyze.FindingID{analyze.FindListenerNoTFO, analyze.FindNotMPTCP}, except(analyze.FindListenerNoTFO, analyze.FindNotMPTCP)},
		{"E1 no alone: not MPTCP, other causes",
			[]scenario.Scenario{{Server: srv, Outcomes: []string{"omitted-mptcp-syn"}}},
			[]analyze.FindingID{analyze.FindNotMPTCP, analyze.FindOtherCauses}, except(analyze.FindNotMPTCP, analyze.FindOtherCauses)},
		{"E1 no and E2 yes",
			[]scenario.Scenario{{Server: peer, Outcomes: []string{"granted-mptcp"}}, {Server: srv, Outcomes: []string{"omitted-mptcp-syn"}}},
			[]analyze.FindingID{analyze.FindListenerNoTFO, analyze.FindNotMPTCP}, except(analyze.FindListenerNoTFO, analyze.FindNotMPTCP)},
		{"E1 unseen, nothing else: MPTCP cannot be ruled out",
			[]scenario.Scenario{{Server: srv, Outcomes: []string{"omitted", "rejected"}}},
			[]analyze.FindingID{analyze.FindMPTCPUnseen, analyze.FindOtherCauses}, except(analyze.FindMPTCPUnseen, analyze.FindOtherCauses)},
		{"mixed server granting on MPTCP itself: never a kernel without TFO on MPTCP",
			[]scenario.Scenario{{Server: srv, Outcomes: []string{"granted-mptcp", "omitted-mptcp"}}},
			[]analyze.FindingID{analyze.FindMixedAnswers, analyze.FindOtherCauses}, []analyze.FindingID{analyze.FindMPTCPTFOUnsupported, analyze.FindListenerNoTFO}},
		{"mixed server's own grants are no E3 for itself",
			[]scenario.Scenario{{Server: srv, Outcomes: []string{"granted", "omitted-mptcp-syn"}}},
			[]analyze.FindingID{analyze.FindMixedAnswers, analyze.FindNotMPTCP, analyze.FindOtherCauses}, []analyze.FindingID{analyze.FindListenerNoTFO, analyze.FindMPTCPTFOUnsupported, analyze.FindMPTCPUnseen}},
		{"a granting server gets no cause",
			[]scenario.Scenario{{Server: srv, Outcomes: []string{"granted-mptcp", "accepted"}}},
			nil, all},
		{"a plain-only server gets no cause",
			[]scenario.Scenario{{Server: srv, Outcomes: []string{"plain", "plain"}}},
			nil, all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := synthSummary(tc.scenarios...)
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

// synthSummary runs scenarios through the real Tracker and Collector.
func synthSummary(scenarios ...scenario.Scenario) *analyze.Summary {
	c := analyze.NewCollector(0)
	scenario.Run(c, scenarios...)
	return c.Summary()
}

func hintIDs(t *testing.T, r *analyze.Summary, server string) []analyze.FindingID {
	t.Helper()
	for _, s := range r.Servers {
		if analyze.FormatAddr(s.Server) == server {
			var ids []analyze.FindingID
			for _, f := range s.Findings {
				ids = append(ids, f.ID)
			}
			return ids
		}
	}
	if r.Unlisted != nil && r.Unlisted.Servers > 0 {
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
		scenarios []scenario.Scenario
		want      []analyze.FindingID
	}{
		{"blackhole: TFO SYN timed out, plain SYNs since, even to a granting server",
			[]scenario.Scenario{{Server: tfo, Outcomes: []string{"granted", "accepted"}}, {Server: dropped, Outcomes: []string{"timeout"}}, {Server: tfo, Outcomes: []string{"plain", "plain"}}},
			[]analyze.FindingID{analyze.FindClientBlackhole}},
		{"one plain SYN after a timeout may be the application's choice",
			[]scenario.Scenario{{Server: tfo, Outcomes: []string{"granted"}}, {Server: dropped, Outcomes: []string{"timeout"}}, {Server: tfo, Outcomes: []string{"plain"}}},
			nil},
		{"TFO again after the timeout: detection did not fire",
			[]scenario.Scenario{{Server: tfo, Outcomes: []string{"granted"}}, {Server: dropped, Outcomes: []string{"timeout"}}, {Server: tfo, Outcomes: []string{"plain", "plain", "accepted"}}},
			nil},
		{"plain SYNs before the timeout only",
			[]scenario.Scenario{{Server: tfo, Outcomes: []string{"plain", "plain", "granted"}}, {Server: dropped, Outcomes: []string{"timeout"}}},
			nil},
		{"a fallback answered after one retransmission is no blackhole",
			[]scenario.Scenario{{Server: tfo, Outcomes: []string{"granted"}}, {Server: dropped, Outcomes: []string{"fallback"}}, {Server: tfo, Outcomes: []string{"plain", "plain"}}},
			nil},
		{"two retransmissions: the client may have given up before detection ran",
			[]scenario.Scenario{{Server: tfo, Outcomes: []string{"granted"}}, {Server: dropped, Outcomes: []string{"timeout-2"}}, {Server: tfo, Outcomes: []string{"plain", "plain"}}},
			nil},
		{"no SYN asks for TFO (refused SYNs neither)",
			[]scenario.Scenario{{Server: tfo, Outcomes: []string{"plain", "plain"}}, {Server: dropped, Outcomes: []string{"refused-plain"}}},
			[]analyze.FindingID{analyze.FindNoTFOClients}},
		{"snaplen hid the options: cannot say no client asked",
			[]scenario.Scenario{{Server: tfo, Outcomes: []string{"plain", "truncated"}}},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := synthSummary(tc.scenarios...)
			var got []analyze.FindingID
			for _, f := range r.Findings {
				got = append(got, f.ID)
				if f.Servers == nil || f.Clients == nil {
					t.Errorf("%s: servers or clients is null", f.ID)
				}
				// Detection off (the sysctl 0) and applications that do
				// not use TFO leave the same packets: the text says so.
				if f.ID == analyze.FindClientBlackhole && !strings.Contains(f.Text, "applications that never ask for TFO") {
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
	r := synthSummary(scenario.Scenario{Server: "192.0.2.2:80", Outcomes: []string{"plain", "plain"}})
	if len(r.Findings) != 1 || r.Findings[0].ID != analyze.FindNoTFOClients {
		t.Fatalf("findings %+v, want one no-tfo-clients", r.Findings)
	}
	if empty := analyze.NewCollector(0).Summary(); len(empty.Findings) != 0 {
		t.Errorf("no attempts at all: %+v", empty.Findings)
	}
}

// TestFindingsIgnoreArrivalOrder: attempts reach the Collector in no
// particular order (unanswered ones last), yet the findings must name the
// same frames whatever the order.
func TestFindingsIgnoreArrivalOrder(t *testing.T) {
	var rec recorder
	scenario.Run(&rec,
		scenario.Scenario{Server: "192.0.2.2:8001", Outcomes: []string{"granted-mptcp", "granted-mptcp"}},
		scenario.Scenario{Server: "192.0.2.2:8005", Outcomes: []string{"omitted-mptcp", "omitted-mptcp"}},
		scenario.Scenario{Server: "192.0.2.2:8003", Outcomes: []string{"timeout", "timeout"}},
		scenario.Scenario{Server: "192.0.2.2:8001", Outcomes: []string{"plain", "plain", "plain"}})
	report := func(order []analyze.Attempt) *analyze.Summary {
		c := analyze.NewCollector(-1)
		for i := range order {
			c.Attempt(&order[i])
		}
		return c.Summary()
	}
	forward := report(rec.attempts)
	reversed := slices.Clone(rec.attempts)
	slices.Reverse(reversed)
	backward := report(reversed)
	if !reflect.DeepEqual(forward.Findings, backward.Findings) || !reflect.DeepEqual(forward.Servers, backward.Servers) {
		t.Errorf("findings depend on the order attempts arrive in:\nforward  %+v\n%+v\nbackward %+v\n%+v",
			forward.Findings, forward.Servers, backward.Findings, backward.Servers)
	}
	if len(forward.Findings) != 1 || forward.Findings[0].ID != analyze.FindClientBlackhole {
		t.Errorf("findings %+v, want client-blackhole", forward.Findings)
	}
}

// recorder is a Sink that keeps copies of the attempts in the order they
// were judged.
type recorder struct{ attempts []analyze.Attempt }

func (r *recorder) Attempt(a *analyze.Attempt)                    { r.attempts = append(r.attempts, a.Clone()) }
func (r *recorder) OrphanReply(netip.AddrPort, analyze.PacketRef) {}

// TestChangeIffMixed checks the rule docs/report.md states: a server has a
// change exactly when its verdict is mixed.
func TestChangeIffMixed(t *testing.T) {
	c := analyze.NewCollector(0)
	scenario.Run(c, append(scenario.Lab,
		scenario.Scenario{Server: "192.0.2.9:1", Outcomes: []string{"granted", "granted", "omitted", "rejected"}},
		scenario.Scenario{Server: "192.0.2.9:2", Outcomes: []string{"omitted", "plain", "accepted"}},
		scenario.Scenario{Server: "192.0.2.9:3", Outcomes: []string{"granted", "omitted", "granted", "truncated", "refused"}},
	)...)
	want := map[string]analyze.ChangeKind{"192.0.2.2:8003": analyze.Interleaved, "192.0.2.9:1": analyze.StoppedGranting,
		"192.0.2.9:2": analyze.StartedGranting, "192.0.2.9:3": analyze.Interleaved}
	for _, s := range c.Summary().Servers {
		addr := s.Server.String()
		if (s.Change != nil) != (s.Verdict == analyze.Mixed) {
			t.Errorf("%s: verdict %s, change %+v", addr, s.Verdict, s.Change)
		}
		if s.Change != nil && s.Change.Kind != want[addr] {
			t.Errorf("%s: %s, want %s", addr, s.Change.Kind, want[addr])
		}
		delete(want, addr)
	}
	if len(want) > 0 {
		t.Errorf("servers missing from the summary: %v", want)
	}
}
