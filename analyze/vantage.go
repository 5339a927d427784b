package analyze

import (
	"fmt"
	"strings"
)

// Findings from copies of packets seen at several vantage points (DESIGN.md,
// "Copies, retransmissions and vantage points"): where a middlebox removed
// the TFO option, and answers that never reached the client's side. They
// rest on what the tracker recorded per attempt (Attempt.Stripped,
// Attempt.ReplyLost); the rule that tells a copy from a retransmission is
// copyWindow's (tracker.go).

// vantageStats is what copies showed about one server's attempts. The
// first attempt of each kind is kept as the example a finding names.
type vantageStats struct {
	stripped      int
	strippedSYN   PacketRef // the first stripped attempt's SYN, nearer the client
	strippedCopy  PacketRef // and its copy without the option, nearer the server
	replyLost     int
	lostCookies   int       // lost SYN-ACKs that carried a cookie
	lostReply     PacketRef // the first lost SYN-ACK, seen on the server's side
	lostSYN       PacketRef // the SYN it answered, seen on the client's side
	lostResent    int       // retransmissions of that SYN
	lostVantages  int       // vantage points that SYN crossed
	lostReplySeen int       // and those its SYN-ACK was seen at
}

// add files one finalised attempt.
func (v *vantageStats) add(a *Attempt) {
	if a.Outcome == Stripped {
		if v.stripped == 0 {
			v.strippedSYN, v.strippedCopy = a.SYN.PacketRef, a.Stripped().Ref()
		}
		v.stripped++
	}
	if a.ReplyLost() {
		if v.replyLost == 0 {
			v.lostReply, v.lostSYN, v.lostResent = a.Reply.PacketRef, a.SYN.PacketRef, a.SYN.Retransmits
			v.lostVantages, v.lostReplySeen = a.vantages()
		}
		v.replyLost++
		if a.Reply.TFO.State == TFOCookie {
			v.lostCookies++
		}
	}
}

// findings explains what the copies showed, for hints.
func (v *vantageStats) findings() []Finding {
	var f []Finding
	if v.stripped > 0 {
		f = append(f, Finding{FindOptionStripped, fmt.Sprintf("%s lost the TFO option between two vantage points: "+
			"the SYN at %s carried it, its copy at %s did not. A middlebox between them removes option 34 "+
			"(e.g. nft `reset tcp option fastopen`, a firewall or load balancer normalising options), so the "+
			"server was never asked: these attempts are stripped and say nothing about the server's TFO.",
			plural(v.stripped, "attempt"), vantageName(v.strippedSYN), vantageName(v.strippedCopy))})
	}
	if v.replyLost > 0 {
		cookies := "none carried a cookie"
		switch {
		case v.lostCookies == v.replyLost:
			cookies = "all carried a cookie"
			if v.replyLost == 1 {
				cookies = "it carried a cookie"
			}
		case v.lostCookies > 0:
			cookies = fmt.Sprintf("%d carried a cookie", v.lostCookies)
		case v.replyLost == 1:
			cookies = "it carried no cookie"
		}
		f = append(f, Finding{FindReplyLost, fmt.Sprintf("%s from the server never reached the client's side (%s): "+
			"the first, at %s, was seen at %d of the %d vantage points its SYN (%s) crossed, and the client kept "+
			"sending that SYN after it (at least %s). Something between the vantage points drops the server's answers; the "+
			"attempts are judged by what the server sent.",
			plural(v.replyLost, "SYN-ACK"), cookies, vantageName(v.lostReply), v.lostReplySeen, v.lostVantages,
			vantageName(v.lostSYN), plural(v.lostResent, "retransmission"))})
	}
	return f
}

// vantageName names where a packet was seen: "input 1 frame 7", with the
// pcapng section, interface or -i any ifindex when there is one.
func vantageName(r PacketRef) string {
	var b strings.Builder
	fmt.Fprintf(&b, "input %d", r.Input)
	section, idb, ifindex := SplitInterface(r.Interface)
	if section > 0 {
		fmt.Fprintf(&b, " section %d", section)
	}
	if section > 0 || idb > 0 {
		fmt.Fprintf(&b, " interface %d", idb)
	}
	switch {
	case ifindex == SLLOutgoing:
		b.WriteString(" outgoing")
	case ifindex > 0:
		fmt.Fprintf(&b, " ifindex %d", ifindex)
	}
	fmt.Fprintf(&b, " frame %d", r.Frame)
	return b.String()
}

// plural is "1 attempt", "3 attempts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
