package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
)

// Source is where frames come from: a capture file or a live interface.
type Source interface {
	Next(f *capture.Frame) error
}

// LiveSource is a capture on an interface: it runs until stopped.
type LiveSource interface {
	Source
	// Stop ends the capture once what the kernel holds is read; Next
	// then returns io.EOF.
	Stop()
	// Close ends it at once. Safe from any goroutine, more than once.
	Close() error
	Name() string
	Info() capture.Info
}

// Config says where judged attempts go and when a run stops. A run stops
// at the end of its input, or earlier: when ctx is done, on a signal, after
// Duration, or once Count attempts are judged.
type Config struct {
	// Sink receives each judged attempt and each reply to no SYN: the
	// collector of the report.
	Sink analyze.Sink
	// OnAttempt, when set, sees each judged attempt after Sink (live
	// streams attempt lines). The Attempt is reused after the call.
	OnAttempt func(*analyze.Attempt)
	Servers   *ServerFilter // nil: every server
	// Filter is a tcpdump expression applied to every frame of a file
	// first ("" none; a live capture gives it to the kernel).
	Filter string
	// Evidence, when set, receives the frames of the attempts it keeps;
	// the run closes it.
	Evidence *Evidence
	// ReplyTimeout is how long an attempt waits for its reply; 0 is
	// analyze.DefaultReplyTimeout.
	ReplyTimeout time.Duration
	// Signals stop the run: the first once the input read so far is
	// judged, a second (live) at once.
	Signals  <-chan os.Signal
	Duration time.Duration // 0: no limit
	// Count stops the run once this many attempts are judged, and lets no
	// more into Sink (0: no limit).
	Count int
	// OnTick, when set, is called every TickEvery while a live capture
	// runs (a status line), after the tracker's clock has moved on.
	OnTick    func(now time.Time, s Status)
	TickEvery time.Duration // 0: DefaultTick
}

// DefaultTick is how often a live run advances the tracker's clock, so
// that unanswered attempts are judged while no packet comes.
const DefaultTick = 250 * time.Millisecond

// Status is what a run has judged so far.
type Status struct {
	Judged   int
	Outcomes analyze.OutcomeCounts
	Open     int // attempts not judged yet: unanswered, or answered and lingering for late copies
	// Early counts attempts judged unanswered before their reply timeout,
	// to keep memory bounded: too many open at once, or newer attempts on
	// the same flow (the run's warnings say which).
	Early int
}

// Summary is "12 attempts (granted 3, omitted 9)".
func (s Status) Summary() string {
	var parts []string
	for _, oc := range analyze.Outcomes() {
		if n := s.Outcomes[oc]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", oc, n))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%d attempts", s.Judged)
	}
	return fmt.Sprintf("%d attempts (%s)", s.Judged, strings.Join(parts, ", "))
}

// Result is what a run leaves besides the attempts it handed to Sink.
type Result struct {
	Sources []SourceResult // in the order given
	// Warnings say what the tracker could not judge as it should and, in
	// a live capture, that its clock stepped.
	Warnings []string
	// EvidenceWarnings say which attempts the evidence file left out.
	EvidenceWarnings []string
	Status
}

// SourceResult describes one source once read.
type SourceResult struct {
	Info  capture.Info
	Stats *SourceStats
	// Err ended the source early; the attempts before it are judged.
	Err error
}

