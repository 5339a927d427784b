package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/schematest"
	"github.com/tfopcap/tfopcap/report"
)

// diffServer is a server with the given outcome counts and the verdict
// they make.
func diffServer(addr string, counts map[analyze.Outcome]int) report.ServerReport {
	s := report.ServerReport{Server: addr, Hints: []string{}, HintIDs: []analyze.FindingID{}}
	for o, n := range counts {
		s.Outcomes[o] = n
	}
	s.Verdict = s.Outcomes.Verdict()
	s.Attempts = s.Outcomes.Total()
	return s
}

// writeReport writes a report of servers to dir/name and returns its path.
func writeReport(t *testing.T, dir, name string, servers ...report.ServerReport) string {
	t.Helper()
	r := report.Build(toolName, []report.InputReport{{Name: strings.TrimSuffix(name, ".json") + ".pcap",
		Format: "pcap", LinkTypes: []string{"EN10MB"}, Warnings: []string{}}}, analyze.NewCollector(-1).Summary())
	r.Servers = append(r.Servers, servers...)
	for _, s := range servers {
		r.Totals.Attempts += s.Attempts
		for o, n := range s.Outcomes {
			r.Totals.Outcomes[o] += n
		}
	}
	var b bytes.Buffer
	if err := report.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, b.Bytes())
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDiffCommand(t *testing.T) {
	const a, b = "192.0.2.2:8001", "192.0.2.2:8002"
	grants := map[analyze.Outcome]int{analyze.Granted: 4}
	omits := map[analyze.Outcome]int{analyze.Omitted: 4}
	mixed := map[analyze.Outcome]int{analyze.Granted: 1, analyze.Omitted: 3}
	plain := map[analyze.Outcome]int{analyze.Plain: 2}

	dir := t.TempDir()
	grantsA := writeReport(t, dir, "grants-a.json", diffServer(a, grants))
	omitsA := writeReport(t, dir, "omits-a.json", diffServer(a, omits))
	mixedA := writeReport(t, dir, "mixed-a.json", diffServer(a, mixed))
	plainA := writeReport(t, dir, "plain-a.json", diffServer(a, plain))
	grantsB := writeReport(t, dir, "grants-b.json", diffServer(b, grants))
	omitsAB := writeReport(t, dir, "omits-ab.json", diffServer(a, omits), diffServer(b, omits))
	validJSON, _ := os.ReadFile(grantsA)
	v2 := writeFile(t, dir, "v2.json", strings.Replace(string(validJSON), "tfopcap.report/v1", "tfopcap.report/v2", 1))
	noSchema := writeFile(t, dir, "noschema.json", `{"servers": []}`)
	notJSON := writeFile(t, dir, "notjson.json", "servers: []\n")
	truncated := writeFile(t, dir, "truncated.json", "{\n  \"schema\": \"tfopcap.report/v1\",\n  \"servers\": [\n")
	pcap := writeFile(t, dir, "capture.pcap", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(validJSON)
	zw.Close()
	gzipped := writeFile(t, dir, "grants-a.json.gz", gz.String())
	badGzip := writeFile(t, dir, "bad.json.gz", "\x1f\x8bnot really")
	missing := filepath.Join(dir, "missing.json")

	tests := []struct {
		name   string
		args   []string
		stdin  string
		exit   int
		stdout []string // substrings of stdout
		stderr string   // all of stderr
	}{
		{name: "grants to omits regresses", args: []string{grantsA, omitsA}, exit: exitMatched,
			stdout: []string{"REGRESSED: 1 regressed", a + "  regressed  grants -> omits"},
			stderr: "tfopcap: regression: " + a + " grants -> omits\n"},
		{name: "grants to mixed regresses", args: []string{grantsA, mixedA}, exit: exitMatched,
			stderr: "tfopcap: regression: " + a + " grants -> mixed\n"},
		{name: "mixed to omits regresses", args: []string{mixedA, omitsA}, exit: exitMatched,
			stderr: "tfopcap: regression: " + a + " mixed -> omits\n"},
		{name: "unchanged pair", args: []string{grantsA, grantsA}, exit: exitOK,
			stdout: []string{"no regression: 0 regressed, 0 improved, 0 changed, 1 unchanged", "no change"}},
		{name: "improvement", args: []string{omitsA, grantsA}, exit: exitOK,
			stdout: []string{"1 improved", "omits -> grants"}},
		{name: "to inconclusive is shown, not failed", args: []string{grantsA, plainA}, exit: exitOK,
			stdout: []string{"1 changed", "grants -> inconclusive"}},
		{name: "new and vanished servers", args: []string{grantsA, grantsB}, exit: exitOK,
			stdout: []string{"1 new, 1 vanished", a + "  vanished", b + "  new", "grants -> -", "- -> grants"}},
		{name: "regression beside a new server", args: []string{grantsA, omitsAB}, exit: exitMatched,
			stderr: "tfopcap: regression: " + a + " grants -> omits\n"},
		{name: "json", args: []string{"--format", "json", grantsA, omitsA}, exit: exitMatched,
			stdout: []string{`"schema": "tfopcap.diff/v1"`, `"change": "regressed"`},
			stderr: "tfopcap: regression: " + a + " grants -> omits\n"},
		{name: "markdown", args: []string{"--format=markdown", grantsA, omitsA}, exit: exitMatched,
			stdout: []string{"### TCP Fast Open diff: regression", "| `" + a + "` | **regressed** | grants → omits |"},
			stderr: "tfopcap: regression: " + a + " grants -> omits\n"},
		{name: "old report from stdin", args: []string{"-", omitsA}, stdin: string(validJSON), exit: exitMatched,
			stdout: []string{"old: - (" + toolName + ")"},
			stderr: "tfopcap: regression: " + a + " grants -> omits\n"},
		{name: "gzip-compressed report", args: []string{gzipped, omitsA}, exit: exitMatched,
			stderr: "tfopcap: regression: " + a + " grants -> omits\n"},
		{name: "help", args: []string{"--help"}, exit: exitOK, stdout: []string{"Usage: tfopcap diff [flags] OLD.json NEW.json", "--format"}},

		// Bad input: exit 2 with one line naming the file.
		{name: "other schema version", args: []string{v2, grantsA}, exit: exitError,
			stderr: "tfopcap: " + v2 + ": schema tfopcap.report/v2, this tfopcap reads tfopcap.report/v1\n"},
		{name: "no schema field", args: []string{grantsA, noSchema}, exit: exitError,
			stderr: "tfopcap: " + noSchema + ": not a tfopcap report (no \"schema\" field)\n"},
		{name: "not JSON", args: []string{notJSON, grantsA}, exit: exitError,
			stderr: "tfopcap: " + notJSON + ": not a JSON object, not a tfopcap report\n"},
		{name: "truncated JSON", args: []string{grantsA, truncated}, exit: exitError,
			stderr: "tfopcap: " + truncated + ": not valid JSON: unexpected end of JSON input at line 4, column 1\n"},
		{name: "a capture instead of a report", args: []string{pcap, grantsA}, exit: exitError,
			stderr: "tfopcap: " + pcap + ": not JSON but a pcap capture: run tfopcap analyze --format json on it first\n"},
		{name: "corrupt gzip", args: []string{badGzip, grantsA}, exit: exitError,
			stderr: "tfopcap: " + badGzip + ": gzip: invalid header\n"},
		{name: "missing file", args: []string{missing, grantsA}, exit: exitError,
			stderr: "tfopcap: " + missing + ": no such file\n"},
		{name: "empty stdin", args: []string{grantsA, "-"}, exit: exitError,
			stderr: "tfopcap: -: empty, not a tfopcap report\n"},
		{name: "one report", args: []string{grantsA}, exit: exitError,
			stderr: "tfopcap: diff: want two reports, OLD.json and NEW.json; got 1\n"},
		{name: "three reports", args: []string{grantsA, grantsA, grantsA}, exit: exitError,
			stderr: "tfopcap: diff: want two reports, OLD.json and NEW.json; got 3\n"},
		{name: "stdin twice", args: []string{"-", "-"}, exit: exitError,
			stderr: "tfopcap: diff: standard input (-) can be read only once\n"},
		{name: "unknown format", args: []string{"--format", "yaml", grantsA, grantsA}, exit: exitError,
			stderr: "tfopcap: diff: invalid argument \"yaml\" for \"--format\" flag: want one of text, json, markdown\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"diff"}, tt.args...), streams{strings.NewReader(tt.stdin), &stdout, &stderr})
			if code != tt.exit {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.exit, stderr.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			if tt.stderr != "" || tt.exit == exitOK {
				if got := stderr.String(); got != tt.stderr {
					t.Errorf("stderr\n got %q\nwant %q", got, tt.stderr)
				}
			}
			if tt.exit == exitError && stdout.Len() > 0 {
				t.Errorf("bad input wrote to stdout:\n%s", stdout.String())
			}
		})
	}
}

// TestDiffJSONOutput checks that the JSON diff is one object that reads
// back into the model.
func TestDiffJSONOutput(t *testing.T) {
	var stdout, stderr bytes.Buffer
	old, new := filepath.Join("testdata", "diff", "xray-25.2.21.json"), filepath.Join("testdata", "diff", "xray-25.3.3.json")
	run([]string{"diff", "--format", "json", old, new}, streams{strings.NewReader(""), &stdout, &stderr})
	var d report.DiffReport
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Error("more than one JSON value on stdout")
	}
	if d.Schema != report.DiffSchema || d.Tool != toolName || d.Old.Name != old || d.Summary.Regressed != 2 {
		t.Errorf("diff = %+v", d)
	}
}

