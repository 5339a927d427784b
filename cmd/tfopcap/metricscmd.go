package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/engine"
	"github.com/tfopcap/tfopcap/metrics"
)

// metricsOptions are live's --metrics-* flags.
type metricsOptions struct {
	addr       string
	maxServers int
	window     time.Duration
}

func (o *metricsOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.addr, "metrics-addr", "", "serve Prometheus metrics on `ADDR` (e.g. :9869, 127.0.0.1:9869) at /metrics while capturing")
	fs.IntVar(&o.maxServers, "metrics-max-servers", metrics.DefaultMaxServers, "give at most `N` servers a label of their own; the rest are summed under server=\"other\"")
	fs.DurationVar(&o.window, "metrics-window", metrics.DefaultWindow, "tfopcap_server_verdict judges the attempts of the last `DURATION`")
}

func (o *metricsOptions) validate() error {
	switch {
	case o.maxServers < 1:
		return usagef("live: --metrics-max-servers must be at least 1")
	case o.window < time.Second:
		return usagef("live: --metrics-window must be at least 1s")
	}
	return nil
}

// liveMetrics is the /metrics endpoint of a live capture; nil without
// --metrics-addr.
type liveMetrics struct {
	live *metrics.Live
	srv  *metrics.Server
}

// start binds --metrics-addr, before the capture opens, so that a port in
// use fails the run at once.
func (o *metricsOptions) start(allServers bool, stderr io.Writer) (*liveMetrics, error) {
	if o.addr == "" {
		return nil, nil
	}
	m := &liveMetrics{live: metrics.NewLive(metrics.LiveConfig{MaxServers: o.maxServers, AllServers: allServers, Window: o.window})}
	reg, err := metrics.NewRegistry(buildInfo(), m.live)
	if err != nil {
		return nil, err
	}
	if m.srv, err = metrics.Listen(o.addr, metrics.Mux(reg, nil)); err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err // "bind: address already in use", without the address again
		}
		return nil, fmt.Errorf("live: --metrics-addr %s: %v", o.addr, err)
	}
	fmt.Fprintf(stderr, "tfopcap: serving metrics on http://%s/metrics\n", m.srv.Addr())
	return m, nil
}

// onAttempt counts each judged attempt, then hands it to next (if any).
func (m *liveMetrics) onAttempt(next func(*analyze.Attempt)) func(*analyze.Attempt) {
	if m == nil {
		return next
	}
	return func(a *analyze.Attempt) {
		m.live.Attempt(a)
		if next != nil {
			next(a)
		}
	}
}

// tick records the capture's health and the report's findings.
func (m *liveMetrics) tick(now time.Time, s engine.Status, l *capture.Live, coll *analyze.Collector) {
	if m != nil {
		m.live.Tick(now, s, l.Stats(), coll.Summary)
	}
}

func (m *liveMetrics) Close() error {
	if m == nil {
		return nil
	}
	return m.srv.Close()
}
