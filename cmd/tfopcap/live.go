package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/engine"
	"github.com/tfopcap/tfopcap/report"
)

const liveDescription = `Captures on a network interface (or "any"; -i also takes the number -D
prints, as tcpdump does) and judges TCP Fast Open as analyze does, from
the SYNs, SYN-ACKs and RSTs only: a kernel filter keeps everything else
out. Stops on Ctrl-C (SIGINT), SIGTERM, --duration or --count and prints
the same report as analyze, with the kernel's packet and drop counters. A
second Ctrl-C stops at once.

On Linux it reads the kernel's packet ring directly (AF_PACKET, TPACKET_V3,
no libpcap needed). -f needs libpcap's compiler, and libpcap's capture for
filters naming vlan, mpls, pppoe, geneve or vxlan and on "any": auto (the
default --capture-backend) picks that, afpacket or pcap insist.

While it runs, a status line on a terminal's stderr shows the attempts
judged so far; --interval prints one-line summaries instead (for logs).
--attempts streams each attempt as it is judged (to stdout with --format
text, where the final report then leaves the list out; to stderr with json
and markdown, which keep stdout for the report). -f is ANDed with the kernel
filter. Attempts without a reply are judged unanswered after
--reply-timeout, and those still waiting when the capture stops are judged
at once, as at the end of a file.
--output, --plot and --junit write their files when the capture stops.

--metrics-addr serves Prometheus metrics at /metrics while the capture
runs (attempts by server and outcome, each server's verdict over the last
--metrics-window, findings, capture drops; docs/metrics.md); the report
still comes at the end. The endpoint is served by tfopcap-metrics, the
build with Prometheus's client library, which tfopcap runs in its place
(same process, arguments and exit status): install both in one
directory.

Capturing needs CAP_NET_RAW (root, or setcap cap_net_raw=eip
on the binary). Exit status: 0 done, 1 a server's verdict matched
--fail-on, 2 usage error, the interface could not be opened, or --fail-on
with nothing to judge (a --server that matched no packet, or no packet).`

// liveOptions are live's own flags.
type liveOptions struct {
	iface        string
	list         bool
	write        string
	snaplen      int
	bufferSize   sizeFlag
	noPromisc    bool
	replyTimeout time.Duration
	duration     time.Duration
	count        int
	interval     time.Duration
	backend      *enumFlag
}

func (o *liveOptions) register(fs *pflag.FlagSet) {
	fs.StringVarP(&o.iface, "interface", "i", "", "capture on `IFACE`: a name, \"any\" for all, or the number -D prints")
	fs.BoolVarP(&o.list, "list-interfaces", "D", false, "list the interfaces one can capture on, and exit")
	fs.StringVarP(&o.write, "write", "w", "", "also save the captured packets to the pcap `FILE` (for analyze later)")
	fs.IntVarP(&o.snaplen, "snaplen", "s", capture.DefaultSnaplen, "keep `BYTES` of each packet (every header and option fits the default)")
	o.bufferSize = sizeFlag(capture.DefaultBufferSize)
	fs.VarP(&o.bufferSize, "buffer-size", "B", "kernel capture buffer in KiB as tcpdump's -B (4096 is 4MiB), or with a unit (16MiB): raise it when packets are dropped")
	fs.BoolVarP(&o.noPromisc, "no-promiscuous-mode", "p", false, "do not put the interface into promiscuous mode")
	fs.DurationVar(&o.replyTimeout, "reply-timeout", 5*time.Second, "judge an attempt unanswered after waiting `DURATION` for a reply")
	fs.DurationVar(&o.duration, "duration", 0, "stop after `DURATION` (e.g. 30s, 10m)")
	fs.IntVarP(&o.count, "count", "c", 0, "stop after `N` attempts are judged (the report holds exactly these)")
	fs.DurationVar(&o.interval, "interval", 0, "print a one-line summary every `DURATION` on stderr instead of the status line")
	o.backend = newEnum(capture.BackendAuto, capture.Backends...)
	fs.Var(o.backend, "capture-backend",
		"how to capture: afpacket (Linux's packet ring, no libpcap needed), pcap (libpcap), or auto (afpacket on Linux unless -f needs libpcap's capture)")
}

// sizeFlag is a buffer size. A bare number counts KiB, as tcpdump's -B
// does (-B 4096 is 4 MiB); a binary unit says otherwise: 512K, 4M, 4MiB,
// 1G, 65536B.
type sizeFlag int

func (s *sizeFlag) String() string { return formatSize(int(*s)) }
func (s *sizeFlag) Type() string   { return "SIZE" }
func (s *sizeFlag) Set(v string) error {
	num := strings.TrimSpace(v)
	mult := 1 << 10
	lower := strings.ToLower(num)
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1}} {
		if strings.HasSuffix(lower, u.suffix) {
			num, mult = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 || n > (1<<31-1)/mult {
		return fmt.Errorf("want a size in KiB as tcpdump's -B (4096 is 4MiB) or with a unit such as 512K, 16MiB or 65536B (up to 2GiB)")
	}
	*s = sizeFlag(n * mult)
	return nil
}

func formatSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return strconv.Itoa(n)
}