// Files judges capture files as one capture, merged by timestamp. Files
// are opened as the merge reaches them and closed once read.
func Files(ctx context.Context, inputs []*FileInput, cfg Config) (*Result, error) {
	r := newRun(cfg, 0)
	stages := make([]*stage, len(inputs))
	quit := make(chan struct{})
	for i, in := range inputs {
		stages[i] = cfg.newFileStage(i, stageQueue(len(inputs)), quit)
		stages[i].in, stages[i].first = in, in.first
		stages[i].flows = r.tracker.FlowHasher()
		if cfg.Filter != "" {
			stages[i].bpf = capture.NewFilter(cfg.Filter)
		}
	}
	m := newMerger(stages)
	if err := r.consume(&fileFeed{m: m, quit: quit, stops: newStops(ctx, cfg)}); err != nil {
		return nil, err
	}
	if m.err != nil {
		if cfg.Evidence != nil {
			cfg.Evidence.close()
		}
		return nil, m.err
	}
	r.tracker.Flush()
	collectTrackerGarbage()
	res, err := r.result()
	if err != nil {
		return nil, err
	}
	for i, in := range inputs {
		src := SourceResult{Info: in.info, Stats: &stages[i].stats, Err: m.errs[i]}
		var fe *filterError
		if errors.As(src.Err, &fe) {
			return nil, fmt.Errorf("%s: %w", capture.DisplayName(in.name), fe.err)
		}
		res.Sources = append(res.Sources, src)
	}
	res.Warnings = r.trackerWarnings(func(ref analyze.PacketRef) string {
		name := fmt.Sprintf("input %d", ref.Input)
		if ref.Input >= 0 && ref.Input < len(inputs) {
			name = capture.DisplayName(inputs[ref.Input].name)
		}
		return fmt.Sprintf("%s frame %d", name, ref.Frame)
	})
	return res, nil
}

// smallHeap is the heap below which collecting the tracker's garbage
// gains nothing: the runtime's own first collection waits for 4 MB.
const smallHeap = 4 << 20

// collectTrackerGarbage collects the tracker's tables once it is done, so
// that the report reuses their memory (peak RSS 35.7 -> 28.5 MB on the 64
// MB handshake capture, no measurable time). Not on a small heap: a
// collection scans gopacket/layers' 5 MB of tables, which a short run
// never touches otherwise, and faulting those pages in was half the
// start-up time of an empty capture (1300 of 1965 page faults, 3 ms).
func collectTrackerGarbage() {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() < smallHeap {
		return
	}
	runtime.GC()
}

// Live judges a live capture until it is stopped: by ctx, a signal,
// Duration or Count; a reader error ends it too (SourceResult.Err).
// Attempts still waiting for a reply then are judged at once, as at the
// end of a file.
func Live(ctx context.Context, src LiveSource, cfg Config) (*Result, error) {
	r := newRun(cfg, cfg.ReplyTimeout)
	every := cfg.TickEvery
	if every <= 0 {
		every = DefaultTick
	}
	var stg *stage
	var clock *liveClock
	var srcErr error
	if a, ok := src.(awaitingSource); ok && a.Awaits() {
		l := newInlineLive(ctx, a, r, cfg, every)
		if err := l.runLive(); err != nil {
			return nil, err
		}
		stg, clock, srcErr = l.stg, &l.clock, l.err
	} else {
		quit := make(chan struct{})
		// Eager: the tracker must see a SYN when it arrives, not 256 SYNs later.
		stg = cfg.newStage(0, 64, quit)
		stg.src, stg.eager = src, true
		stg.flows = r.tracker.FlowHasher()
		go stg.run()
		f := &liveFeed{src: src, stg: stg, quit: quit, stops: newStops(ctx, cfg), tick: time.NewTicker(every)}
		defer f.tick.Stop()
		if err := r.consume(f); err != nil {
			return nil, err
		}
		clock, srcErr = &f.clock, f.err
	}
	r.tracker.Flush()
	res, err := r.result()
	if err != nil {
		return nil, err
	}
	res.Sources = []SourceResult{{Info: src.Info(), Stats: &stg.stats, Err: srcErr}}
	res.Warnings = r.trackerWarnings(func(ref analyze.PacketRef) string {
		return fmt.Sprintf("%s frame %d", src.Name(), ref.Frame)
	})
	res.Warnings = append(res.Warnings, clock.warnings(src.Name())...)
	return res, nil
}

// newStage returns a stage reading into a channel of depth batches.
func (cfg *Config) newStage(input, depth int, quit <-chan struct{}) *stage {
	s := cfg.newFileStage(input, depth, quit)
	s.out = make(chan batch, depth)
	return s
}

