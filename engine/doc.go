// Package engine runs the pipeline every subcommand shares: frames in from
// sources (capture files, a live interface), judged attempts and source
// statistics out. It knows no flags and no report format: analyze, live
// and probe (its own handshakes, through Live) wire a Sink (the report's
// collector), an evidence file and stop conditions into Config, and build
// their output from the Result.
//
// The flow, and the file for each step:
//
//	inputs.go    FileInput: a capture file probed for its first timestamp,
//	             opened only when the merge reaches it, closed once read
//	pipeline.go  stage: one goroutine per source reads, filters (-f,
//	             --server) and decodes frames, and sends SYNs, SYN-ACKs
//	             and RSTs in batches; merger: a k-way merge of the stages
//	             by timestamp; SourceStats: what each source skipped
//	engine.go    Files and Live: the one consume loop that hands events
//	             to the analyze.Tracker and their frames to the evidence,
//	             advances the live clock, and stops at the end of input,
//	             on ctx, a signal, Duration or Count
//	evidence.go  Evidence: the frames of chosen outcomes, in time order
//	liveclock.go the live tracker's clock, on the monotonic clock
//	liveinline.go a live capture that can wait for frames (capture.Live
//	             through AF_PACKET) runs its stage on the tracker's
//	             goroutine: no hand-off, ticks and stops between frames
//
// # Cost
//
// The per-packet path allocates nothing: stages reuse their frame and
// batches come back from the consumer for reuse; only frames kept for
// evidence are copied. Stop conditions are looked at once a batch (files),
// in the select that waits for the next packet (live, libpcap) or when the
// ring is empty and at least every 4096 frames (live, AF_PACKET).
//
// # Concurrency
//
// A Config's Sink, OnAttempt and OnTick are called from the goroutine that
// called Files or Live, never at once.
package engine
