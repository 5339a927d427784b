package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/analyze"
)

// errHelp is returned when --help was asked for; the usage is already printed.
var errHelp = pflag.ErrHelp

// enumFlag is a flag whose value must be one of a fixed set.
type enumFlag struct {
	value   string
	allowed []string
}

func newEnum(def string, allowed ...string) *enumFlag {
	return &enumFlag{value: def, allowed: allowed}
}

func (e *enumFlag) String() string { return e.value }
func (e *enumFlag) Type() string   { return strings.Join(e.allowed, "|") }

// Completions offers the allowed values to shell completion.
func (e *enumFlag) Completions() []string { return e.allowed }

func (e *enumFlag) Set(s string) error {
	if !slices.Contains(e.allowed, s) {
		return fmt.Errorf("want one of %s", strings.Join(e.allowed, ", "))
	}
	e.value = s
	return nil
}

// verdictsFlag is --fail-on: a comma-separated set of verdicts.
type verdictsFlag struct{ set []analyze.Verdict }

func (v *verdictsFlag) String() string {
	names := make([]string, len(v.set))
	for i, x := range v.set {
		names[i] = x.String()
	}
	return strings.Join(names, ",")
}

func (v *verdictsFlag) Type() string { return "VERDICT[,VERDICT]" }

func (v *verdictsFlag) Set(s string) error {
	for _, name := range strings.Split(s, ",") {
		x, ok := analyze.ParseVerdict(strings.TrimSpace(name))
		if !ok {
			return fmt.Errorf("unknown verdict %q (want grants, omits, mixed or inconclusive)", name)
		}
		if !slices.Contains(v.set, x) {
			v.set = append(v.set, x)
		}
	}
	return nil
}

// outcomesFlag is a comma-separated set of outcomes.
type outcomesFlag struct{ set []analyze.Outcome }

func (o *outcomesFlag) String() string {
	names := make([]string, len(o.set))
	for i, x := range o.set {
		names[i] = x.String()
	}
	return strings.Join(names, ",")
}

func (o *outcomesFlag) Type() string { return "OUTCOME[,OUTCOME]" }

func (o *outcomesFlag) Set(s string) error {
	o.set = o.set[:0]
	for _, name := range strings.Split(s, ",") {
		x, ok := analyze.ParseOutcome(strings.TrimSpace(name))
		if !ok {
			return fmt.Errorf("unknown outcome %q", name)
		}
		if !slices.Contains(o.set, x) {
			o.set = append(o.set, x)
		}
	}
	return nil
}