// newFileStage is newStage for one of a run's files, whose channel start
// makes: each channel takes 350 bytes, and of 3000 rotation files only a
// few are read at once.
func (cfg *Config) newFileStage(input, depth int, quit <-chan struct{}) *stage {
	return &stage{input: input, servers: cfg.Servers, evidence: cfg.Evidence != nil,
		evidenceDone: cfg.Evidence.doneServers(), depth: depth, quit: quit}
}

// run is the judging common to every source: tracker, evidence, count.
type run struct {
	cfg     Config
	tracker *analyze.Tracker
	sink    countingSink
	// judging: events came since the last tick (see tick).
	judging bool
}

func newRun(cfg Config, replyTimeout time.Duration) *run {
	r := &run{cfg: cfg}
	r.sink = countingSink{sink: cfg.Sink, evidence: cfg.Evidence, limit: cfg.Count, onJudged: cfg.OnAttempt}
	r.tracker = analyze.NewTracker(&r.sink, replyTimeout.Nanoseconds())
	return r
}

// feed hands the consume loop what comes next from its sources.
type feed interface {
	// next returns the next step, false at the end of the input. The
	// events of a step are valid until the following call.
	next() (step, bool)
	// stop ends the input soon: next reports the end once what was read
	// is handed out (live) or at once (files).
	stop()
	// abort ends the input at once and waits for its readers to end.
	abort()
}

// step is either events, in time order, or a tick of the clock.
type step struct {
	events []event
	tick   bool
	now    time.Time // tick: the wall clock
	at     int64     // tick: the capture's time at now
	idle   bool      // tick: no batch waits to be judged
}

// consume is the one loop every source goes through: each event to the
// tracker (and its frame to the evidence), each tick to the tracker's
// clock, until the feed ends or Count attempts are judged.
func (r *run) consume(f feed) error {
	ev := r.cfg.Evidence
	stopped := false
	for {
		s, ok := f.next()
		if !ok {
			return nil
		}
		if s.tick {
			r.tick(s.at, s.idle)
			if r.cfg.OnTick != nil {
				r.cfg.OnTick(s.now, r.status())
			}
		}
		if err := r.add(s.events); err != nil {
			f.abort()
			ev.close()
			return err
		}
		if !stopped && r.sink.full() {
			stopped = true
			f.stop()
		}
	}
}

// tick moves the tracker's clock to a live capture's clock reading at,
// so that attempts are judged while no packet comes; idle: no frame waits
// to be read. It must never pass a packet not yet judged, or live would
// judge otherwise than analyze of the file it wrote (-w): what the kernel
// holds may be FrameDelay old, and while events come (or frames wait)
// their own times move the clock, so the tick leaves it alone.
func (r *run) tick(at int64, idle bool) {
	if idle && !r.judging {
		r.tracker.Advance(at - int64(capture.FrameDelay))
	}
	r.judging = false
}

// add feeds events to the tracker and their frames to the evidence; an
// error is the evidence file's.
func (r *run) add(events []event) error {
	ev := r.cfg.Evidence
	r.judging = r.judging || len(events) > 0
	for i := range events {
		if j := i + prefetchAhead; j < len(events) {
			r.tracker.Prefetch(&events[j].seg)
		}
		e := &events[i]
		id := r.tracker.Add(e.ref, &e.seg)
		if ev != nil {
			ev.add(id, serverSide(&e.seg), e.ref, e.raw)
			if err := ev.failed(); err != nil {
				return err
			}
		}
	}
	return nil
}

// prefetchAhead is how many events ahead of the tracker its lookups are
// prefetched.
const prefetchAhead = 8

func (r *run) status() Status {
	t := r.tracker
	return Status{Judged: r.sink.judged, Outcomes: r.sink.outcomes, Open: t.Open(), Early: t.Early() + t.EarlyPerFlow().N}
}

// result closes the evidence file and sums up the run.
func (r *run) result() (*Result, error) {
	res := &Result{Status: r.status()}
	if ev := r.cfg.Evidence; ev != nil {
		w, err := ev.close()
		if err != nil {
			return nil, err
		}
		res.EvidenceWarnings = w
	}
	return res, nil
}

