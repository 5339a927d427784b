package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/check"
	"github.com/tfopcap/tfopcap/internal/netnslab"
	"github.com/tfopcap/tfopcap/internal/schematest"
)

// newCheckNetns makes one network namespace, loopback up, the TFO server
// bit on, and deletes it when the test ends.
func newCheckNetns(t *testing.T) netnslab.Netns {
	t.Helper()
	netnslab.Require(t)
	sweepCheckNetns()
	ns := netnslab.Netns{Name: fmt.Sprintf("ck-%d-%s", os.Getpid(), strings.ToLower(t.Name()[4:min(len(t.Name()), 12)]))}
	exec.Command("ip", "netns", "del", ns.Name).Run()
	if out, err := exec.Command("ip", "netns", "add", ns.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns.Name).Run() })
	for _, args := range [][]string{{"ip", "link", "set", "lo", "up"}, {"sysctl", "-qw", "net.ipv4.tcp_fastopen=3"}, {"sysctl", "-qw", "net.mptcp.enabled=1"}} {
		if _, err := ns.Run(args[0], args[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	return ns
}

// sweepCheckNetns deletes the ck-PID-* namespaces of test processes that
// are gone (killed by a timeout before their cleanup ran).
func sweepCheckNetns() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		pid, _, ok := strings.Cut(strings.TrimPrefix(e.Name(), "ck-"), "-")
		if !strings.HasPrefix(e.Name(), "ck-") || !ok {
			continue
		}
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); os.IsNotExist(err) {
			exec.Command("ip", "netns", "del", e.Name()).Run()
		}
	}
}

// startNginx runs Debian's nginx in ns with one server block per listen
// line, stopped when the test ends.
func startNginx(t *testing.T, ns netnslab.Netns, listens ...string) {
	t.Helper()
	if _, err := exec.LookPath("nginx"); err != nil {
		t.Skip("nginx not installed (apt-get install nginx)")
	}
	dir := t.TempDir()
	var conf strings.Builder
	fmt.Fprintf(&conf, "user www-data;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n  access_log off;\n", dir, dir)
	for _, l := range listens {
		fmt.Fprintf(&conf, "  server { listen %s; return 204; }\n", l)
	}
	conf.WriteString("}\n")
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Output to a file, not a pipe: a pipe that a worker still holds
	// would keep Wait waiting.
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := ns.Command("nginx", "-c", path, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// SIGTERM: the master stops its workers before it exits (SIGKILL
	// would orphan them).
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Error("nginx did not stop on SIGTERM")
		}
	})
	for i := 0; i < 50; i++ {
		if _, err := os.Stat(filepath.Join(dir, "nginx.pid")); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	stdout, _ := os.ReadFile(out.Name())
	t.Fatalf("nginx did not start: %s %s", stdout, log)
}

