package main

import (
	"net"
	"strings"
	"testing"
)

// TestMetricsFlagErrors: each mistake with the --metrics flags is one
// line and exit 2, before any interface is opened or any probe is made.
func TestMetricsFlagErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"live", "-i", "lo", "--metrics-addr", addr},
			"tfopcap: live: --metrics-addr " + addr + ": bind: address already in use\n"},
		{[]string{"live", "-i", "lo", "--metrics-addr", "127.0.0.1:0", "--metrics-max-servers", "0"},
			"tfopcap: live: --metrics-max-servers must be at least 1\n"},
		{[]string{"live", "-i", "lo", "--metrics-addr", "127.0.0.1:0", "--metrics-window", "500ms"},
			"tfopcap: live: --metrics-window must be at least 1s\n"},
		{[]string{"probe", "--metrics-addr", "127.0.0.1:0", "192.0.2.1:443"},
			"tfopcap: probe: --metrics-addr takes no targets: Prometheus names them in /probe?target=HOST:PORT\n"},
		{[]string{"probe", "--metrics-addr", "127.0.0.1:0", "--evidence", "x.pcap"},
			"tfopcap: probe: --evidence does not apply with --metrics-addr\n"},
		{[]string{"probe", "--metrics-addr", addr},
			"tfopcap: probe: --metrics-addr " + addr + ": bind: address already in use\n"},
	} {
		code, stdout, stderr := runCmd(c.args...)
		if code != exitError || stderr != c.want || stdout != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want exit 2, %q", strings.Join(c.args, " "), code, stderr, stdout, c.want)
		}
	}
}