// liveCommand are live's flags: the report's, the capture's and the
// metrics endpoint's.
type liveCommand struct {
	reportOptions
	liveOptions
	metricsOptions
}

// flagSet returns live's flags, bound to c.
func (c *liveCommand) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("live", pflag.ContinueOnError)
	c.reportOptions.register(fs)
	c.liveOptions.register(fs)
	c.metricsOptions.register(fs)
	return fs
}

func runLive(args []string, st streams) error {
	var c liveCommand
	o, lo, mo := &c.reportOptions, &c.liveOptions, &c.metricsOptions
	fs := c.flagSet()
	if err := parseFlags(fs, args, st); err != nil {
		return err
	}
	o.applyVerbose()
	if fs.NArg() > 0 {
		expr := strings.Join(fs.Args(), " ")
		return usagef("live: unexpected argument %q: a filter expression goes in -f '%s'", expr, expr)
	}
	if lo.list {
		return listInterfaces(st)
	}
	switch {
	case lo.iface == "":
		return usagef("live: no interface given: -i IFACE (tfopcap live -D lists them)")
	case lo.count < 0:
		return usagef("live: --count must be positive")
	case lo.duration < 0 || lo.interval < 0:
		return usagef("live: --duration and --interval must be positive")
	case lo.replyTimeout <= 0:
		return usagef("live: --reply-timeout must be positive")
	case lo.snaplen < 64 || lo.snaplen > capture.MaxCaptureLength:
		return usagef("live: --snaplen must be between 64 and %d", capture.MaxCaptureLength)
	}
	if err := mo.validate(); err != nil {
		return err
	}
	servers, err := o.prepare()
	if err != nil {
		return err
	}
	iface, err := resolveInterface(lo.iface)
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}

	if err := checkOutputs(nil, append(o.outputs(), namedPath{"-w", lo.write})); err != nil {
		return err
	}
	mx, err := mo.start(append([]string{"live"}, args...), o.allServers, st.stderr)
	if err != nil {
		return err
	}
	defer mx.Close()

	l, err := capture.OpenLive(capture.LiveConfig{
		Interface:  iface,
		Snaplen:    lo.snaplen,
		BufferSize: int(lo.bufferSize),
		Promisc:    !lo.noPromisc,
		Filter:     o.filter,
		Backend:    lo.backend.String(),
	})
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	defer l.Close()
	var save saveFile
	if lo.write != "" {
		if save.f, err = createOutput("-w", lo.write); err != nil {
			return fmt.Errorf("live: %w", err)
		}
		defer save.Close()
		if err := l.SaveTo(save.f); err != nil {
			return fmt.Errorf("live: -w %s: %w", capture.DisplayName(lo.write), err)
		}
	}
	ev, err := o.newEvidence(l.LinkType(), l.Snaplen())
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	if err := o.createFiles(); err != nil {
		return fmt.Errorf("live: %w", err)
	}
	defer o.closeFiles()
	fmt.Fprintf(st.stderr, "tfopcap: listening on %s, link-type %s, snapshot length %d bytes, buffer %s, %s (SYN, SYN-ACK and RST only); Ctrl-C stops and reports\n",
		l.Name(), analyze.LinkTypeName(l.LinkType()), l.Snaplen(), formatSize(int(lo.bufferSize)), l.Backend())

	// Where --attempts lines go, and whether a status line is drawn.
	attemptsOut := st.stderr
	if o.format.value == "text" {
		attemptsOut = st.stdout
	}
	status := lo.interval == 0 && isTerminal(st.stderr)
	clearStatus := func() {
		if status {
			fmt.Fprint(st.stderr, "\r\033[K")
		}
	}

	coll := o.newCollector()
	// A server's change is news as it happens, whatever the format; it is
	// told on the next tick, once the tracker's batch is all judged.
	coll.OnChange(func(server netip.AddrPort, c *analyze.Change) {
		clearStatus()
		fmt.Fprintln(st.stderr, "tfopcap: change: "+report.ChangeLine(server, c))
	})
	cfg := engine.Config{Sink: coll, Servers: servers, Evidence: ev, ReplyTimeout: lo.replyTimeout,
		Duration: lo.duration, Count: lo.count}
	// A reader of the --attempts stream that goes away (| head -3) ends
	// the capture as Ctrl-C does: -w and --evidence files are completed.
	streamClosed := false
	if o.attempts {
		cfg.OnAttempt = func(a *analyze.Attempt) {
			if streamClosed {
				return
			}
			rep := report.NewAttemptReport(a)
			clearStatus()
			if _, err := fmt.Fprintln(attemptsOut, report.AttemptLine(&rep)); stdoutClosed(err) {
				streamClosed = true
				l.Stop()
			}
		}
	}
	cfg.OnAttempt = mx.onAttempt(cfg.OnAttempt)
	start := time.Now()
	nextSummary := start.Add(lo.interval)
	cfg.OnTick = func(now time.Time, s engine.Status) {
		coll.TellChanges()
		switch {
		case lo.interval > 0 && !now.Before(nextSummary):
			fmt.Fprintf(st.stderr, "%s %s\n", now.UTC().Format(time.RFC3339), statusLine(l, now.Sub(start), s))
			nextSummary = nextSummary.Add(lo.interval)
		case status:
			fmt.Fprintf(st.stderr, "\r\033[K%s", statusLine(l, now.Sub(start), s))
		}
		mx.tick(now, s, l, coll)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	cfg.Signals = sigs

	res, err := engine.Live(context.Background(), l, cfg)
	coll.TellChanges()
	clearStatus()
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	o.printDecodeCounts(st.stderr, res.Sources)
	src := res.Sources[0]
	stats := l.Stats()
	r := report.Build(toolName, []report.InputReport{inputReport(src)}, coll.Summary())
	r.Live = &report.LiveStats{Interface: l.Name(), Received: stats.Received, Dropped: stats.Dropped, IfDropped: stats.IfDropped}
	r.Warnings = append(r.Warnings, dropWarnings(stats)...)
	r.Warnings = append(r.Warnings, res.Warnings...)
	r.Warnings = append(r.Warnings, res.EvidenceWarnings...)
	gate := gateWarnings(r, servers)
	r.Warnings = append(r.Warnings, gate...)
	printWarnings(st.stderr, r)
	if o.attempts && o.format.value == "text" {
		o.attempts = false // streamed already
	}
	// A -w file that lost frames fails the run, after the report of what
	// was judged: one line naming the file.
	saveErr := save.Close()
	if errors.Is(src.Err, capture.ErrSaveFailed) {
		saveErr = src.Err
	}
	if err := o.finish(r, gate, st); err != nil || saveErr == nil {
		return err
	}
	return fmt.Errorf("live: -w %s: %v; the capture stopped there", capture.DisplayName(lo.write), capture.RootCause(saveErr))
}

