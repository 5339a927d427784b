package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
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
