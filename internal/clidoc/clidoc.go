// Package clidoc renders one description of a command-line program (its
// commands, their synopses, texts and pflag flag sets) as everything a user
// reads about it: the --help text, a man page, and bash, zsh and fish
// completion scripts. A flag added to a command's flag set appears in all
// of them without further work.
package clidoc

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// Program is the whole command line.
type Program struct {
	Name        string // the binary, e.g. "tfopcap"
	Summary     string // one line, the man page's NAME
	Description string // paragraphs, separated by blank lines
	Commands    []Command
	// Sections are the man page's closing sections (EXIT STATUS, FILES,
	// SEE ALSO...), in order.
	Sections []Section
}

// Section is a titled man page section of paragraphs.
type Section struct{ Title, Text string }

// Command is one subcommand.
type Command struct {
	Name     string
	Synopses []string // each after "Program Name", e.g. "[flags] FILE..."
	Summary  string   // one line for the command list
	// Description is the help text between the synopses and the flags:
	// paragraphs separated by blank lines, already wrapped for a terminal.
	Description string
	// Flags builds the command's flag set without running anything; nil
	// when the command takes no flags.
	Flags func() *pflag.FlagSet
	// Args is what the command's operands complete to.
	Args Args
	// Hidden commands are left out of every listing.
	Hidden bool
}

// Args says what a command's operands are, for completion.
type Args struct {
	Files    bool     // file names
	Commands bool     // the program's command names
	Words    []string // a fixed set of words
}

// Completer is a flag value with a fixed set of values (an enumeration),
// which completions offer.
type Completer interface {
	Completions() []string
}

// visible are the commands that listings show.
func (p *Program) visible() []Command {
	var cs []Command
	for _, c := range p.Commands {
		if !c.Hidden {
			cs = append(cs, c)
		}
	}
	return cs
}

// Lookup returns the command called name.
func (p *Program) Lookup(name string) (Command, bool) {
	for _, c := range p.Commands {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// WriteUsage writes the program's own help: its summary, one synopsis line
// per command with the command's summary, and a pointer to command help.
func (p *Program) WriteUsage(w io.Writer) {
	fmt.Fprintf(w, "%s\n\nUsage:\n", p.Summary)
	cs := p.visible()
	width := 0
	for _, c := range cs {
		width = max(width, len(p.synopsis(c, 0)))
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, p.synopsis(c, 0), c.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s help COMMAND' or '%s COMMAND --help' for a command's flags.\n", p.Name, p.Name)
}

// synopsis is command c's i-th synopsis line, with program and command
// names.
func (p *Program) synopsis(c Command, i int) string {
	s := p.Name + " " + c.Name
	if len(c.Synopses) > i && c.Synopses[i] != "" {
		s += " " + c.Synopses[i]
	}
	return s
}

// WriteHelp writes command c's help: its synopses, its description, and
// its flags.
func (p *Program) WriteHelp(w io.Writer, c Command) {
	for i := range max(len(c.Synopses), 1) {
		lead := "Usage: "
		if i > 0 {
			lead = "       "
		}
		fmt.Fprintf(w, "%s%s\n", lead, p.synopsis(c, i))
	}
	if c.Description != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.Description, "\n"))
	}
	if fs := flagSet(c); fs != nil && fs.HasAvailableFlags() {
		fmt.Fprint(w, "\nFlags:\n")
		WriteFlags(w, fs)
	}
}

// flagSet is c's flag set, or nil.
func flagSet(c Command) *pflag.FlagSet {
	if c.Flags == nil {
		return nil
	}
	return c.Flags()
}
