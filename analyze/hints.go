package analyze

import (
	"fmt"
	"net/netip"
	"slices"
)

// Server findings reason from all the evidence in the capture (DESIGN.md,
// "Findings"), not from one server alone. For a server that omits cookies:
//
//	E1  is the listener MPTCP? yes: its SYN-ACKs carry MPTCP; no: an MPTCP
//	    SYN was answered without it; unseen: no client offered MPTCP.
//	E2  does its host (same IP) grant cookies in SYN-ACKs carrying MPTCP?
//	    Then the kernel does TFO on MPTCP sockets (Linux >= 6.2).
//	E3  does its host grant cookies on any listener? Then the server bit
//	    of net.ipv4.tcp_fastopen is on.
//
// A finding the capture contradicts is a bug: the texts name the port and
// frame that prove what they claim, so a reader can check them.

// Texts that need no evidence. They name causes seen in the field and the
// fixes known to work, so a report can be acted on without reading tcpdump
// output.
const (
	hintMixed = "Some attempts were granted and others not: several backends behind one " +
		"address, or a change during the capture; compare the attempts' times and frames."
	hintAlternation = "Clients alternated TFO option kinds 34 and 254 (ExID 0xF989): Linux " +
		"clients switch kind after a cookie request is answered without a cookie, in case the " +
		"server or a middlebox knows only the other one."
	hintFallback = "Clients retried without TFO after their TFO SYN went unanswered: " +
		"something drops SYNs carrying TFO (a middlebox or a firewall rule), so the server " +
		"was never asked."
	hintUnconfirmed = "Cookies sent without data cannot show whether the server accepts TFO: " +
		"a TFO server and one ignoring TFO answer alike."
	hintOrphans = "Some SYN-ACKs answer SYNs missing from the capture (it began mid-handshake, " +
		"or missed packets): they are counted (synack_without_syn), not judged."
	hintTruncated = "Some attempts were left out (truncated): snaplen cut their TCP options; capture with " +
		"a larger snap length (tcpdump -s 0)."

	// fixMPTCP lists the fixes for an MPTCP listener on a kernel without
	// TFO on MPTCP. Applications' own switches are not among the sure ones:
	// Xray-core 25.3.6 and 26.3.27 still listen MPTCP with "tcpMptcp": false.
	fixMPTCP = "Fixes: a kernel >= 6.2; or make the listener plain TCP with GODEBUG=multipathtcp=0 " +
		"(Go programs) or sysctl net.mptcp.enabled=0 on the server host, which work whatever the " +
		"application does, or ListenConfig.SetMultipathTCP(false) in the server's code. An " +
		"application's own switch may not turn MPTCP off (Xray-core 25.3.6 and 26.3.27 stay " +
		"MPTCP with \"tcpMptcp\": false): check with `ss -Mlt`."
	// enableTFO says how common servers enable TFO on a listener.
	enableTFO = "Enable it on the listener: TCP_FASTOPEN with a queue length (Go: setsockopt in " +
		"ListenConfig.Control, and check its error), nginx `listen ... fastopen=N`, haproxy " +
		"`bind ... tfo`; or its TFO queue is full (nstat TcpExtTCPFastOpenListenOverflow)."
)

// findingOrder ranks findings for display: causes of failure first, then
// what qualifies the evidence, then capture-wide findings. IDs without a
// rank here (a newer report's) sort last.
var findingOrder = []FindingID{
	FindMPTCPTFOUnsupported, FindListenerNoTFO, FindNotMPTCP, FindMPTCPUnseen, FindOtherCauses,
	FindOptionStripped, FindMixedAnswers, FindTFOSYNDropped, FindReplyLost, FindKindAlternation,
	FindUnconfirmed, FindSYNACKWithoutSYN, FindSnaplenCut, FindClientBlackhole, FindNoTFOClients,
}

// Rank orders findings for display; unknown IDs (from a newer report) last.
func (id FindingID) Rank() int {
	if i := slices.Index(findingOrder, id); i >= 0 {
		return i
	}
	return len(findingOrder)
}

// evidence is one frame that proves a fact, and the server it came from;
// valid iff at.Frame != 0.
type evidence struct {
	server netip.AddrPort
	at     PacketRef
}

func (e evidence) valid() bool { return e.at.Frame != 0 }

// frame names the frame as the text report's attempt lines do: input:frame.
func (e evidence) frame() string { return frameName(e.at) }

// mixedHint says what the change of a mixed server's outcomes suggests.
func mixedHint(c *Change) string {
	switch {
	case c == nil:
		return hintMixed
	case c.Kind == Interleaved:
		return fmt.Sprintf("Grants and omissions alternate (%d switches): several backends behind one address, "+
			"some without TFO, or a listener changing back and forth; compare the attempts' times and frames.", c.Switches)
	}
	before, after := frameName(c.Before.Reply), frameName(c.After.Reply)
	if c.Kind == StoppedGranting {
		return "It granted cookies until " + before + " and omitted them from " + after + " on: the listener " +
			"changed during the capture (restarted without TFO, a new configuration or kernel), or traffic " +
			"moved to another backend."
	}
	return "It omitted cookies until " + before + " and granted them from " + after + " on: the listener " +
		"changed during the capture (restarted with TFO, a fix), or traffic moved to another backend."
}

