package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tfopcap/tfopcap/internal/synth"
	"github.com/tfopcap/tfopcap/report"
)

// TestMarkdownLimitEndToEnd analyzes a generated capture of 800 servers,
// half of them omitting, and checks that the markdown report with every
// attempt asked for still fits a GitHub issue, saying what it cut.
func TestMarkdownLimitEndToEnd(t *testing.T) {
	cfg, _ := synth.Profile("handshake")
	cfg.Servers = 400
	cfg.Mix = synth.MustMix("granted=40,omitted=40,accepted=10,rejected=10")
	cfg.Size = 3 << 20
	var pcap bytes.Buffer
	if _, err := synth.Generate(&pcap, cfg); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "many.pcap")
	if err := os.WriteFile(file, pcap.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"analyze", "--format", "markdown", "--attempts", file}, streams{strings.NewReader(""), &stdout, &stderr}); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	md := stdout.String()
	n := utf8.RuneCountInString(md)
	t.Logf("%d bytes of pcap, markdown %d characters", pcap.Len(), n)
	if n > report.MarkdownLimit {
		t.Errorf("markdown has %d characters, more than %d", n, report.MarkdownLimit)
	}
	for _, s := range []string{"attempts of the list left out", "server sections left out", "`--format json` has them all"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q", s)
		}
	}
}
