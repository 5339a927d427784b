package metrics

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/engine"
)

// clock is a settable time for the verdict window.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newClock() *clock { return &clock{time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)} }

var (
	srvA = netip.MustParseAddrPort("192.0.2.1:8001")
	srvB = netip.MustParseAddrPort("192.0.2.1:8002")
	srvC = netip.MustParseAddrPort("[2001:db8::1]:443")
	srvD = netip.MustParseAddrPort("192.0.2.9:80")
)

// attempt is a judged attempt to server: a cookie request (or a plain SYN
// for the outcomes that have no TFO), as the tracker hands it over.
func attempt(server netip.AddrPort, o analyze.Outcome) *analyze.Attempt {
	a := &analyze.Attempt{Server: server, Outcome: o}
	if o != analyze.Plain && o != analyze.Refused && o != analyze.Unanswered {
		a.SYN.TFO.State = analyze.TFORequest
	}
	return a
}

// TestLiveCounts feeds attempts and compares the exposition with the
// counts the report would give: labels in first-seen order of TFO
// servers, beyond MaxServers summed in "other", servers without TFO
// attempts unlisted until their first TFO attempt brings their counts
// along (attempts come judged in no particular order: live judges a
// plain SYN-ACK before the cookie one that came first), truncated
// attempts apart.
func TestLiveCounts(t *testing.T) {
	c := newClock()
	l := NewLive(LiveConfig{MaxServers: 2, Window: testWindow, Now: c.now})
	plainD := attempt(srvD, analyze.Plain)
	truncated := attempt(srvA, analyze.Omitted)
	truncated.SYN.Truncated = true
	for _, a := range []*analyze.Attempt{
		plainD,                            // unlisted: no TFO yet
		attempt(srvA, analyze.Refused),    // unlisted: no TFO yet
		attempt(srvA, analyze.Granted),    // labels A, and brings the refused along
		attempt(srvA, analyze.Plain),      // A has a label now: counts there
		attempt(srvB, analyze.Omitted),    // labels B
		attempt(srvC, analyze.Plain),      // unlisted
		attempt(srvC, analyze.Granted),    // no label left: other, with its plain
		attempt(srvC, analyze.Accepted),   // other again, one server aggregated
		attempt(srvD, analyze.Unanswered), // still unlisted
		truncated,
	} {
		l.Attempt(a)
	}
	want := `
# HELP tfopcap_attempts_total Connection attempts (client SYNs) judged, by server ip:port and outcome.
# TYPE tfopcap_attempts_total counter
` + outcomeLines("192.0.2.1:8001", map[string]int{"granted": 1, "plain": 1, "refused": 1}) +
		outcomeLines("192.0.2.1:8002", map[string]int{"omitted": 1}) +
		outcomeLines("other", map[string]int{"granted": 1, "accepted": 1, "plain": 1}) + `
# HELP tfopcap_truncated_attempts_total Attempts left out of outcomes because the snap length cut their TCP options.
# TYPE tfopcap_truncated_attempts_total counter
tfopcap_truncated_attempts_total{server="192.0.2.1:8001"} 1
tfopcap_truncated_attempts_total{server="192.0.2.1:8002"} 0
tfopcap_truncated_attempts_total{server="other"} 0
# HELP tfopcap_unlisted_attempts Attempts to servers without a TFO attempt so far, by outcome (the report's unlisted_servers); a server's first TFO attempt moves its counts into tfopcap_attempts_total.
# TYPE tfopcap_unlisted_attempts gauge
tfopcap_unlisted_attempts{outcome="plain"} 1
tfopcap_unlisted_attempts{outcome="refused"} 0
tfopcap_unlisted_attempts{outcome="unanswered"} 1
` + verdictHeader + verdictLines("192.0.2.1:8001", "grants") + verdictLines("192.0.2.1:8002", "omits") + verdictLines("other", "grants") + `
# HELP tfopcap_servers_aggregated Servers beyond --metrics-max-servers, summed under server="other".
# TYPE tfopcap_servers_aggregated gauge
tfopcap_servers_aggregated 1
`
	if err := testutil.CollectAndCompare(l, strings.NewReader(want), "tfopcap_attempts_total",
		"tfopcap_truncated_attempts_total", "tfopcap_unlisted_attempts", "tfopcap_server_verdict", "tfopcap_servers_aggregated"); err != nil {
		t.Error(err)
	}
}

