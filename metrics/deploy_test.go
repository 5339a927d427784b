package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/engine"
	"github.com/tfopcap/tfopcap/report"
)

// The files deploy/ ships, from this package's directory.
const (
	rulesFile     = "../deploy/prometheus/rules.yml"
	rulesTestFile = "../deploy/prometheus/rules_test.yml"
	dashboardFile = "../deploy/grafana/tfopcap.json"
	unitFile      = "../deploy/systemd/tfopcap-live@.service"
	metricsDoc    = "../docs/metrics.md"
)

// requireTool finds a tool the test runs. As root (CI, which installs
// it: .ci/run) a missing tool fails the test; otherwise it skips.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Geteuid() == 0 {
		t.Fatalf("%s not found: apt-get install %s (.ci/run installs it)", name, pkg)
	}
	t.Skipf("%s not found (apt-get install %s)", name, pkg)
	return ""
}

// exposition is what every endpoint serves, in the text format: /metrics
// of a live capture that judged attempts and found findings, then the
// answer of /probe. Every family has at least one series.
func exposition(t *testing.T) string {
	t.Helper()
	l := NewLive(LiveConfig{MaxServers: 1, Window: testWindow})
	for _, a := range []*analyze.Attempt{attempt(srvA, analyze.Granted), attempt(srvB, analyze.Omitted), attempt(srvD, analyze.Plain)} {
		l.Attempt(a)
	}
	l.Tick(time.Now(), engine.Status{Judged: 3, Open: 1}, capture.LiveStats{Received: 6}, func() *analyze.Summary {
		return &analyze.Summary{Servers: []analyze.ServerSummary{{Server: srvA, Findings: []analyze.Finding{{ID: analyze.FindMPTCPTFOUnsupported}}}}}
	})
	reg, err := NewRegistry(BuildInfo{Version: "v0.1.0-devel", Revision: "9e738b5", GoVersion: "go1.25"}, l)
	if err != nil {
		t.Fatal(err)
	}
	served, code := get(t, Mux(reg, nil), "/metrics", nil)
	if code != 200 {
		t.Fatalf("/metrics: status %d", code)
	}
	h := ProbeHandler(func(context.Context, string) (*report.Report, error) {
		return probeReport(map[analyze.Outcome]int{analyze.Omitted: 1}, 1, analyze.FindMPTCPTFOUnsupported), nil
	}, 0, nil)
	probe, _ := get(t, h, "/probe?target=x:1", nil)
	return served + probe
}

// servedNames are the metric families of an exposition.
func servedNames(expo string) []string {
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) `).FindAllStringSubmatch(expo, -1) {
		names = append(names, m[1])
	}
	return names
}

// TestPromtoolCheckMetrics runs promtool's linter on everything tfopcap
// serves: names, units, suffixes, help.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := requireTool(t, "promtool", "prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition(t))
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestPromtoolRules checks the shipped alerting rules and runs their unit
// tests, in which the regression alert fires for a server that went from
// granting to omitting.
func TestPromtoolRules(t *testing.T) {
	promtool := requireTool(t, "promtool", "prometheus")
	for _, args := range [][]string{{"check", "rules", rulesFile}, {"test", "rules", rulesTestFile}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// metricRef finds metric names in PromQL: tfopcap_* and probe_*, not
// Grafana variables ($probe_job).
var metricRef = regexp.MustCompile(`(?:^|[^$\w])((?:tfopcap|probe)_\w+)`)

// TestDeployNamesServed: every metric the rules and the dashboard query
// is one tfopcap serves, and every one it serves is in docs/metrics.md.
func TestDeployNamesServed(t *testing.T) {
	served := servedNames(exposition(t))
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	exprs := map[string][]string{rulesFile: {string(rules)}}
	exprs[dashboardFile] = dashboardExprs(t)
	for file, list := range exprs {
		for _, e := range list {
			for _, m := range metricRef.FindAllStringSubmatch(e, -1) {
				if !slices.Contains(served, m[1]) {
					t.Errorf("%s: %s is not a metric tfopcap serves (%v)", filepath.Base(file), m[1], served)
				}
			}
		}
	}
	doc, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range served {
		if !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") && !bytes.Contains(doc, []byte("`"+name)) {
			t.Errorf("docs/metrics.md does not describe %s", name)
		}
	}
}

// dashboardExprs parses the Grafana dashboard and returns its queries.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var exprs []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	if d.UID == "" || len(exprs) == 0 {
		t.Errorf("%s: no uid or no queries", dashboardFile)
	}
	return exprs
}

// TestSystemdUnit: systemd-analyze verify accepts the unit without a
// warning (an unknown key is only a warning to systemd, a failure here).
func TestSystemdUnit(t *testing.T) {
	sa := requireTool(t, "systemd-analyze", "systemd")
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	// verify checks that ExecStart's program exists: point it at one that does.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := strings.ReplaceAll(string(unit), "/usr/local/bin/tfopcap", self)
	if err := os.WriteFile(filepath.Join(dir, "tfopcap-live@.service"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sa, "verify", "./tfopcap-live@eth0.service")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, want := range []string{"AmbientCapabilities=CAP_NET_RAW\n", "CapabilityBoundingSet=CAP_NET_RAW\n", "DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q", want)
		}
	}
}
