package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGateCannotPassBlind checks that --fail-on does not pass a run that
// judged nothing it was asked about: a --server that matched no packet, a
// capture that reads as no packets (a pcapng of one section header, a pcap
// of its file header). Without --fail-on these only warn.
func TestGateCannotPassBlind(t *testing.T) {
	dir := t.TempDir()
	lab := "../../testdata/captures/host-6.18/host.pcapng"
	ng, err := os.ReadFile(lab)
	if err != nil {
		t.Fatal(err)
	}
	shbOnly := filepath.Join(dir, "shb-only.pcapng")
	if err := os.WriteFile(shbOnly, ng[:binary.LittleEndian.Uint32(ng[4:8])], 0o644); err != nil {
		t.Fatal(err)
	}
	pcap, _ := os.ReadFile("../../testdata/captures/host-6.18/host-eth.pcap")
	headerOnly := filepath.Join(dir, "header-only.pcap")
	if err := os.WriteFile(headerOnly, pcap[:24], 0o644); err != nil {
		t.Fatal(err)
	}
	// Every packet of a link type tfopcap cannot decode: 901 packets read,
	// none judged.
	userLink := filepath.Join(dir, "user0.pcap")
	user := append([]byte(nil), pcap...)
	binary.LittleEndian.PutUint32(user[20:], 147) // LINKTYPE_USER0
	if err := os.WriteFile(userLink, user, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		warn string
	}{
		{"server on the wrong port", []string{"--server", "[fd77::1]:9999", lab}, "--server [fd77::1]:9999 matched no SYN, SYN-ACK or RST"},
		{"one of two servers unknown", []string{"--server", "10.77.0.1", "--server", "192.0.2.9", lab}, "--server 192.0.2.9 matched no"},
		{"pcapng of a section header", []string{shbOnly}, "no packets were read"},
		{"pcap of a file header", []string{headerOnly}, "no packets were read"},
		{"packets of an unknown link type", []string{userLink}, "no SYN or SYN-ACK was decoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(append([]string{"analyze", "-q"}, tt.args...)...)
			if code != exitOK || !strings.Contains(stderr, "tfopcap: warning: "+tt.warn) {
				t.Errorf("without --fail-on: exit %d, stderr %q; want 0 and a warning %q", code, stderr, tt.warn)
			}
			code, _, stderr = runCmd(append([]string{"analyze", "-q", "--fail-on", "omits,mixed,inconclusive"}, tt.args...)...)
			if code != exitError || !strings.Contains(stderr, "tfopcap: --fail-on omits,mixed,inconclusive cannot pass: "+tt.warn) {
				t.Errorf("with --fail-on: exit %d, stderr %q; want 2", code, stderr)
			}
		})
	}
	// A --server that matches still passes or fails on its verdict alone.
	if code, _, stderr := runCmd("analyze", "-q", "--fail-on", "omits", "--server", "[fd77::1]:8006", lab); code == exitError || strings.Contains(stderr, "warning") {
		t.Errorf("matching --server: exit %d, stderr %q", code, stderr)
	}
}
