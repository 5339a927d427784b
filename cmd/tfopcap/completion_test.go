package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// completionScript writes `tfopcap completion SHELL` to a file.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	var out, stderr bytes.Buffer
	if code := run([]string{"completion", shell}, streams{nil, &out, &stderr}); code != exitOK {
		t.Fatalf("completion %s: exit %d: %s", shell, code, stderr.String())
	}
	path := filepath.Join(t.TempDir(), "tfopcap."+shell)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBashCompletion sources the script in a real bash and completes
// command lines as a user's Tab would.
func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script := completionScript(t, "bash")
	var commands []string // every visible command, in the table's order
	for _, c := range commandTable() {
		if !c.Hidden {
			commands = append(commands, c.Name)
		}
	}
	for _, r := range []struct {
		line []string // the words, the last one being completed
		want string
	}{
		{[]string{"tfopcap", "an"}, "analyze"},
		{[]string{"tfopcap", ""}, strings.Join(commands, " ")},
		{[]string{"tfopcap", "analyze", "--fo"}, "--format"},
		{[]string{"tfopcap", "analyze", "--format", ""}, "text json markdown html"},
		{[]string{"tfopcap", "live", "-i", "an"}, "any"},
		{[]string{"tfopcap", "live", "--verb"}, "--verbose"},
		{[]string{"tfopcap", "diff", "--format", "j"}, "json"},
		{[]string{"tfopcap", "completion", "f"}, "fish"},
		{[]string{"tfopcap", "help", "d"}, "diff"},
		{[]string{"tfopcap", "analyze", "--server", ""}, ""},
	} {
		words := make([]string, len(r.line))
		for i, w := range r.line {
			words[i] = "'" + w + "'"
		}
		prog := "source " + script + "\ncomplete -p tfopcap >/dev/null || exit 3\n" +
			"COMP_WORDS=(" + strings.Join(words, " ") + "); COMP_CWORD=" + itoa(len(words)-1) + "\n" +
			"_tfopcap; echo \"${COMPREPLY[*]}\"\n"
		out, err := exec.Command("bash", "--norc", "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", r.line, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != r.want {
			t.Errorf("%v: completed to %q, want %q", r.line, got, r.want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestZshFishCompletion checks the zsh and fish scripts parse, and that
// zsh registers the function.
func TestZshFishCompletion(t *testing.T) {
	for _, r := range []struct {
		shell string
		args  func(script string) []string
	}{
		{"zsh", func(s string) []string { return []string{"-n", s} }},
		{"zsh", func(s string) []string {
			return []string{"-fc", "autoload -Uz compinit && compinit -u -D && source " + s + " && (( $+_comps[tfopcap] ))"}
		}},
		{"fish", func(s string) []string { return []string{"--no-execute", s} }},
		{"fish", func(s string) []string {
			return []string{"--no-config", "-c", "source " + s + "; complete -C 'tfopcap analyze --form'"}
		}},
	} {
		if _, err := exec.LookPath(r.shell); err != nil {
			t.Logf("%s not installed (.ci/run installs it): skipped", r.shell)
			continue
		}
		script := completionScript(t, r.shell)
		out, err := exec.Command(r.shell, r.args(script)...).CombinedOutput()
		if err != nil {
			t.Errorf("%s %v: %v\n%s", r.shell, r.args(script), err, out)
		}
		if r.shell == "fish" && strings.Contains(strings.Join(r.args(script), " "), "complete -C") && !strings.Contains(string(out), "--format") {
			t.Errorf("fish completes 'tfopcap analyze --form' to %q", out)
		}
	}
}