// outcomeLines is the 12 series of one server, zeros included.
func outcomeLines(server string, n map[string]int) string {
	var b strings.Builder
	for _, o := range analyze.Outcomes() {
		b.WriteString(`tfopcap_attempts_total{outcome="` + o.String() + `",server="` + server + `"} `)
		b.WriteString(strconv.Itoa(n[o.String()]) + "\n")
	}
	return b.String()
}

const verdictHeader = `# HELP tfopcap_server_verdict 1 for the server's TFO verdict over the attempts judged in the last verdict window, 0 for the other verdicts.
# TYPE tfopcap_server_verdict gauge
`

func verdictLines(server, verdict string) string {
	var b strings.Builder
	for _, v := range []string{"grants", "inconclusive", "mixed", "omits"} {
		val := "0"
		if v == verdict {
			val = "1"
		}
		b.WriteString(`tfopcap_server_verdict{server="` + server + `",verdict="` + v + `"} ` + val + "\n")
	}
	return b.String()
}

// TestVerdictWindow: a server that granted and then only omits reads
// mixed while both are in the window, then omits once the grants have
// left it; an empty window is inconclusive.
func TestVerdictWindow(t *testing.T) {
	c := newClock()
	l := NewLive(LiveConfig{MaxServers: testMaxServers, Window: 10 * time.Minute, Now: c.now})
	steps := []struct {
		after   time.Duration
		outcome analyze.Outcome
		feed    bool // an attempt with outcome is judged
		want    string
	}{
		{0, analyze.Granted, true, "grants"},
		{4 * time.Minute, analyze.Omitted, true, "mixed"},
		{5 * time.Minute, 0, false, "mixed"},              // the grant is 9 min old
		{2 * time.Minute, analyze.Omitted, true, "omits"}, // 11 min: the grant left
		{11 * time.Minute, 0, false, "inconclusive"},
	}
	for i, s := range steps {
		c.t = c.t.Add(s.after)
		l.Tick(c.t, engine.Status{}, capture.LiveStats{}, nil) // attempts count at the last tick
		if s.feed {
			l.Attempt(attempt(srvA, s.outcome))
		}
		want := verdictHeader + verdictLines(srvA.String(), s.want)
		if err := testutil.CollectAndCompare(l, strings.NewReader(want), "tfopcap_server_verdict"); err != nil {
			t.Errorf("step %d (+%v): want %s: %v", i, s.after, s.want, err)
		}
	}
	// The counters are not windowed: every attempt stays counted.
	if got := testutil.CollectAndCount(l, "tfopcap_attempts_total"); got != 12 {
		t.Errorf("%d attempt series, want 12", got)
	}
}

// TestTick: capture health and findings from the report's Summary,
// recomputed only when attempts were judged and a second has passed.
func TestTick(t *testing.T) {
	c := newClock()
	l := NewLive(LiveConfig{MaxServers: testMaxServers, Window: testWindow, Now: c.now})
	l.Attempt(attempt(srvA, analyze.Omitted))
	calls := 0
	summary := func() *analyze.Summary {
		calls++
		return &analyze.Summary{
			Servers: []analyze.ServerSummary{
				{Server: srvA, Findings: []analyze.Finding{{ID: analyze.FindMPTCPTFOUnsupported}}},
				{Server: srvB, Findings: []analyze.Finding{{ID: analyze.FindOtherCauses}}}, // no label: other
			},
			Findings: []analyze.CaptureFinding{{ID: analyze.FindClientBlackhole}},
		}
	}
	st := engine.Status{Judged: 1, Open: 3, Early: 2}
	l.Tick(c.t, st, capture.LiveStats{Received: 10, Dropped: 4, IfDropped: 1}, summary)
	l.Tick(c.t.Add(2*time.Second), st, capture.LiveStats{Received: 12, Dropped: 4, IfDropped: 1}, summary) // nothing new judged
	if calls != 1 {
		t.Errorf("Summary computed %d times, want 1", calls)
	}
	want := `
# HELP tfopcap_capture_packets_total libpcap's counters: packets that passed the kernel filter (received), dropped for want of buffer (dropped), dropped by the interface (if_dropped).
# TYPE tfopcap_capture_packets_total counter
tfopcap_capture_packets_total{state="dropped"} 4
tfopcap_capture_packets_total{state="if_dropped"} 1
tfopcap_capture_packets_total{state="received"} 12
# HELP tfopcap_evicted_attempts_total Attempts judged unanswered before their reply timeout to keep memory bounded (a flood, or a scanner reusing ports).
# TYPE tfopcap_evicted_attempts_total counter
tfopcap_evicted_attempts_total 2
# HELP tfopcap_findings 1 for each finding (stable ID) the report would state now; capture-wide findings have no server label.
# TYPE tfopcap_findings gauge
tfopcap_findings{id="client-blackhole",server=""} 1
tfopcap_findings{id="mptcp-tfo-unsupported",server="192.0.2.1:8001"} 1
tfopcap_findings{id="other-causes",server="other"} 1
# HELP tfopcap_open_attempts Attempts not judged yet: waiting for their reply, or answered and kept 3 s for late copies of their packets.
# TYPE tfopcap_open_attempts gauge
tfopcap_open_attempts 3
`
	if err := testutil.CollectAndCompare(l, strings.NewReader(want), "tfopcap_capture_packets_total",
		"tfopcap_evicted_attempts_total", "tfopcap_findings", "tfopcap_open_attempts"); err != nil {
		t.Error(err)
	}
}

