package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTcpdumpLetters: analyze takes tcpdump's letters where it uses them:
// -r FILE reads a file, -n is accepted, -v adds detail, and a filter
// written after the files as tcpdump takes it points to -f.
func TestTcpdumpLetters(t *testing.T) {
	capture := filepath.Join("..", "..", "testdata", "captures", "seed-6.1", "seed-eth.pcap")
	plain := runOut(t, exitOK, "analyze", capture)
	if got := runOut(t, exitOK, "analyze", "-r", capture); got != plain {
		t.Errorf("-r FILE differs from FILE:\n%s", got)
	}
	if got := runOut(t, exitOK, "analyze", "-n", capture); got != plain {
		t.Errorf("-n changed the report:\n%s", got)
	}
	attempts := runOut(t, exitOK, "analyze", "--attempts", capture)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"analyze", "-v", capture}, streams{nil, &stdout, &stderr}); code != exitOK || stdout.String() != attempts {
		t.Errorf("-v: exit %d, report differs from --attempts:\n%s", code, stdout.String())
	}
	if want := "tfopcap: " + capture + ": 181 frames: 181 tcp\n"; stderr.String() != want {
		t.Errorf("-v stderr %q, want %q", stderr.String(), want)
	}

	dir := t.TempDir()
	port := filepath.Join(dir, "port")
	if err := os.WriteFile(port, mustRead(t, capture), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		args []string
		want string // stderr; "" means exit 0
	}{
		{[]string{capture, "tcp", "port", "443"}, `analyze: "tcp port 443" is not a file but looks like a filter expression: give it with -f 'tcp port 443'`},
		{[]string{capture, "not", "port", "22"}, `give it with -f 'not port 22'`},
		{[]string{capture, "nosuch.pcap"}, "tfopcap: nosuch.pcap: no such file\n"},
		// A file named like a filter word is a file.
		{[]string{port}, ""},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"analyze"}, r.args...), streams{nil, &stdout, &stderr})
		switch {
		case r.want == "" && code != exitOK:
			t.Errorf("%v: exit %d: %s", r.args, code, stderr.String())
		case r.want != "" && (code != exitError || !strings.Contains(stderr.String(), r.want) || strings.Count(stderr.String(), "\n") != 1):
			t.Errorf("%v: exit %d, stderr %q, want one line with %q", r.args, code, stderr.String(), r.want)
		}
	}
}

// runOut runs tfopcap and returns its stdout, failing unless it exits
// with want.
func runOut(t *testing.T, want int, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, streams{nil, &stdout, &stderr}); code != want {
		t.Fatalf("%v: exit %d, want %d: %s", args, code, want, stderr.String())
	}
	return stdout.String()
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFailOnListsServersPlainly: the servers --fail-on matched are listed
// with commas, not in Go's slice brackets, which collide with IPv6's.
func TestFailOnListsServersPlainly(t *testing.T) {
	var stdout, stderr bytes.Buffer
	capture := filepath.Join("..", "..", "testdata", "captures", "seed-6.1", "seed-eth.pcap")
	if code := run([]string{"analyze", "--fail-on", "omits", capture}, streams{nil, &stdout, &stderr}); code != exitMatched {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if want := "tfopcap: --fail-on omits matched: 10.77.0.1:8001 omits, 10.77.0.1:8004 omits, [fd77::1]:8001 omits\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}
