package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runCmd runs tfopcap in-process and returns its exit code and streams.
func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, streams{strings.NewReader(""), &out, &errb})
	return code, out.String(), errb.String()
}

// copyFile copies src to a new file in dir and returns its path.
func copyFile(t *testing.T, src, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestOutputIsInput checks that an output naming an input, by any path
// (the same name, ./ and ../ detours, a symlink, a hard link), is refused
// with one line before anything is written: the input is left as it was.
func TestOutputIsInput(t *testing.T) {
	dir := t.TempDir()
	in := copyFile(t, "../../testdata/captures/seed-6.1/seed-eth.pcap", dir, "in.pcap")
	orig, _ := os.ReadFile(in)
	if err := os.Symlink(in, filepath.Join(dir, "sym.pcap")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, filepath.Join(dir, "hard.pcap")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, out := range []string{in, "in.pcap", "./in.pcap", "sub/../in.pcap", "sym.pcap", filepath.Join(dir, "hard.pcap")} {
		t.Run(out, func(t *testing.T) {
			code, _, stderr := runCmd("analyze", "-q", "--evidence", out, "in.pcap")
			if code != exitError || strings.Count(stderr, "\n") != 1 ||
				!strings.Contains(stderr, "--evidence "+out+" is the same file as input in.pcap") {
				t.Errorf("exit %d, stderr %q; want exit 2 and one line naming both", code, stderr)
			}
			if now, _ := os.ReadFile(in); !bytes.Equal(now, orig) {
				t.Fatal("the input capture was changed")
			}
		})
	}
	// Through the symlink given as the input, the real file as output.
	if code, _, stderr := runCmd("analyze", "-q", "--evidence", "in.pcap", "sym.pcap"); code != exitError || !strings.Contains(stderr, "same file") {
		t.Errorf("input via symlink: exit %d, stderr %q", code, stderr)
	}
	// live -w P --evidence P: caught before the interface is opened (this
	// one does not exist).
	code, _, stderr := runCmd("live", "-i", "h11a-none", "-w", "x.pcap", "--evidence", "./x.pcap")
	if code != exitError || !strings.Contains(stderr, "-w x.pcap is the same file as the --evidence ./x.pcap") {
		t.Errorf("live: exit %d, stderr %q", code, stderr)
	}
	// A different file in the same place is fine.
	if code, _, stderr := runCmd("analyze", "-q", "--evidence", "other.pcap", "in.pcap"); code != exitOK {
		t.Errorf("distinct output: exit %d: %s", code, stderr)
	}
}

// TestOutputOpenedFirst checks that an output that cannot be created fails
// at once, before the input is read: the input here is a pipe that never
// ends, so reading it first would hang.
func TestOutputOpenedFirst(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	hdr, _ := os.ReadFile("../../testdata/captures/seed-6.1/seed-eth.pcap")
	if _, err := pw.Write(hdr[:24]); err != nil { // a pcap header, then silence
		t.Fatal(err)
	}
	done := make(chan struct{})
	var code int
	var stderr bytes.Buffer
	go func() {
		defer close(done)
		code = run([]string{"analyze", "-q", "--evidence", "/nonexistent/x.pcap", "-"}, streams{pr, &bytes.Buffer{}, &stderr})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		pw.Close()
		<-done
		t.Fatal("--evidence in a missing directory was tried only after the input was read")
	}
	if code != exitError || stderr.String() != "tfopcap: --evidence /nonexistent/x.pcap: no such file or directory\n" {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestOutputIsStdin checks that an output naming the file standard input
// is redirected from (--evidence x.pcap - < x.pcap) is refused too.
func TestOutputIsStdin(t *testing.T) {
	bin := buildTfopcap(t)
	dir := t.TempDir()
	in := copyFile(t, "../../testdata/captures/seed-6.1/seed-eth.pcap", dir, "in.pcap")
	orig, _ := os.ReadFile(in)
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, "analyze", "-q", "--evidence", in, "-")
	cmd.Stdin = f
	out, err := cmd.CombinedOutput()
	if code := exitCodeOf(t, err); code != exitError || !strings.Contains(string(out), "is the same file as input (standard input)") {
		t.Errorf("exit %d: %s", code, out)
	}
	if now, _ := os.ReadFile(in); !bytes.Equal(now, orig) {
		t.Error("the input capture was changed")
	}
}
