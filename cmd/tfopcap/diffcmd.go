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

const diffUsage = `Usage: tfopcap diff [flags] OLD.json NEW.json

Compares two JSON reports (tfopcap analyze --format json; gzip-compressed
is fine, - is standard input) server by server, matching servers by
address. A server regressed when its verdict went from grants to omits or
mixed, or from mixed to omits; the reverse is an improvement. Moves to or
from inconclusive, changed outcome counts, and servers found in only one
report are shown but are neither. Exit status: 0 no server regressed,
1 a server regressed, 2 usage error or unreadable report.

Flags:
`

// errRegressed reports that diff found a regression; its message is
// already printed. It wraps errMatched, so it exits 1 like --fail-on.
var errRegressed = fmt.Errorf("a server regressed: %w", errMatched)

func runDiff(args []string, st streams) error {
	fs := pflag.NewFlagSet("diff", pflag.ContinueOnError)
	format := newEnum("text", "text", "json", "markdown")
	fs.Var(format, "format", "diff format: text, json or markdown")
	if err := parseFlags(fs, args, st, diffUsage); err != nil {
		return err
	}
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

// displayName is how a report's source is named in output and errors.
func displayName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return capture.DisplayName(name)
}

// readReportFile reads the report in file name (- is stdin), gunzipping it
// when it is gzip-compressed. Errors name the file.
func readReportFile(name string, stdin io.Reader) (*report.Report, error) {
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", displayName(name), capture.RootCause(err))
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
