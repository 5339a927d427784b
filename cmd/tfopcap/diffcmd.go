package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/report"
)

const diffDescription = `Compares two JSON reports (tfopcap analyze --format json; gzip-compressed
is fine, - is standard input) server by server, matching servers by
address. A server regressed when its verdict went from grants to omits or
mixed, or from mixed to omits; the reverse is an improvement. Moves to or
from inconclusive, changed outcome counts, and servers found in only one
report are shown but are neither. Exit status: 0 no server regressed,
1 a server regressed, 2 usage error or unreadable report.`

// errRegressed reports that diff found a regression; its message is
// already printed. It wraps errMatched, so it exits 1 like --fail-on.
var errRegressed = fmt.Errorf("a server regressed: %w", errMatched)

// diffOptions are diff's flags.
type diffOptions struct{ format *enumFlag }

// flagSet returns diff's flags, bound to o.
func (o *diffOptions) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("diff", pflag.ContinueOnError)
	o.format = newEnum("text", "text", "json", "markdown")
	fs.Var(o.format, "format", "diff format: text, json or markdown")
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
	if len(files) != 2 {
		return usagef("diff: want two reports, OLD.json and NEW.json; got %d", len(files))
	}
	if files[0] == "-" && files[1] == "-" {
		return usagef("diff: standard input (-) can be read only once")
	}
	var reports [2]*report.Report
	for i, name := range files {
		r, err := readReportFile(name, st.stdin)
		if err != nil {
			return err
		}
		reports[i] = r
	}

	d := report.Diff(reports[0], reports[1])
	d.Tool = toolName
	d.Old.Name, d.New.Name = displayName(files[0]), displayName(files[1])
	if err := report.RenderDiff(st.stdout, d, format.value); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	if !d.Regressed() {
		return nil
	}
	var regressed []string
	for _, s := range d.Servers {
		if s.Change == report.Regressed {
			regressed = append(regressed, fmt.Sprintf("%s %s -> %s", s.Server, s.Old.Verdict, s.New.Verdict))
		}
	}
	fmt.Fprintf(st.stderr, "tfopcap: regression: %s\n", strings.Join(regressed, ", "))
	return errRegressed
}

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
