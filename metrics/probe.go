package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/report"
)

// ProbeFunc probes one target (host:port) and returns the report of its
// handshakes, as `tfopcap probe --format json` prints it. It must return
// by ctx's deadline.
type ProbeFunc func(ctx context.Context, target string) (*report.Report, error)

// DefaultProbeTimeout bounds a probe when the scrape does not say its
// own timeout.
const DefaultProbeTimeout = 10 * time.Second

// probeTimeoutMargin is left of the scrape's timeout for the answer to
// reach Prometheus, as the blackbox exporter leaves half a second.
const probeTimeoutMargin = 500 * time.Millisecond

// ProbeHandler serves /probe?target=host:port in the blackbox-exporter
// style: each request runs probe with a fresh registry and answers with
// only that probe's metrics. probe_success and probe_duration_seconds are
// always there. A probe is bounded by the scrape's own timeout
// (X-Prometheus-Scrape-Timeout-Seconds) less half a second, and by max
// (0: DefaultProbeTimeout). Probes of one target run one at a time: they
// would share the kernel's cookie cache and disturb each other's rounds.
// Failures are logged to log (nil: discarded).
func ProbeHandler(probe ProbeFunc, max time.Duration, log *slog.Logger) http.Handler {
	if max <= 0 {
		max = DefaultProbeTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var locks targetLocks
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.URL.Query().Get("target")
		if target == "" {
			http.Error(w, "the target parameter is missing: /probe?target=host:port", http.StatusBadRequest)
			return
		}
		timeout, err := probeTimeout(r, max)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		reg := prometheus.NewRegistry()
		start := time.Now()
		unlock, err := locks.lock(ctx, target)
		var rep *report.Report
		if err == nil {
			rep, err = probe(ctx, target)
			unlock()
		}
		pm := probeMetrics(rep, err)
		pm = append(pm, prometheus.MustNewConstMetric(probeDescs().duration, prometheus.GaugeValue, time.Since(start).Seconds()))
		if err != nil {
			log.Warn("probe failed", "target", target, "err", err)
		}
		reg.MustRegister(constCollector(pm))
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	})
}

// targetLocks lets one probe of a target run at a time. A lock lives
// while some request holds or waits for it, so the table stays as small
// as the probes under way.
type targetLocks struct {
	mu    sync.Mutex
	locks map[string]*targetLock
}

type targetLock struct {
	free  chan struct{} // holds a token while the lock is free
	users int           // requests holding or waiting
}

// lock waits for target's lock until ctx is done, and returns its unlock.
func (t *targetLocks) lock(ctx context.Context, target string) (unlock func(), err error) {
	t.mu.Lock()
	if t.locks == nil {
		t.locks = make(map[string]*targetLock)
	}
	l := t.locks[target]
	if l == nil {
		l = &targetLock{free: make(chan struct{}, 1)}
		l.free <- struct{}{}
		t.locks[target] = l
	}
	l.users++
	t.mu.Unlock()
	release := func() {
		t.mu.Lock()
		if l.users--; l.users == 0 {
			delete(t.locks, target)
		}
		t.mu.Unlock()
	}
	select {
	case <-l.free:
		return func() { l.free <- struct{}{}; release() }, nil
	case <-ctx.Done():
		release()
		return nil, fmt.Errorf("waiting for another probe of %s: %w", target, ctx.Err())
	}
}

// probeTimeout is the scrape's timeout less the margin, within max.
func probeTimeout(r *http.Request, max time.Duration) (time.Duration, error) {
	h := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")
	if h == "" {
		return max, nil
	}
	secs, err := strconv.ParseFloat(h, 64)
	if err != nil || secs <= 0 {
		return 0, fmt.Errorf("X-Prometheus-Scrape-Timeout-Seconds %q: want a positive number of seconds", h)
	}
	t := time.Duration(secs*float64(time.Second)) - probeTimeoutMargin
	if t <= 0 {
		t = time.Duration(secs * float64(time.Second)) // too short for a margin: use it all
	}
	return min(t, max), nil
}

// probeDescs describes a probe's metrics, made on first use (see
// liveDescs).
var probeDescs = sync.OnceValue(func() *probeDescSet {
	return &probeDescSet{
		success: prometheus.NewDesc("probe_success",
			"1 when the probe ran and the target answered a SYN with a SYN-ACK, whatever it did with TFO.", nil, nil),
		duration: prometheus.NewDesc("probe_duration_seconds",
			"How long the probe took.", nil, nil),
		granted: prometheus.NewDesc("tfopcap_probe_cookie_granted",
			"1 when the target granted a TFO cookie (an attempt granted, renewed or accepted).", nil, nil),
		accepted: prometheus.NewDesc("tfopcap_probe_syn_data_accepted",
			"1 when the target acknowledged data sent in a SYN with a cookie.", nil, nil),
		mptcp: prometheus.NewDesc("tfopcap_probe_mptcp",
			"1 when the target's SYN-ACK carried MPTCP (kind 30): the listener is MPTCP.", nil, nil),
		verdict: prometheus.NewDesc("tfopcap_probe_verdict",
			"1 for the target's TFO verdict from this probe's attempts, 0 for the other verdicts.", []string{"verdict"}, nil),
		attempts: prometheus.NewDesc("tfopcap_probe_attempts",
			"The probe's attempts by outcome.", []string{"outcome"}, nil),
		findings: prometheus.NewDesc("tfopcap_probe_findings",
			"1 for each finding (stable ID) the probe's report states about the target.", []string{"id"}, nil),
	}
})

// probeDescSet holds one description for each metric of a probe.
type probeDescSet struct {
	success, duration, granted, accepted, mptcp, verdict, attempts, findings *prometheus.Desc
}

// probeMetrics are the metrics of one probe's report (rep is nil when
// err is set, or may be partial).
func probeMetrics(rep *report.Report, err error) []prometheus.Metric {
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
		return prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	d := probeDescs()
	if rep == nil {
		return []prometheus.Metric{gauge(d.success, 0)}
	}
	// The rows of every address the target resolved to, summed.
	var outcomes analyze.OutcomeCounts
	var mptcp bool
	var ids []analyze.FindingID
	for _, s := range rep.Servers {
		for o, n := range s.Outcomes {
			outcomes[o] += n
		}
		mptcp = mptcp || s.MPTCP.SYNACK > 0
		ids = append(ids, s.HintIDs...)
	}
	answered := false
	for _, o := range analyze.Outcomes() {
		answered = answered || outcomes[o] > 0 && o != analyze.Refused && o != analyze.Unanswered
	}
	ms := []prometheus.Metric{
		gauge(d.success, boolValue(err == nil && answered)),
		gauge(d.granted, boolValue(outcomes[analyze.Granted]+outcomes[analyze.Renewed]+outcomes[analyze.Accepted] > 0)),
		gauge(d.accepted, boolValue(outcomes[analyze.Accepted] > 0)),
		gauge(d.mptcp, boolValue(mptcp)),
	}
	v := outcomes.Verdict()
	for _, x := range []analyze.Verdict{analyze.Grants, analyze.Omits, analyze.Mixed, analyze.Inconclusive} {
		ms = append(ms, gauge(d.verdict, boolValue(x == v), x.String()))
	}
	for _, o := range analyze.Outcomes() {
		ms = append(ms, gauge(d.attempts, float64(outcomes[o]), o.String()))
	}
	seen := map[analyze.FindingID]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			ms = append(ms, gauge(d.findings, 1, string(id)))
		}
	}
	return ms
}
