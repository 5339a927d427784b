package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/engine"
	"github.com/tfopcap/tfopcap/report"
)

const analyzeDescription = `Reads capture files (pcap, pcapng, either gzip-compressed; - is standard
input) as one capture, merged by timestamp, and prints a TFO verdict per
server. Files are named as operands or with -r, as tcpdump reads them.
-f filters with a tcpdump expression; a filter written after the files
without -f is refused, unless a file of that name exists. Exit status: 0
analysed, 1 a server's verdict matched --fail-on, 2 usage error,
unreadable input, or --fail-on with nothing to judge (a --server that
matched no packet, or no packet at all).

The report goes to standard output in --format. --output FORMAT=FILE
(repeatable), --plot and --junit write more files from the same pass, so
that a pipeline reads the capture once.`

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
	verbose     bool
	noResolve   bool
	noListeners bool
	// files, plots and junit name the files written besides stdout
	// (reportfiles.go); toWrite lists them all once prepared.
	files   outputsFlag
	plots   []string
	junit   string
	toWrite []reportFile
}

func (o *reportOptions) register(fs *pflag.FlagSet) {
	o.format = newEnum("text", reportFormats...)
	fs.Var(o.format, "format", "report format on standard output: text, json, markdown or html")
	fs.BoolVar(&o.attempts, "attempts", false, "list every attempt, with its time and SYN-to-reply time (text and markdown; json always does)")
	fs.StringArrayVar(&o.servers, "server", nil, "only the server at `ADDR`: IP, IP:PORT or [IPv6]:PORT (repeatable)")
	fs.StringVarP(&o.filter, "filter", "f", "", "apply the tcpdump filter `EXPR` to every frame first")
	fs.Var(&o.failOn, "fail-on", "exit 1 when a server's verdict is one of these (e.g. omits,mixed)")
	fs.IntVar(&o.maxAttempts, "max-attempts", analyze.DefaultMaxAttempts, "keep the details of at most `N` attempts for the report, 0 none (counts stay complete)")
	fs.IntVar(&o.maxServers, "max-servers", analyze.DefaultMaxServers, "list at most `N` servers; the rest are summed in one row named \"other\"")
	fs.BoolVar(&o.allServers, "all-servers", false, "list servers without any TFO attempt too (otherwise counted, not listed)")
	fs.BoolVar(&o.noListeners, "no-listeners", false, "do not name the local listener (protocol, process) behind server addresses of this host")
	fs.StringVar(&o.evidence, "evidence", "", "write the packets of attempts with --evidence-outcomes to this pcap `FILE`")
	o.evOutcomes.set = []analyze.Outcome{analyze.Omitted, analyze.Rejected}
	fs.Var(&o.evOutcomes, "evidence-outcomes", "outcomes whose packets --evidence keeps")
	fs.IntVar(&o.evidenceMax, "evidence-max", engine.DefaultEvidenceMax, "--evidence keeps at most `N` attempts per server (0: all)")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "more detail: every attempt, as --attempts, and each input's frame counts by decode result on stderr")
	fs.BoolVarP(&o.noResolve, "numeric", "n", false, "accepted for tcpdump's -n: addresses are always shown as numbers")
	o.registerFiles(fs)
}

// applyVerbose makes -v imply --attempts.
func (o *reportOptions) applyVerbose() {
	if o.verbose {
		o.attempts = true
	}
}

// printDecodeCounts is -v's line per input on stderr: what its frames
// decoded to.
func (o *reportOptions) printDecodeCounts(w io.Writer, sources []engine.SourceResult) {
	if !o.verbose {
		return
	}
	for _, src := range sources {
		fmt.Fprintf(w, "tfopcap: %s: %s\n", src.Info.Name, src.Stats.DecodeCounts())
	}
}

// newEvidence creates the evidence file --evidence asks for (nil without
// it): a pcap of linkType, or pcapng when linkType is 0.
func (o *reportOptions) newEvidence(linkType uint16, snaplen int) (*engine.Evidence, error) {
	if o.evidence == "" {
		return nil, nil
	}
	f, err := createOutput("--evidence", o.evidence)
	if err != nil {
		return nil, err
	}
	return engine.NewEvidence(f, o.evidence, o.evOutcomes.set, o.evidenceMax, linkType, snaplen)
}

// outputs are the files the report options write.
func (o *reportOptions) outputs() []namedPath {
	return append([]namedPath{{"--evidence", o.evidence}}, o.filePaths()...)
}