func frameName(r PacketRef) string { return fmt.Sprintf("frame %d:%d", r.Input, r.Frame) }

// hostFacts is what the listeners of one host IP show together: for each
// fact the earliest frame from the two first servers that show it, so that
// a server can be judged by the others alone (a mixed server's own grants
// say nothing about why it also omits).
type hostFacts struct {
	mptcpGrant [2]evidence // E2: a listener grants cookies on MPTCP SYN-ACKs
	grant      [2]evidence // E3: a listener grants cookies
	plainOmit  [2]evidence // a listener proven plain TCP omits cookies
}

// keepTwo keeps in best the earliest evidence from two distinct servers.
func keepTwo(best *[2]evidence, e evidence) {
	switch {
	case !e.valid():
	case !best[0].valid() || refBefore(e.at, best[0].at):
		if best[0].server != e.server {
			best[1] = best[0]
		}
		best[0] = e
	case e.server != best[0].server && (!best[1].valid() || refBefore(e.at, best[1].at)):
		best[1] = e
	}
}

// other is the earliest evidence from a server other than ap.
func other(best [2]evidence, ap netip.AddrPort) evidence {
	if best[0].server == ap {
		return best[1]
	}
	return best[0]
}

// hostEvidence gathers E2 and E3 per server IP.
func (c *Collector) hostEvidence() map[netip.Addr]hostFacts {
	hosts := make(map[netip.Addr]hostFacts)
	for i := range c.servers.listed {
		ap, s := c.servers.listed[i].addr, &c.servers.listed[i].stats
		h := hosts[ap.Addr()]
		keepTwo(&h.mptcpGrant, evidence{ap, s.mptcpGrant})
		keepTwo(&h.grant, evidence{ap, s.grant})
		keepTwo(&h.plainOmit, evidence{ap, s.plainOmit})
		hosts[ap.Addr()] = h
	}
	return hosts
}

// listenerMPTCP is E1.
type listenerMPTCP uint8

const (
	e1Unseen listenerMPTCP = iota // no client offered MPTCP
	e1Yes                         // its SYN-ACKs carry MPTCP
	e1No                          // an MPTCP SYN was answered as plain TCP
)

// listenerMPTCP is E1.
func (s *serverStats) listenerMPTCP() listenerMPTCP {
	switch {
	case s.mptcpReply.Frame != 0:
		return e1Yes
	case s.plainToMPTCP.Frame != 0:
		return e1No
	}
	return e1Unseen
}

// hints explains a server's verdict: likely causes first, then what
// qualifies the evidence.
func hints(ap netip.AddrPort, s *serverStats, v Verdict, host hostFacts) []Finding {
	h := []Finding{}
	if v == Omits || v == Mixed {
		h = causes(ap, s, host)
	}
	h = append(h, s.vantage.findings()...)
	if v == Mixed {
		h = append(h, Finding{FindMixedAnswers, mixedHint(s.change.change())})
	}
	if s.tfoKinds[0] > 0 && s.tfoKinds[1]+s.tfoKinds[2] > 0 {
		h = append(h, Finding{FindKindAlternation, hintAlternation})
	}
	if s.outcomes[Fallback] > 0 {
		h = append(h, Finding{FindTFOSYNDropped, hintFallback})
	}
	if v == Inconclusive && s.outcomes[Unconfirmed] > 0 {
		h = append(h, Finding{FindUnconfirmed, hintUnconfirmed})
	}
	if s.orphans > 0 {
		h = append(h, Finding{FindSYNACKWithoutSYN, hintOrphans})
	}
	if s.truncated > 0 {
		h = append(h, Finding{FindSnaplenCut, hintTruncated})
	}
	return h
}

// causes applies E1, E2 and E3 to a server that omits cookies. E2 and E3
// come from the host's other listeners: a mixed server's own grants say
// that some backend behind it does TFO, not why another does not. Its own
// grants on MPTCP still rule out a kernel without TFO on MPTCP there.
func causes(ap netip.AddrPort, s *serverStats, host hostFacts) []Finding {
	e1 := s.listenerMPTCP()
	mptcpGrant, grant := other(host.mptcpGrant, ap), other(host.grant, ap)
	switch {
	case mptcpGrant.valid():
		f := []Finding{listenerNoTFOMPTCP(mptcpGrant)}
		if e1 == e1No {
			f = append(f, notMPTCP())
		}
		return f
	case e1 == e1Yes && s.mptcpGrant.Frame != 0:
		return []Finding{otherCauses(grant)}
	case e1 == e1Yes:
		f := []Finding{mptcpTFOUnsupported(grant)}
		// A plain listener of the host omitting too, and none granting:
		// MPTCP explains this one, not the host; the server bit would.
		if plain := other(host.plainOmit, ap); plain.valid() && !grant.valid() {
			oc := otherCauses(grant)
			oc.Text = fmt.Sprintf("%s omits cookies too and is plain TCP (%s answers an MPTCP SYN "+
				"without MPTCP), which MPTCP cannot explain. ", FormatAddr(plain.server), plain.frame()) + oc.Text
			f = append(f, oc)
		}
		return f
	case e1 == e1No && grant.valid():
		return []Finding{listenerNoTFOPlain(grant), notMPTCP()}
	case e1 == e1No:
		return []Finding{notMPTCP(), otherCauses(grant)}
	}
	return []Finding{mptcpUnseen(grant), otherCauses(grant)}
}

