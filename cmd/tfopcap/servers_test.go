package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFailOnSeesUnlistedServers checks that --fail-on inconclusive still
// fails on a server that is not listed because it saw no TFO attempt (a
// plain MPTCP connection here): hiding rows must not open a CI gate.
func TestFailOnSeesUnlistedServers(t *testing.T) {
	src := filepath.Join(publicDir, "ptcpdump_mptcp-loopback.pcap")
	if _, err := os.Stat(src); err != nil {
		t.Skip("../shared/captures/public is absent")
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"analyze", "-q", "--fail-on", "inconclusive", src}, streams{strings.NewReader(""), &stdout, &stderr})
	if code != exitMatched || !strings.Contains(stderr.String(), "1 unlisted server(s) inconclusive") {
		t.Errorf("exit %d, stderr %q: want exit %d naming the unlisted server", code, stderr.String(), exitMatched)
	}
	if !strings.Contains(stdout.String(), "1 server(s) without any TFO attempt, not listed") {
		t.Errorf("report does not count the unlisted server:\n%s", stdout.String())
	}
}
