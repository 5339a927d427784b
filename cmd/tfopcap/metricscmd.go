package main

import (
	"time"

	"github.com/spf13/pflag"
)

// The Prometheus endpoints (live's and probe's --metrics-addr) are served
// by tfopcap-metrics, this command built with -tags metrics
// (metrics_serve.go). The default build holds no metrics code and, given
// --metrics-addr, execs tfopcap-metrics with the same arguments
// (metrics_exec.go): client_golang's package initialisation, which every
// run of a binary linking it pays, cost each analyze about 2 ms of
// start-up and 4 MiB of memory (bench/PROFILE.md, "Issue 18, seventh round").

// metricsBinary is the name of the build with the Prometheus endpoints.
const metricsBinary = "tfopcap-metrics"

const (
	// defaultMetricsMaxServers bounds the server labels: each labelled
	// server has 17 series and one per finding, under 2000 for 100.
	defaultMetricsMaxServers = 100
	// defaultMetricsWindow is the span tfopcap_server_verdict judges over.
	defaultMetricsWindow = 5 * time.Minute
)

// metricsOptions are live's --metrics-* flags.
type metricsOptions struct {
	addr       string
	maxServers int
	window     time.Duration
}

func (o *metricsOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.addr, "metrics-addr", "", "serve Prometheus metrics on `ADDR` (e.g. :9869, 127.0.0.1:9869) at /metrics while capturing")
	fs.IntVar(&o.maxServers, "metrics-max-servers", defaultMetricsMaxServers, "give at most `N` servers a label of their own; the rest are summed under server=\"other\"")
	fs.DurationVar(&o.window, "metrics-window", defaultMetricsWindow, "tfopcap_server_verdict judges the attempts of the last `DURATION`")
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

// probeServeOptions is probe's --metrics-addr: serve /probe?target=
// instead of probing the targets given.
type probeServeOptions struct{ addr string }

func (o *probeServeOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.addr, "metrics-addr", "", "serve /probe?target=HOST:PORT (Prometheus, blackbox-exporter style) and /metrics on `ADDR` instead of probing targets given")
}

// validate checks what --metrics-addr rules out before anything is served.
func (o *probeServeOptions) validate(targets []string, evidence string) error {
	if len(targets) > 0 {
		return usagef("probe: --metrics-addr takes no targets: Prometheus names them in /probe?target=HOST:PORT")
	}
	if evidence != "" {
		return usagef("probe: --evidence does not apply with --metrics-addr")
	}
	return nil
}
