package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/report"
)

// probeReport is a probe's report with one server row.
func probeReport(outcomes map[analyze.Outcome]int, synack int, ids ...analyze.FindingID) *report.Report {
	var c analyze.OutcomeCounts
	for o, n := range outcomes {
		c[o] = n
	}
	return &report.Report{Servers: []report.ServerReport{{Server: "192.0.2.1:443", Verdict: c.Verdict(),
		Outcomes: c, MPTCP: report.MPTCPCounts{SYN: synack, SYNACK: synack}, HintIDs: ids}}}
}

// TestProbeHandler runs /probe against canned probe results and checks
// the series each must give, blackbox style.
func TestProbeHandler(t *testing.T) {
	for _, c := range []struct {
		name string
		rep  *report.Report
		err  error
		want []string
		not  []string
	}{
		{"grants and accepts", probeReport(map[analyze.Outcome]int{analyze.Granted: 1, analyze.Accepted: 1}, 0), nil,
			[]string{"probe_success 1", "tfopcap_probe_cookie_granted 1", "tfopcap_probe_syn_data_accepted 1",
				"tfopcap_probe_mptcp 0", `tfopcap_probe_verdict{verdict="grants"} 1`, `tfopcap_probe_attempts{outcome="accepted"} 1`},
			[]string{"tfopcap_probe_findings"}},
		{"the seed: MPTCP listener omits", probeReport(map[analyze.Outcome]int{analyze.Omitted: 2}, 2, analyze.FindMPTCPTFOUnsupported), nil,
			[]string{"probe_success 1", "tfopcap_probe_cookie_granted 0", "tfopcap_probe_mptcp 1",
				`tfopcap_probe_verdict{verdict="omits"} 1`, `tfopcap_probe_findings{id="mptcp-tfo-unsupported"} 1`},
			nil},
		{"refused", probeReport(map[analyze.Outcome]int{analyze.Refused: 1}, 0), nil,
			[]string{"probe_success 0", `tfopcap_probe_verdict{verdict="inconclusive"} 1`}, nil},
		{"probe error", nil, errors.New("resolve nowhere.invalid: no such host"), []string{"probe_success 0", "probe_duration_seconds "},
			[]string{"tfopcap_probe_cookie_granted"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var gotTarget string
			h := ProbeHandler(func(ctx context.Context, target string) (*report.Report, error) {
				gotTarget = target
				return c.rep, c.err
			}, 0, nil)
			body, code := get(t, h, "/probe?target=tfo.example:443", nil)
			if code != http.StatusOK || gotTarget != "tfo.example:443" {
				t.Fatalf("status %d, target %q", code, gotTarget)
			}
			for _, w := range c.want {
				if !strings.Contains(body, "\n"+w) {
					t.Errorf("no %q in\n%s", w, body)
				}
			}
			for _, n := range c.not {
				if strings.Contains(body, n) {
					t.Errorf("%q in\n%s", n, body)
				}
			}
			if !strings.Contains(body, "probe_duration_seconds") {
				t.Errorf("no probe_duration_seconds in\n%s", body)
			}
		})
	}
}

// TestProbeTimeout: the probe's deadline is the scrape's timeout less
// half a second, within the handler's bound; bad requests get a 400.
func TestProbeTimeout(t *testing.T) {
	var left time.Duration
	h := ProbeHandler(func(ctx context.Context, target string) (*report.Report, error) {
		d, _ := ctx.Deadline()
		left = time.Until(d)
		return nil, ctx.Err()
	}, 4*time.Second, nil)
	for _, c := range []struct {
		header   string
		min, max time.Duration
	}{{"", 3 * time.Second, 4 * time.Second}, {"2", time.Second, 1500 * time.Millisecond}, {"30", 3 * time.Second, 4 * time.Second}} {
		hdr := http.Header{}
		if c.header != "" {
			hdr.Set("X-Prometheus-Scrape-Timeout-Seconds", c.header)
		}
		if _, code := get(t, h, "/probe?target=x:1", hdr); code != http.StatusOK {
			t.Fatalf("header %q: status %d", c.header, code)
		}
		if left < c.min || left > c.max {
			t.Errorf("header %q: probe had %v, want %v..%v", c.header, left, c.min, c.max)
		}
	}
	if body, code := get(t, h, "/probe", nil); code != http.StatusBadRequest || !strings.Contains(body, "target") {
		t.Errorf("no target: %d %q", code, body)
	}
	hdr := http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {"soon"}}
	if body, code := get(t, h, "/probe?target=x:1", hdr); code != http.StatusBadRequest || !strings.Contains(body, `"soon"`) {
		t.Errorf("bad timeout header: %d %q", code, body)
	}
}

func get(t *testing.T, h http.Handler, url string, hdr http.Header) (string, int) {
	t.Helper()
	req := httptest.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return string(b), rec.Code
}

// TestProbeOneAtATime: probes of one target wait for each other; a wait
// ends with the scrape's deadline, and the table of locks empties.
func TestProbeOneAtATime(t *testing.T) {
	var mu sync.Mutex
	running, most := map[string]int{}, map[string]int{}
	h := ProbeHandler(func(ctx context.Context, target string) (*report.Report, error) {
		mu.Lock()
		running[target]++
		most[target] = max(most[target], running[target])
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		running[target]--
		mu.Unlock()
		return probeReport(map[analyze.Outcome]int{analyze.Granted: 1}, 0), nil
	}, 0, nil)
	var wg sync.WaitGroup
	for _, target := range []string{"a:1", "a:1", "a:1", "b:1"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			get(t, h, "/probe?target="+target, nil)
		}()
	}
	wg.Wait()
	if most["a:1"] != 1 || most["b:1"] != 1 {
		t.Errorf("most probes at once: %v, want 1 per target", most)
	}

	var locks targetLocks
	unlock, err := locks.lock(context.Background(), "a:1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := locks.lock(ctx, "a:1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second lock of a held target: %v, want the deadline", err)
	}
	unlock()
	if len(locks.locks) != 0 {
		t.Errorf("%d locks left, want none", len(locks.locks))
	}
}
