package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
)

// fakeLive is a replay posing as a live capture, in bursts of 30 frames;
// awaits chooses which path Live takes: one goroutine (inlineLive), or a
// stage beside the tracker (liveFeed).
type fakeLive struct {
	burstSource
	awaits  bool
	stopped atomic.Bool
	waits   int
}

func (s *fakeLive) Next(f *capture.Frame) error {
	if s.stopped.Load() {
		return io.EOF
	}
	return s.burstSource.Next(f)
}

func (s *fakeLive) Awaits() bool { return s.awaits }

// Await waits a little at the end of each burst, as for the next block.
func (s *fakeLive) Await(d time.Duration) bool {
	s.waits++
	time.Sleep(min(d, time.Millisecond))
	return true
}

func (s *fakeLive) Stop()              { s.stopped.Store(true) }
func (s *fakeLive) Close() error       { s.stopped.Store(true); return nil }
func (s *fakeLive) Name() string       { return "fake0" }
func (s *fakeLive) Info() capture.Info { return capture.Info{Name: "fake0", Format: "live"} }

func newFakeLive(conns int, awaits bool) *fakeLive {
	return &fakeLive{burstSource: burstSource{newReplaySource(conns, 0), 30}, awaits: awaits}
}

// TestLiveInline: a live capture read and judged on one goroutine judges
// the same attempts as one read by a stage goroutine, waits between the
// bursts, and counts the same frames.
func TestLiveInline(t *testing.T) {
	digests := map[bool]string{}
	for _, awaits := range []bool{true, false} {
		coll := analyze.NewCollector(0)
		src := newFakeLive(300, awaits)
		res, err := Live(context.Background(), src, Config{Sink: coll, ReplyTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status.Judged != 300 || res.Sources[0].Stats.frames != 900 {
			t.Errorf("awaits %v: %d judged from %d frames, want 300 from 900", awaits, res.Status.Judged, res.Sources[0].Stats.frames)
		}
		if awaits && src.waits < 900/30 {
			t.Errorf("awaited %d times for 30 bursts", src.waits)
		}
		digests[awaits] = digest(coll.Summary())
	}
	if digests[true] != digests[false] {
		t.Errorf("inline and stage goroutine differ:\n%s\n%s", digests[true], digests[false])
	}
}

// digest is what a report shows of a summary: each server's verdict and
// outcomes, and each kept attempt's packets and outcome.
func digest(s *analyze.Summary) string {
	var b strings.Builder
	for _, srv := range s.Servers {
		fmt.Fprintf(&b, "%v %v %v\n", srv.Server, srv.Verdict, srv.Outcomes)
	}
	for a := range s.Kept.All() {
		fmt.Fprintf(&b, "%d %v %d %d %v\n", a.ID, a.Client, a.SYN.Frame, a.Reply.Frame, a.Outcome)
	}
	return b.String()
}

// TestLiveInlineCount: --count stops an endless capture read inline, and
// ticks run while it is read.
func TestLiveInlineCount(t *testing.T) {
	ticks := 0
	cfg := Config{Sink: analyze.NewCollector(0), ReplyTimeout: time.Second, Count: 50, TickEvery: time.Millisecond,
		OnTick: func(time.Time, Status) { ticks++ }}
	res, err := Live(context.Background(), newFakeLive(1<<30, true), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status.Judged < 50 {
		t.Errorf("stopped after %d attempts judged, want 50 or more", res.Status.Judged)
	}
	if ticks == 0 {
		t.Error("no tick while the capture ran")
	}
}