// saveFile is the -w file; its zero value is none.
type saveFile struct {
	f      *os.File
	closed bool
}

// Close closes the file once; later calls (the deferred one) return nil.
func (s *saveFile) Close() error {
	if s.f == nil || s.closed {
		return nil
	}
	s.closed = true
	return s.f.Close()
}

// dropWarnings says what libpcap's drop counters mean for the report.
func dropWarnings(s capture.LiveStats) []string {
	var w []string
	if s.Dropped > 0 {
		w = append(w, fmt.Sprintf("the kernel dropped %d of %d packets (capture buffer full): attempts may be missing or misjudged; raise --buffer-size", s.Dropped, s.Received))
	}
	if s.IfDropped > 0 {
		w = append(w, fmt.Sprintf("the interface dropped %d packets before capture: attempts may be missing or misjudged", s.IfDropped))
	}
	return w
}

// resolveInterface is the interface -i names: a number that no interface
// is called is the position in the list -D prints, as in tcpdump.
func resolveInterface(name string) (string, error) {
	n, err := strconv.Atoi(name)
	if err != nil || n < 1 {
		return name, nil
	}
	ifs, err := capture.Interfaces()
	if err != nil {
		return "", err
	}
	if slices.ContainsFunc(ifs, func(ifc capture.Interface) bool { return ifc.Name == name }) {
		return name, nil
	}
	if n > len(ifs) {
		return "", fmt.Errorf("-i %d: there are %d interfaces (tfopcap live -D lists them)", n, len(ifs))
	}
	return ifs[n-1].Name, nil
}

// listInterfaces prints what -D shows: one interface a line, numbered as
// tcpdump -D numbers them.
func listInterfaces(st streams) error {
	ifs, err := capture.Interfaces()
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	for i, ifc := range ifs {
		state := "Down"
		if ifc.Up {
			state = "Up"
			if ifc.Running {
				state += ", Running"
			}
		}
		if ifc.Loopback {
			state += ", Loopback"
		}
		fmt.Fprintf(st.stdout, "%d.%s [%s]", i+1, ifc.Name, state)
		for _, a := range ifc.Addrs {
			fmt.Fprintf(st.stdout, " %s", a)
		}
		if ifc.Description != "" {
			fmt.Fprintf(st.stdout, " (%s)", ifc.Description)
		}
		fmt.Fprintln(st.stdout)
	}
	return nil
}

// statusLine is the live status: "live eth0 1m2s: 12 attempts (...), 3
// open, 400 packets, 0 dropped".
func statusLine(l *capture.Live, elapsed time.Duration, s engine.Status) string {
	ls := l.Stats()
	return fmt.Sprintf("live %s %s: %s, %d open, %d packets, %d dropped",
		l.Name(), elapsed.Truncate(time.Second), s.Summary(), s.Open, ls.Captured, ls.Dropped+ls.IfDropped)
}