// runCheckIn runs the built tfopcap check in ns, optionally through
// setpriv as nobody, and returns its report, stderr and exit code.
func runCheckIn(t *testing.T, ns netnslab.Netns, bin string, asNobody bool, args ...string) (*check.Report, string, int) {
	t.Helper()
	argv := append([]string{bin, "check", "--format", "json", "--interval", "0"}, args...)
	if asNobody {
		argv = append([]string{"setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "--inh-caps=-all"}, argv...)
	}
	cmd := ns.Command(argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	schematest.ValidateCheck(t, stdout.Bytes())
	var r check.Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("check output is not JSON: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return &r, stderr.String(), code
}

func listenerAt(t *testing.T, r *check.Report, addr string) check.ListenerReport {
	t.Helper()
	i := slices.IndexFunc(r.Listeners, func(l check.ListenerReport) bool { return l.Address == addr })
	if i < 0 {
		t.Fatalf("no listener %s in %+v", addr, r.Listeners)
	}
	return r.Listeners[i]
}

func findingIDs(l check.ListenerReport) []analyze.FindingID {
	ids := []analyze.FindingID{}
	for _, f := range l.Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

// TestCheckRealServers: in a server namespace, Debian's nginx with and
// without fastopen= and Go listeners (MPTCP, Go's default since 1.24, and
// plain TCP), each with and without TCP_FASTOPEN: check names each one's
// protocol, process and TFO state, as root and, with what it can still
// see, as nobody.
func TestCheckRealServers(t *testing.T) {
	ns := newCheckNetns(t)
	bin := buildTfopcap(t)
	startNginx(t, ns, "127.0.0.1:8081 fastopen=16", "127.0.0.1:8082")
	for _, cfg := range []netnslab.ServerConfig{
		{Addr: netip.MustParseAddrPort("127.0.0.1:8001"), MPTCP: true, FastOpen: 16},
		{Addr: netip.MustParseAddrPort("127.0.0.1:8002"), MPTCP: true},
		{Addr: netip.MustParseAddrPort("[::1]:8003"), FastOpen: 16},
	} {
		s, err := ns.Listen(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
	}
	// Go's own default, a zero ListenConfig (MPTCP since Go 1.24), with
	// TCP_FASTOPEN set in Control and its error only logged, as Xray-core
	// does: the seed's listener.
	xrayLike := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		c.Control(func(fd uintptr) {
			if err := syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, unix.TCP_FASTOPEN, 16); err != nil {
				t.Logf("TCP_FASTOPEN on Go's default listener: %v", err)
			}
		})
		return nil
	}}
	if err := ns.Do(func() error {
		ln, err := xrayLike.Listen(context.Background(), "tcp", "127.0.0.1:8004")
		if err == nil {
			t.Cleanup(func() { ln.Close() })
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	release, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	mptcpTFO := !strings.HasPrefix(string(release), "5.") && !strings.HasPrefix(string(release), "6.0.") && !strings.HasPrefix(string(release), "6.1.")
	self, _ := os.ReadFile("/proc/self/comm")
	goName := strings.TrimSpace(string(self))

	type want struct {
		addr, proto, process, tfo string
		ids                       []analyze.FindingID
	}
	wants := []want{
		{"127.0.0.1:8081", "tcp", "nginx", check.TFOEnabled, []analyze.FindingID{}},
		{"127.0.0.1:8082", "tcp", "nginx", check.TFODisabled, []analyze.FindingID{analyze.FindListenerNoTFO, analyze.FindNotMPTCP}},
		{"127.0.0.1:8002", "mptcp", goName, check.TFODisabled, []analyze.FindingID{analyze.FindListenerNoTFO}},
		{"[::1]:8003", "tcp", goName, check.TFOEnabled, []analyze.FindingID{}},
	}
	for _, addr := range []string{"127.0.0.1:8001", "127.0.0.1:8004"} {
		if mptcpTFO {
			wants = append(wants, want{addr, "mptcp", goName, check.TFOEnabled, []analyze.FindingID{}})
		} else {
			wants = append(wants, want{addr, "mptcp", goName, check.TFODisabled, []analyze.FindingID{analyze.FindMPTCPTFOUnsupported}})
		}
	}

	r, stderr, code := runCheckIn(t, ns, bin, false)
	if code != 0 || len(r.Warnings) != 0 {
		t.Errorf("as root: exit %d, warnings %v, stderr %s", code, r.Warnings, stderr)
	}
	for _, w := range wants {
		l := listenerAt(t, r, w.addr)
		if l.Protocol != w.proto || len(l.Processes) == 0 || l.Processes[0].Name != w.process || l.TFO != w.tfo || !slices.Equal(findingIDs(l), w.ids) {
			t.Errorf("%s: %s %+v TFO %s %v (probe %+v %s), want %s %s TFO %s %v",
				w.addr, l.Protocol, l.Processes, l.TFO, findingIDs(l), l.Probe, l.ProbeError, w.proto, w.process, w.tfo, w.ids)
		}
		if w.proto == "mptcp" && (l.Probe == nil || l.Probe.MPTCP != "MP_CAPABLE v1") {
			t.Errorf("%s: the probe's SYN-ACK does not confirm MPTCP: %+v", w.addr, l.Probe)
		}
	}
	if len(r.Listeners) != len(wants) {
		t.Errorf("%d listeners, want %d: %+v", len(r.Listeners), len(wants), r.Listeners)
	}

	// --fail-on: a CI gate on the findings.
	if _, _, code := runCheckIn(t, ns, bin, false, "--fail-on", "listener-no-tfo", "8081"); code != exitOK {
		t.Errorf("--fail-on listener-no-tfo 8081: exit %d, want 0", code)
	}
	if _, stderr, code := runCheckIn(t, ns, bin, false, "--fail-on", "listener-no-tfo", "8081", "8082"); code != exitMatched || !strings.Contains(stderr, "127.0.0.1:8082 listener-no-tfo") {
		t.Errorf("--fail-on listener-no-tfo 8081 8082: exit %d, want 1: %s", code, stderr)
	}

	if _, stderr, code := runCheckIn(t, ns, bin, false, "--fail-on", "disabled", "8081", "9999"); code != exitError || !strings.Contains(stderr, "no TCP or MPTCP listener on port 9999") {
		t.Errorf("--fail-on with a port nothing listens on: exit %d, want 2: %s", code, stderr)
	}

	// As nobody: no raw socket, no other user's fds. Listing still works.
	r, stderr, code = runCheckIn(t, ns, bin, true)
	if code != 0 || !strings.Contains(stderr, "CAP_NET_RAW") || !strings.Contains(stderr, "CAP_SYS_PTRACE") {
		t.Errorf("as nobody: exit %d, stderr %q: want both privileges named", code, stderr)
	}
	for _, w := range wants {
		l := listenerAt(t, r, w.addr)
		if l.Protocol != w.proto || len(l.Processes) != 0 || l.Probe != nil || !strings.Contains(l.ProbeError, "CAP_NET_RAW") {
			t.Errorf("as nobody, %s: %s %+v probe %+v %q", w.addr, l.Protocol, l.Processes, l.Probe, l.ProbeError)
		}
		if seedCase := w.proto == "mptcp" && !mptcpTFO; l.TFO != check.TFOUnknown && !seedCase {
			t.Errorf("as nobody, %s: TFO %s without a probe", w.addr, l.TFO)
		}
	}
}
