package main

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
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
}

func (o *reportOptions) register(fs *pflag.FlagSet) {
	o.format = newEnum("text", "text", "json", "markdown")
	fs.Var(o.format, "format", "report format: text, json or markdown")
	fs.BoolVar(&o.attempts, "attempts", false, "list every attempt (text and markdown; json always does)")
	fs.StringArrayVar(&o.servers, "server", nil, "only the server at `ADDR`: IP, IP:PORT or [IPv6]:PORT (repeatable)")
	fs.StringVarP(&o.filter, "filter", "f", "", "apply the tcpdump filter `EXPR` to every frame first")
	fs.Var(&o.failOn, "fail-on", "exit 1 when a server's verdict is one of these (e.g. omits,mixed)")
	fs.IntVar(&o.maxAttempts, "max-attempts", analyze.DefaultMaxAttempts, "keep the details of at most `N` attempts for the report, 0 none (counts stay complete)")
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
// attempts in detail: 0 keeps none (NewCollector's 0 is its default).
func (o *reportOptions) newCollector() *analyze.Collector {
	if o.maxAttempts == 0 {
		return analyze.NewCollector(-1)
	}
	return analyze.NewCollector(o.maxAttempts)
}

// renderOptions are what the renderers need of the flags.
func (o *reportOptions) renderOptions() analyze.RenderOptions {
	return analyze.RenderOptions{Attempts: o.attempts}
}

// gateWarnings says what makes a report say nothing of the servers asked
// about: a --server that matched no packet (a typo, the wrong port), or no
// packet at all (the wrong interface, a capture that reads as empty).
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

	readers := make([]*capture.FileReader, 0, len(files))
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	for _, name := range files {
		var r *capture.FileReader
		var err error
		if name == "-" {
			r, err = capture.NewFileReader("-", st.stdin)
		} else {
			r, err = capture.Open(name)
		}
		if err != nil {
			return err
		}
		readers = append(readers, r)
	}

	// Outputs are created before anything is read, so that one that cannot
	// be written fails at once.
	ev, err := o.newEvidence(evidenceLinkType(readers), 0)
	if err != nil {
		return err
	}

	stages := make([]*stage, len(readers))
	for i, r := range readers {
		stages[i] = &stage{input: i, src: r, servers: servers, evidence: ev != nil, evidenceDone: ev.doneServers(), out: make(chan batch, stageQueue(len(readers)))}
		if o.filter != "" {
			stages[i].bpf = capture.NewFilter(o.filter)
		}
		go stages[i].run()
	}
	coll := o.newCollector()
	if ev != nil {
		coll.OnAttempt = ev.finalised
	}
	tracker := analyze.NewTracker(coll, 0)
	var prog *progress
	if !*quiet {
		prog = startProgress(st.stderr, readers)
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

	inputs := make([]analyze.InputReport, len(readers))
	for i, r := range readers {
		in, err := inputReport(r.Info(), &stages[i].stats, m.errs[i])
		if err != nil {
			return err
		}
		inputs[i] = in
	}
	r := coll.Report(toolName, inputs)
	r.Warnings = append(r.Warnings, earlyWarnings(tracker, analyze.DefaultReplyTimeout)...)
	r.Warnings = append(r.Warnings, evWarnings...)
	gate := gateWarnings(r, servers)
	r.Warnings = append(r.Warnings, gate...)
	for _, w := range gate {
		fmt.Fprintf(st.stderr, "tfopcap: warning: %s\n", w)
	}
	return o.finish(r, gate, st)
}

// evidenceLinkType is the link type of a pcap evidence file for these
// inputs: when every input is a pcap file and all share one link type.
// Otherwise (a pcapng input may describe new interfaces at any point) it
// is 0: write pcapng.
func evidenceLinkType(readers []*capture.FileReader) uint16 {
	var lt uint16
	for _, r := range readers {
		info := r.Info()
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

// earlyWarnings says when the tracker judged attempts unanswered before their
// reply timeout because too many were open at once.
func earlyWarnings(t *analyze.Tracker, timeout time.Duration) []string {
	n := t.Early()
	if n == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%d attempt(s) were judged unanswered before the %v reply timeout: "+
		"more than %d attempts were open at once (a SYN flood or a scan?), so a late reply may have been missed",
		n, timeout, analyze.DefaultMaxOpen)}
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
