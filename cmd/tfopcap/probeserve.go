package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/metrics"
	"github.com/tfopcap/tfopcap/probe"
	"github.com/tfopcap/tfopcap/report"
)

// probeServeOptions is probe's --metrics-addr: serve /probe?target=
// instead of probing the targets given.
type probeServeOptions struct{ addr string }

func (o *probeServeOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.addr, "metrics-addr", "", "serve /probe?target=HOST:PORT (Prometheus, blackbox-exporter style) and /metrics on `ADDR` instead of probing targets given")
}

// serve answers /probe?target= with a probe made with cfg (its targets
// aside) until SIGINT or SIGTERM.
func (o *probeServeOptions) serve(cfg probe.Config, evidence string, st streams) error {
	if len(cfg.Targets) > 0 {
		return usagef("probe: --metrics-addr takes no targets: Prometheus names them in /probe?target=HOST:PORT")
	}
	if evidence != "" {
		return usagef("probe: --evidence does not apply with --metrics-addr")
	}
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
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return fmt.Errorf("probe: --metrics-addr %s: %v", o.addr, err)
	}
	fmt.Fprintf(st.stderr, "tfopcap: serving http://%s/probe?target=HOST:PORT and /metrics; Ctrl-C stops\n", srv.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return srv.Close()
}
