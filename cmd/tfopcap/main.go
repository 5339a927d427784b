// Command tfopcap tells, from packets alone, whether TCP servers really do
// TCP Fast Open (RFC 7413). See README.md.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes, the same for every subcommand.
const (
	exitOK      = 0 // analysed; nothing matched --fail-on
	exitMatched = 1 // --fail-on matched a server (or diff found a regression)
	exitError   = 2 // usage error or unreadable input
)

// streams are a command's standard streams, injectable for tests.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// errMatched reports that --fail-on matched; its message is already printed.
var errMatched = errors.New("a server matched --fail-on")

const mainUsage = `tfopcap tells, from packets alone, whether TCP servers really do TCP Fast Open.

Usage:
  tfopcap analyze [flags] FILE...   verdicts from capture files (pcap, pcapng, gzip; - is stdin)
  tfopcap live -i IFACE [flags]     verdicts from a live interface
  tfopcap diff OLD.json NEW.json    compare two JSON reports; exit 1 on a regression
  tfopcap probe HOST:PORT...        ask servers for a TFO cookie and say why they give none
  tfopcap version                   print the version

Run 'tfopcap COMMAND --help' for a command's flags.
`

func main() {
	// A reader that goes away (tfopcap ... | head) must not kill the
	// process mid-write: with SIGPIPE ignored, writes to the closed pipe
	// fail with EPIPE, and the commands finish their files first (see
	// stdoutClosed).
	signal.Ignore(syscall.SIGPIPE)
	os.Exit(run(os.Args[1:], streams{os.Stdin, os.Stdout, os.Stderr}))
}

// stdoutClosed reports whether err is a write to a pipe whose reader has
// gone: not a failure of the run, whose files are complete and whose exit
// status still tells --fail-on's answer, but the end of its output.
func stdoutClosed(err error) bool { return errors.Is(err, syscall.EPIPE) }

// run routes to a subcommand and maps its error to an exit code: the one
// place where errors become exit codes.
func run(args []string, st streams) int {
	if len(args) == 0 {
		fmt.Fprint(st.stderr, mainUsage)
		return exitError
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "analyze":
		err = runAnalyze(rest, st)
	case "live":
		err = runLive(rest, st)
	case "diff":
		err = runDiff(rest, st)
	case "probe":
		err = runProbe(rest, st)
	case "version", "--version":
		printVersion(st.stdout)
	case "help", "-h", "--help":
		fmt.Fprint(st.stdout, mainUsage)
	default:
		err = usagef("unknown command %q (want analyze, live, diff, probe or version)", cmd)
	}
	return exitCode(err, st.stderr)
}

func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errMatched):
		return exitMatched
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "tfopcap: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "tfopcap: %v\n", err)
	return exitError
}
