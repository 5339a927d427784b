package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetricsFlagErrors: each mistake with the --metrics flags is one
// line and exit 2, before any interface is opened or any probe is made.
func TestMetricsFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"live", "-i", "lo", "--metrics-addr", "127.0.0.1:0", "--metrics-max-servers", "0"},
			"tfopcap: live: --metrics-max-servers must be at least 1\n"},
		{[]string{"live", "-i", "lo", "--metrics-addr", "127.0.0.1:0", "--metrics-window", "500ms"},
			"tfopcap: live: --metrics-window must be at least 1s\n"},
		{[]string{"probe", "--metrics-addr", "127.0.0.1:0", "192.0.2.1:443"},
			"tfopcap: probe: --metrics-addr takes no targets: Prometheus names them in /probe?target=HOST:PORT\n"},
		{[]string{"probe", "--metrics-addr", "127.0.0.1:0", "--evidence", "x.pcap"},
			"tfopcap: probe: --evidence does not apply with --metrics-addr\n"},
	} {
		code, stdout, stderr := runCmd(c.args...)
		if code != exitError || stderr != c.want || stdout != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want exit 2, %q", strings.Join(c.args, " "), code, stderr, stdout, c.want)
		}
	}
}

// TestMetricsExec runs the built command as installed, beside
// tfopcap-metrics, and alone: --metrics-addr is served by the other build,
// which reports its own errors as the command's (exit 2, one line), and
// without it the command says what is missing and how to get it.
func TestMetricsExec(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	bin := buildWithMetrics(t)
	alone, emptyDir := filepath.Join(t.TempDir(), "tfopcap"), t.TempDir()
	if err := os.Link(bin, alone); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		bin  string
		args []string
		want string
	}{
		{bin, []string{"live", "-i", "lo", "--metrics-addr", addr},
			"tfopcap: live: --metrics-addr " + addr + ": bind: address already in use\n"},
		{bin, []string{"probe", "--metrics-addr", addr},
			"tfopcap: probe: --metrics-addr " + addr + ": bind: address already in use\n"},
		{alone, []string{"live", "-i", "lo", "--metrics-addr", addr},
			"tfopcap: live: --metrics-addr needs tfopcap-metrics, the build with Prometheus metrics, in " + filepath.Dir(alone) +
				" or in PATH: install the package, which has both, or build it (go build -tags metrics -o tfopcap-metrics ./cmd/tfopcap)\n"},
		{alone, []string{"probe", "--metrics-addr", addr},
			"tfopcap: probe: --metrics-addr needs tfopcap-metrics, the build with Prometheus metrics, in " + filepath.Dir(alone) +
				" or in PATH: install the package, which has both, or build it (go build -tags metrics -o tfopcap-metrics ./cmd/tfopcap)\n"},
	} {
		cmd := exec.Command(c.bin, c.args...)
		// A PATH that holds nothing, so that an installed tfopcap-metrics
		// is not found instead.
		cmd.Env = append(os.Environ(), "PATH="+emptyDir)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != exitError || stderr.String() != c.want || stdout.Len() != 0 {
			t.Errorf("%s %s: exit %d (%v), stderr %q, stdout %q; want exit 2, %q", c.bin, strings.Join(c.args, " "), code, err, stderr.String(), stdout.String(), c.want)
		}
	}
	out, err := exec.Command(filepath.Join(filepath.Dir(bin), metricsBinary), "version").Output()
	if err != nil || !strings.Contains(string(out), "\nmetrics: this build (-tags metrics) serves --metrics-addr itself\n") {
		t.Errorf("tfopcap-metrics version: %v\n%s", err, out)
	}
}
