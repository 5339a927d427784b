package probe

import (
	"fmt"
	"net/netip"

	"github.com/tfopcap/tfopcap/analyze"
)

// result sums up a target's rounds. With a capture, each round's outcome
// is the engine's judgement of its attempt; without one it is inferred
// from the kernel's account and fed to the collector as an attempt, so
// that verdicts and findings come from the same rules either way.
func (t *target) result(seen map[flow]analyze.Attempt, captured bool, k *kernelFeed) TargetResult {
	tr := TargetResult{Target: t.spec, Server: t.server, MPTCP: "unknown", Notes: t.notes}
	for _, r := range t.rounds {
		if r.conn != nil && r.Err == nil {
			if captured {
				r.fromCapture(seen, t.server)
			} else {
				r.fromKernel(t, k)
			}
		}
		if r.Round == RoundMPTCP && r.MPTCP != "" {
			tr.MPTCP = r.MPTCP
		}
		tr.Rounds = append(tr.Rounds, r.RoundResult)
	}
	if captured {
		for _, r := range t.rounds {
			switch {
			case r.conn == nil || r.Err != nil:
			case !r.Judged:
				tr.Notes = append(tr.Notes, "round "+string(r.Round)+": the capture holds no SYN of this connection (another route than "+t.iface+"?); its kernel account stands alone")
			case r.Outcome == analyze.Plain && r.fastopen:
				tr.Notes = append(tr.Notes, "round "+string(r.Round)+": the kernel sent its SYN without any TFO option: its active-TFO blackhole detection may have turned TFO off for a while (net.ipv4.tcp_fastopen_blackhole_timeout_sec; nstat -az TcpExtTCPFastOpenBlackhole)")
			}
		}
	}
	return tr
}

// fromCapture takes the round's outcome, and for the MPTCP round whether
// the SYN-ACK carried MP_CAPABLE, from the attempt the engine judged.
func (r *round) fromCapture(seen map[flow]analyze.Attempt, server netip.AddrPort) {
	a, ok := seen[flow{r.Client.Port(), server}]
	if !ok {
		return
	}
	r.Outcome, r.Judged = a.Outcome, true
	if r.Round == RoundMPTCP && a.Reply.Kind == analyze.ReplySYNACK {
		r.MPTCP = "no"
		if a.Reply.MPTCP.Present && a.Reply.MPTCP.Subtype == analyze.MPCapable {
			r.MPTCP = "yes"
		}
	}
}

// fromKernel infers the round's outcome from TCP_INFO and the cookie
// cache: a SYN without data asked for a cookie, granted when the cache
// holds one afterwards; a SYN with data sent a cookie, accepted when
// TCP_INFO says the data was acked, rejected otherwise (a renewed cookie
// cannot be told from the one kept). A retransmitted SYN, or a cache the
// probe could not read, leaves the round unjudged.
func (r *round) fromKernel(t *target, feed *kernelFeed) {
	k := &r.Kernel
	a := analyze.Attempt{ID: uint64(len(feed.labels) + 1), Client: r.Client, Server: t.server}
	a.Reply.Kind = analyze.ReplySYNACK
	// Findings name the frames that prove them; here a "frame" is the
	// round, and Result.Report names it so.
	a.SYN.PacketRef = analyze.PacketRef{Frame: len(feed.labels) + 1}
	a.Reply.PacketRef = analyze.PacketRef{Frame: len(feed.labels) + 2}
	// A SYN with MP_CAPABLE answered without it says the listener is
	// plain TCP: claim the SYN's option only when the answer is known.
	if r.Round == RoundMPTCP && r.MPTCP != "unknown" {
		a.SYN.MPTCP = analyze.MPTCPOption{Present: true, Subtype: analyze.MPCapable, Version: 1, Len: 12}
		if r.MPTCP == "yes" {
			a.Reply.MPTCP = analyze.MPTCPOption{Present: true, Subtype: analyze.MPCapable, Version: 1, Len: 12}
		}
	}
	switch {
	case k.FastopenClientFail == "syn_retransmitted":
		return
	case r.Round == RoundMPTCP && !r.fastopen:
		a.Outcome = analyze.Plain
	case k.SYNData:
		a.SYN.TFO = analyze.TFOOption{State: analyze.TFOCookie, Kind: 34}
		a.SYN.DataLen = 1 // at least; TCP_INFO does not say how much
		a.Outcome = analyze.Rejected
		if k.SYNDataAcked {
			a.Reply.AckedData = 1
			a.Outcome = analyze.Accepted
		}
	case !k.CookieKnown:
		return
	default:
		a.SYN.TFO = analyze.TFOOption{State: analyze.TFORequest, Kind: 34, Len: 2}
		a.Outcome = analyze.Omitted
		if k.CookieAfter {
			a.Reply.TFO = analyze.TFOOption{State: analyze.TFOCookie, Kind: 34}
			a.Outcome = analyze.Granted
		}
	}
	r.Outcome, r.Judged = a.Outcome, true
	feed.labels = append(feed.labels,
		fmt.Sprintf("the SYN of the %s round to %s, by the kernel's account", r.Round, t.spec),
		fmt.Sprintf("the answer to the %s round to %s, by the kernel's account", r.Round, t.spec))
	feed.coll.Attempt(&a)
}

// kernelFeed hands attempts inferred from the kernel's account to the
// collector, numbering their pretend frames.
type kernelFeed struct {
	coll *analyze.Collector
	// labels[n-1] names pretend frame n.
	labels []string
}
