package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
)

// TestVantageFindings reads the router lab (testdata/lab/run-path) the
// three ways it was captured and checks that every one finds what the
// router did, where it did it: option-stripped on the ports whose SYNs
// lost option 34 (with and without NAT), reply-lost on the port whose
// SYN-ACKs were dropped, and nothing on the others. A server that was
// never asked gets no MPTCP or listener blame.
func TestVantageFindings(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "captures", "path-6.18")
	want := map[string][]analyze.FindingID{
		"10.78.2.2:8101": {},
		"10.78.2.2:8102": {analyze.FindOptionStripped},
		"10.78.2.2:8103": {analyze.FindReplyLost},
		"10.78.2.2:8104": {},
		"10.78.2.2:8105": {analyze.FindOptionStripped},
		"10.78.2.2:8106": {analyze.FindMPTCPUnseen, analyze.FindOtherCauses},
	}
	blame := []analyze.FindingID{analyze.FindMPTCPTFOUnsupported, analyze.FindListenerNoTFO, analyze.FindMPTCPUnseen, analyze.FindOtherCauses}
	for _, files := range [][]string{
		{"path-client-side.pcap", "path-server-side.pcap"},
		{"path-server-side.pcap", "path-client-side.pcap"}, // input order does not matter
		{"path-router-any.pcap"},
		{"path-router.pcapng"},
	} {
		var args []string
		for _, f := range files {
			args = append(args, filepath.Join(dir, f))
		}
		t.Run(files[0], func(t *testing.T) {
			r := analyzeJSON(t, args...)
			for _, s := range r.Servers {
				w, ok := want[s.Server]
				if !ok {
					t.Errorf("unexpected server %s", s.Server)
					continue
				}
				if !slices.Equal(s.HintIDs, w) {
					t.Errorf("%s: hint IDs %v, want %v", s.Server, s.HintIDs, w)
				}
				if s.Outcomes[analyze.Stripped] > 0 {
					if s.Verdict != analyze.Inconclusive || slices.ContainsFunc(s.HintIDs, func(id analyze.FindingID) bool { return slices.Contains(blame, id) }) {
						t.Errorf("%s: never asked, yet %s with %v", s.Server, s.Verdict, s.HintIDs)
					}
				}
			}
			for _, a := range r.Attempts {
				if (a.Outcome == analyze.Stripped) != (a.SYN.Stripped != nil) {
					t.Errorf("%s > %s: outcome %s, stripped copy %+v", a.Client, a.Server, a.Outcome, a.SYN.Stripped)
				}
				if a.SYN.Stripped != nil && a.SYN.Stripped.TFO != "none" {
					t.Errorf("%s > %s: the stripped copy has TFO %s", a.Client, a.Server, a.SYN.Stripped.TFO)
				}
				if len(a.SYN.Seen) < 2 {
					t.Errorf("%s > %s: SYN seen %d time(s); both sides of the router see every SYN", a.Client, a.Server, len(a.SYN.Seen))
				}
			}
		})
	}
}
