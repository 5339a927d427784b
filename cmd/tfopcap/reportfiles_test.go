package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	parser "github.com/joshdk/go-junit"
)

// listenersCapture holds one granting and two omitting servers, from a
// real 6.18 kernel (testdata/captures/findings-6.18).
const listenersCapture = "../../testdata/captures/findings-6.18/listeners.pcap"

// TestSeveralOutputsOnePass writes every kind of file from one run that
// reads its capture from standard input, which can be read only once: each
// file must hold what that format alone prints.
func TestSeveralOutputsOnePass(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	capture, err := os.ReadFile(listenersCapture)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"analyze", "-q", "--fail-on", "omits",
		"--output", "json=" + path("r.json"), "--output", "markdown=" + path("r.md"),
		"--output", "html=" + path("r.html"), "--output", "text=" + path("r.txt"),
		"--plot", path("t.png"), "--plot", path("t.svg"), "--junit", path("j.xml"), "-"},
		streams{bytes.NewReader(capture), &stdout, &stderr})
	if code != exitMatched {
		t.Fatalf("exit %d, want %d (--fail-on omits matches); stderr: %s", code, exitMatched, stderr.String())
	}
	// Stdout still gets --format (text): the same as the text file.
	if txt, _ := os.ReadFile(path("r.txt")); !bytes.Equal(txt, stdout.Bytes()) {
		t.Errorf("--output text differs from stdout:\n%s\n---\n%s", txt, stdout.String())
	}
	for format, file := range map[string]string{"json": "r.json", "markdown": "r.md", "html": "r.html"} {
		var alone bytes.Buffer
		if code := run([]string{"analyze", "-q", "--format", format, "-"}, streams{bytes.NewReader(capture), &alone, &bytes.Buffer{}}); code != exitOK {
			t.Fatalf("--format %s: exit %d", format, code)
		}
		if got, _ := os.ReadFile(path(file)); !bytes.Equal(got, alone.Bytes()) {
			t.Errorf("--output %s=%s differs from --format %s", format, file, format)
		}
	}
	f, err := os.Open(path("t.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("--plot t.png: %v", err)
	}
	if svg, _ := os.ReadFile(path("t.svg")); !bytes.Contains(svg, []byte("<svg")) {
		t.Error("--plot t.svg holds no SVG")
	}
	checkJUnit(t, path("j.xml"))
}

// checkJUnit reads --junit's file back with an independent parser
// (github.com/joshdk/go-junit): a case per server, the omitting ones
// failing with their verdict and finding IDs.
func checkJUnit(t *testing.T, file string) {
	t.Helper()
	suites, err := parser.IngestFile(file)
	if err != nil {
		t.Fatalf("--junit: %v", err)
	}
	if len(suites) != 1 {
		t.Fatalf("%d suites, want 1", len(suites))
	}
	s := suites[0]
	if s.Totals.Tests != 3 || s.Totals.Failed != 2 || s.Totals.Passed != 1 {
		t.Errorf("totals %+v, want 3 tests: 2 failed, 1 passed", s.Totals)
	}
	want := map[string]string{
		"10.77.0.1:8001": "",
		"10.77.0.1:8004": "verdict omits: omitted 2; findings: listener-no-tfo, kind-alternation",
		"10.77.0.1:8005": "verdict omits: omitted 2; findings: listener-no-tfo, kind-alternation",
	}
	for _, tc := range s.Tests {
		msg, ok := want[tc.Name]
		switch {
		case !ok:
			t.Errorf("unexpected case %q", tc.Name)
		case msg == "" && tc.Status != parser.StatusPassed:
			t.Errorf("%s: %s, want passed", tc.Name, tc.Status)
		case msg != "" && (tc.Status != parser.StatusFailed || tc.Message != msg):
			t.Errorf("%s: %s %q, want failed %q", tc.Name, tc.Status, tc.Message, msg)
		}
	}
}

// TestReportFileErrors: a bad file flag fails before any input is read,
// with one line naming the flag.
func TestReportFileErrors(t *testing.T) {
	dir := t.TempDir()
	in := copyFile(t, listenersCapture, dir, "in.pcap")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--output", "r.json"}, `invalid argument "r.json" for "--output" flag: want FORMAT=FILE`},
		{[]string{"--output", "pdf=r.pdf"}, `unknown format "pdf" (want text, json, markdown, html)`},
		{[]string{"--plot", "t.gif"}, "--plot t.gif: the file name must end in .png or .svg"},
		{[]string{"--output", "json=-"}, "standard output gets --format: use --format json"},
		{[]string{"--plot", "-"}, "--plot -: write the picture to a file"},
		{[]string{"--junit", "-"}, "--junit -: write JUnit XML to a file"},
		{[]string{"--output", "json=" + in}, "--output " + in + " is the same file as input " + in},
		{[]string{"--junit", in}, "--junit " + in + " is the same file as input " + in},
		{[]string{"--output", "html=" + filepath.Join(dir, "same.svg"), "--plot", filepath.Join(dir, "same.svg")},
			"--plot " + filepath.Join(dir, "same.svg") + " is the same file as the --output " + filepath.Join(dir, "same.svg")},
		{[]string{"--output", "html=" + filepath.Join(dir, "no", "r.html")}, "--output " + filepath.Join(dir, "no", "r.html") + ": no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(append(append([]string{"analyze", "-q"}, tt.args...), in)...)
			if code != exitError || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, no report and one line with %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestJUnitChange: on the real change-6.18 capture, the failing case of
// the server that stopped granting names the change with its frames.
func TestJUnitChange(t *testing.T) {
	file := filepath.Join(t.TempDir(), "j.xml")
	if code, _, stderr := runCmd("analyze", "-q", "--fail-on", "mixed", "--junit", file, "../../testdata/captures/change-6.18/change.pcap"); code != exitMatched {
		t.Fatalf("exit %d, want %d: %s", code, exitMatched, stderr)
	}
	suites, err := parser.IngestFile(file)
	if err != nil || len(suites) != 1 {
		t.Fatalf("--junit: %v, %d suites", err, len(suites))
	}
	for _, tc := range suites[0].Tests {
		if tc.Name != "10.77.0.1:8001" {
			continue
		}
		if tc.Status != parser.StatusFailed || !strings.Contains(tc.Message, "; stopped granting: last grant (accepted) 0:52 (SYN 0:51)") ||
			!strings.Contains(tc.Message, "first omission (rejected) 0:62 (SYN 0:61)") {
			t.Errorf("%s: %s %q, want failed with the change point", tc.Name, tc.Status, tc.Message)
		}
		return
	}
	t.Error("no case for 10.77.0.1:8001")
}