// countingSink sits between the tracker and Config.Sink: it counts
// outcomes, hands attempts to the evidence and OnAttempt, and enforces
// Count, after which it lets no more attempts through.
type countingSink struct {
	sink     analyze.Sink
	evidence *Evidence
	limit    int // 0: none
	judged   int
	outcomes analyze.OutcomeCounts
	onJudged func(a *analyze.Attempt)
}

func (s *countingSink) full() bool { return s.limit > 0 && s.judged >= s.limit }

func (s *countingSink) Attempt(a *analyze.Attempt) {
	if s.full() {
		return
	}
	s.judged++
	s.outcomes[a.Outcome]++
	if s.evidence != nil {
		s.evidence.finalised(a)
	}
	s.sink.Attempt(a)
	if s.onJudged != nil {
		s.onJudged(a)
	}
}

func (s *countingSink) OrphanReply(server netip.AddrPort, ref analyze.PacketRef) {
	if s.full() {
		return
	}
	s.sink.OrphanReply(server, ref)
}

// stops are the conditions that end a run before its input does.
type stops struct {
	done     <-chan struct{}
	signals  <-chan os.Signal
	deadline <-chan time.Time
	timer    *time.Timer
}

func newStops(ctx context.Context, cfg Config) stops {
	s := stops{done: ctx.Done(), signals: cfg.Signals}
	if cfg.Duration > 0 {
		s.timer = time.NewTimer(cfg.Duration)
		s.deadline = s.timer.C
	}
	return s
}

// fileFeed hands out the merged events of files one at a time.
type fileFeed struct {
	m     *merger
	quit  chan struct{}
	stops stops
	n     int // events since the stop conditions were last looked at
	ended bool
}

// stopCheckEvery is how many events pass between looks at the stop
// conditions: a select is cheap, but not free per packet.
const stopCheckEvery = 256

func (f *fileFeed) next() (step, bool) {
	if f.ended {
		return step{}, false
	}
	if f.n++; f.n == stopCheckEvery {
		f.n = 0
		select {
		case <-f.stops.done:
			f.stop()
		case <-f.stops.signals:
			f.stop()
		case <-f.stops.deadline:
			f.stop()
		default:
		}
		if f.ended {
			return step{}, false
		}
	}
	e := f.m.next()
	if e == nil {
		f.end()
		return step{}, false
	}
	return step{events: e}, true
}

// end releases the feed's timer once the input is over.
func (f *fileFeed) end() {
	f.ended = true
	if f.stops.timer != nil {
		f.stops.timer.Stop()
	}
}

func (f *fileFeed) stop() { f.abort() }

func (f *fileFeed) abort() {
	if f.quit == nil {
		return
	}
	close(f.quit)
	f.quit = nil
	f.m.drain()
	f.end()
}

// liveFeed hands out the events of a live capture as they come, and the
// ticks of its clock.
type liveFeed struct {
	src   LiveSource
	stg   *stage
	quit  chan struct{}
	stops stops
	tick  *time.Ticker
	clock liveClock
	// spent is the events handed out last, back to the stage for reuse
	// at the next call.
	spent []event
	// quick counts the batches taken without looking at the ticker and
	// the stops; see next.
	quick    int
	stopping bool
	err      error // the capture's
}

// maxQuick bounds the batches next takes in a row from a stage that
// always has one ready without a full select, which locks every channel
// it waits on (selectgo was 16% of a libpcap capture's CPU, a batch an
// event): ticks and stops wait for at most that many batches.
//
// Only a batch from the full select anchors the clock (see batch): one
// taken at once follows others the tracker was busy with, and reading
// the wall clock for each cost 5% of a libpcap capture (time.Now takes
// 140 ns on the bench VM). The anchor is then at most maxQuick batches
// old, milliseconds at worst, where a reply timeout is a second.
const maxQuick = 16

