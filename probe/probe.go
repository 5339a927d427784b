package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/engine"
)

// Round is one connection the probe makes to each target.
type Round string

// The rounds, in the order they run.
const (
	// RoundRequest asks for a cookie on a fresh cache: the kernel's entry
	// for the server is deleted first when allowed (CAP_NET_ADMIN).
	RoundRequest Round = "request"
	// RoundData sends the cookie the request round got, with data: does
	// the server accept SYN data?
	RoundData Round = "data"
	// RoundMPTCP asks for a cookie from an MPTCP socket (IPPROTO_MPTCP):
	// an MP_CAPABLE SYN-ACK tells an MPTCP listener, the seed's cause,
	// from one without TFO; a plain-TCP client can never see it.
	RoundMPTCP Round = "mptcp"
)

// DefaultRounds are the rounds a probe runs unless told otherwise.
func DefaultRounds() []Round { return []Round{RoundRequest, RoundData, RoundMPTCP} }

// ParseRounds reads a comma-separated list of round names.
func ParseRounds(s string) ([]Round, error) {
	var rounds []Round
	for _, name := range strings.Split(s, ",") {
		r := Round(strings.TrimSpace(name))
		if !slices.Contains(DefaultRounds(), r) {
			return nil, fmt.Errorf("unknown round %q (want request, data or mptcp)", name)
		}
		if !slices.Contains(rounds, r) {
			rounds = append(rounds, r)
		}
	}
	return rounds, nil
}

// CaptureMode says whether the probe captures its own packets.
type CaptureMode int

const (
	// CaptureAuto captures when it may (CAP_NET_RAW) and otherwise falls
	// back to the kernel's account of each connection, saying so.
	CaptureAuto CaptureMode = iota
	// CaptureRequired fails when the packets cannot be captured.
	CaptureRequired
	// CaptureOff never captures: evidence from TCP_INFO only.
	CaptureOff
)

// Method is where a probe's evidence came from.
type Method string

const (
	MethodCapture Method = "capture"  // its own packets, through libpcap
	MethodTCPInfo Method = "tcp_info" // the kernel's account, no packets
)

// DefaultTimeout bounds each connection of a round.
const DefaultTimeout = 3 * time.Second

// DefaultPayload is the data the rounds offer in their SYNs: a request any
// HTTP server answers and other servers reject harmlessly.
var DefaultPayload = []byte("HEAD / HTTP/1.0\r\n\r\n")

// Config says what to probe and how.
type Config struct {
	// Targets are HOST:PORT (names are resolved; IPv6 as [ip]:port).
	Targets []string
	// Rounds run against every target in this order; nil: DefaultRounds.
	Rounds []Round
	// Timeout bounds each connection; 0: DefaultTimeout.
	Timeout time.Duration
	Capture CaptureMode
	// Payload is the SYN data; nil: DefaultPayload.
	Payload []byte
	// NewEvidence, when set, is called once the capture is open to make
	// the evidence file of the run (tfopcap's --evidence).
	NewEvidence func(linkType uint16, snaplen int) (*engine.Evidence, error)
	// MaxAttempts is the collector's cap on attempts kept in detail
	// (analyze.NewCollector); 0: its default.
	MaxAttempts int
}

// Result is what a probe found: the engine's judgement of its attempts,
// and per target what each round did.
type Result struct {
	Method Method
	// Interface is where the packets were captured ("" with tcp_info).
	Interface string
	// Engine is the engine's result of the capture (nil with tcp_info).
	Engine *engine.Result
	// Summary is the collector's: verdicts and findings per server, as
	// from any capture.
	Summary *analyze.Summary
	Targets []TargetResult
	// Warnings concern the whole run (no capture privileges, say).
	Warnings []string
	// Failed says, one error per target, why some targets could not be
	// probed (Targets leaves them out): an unknown host, a refused or
	// filtered port, no route. Run fails instead when none could be.
	Failed []error
	// frameLabels name the pretend frames of attempts inferred from the
	// kernel's account (MethodTCPInfo): frameLabels[n-1] is frame 0:n.
	frameLabels []string
}

// TargetResult is one target's rounds.
type TargetResult struct {
	Target string         // as given
	Server netip.AddrPort // resolved
	// MPTCP is "yes", "no" or "unknown": is the listener MPTCP?
	MPTCP  string
	Rounds []RoundResult
	// Notes say what the probe could not see or do for this target.
	Notes []string
}

// RoundResult is one connection.
type RoundResult struct {
	Round  Round
	Client netip.AddrPort // zero when no socket was made
	// Cache is the kernel's cookie cache for the server before the round:
	// "cleared", "empty", "cookie" or "unknown".
	Cache   string
	Outcome analyze.Outcome // valid iff Judged
	Judged  bool
	// MPTCP is "yes", "no" or "unknown" for RoundMPTCP, else "".
	MPTCP  string
	Kernel Kernel
	// Handshake is how long the connection took, from sending the SYN
	// to the end of the handshake (or to the failure in Err).
	Handshake time.Duration
	Err       error // why the round made no connection
}

// Kernel is the client kernel's account of one connection.
type Kernel struct {
	SYNData      bool // the kernel put data in the SYN
	SYNDataAcked bool // TCPI_OPT_SYN_DATA
	// FastopenClientFail is tcpi_fastopen_client_fail's name, "unknown"
	// when the kernel does not say.
	FastopenClientFail string
	// CookieAfter is whether the cache held a cookie after the round;
	// valid iff CookieKnown.
	CookieAfter, CookieKnown bool
}

// ErrNotLinux is what Run returns on other systems.
var ErrNotLinux = errors.New("probe needs Linux (TCP_FASTOPEN_CONNECT, TCP_INFO, tcp_metrics); analyze and live work here")

// Run probes every target with every round and judges the attempts with
// the engine. A target that cannot be probed (an unknown host, a refused
// or filtered port, no route) is left out and named in Result.Failed; an
// error, one line naming the target(s) and what is wrong, means nothing
// could be probed (or the client has TFO turned off).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if len(cfg.Targets) == 0 {
		return nil, errors.New("no target given: HOST:PORT")
	}
	if cfg.Rounds == nil {
		cfg.Rounds = DefaultRounds()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Payload == nil {
		cfg.Payload = DefaultPayload
	}
	return run(ctx, cfg)
}
