package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/internal/netnslab"
	"github.com/tfopcap/tfopcap/internal/schematest"
	"github.com/tfopcap/tfopcap/report"
)

// buildTfopcap builds the command into a temporary directory.
func buildTfopcap(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tfopcap")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Let tests run it as another user too.
	for d := filepath.Dir(bin); d != filepath.Dir(filepath.Dir(filepath.Dir(bin))); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

// buildWithMetrics builds the command and, beside it, tfopcap-metrics
// (-tags metrics), as a package installs them: the command's
// --metrics-addr execs the other.
func buildWithMetrics(t *testing.T) string {
	t.Helper()
	bin := buildTfopcap(t)
	out, err := exec.Command("go", "build", "-tags", "metrics", "-o", filepath.Join(filepath.Dir(bin), metricsBinary), ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -tags metrics: %v\n%s", err, out)
	}
	return bin
}

// syncBuffer is a bytes.Buffer safe to write from a child's pipe while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// liveProc is a tfopcap live running in a namespace.
type liveProc struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan error
}

// startLive starts `tfopcap live ARGS` inside ns and waits until it
// listens.
func startLive(t *testing.T, bin string, ns netnslab.Netns, name string, args ...string) *liveProc {
	t.Helper()
	p := &liveProc{name: name, cmd: ns.Command(bin, append([]string{"live"}, args...)...), done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s: tfopcap %s\n-- stdout:\n%s-- stderr:\n%s", name, strings.Join(args, " "), p.stdout.String(), p.stderr.String())
		}
	})
	deadline := time.After(10 * time.Second)
	for !strings.Contains(p.stderr.String(), "listening on") {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("%s: exited before listening: %v\n%s", name, err, p.stderr.String())
		case <-deadline:
			t.Fatalf("%s: not listening after 10s:\n%s", name, p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return p
}

// wait waits for the process to exit by itself (--count, --duration) or
// after sig, and returns its exit code.
func (p *liveProc) wait(t *testing.T, sig os.Signal) int {
	t.Helper()
	if sig != nil {
		if err := p.cmd.Process.Signal(sig); err != nil {
			t.Fatalf("%s: signal: %v", p.name, err)
		}
	}
	select {
	case err := <-p.done:
		p.done <- err
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatalf("%s: %v", p.name, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still running 10s after %v:\n%s", p.name, sig, p.stderr.String())
	}
	return -1
}

// report parses the process's JSON report strictly and checks it against
// the published schema.
func (p *liveProc) report(t *testing.T) *report.Report {
	t.Helper()
	out := []byte(p.stdout.String())
	schematest.Validate(t, out)
	r, err := report.ReadReport(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("%s: %v\n%s", p.name, err, out)
	}
	return r
}

// serverWant is what the test's traffic must produce for one server.
type serverWant struct {
	verdict  string
	outcomes map[string]int
	mptcp    report.MPTCPCounts
}

func (w serverWant) attempts() int {
	n := 0
	for _, c := range w.outcomes {
		n += c
	}
	return n
}

// serverGot renders a report's server the way serverWant reads.
func serverGot(s report.ServerReport) string {
	var parts []string
	for _, oc := range analyze.Outcomes() {
		if n := s.Outcomes[oc]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", oc, n))
		}
	}
	return fmt.Sprintf("%s %d [%s] mptcp %d/%d", s.Verdict, s.Attempts, strings.Join(parts, " "), s.MPTCP.SYN, s.MPTCP.SYNACK)
}

func (w serverWant) String() string {
	var parts []string
	for _, oc := range analyze.Outcomes() {
		if n := w.outcomes[oc.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", oc, n))
		}
	}
	return fmt.Sprintf("%s %d [%s] mptcp %d/%d", w.verdict, w.attempts(), strings.Join(parts, " "), w.mptcp.SYN, w.mptcp.SYNACK)
}

// checkServers compares a report's servers and totals with want exactly.
func checkServers(t *testing.T, name string, r *report.Report, want map[string]serverWant) {
	t.Helper()
	got := map[string]string{}
	for _, s := range r.Servers {
		got[s.Server] = serverGot(s)
	}
	total := 0
	for server, w := range want {
		total += w.attempts()
		if got[server] != w.String() {
			t.Errorf("%s: %s: got %q, want %q", name, server, got[server], w.String())
		}
	}
	if len(r.Servers) != len(want) {
		t.Errorf("%s: %d servers, want %d: %v", name, len(r.Servers), len(want), got)
	}
	if r.Totals.Attempts != total || len(r.Attempts) != total {
		t.Errorf("%s: %d attempts (%d listed), want %d", name, r.Totals.Attempts, len(r.Attempts), total)
	}
}

// TestLiveLab is the end-to-end test: real TFO traffic between two network
// namespaces, captured by the built tfopcap binary at once on the server's
// veth (with -w, and again with -f), on "any" in the client's namespace
// and on the client's veth in text form, all stopped with SIGINT. Each report must hold
// exactly the verdicts, outcome and MPTCP counts the traffic produces, and
// the saved pcap must read back through analyze to the same report.
func TestLiveLab(t *testing.T) {
	p := netnslab.NewPair(t)
	bin := buildTfopcap(t)
	dir := t.TempDir()

	type srv struct {
		addr     netip.AddrPort
		fastOpen int
		mptcp    bool
	}
	v4 := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(p.ServerV4, port) }
	tfo, noTFO, mpTFO, mpNoTFO, v6TFO := v4(8001), v4(8002), v4(8003), v4(8005), netip.AddrPortFrom(p.ServerV6, 8004)
	for _, s := range []srv{{tfo, 16, false}, {noTFO, 0, false}, {mpTFO, 16, true}, {mpNoTFO, 0, true}, {v6TFO, 16, false}} {
		ln, err := p.Server.Listen(netnslab.ServerConfig{Addr: s.addr, FastOpen: s.fastOpen, MPTCP: s.mptcp})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
	}

	saved := filepath.Join(dir, "live.pcap")
	onSrv := startLive(t, bin, p.Server, "server veth", "-i", p.ServerIf, "--format", "json", "--attempts", "-w", saved)
	evidence := filepath.Join(dir, "evidence.pcap")
	onAny := startLive(t, bin, p.Client, "client any", "-i", "any", "--format", "json", "--evidence", evidence)
	onCli := startLive(t, bin, p.Client, "client veth text", "-i", p.ClientIf, "--attempts")
	procs := []*liveProc{onSrv, onAny, onCli}
	var onFilt *liveProc
	if builtWithLibpcap { // -f compiles through libpcap
		onFilt = startLive(t, bin, p.Server, "server veth -f", "-i", p.ServerIf, "--format", "json", "-f", "tcp port 8002 or ip6", "--no-listeners")
		procs = append(procs, onFilt)
	}

	// The traffic, in an order that makes each outcome certain. Linux
	// caches TFO cookies per server address, so the cache is flushed
	// where a step needs the client to ask afresh.
	type step struct {
		flush     bool
		server    netip.AddrPort
		fastOpen  bool
		mptcp     bool
		dataAcked bool // what TCP_INFO must say: the SYN's data was acknowledged
	}
	steps := []step{
		{flush: true, server: noTFO, fastOpen: true},                  // omitted: asks, gets no cookie
		{server: tfo, fastOpen: true},                                 // granted
		{server: tfo, fastOpen: true, dataAcked: true},                // accepted: cookie and data in the SYN
		{server: noTFO, fastOpen: true},                               // rejected: same address, cookie and data, not acked
		{server: tfo},                                                 // plain
		{flush: true, server: mpTFO, fastOpen: true, mptcp: true},     // granted over MPTCP
		{server: mpTFO, fastOpen: true, mptcp: true, dataAcked: true}, // accepted over MPTCP
		{flush: true, server: mpNoTFO, fastOpen: true, mptcp: true},   // omitted over MPTCP
		{server: v6TFO, fastOpen: true},                               // granted over IPv6
		{server: v6TFO, fastOpen: true, dataAcked: true},              // accepted over IPv6
	}
	var clients []string
	for i, s := range steps {
		if s.flush {
			if err := p.Client.FlushTCPMetrics(); err != nil {
				t.Fatal(err)
			}
		}
		res, err := p.Client.Dial(netnslab.DialConfig{Server: s.server, FastOpen: s.fastOpen, MPTCP: s.mptcp})
		if err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
		if res.Reply != "ok\n" || res.SYNDataAcked != s.dataAcked || res.MPTCP != s.mptcp {
			t.Fatalf("step %d to %s: reply %q, SYN data acked %v (want %v), MPTCP %v (want %v): the kernel did not do what the test expects",
				i+1, s.server, res.Reply, res.SYNDataAcked, s.dataAcked, res.MPTCP, s.mptcp)
		}
		clients = append(clients, res.Client.String())
	}
	time.Sleep(300 * time.Millisecond) // let the last SYN-ACKs reach the captures
	for _, lp := range procs {
		if code := lp.wait(t, os.Interrupt); code != 0 {
			t.Fatalf("%s: exit %d after SIGINT:\n%s", lp.name, code, lp.stderr.String())
		}
	}

	want := map[string]serverWant{
		tfo.String():     {"grants", map[string]int{"granted": 1, "accepted": 1, "plain": 1}, report.MPTCPCounts{}},
		noTFO.String():   {"omits", map[string]int{"omitted": 1, "rejected": 1}, report.MPTCPCounts{}},
		mpTFO.String():   {"grants", map[string]int{"granted": 1, "accepted": 1}, report.MPTCPCounts{SYN: 2, SYNACK: 2}},
		mpNoTFO.String(): {"omits", map[string]int{"omitted": 1}, report.MPTCPCounts{SYN: 1, SYNACK: 1}},
		v6TFO.String():   {"grants", map[string]int{"granted": 1, "accepted": 1}, report.MPTCPCounts{}},
	}
	// Every connection is a SYN and a SYN-ACK, and nothing else crosses
	// the kernel filter.
	packets := 2 * len(steps)
	var srvReport *report.Report
	for _, c := range []struct {
		lp       *liveProc
		iface    string
		linkType string
	}{{onSrv, p.ServerIf, "EN10MB"}, {onAny, "any", "LINUX_SLL2"}} {
		r := c.lp.report(t)
		checkServers(t, c.lp.name, r, want)
		var gotClients []string
		for _, a := range r.Attempts {
			gotClients = append(gotClients, a.Client)
		}
		if !slices.Equal(gotClients, clients) {
			t.Errorf("%s: attempts from %v, want %v", c.lp.name, gotClients, clients)
		}
		if r.Live == nil || r.Live.Interface != c.iface || r.Live.Received != packets || r.Live.Dropped != 0 {
			t.Errorf("%s: live %+v, want interface %s, %d received, none dropped", c.lp.name, r.Live, c.iface, packets)
		}
		if in := r.Inputs[0]; in.Name != c.iface || in.Format != "live" || !slices.Equal(in.LinkTypes, []string{c.linkType}) || in.Packets != packets || len(in.Warnings) != 0 {
			t.Errorf("%s: input %+v", c.lp.name, in)
		}
		if c.lp == onSrv {
			srvReport = r
		}
	}
	// -f narrows the kernel filter: only the IPv4 server on 8002 and the
	// IPv6 one, 4 attempts of 2 packets each.
	noListeners := []*report.Report{onAny.report(t)}
	if onFilt != nil {
		filtered := onFilt.report(t)
		noListeners = append(noListeners, filtered)
		checkServers(t, onFilt.name, filtered, map[string]serverWant{noTFO.String(): want[noTFO.String()], v6TFO.String(): want[v6TFO.String()]})
		if filtered.Live == nil || filtered.Live.Received != 8 {
			t.Errorf("%s: live %+v, want 8 received", onFilt.name, filtered.Live)
		}
	}

	// On the server host, live names the listener behind each server
	// address (this test's own Go listeners); on the client's it cannot,
	// and --no-listeners turns it off.
	self, _ := os.ReadFile("/proc/self/comm")
	for _, s := range srvReport.Servers {
		proto := map[bool]string{false: "tcp", true: "mptcp"}[s.Server == mpTFO.String() || s.Server == mpNoTFO.String()]
		if l := s.Listener; l == nil || l.Address != s.Server || l.Protocol != proto || len(l.Process) != 1 || l.Process[0].Name+"\n" != string(self) {
			t.Errorf("server veth: %s: listener %+v, want %s held by %q", s.Server, l, proto, self)
		}
	}
	for _, r := range noListeners {
		for _, s := range r.Servers {
			if s.Listener != nil {
				t.Errorf("%s: listener %+v named where none can be seen", s.Server, s.Listener)
			}
		}
	}

	// --attempts with json streams the attempt lines to stderr.
	if n := strings.Count(onSrv.stderr.String(), " => "); n != len(steps) {
		t.Errorf("server veth: %d attempt lines on stderr, want %d:\n%s", n, len(steps), onSrv.stderr.String())
	}

	// The text report, with the attempts streamed before it on stdout.
	text := onCli.stdout.String()
	if n := strings.Count(text, " => "); n != len(steps) {
		t.Errorf("client veth text: %d attempt lines, want %d (streamed once, not repeated in the report):\n%s", n, len(steps), text)
	}
	for server, w := range want {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(server) + `\s+` + w.verdict + `\s`).MatchString(text) {
			t.Errorf("client veth text: no %s %s row:\n%s", server, w.verdict, text)
		}
	}
	if !strings.Contains(text, "live "+p.ClientIf+": 20 received, 0 dropped by the kernel") {
		t.Errorf("client veth text: no live counters line:\n%s", text)
	}

	// The saved capture, analysed offline, says the same.
	var stdout, stderr bytes.Buffer
	if code := run([]string{"analyze", "--format", "json", saved}, streams{strings.NewReader(""), &stdout, &stderr}); code != exitOK {
		t.Fatalf("analyze %s: exit %d: %s", saved, code, stderr.String())
	}
	offline, err := report.ReadReport(&stdout)
	if err != nil {
		t.Fatal(err)
	}
	checkServers(t, "analyze -w file", offline, want)
	for i := range offline.Servers {
		if a, b := serverGot(offline.Servers[i]), serverGot(srvReport.Servers[i]); a != b {
			t.Errorf("analyze -w file: %s: %s, live said %s", offline.Servers[i].Server, a, b)
		}
	}
	for i := range offline.Attempts {
		if a, b := offline.Attempts[i], srvReport.Attempts[i]; a.Client != b.Client || a.SYN.Frame != b.SYN.Frame || a.Reply.Frame != b.Reply.Frame || a.Outcome != b.Outcome {
			t.Errorf("analyze -w file: attempt %d: %+v, live said %+v", i, a, b)
		}
	}
	if in := offline.Inputs[0]; in.Packets != packets || !slices.Equal(in.LinkTypes, []string{"EN10MB"}) {
		t.Errorf("analyze -w file: input %+v", in)
	}

	// --evidence kept exactly the omitted and rejected attempts' SYNs and
	// SYN-ACKs, written as each attempt was judged.
	stdout.Reset()
	if code := run([]string{"analyze", "--format", "json", evidence}, streams{strings.NewReader(""), &stdout, &stderr}); code != exitOK {
		t.Fatalf("analyze %s: exit %d: %s", evidence, code, stderr.String())
	}
	ev, err := report.ReadReport(&stdout)
	if err != nil {
		t.Fatal(err)
	}
	checkServers(t, "live --evidence", ev, map[string]serverWant{
		noTFO.String():   want[noTFO.String()],
		mpNoTFO.String(): want[mpNoTFO.String()],
	})
	if in := ev.Inputs[0]; in.Packets != 6 || !slices.Equal(in.LinkTypes, []string{"LINUX_SLL2"}) {
		t.Errorf("live --evidence: input %+v, want 6 LINUX_SLL2 packets", in)
	}
}

