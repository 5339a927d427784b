package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/report"
)

// labManifest is the part of a lab manifest (testdata/lab) that says what
// the captures of one run must show: what each listener really did, as the
// lab recorded it, independently of tfopcap.
type labManifest struct {
	// Run names the lab script's run; "findings" manifests list
	// situations instead (TestFindingsLabCaptures).
	Run      string `json:"run"`
	Captures []struct {
		File string `json:"file"`
		// Partial marks one vantage point of several: expected holds for
		// it only read with the others (ReadTogether).
		Partial bool `json:"partial"`
	} `json:"captures"`
	// ReadTogether lists sets of captures that give expected when
	// analysed as one capture (the two sides of a router).
	ReadTogether [][]string `json:"read_together"`
	Expected     struct {
		Totals struct {
			Attempts int            `json:"attempts"`
			Outcomes map[string]int `json:"outcomes"`
		} `json:"totals"`
		Servers map[string]struct {
			Attempts int                `json:"attempts"`
			Outcomes map[string]int     `json:"outcomes"`
			Verdict  string             `json:"verdict"`
			MPTCP    report.MPTCPCounts `json:"mptcp"`
		} `json:"servers"`
	} `json:"expected"`
}

// TestLabCaptures checks every committed real-kernel capture against its
// manifest: every server's verdict, outcome counts and MPTCP counts must be
// exact, whatever the format the capture was written in (pcap, pcapng,
// SLL2, nanosecond, VLAN-tagged).
func TestLabCaptures(t *testing.T) {
	manifests, _ := filepath.Glob("../../testdata/captures/*/manifest.json")
	if len(manifests) == 0 {
		t.Fatal("no lab manifests in testdata/captures")
	}
	for _, path := range manifests {
		var m labManifest
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if m.Run == "findings" || m.Run == "change" { // their own tests: TestFindingsLabCaptures, TestChangeLabCapture
			continue
		}
		if len(m.Captures) == 0 || len(m.Expected.Servers) == 0 {
			t.Fatalf("%s: no captures or no expected servers", path)
		}
		dir := filepath.Dir(path)
		sets := m.ReadTogether
		for _, c := range m.Captures {
			if !c.Partial {
				sets = append(sets, []string{c.File})
			}
		}
		for _, set := range sets {
			var files []string
			for _, f := range set {
				files = append(files, filepath.Join(dir, f))
			}
			t.Run(filepath.Base(dir)+"/"+strings.Join(set, "+"), func(t *testing.T) {
				checkLabReport(t, analyzeJSON(t, files...), &m)
			})
		}
	}
}

// checkLabReport compares a report with what the manifest expects.
func checkLabReport(t *testing.T, r *report.Report, m *labManifest) {
	t.Helper()
	if r.Totals.Attempts != m.Expected.Totals.Attempts {
		t.Errorf("total attempts %d, manifest %d", r.Totals.Attempts, m.Expected.Totals.Attempts)
	}
	got := map[string]report.ServerReport{}
	for _, s := range r.Servers {
		got[s.Server] = s
	}
	if len(got) != len(m.Expected.Servers) {
		t.Errorf("%d servers, manifest %d", len(got), len(m.Expected.Servers))
	}
	for name, want := range m.Expected.Servers {
		s, ok := got[name]
		if !ok {
			t.Errorf("server %s missing", name)
			continue
		}
		if s.Verdict.String() != want.Verdict {
			t.Errorf("%s: verdict %s, manifest %s", name, s.Verdict, want.Verdict)
		}
		if s.Attempts != want.Attempts {
			t.Errorf("%s: %d attempts, manifest %d", name, s.Attempts, want.Attempts)
		}
		for _, o := range analyze.Outcomes() {
			if s.Outcomes[o] != want.Outcomes[o.String()] {
				t.Errorf("%s: %s %d, manifest %d", name, o, s.Outcomes[o], want.Outcomes[o.String()])
			}
		}
		if s.MPTCP != want.MPTCP {
			t.Errorf("%s: MPTCP %+v, manifest %+v", name, s.MPTCP, want.MPTCP)
		}
		if s.SYNACKWithoutSYN != 0 || s.Truncated != 0 {
			t.Errorf("%s: %d SYN-ACKs without SYN, %d truncated; the lab captures whole handshakes", name, s.SYNACKWithoutSYN, s.Truncated)
		}
	}
}
