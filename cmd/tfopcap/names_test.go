package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
)

// TestHostileFileNames checks that a file name with a newline or a
// terminal escape reaches stderr quoted, as one line with no control
// character, while ordinary names stay as they are.
func TestHostileFileNames(t *testing.T) {
	dir := t.TempDir()
	notCapture := []byte("this is not a capture file at all\n")
	report := []byte(`{"schema":"tfopcap.report/v1","tool":"x","inputs":[],"totals":{"packets":0,"attempts":2,"outcomes":{}},"servers":[],"attempts":[]}`)
	tests := []struct {
		name, file string
		content    []byte
		cmd        []string
		quoted     bool
	}{
		{"newline", "evil\ntfopcap: all servers grant.pcap", notCapture, []string{"analyze"}, true},
		{"escape", "clear\x1b[2J\x1b[H.pcap", notCapture, []string{"analyze"}, true},
		{"bell and tab", "a\a\tb.pcap", notCapture, []string{"analyze"}, true},
		{"invalid UTF-8", "caf\xe9.pcap", notCapture, []string{"analyze"}, true},
		{"diff input", "r\x1b]0;title\a.json", report, []string{"diff", filepath.Join(dir, "r\x1b]0;title\a.json")}, true},
		{"ordinary", "capture 2026-12-01 (été).pcap", notCapture, []string{"analyze"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCmd(append(tt.cmd, path)...)
			if code != exitError {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			line := strings.TrimSuffix(stderr, "\n")
			if strings.ContainsAny(line, "\n\r\x1b\a\t") {
				t.Errorf("control characters reach stderr: %q", stderr)
			}
			if tt.quoted && !strings.Contains(line, strconv.Quote(path)+":") {
				t.Errorf("stderr %q does not quote the name as %s", stderr, strconv.Quote(path))
			}
			if !tt.quoted && !strings.Contains(line, path+":") {
				t.Errorf("stderr %q does not show the ordinary name %q as it is", stderr, path)
			}
		})
	}
}

// TestDiffImpossibleCounts checks that diff refuses, in one line naming the
// file, a report whose counts no tfopcap writes, instead of judging a
// regression from them.
func TestDiffImpossibleCounts(t *testing.T) {
	dir := t.TempDir()
	good := writeReport(t, dir, "good.json", diffServer("192.0.2.1:443", map[analyze.Outcome]int{analyze.Granted: 3}))
	b, _ := os.ReadFile(good)
	for name, edit := range map[string][2]string{
		"outcomes short of attempts": {`"attempts": 3,`, `"attempts": 30,`},
		"negative count":             {`"granted": 3`, `"granted": -3`},
	} {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(string(b), edit[0], edit[1], 1)
			if bad == string(b) {
				t.Fatalf("%q not found in the report", edit[0])
			}
			path := writeFile(t, dir, "bad.json", bad)
			code, _, stderr := runCmd("diff", good, path)
			if code != exitError || !strings.HasPrefix(stderr, "tfopcap: "+path+": invalid report: ") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q", code, stderr)
			}
		})
	}
}

// TestMaxAttemptsZero checks that --max-attempts 0 keeps no attempt in
// detail (it used to mean the default of 10000) while counting them all,
// and that a negative value is a usage error (it used to mean none).
func TestMaxAttemptsZero(t *testing.T) {
	src := "../../testdata/captures/host-6.18/host-eth.pcap"
	all := analyzeJSON(t, src)
	none := analyzeJSON(t, "--max-attempts", "0", src)
	if len(all.Attempts) == 0 || len(none.Attempts) != 0 || none.AttemptsOmitted != all.Totals.Attempts || none.Totals != all.Totals {
		t.Errorf("--max-attempts 0: %d attempts listed, %d omitted, totals %+v; want 0 listed, %d omitted, totals %+v",
			len(none.Attempts), none.AttemptsOmitted, none.Totals, all.Totals.Attempts, all.Totals)
	}
	if code, _, stderr := runCmd("analyze", "--max-attempts", "-1", src); code != exitError || stderr != "tfopcap: --max-attempts must be 0 (none) or more\n" {
		t.Errorf("--max-attempts -1: exit %d, stderr %q", code, stderr)
	}
}

// TestHostileNameInReport checks that the text report names a capture
// whose file name holds a terminal escape without passing the escape on.
func TestHostileNameInReport(t *testing.T) {
	path := copyFile(t, "../../testdata/captures/host-6.18/host-eth.pcap", t.TempDir(), "x\x1b[2J\n.pcap")
	code, stdout, stderr := runCmd("analyze", "-q", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.ContainsAny(stdout, "\x1b") || !strings.Contains(stdout, `x\x1b[2J\n.pcap`) {
		t.Errorf("report:\n%q", stdout)
	}
}
