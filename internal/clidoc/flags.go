package clidoc

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// Flag is what every rendering needs of one flag.
type Flag struct {
	Long, Short string
	Placeholder string   // the value's name, e.g. FILE; "" for a switch
	Usage       string   // with the back quotes of the placeholder removed
	Default     string   // "" when the default is the zero value
	Values      []string // the values of an enumeration (Completer)
}

// Flags lists the visible flags of fs, sorted by name as pflag sorts them.
func Flags(fs *pflag.FlagSet) []Flag {
	var flags []Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		name, usage := pflag.UnquoteUsage(f)
		fl := Flag{Long: f.Name, Short: f.Shorthand, Usage: usage}
		if !IsSwitch(f) {
			fl.Placeholder = name
			if !isZero(f.DefValue) {
				fl.Default = f.DefValue
				if f.Value.Type() == "string" {
					fl.Default = fmt.Sprintf("%q", f.DefValue)
				}
			}
		}
		if c, ok := f.Value.(Completer); ok {
			fl.Values = c.Completions()
		}
		flags = append(flags, fl)
	})
	return flags
}

// IsSwitch reports whether f takes no value (a bool flag: --attempts, not
// --attempts=true).
func IsSwitch(f *pflag.Flag) bool { return f.NoOptDefVal != "" }

func isZero(def string) bool {
	switch def {
	case "", "0", "0s", "false", "[]":
		return true
	}
	return false
}

// Names is how the flag is written: "-f, --filter" or "--format".
func (f Flag) Names() string {
	if f.Short != "" {
		return "-" + f.Short + ", --" + f.Long
	}
	return "--" + f.Long
}

// Text is the usage with the default appended.
func (f Flag) Text() string {
	if f.Default != "" {
		return f.Usage + " (default " + f.Default + ")"
	}
	return f.Usage
}

// WriteFlags writes fs's flags as --help shows them: one a line, names and
// placeholder in one column, text in the next. Unlike pflag's own listing
// it shows a bool flag as the switch it is (--attempts, not
// --attempts[=true|false]).
func WriteFlags(w io.Writer, fs *pflag.FlagSet) {
	flags := Flags(fs)
	heads := make([]string, len(flags))
	width := 0
	for i, f := range flags {
		heads[i] = "      " + f.Names()
		if f.Short != "" {
			heads[i] = "  " + f.Names()
		}
		if f.Placeholder != "" {
			heads[i] += " " + f.Placeholder
		}
		width = max(width, len(heads[i]))
	}
	for i, f := range flags {
		fmt.Fprintf(w, "%-*s   %s\n", width, heads[i], strings.ReplaceAll(f.Text(), "\n", " "))
	}
}
