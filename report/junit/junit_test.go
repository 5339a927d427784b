package junit

import (
	"bytes"
	"strings"
	"testing"

	parser "github.com/joshdk/go-junit"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/report"
)

// TestWriteReadBack writes a report with servers that match --fail-on and
// servers that do not, and reads it back with an independent JUnit parser
// (github.com/joshdk/go-junit, the one many CI tools' Go plugins use).
func TestWriteReadBack(t *testing.T) {
	r := &report.Report{
		Inputs: []report.InputReport{{Name: "before.pcap"}, {Name: "after.pcap"}},
		Servers: []report.ServerReport{
			{Server: "192.0.2.2:80", Verdict: analyze.Grants},
			{Server: "192.0.2.2:443", Verdict: analyze.Omits,
				Hints: []string{"an MPTCP listener on Linux < 6.2 <&>"}, HintIDs: []analyze.FindingID{analyze.FindMPTCPTFOUnsupported}},
			{Server: "[2001:db8::1]:443", Verdict: analyze.Mixed, Change: &report.ChangeReport{Kind: "stopped-granting", Switches: 1,
				Before: &report.DecisionReport{Outcome: analyze.Granted, Frame: 12, SYNFrame: 11, Time: "T1"},
				After:  &report.DecisionReport{Outcome: analyze.Omitted, Input: 1, Frame: 20, SYNInput: 1, SYNFrame: 19, Time: "T2"}}},
			{Server: "192.0.2.9:80", Verdict: analyze.Inconclusive},
		},
		UnlistedServers: &report.UnlistedServers{Servers: 2, Attempts: 5},
		Findings:        []report.FindingReport{{ID: analyze.FindNoTFOClients, Text: "no SYN asked for TFO"}},
	}
	r.Servers[1].Outcomes[analyze.Omitted] = 4
	tests := []struct {
		name   string
		failOn []analyze.Verdict
		gate   []string
		failed []string // the cases that fail, in order
	}{
		{"no gate", nil, nil, nil},
		{"omits,mixed", []analyze.Verdict{analyze.Omits, analyze.Mixed}, nil, []string{"192.0.2.2:443", "[2001:db8::1]:443"}},
		{"inconclusive counts the unlisted", []analyze.Verdict{analyze.Inconclusive}, nil, []string{"192.0.2.9:80", "2 unlisted server(s)"}},
		{"a gate that cannot pass", []analyze.Verdict{analyze.Omits}, []string{"--server 192.0.2.7 matched no SYN"}, []string{"192.0.2.2:443", "capture"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, r, tt.failOn, tt.gate); err != nil {
				t.Fatal(err)
			}
			suites, err := parser.Ingest(buf.Bytes())
			if err != nil {
				t.Fatalf("parse: %v\n%s", err, buf.String())
			}
			if len(suites) != 1 || suites[0].Name != "tfopcap before.pcap after.pcap" {
				t.Fatalf("suites %+v, want one named after the inputs", suites)
			}
			s := suites[0]
			wantCases := len(r.Servers) + 1
			if len(tt.gate) > 0 {
				wantCases++
			}
			if s.Totals.Tests != wantCases || s.Totals.Failed != len(tt.failed) {
				t.Errorf("totals %+v, want %d tests, %d failed", s.Totals, wantCases, len(tt.failed))
			}
			var failed []string
			for _, tc := range s.Tests {
				if tc.Status == parser.StatusFailed {
					failed = append(failed, tc.Name)
				}
				if tc.Name == "[2001:db8::1]:443" && tc.Status == parser.StatusFailed &&
					tc.Message != "verdict mixed: no attempt; stopped granting: last grant 0:12 (SYN 0:11) at T1, first omission 1:20 (SYN 1:19) at T2" {
					t.Errorf("message %q lacks the change point", tc.Message)
				}
				if tc.Name == "192.0.2.2:443" && tc.Status == parser.StatusFailed {
					if !strings.Contains(tc.Message, "verdict omits: omitted 4; findings: mptcp-tfo-unsupported") {
						t.Errorf("message %q lacks the verdict and finding IDs", tc.Message)
					}
					if !strings.Contains(tc.Error.Error(), "[mptcp-tfo-unsupported] an MPTCP listener on Linux < 6.2 <&>") {
						t.Errorf("failure body %q lacks the finding text", tc.Error)
					}
				}
			}
			if strings.Join(failed, " ") != strings.Join(tt.failed, " ") {
				t.Errorf("failed %v, want %v", failed, tt.failed)
			}
			if !strings.Contains(s.SystemOut, "[no-tfo-clients] no SYN asked for TFO") {
				t.Errorf("suite output %q lacks the capture-wide finding", s.SystemOut)
			}
		})
	}
}
