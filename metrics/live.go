package metrics

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/engine"
)

const (
	// OtherServers labels the sum of the servers beyond MaxServers, as
	// the report's row of the same name.
	OtherServers = analyze.OtherServers
)

const (
	// findingsEvery is how often at most findings are recomputed: a
	// Summary walks every server the report lists.
	findingsEvery = time.Second
	// maxRemembered bounds the servers remembered as summed in "other",
	// and those without TFO attempts, so that a scan costs bounded memory
	// (about 50 bytes each, 3 MiB full); beyond it, a server without TFO
	// attempts stays unlisted for good, and tfopcap_servers_aggregated is
	// a lower bound.
	maxRemembered = 1 << 16
)

// LiveConfig bounds and shapes a Live collector.
type LiveConfig struct {
	// MaxServers is how many servers get a label of their own, at least
	// 1. Each labelled server has 17 series (12 outcomes, truncated, 4
	// verdicts) and one per finding.
	MaxServers int
	// AllServers gives servers without TFO attempts labels too, as
	// --all-servers lists them in the report.
	AllServers bool
	// Window is the span tfopcap_server_verdict judges over; positive.
	Window time.Duration
	// Now is the clock a scrape judges the verdict window at, and counts
	// attempts at before the first Tick (nil: time.Now); tests set it.
	Now func() time.Time
}

// Live is the collector of a live capture. Attempt and Tick feed it from
// the engine's goroutine (engine.Config.OnAttempt and OnTick); Collect
// reads it from scrapes. Use NewLive.
type Live struct {
	cfg LiveConfig
	// findingsAt and findingsJudged are when findings were last computed,
	// and how many attempts had been judged then. Only Tick uses them,
	// from the engine's goroutine: mu does not guard them.
	findingsAt     time.Time
	findingsJudged int

	mu sync.Mutex
	// at is when attempts count in the verdict window: the time of the
	// last Tick (the engine ticks every 250 ms, far finer than a slice of
	// the window), so that counting an attempt reads no clock, which
	// took two thirds of the counting's CPU in a profile (BenchmarkLiveAttempt);
	// before the first Tick, the clock.
	at     time.Time
	index  map[netip.AddrPort]*series // listed servers, and those summed in other
	listed []*series                  // in the order first seen
	other  series
	// unlisted sums the attempts to servers without a TFO attempt so far:
	// plain holds them per server, until a TFO attempt moves a server's
	// counts into its series, as the report moves them into its row.
	unlisted   analyze.OutcomeCounts
	plain      map[netip.AddrPort]plainCounts
	aggregated int // servers summed in other
	capture    capture.LiveStats
	status     engine.Status
	findings   []finding
}

// series is the counts behind one server label.
type series struct {
	label     string
	outcomes  analyze.OutcomeCounts
	truncated int
	window    window
}

// plainCounts are the attempts to a server without TFO attempts: only
// these three outcomes need no TFO option.
type plainCounts struct{ plain, refused, unanswered uint32 }

func (p *plainCounts) add(o analyze.Outcome) {
	switch o {
	case analyze.Refused:
		p.refused++
	case analyze.Unanswered:
		p.unanswered++
	default:
		p.plain++
	}
}

// moveTo adds p to c and takes it from the sum of unlisted attempts.
func (p plainCounts) moveTo(c, unlisted *analyze.OutcomeCounts) {
	c[analyze.Plain] += int(p.plain)
	c[analyze.Refused] += int(p.refused)
	c[analyze.Unanswered] += int(p.unanswered)
	unlisted[analyze.Plain] -= int(p.plain)
	unlisted[analyze.Refused] -= int(p.refused)
	unlisted[analyze.Unanswered] -= int(p.unanswered)
}

// unlistedOutcomes are the outcomes an attempt without TFO can have.
var unlistedOutcomes = [...]analyze.Outcome{analyze.Plain, analyze.Refused, analyze.Unanswered}

// finding is one series of tfopcap_findings: server is "" for a
// capture-wide finding.
type finding struct {
	server string
	id     analyze.FindingID
}

