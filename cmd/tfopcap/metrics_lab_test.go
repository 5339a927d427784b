package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/netnslab"
	"github.com/tfopcap/tfopcap/report"
)

// requireProm finds Debian's prometheus package's programs. As root (CI,
// which installs it) a missing one fails the test; otherwise it skips.
func requireProm(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Geteuid() == 0 {
		t.Fatalf("%s not found: apt-get install prometheus (.ci/run installs it)", name)
	}
	t.Skipf("%s not found (apt-get install prometheus)", name)
	return ""
}

// promSample is one series of an instant query's answer.
type promSample struct {
	labels map[string]string
	value  float64
}

// promQuery runs an instant query against the Prometheus server at
// 127.0.0.1:9090 inside ns, through curl in that namespace, at time at
// (zero: now).
func promQuery(ns netnslab.Netns, query string, at time.Time) ([]promSample, error) {
	args := []string{"-sS", "-G", "http://127.0.0.1:9090/api/v1/query", "--data-urlencode", "query=" + query}
	if !at.IsZero() {
		args = append(args, "--data-urlencode", fmt.Sprintf("time=%.3f", float64(at.UnixMilli())/1000))
	}
	out, err := ns.Run("curl", args...)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		return nil, fmt.Errorf("query %q: %v: %s", query, err, out)
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", query, resp.Error)
	}
	var ss []promSample
	for _, r := range resp.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %v", query, r.Value)
		}
		ss = append(ss, promSample{r.Metric, v})
	}
	return ss, nil
}

// startPrometheus runs a real Prometheus server inside ns with these
// scrape_configs (YAML), scraping every second, keeping its data in a
// temporary directory, and waits until it is ready.
func startPrometheus(t *testing.T, ns netnslab.Netns, scrapeConfigs string) {
	t.Helper()
	bin := requireProm(t, "prometheus")
	dir := t.TempDir()
	config := "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n" + scrapeConfigs
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := ns.Command(bin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:9090", "--log.level=warn")
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("prometheus:\n%s", logs.String())
		}
	})
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if out, err := ns.Run("curl", "-sf", "http://127.0.0.1:9090/-/ready"); err == nil && strings.Contains(out, "Ready") {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("prometheus not ready after 15s:\n%s", logs.String())
		}
	}
}

