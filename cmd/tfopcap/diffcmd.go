package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/report"
)

const diffDescription = `Compares JSON reports (tfopcap analyze --format json; gzip-compressed is
fine, - is standard input) server by server, matching servers by
address. A server regressed when its verdict went from grants to omits or
mixed, or from mixed to omits; the reverse is an improvement. One that
granted and is now inconclusive is undecided; one in the old report only
vanished. Moves to or from inconclusive otherwise, changed outcome
counts, and new servers are shown but are neither. --fail-on says which
changes fail (default: regressed).

With more than two reports, in order (releases while bisecting), each
server is followed through all of them, and its first bad report is the
first whose change from the first report fails; the diff of the first
and the last is shown too.

Exit status: 0 nothing failed, 1 a server's change matched --fail-on (or
has a first bad report), 2 usage error or unreadable report.`

// errDiffFailed reports that a server's change matched --fail-on; its
// message is already printed. It wraps errMatched, so it exits 1 like
// analyze --fail-on.
var errDiffFailed = fmt.Errorf("a server's change matched --fail-on: %w", errMatched)

// diffOptions are diff's flags.
type diffOptions struct {
	format *enumFlag
	failOn changesFlag
}

// flagSet returns diff's flags, bound to o.
func (o *diffOptions) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("diff", pflag.ContinueOnError)
	o.format = newEnum("text", "text", "json", "markdown")
	fs.Var(o.format, "format", "diff format: text, json or markdown")
	o.failOn = changesFlag{set: []report.Change{report.Regressed}}
	fs.Var(&o.failOn, "fail-on", "exit 1 when a server's change is one of these: regressed, undecided, vanished, changed, new")
	return fs
}

func runDiff(args []string, st streams) error {
	var o diffOptions
	fs := o.flagSet()
	if err := parseFlags(fs, args, st); err != nil {
		return err
	}
	format := o.format
	files := fs.Args()
	if len(files) < 2 {
		return usagef("diff: want at least two reports, OLD.json and NEW.json; got %d", len(files))
	}
	if i := slices.Index(files, "-"); i >= 0 && slices.Contains(files[i+1:], "-") {
		return usagef("diff: standard input (-) can be read only once")
	}
	reports := make([]*report.Report, len(files))
	for i, name := range files {
		r, err := readReportFile(name, st.stdin)
		if err != nil {
			return err
		}
		reports[i] = r
	}

	last := len(files) - 1
	d := report.Diff(reports[0], reports[last])
	d.Tool = toolName
	d.Old.Name, d.New.Name = displayName(files[0]), displayName(files[last])
	if len(reports) > 2 {
		d.Series = report.Series(reports, o.failOn.has)
		for i := range d.Series.Reports {
			d.Series.Reports[i].Name = displayName(files[i])
		}
	}
	if err := report.RenderDiff(st.stdout, d, format.value); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	failed := map[report.Change][]string{}
	if d.Series != nil {
		for _, ss := range d.Series.Bad() {
			failed[ss.Change] = append(failed[ss.Change], fmt.Sprintf("%s from report %d (%s)", ss.Server, *ss.FirstBad, displayName(files[*ss.FirstBad])))
		}
	} else {
		for _, sd := range d.Failing(o.failOn.has) {
			failed[sd.Change] = append(failed[sd.Change], sd.Server+" "+verdictMove(&sd))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	for _, c := range o.failOn.set {
		if list := failed[c]; len(list) > 0 {
			label := c.String()
			if c == report.Regressed {
				label = "regression"
			}
			fmt.Fprintf(st.stderr, "tfopcap: %s: %s\n", label, strings.Join(list, ", "))
		}
	}
	return errDiffFailed
}

// verdictMove is "grants -> omits", with "-" for a side without the server.
func verdictMove(sd *report.ServerDiff) string {
	old, new := "-", "-"
	if sd.Old != nil {
		old = sd.Old.Verdict.String()
	}
	if sd.New != nil {
		new = sd.New.Verdict.String()
	}
	return old + " -> " + new
}

// changesFlag is diff's --fail-on: a comma-separated set of changes.
type changesFlag struct {
	set  []report.Change
	seen bool // set by the user: the first Set replaces the default
}

func (c *changesFlag) String() string {
	names := make([]string, len(c.set))
	for i, x := range c.set {
		names[i] = x.String()
	}
	return strings.Join(names, ",")
}

func (c *changesFlag) Type() string { return "CHANGE[,CHANGE]" }

func (c *changesFlag) Set(s string) error {
	if !c.seen {
		c.set, c.seen = nil, true
	}
	for _, name := range strings.Split(s, ",") {
		x, ok := report.ParseChange(strings.TrimSpace(name))
		if !ok || x == report.Unchanged || x == report.Improved {
			return fmt.Errorf("unknown change %q (want regressed, undecided, vanished, changed or new)", name)
		}
		if !slices.Contains(c.set, x) {
			c.set = append(c.set, x)
		}
	}
	return nil
}

func (c *changesFlag) has(x report.Change) bool { return slices.Contains(c.set, x) }

// displayName is how a report's source is named in output and errors: as
// analyze names its inputs ("-" for standard input).
func displayName(name string) string { return capture.DisplayName(name) }

// openReport opens a report file, with the errors analyze gives for a
// capture file ("x.json: no such file", "x.json: is a directory").
func openReport(name string) (*os.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, capture.OpenError(name, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory", displayName(name))
	}
	return f, nil
}

// readReportFile reads the report in file name (- is stdin), gunzipping it
// when it is gzip-compressed. Errors name the file.
func readReportFile(name string, stdin io.Reader) (*report.Report, error) {
	in := stdin
	if name != "-" {
		f, err := openReport(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	br := bufio.NewReader(in)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", displayName(name), err)
		}
		defer zr.Close()
		r = zr
	}
	rep, err := report.ReadReport(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", displayName(name), err)
	}
	return rep, nil
}