// TestDiffGolden diffs two reports of the regression tfopcap exists for
// (cookies granted with one Xray release, omitted with the next behind an
// MPTCP listener) in every format and compares with golden files; go test
// -update rewrites them.
func TestDiffGolden(t *testing.T) {
	dir := filepath.Join("testdata", "diff")
	old, new := filepath.Join(dir, "xray-25.2.21.json"), filepath.Join(dir, "xray-25.3.3.json")
	for _, f := range []string{old, new} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		schematest.Validate(t, b)
	}
	for _, tc := range []struct {
		golden string
		args   []string
		exit   int
	}{
		{"regression.txt", []string{old, new}, exitMatched},
		{"regression.md", []string{"--format", "markdown", old, new}, exitMatched},
		{"regression.json", []string{"--format", "json", old, new}, exitMatched},
		{"improvement.txt", []string{new, old}, exitOK},
		{"unchanged.md", []string{"--format", "markdown", new, new}, exitOK},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"diff"}, tc.args...), streams{strings.NewReader(""), &stdout, &stderr})
			if code != tc.exit {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.exit, stderr.String())
			}
			checkGolden(t, filepath.Join(dir, tc.golden), stdout.Bytes())
		})
	}
}

// TestDiffNamesFilesAsAnalyze: a file that cannot be read gets the same
// line from diff as from analyze.
func TestDiffNamesFilesAsAnalyze(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{filepath.Join(dir, "missing.json"), dir, "a\nb.json"} {
		var aOut, aErr, dOut, dErr bytes.Buffer
		run([]string{"analyze", name}, streams{strings.NewReader(""), &aOut, &aErr})
		run([]string{"diff", name, name + "2"}, streams{strings.NewReader(""), &dOut, &dErr})
		if aErr.String() != dErr.String() || strings.Count(aErr.String(), "\n") != 1 {
			t.Errorf("%q: analyze says %q, diff says %q", name, aErr.String(), dErr.String())
		}
	}
}
