// Package release tests release/run: the static binary and the .deb it
// builds install and run on a machine with no libpcap (nor anything else).
package release

import (
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestReleaseInstallsAndRuns builds the release of this machine's Linux
// architecture, checks its checksums and that the binary is static, then
// installs the .deb with dpkg into an empty root and runs tfopcap there,
// chrooted: no libpcap, no libc, no shell. analyze reads a bundled
// capture, and live captures a real attempt through AF_PACKET.
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
	if len(bins) != 2 || len(debs) != 1 || !strings.Contains(bins[0]+bins[1], "/tfopcap-metrics-") {
		t.Fatalf("dist holds binaries %q and packages %q: want tfopcap and tfopcap-metrics, and one package", bins, debs)
	}
	for _, bin := range bins {
		checkStatic(t, bin)
	}
	// A Debian version starts with a digit; a bare commit would sort as
	// a huge number above every real release.
	version, err := exec.Command("dpkg-deb", "-f", debs[0], "Version").Output()
	if v := strings.TrimSpace(string(version)); err != nil || !regexp.MustCompile(`^\d+\.\d+\.\d+(\+[0-9a-z.]+)?$`).MatchString(v) {
		t.Errorf("the .deb's version %q (%v): want 1.2.3 or 0.1.0+gCOMMIT", v, err)
	}

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
	for _, f := range []string{"usr/bin/tfopcap", "usr/bin/tfopcap-metrics", "usr/share/man/man1/tfopcap.1.gz", "usr/share/bash-completion/completions/tfopcap",
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
	if out, errOut, code := chrooted("version"); code != 0 || !strings.HasPrefix(out, "tfopcap v") || !strings.Contains(out, "linux/"+runtime.GOARCH+", without cgo: live captures through AF_PACKET") {
		t.Errorf("version: exit %d: %q %q", code, out, errOut)
	} else if head, _ := exec.Command("git", "rev-parse", "HEAD").Output(); plainClone() && !strings.Contains(out, "revision: "+strings.TrimSpace(string(head))) {
		// Go stamps no VCS information in a git worktree (.git is a
		// file there), only in a clone, as CI's.
		t.Errorf("version does not name the commit %s:\n%s", head, out)
	}
	out, errOut, code := chrooted("analyze", "/seed.pcap")
	if code != 0 || !strings.Contains(out, "10.77.0.1:8002  grants") || !strings.Contains(out, "[fd77::1]:8001  omits") {
		t.Errorf("analyze: exit %d:\n%s%s", code, out, errOut)
	}
	out, errOut, code = chrooted("live", "-D")
	if code != 0 || !strings.Contains(out, ".lo [Up") {
		t.Errorf("live -D: exit %d:\n%s%s", code, out, errOut)
	}
	liveInChroot(t, root)
}

// liveScript brings lo up in a new network namespace, runs the chrooted
// tfopcap live on it until one attempt is judged, and makes that attempt:
// bash connects to a closed port, and the kernel answers RST.
const liveScript = `ip link set lo up
chroot "$1" /usr/bin/tfopcap live -i lo --count 1 --format json --metrics-addr 127.0.0.1:0 >"$2" 2>"$3" &
for i in $(seq 300); do grep -q "listening on" "$3" && break; sleep 0.1; done
(echo >/dev/tcp/127.0.0.1/9) 2>/dev/null
wait $!
`

// liveInChroot captures live with the static binary in the empty root,
// through AF_PACKET: the report must judge the one refused attempt. With
// --metrics-addr, tfopcap execs the package's tfopcap-metrics, found in
// PATH (the chroot has no /proc to find it beside itself), which serves
// /metrics as it captures.
func liveInChroot(t *testing.T, root string) {
	for _, tool := range []string{"unshare", "ip", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Logf("%s not installed: live in the chroot not run", tool)
			return
		}
	}
	dir := t.TempDir()
	report, stderr := filepath.Join(dir, "live.json"), filepath.Join(dir, "live.err")
	out, err := exec.Command("timeout", "60", "unshare", "-n", "--", "bash", "-c", liveScript, "bash", root, report, stderr).CombinedOutput()
	errOut, _ := os.ReadFile(stderr)
	if err != nil {
		t.Fatalf("live in the chroot: %v\n%s%s", err, out, errOut)
	}
	var r struct {
		Totals struct {
			Attempts int            `json:"attempts"`
			Outcomes map[string]int `json:"outcomes"`
		} `json:"totals"`
	}
	data, _ := os.ReadFile(report)
	if err := json.Unmarshal(data, &r); err != nil || r.Totals.Attempts != 1 || r.Totals.Outcomes["refused"] != 1 {
		t.Errorf("live report: %v, totals %+v\n%s\n%s", err, r.Totals, data, errOut)
	}
	if !strings.Contains(string(errOut), "tfopcap: serving metrics on http://127.0.0.1:") {
		t.Errorf("live --metrics-addr in the chroot did not serve metrics:\n%s", errOut)
	}
}

// plainClone reports whether the source is a git clone, not a worktree
// (whose .git is a file, where Go stamps no VCS information).
func plainClone() bool {
	st, err := os.Stat(filepath.Join("..", ".git"))
	return err == nil && st.IsDir()
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
