package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/synth"
	"github.com/tfopcap/tfopcap/report"
)

// TestSYNFlood checks that a capture with far more unanswered SYNs open at
// once than the tracker keeps still gets exact counts, with a warning that
// some were judged before their reply timeout.
func TestSYNFlood(t *testing.T) {
	cfg, _ := synth.Profile("handshake")
	cfg.Mix = synth.MustMix("unanswered=100")
	cfg.Size = 8 << 20
	cfg.Concurrent = 4096
	var pcap bytes.Buffer
	want, err := synth.Generate(&pcap, cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "flood.pcap")
	if err := os.WriteFile(file, pcap.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"analyze", "--format", "json", file}, streams{strings.NewReader(""), &stdout, &stderr}); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var r report.Report
	var sr synth.Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(stdout.Bytes(), &sr); err != nil {
		t.Fatal(err)
	}
	n := r.Totals.Outcomes[analyze.Unanswered]
	if n <= analyze.DefaultMaxOpen || n != r.Totals.Attempts {
		t.Fatalf("%d unanswered of %d attempts; the test needs more than %d", n, r.Totals.Attempts, analyze.DefaultMaxOpen)
	}
	if problems := want.Check(&sr); len(problems) > 0 {
		t.Errorf("outcomes differ from the generator's: %v", problems)
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "judged unanswered before the") {
		t.Errorf("no early-judgement warning: %q", r.Warnings)
	}
}
