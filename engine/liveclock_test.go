package engine

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
)

// TestLiveClockStep checks live's tick clock: ticks follow the monotonic
// clock from the latest packet, so a step of the system clock cannot move
// them (before, ticks read the wall clock: a step forward judged every
// open attempt unanswered), and packets stamped off that timeline are
// counted as a clock step.
func TestLiveClockStep(t *testing.T) {
	var c liveClock
	start := time.Now()
	pkt := int64(1764113221e9)
	c.packet(analyze.PacketRef{Frame: 1, Time: pkt}, start)
	c.packet(analyze.PacketRef{Frame: 2, Time: pkt + 1e9}, start.Add(time.Second))
	if got := c.at(start.Add(3 * time.Second)); got != pkt+3e9 {
		t.Errorf("tick 3 s after the first packet: %d, want %d", got, pkt+3e9)
	}
	if len(c.warnings("eth0")) != 0 {
		t.Fatalf("warnings before any step: %q", c.warnings("eth0"))
	}
	// The system clock steps one hour ahead: packets say so, the
	// monotonic clock does not.
	c.packet(analyze.PacketRef{Frame: 3, Time: pkt + 2e9 + int64(time.Hour)}, start.Add(2*time.Second))
	w := c.warnings("eth0")
	if len(w) != 1 || !strings.Contains(w[0], "eth0 frame 3") || !strings.Contains(w[0], "1h0m0s") {
		t.Errorf("warnings %q: want one step at eth0 frame 3 by 1h0m0s", w)
	}
}

// TestLiveTickWaitsForIdle: a live tick moves the tracker's clock only
// when no event came since the previous tick and no frame waits, and
// then to FrameDelay before its reading, so that it never passes a packet
// not yet judged (which analyze of the -w file would judge first).
func TestLiveTickWaitsForIdle(t *testing.T) {
	const syn = 5_000_000_000
	r := newRun(Config{Sink: analyze.NewCollector(0)}, time.Second)
	seg := analyze.Segment{Src: netip.MustParseAddrPort("192.0.2.1:40000"), Dst: netip.MustParseAddrPort("192.0.2.2:443"),
		Flags: analyze.FlagSYN, Seq: 1}
	if err := r.add([]event{{ref: analyze.PacketRef{Frame: 1, Time: syn}, seg: seg}}); err != nil {
		t.Fatal(err)
	}
	late := int64(syn + 3e9) // past the 1 s reply timeout and a sweep point
	for i, step := range []struct {
		at     int64
		idle   bool
		judged int
	}{
		{late, true, 0},  // the SYN came since the last tick
		{late, false, 0}, // a frame waits
		// Idle, and the reading is past the sweep point after the SYN's
		// deadline (6 s), but a frame FrameDelay old could still come.
		{7e9 + int64(capture.FrameDelay)/2, true, 0},
		{late, true, 1},
	} {
		r.tick(step.at, step.idle)
		if got := r.sink.judged; got != step.judged {
			t.Fatalf("tick %d at %d (idle %v): %d attempts judged, want %d", i, step.at, step.idle, got, step.judged)
		}
	}
}
