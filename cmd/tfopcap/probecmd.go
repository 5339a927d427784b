package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/engine"
	"github.com/tfopcap/tfopcap/probe"
	"github.com/tfopcap/tfopcap/report"
)

const probeDescription = `Asks each server for a TCP Fast Open cookie and says why it gives none.
Rounds per target: a cookie request on a fresh cookie cache (the kernel's
tcp_metrics entry is deleted first when allowed), the cookie with data,
and an MPTCP client asking for a cookie (only an MPTCP client sees whether
the listener is MPTCP). The probe captures its own handshakes (libpcap on
the route's interface, needs CAP_NET_RAW) and prints the usual report,
with each server's probe rounds; without capture privileges it infers
the rounds from the kernel's account (TCP_INFO, tcp_metrics) and says so.
A target that cannot be probed (unknown host, closed or filtered port,
no route) gets one line on stderr; the others are still probed and
reported. Linux only. Exit status: 0 done, 1 a server's verdict matched
--fail-on, 2 usage error, a target that could not be probed, or client
TFO off.

With --metrics-addr ADDR it probes nothing at start: it serves
/probe?target=HOST:PORT in the style of Prometheus's blackbox exporter,
probing a target per scrape (docs/metrics.md). It runs tfopcap-metrics
in its place for that, as live does.`

type probeOptions struct {
	rounds  string
	timeout time.Duration
	capture *enumFlag
}

func (o *probeOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.rounds, "rounds", "request,data,mptcp", "rounds to run per target, in this order (`ROUND[,ROUND]` of request, data, mptcp)")
	fs.DurationVar(&o.timeout, "timeout", probe.DefaultTimeout, "wait `DURATION` for each handshake")
	o.capture = newEnum("auto", "auto", "yes", "no")
	fs.Var(o.capture, "capture", "capture the probe's packets: auto (when allowed), yes (fail without), no (TCP_INFO only)")
}

// probeCommand is probe's flags: the report's, its own and those of the
// blackbox-style endpoint (--metrics-addr).
type probeCommand struct {
	reportOptions
	probeOptions
	probeServeOptions
}

// probeIgnored are report flags that do not apply to a probe: it picks
// its own packets, and its few servers all use TFO.
var probeIgnored = []string{"server", "filter", "max-servers", "all-servers"}

// flagSet returns probe's flags, bound to c.
func (c *probeCommand) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("probe", pflag.ContinueOnError)
	c.reportOptions.register(fs)
	c.probeOptions.register(fs)
	c.probeServeOptions.register(fs)
	for _, name := range probeIgnored {
		_ = fs.MarkHidden(name)
	}
	return fs
}

func runProbe(args []string, st streams) error {
	var c probeCommand
	o, po, ps := &c.reportOptions, &c.probeOptions, &c.probeServeOptions
	fs := c.flagSet()
	if err := parseFlags(fs, args, st); err != nil {
		return err
	}
	o.applyVerbose()
	for _, name := range probeIgnored {
		if fs.Changed(name) {
			return usagef("probe: --%s does not apply: the probe judges only its own connections", name)
		}
	}
	if fs.NArg() == 0 && ps.addr == "" {
		return usagef("probe: no target given: HOST:PORT")
	}
	rounds, err := probe.ParseRounds(po.rounds)
	if err != nil {
		return usagef("probe: --rounds: %v", err)
	}
	if po.timeout <= 0 {
		return usagef("probe: --timeout must be positive")
	}
	keep := o.maxAttempts
	if keep == 0 {
		keep = -1
	}
	if err := checkOutputs(nil, o.outputs()); err != nil {
		return err
	}
	cfg := probe.Config{Targets: fs.Args(), Rounds: rounds, Timeout: po.timeout, MaxAttempts: keep,
		Capture: map[string]probe.CaptureMode{"auto": probe.CaptureAuto, "yes": probe.CaptureRequired, "no": probe.CaptureOff}[po.capture.value]}
	cfg.NewEvidence = func(linkType uint16, snaplen int) (*engine.Evidence, error) {
		return o.newEvidence(linkType, snaplen)
	}
	if ps.addr != "" {
		if err := ps.validate(cfg.Targets, o.evidence); err != nil {
			return err
		}
		return ps.serve(append([]string{"probe"}, args...), cfg, st)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := probe.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	r := res.Report(toolName)
	if o.evidence != "" && res.Method != probe.MethodCapture {
		r.Warnings = append(r.Warnings, "--evidence "+o.evidence+" was not written: the probe captured no packets")
	}
	printWarnings(st.stderr, r)
	err = o.finish(r, unprobed(r, res), st)
	return probeFailures(res.Failed, err, st)
}

// probeFailures names on stderr, one line each, the targets the report
// leaves out; the last one is the error, as a target that could not be
// probed makes the exit status 2 whatever the others' verdicts.
func probeFailures(failed []error, err error, st streams) error {
	if len(failed) == 0 {
		return err
	}
	for _, f := range failed[:len(failed)-1] {
		fmt.Fprintf(st.stderr, "tfopcap: probe: %v\n", f)
	}
	return fmt.Errorf("probe: %w", failed[len(failed)-1])
}

// unprobed names the targets the report holds no verdict for (no round
// could connect): --fail-on cannot pass then.
func unprobed(r *report.Report, res *probe.Result) []string {
	var gate []string
	for _, t := range res.Targets {
		if !slices.ContainsFunc(r.Servers, func(s report.ServerReport) bool { return s.Server == t.Server.String() }) {
			gate = append(gate, t.Target+": no round of the probe was judged")
		}
	}
	return gate
}
