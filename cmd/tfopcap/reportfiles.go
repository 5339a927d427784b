package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/report"
	"github.com/tfopcap/tfopcap/report/junit"
)

// reportFile is one more file the run writes from the same report:
// --output FORMAT=FILE, --plot FILE or --junit FILE.
type reportFile struct {
	by   string // the flag, for messages: "--output"
	kind string // a report format, "png", "svg" or "junit"
	path string
	f    *os.File
}

// outputsFlag is --output FORMAT=FILE, repeatable.
type outputsFlag struct{ files []reportFile }

func (o *outputsFlag) String() string {
	parts := make([]string, len(o.files))
	for i, f := range o.files {
		parts[i] = f.kind + "=" + f.path
	}
	return strings.Join(parts, ",")
}

func (o *outputsFlag) Type() string { return "FORMAT=FILE" }

func (o *outputsFlag) Set(s string) error {
	format, path, ok := strings.Cut(s, "=")
	switch {
	case !ok || path == "":
		return fmt.Errorf("want FORMAT=FILE, e.g. json=report.json")
	case !isReportFormat(format):
		return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(reportFormats, ", "))
	case path == "-":
		return fmt.Errorf("standard output gets --format: use --format %s", format)
	}
	o.files = append(o.files, reportFile{by: "--output", kind: format, path: path})
	return nil
}

// reportFormats are what --format and --output write.
var reportFormats = []string{"text", "json", "markdown", "html"}

func isReportFormat(s string) bool {
	for _, f := range reportFormats {
		if f == s {
			return true
		}
	}
	return false
}

// registerFiles adds the flags of the files the run writes besides stdout.
func (o *reportOptions) registerFiles(fs *pflag.FlagSet) {
	fs.Var(&o.files, "output", "also write the report in FORMAT (text, json, markdown or html) to FILE, from the same pass (repeatable)")
	fs.StringArrayVar(&o.plots, "plot", nil, "draw the timeline of the servers with the most TFO attempts to `FILE`.png or FILE.svg (repeatable)")
	fs.StringVar(&o.junit, "junit", "", "write JUnit XML to `FILE`: a test case per server, failing where --fail-on matches")
}

// reportFiles lists every file to write, checking --plot's file type.
func (o *reportOptions) reportFiles() ([]reportFile, error) {
	files := append([]reportFile(nil), o.files.files...)
	for _, p := range o.plots {
		if p == "-" {
			return nil, usagef("--plot -: write the picture to a file (standard output gets --format)")
		}
		kind := strings.TrimPrefix(strings.ToLower(filepath.Ext(p)), ".")
		if kind != "png" && kind != "svg" {
			return nil, usagef("--plot %s: the file name must end in .png or .svg", capture.DisplayName(p))
		}
		files = append(files, reportFile{by: "--plot", kind: kind, path: p})
	}
	if o.junit == "-" {
		return nil, usagef("--junit -: write JUnit XML to a file (standard output gets --format)")
	}
	if o.junit != "" {
		files = append(files, reportFile{by: "--junit", kind: "junit", path: o.junit})
	}
	return files, nil
}

// createFiles creates the report files, before any input is read, so that
// one that cannot be written fails at once. They are written at the end.
func (o *reportOptions) createFiles() error {
	for i := range o.toWrite {
		rf := &o.toWrite[i]
		f, err := createOutput(rf.by, rf.path)
		if err != nil {
			o.closeFiles()
			return err
		}
		rf.f = f
	}
	return nil
}

// closeFiles closes whatever createFiles opened (on an early failure).
func (o *reportOptions) closeFiles() {
	for i := range o.toWrite {
		if f := o.toWrite[i].f; f != nil {
			f.Close()
			o.toWrite[i].f = nil
		}
	}
}

// writeFiles writes the report into every file and closes them; the first
// failure names its file.
func (o *reportOptions) writeFiles(r *report.Report, gate []string) error {
	var first error
	for i := range o.toWrite {
		rf := &o.toWrite[i]
		if rf.f == nil {
			continue
		}
		err := o.writeFile(rf, r, gate)
		if cerr := rf.f.Close(); err == nil {
			err = cerr
		}
		rf.f = nil
		if err != nil && first == nil {
			first = fmt.Errorf("%s %s: write: %v", rf.by, capture.DisplayName(rf.path), capture.RootCause(err))
		}
	}
	return first
}

func (o *reportOptions) writeFile(rf *reportFile, r *report.Report, gate []string) error {
	switch rf.kind {
	case "png", "svg":
		return report.WritePlot(rf.f, r, rf.kind)
	case "junit":
		return junit.Write(rf.f, r, o.failOn.set, gate)
	}
	return report.Render(rf.f, r, rf.kind, o.renderOptions())
}

// filePaths are the report files as outputs for checkOutputs.
func (o *reportOptions) filePaths() []namedPath {
	paths := make([]namedPath, len(o.toWrite))
	for i, rf := range o.toWrite {
		paths[i] = namedPath{rf.by, rf.path}
	}
	return paths
}
