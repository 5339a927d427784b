package main

import (
	"bufio"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/internal/capturetest"
	"github.com/tfopcap/tfopcap/internal/netnslab"
)

// exitStatus waits for cmd to end and returns its exit code, failing the
// test if a signal killed it.
func exitStatus(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	return exitCodeOf(t, cmd.Wait())
}

// exitCodeOf is the exit code of a process whose Wait returned err.
func exitCodeOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if ee.ExitCode() < 0 {
		t.Fatalf("killed: %v", ee.ProcessState)
	}
	return ee.ExitCode()
}

// TestAnalyzeClosedStdout checks that a reader going away (| head) ends
// analyze with exit 0, not death by SIGPIPE, after --evidence is complete.
func TestAnalyzeClosedStdout(t *testing.T) {
	bin := buildTfopcap(t)
	ev := filepath.Join(t.TempDir(), "ev.pcap")
	cmd := exec.Command(bin, "analyze", "--attempts", "--evidence", ev, "--evidence-outcomes", "plain,granted,omitted", "../../testdata/captures/host-6.18/host-eth.pcap")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pr.Close() // the reader is gone before the first write
	cmd.Stdout = pw
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := exitStatus(t, cmd); code != exitOK {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	if len(capturetest.ReadFrames(t, ev)) == 0 {
		t.Error("evidence file is empty")
	}
}

// TestLiveClosedStdout runs `tfopcap live --attempts -w F | head -3` on a
// veth with real handshakes: when head exits, live must stop as on
// Ctrl-C, leave F a complete pcap and exit 0, not die of SIGPIPE mid-record.
func TestLiveClosedStdout(t *testing.T) {
	p := netnslab.NewPair(t)
	bin := buildTfopcap(t)
	srv, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV4, 8001), FastOpen: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	saved := filepath.Join(t.TempDir(), "live.pcap")
	cmd := p.Server.Command(bin, "live", "-i", p.ServerIf, "--attempts", "--reply-timeout", "1s", "-w", saved)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	exited := make(chan error, 1)
	lines := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		n := 0
		for n < 3 && sc.Scan() {
			n++
		}
		stdout.Close() // head -3 exits
		lines <- n
	}()
	for !strings.Contains(stderr.String(), "listening on") {
		time.Sleep(10 * time.Millisecond)
	}
	go func() { exited <- cmd.Wait() }()
	// Connections until live has exited: 3 lines, then one more attempt
	// whose line meets the closed pipe.
	deadline := time.After(15 * time.Second)
	for done := false; !done; {
		select {
		case err := <-exited:
			if code := exitCodeOf(t, err); code != exitOK {
				t.Errorf("exit %d:\n%s", code, stderr.String())
			}
			done = true
		case <-deadline:
			t.Fatalf("live still running 15s on:\n%s", stderr.String())
		default:
			if _, err := p.Client.Dial(netnslab.DialConfig{Server: srv.Addr()}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if n := <-lines; n != 3 {
		t.Errorf("read %d attempt lines, want 3", n)
	}
	frames := capturetest.ReadFrames(t, saved) // fails on a record cut short
	if len(frames) < 6 {
		t.Errorf("-w file holds %d frames, want the SYNs and SYN-ACKs of 3 attempts and more", len(frames))
	}
}

// TestLiveWriteFull checks that -w on a device that takes nothing
// (/dev/full) fails the run with one line naming it, instead of exit 0 with
// the capture lost.
func TestLiveWriteFull(t *testing.T) {
	p := netnslab.NewPair(t)
	bin := buildTfopcap(t)
	cmd := p.Server.Command(bin, "live", "-i", p.ServerIf, "--duration", "300ms", "-w", "/dev/full")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd); code != exitError {
		t.Errorf("exit %d, want 2", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if last := lines[len(lines)-1]; last != "tfopcap: live: -w /dev/full: no space left on device; the capture stopped there" {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "capture ended early") {
		t.Errorf("a write error reported as an early end:\n%s", stderr.String())
	}
}

// TestEvidenceWriteFull checks the same for analyze --evidence.
func TestEvidenceWriteFull(t *testing.T) {
	code, _, stderr := runCmd("analyze", "-q", "--evidence", "/dev/full", "--evidence-outcomes", "plain,granted,omitted", "../../testdata/captures/host-6.18/host-eth.pcap")
	if code != exitError || stderr != "tfopcap: --evidence /dev/full: no space left on device\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
