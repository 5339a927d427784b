// Package release tests release/run: the static binary and the .deb it
// builds install and run on a machine with no libpcap (nor anything else).
package release

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReleaseInstallsAndRuns builds the release of this machine's Linux
// architecture, checks its checksums and that the binary is static, then
// installs the .deb with dpkg into an empty root and runs tfopcap there,
// chrooted: no libpcap, no libc, no shell.
func TestReleaseInstallsAndRuns(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs Linux and root (dpkg --root, chroot)")
	}
	for _, tool := range []string{"dpkg-deb", "dpkg", "chroot", "sha256sum", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dist := t.TempDir()
	build := exec.Command("bash", "run")
	build.Env = append(os.Environ(), "DIST="+dist, "TARGETS=linux/"+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("release/run: %v\n%s", err, out)
	}
	if out, err := command(dist, "sha256sum", "-c", "SHA256SUMS").CombinedOutput(); err != nil {
		t.Fatalf("SHA256SUMS: %v\n%s", err, out)
	}
	bins, _ := filepath.Glob(filepath.Join(dist, "tfopcap-*-linux-"+runtime.GOARCH))
	debs, _ := filepath.Glob(filepath.Join(dist, "tfopcap_*_"+runtime.GOARCH+".deb"))
	if len(bins) != 1 || len(debs) != 1 {
		t.Fatalf("dist holds binaries %q and packages %q", bins, debs)
	}
	checkStatic(t, bins[0])

	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("dpkg", "--root="+root, "-i", debs[0]).CombinedOutput(); err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	for _, f := range []string{"usr/bin/tfopcap", "usr/share/man/man1/tfopcap.1.gz", "usr/share/bash-completion/completions/tfopcap",
		"usr/share/zsh/vendor-completions/_tfopcap", "usr/share/fish/vendor_completions.d/tfopcap.fish"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("the .deb did not install %s", f)
		}
	}
	capture, err := os.ReadFile(filepath.Join("..", "testdata", "captures", "seed-6.1", "seed-eth.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "seed.pcap"), capture, 0o644); err != nil {
		t.Fatal(err)
	}

	chrooted := func(args ...string) (string, string, int) {
		cmd := exec.Command("chroot", append([]string{root, "/usr/bin/tfopcap"}, args...)...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("chroot %v: %v", args, err)
		}
		return stdout.String(), stderr.String(), code
	}
	if out, errOut, code := chrooted("version"); code != 0 || !strings.HasPrefix(out, "tfopcap v") || !strings.Contains(out, "linux/"+runtime.GOARCH) {
		t.Errorf("version: exit %d: %q %q", code, out, errOut)
	}
	out, errOut, code := chrooted("analyze", "/seed.pcap")
	if code != 0 || !strings.Contains(out, "10.77.0.1:8002  grants") || !strings.Contains(out, "[fd77::1]:8001  omits") {
		t.Errorf("analyze: exit %d:\n%s%s", code, out, errOut)
	}
	// live: the pure-Go capture lists interfaces; a build without one says
	// in one line that it needs libpcap. Either way, no crash.
	out, errOut, code = chrooted("live", "-D")
	switch {
	case code == 0 && strings.Contains(out, "lo"):
	case code == 2 && strings.Count(errOut, "\n") == 1 && strings.Contains(errOut, "need libpcap"):
	default:
		t.Errorf("live -D: exit %d:\n%s%s", code, out, errOut)
	}
}

// command is exec.Command run in dir.
func command(dir, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	return cmd
}

// checkStatic fails unless the ELF file at path asks for no dynamic
// loader and no shared library (so it needs no libpcap, nor libc).
func checkStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a dynamic loader: not static", path)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs shared libraries %q", path, libs)
	}
}
