package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tfopcap/tfopcap/internal/schematest"
)

// TestSeedCheck boots Debian 12's Linux 6.1 under qemu and runs tfopcap
// check next to the seed's Go MPTCP listener (testdata/lab/run-seed-check,
// which asserts what check must say). It takes a minute or more, so it
// runs only with TFOPCAP_SEED_LAB=1.
func TestSeedCheck(t *testing.T) {
	if os.Getenv("TFOPCAP_SEED_LAB") != "1" {
		t.Skip("boots a Linux 6.1 guest under qemu: set TFOPCAP_SEED_LAB=1 to run it")
	}
	if os.Geteuid() != 0 {
		t.Skip("run-seed-check needs root")
	}
	out := filepath.Join(t.TempDir(), "check.json")
	cmd := exec.Command(filepath.Join("..", "..", "testdata", "lab", "run-seed-check"), out)
	b, err := cmd.CombinedOutput()
	t.Logf("%s", b)
	if err != nil {
		t.Fatalf("run-seed-check: %v", err)
	}
	report, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	schematest.ValidateCheck(t, report)
}