// prepare checks the flags that need more than parsing, before any input is
// opened: it returns the --server filter and catches a -f syntax error.
func (o *reportOptions) prepare() (*engine.ServerFilter, error) {
	if o.evidenceMax < 0 {
		return nil, usagef("--evidence-max must be 0 (all) or more")
	}
	if o.maxAttempts < 0 {
		return nil, usagef("--max-attempts must be 0 (none) or more")
	}
	if o.maxServers < 1 {
		return nil, usagef("--max-servers must be at least 1")
	}
	files, err := o.reportFiles()
	if err != nil {
		return nil, err
	}
	o.toWrite = files
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
func (o *reportOptions) serverFilter() (*engine.ServerFilter, error) {
	f, err := engine.ParseServers(o.servers)
	if err != nil {
		return nil, &usageError{err.Error()}
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
func (o *reportOptions) renderOptions() report.RenderOptions {
	return report.RenderOptions{Attempts: o.attempts}
}

// gateWarnings says what makes a report say nothing of the servers asked
// about: a --server that matched no packet (a typo, the wrong port), no
// packet at all (the wrong interface, a capture that reads as empty), or
// no handshake among them (a link type tfopcap cannot decode).
// Under --fail-on these fail the run: a gate that cannot match must not
// pass.
func gateWarnings(r *report.Report, servers *engine.ServerFilter) []string {
	var w []string
	packets := 0
	for _, in := range r.Inputs {
		packets += in.Packets
	}
	if packets == 0 {
		return []string{"no packets were read: the report holds no verdict"}
	}
	for _, s := range servers.Unmatched() {
		w = append(w, fmt.Sprintf("--server %s matched no SYN, SYN-ACK or RST", s))
	}
	if len(w) == 0 && r.Totals.Attempts == 0 && len(r.Servers) == 0 && (r.UnlistedServers == nil || r.UnlistedServers.Servers == 0) {
		w = append(w, "no SYN or SYN-ACK was decoded: the report holds no verdict")
	}
	return w
}

// finish renders the report and applies --fail-on. gate are the
// gateWarnings, already in the report and on stderr.
func (o *reportOptions) finish(r *report.Report, gate []string, st streams) error {
	if !o.noListeners {
		annotateListeners(r)
	}
	if err := report.Render(st.stdout, r, o.format.value, o.renderOptions()); err != nil && !stdoutClosed(err) {
		o.closeFiles()
		return fmt.Errorf("write report: %w", err)
	}
	if err := o.writeFiles(r, gate); err != nil {
		return err
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
		fmt.Fprintf(st.stderr, "tfopcap: --fail-on %s matched: %s\n", o.failOn.String(), strings.Join(matched, ", "))
		return errMatched
	}
	return nil
}

// analyzeOptions are analyze's flags.
type analyzeOptions struct {
	reportOptions
	read  []string
	quiet bool
}

// flagSet returns analyze's flags, bound to o.
func (o *analyzeOptions) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("analyze", pflag.ContinueOnError)
	o.register(fs)
	fs.StringArrayVarP(&o.read, "read", "r", nil, "read the capture `FILE` (as tcpdump -r; repeatable, and operands may name more)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar (drawn on standard error only when it is a terminal)")
	return fs
}

func runAnalyze(args []string, st streams) error {
	var o analyzeOptions
	fs := o.flagSet()
	if err := parseFlags(fs, args, st); err != nil {
		return err
	}
	o.applyVerbose()
	files := append(slices.Clone(o.read), fs.Args()...)
	if len(files) == 0 {
		return usagef("analyze: no capture file given (use - for standard input)")
	}
	if stdins := len(slices.DeleteFunc(slices.Clone(files), func(f string) bool { return f != "-" })); stdins > 1 {
		return usagef("analyze: standard input (-) can be read only once")
	}
	if err := strayFilter(fs.Args()); err != nil {
		return err
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

	inputs := make([]*engine.FileInput, 0, len(files))
	for _, name := range files {
		in, err := engine.ProbeInput(name, st.stdin)
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
	}

	// Outputs are created once every input is known to be a capture, and
	// before any is read, so that one that cannot be written fails at once.
	ev, err := o.newEvidence(engine.EvidenceLinkType(inputs), 0)
	if err != nil {
		return err
	}
	if err := o.createFiles(); err != nil {
		return err
	}
	coll := o.newCollector()
	var prog *progress
	if !o.quiet {
		prog = startProgress(st.stderr, progressSources(inputs))
	}
	res, err := engine.Files(context.Background(), inputs, engine.Config{Sink: coll, Servers: servers, Filter: o.filter, Evidence: ev})
	prog.Stop()
	if err != nil {
		o.closeFiles()
		return err
	}
	o.printDecodeCounts(st.stderr, res.Sources)
	r := report.Build(toolName, inputReports(res.Sources), coll.Summary())
	r.Warnings = append(r.Warnings, res.Warnings...)
	r.Warnings = append(r.Warnings, res.EvidenceWarnings...)
	gate := gateWarnings(r, servers)
	r.Warnings = append(r.Warnings, gate...)
	printWarnings(st.stderr, r)
	return o.finish(r, gate, st)
}

// printWarnings writes every warning of the report to w (stderr) as well,
// the inputs' first, so that a person sees a cut capture or lost packets
// when the report itself goes to a pipe or a file.
func printWarnings(w io.Writer, r *report.Report) {
	for _, in := range r.Inputs {
		for _, warn := range in.Warnings {
			// A reader's error names its file already.
			if !strings.HasPrefix(warn, capture.DisplayName(in.Name)+": ") {
				warn = capture.DisplayName(in.Name) + ": " + warn
			}
			fmt.Fprintf(w, "tfopcap: warning: %s\n", warn)
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "tfopcap: warning: %s\n", warn)
	}
}

// inputReports describe the sources for the report.
func inputReports(sources []engine.SourceResult) []report.InputReport {
	reports := make([]report.InputReport, len(sources))
	for i, src := range sources {
		reports[i] = inputReport(src)
	}
	return reports
}

// inputReport describes one source for the report. A file that ends early
// or turns corrupt still reports what it held, with a warning.
func inputReport(src engine.SourceResult) report.InputReport {
	info := src.Info
	in := report.InputReport{
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
		in.First, in.Last = report.FormatTime(info.First), report.FormatTime(info.Last)
	}
	in.Warnings = append(in.Warnings, info.Warnings...)
	if src.Err != nil {
		in.Warnings = append(in.Warnings, src.Err.Error()+"; the report covers the packets before it")
	}
	in.Warnings = append(in.Warnings, src.Stats.Warnings()...)
	return in
}
