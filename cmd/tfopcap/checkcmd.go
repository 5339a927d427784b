package main

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/check"
)

const checkDescription = `Run on the server host: lists the TCP and MPTCP listeners of this network
namespace (all of them, or those on PORTs) with the processes holding them,
reads the kernel's TFO settings and counters, and asks each listener
whether it really does TFO with a self-probe: one SYN carrying a cookie
request and MP_CAPABLE, sent from a raw socket, whose SYN-ACK is read and
reset (the listener's application never sees a connection). Findings use
the IDs of analyze (docs/check.md).

Listing needs no privilege; the self-probe needs CAP_NET_RAW and naming
other users' processes needs root. Without them check still reports the
rest and says what it skipped. Exit status: 0 done, 1 a listener matched
--fail-on, 2 usage error, the listeners could not be listed, or --fail-on
with a PORT that no listener is on.`

// checkOptions are check's flags.
type checkOptions struct {
	format   *enumFlag
	failOn   checkFailFlag
	interval time.Duration
	timeout  time.Duration
	noProbe  bool
}

// flagSet returns check's flags, bound to o.
func (o *checkOptions) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	o.format = newEnum("text", "text", "json", "markdown")
	fs.Var(o.format, "format", "report format: text, json or markdown")
	fs.Var(&o.failOn, "fail-on", "exit 1 when a listener has one of these findings, or TFO state disabled or unknown")
	fs.DurationVar(&o.interval, "interval", time.Second, "watch the TFO counters for `DURATION` before probing (0: read once)")
	fs.DurationVar(&o.timeout, "probe-timeout", time.Second, "wait `DURATION` for each self-probe's SYN-ACK")
	fs.BoolVar(&o.noProbe, "no-probe", false, "send no SYN: judge from sock_diag and the kernel's settings only")
	return fs
}

func runCheck(args []string, st streams) error {
	var o checkOptions
	fs := o.flagSet()
	if err := parseFlags(fs, args, st); err != nil {
		return err
	}
	ports, err := parsePorts(fs.Args())
	if err != nil {
		return err
	}
	if o.interval < 0 || o.timeout <= 0 {
		return usagef("check: --interval must be 0 or more and --probe-timeout more than 0")
	}
	r, err := check.Run(check.Options{Tool: toolName, Ports: ports, Interval: o.interval, ProbeTimeout: o.timeout, NoProbe: o.noProbe})
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(st.stderr, "tfopcap: warning: %s\n", w)
	}
	if err := check.Render(st.stdout, r, o.format.value); err != nil && !stdoutClosed(err) {
		return fmt.Errorf("write report: %w", err)
	}
	// A gate that cannot match must not pass: a PORT with no listener
	// (a typo, a server that is down) fails --fail-on, as analyze's
	// --server that matched nothing does.
	if missing := portsWithout(r, ports); len(o.failOn.set) > 0 && len(missing) > 0 {
		return fmt.Errorf("--fail-on %s cannot pass: no TCP or MPTCP listener on port %d", o.failOn.String(), missing[0])
	}
	if matched := o.failOn.matches(r); len(matched) > 0 {
		fmt.Fprintf(st.stderr, "tfopcap: --fail-on %s matched: %s\n", o.failOn.String(), strings.Join(matched, ", "))
		return errMatched
	}
	return nil
}

func parsePorts(args []string) ([]uint16, error) {
	var ports []uint16
	for _, a := range args {
		p, err := strconv.ParseUint(a, 10, 16)
		if err != nil || p == 0 {
			return nil, usagef("check: %q is not a port (1-65535)", a)
		}
		ports = append(ports, uint16(p))
	}
	return ports, nil
}

// portsWithout lists the ports no listener of r is on.
func portsWithout(r *check.Report, ports []uint16) []uint16 {
	var missing []uint16
	for _, p := range ports {
		if !slices.ContainsFunc(r.Listeners, func(l check.ListenerReport) bool {
			ap, err := netip.ParseAddrPort(l.Address)
			return err == nil && ap.Port() == p
		}) {
			missing = append(missing, p)
		}
	}
	return missing
}

// checkFailFlag is check's --fail-on: finding IDs and TFO states.
type checkFailFlag struct{ set []string }

func (f *checkFailFlag) String() string { return strings.Join(f.set, ",") }
func (f *checkFailFlag) Type() string   { return "ID|STATE[,...]" }

func (f *checkFailFlag) Set(s string) error {
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		known := name == check.TFODisabled || name == check.TFOUnknown ||
			analyze.FindingID(name).Rank() < analyze.FindingID("").Rank()
		if !known {
			return fmt.Errorf("unknown finding ID or TFO state %q (e.g. mptcp-tfo-unsupported, listener-no-tfo, disabled)", name)
		}
		if !slices.Contains(f.set, name) {
			f.set = append(f.set, name)
		}
	}
	return nil
}

// matches lists the listeners the set matches, as "ADDR what".
func (f *checkFailFlag) matches(r *check.Report) []string {
	var out []string
	for _, l := range r.Listeners {
		if slices.Contains(f.set, l.TFO) {
			out = append(out, l.Address+" "+l.TFO)
		}
		for _, x := range l.Findings {
			if slices.Contains(f.set, string(x.ID)) {
				out = append(out, l.Address+" "+string(x.ID))
			}
		}
	}
	return out
}
