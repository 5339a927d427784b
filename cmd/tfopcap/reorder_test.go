package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
)

func TestReorder(t *testing.T) {
	at := func(ms int64, frame int) event {
		return event{ref: analyze.PacketRef{Time: ms * 1e6, Frame: frame}}
	}
	var out []int
	emit := func(ev event) { out = append(out, ev.ref.Frame) }
	var r reorder
	// Frames 2 and 3 slipped behind 4 by a few milliseconds and are put
	// back. Frames 6 and 9 come 380 and 900 ms late, past the window:
	// what was already handed out stays out, and they follow at once.
	for _, ev := range []event{at(0, 1), at(10, 4), at(5, 2), at(7, 3), at(400, 5), at(20, 6), at(401, 7), at(1000, 8), at(100, 9)} {
		r.push(ev, emit)
	}
	r.drain(emit)
	if want := []int{1, 2, 3, 4, 6, 5, 7, 9, 8}; !slices.Equal(out, want) {
		t.Errorf("order %v, want %v", out, want)
	}
}

// TestDisorderedCapture checks that a file whose SYN-ACKs were written
// before their SYNs (as a capture from several interfaces at once can be)
// gives the same verdicts as the ordered capture.
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