func (f *liveFeed) next() (step, bool) {
	if f.spent != nil {
		select { // hand the slice back for reuse, as the merger does
		case f.stg.free <- f.spent:
		default:
		}
		f.spent = nil
	}
	if f.quick < maxQuick {
		select {
		case b, ok := <-f.stg.out:
			f.quick++
			return f.batch(b, ok, false)
		default:
		}
	}
	f.quick = 0
	for {
		select {
		case b, ok := <-f.stg.out:
			return f.batch(b, ok, true)
		case now := <-f.tick.C:
			return step{tick: true, now: now, at: f.clock.at(now), idle: len(f.stg.out) == 0}, true
		case <-f.stops.signals:
			if f.stopping {
				f.src.Close() // a second Ctrl-C: stop without draining
			}
			f.stop()
		case <-f.stops.done:
			f.stops.done = nil
			f.stop()
		case <-f.stops.deadline:
			f.stop()
		}
	}
}

// batch is the step for a batch received from the stage (ok false: the
// stage has ended); anchor: its last packet anchors the clock.
func (f *liveFeed) batch(b batch, ok, anchor bool) (step, bool) {
	if !ok {
		if f.stops.timer != nil {
			f.stops.timer.Stop()
		}
		return step{}, false
	}
	if b.err != nil {
		f.err = b.err
	}
	if n := len(b.events); n > 0 && (anchor || f.clock.mono.IsZero()) {
		f.clock.packet(b.events[n-1].ref, time.Now())
	}
	f.spent = b.events
	return step{events: b.events}, true
}

func (f *liveFeed) stop() {
	f.stopping = true
	f.src.Stop()
}

func (f *liveFeed) abort() {
	close(f.quit)
	f.src.Close()
	for range f.stg.out { // until the stage has ended
	}
}

// trackerWarnings says what the tracker could not judge as it should:
// attempts judged unanswered before their reply timeout (too many open at
// once, or too many on one flow) and replies that came after their attempt
// had been judged. where names a packet for the reader ("x.pcap frame 12").
func (r *run) trackerWarnings(where func(analyze.PacketRef) string) []string {
	t, timeout := r.tracker, r.cfg.ReplyTimeout
	if timeout <= 0 {
		timeout = analyze.DefaultReplyTimeout
	}
	var w []string
	if n := t.Early(); n > 0 {
		w = append(w, fmt.Sprintf("%d attempt(s) were judged unanswered before the %v reply timeout: "+
			"more than %d attempts were open at once (a SYN flood or a scan?), so a late reply may have been missed",
			n, timeout, analyze.DefaultMaxOpen))
	}
	if n := t.Forgotten(); n > 0 {
		w = append(w, fmt.Sprintf("%d judged attempt(s) were forgotten less than a minute after their last packet: "+
			"more than %d were judged within a minute (a busy server, or a SYN flood), so a later retransmission of one "+
			"of them counts as an attempt of its own, and a late reply as a SYN-ACK without SYN",
			n, analyze.RecentCapacity))
	}
	if f := t.EarlyPerFlow(); f.N > 0 {
		w = append(w, fmt.Sprintf("%d attempt(s) were judged unanswered before the %v reply timeout because "+
			"newer attempts on the same ports (new ISNs: a scanner reusing a port?) were open, and a reply to one of them "+
			"after that counts as a SYN-ACK without SYN; first: the SYN at %s",
			f.N, timeout, where(f.First)))
	}
	if o := t.ClockOutliers(); o.N > 0 {
		w = append(w, fmt.Sprintf("%d packet(s) stamped more than %v ahead of the packets after them did not move "+
			"the clock that times attempts out (a damaged timestamp?); first: %s",
			o.N, time.Duration(analyze.MaxClockStep), where(o.First)))
	}
	if l := t.LateReplies(); l.N > 0 {
		w = append(w, fmt.Sprintf("%d reply(ies) came after their attempt had been judged unanswered, so the "+
			"attempt stays unanswered and the reply is not counted as a SYN-ACK without SYN; first: %s",
			l.N, where(l.First)))
	}
	return w
}