// asNobody writes a script that runs tfopcap as the user nobody with
// CAP_NET_RAW as its only capability (ambient, inheritable and bounding
// set), no new privileges: what deploy/systemd's unit grants.
func asNobody(t *testing.T, bin string) string {
	t.Helper()
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv not found (util-linux)")
	}
	script := filepath.Join(filepath.Dir(bin), "tfopcap-nobody")
	text := "#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs " +
		"--inh-caps=-all,+net_raw --ambient-caps=-all,+net_raw --bounding-set=-all,+net_raw " + bin + " \"$@\"\n"
	if err := os.WriteFile(script, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// TestMetricsLabPrometheus is the end-to-end test of live --metrics-addr:
// real TFO traffic between two namespaces, captured by two tfopcap live
// processes on the server's veth, one as root, one as nobody with only
// CAP_NET_RAW (as the systemd unit runs it), each serving /metrics, and
// a real Prometheus scraping both every second. Once the traffic is
// judged, Prometheus's answers over its HTTP API must equal each
// process's JSON report: attempts per server and outcome, verdicts,
// findings and libpcap's counters. Every query of the Grafana dashboard
// must run on that server too.
func TestMetricsLabPrometheus(t *testing.T) {
	requireProm(t, "prometheus")
	p := netnslab.NewPair(t)
	const rootAddr, nobodyAddr = "127.0.0.1:9869", "127.0.0.1:9870"
	// Prometheus first: it takes its first scrape some 5s after it starts
	// (service discovery sends targets at most every 5s), time the build
	// of tfopcap uses.
	startPrometheus(t, p.Server, fmt.Sprintf("  - job_name: tfopcap\n    static_configs:\n      - targets: [%s, %s]\n", rootAddr, nobodyAddr))
	bin := buildWithMetrics(t)
	v4 := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(p.ServerV4, port) }
	tfo, noTFO, plain := v4(8001), v4(8002), v4(8003)
	for _, s := range []netnslab.ServerConfig{{Addr: tfo, FastOpen: 16}, {Addr: noTFO}, {Addr: plain}} {
		ln, err := p.Server.Listen(s)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
	}
	// A short reply timeout: live holds some answered attempts until it
	// passes (a SYN retransmission may yet come), and the test waits for
	// every attempt.
	root := startLive(t, bin, p.Server, "live as root", "-i", p.ServerIf, "--format", "json", "--reply-timeout", "1s",
		"--metrics-addr", rootAddr)
	nobody := startLive(t, asNobody(t, bin), p.Server, "live as nobody", "-i", p.ServerIf, "--format", "json", "--reply-timeout", "1s",
		"--metrics-addr", nobodyAddr, "--metrics-window", "10m")

	steps := []struct {
		flush    bool
		server   netip.AddrPort
		fastOpen bool
	}{
		{true, noTFO, true},   // omitted
		{false, tfo, true},    // granted
		{false, tfo, true},    // accepted
		{false, noTFO, true},  // rejected
		{false, tfo, false},   // plain, to a server with a label
		{false, plain, false}, // plain, to one without TFO: unlisted
		{false, plain, false},
	}
	for i, s := range steps {
		if s.flush {
			if err := p.Client.FlushTCPMetrics(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := p.Client.Dial(netnslab.DialConfig{Server: s.server, FastOpen: s.fastOpen}); err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
	}
	// Wait until Prometheus holds every attempt from both, then long
	// enough for the findings (recomputed at most once a second) and the
	// capture counters (every tick) to be scraped once more.
	const judged = "sum by (instance) (tfopcap_attempts_total) + sum by (instance) (tfopcap_unlisted_attempts)"
	total := fmt.Sprintf("%s == %d", judged, len(steps))
	for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
		ss, err := promQuery(p.Server, total, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) == 2 {
			break
		}
		if time.Since(start) > 20*time.Second {
			got, _ := promQuery(p.Server, judged, time.Time{})
			t.Fatalf("Prometheus has not seen %d attempts from both after 20s: %v", len(steps), got)
		}
	}
	time.Sleep(2500 * time.Millisecond)
	// Query as of now: once a process stops, its series go stale at the
	// next scrape, and an instant query after that finds nothing.
	at := time.Now()

	for _, c := range []struct {
		lp   *liveProc
		addr string
	}{{root, rootAddr}, {nobody, nobodyAddr}} {
		if code := c.lp.wait(t, os.Interrupt); code != 0 {
			t.Fatalf("%s: exit %d", c.lp.name, code)
		}
		r := c.lp.report(t)
		if len(r.Servers) != 2 || r.UnlistedServers == nil || r.UnlistedServers.Attempts != 2 {
			t.Fatalf("%s: the report lists %d servers, unlisted %+v; the traffic makes 2 and 2 plain attempts", c.lp.name, len(r.Servers), r.UnlistedServers)
		}
		checkAgainstReport(t, p.Server, c.lp.name, c.addr, r, at)
	}
	checkDashboardQueries(t, p.Server, at)
}

// checkAgainstReport compares what Prometheus scraped from instance with
// the report of the same run, at time at.
func checkAgainstReport(t *testing.T, ns netnslab.Netns, name, instance string, r *report.Report, at time.Time) {
	t.Helper()
	sel := fmt.Sprintf(`{instance=%q}`, instance)
	query := func(q string) []promSample {
		t.Helper()
		ss, err := promQuery(ns, q, at)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return ss
	}

	// Attempts per server and outcome: the report's servers[].outcomes,
	// and its unlisted_servers.
	want := map[string]string{}
	for _, s := range r.Servers {
		want[s.Server] = outcomeString(s.Outcomes)
	}
	want["unlisted"] = outcomeString(r.UnlistedServers.Outcomes)
	got := map[string]analyze.OutcomeCounts{}
	unlisted := query("tfopcap_unlisted_attempts" + sel)
	for i := range unlisted {
		unlisted[i].labels["server"] = "unlisted"
	}
	for _, s := range append(query("tfopcap_attempts_total"+sel), unlisted...) {
		o, ok := analyze.ParseOutcome(s.labels["outcome"])
		if !ok {
			t.Fatalf("%s: outcome %q", name, s.labels["outcome"])
		}
		c := got[s.labels["server"]]
		c[o] = int(s.value)
		got[s.labels["server"]] = c
	}
	gotStr := map[string]string{}
	for server, c := range got {
		gotStr[server] = outcomeString(c)
	}
	if !maps.Equal(gotStr, want) {
		t.Errorf("%s: Prometheus has attempts %v, the report %v", name, gotStr, want)
	}

	// Verdicts: the report's, since the whole run is inside the window.
	wantV, gotV := map[string]string{}, map[string]string{}
	for _, s := range r.Servers {
		wantV[s.Server] = s.Verdict.String()
	}
	for _, s := range query("tfopcap_server_verdict" + sel + " == 1") {
		gotV[s.labels["server"]] = s.labels["verdict"]
	}
	if !maps.Equal(gotV, wantV) {
		t.Errorf("%s: Prometheus has verdicts %v, the report %v", name, gotV, wantV)
	}

	// Findings: the report's hint_ids per server, and its capture-wide ones.
	var wantF, gotF []string
	for _, s := range r.Servers {
		for _, id := range s.HintIDs {
			wantF = append(wantF, s.Server+" "+string(id))
		}
	}
	for _, f := range r.Findings {
		wantF = append(wantF, " "+string(f.ID))
	}
	for _, s := range query("tfopcap_findings" + sel + " == 1") {
		gotF = append(gotF, s.labels["server"]+" "+s.labels["id"])
	}
	slices.Sort(wantF)
	slices.Sort(gotF)
	if len(wantF) == 0 || !slices.Equal(gotF, wantF) {
		t.Errorf("%s: Prometheus has findings %q, the report %q", name, gotF, wantF)
	}

	// libpcap's counters.
	for state, n := range map[string]int{"received": r.Live.Received, "dropped": r.Live.Dropped, "if_dropped": r.Live.IfDropped} {
		ss := query(fmt.Sprintf(`tfopcap_capture_packets_total{instance=%q,state=%q}`, instance, state))
		if len(ss) != 1 || int(ss[0].value) != n {
			t.Errorf("%s: Prometheus has %s %v, the report %d", name, state, ss, n)
		}
	}
	if ss := query("tfopcap_build_info" + sel); len(ss) != 1 || ss[0].labels["version"] != version {
		t.Errorf("%s: build info %v, want version %s", name, ss, version)
	}
}

// outcomeString renders non-zero counts in report order: "granted=1 plain=2".
func outcomeString(c analyze.OutcomeCounts) string {
	var parts []string
	for _, o := range analyze.Outcomes() {
		if c[o] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", o, c[o]))
		}
	}
	return strings.Join(parts, " ")
}

