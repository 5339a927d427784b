//go:build linux

package probe_test

import (
	"os"
	"os/exec"
	"testing"
)

// TestSeedProbeLab runs testdata/lab/run-seed-probe: tfopcap probe against
// Debian 12's Linux 6.1 under qemu, which must find the seed as root and
// as nobody. It takes about half a minute under TCG once the kernel
// package is cached, so it runs only with TFOPCAP_SEED_LAB=1.
func TestSeedProbeLab(t *testing.T) {
	if os.Getenv("TFOPCAP_SEED_LAB") != "1" {
		t.Skip("the qemu seed lab runs with TFOPCAP_SEED_LAB=1")
	}
	if os.Geteuid() != 0 {
		t.Fatal("TFOPCAP_SEED_LAB=1 needs root")
	}
	out, err := exec.Command("../testdata/lab/run-seed-probe").CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("run-seed-probe: %v", err)
	}
}
