//go:build linux && cgo

package main

import (
	"bytes"
	"debug/elf"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPcapStaticBuild builds with -tags pcapstatic (pcapstatic.go) where
// the static archives are installed: the binary must need no libpcap.so,
// and libpcap's filter compiler, linked in, must give the report the
// default build gives.
func TestPcapStaticBuild(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tfopcap-static")
	if out, err := exec.Command("go", "build", "-tags", "pcapstatic", "-o", bin, ".").CombinedOutput(); err != nil {
		if bytes.Contains(out, []byte("cannot find -l:lib")) {
			t.Skipf("no static libpcap or libdbus here: %s", strings.TrimSpace(string(out)))
		}
		t.Fatalf("go build -tags pcapstatic: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	needed, err := f.ImportedLibraries()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(needed, func(lib string) bool { return strings.HasPrefix(lib, "libpcap") }); i >= 0 {
		t.Errorf("the pcapstatic build still loads %s (needs %q)", needed[i], needed)
	}
	args := []string{"analyze", "--format", "json", "-f", "tcp port 8001", "../../testdata/captures/seed-6.1/seed-eth.pcap"}
	want, err := exec.Command(buildTfopcap(t), args...).Output()
	if err != nil {
		t.Fatalf("default build: %v", err)
	}
	got, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("pcapstatic build: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the pcapstatic build's report differs from the default build's:\n%s\ndefault:\n%s", got, want)
	}
}
