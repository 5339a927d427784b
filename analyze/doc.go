// Package analyze decides, from TCP segments alone, whether servers do TCP
// Fast Open (RFC 7413). It knows protocols and nothing of files: frames come
// in as bytes with a link type, from whatever source the caller has
// (package engine drives the tracker for every subcommand).
//
// The flow, and the file for each step:
//
//	decode.go    Decode: link layer (VLAN, MPLS, PPPoE) -> IPv4/IPv6
//	             (options, extension headers, IP-in-IP and GRE tunnels)
//	             -> a TCP Segment view
//	options.go   ParseOptions: TFO (kind 34; kind 253/254 with ExID
//	             0xF989), MPTCP (kind 30), and why the walk stopped
//	tracker.go   Tracker: attempts keyed by (client, server, ISN), replies
//	             matched by ack, copies told from retransmissions by time,
//	             an Outcome judged per attempt
//	vantage.go   what copies at several vantage points showed: options
//	             stripped on the way, replies lost on the way back
//	outcome.go   Outcome and Verdict names (a contract with users)
//	collector.go Collector (the tracker's Sink) and its Summary: servers
//	             with verdicts, counts and findings, capture-wide
//	             findings, the attempts kept in detail
//	servers.go   the bounded table of servers behind the Summary
//	timeline.go  a server's TFO attempts over time, in a fixed number
//	             of buckets whose width doubles as the capture grows
//	findings.go  finding IDs (a contract, like outcome names)
//	hints.go     server findings from the whole capture: E1/E2/E3 across
//	             the listeners of one host IP
//	clients.go   capture-wide findings: client blackhole, no TFO clients
//
// Presenting a Summary (the report model, its renderers and diff) is
// package report's job; driving the Tracker from sources is package
// engine's. analyze imports neither (internal/layout tests it).
//
// # Buffers
//
// Decode and ParseOptions read the caller's frame in place, never past its
// end, and allocate nothing; a Segment keeps no reference to the frame
// (a cookie is copied into the segment's fixed array). The Tracker reuses
// its Attempt values: an *Attempt handed to a Sink is valid only during the
// call, so a Sink copies what it keeps (NewAttemptReport does).
//
// # Copies and retransmissions
//
// A second sighting of a packet within copyWindow (50 ms) of the send it
// follows, with the same data, is a copy of that send seen at another
// vantage point; a later one is a retransmission, whichever input, pcapng
// section or interface holds it (rotations are one vantage point cut in
// pieces). TCP timestamps refine it: a different TSval is another send,
// the same one a copy up to 500 ms apart. Copies behind a NAT are found by
// ISN. docs/report.md states the rule and its limits.
//
// # Damaged input
//
// A malformed packet is a finding, not an error: Decode says what it found
// (DecodeStatus), an option walk records why it stopped (WalkStop), and a
// TFO option of invalid length makes the attempt's outcome "malformed".
// Attempts whose options a snap length cut are left out of verdicts and
// counted, never judged from half an option list.
//
// # Concurrency
//
// Decode and ParseOptions are pure functions, safe from any goroutine. A
// Tracker and a Collector are not safe for concurrent use: feed a Tracker
// from one goroutine, in capture-time order.
package analyze
