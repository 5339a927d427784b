package main

import (
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/internal/clidoc"
)

// command is one subcommand: the table entry that help, docs/usage.md, the
// man page and the shell completions are all generated from. Adding a
// command is adding one entry to commandTable.
type command struct {
	clidoc.Command
	run func(args []string, st streams) error
}

// commandTable lists the commands in the order help shows them. It is a
// function, not a variable, because the run functions print help from it.
func commandTable() []command {
	return []command{
		{clidoc.Command{
			Name:        "analyze",
			Synopses:    []string{"[flags] FILE...", "[flags] -r FILE"},
			Summary:     "verdicts from capture files (pcap, pcapng, gzip; - is stdin)",
			Description: analyzeDescription,
			Flags:       func() *pflag.FlagSet { return new(analyzeOptions).flagSet() },
			Args:        clidoc.Args{Files: true},
		}, runAnalyze},
		{clidoc.Command{
			Name:        "live",
			Synopses:    []string{"-i IFACE [flags]", "-D"},
			Summary:     "verdicts from a live interface",
			Description: liveDescription,
			Flags:       func() *pflag.FlagSet { return new(liveCommand).flagSet() },
		}, runLive},
		{clidoc.Command{
			Name:        "diff",
			Synopses:    []string{"[flags] OLD.json NEW.json"},
			Summary:     "compare two JSON reports; exit 1 on a regression",
			Description: diffDescription,
			Flags:       func() *pflag.FlagSet { return new(diffOptions).flagSet() },
			Args:        clidoc.Args{Files: true},
		}, runDiff},
		{clidoc.Command{
			Name:        "probe",
			Synopses:    []string{"[flags] HOST:PORT..."},
			Summary:     "ask servers for a TFO cookie and say why they give none (Linux)",
			Description: probeDescription,
			Flags:       func() *pflag.FlagSet { return new(probeCommand).flagSet() },
		}, runProbe},
		{clidoc.Command{
			Name:        "help",
			Synopses:    []string{"[COMMAND]"},
			Summary:     "print the help of tfopcap or of a command",
			Description: "Prints what 'tfopcap COMMAND --help' prints, or without COMMAND the list\nof commands.",
			Args:        clidoc.Args{Commands: true},
		}, runHelp},
		{clidoc.Command{
			Name:        "completion",
			Synopses:    []string{"bash|zsh|fish"},
			Summary:     "print a shell completion script",
			Description: completionDescription,
			Args:        clidoc.Args{Words: completionShells},
		}, runCompletion},
		{clidoc.Command{
			Name:        "version",
			Summary:     "print the version, the VCS revision and the toolchain",
			Description: "Prints the module version and, for builds from a checkout, the VCS\nrevision, then the Go toolchain and target the binary was built with.",
		}, runVersion},
	}
}

// program is tfopcap's whole command line, for help and the generators.
func program() *clidoc.Program {
	p := &clidoc.Program{
		Name:        "tfopcap",
		Summary:     "tfopcap tells, from packets alone, whether TCP servers really do TCP Fast Open.",
		Description: programDescription,
		Sections:    manSections,
	}
	for _, c := range commandTable() {
		p.Commands = append(p.Commands, c.Command)
	}
	return p
}

// lookupCommand returns the command called name.
func lookupCommand(name string) (command, bool) {
	i := slices.IndexFunc(commandTable(), func(c command) bool { return c.Name == name })
	if i < 0 {
		return command{}, false
	}
	return commandTable()[i], true
}

// commandNames is the list an unknown command's error offers.
func commandNames() string {
	var names []string
	for _, c := range commandTable() {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// runHelp is `tfopcap help [COMMAND]`.
func runHelp(args []string, st streams) error {
	switch len(args) {
	case 0:
		program().WriteUsage(st.stdout)
		return nil
	case 1:
		c, ok := lookupCommand(args[0])
		if !ok {
			return usagef("help: unknown command %q (want %s)", args[0], commandNames())
		}
		program().WriteHelp(st.stdout, c.Command)
		return nil
	}
	return usagef("help: want one command, got %d arguments", len(args))
}

// parseFlags parses args with fs, the flag set of the command named
// fs.Name(), turning pflag's errors into usage errors and --help into
// errHelp after printing the command's help to stdout.
func parseFlags(fs *pflag.FlagSet, args []string, st streams) error {
	fs.SetOutput(st.stderr)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if err == pflag.ErrHelp {
		c, ok := lookupCommand(fs.Name())
		if !ok {
			panic("parseFlags: no command " + fs.Name())
		}
		program().WriteHelp(st.stdout, c.Command)
		return errHelp
	}
	if err != nil {
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}

const programDescription = `tfopcap judges, from captured packets alone, whether TCP servers really
do TCP Fast Open (RFC 7413): whether they grant cookies, accept data in
the SYN, or omit or reject it. It reads capture files (analyze) or a
live interface (live), prints a verdict per server with the findings
that explain it, and compares two JSON reports (diff).`

var manSections = []clidoc.Section{
	{Title: "EXIT STATUS", Text: `0: analysed, and nothing matched --fail-on (diff: no server regressed).

1: a server's verdict matched --fail-on (diff: a server regressed).

2: a usage error, unreadable input, an interface that could not be opened,
or --fail-on with nothing to judge.`},
	{Title: "CONVENTIONS", Text: `Where tfopcap uses a letter of tcpdump or tshark, it means what it means
there: -r FILE reads a file, -i takes an interface name or the number
-D prints, -B counts KiB, -s is the snapshot length, -w writes the
packets, -c counts, -p leaves promiscuous mode off, -f is a capture
filter, -n is accepted (tfopcap never resolves names), -v adds detail.`},
	{Title: "SEE ALSO", Text: `tcpdump(1), tshark(1), pcap-filter(7).

docs/report.md in the source tree explains every verdict and finding.`},
}