// listenerNoTFOMPTCP: E2 yes. The host does TFO on MPTCP, so neither the
// kernel nor the sysctl is the cause, as far as one machine answers on
// both ports (a port forward could send each elsewhere: hence "unless").
func listenerNoTFOMPTCP(grant evidence) Finding {
	return Finding{FindListenerNoTFO, fmt.Sprintf("%s grants cookies on MPTCP (%s), so this "+
		"kernel supports TFO on MPTCP sockets and the server bit of net.ipv4.tcp_fastopen is on: "+
		"unless another machine answers on this port (a port forward), this listener does not "+
		"enable TFO. %s", FormatAddr(grant.server), grant.frame(), enableTFO)}
}

// listenerNoTFOPlain: E1 no and E3 yes.
func listenerNoTFOPlain(grant evidence) Finding {
	return Finding{FindListenerNoTFO, fmt.Sprintf("%s grants cookies (%s), so the server bit of "+
		"net.ipv4.tcp_fastopen is on, and this listener is plain TCP: unless another machine "+
		"answers on this port (a port forward), it does not enable TFO. %s",
		FormatAddr(grant.server), grant.frame(), enableTFO)}
}

// notMPTCP: E1 no. The proof is the server's own MPTCP counts (SYNs with
// MPTCP, SYN-ACKs without), which its report row shows; naming no frame
// lets servers with the same finding share it.
func notMPTCP() Finding {
	return Finding{FindNotMPTCP, "MPTCP clients' SYNs were answered without MPTCP: the listener " +
		"is plain TCP, so MPTCP is not the cause (unless something on the path strips MPTCP " +
		"options from SYNs; a capture nearer the server would show it)."}
}

// mptcpTFOUnsupported: E1 yes (its own SYN-ACKs carry MPTCP), E2 no. The
// seed case; on a kernel >= 6.2 the same packets mean the listener lacks
// TCP_FASTOPEN, which the capture cannot tell apart.
func mptcpTFOUnsupported(grant evidence) Finding {
	text := "SYN-ACKs without a cookie carry MPTCP (kind 30) and no listener on this host " +
		"grants cookies on MPTCP: the listener is MPTCP (Go >= 1.24 listens MPTCP by default) on " +
		"a kernel where TCP_FASTOPEN fails on MPTCP sockets with ENOPROTOOPT (Linux < 6.2, e.g. " +
		"Debian 12's 6.1); on Linux >= 6.2 it would mean the listener does not enable TFO."
	return Finding{FindMPTCPTFOUnsupported, text + serverBitOn(grant, "cookies on plain TCP") + " " + fixMPTCP}
}

// serverBitOn is E3 as a sentence to append, " X grants WHAT (frame), so
// the server bit ... is on.", or "" without a granting listener.
func serverBitOn(grant evidence, what string) string {
	if !grant.valid() {
		return ""
	}
	return fmt.Sprintf(" %s grants %s (%s), so the server bit of net.ipv4.tcp_fastopen is on.",
		FormatAddr(grant.server), what, grant.frame())
}

// mptcpUnseen: E1 unseen, E2 no.
func mptcpUnseen(grant evidence) Finding {
	text := "No client offered MPTCP, and a plain-TCP client cannot see whether the listener " +
		"is MPTCP: an MPTCP listener (Go >= 1.24's default) cannot enable TFO on Linux < 6.2. " +
		"Check `ss -Mlt` on the server, or connect with an MPTCP client (`mptcpize run curl " +
		"--tcp-fastopen`)."
	return Finding{FindMPTCPUnseen, text + serverBitOn(grant, "cookies")}
}

// otherCauses lists what the capture cannot rule out; the sysctl only
// when no listener on the host proves its server bit on.
func otherCauses(grant evidence) Finding {
	text := "Other causes to check: "
	if !grant.valid() {
		text += "the server bit 0x2 missing in sysctl net.ipv4.tcp_fastopen on the server " +
			"host (no other listener on that IP grants cookies here); "
	}
	text += "no TCP_FASTOPEN socket option on the listener (or its setsockopt failed); a " +
		"middlebox stripping TCP option 34 from SYN-ACKs."
	return Finding{FindOtherCauses, text}
}