// TestLiveStops checks the other ways a capture ends: --count (the report
// holds exactly that many attempts), --duration with --interval summaries,
// and SIGTERM.
func TestLiveStops(t *testing.T) {
	p := netnslab.NewPair(t)
	bin := buildTfopcap(t)
	srv, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV4, 8001), FastOpen: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	counted := startLive(t, bin, p.Server, "count", "-i", p.ServerIf, "--format", "json", "--count", "2", "--reply-timeout", "1s")
	timed := startLive(t, bin, p.Client, "duration", "-i", p.ClientIf, "--duration", "1500ms", "--interval", "400ms")
	// Plain clients: --all-servers lists their server. The files besides
	// stdout are written when the capture stops.
	files := t.TempDir()
	termed := startLive(t, bin, p.Client, "sigterm", "-i", "any", "--format", "markdown", "--all-servers",
		"--output", "json="+filepath.Join(files, "r.json"), "--plot", filepath.Join(files, "t.svg"),
		"--junit", filepath.Join(files, "j.xml"), "--fail-on", "omits")
	for range 3 {
		if _, err := p.Client.Dial(netnslab.DialConfig{Server: srv.Addr()}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := counted.wait(t, nil); code != 0 {
		t.Fatalf("--count: exit %d:\n%s", code, counted.stderr.String())
	}
	r := counted.report(t)
	if r.Totals.Attempts != 2 || len(r.Attempts) != 2 || r.Totals.Outcomes[analyze.Plain] != 2 {
		t.Errorf("--count 2: %d attempts (%d listed), outcomes %v", r.Totals.Attempts, len(r.Attempts), r.Totals.Outcomes)
	}

	if code := timed.wait(t, nil); code != 0 {
		t.Fatalf("--duration: exit %d:\n%s", code, timed.stderr.String())
	}
	summaries := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\S+Z live `+p.ClientIf+` \S+: \d+ attempts`).FindAllString(timed.stderr.String(), -1)
	if len(summaries) < 2 {
		t.Errorf("--interval 400ms over 1.5s: %d summary lines:\n%s", len(summaries), timed.stderr.String())
	}
	if !strings.Contains(timed.stdout.String(), "plain 3") {
		t.Errorf("--duration report:\n%s", timed.stdout.String())
	}

	if code := termed.wait(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit %d:\n%s", code, termed.stderr.String())
	}
	if md := termed.stdout.String(); !strings.Contains(md, srv.Addr().String()) || !strings.Contains(md, "inconclusive") {
		t.Errorf("SIGTERM: markdown report:\n%s", md)
	}
	for _, f := range []struct{ name, holds string }{
		{"r.json", `"server": "` + srv.Addr().String() + `"`}, {"t.svg", "<svg"},
		{"j.xml", `<testcase name="` + srv.Addr().String() + `" classname="tfopcap.server">`},
	} {
		if b, err := os.ReadFile(filepath.Join(files, f.name)); err != nil || !strings.Contains(string(b), f.holds) {
			t.Errorf("SIGTERM: %s (%v) lacks %s:\n%s", f.name, err, f.holds, b)
		}
	}
}

// TestLiveErrors runs the binary the ways operators get it wrong: each
// error is one line on stderr and exit status 2.
func TestLiveErrors(t *testing.T) {
	p := netnslab.NewPair(t)
	bin := buildTfopcap(t)
	if _, err := p.Client.Run("ip", "link", "add", "down0", "type", "veth", "peer", "name", "down1"); err != nil {
		t.Fatal(err)
	}
	_, setprivErr := exec.LookPath("setpriv")
	badFilter := `filter "port"`
	if !builtWithLibpcap {
		badFilter = "need libpcap"
	}
	rows := []struct {
		name   string
		prefix []string // command run before tfopcap (setpriv ...)
		args   []string
		want   string
	}{
		{"no such interface", nil, []string{"-i", "nosuch0"}, "nosuch0: no such interface (there are: down0, down1, lo, " + p.ClientIf + ", any)"},
		{"interface down", nil, []string{"-i", "down0"}, "down0: interface is down (bring it up: ip link set dev down0 up)"},
		{"no interface", nil, nil, "no interface given"},
		{"bad filter", nil, []string{"-i", p.ClientIf, "-f", "port"}, badFilter},
		{"bad size", nil, []string{"-i", p.ClientIf, "-B", "lots"}, "want a size in KiB as tcpdump's -B"},
		{"interface number past -D's list", nil, []string{"-i", "99"}, "-i 99: there are "},
		{"no CAP_NET_RAW", []string{"setpriv", "--bounding-set=-net_raw", "--"}, []string{"-i", p.ClientIf}, "no permission to capture: the process lacks CAP_NET_RAW"},
		{"not root", []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--"}, []string{"-i", "any"}, "no permission to capture: the process lacks CAP_NET_RAW"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			if r.prefix != nil && setprivErr != nil {
				t.Skip("setpriv (util-linux) not installed")
			}
			argv := append(append(slices.Clone(r.prefix), bin, "live"), r.args...)
			cmd := p.Client.Command(argv[0], argv[1:]...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != exitError {
				t.Fatalf("exit %v, want %d; stderr:\n%s", err, exitError, stderr.String())
			}
			lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "tfopcap: ") || !strings.Contains(lines[0], r.want) {
				t.Errorf("stderr %q, want one line with %q", stderr.String(), r.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q", stdout.String())
			}
		})
	}

	t.Run("interface by -D number", func(t *testing.T) {
		list, err := p.Client.Run(bin, "live", "-D")
		if err != nil {
			t.Fatal(err)
		}
		number := regexp.MustCompile(`(?m)^(\d+)\.` + regexp.QuoteMeta(p.ClientIf) + ` `).FindStringSubmatch(list)
		if number == nil {
			t.Fatalf("-D does not list %s:\n%s", p.ClientIf, list)
		}
		live := startLive(t, bin, p.Client, "-i N", "-i", number[1], "-B", "2048", "-n", "-v", "--duration", "200ms")
		if code := live.wait(t, nil); code != 0 {
			t.Fatalf("exit %d", code)
		}
		// tcpdump's letters: -i 3 is the third interface -D lists, -B 2048
		// is 2 MiB, -n is accepted, -v counts the frames.
		if want := "listening on " + p.ClientIf + ", link-type EN10MB, snapshot length 192 bytes, buffer 2MiB"; !strings.Contains(live.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, live.stderr.String())
		}
		if !regexp.MustCompile(`(?m)^tfopcap: \S+: \d+ frames`).MatchString(live.stderr.String()) {
			t.Errorf("-v: no frame counts on stderr:\n%s", live.stderr.String())
		}
	})

	t.Run("list interfaces", func(t *testing.T) {
		out, err := p.Client.Run(bin, "live", "-D")
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`(?m)^\d+\.%s \[Up, Running\] %s/24 %s/64 fe80::`, p.ClientIf, regexp.QuoteMeta(p.ClientV4.String()), regexp.QuoteMeta(p.ClientV6.String()))
		if !regexp.MustCompile(want).MatchString(out) || !regexp.MustCompile(`(?m)^\d+\.down0 \[Down\]$`).MatchString(out) ||
			!regexp.MustCompile(`(?m)^\d+\.any \[Up, Running\] \(`).MatchString(out) {
			t.Errorf("-D:\n%s", out)
		}
	})
}

func TestDropWarnings(t *testing.T) {
	if w := dropWarnings(capture.LiveStats{Received: 10}); len(w) != 0 {
		t.Errorf("no drops: %q", w)
	}
	w := dropWarnings(capture.LiveStats{Received: 3000, Dropped: 2760, IfDropped: 5})
	if len(w) != 2 || !strings.Contains(w[0], "dropped 2760 of 3000") || !strings.Contains(w[0], "--buffer-size") || !strings.Contains(w[1], "interface dropped 5") {
		t.Errorf("%q", w)
	}
}

// TestSizeFlag: -B counts KiB as tcpdump's does (tcpdump -B 4096 is a
// 4 MiB buffer), and units say otherwise.
func TestSizeFlag(t *testing.T) {
	for in, want := range map[string]int{"4096": 4 << 20, "1": 1 << 10, "4194304B": 4 << 20, "4096K": 4 << 20, "4M": 4 << 20, "16MiB": 16 << 20, "1G": 1 << 30, "512kb": 512 << 10, "100b": 100} {
		var s sizeFlag
		if err := s.Set(in); err != nil || int(s) != want {
			t.Errorf("%q: %d, %v; want %d", in, s, err, want)
		}
	}
	for _, in := range []string{"", "lots", "-1", "0", "4T", "3G", "1.5M", "4194304"} {
		var s sizeFlag
		if err := s.Set(in); err == nil {
			t.Errorf("%q accepted as %d", in, s)
		}
	}
	if s := sizeFlag(4 << 20); s.String() != "4MiB" {
		t.Errorf("String %q", s.String())
	}
}