// checkDashboardQueries runs every query of the Grafana dashboard, with
// its variables filled in as Grafana would, on the real server: each
// must parse and evaluate.
func checkDashboardQueries(t *testing.T, ns netnslab.Netns, at time.Time) {
	t.Helper()
	b, err := os.ReadFile("../../deploy/grafana/tfopcap.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	vars := strings.NewReplacer("$__rate_interval", "1m", "$__range", "5m", "$instance", ".*", "$probe_job", "tfo-probe")
	// What these panels show must be there: one omitting and one granting
	// server, their verdicts, findings and the builds. (Rates may be 0 so
	// soon, and no probe ran.)
	want := map[string]int{"Servers that omit cookies now": 1, "Servers that grant cookies now": 1,
		"Verdict by server": 4, "Findings": 1, "Versions": 2}
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			n++
			ss, err := promQuery(ns, vars.Replace(tg.Expr), at)
			if err != nil {
				t.Errorf("dashboard panel %q: %v", p.Title, err)
			}
			if len(ss) < want[p.Title] {
				t.Errorf("dashboard panel %q: %d series, want %d or more: %v", p.Title, len(ss), want[p.Title], ss)
			}
			if p.Title == "Verdict by server" {
				for _, s := range ss {
					if code := map[string]float64{"grants": 1, "omits": 2}[s.labels["verdict"]]; s.value != code {
						t.Errorf("dashboard panel %q: %v, want grants as 1 and omits as 2", p.Title, s)
					}
				}
			}
		}
	}
	if n == 0 {
		t.Error("the dashboard has no queries")
	}
}

