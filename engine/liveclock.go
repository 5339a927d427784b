package engine

import (
	"fmt"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
)

// liveClock keeps the tracker's ticks on the packets' timeline by the
// monotonic clock: the capture time of the packet it was last anchored
// on plus the monotonic time since it came (liveFeed anchors it on the
// latest packet but while the tracker is busy: see maxQuick). A tick read
// off the wall clock would
// judge every open attempt unanswered when the system clock steps
// forward (NTP, a suspended VM). Packets whose timestamps (the kernel's
// wall clock) leave that timeline by more than liveStepSlack show a
// step, which is counted.
type liveClock struct {
	pkt   int64     // capture time of the anchor packet
	mono  time.Time // when it came, with its monotonic reading
	steps clockSteps
}

// liveStepSlack absorbs the delay of packets waiting in the kernel's
// buffer before they are read.
const liveStepSlack = int64(5 * time.Second)

func (c *liveClock) packet(ref analyze.PacketRef, now time.Time) {
	if !c.mono.IsZero() {
		if d := ref.Time - c.at(now); d > liveStepSlack || d < -liveStepSlack {
			c.steps.add(ref.Frame, d)
		}
	}
	c.pkt, c.mono = ref.Time, now
}

// at is the capture time at now: the wall clock until a packet came.
func (c *liveClock) at(now time.Time) int64 {
	if c.mono.IsZero() {
		return now.UnixNano()
	}
	return c.pkt + int64(now.Sub(c.mono))
}

func (c *liveClock) warnings(iface string) []string {
	s := c.steps
	if s.n == 0 {
		return nil
	}
	return []string{fmt.Sprintf("the capture clock stepped %d time(s) (first: %s frame %d, by %v): "+
		"packet times before and after a step are not comparable, and attempts open across it may be judged wrongly",
		s.n, iface, s.firstFrame, time.Duration(s.first))}
}
