package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tfopcap/tfopcap/internal/clidoc"
)

// TestManPage keeps docs/tfopcap.1 what the command table generates (go
// test -update rewrites it) and checks it with man --warnings.
func TestManPage(t *testing.T) {
	var page bytes.Buffer
	if err := clidoc.WriteMan(&page, program()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "tfopcap.1")
	checkGolden(t, path, page.Bytes())
	if _, err := exec.LookPath("man"); err != nil {
		t.Skip("man (man-db) not installed; .ci/run installs it")
	}
	cmd := exec.Command("man", "--warnings", "-E", "UTF-8", "-l", path)
	cmd.Env = append(cmd.Environ(), "MANWIDTH=80")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("man --warnings: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"tfopcap analyze", "--buffer-size", "EXIT STATUS", "tcpdump(1)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
}

// TestHelp: `help COMMAND`, `COMMAND --help` and `COMMAND -h` print the
// same text, which shows every flag as a switch or with an upper-case
// placeholder, never pflag's [=true|false] or a Go type name.
func TestHelp(t *testing.T) {
	placeholder := regexp.MustCompile(`^[A-Z][A-Z0-9_.|,=\[\]]*$|^[a-z]+(\|[a-z]+)+$`)
	for _, c := range commandTable() {
		var want, stderr bytes.Buffer
		if code := run([]string{"help", c.Name}, streams{nil, &want, &stderr}); code != exitOK {
			t.Fatalf("help %s: exit %d: %s", c.Name, code, stderr.String())
		}
		if !strings.HasPrefix(want.String(), "Usage: tfopcap "+c.Name) {
			t.Errorf("help %s: %q", c.Name, want.String())
		}
		if c.Flags == nil {
			continue
		}
		for _, arg := range []string{"--help", "-h"} {
			var got bytes.Buffer
			if code := run([]string{c.Name, arg}, streams{nil, &got, &stderr}); code != exitOK || got.String() != want.String() {
				t.Errorf("%s %s: exit %d, output differs from help %s:\n%s", c.Name, arg, code, c.Name, got.String())
			}
		}
		if strings.Contains(want.String(), "[=") {
			t.Errorf("help %s shows a pflag default marker:\n%s", c.Name, want.String())
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			name, _ := pflag.UnquoteUsage(f)
			if clidoc.IsSwitch(f) {
				if f.Value.Type() != "bool" {
					t.Errorf("%s --%s: a switch of type %s", c.Name, f.Name, f.Value.Type())
				}
				return
			}
			if !placeholder.MatchString(name) {
				t.Errorf("%s --%s: placeholder %q: want upper case (`FILE` in the usage) or an enumeration", c.Name, f.Name, name)
			}
		})
	}
	for _, r := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "nosuch"}, `help: unknown command "nosuch" (want analyze, live, diff`},
		{[]string{"help", "analyze", "live"}, "help: want one command, got 2 arguments"},
		{[]string{"nosuch"}, `unknown command "nosuch" (want analyze, live, diff`},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(r.args, streams{nil, &stdout, &stderr}); code != exitError || !strings.Contains(stderr.String(), r.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", r.args, code, stderr.String(), r.want)
		}
	}
}
