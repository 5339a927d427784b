package engine

import (
	"context"
	"time"

	"github.com/tfopcap/tfopcap/capture"
)

// awaitingSource is a live source that can wait for its next frame with
// a deadline (capture.Live through AF_PACKET): see inlineLive.
type awaitingSource interface {
	LiveSource
	Buffered() bool
	Awaits() bool
	Await(d time.Duration) bool
}

// inlineLive reads, decodes and judges a live capture on one goroutine.
// The stage's loop reads from it as from its source and hands each batch
// straight to the tracker (stage.deliver); between frames, when the
// kernel has none waiting, it runs the clock's ticks and looks at the
// stops, and it waits for the next frame no longer than the next tick.
//
// With the stage on a goroutine of its own, each block the kernel handed
// over woke both goroutines, and every event was written on one core and
// read on the other: on bench/live.sh's replay the scheduler, the channel
// hand-off and sysmon took 8-9% of the samples, and the stage's stores of
// events into batches the tracker had just read missed the cache. A live
// capture's CPU per packet is what counts, and one core does a
// handshake's work at well over a million packets a second.
type inlineLive struct {
	src      awaitingSource
	run      *run
	stg      *stage
	stops    stops
	every    time.Duration
	nextTick time.Time
	clock    liveClock
	// quick counts the frames read in a row without looking at the ticks
	// and stops: see maxQuickFrames.
	quick int
	// waited: a batch follows a wait for frames, so its last packet is
	// fresh and anchors the clock; batches counts those since the last
	// anchor (see liveFeed's maxQuick).
	waited   bool
	batches  int
	stopping bool
	stopped  bool  // Count reached: the capture was asked to stop
	err      error // the capture's, from the stage's last batch
	fail     error // the evidence file's, which ends the run
}

// maxQuickFrames bounds the frames read in a row, while the kernel keeps
// handing over more, before the ticks and stops are looked at: 4096 are
// under 10 ms at half a million packets a second.
const maxQuickFrames = 4096

// maxAwait bounds a wait for frames, so that a stop is seen as soon as
// capture.Live sees one (it looks each liveReadTimeout).
const maxAwait = 100 * time.Millisecond

func newInlineLive(ctx context.Context, src awaitingSource, r *run, cfg Config, every time.Duration) *inlineLive {
	l := &inlineLive{src: src, run: r, stops: newStops(ctx, cfg), every: every, nextTick: time.Now().Add(every)}
	// Eager: the tracker must see a SYN when it arrives, not 256 SYNs later.
	l.stg = cfg.newStage(0, 0, nil)
	l.stg.src, l.stg.eager, l.stg.deliver = l, true, l.deliver
	return l
}

// runLive runs the capture to its end; an error is the evidence file's.
func (l *inlineLive) runLive() error {
	l.stg.run()
	if l.stops.timer != nil {
		l.stops.timer.Stop()
	}
	if l.fail != nil {
		// The stage stopped short of the end: one more read of the
		// closed capture returns io.EOF and unmaps AF_PACKET's ring,
		// which close leaves to a reader holding a block.
		var f capture.Frame
		_ = l.src.Next(&f)
		l.run.cfg.Evidence.close()
		return l.fail
	}
	return nil
}

// Next is the stage's source: the capture's next frame, once the ticks
// due and the stops are seen to.
func (l *inlineLive) Next(f *capture.Frame) error {
	for !l.stopping {
		if l.quick < maxQuickFrames && l.src.Buffered() {
			l.quick++
			return l.src.Next(f)
		}
		l.quick = 0
		now := time.Now()
		l.tick(now)
		l.lookAtStops()
		if l.stopping {
			break
		}
		if l.src.Await(min(l.nextTick.Sub(now), maxAwait)) {
			l.waited = true
			return l.src.Next(f)
		}
	}
	// Draining what the kernel holds: Next ends the capture. A second
	// Ctrl-C closes it at once.
	l.lookAtStops()
	return l.src.Next(f)
}

// Buffered makes the stage send what it holds when no frame is waiting.
func (l *inlineLive) Buffered() bool { return l.src.Buffered() }

// tick advances the tracker's clock if a tick is due at now.
func (l *inlineLive) tick(now time.Time) {
	if now.Before(l.nextTick) {
		return
	}
	// As a time.Ticker does, a late tick is not made up for.
	if l.nextTick = l.nextTick.Add(l.every); l.nextTick.Before(now) {
		l.nextTick = now.Add(l.every)
	}
	l.run.tick(l.clock.at(now), !l.src.Buffered())
	if on := l.run.cfg.OnTick; on != nil {
		on(now, l.run.status())
	}
	l.stopAtCount()
}

// stopAtCount stops the capture once Count attempts are judged: by the
// events of a batch, or by a tick.
func (l *inlineLive) stopAtCount() {
	if !l.stopped && l.run.sink.full() {
		l.stopped = true
		l.stop()
	}
}

// lookAtStops stops the capture on a signal, at the end of the context or
// at the deadline.
func (l *inlineLive) lookAtStops() {
	select {
	case <-l.stops.signals:
		if l.stopping {
			l.src.Close() // a second Ctrl-C: stop without draining
		}
		l.stop()
	case <-l.stops.done:
		l.stops.done = nil
		l.stop()
	case <-l.stops.deadline:
		l.stop()
	default:
	}
}

func (l *inlineLive) stop() {
	l.stopping = true
	l.src.Stop()
}

// deliver judges a batch from the stage and hands its events back for
// reuse; false ends the stage (the evidence file failed).
func (l *inlineLive) deliver(b batch) bool {
	if b.err != nil {
		l.err = b.err
	}
	if n := len(b.events); n > 0 {
		if l.batches++; l.waited || l.batches >= maxQuick || l.clock.mono.IsZero() {
			l.clock.packet(b.events[n-1].ref, time.Now())
			l.waited, l.batches = false, 0
		}
		if err := l.run.add(b.events); err != nil {
			l.fail = err
			l.src.Close()
			return false
		}
	}
	l.stopAtCount()
	select {
	case l.stg.free <- b.events:
	default:
	}
	return true
}
