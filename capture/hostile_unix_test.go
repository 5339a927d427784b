//go:build unix

package capture

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOpenPermissionDenied needs a file its process cannot read. Root
// reads any file, so as root the test runs itself again as nobody.
func TestOpenPermissionDenied(t *testing.T) {
	if p := os.Getenv("CAPTURE_TEST_UNREADABLE"); p != "" {
		_, err := Open(p)
		fmt.Printf("OPEN-ERROR=%v\n", err)
		return
	}
	dir := t.TempDir()
	path := writeTemp(t, "f.pcap", readFile(t, publicFile(t, "tcpdump_tfo-exp254-syndata.pcap")))
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	want := path + ": permission denied"
	if os.Geteuid() != 0 {
		_, err := Open(path)
		if err == nil || err.Error() != want || !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("got %v, want %q", err, want)
		}
		return
	}
	// Copy the test binary where nobody may run it, and run this test.
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary: %v", err)
	}
	bin := filepath.Join(dir, "capture.test")
	if err := os.WriteFile(bin, readFile(t, exe), 0o755); err != nil {
		t.Fatal(err)
	}
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for d := filepath.Dir(path); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run=^TestOpenPermissionDenied$")
	cmd.Env = append(os.Environ(), "CAPTURE_TEST_UNREADABLE="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("cannot run the test as nobody: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "OPEN-ERROR="+want+"\n") {
		t.Errorf("as nobody: %s\nwant OPEN-ERROR=%s", out, want)
	}
}
