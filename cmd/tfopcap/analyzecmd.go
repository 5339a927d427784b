package main

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
)

const analyzeUsage = `Usage: tfopcap analyze [flags] FILE...

Reads capture files (pcap, pcapng, either gzip-compressed; - is standard
input) as one capture, merged by timestamp, and prints a TFO verdict per
server. Exit status: 0 analysed, 1 a server's verdict matched --fail-on,
2 usage error, unreadable input, or --fail-on with nothing to judge (a
--server that matched no packet, or no packet at all).

Flags:
`

// reportOptions are the flags analyze and live share.
type reportOptions struct {
	format      *enumFlag
	attempts    bool
	servers     []string
	filter      string
	failOn      verdictsFlag
	maxAttempts int
	evidence    string
	evOutcomes  outcomesFlag
	evidenceMax int
	maxServers  int
	allServers  bool
}

func (o *reportOptions) register(fs *pflag.FlagSet) {
	o.format = newEnum("text", "text", "json", "markdown")
	fs.Var(o.format, "format", "report format: text, json or markdown")
	fs.BoolVar(&o.attempts, "attempts", false, "list every attempt (text and markdown; json always does)")
	fs.StringArrayVar(&o.servers, "server", nil, "only the server at `ADDR`: IP, IP:PORT or [IPv6]:PORT (repeatable)")
	fs.StringVarP(&o.filter, "filter", "f", "", "apply the tcpdump filter `EXPR` to every frame first")
	fs.Var(&o.failOn, "fail-on", "exit 1 when a server's verdict is one of these (e.g. omits,mixed)")
	fs.IntVar(&o.maxAttempts, "max-attempts", analyze.DefaultMaxAttempts, "keep the details of at most `N` attempts for the report, 0 none (counts stay complete)")
	fs.IntVar(&o.maxServers, "max-servers", analyze.DefaultMaxServers, "list at most `N` servers; the rest are summed in one row named \"other\"")
	fs.BoolVar(&o.allServers, "all-servers", false, "list servers without any TFO attempt too (otherwise counted, not listed)")
	fs.StringVar(&o.evidence, "evidence", "", "write the packets of attempts with --evidence-outcomes to this pcap `FILE`")
	o.evOutcomes.set = []analyze.Outcome{analyze.Omitted, analyze.Rejected}
	fs.Var(&o.evOutcomes, "evidence-outcomes", "outcomes whose packets --evidence keeps")
	fs.IntVar(&o.evidenceMax, "evidence-max", DefaultEvidenceMax, "--evidence keeps at most `N` attempts per server (0: all)")
}

// newEvidence creates the evidence file --evidence asks for (nil without
// it): a pcap of linkType, or pcapng when linkType is 0.
func (o *reportOptions) newEvidence(linkType uint16, snaplen int) (*evidence, error) {
	if o.evidence == "" {
		return nil, nil
	}
	return newEvidence(o.evidence, o.evOutcomes.set, o.evidenceMax, linkType, snaplen)
}

// outputs are the files the report options write.
func (o *reportOptions) outputs() []namedPath {
	return []namedPath{{"--evidence", o.evidence}}
}

// prepare checks the flags that need more than parsing, before any input is
// opened: it returns the --server filter and catches a -f syntax error.
func (o *reportOptions) prepare() (*segmentFilter, error) {
	if o.evidenceMax < 0 {
		return nil, usagef("--evidence-max must be 0 (all) or more")
	}
	if o.maxAttempts < 0 {
		return nil, usagef("--max-attempts must be 0 (none) or more")
	}
	if o.maxServers < 1 {
		return nil, usagef("--max-servers must be at least 1")
	}
	servers, err := o.serverFilter()
	if err != nil {
		return nil, err
	}
	if o.filter != "" {
		if err := capture.NewFilter(o.filter).Compile(analyze.LinkEthernet); err != nil {
			return nil, &usageError{err.Error()}
		}
	}
	return servers, nil
}

// serverFilter parses --server values.
func (o *reportOptions) serverFilter() (*segmentFilter, error) {
	f := &segmentFilter{given: o.servers, hits: make([]atomic.Int64, len(o.servers))}
	for i, s := range o.servers {
		a, ap, err := parseServer(s)
		if err != nil {
			return nil, &usageError{err.Error()}
		}
		if a.IsValid() {
			f.addrs, f.addrIdx = append(f.addrs, a), append(f.addrIdx, i)
		} else {
			f.ports, f.portIdx = append(f.ports, ap), append(f.portIdx, i)
		}
	}
	return f, nil
}

// newCollector returns the collector of the report, keeping --max-attempts
// attempts in detail (0 keeps none: NewCollector's 0 is its default) and
// listing at most --max-servers servers.
func (o *reportOptions) newCollector() *analyze.Collector {
	keep := o.maxAttempts
	if keep == 0 {
		keep = -1
	}
	c := analyze.NewCollector(keep)
	c.LimitServers(o.maxServers, o.allServers)
	return c
}

// renderOptions are what the renderers need of the flags.
func (o *reportOptions) renderOptions() analyze.RenderOptions {
	return analyze.RenderOptions{Attempts: o.attempts}
}

