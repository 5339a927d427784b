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

// run routes to a subcommand of commandTable and maps its error to an exit
// code: the one place where errors become exit codes.
func run(args []string, st streams) int {
	if len(args) == 0 {
		program().WriteUsage(st.stderr)
		return exitError
	}
	name, rest := args[0], args[1:]
	switch name {
	case "--version":
		name = "version"
	case "-h", "--help":
		name = "help"
	}
	var err error
	if c, ok := lookupCommand(name); ok {
		err = c.run(rest, st)
	} else {
		err = usagef("unknown command %q (want %s)", name, commandNames())
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
