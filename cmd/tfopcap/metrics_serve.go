//go:build metrics

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/engine"
	"github.com/tfopcap/tfopcap/metrics"
	"github.com/tfopcap/tfopcap/probe"
	"github.com/tfopcap/tfopcap/report"
)

// metricsBuild says this binary serves the Prometheus endpoints itself.
const metricsBuild = true

// liveMetrics is the /metrics endpoint of a live capture; nil without
// --metrics-addr.
type liveMetrics struct {
	live *metrics.Live
	srv  *metrics.Server
}

// start binds --metrics-addr, before the capture opens, so that a port in
// use fails the run at once. argv, the command line, is for the default
// build, which execs this one with it.
func (o *metricsOptions) start(_ []string, allServers bool, stderr io.Writer) (*liveMetrics, error) {
	if o.addr == "" {
		return nil, nil
	}
	m := &liveMetrics{live: metrics.NewLive(metrics.LiveConfig{MaxServers: o.maxServers, AllServers: allServers, Window: o.window})}
	reg, err := metrics.NewRegistry(buildInfo(), m.live)
	if err != nil {
		return nil, err
	}
	if m.srv, err = metrics.Listen(o.addr, metrics.Mux(reg, nil)); err != nil {
		return nil, fmt.Errorf("live: --metrics-addr %s: %v", o.addr, bindError(err))
	}
	fmt.Fprintf(stderr, "tfopcap: serving metrics on http://%s/metrics\n", m.srv.Addr())
	return m, nil
}

// bindError is a listen error without the address again: "bind: address
// already in use".
func bindError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Err
	}
	return err
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

// serve answers /probe?target= with a probe made with cfg (its targets
// aside) until SIGINT or SIGTERM. The caller has validated the flags.
func (o *probeServeOptions) serve(_ []string, cfg probe.Config, st streams) error {
	cfg.NewEvidence = nil
	run := func(ctx context.Context, target string) (*report.Report, error) {
		c := cfg
		c.Targets = []string{target}
		res, err := probe.Run(ctx, c)
		if err != nil {
			return nil, err
		}
		return res.Report(toolName), nil
	}
	rounds := len(cfg.Rounds)
	if rounds == 0 {
		rounds = len(probe.DefaultRounds())
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = probe.DefaultTimeout
	}
	log := slog.New(slog.NewTextHandler(st.stderr, nil))
	reg, err := metrics.NewRegistry(buildInfo())
	if err != nil {
		return err
	}
	h := metrics.ProbeHandler(run, time.Duration(rounds)*timeout+time.Second, log)
	srv, err := metrics.Listen(o.addr, metrics.Mux(reg, map[string]http.Handler{"/probe": h}))
	if err != nil {
		return fmt.Errorf("probe: --metrics-addr %s: %v", o.addr, bindError(err))
	}
	fmt.Fprintf(st.stderr, "tfopcap: serving http://%s/probe?target=HOST:PORT and /metrics; Ctrl-C stops\n", srv.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return srv.Close()
}

// buildInfo names the build in tfopcap_build_info.
func buildInfo() metrics.BuildInfo {
	b := metrics.BuildInfo{Version: version}
	if info, ok := debug.ReadBuildInfo(); ok {
		b.GoVersion = info.GoVersion
		b.Revision = buildSettings(info)["vcs.revision"]
	}
	return b
}