// gateWarnings says what makes a report say nothing of the servers asked
// about: a --server that matched no packet (a typo, the wrong port), no
// packet at all (the wrong interface, a capture that reads as empty), or
// no handshake among them (a link type tfopcap cannot decode).
// Under --fail-on these fail the run: a gate that cannot match must not
// pass.
func gateWarnings(r *analyze.Report, servers *segmentFilter) []string {
	var w []string
	packets := 0
	for _, in := range r.Inputs {
		packets += in.Packets
	}
	if packets == 0 {
		return []string{"no packets were read: the report holds no verdict"}
	}
	for _, s := range servers.unmatched() {
		w = append(w, fmt.Sprintf("--server %s matched no SYN, SYN-ACK or RST", s))
	}
	if len(w) == 0 && r.Totals.Attempts == 0 && len(r.Servers) == 0 && (r.UnlistedServers == nil || r.UnlistedServers.Servers == 0) {
		w = append(w, "no SYN or SYN-ACK was decoded: the report holds no verdict")
	}
	return w
}

// finish renders the report and applies --fail-on. gate are the
// gateWarnings, already in the report and on stderr.
func (o *reportOptions) finish(r *analyze.Report, gate []string, st streams) error {
	if err := analyze.Render(st.stdout, r, o.format.value, o.renderOptions()); err != nil && !stdoutClosed(err) {
		return fmt.Errorf("write report: %w", err)
	}
	if len(o.failOn.set) > 0 && len(gate) > 0 {
		return fmt.Errorf("--fail-on %s cannot pass: %s", o.failOn.String(), gate[0])
	}
	var matched []string
	for _, s := range r.Servers {
		if slices.Contains(o.failOn.set, s.Verdict) {
			matched = append(matched, s.Server+" "+s.Verdict.String())
		}
	}
	// Unlisted servers (no TFO attempt) are inconclusive: a gate on that
	// verdict must still see them.
	if u := r.UnlistedServers; u != nil && u.Servers > 0 && slices.Contains(o.failOn.set, analyze.Inconclusive) {
		matched = append(matched, fmt.Sprintf("%d unlisted server(s) inconclusive", u.Servers))
	}
	if len(matched) > 0 {
		fmt.Fprintf(st.stderr, "tfopcap: --fail-on %s matched: %v\n", o.failOn.String(), matched)
		return errMatched
	}
	return nil
}

func runAnalyze(args []string, st streams) error {
	fs := pflag.NewFlagSet("analyze", pflag.ContinueOnError)
	var o reportOptions
	o.register(fs)
	quiet := fs.BoolP("quiet", "q", false, "no progress bar (drawn on standard error only when it is a terminal)")
	if err := parseFlags(fs, args, st, analyzeUsage); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return usagef("analyze: no capture file given (use - for standard input)")
	}
	if stdins := len(slices.DeleteFunc(slices.Clone(files), func(f string) bool { return f != "-" })); stdins > 1 {
		return usagef("analyze: standard input (-) can be read only once")
	}
	servers, err := o.prepare()
	if err != nil {
		return err
	}
	given := make([]namedPath, len(files))
	for i, f := range files {
		given[i] = namedPath{"input", f}
	}
	if err := checkOutputs(given, o.outputs()); err != nil {
		return err
	}

	inputs := make([]*fileInput, 0, len(files))
	for _, name := range files {
		in, err := probeInput(name, st.stdin)
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
	}

	// Outputs are created once every input is known to be a capture, and
	// before any is read, so that one that cannot be written fails at once.
	ev, err := o.newEvidence(evidenceLinkType(inputs), 0)
	if err != nil {
		return err
	}

	stages := make([]*stage, len(inputs))
	for i, in := range inputs {
		stages[i] = &stage{input: i, in: in, first: in.first, servers: servers, evidence: ev != nil, evidenceDone: ev.doneServers(), out: make(chan batch, stageQueue(len(inputs)))}
		if o.filter != "" {
			stages[i].bpf = capture.NewFilter(o.filter)
		}
	}
	coll := o.newCollector()
	if ev != nil {
		coll.OnAttempt = ev.finalised
	}
	tracker := analyze.NewTracker(coll, 0)
	var prog *progress
	if !*quiet {
		prog = startProgress(st.stderr, progressSources(inputs))
	}
	m := newMerger(stages)
	for e := m.next(); e != nil; e = m.next() {
		id := tracker.Add(e.ref, &e.seg)
		if ev != nil {
			ev.add(id, serverSide(&e.seg), e.ref, &e.raw)
			if err := ev.failed(); err != nil {
				prog.Stop()
				ev.close()
				return err
			}
		}
	}
	prog.Stop()
	if m.err != nil {
		return m.err
	}
	tracker.Flush()
	// The tracker's tables are garbage now: collect them before the report
	// is built, so that it reuses their memory (peak RSS 34 -> 30 MB on
	// the handshake benchmark, no measurable time).
	runtime.GC()
	var evWarnings []string
	if ev != nil {
		if evWarnings, err = ev.close(); err != nil {
			return err
		}
	}

	reports := make([]analyze.InputReport, len(inputs))
	for i, in := range inputs {
		rep, err := inputReport(in.info, &stages[i].stats, m.errs[i])
		if err != nil {
			return err
		}
		reports[i] = rep
	}
	r := coll.Report(toolName, reports)
	r.Warnings = append(r.Warnings, trackerWarnings(tracker, analyze.DefaultReplyTimeout, fileWhere(inputs))...)
	r.Warnings = append(r.Warnings, evWarnings...)
	gate := gateWarnings(r, servers)
	r.Warnings = append(r.Warnings, gate...)
	for i := range inputs {
		for _, w := range stages[i].stats.clock.warnings() {
			fmt.Fprintf(st.stderr, "tfopcap: warning: %s: %s\n", capture.DisplayName(inputs[i].name), w)
		}
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(st.stderr, "tfopcap: warning: %s\n", w)
	}
	return o.finish(r, gate, st)
}

