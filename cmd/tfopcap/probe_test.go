//go:build linux

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/internal/netnslab"
	"github.com/tfopcap/tfopcap/internal/schematest"
	"github.com/tfopcap/tfopcap/report"
)

// TestProbeCommand runs the tfopcap binary's probe against real servers in
// a namespace pair: Debian's nginx with and without fastopen=, a closed
// port and one nft drops, as root (capture) and as nobody (TCP_INFO).
func TestProbeCommand(t *testing.T) {
	if !builtWithLibpcap {
		t.Skip("built without cgo: probe cannot filter a capture to its own connections")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) not installed")
	}
	p := netnslab.NewPair(t)
	bin := buildTfopcap(t)
	startNginx(t, p.Server, "192.0.2.1:8081 fastopen=16", "192.0.2.1:8082")
	if out, err := p.Server.Run("nft", "add table inet pbprobe; add chain inet pbprobe in { type filter hook input priority 0; }; add rule inet pbprobe in tcp dport 8085 drop"); err != nil {
		t.Fatalf("nft: %v %s", err, out)
	}

	users := []struct {
		name   string
		prefix []string
		method string
		note   string // in 8081's probe notes
	}{
		{"root", nil, "capture", ""},
		// Captures, but may not delete the cookie the root run left: the
		// request round sends it with data, and the report says so.
		{"root without CAP_NET_ADMIN", []string{"setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin", "--"}, "capture", "may not delete it (CAP_NET_ADMIN"},
		{"nobody", []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--"}, "tcp_info", "may not delete it (CAP_NET_ADMIN"},
	}
	for _, u := range users {
		t.Run(u.name, func(t *testing.T) {
			evidence := filepath.Join(t.TempDir(), "evidence.pcap")
			os.Chmod(filepath.Dir(evidence), 0o777)
			args := append(append(u.prefix, bin, "probe", "--format", "json", "--fail-on", "omits", "--evidence", evidence), "192.0.2.1:8081", "192.0.2.1:8082")
			cmd := p.Client.Command(args[0], args[1:]...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitMatched {
				t.Fatalf("exit %v, want 1 (--fail-on omits); stderr:\n%s", err, stderr.String())
			}
			schematest.Validate(t, out)
			var r report.Report
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"192.0.2.1:8081": "grants", "192.0.2.1:8082": "omits"}
			for _, s := range r.Servers {
				// Without packets, the MPTCP round's unacked SYN data
				// (8082 ignores the cookie) makes the client fall back
				// to TCP whatever the SYN-ACK said.
				wantMPTCP := "no"
				if u.method == "tcp_info" && s.Server == "192.0.2.1:8082" {
					wantMPTCP = "unknown"
				}
				if s.Probe == nil || s.Probe.Method != u.method || s.Probe.MPTCP != wantMPTCP || want[s.Server] != s.Verdict.String() {
					t.Errorf("%s: verdict %s, probe %+v; want %s, method %s, mptcp %s", s.Server, s.Verdict, s.Probe, want[s.Server], u.method, wantMPTCP)
				}
				if s.Server == "192.0.2.1:8081" && s.Probe != nil && u.note != "" && !strings.Contains(strings.Join(s.Probe.Notes, "\n"), u.note) {
					t.Errorf("%s: notes %q lack %q", s.Server, s.Probe.Notes, u.note)
				}
				delete(want, s.Server)
			}
			if len(want) > 0 {
				t.Errorf("servers missing: %v", want)
			}
			if u.method == "tcp_info" {
				if !strings.Contains(stderr.String(), "no capture") || !strings.Contains(stderr.String(), "was not written") {
					t.Errorf("without capture privileges stderr does not say so:\n%s", stderr.String())
				}
				return
			}
			// The evidence file holds the omitted attempts, for analyze.
			ev, err := exec.Command(bin, "analyze", "--format", "json", evidence).Output()
			if err != nil {
				t.Fatalf("analyze %s: %v", evidence, err)
			}
			var er report.Report
			if err := json.Unmarshal(ev, &er); err != nil {
				t.Fatal(err)
			}
			if len(er.Servers) != 1 || er.Servers[0].Server != "192.0.2.1:8082" || er.Servers[0].Verdict.String() != "omits" {
				t.Errorf("evidence: %+v, want 192.0.2.1:8082 omitting", er.Servers)
			}
		})
	}

	bad := []struct {
		target, want string
	}{
		{"192.0.2.1:8083", "tfopcap: probe: 192.0.2.1:8083: connection refused (closed port)\n"},
		{"192.0.2.1:8085", "tfopcap: probe: 192.0.2.1:8085: no answer (filtered port, or the host is down)\n"},
		{"no-such-host.invalid:80", `tfopcap: probe: no-such-host.invalid:80: unknown host "no-such-host.invalid"` + "\n"},
		{"198.51.100.7:80", "tfopcap: probe: 198.51.100.7:80: no route to 198.51.100.7 (network is unreachable)\n"},
		{"192.0.2.1", "tfopcap: probe: 192.0.2.1: want HOST:PORT ([IPv6]:PORT): missing port in address\n"},
	}
	for _, b := range bad {
		cmd := p.Client.Command(bin, "probe", "--timeout", "1s", b.target)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError || stderr.String() != b.want {
			t.Errorf("probe %s: %v, stderr %q; want exit 2, %q", b.target, err, stderr.String(), b.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("probe %s took %v", b.target, d)
		}
	}

	// Several targets, some that cannot be probed: the others are still
	// probed and reported, each bad one gets its line, and the exit
	// status is 2 (it was: the first bad target's line, no report).
	cmd := p.Client.Command(bin, "probe", "--timeout", "1s", "--format", "json", "192.0.2.1:8085", "192.0.2.1:8081", "no-such-host.invalid:80", "192.0.2.1:8083")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	wantErr := "tfopcap: probe: no-such-host.invalid:80: unknown host \"no-such-host.invalid\"\n" +
		"tfopcap: probe: 192.0.2.1:8085: no answer (filtered port, or the host is down)\n" +
		"tfopcap: probe: 192.0.2.1:8083: connection refused (closed port)\n"
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError || stderr.String() != wantErr {
		t.Errorf("several targets: %v, stderr %q; want exit 2, %q", err, stderr.String(), wantErr)
	}
	var r report.Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("several targets: no report: %v", err)
	}
	probed := 0
	for _, s := range r.Servers {
		if s.Probe != nil {
			probed++
			if s.Server != "192.0.2.1:8081" || s.Verdict.String() != "grants" {
				t.Errorf("several targets: %s %s probed, want only 192.0.2.1:8081 granting", s.Server, s.Verdict)
			}
		}
	}
	if probed != 1 {
		t.Errorf("several targets: %d servers with probe rounds, want 1", probed)
	}

	// No round can connect (an MPTCP-only probe from a client without
	// MPTCP): no verdict, so --fail-on cannot pass.
	if err := p.Client.Sysctl("net.mptcp.enabled", "0"); err != nil {
		t.Fatal(err)
	}
	out, err = p.Client.Command(bin, "probe", "--rounds", "mptcp", "--fail-on", "omits", "192.0.2.1:8081").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError || !strings.Contains(string(out), "tfopcap: --fail-on omits cannot pass: 192.0.2.1:8081: no round of the probe was judged\n") {
		t.Errorf("no round judged: %v\n%s", err, out)
	}
	if err := p.Client.Sysctl("net.mptcp.enabled", "1"); err != nil {
		t.Fatal(err)
	}

	// The client bit of net.ipv4.tcp_fastopen off: one line, no change.
	if err := p.Client.Sysctl("net.ipv4.tcp_fastopen", "2"); err != nil {
		t.Fatal(err)
	}
	out, err = p.Client.Command(bin, "probe", "192.0.2.1:8081").CombinedOutput()
	want := "tfopcap: probe: the client side of TCP Fast Open is off here (net.ipv4.tcp_fastopen = 2): turn it on with sysctl -w net.ipv4.tcp_fastopen=3\n"
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError || string(out) != want {
		t.Errorf("client TFO off: %v, %q; want exit 2, %q", err, out, want)
	}
	if v, _ := p.Client.Run("sysctl", "-n", "net.ipv4.tcp_fastopen"); strings.TrimSpace(v) != "2" {
		t.Errorf("the probe changed net.ipv4.tcp_fastopen to %q", v)
	}
}