// TestAttemptAllocs: counting an attempt to a server that has its series
// allocates nothing (the engine calls it per attempt).
func TestAttemptAllocs(t *testing.T) {
	l := NewLive(LiveConfig{MaxServers: testMaxServers, Window: testWindow})
	a, b := attempt(srvA, analyze.Granted), attempt(srvD, analyze.Plain)
	l.Attempt(a)
	if n := testing.AllocsPerRun(1000, func() { l.Attempt(a); l.Attempt(b) }); n != 0 {
		t.Errorf("Attempt allocates %v times per call, want 0", n)
	}
}

// TestLint: the names and help follow Prometheus's conventions, as
// client_golang's linter reads them (promtool check metrics is run on
// the whole endpoint in serve_test.go).
func TestLint(t *testing.T) {
	l := NewLive(LiveConfig{MaxServers: testMaxServers, Window: testWindow})
	l.Attempt(attempt(srvA, analyze.Granted))
	l.Tick(time.Now(), engine.Status{Judged: 1}, capture.LiveStats{}, nil)
	problems, err := testutil.CollectAndLint(l)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// TestLiveConcurrentScrape: scrapes read while the engine's goroutine
// counts and ticks (go test -race checks the locking).
func TestLiveConcurrentScrape(t *testing.T) {
	l := NewLive(LiveConfig{MaxServers: 2, Window: testWindow})
	done := make(chan struct{})
	go func() {
		defer close(done)
		servers := []netip.AddrPort{srvA, srvB, srvC, srvD}
		for i := range 2000 {
			l.Attempt(attempt(servers[i%len(servers)], analyze.Outcome(i%12)))
			if i%100 == 0 {
				l.Tick(time.Now().Add(time.Duration(i)*time.Second), engine.Status{Judged: i}, capture.LiveStats{Received: i}, func() *analyze.Summary {
					return &analyze.Summary{Servers: []analyze.ServerSummary{{Server: srvA, Findings: []analyze.Finding{{ID: analyze.FindOtherCauses}}}}}
				})
			}
		}
	}()
	for scrapes := 0; ; scrapes++ {
		select {
		case <-done:
			if n := testutil.CollectAndCount(l, "tfopcap_attempts_total"); n != 3*12 {
				t.Errorf("%d attempt series after %d scrapes, want 36 (2 servers and other)", n, scrapes)
			}
			return
		default:
			testutil.CollectAndCount(l)
		}
	}
}

// BenchmarkLiveAttempt is what --metrics-addr adds per judged attempt.
func BenchmarkLiveAttempt(b *testing.B) {
	l := NewLive(LiveConfig{MaxServers: testMaxServers, Window: testWindow})
	l.Tick(time.Now(), engine.Status{}, capture.LiveStats{}, nil)
	as := []*analyze.Attempt{attempt(srvA, analyze.Granted), attempt(srvB, analyze.Omitted), attempt(srvD, analyze.Plain)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.Attempt(as[i%len(as)])
	}
}

// The command line's defaults (--metrics-max-servers, --metrics-window),
// for tests that do not set their own.
const (
	testMaxServers = 100
	testWindow     = 5 * time.Minute
)