// evidenceLinkType is the link type of a pcap evidence file for these
// inputs: when every input is a pcap file and all share one link type.
// Otherwise (a pcapng input may describe new interfaces at any point) it
// is 0: write pcapng.
func evidenceLinkType(inputs []*fileInput) uint16 {
	var lt uint16
	for _, in := range inputs {
		info := in.header
		if !strings.HasPrefix(info.Format, "pcap") || info.Format == "pcapng" || len(info.LinkTypes) != 1 {
			return 0
		}
		if lt != 0 && info.LinkTypes[0] != lt {
			return 0
		}
		lt = info.LinkTypes[0]
	}
	return lt
}

// trackerWarnings says what the tracker could not judge as it should: attempts
// judged unanswered before their reply timeout (too many open at once, or
// too many on one flow) and replies that came after their attempt had been
// judged. where names a packet for the reader ("x.pcap frame 12").
func trackerWarnings(t *analyze.Tracker, timeout time.Duration, where func(analyze.PacketRef) string) []string {
	var w []string
	if n := t.Early(); n > 0 {
		w = append(w, fmt.Sprintf("%d attempt(s) were judged unanswered before the %v reply timeout: "+
			"more than %d attempts were open at once (a SYN flood or a scan?), so a late reply may have been missed",
			n, timeout, analyze.DefaultMaxOpen))
	}
	if f := t.EarlyPerFlow(); f.N > 0 {
		w = append(w, fmt.Sprintf("%d attempt(s) were judged unanswered before the %v reply timeout because "+
			"newer attempts on the same ports (new ISNs: a scanner reusing a port?) were open, and a reply to one of them "+
			"after that counts as a SYN-ACK without SYN; first: the SYN at %s",
			f.N, timeout, where(f.First)))
	}
	if o := t.ClockOutliers(); o.N > 0 {
		w = append(w, fmt.Sprintf("%d packet(s) stamped more than %v ahead of the packets after them did not move "+
			"the clock that times attempts out (a damaged timestamp?); first: %s",
			o.N, time.Duration(analyze.MaxClockStep), where(o.First)))
	}
	if l := t.LateReplies(); l.N > 0 {
		w = append(w, fmt.Sprintf("%d reply(ies) came after their attempt had been judged unanswered, so the "+
			"attempt stays unanswered and the reply is not counted as a SYN-ACK without SYN; first: %s",
			l.N, where(l.First)))
	}
	return w
}

// fileWhere names a packet of analyze's inputs by file name and frame.
func fileWhere(inputs []*fileInput) func(analyze.PacketRef) string {
	return func(ref analyze.PacketRef) string {
		name := "input " + strconv.Itoa(ref.Input)
		if ref.Input >= 0 && ref.Input < len(inputs) {
			name = capture.DisplayName(inputs[ref.Input].name)
		}
		return fmt.Sprintf("%s frame %d", name, ref.Frame)
	}
}

// inputReport describes one file for the report. A file that ends early or
// turns corrupt still reports what it held, with a warning; only a filter
// failure is fatal.
func inputReport(info capture.Info, stats *sourceStats, readErr error) (analyze.InputReport, error) {
	in := analyze.InputReport{
		Name:      info.Name,
		Format:    info.Format,
		LinkTypes: []string{},
		Packets:   info.Packets,
		Warnings:  []string{},
	}
	if info.Compressed {
		in.Format += "+gzip"
	}
	for _, lt := range info.LinkTypes {
		in.LinkTypes = append(in.LinkTypes, analyze.LinkTypeName(lt))
	}
	if info.Packets > 0 {
		in.First, in.Last = analyze.FormatTime(info.First), analyze.FormatTime(info.Last)
	}
	in.Warnings = append(in.Warnings, info.Warnings...)
	if readErr != nil {
		var fe *filterError
		if errors.As(readErr, &fe) {
			return in, fmt.Errorf("%s: %w", capture.DisplayName(info.Name), fe.err)
		}
		in.Warnings = append(in.Warnings, readErr.Error()+"; the report covers the packets before it")
	}
	in.Warnings = append(in.Warnings, stats.warnings()...)
	return in, nil
}
