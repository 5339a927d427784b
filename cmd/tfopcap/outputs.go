package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tfopcap/tfopcap/capture"
)

// namedPath is a file given on the command line, with what named it: an
// input ("input"), or the flag of an output ("--evidence", "-w").
type namedPath struct{ by, path string }

// checkOutputs refuses, before anything is opened, an output that is an
// input or another output: writing it would destroy the capture being read
// (tfopcap analyze --evidence x.pcap x.pcap) or interleave two files in
// one. Two names are the same file when their absolute paths agree once
// cleaned and with symlinks resolved, or when they are one existing file
// (a hard link, a bind mount). An input "-" is standard input, which may
// be a file too (tfopcap analyze --evidence x.pcap - < x.pcap).
func checkOutputs(inputs, outputs []namedPath) error {
	for i, out := range outputs {
		if out.path == "" || out.path == "-" {
			continue
		}
		for _, other := range append(outputs[:i:i], inputs...) {
			path, shown := other.path, capture.DisplayName(other.path)
			if path == "-" && other.by == "input" {
				// Standard input redirected from a file (< x.pcap) is that
				// file; /dev/stdin leads to it.
				path, shown = "/dev/stdin", "(standard input)"
			}
			if path == "" || path == "-" || !sameFile(out.path, path) {
				continue
			}
			what := "the " + other.by
			if other.by == "input" {
				what = "input"
			}
			return usagef("%s %s is the same file as %s %s: refusing to overwrite it",
				out.by, capture.DisplayName(out.path), what, shown)
		}
	}
	return nil
}

// sameFile reports whether the paths a and b name one file, existing or
// about to be created.
func sameFile(a, b string) bool {
	if resolvedPath(a) == resolvedPath(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// resolvedPath is p made absolute and clean, with symlinks resolved as far
// as the path exists: a file not yet created is named by its resolved
// directory.
func resolvedPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(dir, filepath.Base(abs))
	}
	return abs
}

// createOutput creates the file an output flag names, with one line on
// failure: outputs are opened before any input is read, so that a bad path
// fails at once instead of after the whole capture.
func createOutput(by, path string) (*os.File, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", by, capture.DisplayName(path), capture.RootCause(err))
	}
	return f, nil
}