// NewLive returns an empty collector. It panics if cfg.MaxServers or
// cfg.Window is not positive: the command line validates both.
func NewLive(cfg LiveConfig) *Live {
	if cfg.MaxServers <= 0 || cfg.Window <= 0 {
		panic(fmt.Sprintf("metrics: LiveConfig wants a positive MaxServers and Window, got %d and %v", cfg.MaxServers, cfg.Window))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Live{cfg: cfg, index: make(map[netip.AddrPort]*series), plain: make(map[netip.AddrPort]plainCounts),
		other: series{label: OtherServers, window: newWindow(cfg.Window)}}
}

// Attempt counts a judged attempt; it fits engine.Config.OnAttempt.
// Attempts left out of verdicts (snaplen cut their options) count as
// truncated, as in the report.
func (l *Live) Attempt(a *analyze.Attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.cfg.AllServers && !a.UsesTFO() && l.countPlain(a) {
		return
	}
	s := l.seriesFor(a)
	if !a.Counted() {
		s.truncated++
		return
	}
	s.outcomes[a.Outcome]++
	at := l.at
	if at.IsZero() {
		at = l.cfg.Now()
	}
	s.window.add(at, a.Outcome)
}

// countPlain counts an attempt without TFO to a server that has had no
// TFO attempt, and reports whether it did (false: the server has a series).
func (l *Live) countPlain(a *analyze.Attempt) bool {
	if _, ok := l.index[a.Server]; ok {
		return false
	}
	l.unlisted[a.Outcome]++
	p, ok := l.plain[a.Server]
	if !ok && len(l.plain) >= maxRemembered {
		return true // unlisted for good
	}
	p.add(a.Outcome)
	l.plain[a.Server] = p
	return true
}

// seriesFor returns the series a's server counts in. A server's first TFO
// attempt gives it a label while labels are left, else puts it in other,
// and brings its earlier attempts along.
func (l *Live) seriesFor(a *analyze.Attempt) *series {
	if s, ok := l.index[a.Server]; ok {
		return s
	}
	s := &l.other
	switch {
	case len(l.listed) < l.cfg.MaxServers:
		s = &series{label: a.Server.String(), window: newWindow(l.cfg.Window)}
		l.listed = append(l.listed, s)
		l.index[a.Server] = s
	case len(l.index) < maxRemembered:
		l.aggregated++
		l.index[a.Server] = s
	}
	if p, ok := l.plain[a.Server]; ok {
		p.moveTo(&s.outcomes, &l.unlisted)
		delete(l.plain, a.Server)
	}
	return s
}

// Tick records the capture's health; it fits engine.Config.OnTick, with
// the capture's counters and the report collector's Summary, which it
// calls when attempts were judged since the last call, at most once a
// findingsEvery.
func (l *Live) Tick(now time.Time, s engine.Status, stats capture.LiveStats, summary func() *analyze.Summary) {
	var fs []finding
	due := summary != nil && s.Judged != l.findingsJudged && now.Sub(l.findingsAt) >= findingsEvery
	if due {
		l.findingsAt, l.findingsJudged = now, s.Judged
		fs = l.findingsOf(summary())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.at, l.status, l.capture = now, s, stats
	if due {
		l.findings = fs
	}
}

// findingsOf lists the findings of sum under the servers' labels: those
// of servers without a label of their own under "other", once per ID.
func (l *Live) findingsOf(sum *analyze.Summary) []finding {
	var fs []finding
	seen := make(map[finding]bool)
	add := func(f finding) {
		if !seen[f] {
			seen[f] = true
			fs = append(fs, f)
		}
	}
	for i := range sum.Servers {
		srv := &sum.Servers[i]
		label := l.labelOf(srv.Server)
		for _, f := range srv.Findings {
			add(finding{label, f.ID})
		}
	}
	for _, f := range sum.Findings {
		add(finding{"", f.ID})
	}
	return fs
}

// labelOf is the server label ap's counts go under.
func (l *Live) labelOf(ap netip.AddrPort) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.index[ap]; ok {
		return s.label
	}
	return OtherServers
}

// liveDescs describes the live metrics. They are made on first use, not
// at init, which every run of tfopcap paid for though only live serves
// them: NewDesc checks and hashes each name and label, and this
// package's 19 descriptions took 64 K instructions, 1.2% of an empty
// capture's start-up (callgrind).
var liveDescs = sync.OnceValue(func() *liveDescSet {
	return &liveDescSet{
		attempts: prometheus.NewDesc("tfopcap_attempts_total",
			"Connection attempts (client SYNs) judged, by server ip:port and outcome.", []string{"server", "outcome"}, nil),
		truncated: prometheus.NewDesc("tfopcap_truncated_attempts_total",
			"Attempts left out of outcomes because the snap length cut their TCP options.", []string{"server"}, nil),
		verdict: prometheus.NewDesc("tfopcap_server_verdict",
			"1 for the server's TFO verdict over the attempts judged in the last verdict window, 0 for the other verdicts.",
			[]string{"server", "verdict"}, nil),
		findings: prometheus.NewDesc("tfopcap_findings",
			"1 for each finding (stable ID) the report would state now; capture-wide findings have no server label.",
			[]string{"server", "id"}, nil),
		unlisted: prometheus.NewDesc("tfopcap_unlisted_attempts",
			"Attempts to servers without a TFO attempt so far, by outcome (the report's unlisted_servers); a server's first TFO attempt moves its counts into tfopcap_attempts_total.",
			[]string{"outcome"}, nil),
		window: prometheus.NewDesc("tfopcap_verdict_window_seconds",
			"The span tfopcap_server_verdict judges over (--metrics-window).", nil, nil),
		aggregated: prometheus.NewDesc("tfopcap_servers_aggregated",
			"Servers beyond --metrics-max-servers, summed under server=\"other\".", nil, nil),
		packets: prometheus.NewDesc("tfopcap_capture_packets_total",
			"libpcap's counters: packets that passed the kernel filter (received), dropped for want of buffer (dropped), dropped by the interface (if_dropped).",
			[]string{"state"}, nil),
		open: prometheus.NewDesc("tfopcap_open_attempts",
			"Attempts not judged yet: waiting for their reply, or answered and kept 3 s for late copies of their packets.", nil, nil),
		early: prometheus.NewDesc("tfopcap_evicted_attempts_total",
			"Attempts judged unanswered before their reply timeout to keep memory bounded (a flood, or a scanner reusing ports).", nil, nil),
	}
})

// liveDescSet holds one description for each metric Live collects.
type liveDescSet struct {
	attempts, truncated, verdict, findings, unlisted, window, aggregated, packets, open, early *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (l *Live) Describe(ch chan<- *prometheus.Desc) {
	d := liveDescs()
	for _, desc := range []*prometheus.Desc{d.attempts, d.truncated, d.verdict, d.findings, d.unlisted, d.window,
		d.aggregated, d.packets, d.open, d.early} {
		ch <- desc
	}
}

// Collect implements prometheus.Collector: the metrics are built under
// the lock and sent after it, so that a slow scrape never holds up the
// capture.
func (l *Live) Collect(ch chan<- prometheus.Metric) {
	for _, m := range l.snapshot() {
		ch <- m
	}
}

func (l *Live) snapshot() []prometheus.Metric {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var ms []prometheus.Metric
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ms = append(ms, prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...))
	}
	counter := func(desc *prometheus.Desc, v int, labels ...string) {
		ms = append(ms, prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...))
	}
	d := liveDescs()
	for _, s := range l.allSeries() {
		for _, o := range analyze.Outcomes() {
			counter(d.attempts, s.outcomes[o], s.label, o.String())
		}
		counter(d.truncated, s.truncated, s.label)
		v := s.window.verdict(now)
		for _, x := range []analyze.Verdict{analyze.Grants, analyze.Omits, analyze.Mixed, analyze.Inconclusive} {
			gauge(d.verdict, boolValue(x == v), s.label, x.String())
		}
	}
	for _, o := range unlistedOutcomes {
		gauge(d.unlisted, float64(l.unlisted[o]), o.String())
	}
	for _, f := range l.findings {
		gauge(d.findings, 1, f.server, string(f.id))
	}
	gauge(d.window, l.cfg.Window.Seconds())
	gauge(d.aggregated, float64(l.aggregated))
	counter(d.packets, l.capture.Received, "received")
	counter(d.packets, l.capture.Dropped, "dropped")
	counter(d.packets, l.capture.IfDropped, "if_dropped")
	gauge(d.open, float64(l.status.Open))
	counter(d.early, l.status.Early)
	return ms
}

// allSeries lists the listed servers, then other when it counted anything.
func (l *Live) allSeries() []*series {
	all := append([]*series(nil), l.listed...)
	if l.other.outcomes.Total() > 0 || l.other.truncated > 0 {
		all = append(all, &l.other)
	}
	return all
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
