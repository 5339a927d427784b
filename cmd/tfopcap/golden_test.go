package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files from the current output")

// goldenCase runs tfopcap with args and compares stdout with a golden file.
type goldenCase struct {
	name   string   // golden file name under testdata/golden
	args   []string // command line after "tfopcap"
	exit   int
	public bool // needs ../shared/captures/public
}

// goldenCases are the report formats on real captures. Captures from the
// lab (testdata/captures) are the project's own; public ones are read from
// ../shared and skipped when it is absent.
func goldenCases() []goldenCase {
	pub := func(f string) string { return filepath.Join(publicDir, f) }
	lab := func(f string) string { return filepath.Join("..", "..", "testdata", "captures", f) }
	return []goldenCase{
		{name: "help.txt", args: []string{"help"}},
		{name: "help-analyze.txt", args: []string{"analyze", "--help"}},
		{name: "help-live.txt", args: []string{"live", "--help"}},
		{name: "help-diff.txt", args: []string{"diff", "--help"}},
		{name: "help-probe.txt", args: []string{"probe", "--help"}},
		{name: "seed-6.1.txt", args: []string{"analyze", lab("seed-6.1/seed-eth.pcap")}},
		{name: "seed-6.1-attempts.txt", args: []string{"analyze", "--attempts", lab("seed-6.1/seed.pcapng")}},
		{name: "seed-6.1.md", args: []string{"analyze", "--format", "markdown", lab("seed-6.1/seed-any-sll2.pcap")}},
		{name: "seed-6.1.json", args: []string{"analyze", "--format", "json", lab("seed-6.1/seed-nsec.pcap")}},
		{name: "seed-6.1.html", args: []string{"analyze", "--format", "html", lab("seed-6.1/seed.pcapng")}},
		{name: "change-6.18.html", args: []string{"analyze", "--format", "html", lab("change-6.18/change.pcap")}},
		{name: "findings-6.18-listeners.html", args: []string{"analyze", "--format", "html", lab("findings-6.18/listeners.pcap")}},
		{name: "seed-6.1-fail-on.txt", args: []string{"analyze", "--fail-on", "omits,mixed", "--server", "10.77.0.1", lab("seed-6.1/seed-vlan100.pcap")}, exit: exitMatched},
		{name: "host-6.18.txt", args: []string{"analyze", lab("host-6.18/host-eth.pcap")}},
		{name: "host-6.18-attempts.txt", args: []string{"analyze", "--attempts", "--server", "[fd77::1]:8006", "--server", "10.77.0.1:8001", lab("host-6.18/host.pcapng")}},
		{name: "host-6.18.md", args: []string{"analyze", "--format", "markdown", lab("host-6.18/host-any-sll2.pcap")}},
		{name: "host-6.18.json", args: []string{"analyze", "--format", "json", lab("host-6.18/host-vlan100.pcap")}},
		{name: "findings-6.18-listeners.txt", args: []string{"analyze", lab("findings-6.18/listeners.pcap")}},
		{name: "findings-6.18-nginx-haproxy.txt", args: []string{"analyze", lab("findings-6.18/nginx-haproxy.pcap")}},
		{name: "findings-6.18-nginx-haproxy.md", args: []string{"analyze", "--format", "markdown", lab("findings-6.18/nginx-haproxy.pcap")}},
		{name: "findings-6.18-not-mptcp.txt", args: []string{"analyze", lab("findings-6.18/not-mptcp.pcap")}},
		{name: "findings-6.18-blackhole.txt", args: []string{"analyze", "--attempts", lab("findings-6.18/blackhole.pcap")}},
		{name: "findings-6.18-blackhole.json", args: []string{"analyze", "--format", "json", lab("findings-6.18/blackhole.pcap")}},
		{name: "findings-6.18-blackhole.md", args: []string{"analyze", "--format", "markdown", lab("findings-6.18/blackhole.pcap")}},
		{name: "findings-6.18-no-tfo.txt", args: []string{"analyze", lab("findings-6.18/no-tfo.pcap")}},
		{name: "path-6.18-attempts.txt", args: []string{"analyze", "--attempts", lab("path-6.18/path-router-any.pcap")}},
		{name: "path-6.18-two-sides.json", args: []string{"analyze", "--format", "json", lab("path-6.18/path-client-side.pcap"), lab("path-6.18/path-server-side.pcap")}},
		{name: "path-6.18-two-idbs.md", args: []string{"analyze", "--format", "markdown", "--attempts", lab("path-6.18/path-router.pcapng")}},
		{name: "path-6.18-client-side-only.txt", args: []string{"analyze", lab("path-6.18/path-client-side.pcap")}},
		{name: "change-6.18-attempts.txt", args: []string{"analyze", "--attempts", lab("change-6.18/change.pcap")}},
		{name: "change-6.18.json", args: []string{"analyze", "--format", "json", lab("change-6.18/change.pcap")}},
		{name: "change-6.18.md", args: []string{"analyze", "--format", "markdown", "--attempts", lab("change-6.18/change.pcap")}},
		{name: "host-and-seed-together.txt", args: []string{"analyze", lab("host-6.18/host-nsec.pcap"), lab("seed-6.1/seed-eth.pcap")}},
		{name: "public-tfo-mptcp-sll2.txt", args: []string{"analyze", "--attempts", pub("ptcpdump_tfo-mptcp-sll2.pcap")}, public: true},
		{name: "public-tfo-mptcp-sll2.json", args: []string{"analyze", "--format", "json", pub("ptcpdump_tfo-mptcp-sll2.pcap")}, public: true},
		{name: "public-pathspider-measurement.txt", args: []string{"analyze", pub("pathspider_tfo-measurement-exp254.pcap")}, public: true},
		{name: "public-pathspider-measurement.md", args: []string{"analyze", "--format", "markdown", pub("pathspider_tfo-measurement-exp254.pcap")}, public: true},
		{name: "public-pathspider-measurement.json", args: []string{"analyze", "--format", "json", pub("pathspider_tfo-measurement-exp254.pcap")}, public: true},
		{name: "public-pathspider-fail-on-mixed.txt", args: []string{"analyze", "--fail-on", "mixed", "--server", "40.117.92.192", "--attempts", pub("pathspider_tfo-measurement-exp254.pcap")}, exit: exitMatched, public: true},
		{name: "public-kind34-rewritten-malformed.txt", args: []string{"analyze", "--attempts", pub("pathspider_tfo-cookie-request-kind34-rewritten.pcap")}, public: true},
		{name: "public-dnscollector-accepted.txt", args: []string{"analyze", "--attempts", pub("dnscollector_dns-tcp-fastopen.pcap")}, public: true},
		{name: "public-multi-idb-duplicates.json", args: []string{"analyze", "--format", "json", pub("ptcpdump_tcp-multi-idb-comments.pcapng")}, public: true},
		{name: "public-nat-two-sides.txt", args: []string{"analyze", "--attempts", pub("tcpdump_tfo-exp254-syndata.pcap")}, public: true},
		{name: "public-several-files.txt", args: []string{"analyze", pub("pathspider_tfo-cookie-request-exp254.pcap"), pub("pathspider_tfo-data-on-syn-exp254-ipv6.pcap"), pub("tcpdump_mptcp-v1-sll.pcap")}, public: true},
		{name: "public-bpf-filter.txt", args: []string{"analyze", "-f", "ip6", pub("pathspider_tfo-measurement-exp254.pcap")}, public: true},
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.public {
				if _, err := os.Stat(publicDir); err != nil {
					t.Skip("../shared/captures/public is absent")
				}
			}
			var stdout, stderr bytes.Buffer
			code := run(tc.args, streams{strings.NewReader(""), &stdout, &stderr})
			if code != tc.exit {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.exit, stderr.String())
			}
			checkGolden(t, filepath.Join("testdata", "golden", tc.name), stdout.Bytes())
		})
	}
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestUsageDoc keeps docs/usage.md, the man-page style reference, in step
// with the commands' own help texts, all from commandTable (go test
// -update rewrites it).
func TestUsageDoc(t *testing.T) {
	var doc bytes.Buffer
	doc.WriteString("# tfopcap usage\n\nThe help text of each command, as `tfopcap help COMMAND` and `tfopcap COMMAND --help` print it.\n" +
		"Generated from the command table in cmd/tfopcap/commands.go, like the man page docs/tfopcap.1 and\n" +
		"`tfopcap completion`: after changing a command or a flag, run\n" +
		"`go test ./cmd/tfopcap -run 'TestUsageDoc|TestManPage' -update`.\n")
	titles := [][]string{{"tfopcap", "help"}}
	for _, c := range program().Commands {
		if !c.Hidden {
			titles = append(titles, []string{"tfopcap " + c.Name, "help", c.Name})
		}
	}
	for _, c := range titles {
		var stdout, stderr bytes.Buffer
		if code := run(c[1:], streams{strings.NewReader(""), &stdout, &stderr}); code != exitOK {
			t.Fatalf("%v: exit %d: %s", c[1:], code, stderr.String())
		}
		doc.WriteString("\n## " + c[0] + "\n\n```\n" + stdout.String() + "```\n")
	}
	checkGolden(t, filepath.Join("..", "..", "docs", "usage.md"), doc.Bytes())
}
