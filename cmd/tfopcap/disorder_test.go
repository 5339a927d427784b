package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/tfopcap/tfopcap/capture"
)

// TestDisorderedCapture checks that a file whose SYN-ACKs and RSTs were
// written before their SYNs (as a capture from several interfaces at once
// can be) gives the same verdicts as the ordered capture.
func TestDisorderedCapture(t *testing.T) {
	src := "../../testdata/captures/host-6.18/host-eth.pcap"
	frames := readFrames(t, src)
	rng := rand.New(rand.NewPCG(7, 7))
	// Swap neighbours at random: each frame may move one place, a slip
	// of well under a millisecond in this capture.
	for i := 1; i < len(frames); i++ {
		if rng.IntN(2) == 0 {
			frames[i-1], frames[i] = frames[i], frames[i-1]
		}
	}
	out := filepath.Join(t.TempDir(), "disordered.pcap")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := capture.WriteFrames(f, frames); err != nil {
		t.Fatal(err)
	}
	f.Close()
	want, got := analyzeJSON(t, src), analyzeJSON(t, out)
	if len(got.Servers) != len(want.Servers) {
		t.Fatalf("%d servers, ordered capture %d", len(got.Servers), len(want.Servers))
	}
	for i := range want.Servers {
		if a, b := serverGot(got.Servers[i]), serverGot(want.Servers[i]); a != b || got.Servers[i].SYNACKWithoutSYN != 0 {
			t.Errorf("%s: %s (%d SYN-ACKs without SYN), ordered capture %s", want.Servers[i].Server, a, got.Servers[i].SYNACKWithoutSYN, b)
		}
	}
}
