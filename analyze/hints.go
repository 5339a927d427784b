package analyze

import "slices"

// Hint texts. They name causes seen in the field and the fixes known to work,
// so a report can be acted on without reading tcpdump output.
const (
	hintMPTCP = "SYN-ACKs without a cookie carry MPTCP (kind 30): the listener is MPTCP " +
		"(Go >= 1.24 listens MPTCP by default) on a kernel where TCP_FASTOPEN fails on MPTCP " +
		"sockets with ENOPROTOOPT (Linux < 6.2, e.g. Debian 12's 6.1). Fixes: a kernel >= 6.2; " +
		"GODEBUG=multipathtcp=0 or ListenConfig.SetMultipathTCP(false) in the server; or " +
		"sysctl net.mptcp.enabled=0 on the server host."
	hintNoMPTCPInSight = "No MPTCP in these SYN-ACKs, but a plain-TCP client never sees an MPTCP " +
		"listener's MPTCP-ness: check `ss -Mlt` on the server (an MPTCP listener from Go >= 1.24 " +
		"on Linux < 6.2 cannot enable TFO)."
	hintOtherCauses = "Other causes to check: the server bit 0x2 missing in sysctl " +
		"net.ipv4.tcp_fastopen; no TCP_FASTOPEN socket option on the listener; a middlebox " +
		"stripping TCP option 34 from SYN-ACKs."
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
)

// findingOrder ranks findings for display: causes of failure first, then
// what qualifies the evidence.
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

// hints explains a server's verdict with likely causes.
func hints(s *serverStats, v Verdict) []Finding {
	h := []Finding{}
	if v == Omits || v == Mixed {
		if s.mptcpOmitting > 0 {
			h = append(h, Finding{FindMPTCPTFOUnsupported, hintMPTCP})
		} else {
			h = append(h, Finding{FindMPTCPUnseen, hintNoMPTCPInSight}, Finding{FindOtherCauses, hintOtherCauses})
		}
	}
	h = append(h, s.vantage.findings()...)
	if v == Mixed {
		h = append(h, Finding{FindMixedAnswers, hintMixed})
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