// TestProbeServePrometheus: tfopcap probe --metrics-addr as a
// blackbox-style exporter, scraped by a real Prometheus with the relabel
// configuration docs/metrics.md gives, probing Debian's nginx in another
// namespace: a listener with TFO (fastopen=16), one without, a closed
// port. What Prometheus stores must say which grants cookies and accepts
// SYN data, and which one cannot be probed.
func TestProbeServePrometheus(t *testing.T) {
	requireProm(t, "prometheus")
	p := netnslab.NewPair(t)
	const agent = "127.0.0.1:9871"
	// The scrape configuration of docs/metrics.md, "Fleet setup".
	startPrometheus(t, p.Client, `  - job_name: tfo-probe
    metrics_path: /probe
    scrape_interval: 2s
    scrape_timeout: 1900ms
    static_configs:
      - targets: [192.0.2.1:8081, 192.0.2.1:8082, 192.0.2.1:8083]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: `+agent+"\n")
	bin := buildWithMetrics(t)
	startNginx(t, p.Server, "192.0.2.1:8081 fastopen=16", "192.0.2.1:8082")
	srv := p.Client.Command(bin, "probe", "--timeout", "500ms", "--metrics-addr", agent)
	var stderr syncBuffer
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	t.Cleanup(func() {
		srv.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("tfopcap probe --metrics-addr:\n%s", stderr.String())
		}
	})

	want := map[string]string{
		"192.0.2.1:8081": "success=1 granted=1 accepted=1 mptcp=0 verdict=grants",
		"192.0.2.1:8082": "success=1 granted=0 accepted=0 mptcp=0 verdict=omits",
		"192.0.2.1:8083": "success=0", // closed: the probe fails, and says so
	}
	var got map[string]string
	for start := time.Now(); ; time.Sleep(250 * time.Millisecond) {
		got = probeState(t, p.Client)
		if maps.Equal(got, want) {
			break
		}
		if time.Since(start) > 25*time.Second {
			t.Fatalf("Prometheus holds %v, want %v", got, want)
		}
	}
	if !strings.Contains(stderr.String(), "192.0.2.1:8083") {
		t.Errorf("the failed probe of the closed port is not logged:\n%s", stderr.String())
	}
	if code := func() int {
		srv.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			done <- err
			if err != nil {
				return -1
			}
			return 0
		case <-time.After(5 * time.Second):
			return -2
		}
	}(); code != 0 {
		t.Errorf("tfopcap probe --metrics-addr after SIGINT: %d, want exit 0", code)
	}
}

// probeState renders what Prometheus holds of each probed target.
func probeState(t *testing.T, ns netnslab.Netns) map[string]string {
	t.Helper()
	state := map[string][]string{}
	for _, q := range []struct{ key, query string }{
		{"success", "probe_success"}, {"granted", "tfopcap_probe_cookie_granted"},
		{"accepted", "tfopcap_probe_syn_data_accepted"}, {"mptcp", "tfopcap_probe_mptcp"},
		{"verdict", "tfopcap_probe_verdict == 1"},
	} {
		ss, err := promQuery(ns, q.query, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			v := strconv.Itoa(int(s.value))
			if q.key == "verdict" {
				v = s.labels["verdict"]
			}
			state[s.labels["instance"]] = append(state[s.labels["instance"]], q.key+"="+v)
		}
	}
	out := map[string]string{}
	for inst, parts := range state {
		out[inst] = strings.Join(parts, " ")
	}
	return out
}
