// Package scenario runs small synthetic captures, named by outcome,
// through the real analyze.Tracker: tests of the packages that present
// judged attempts (report, findings) get every outcome without a capture
// file. Segments are built through analyze's exported API only.
package scenario

import (
	"net/netip"

	"github.com/tfopcap/tfopcap/analyze"
)

// Scenario is one server's attempts in a synthetic capture, by outcome
// (see exchange for the names).
type Scenario struct {
	Server   string
	Outcomes []string
}

// Start is the capture time of the first packet: late 2025, in ms.
const Start = int64(1_764_000_000_000)

// Capture is what Run fed the tracker.
type Capture struct {
	Packets     int
	First, Last int64 // ns since the epoch; valid when Packets > 0
}

// Run feeds the scenarios to a Tracker that hands its attempts to sink,
// one client port per attempt, attempts 5 s apart, and flushes it.
func Run(sink analyze.Sink, scenarios ...Scenario) Capture {
	tr := analyze.NewTracker(sink, 0)
	frame := 0
	var ms int64
	for i, sc := range scenarios {
		server := netip.MustParseAddrPort(sc.Server)
		for k, name := range sc.Outcomes {
			client := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(40000+100*i+k))
			if server.Addr().Is6() {
				client = netip.AddrPortFrom(netip.MustParseAddr("2001:db8::1"), client.Port())
			}
			for _, p := range exchange(name, uint32(1000*(k+1)+i), ms) {
				seg := p.segment(client, server)
				frame++
				tr.Add(analyze.PacketRef{Frame: frame, Interface: p.iface, Time: (Start + p.atMs) * 1e6}, &seg)
			}
			ms += 5000
		}
	}
	tr.Flush()
	c := Capture{Packets: frame}
	if frame > 0 {
		c.First, c.Last = Start*1e6, (Start+ms-5000+1001)*1e6
	}
	return c
}

// Lab are servers of every verdict, each outcome at least once.
var Lab = []Scenario{
	{"192.0.2.2:8001", []string{"granted", "granted", "accepted", "granted-254"}},
	{"192.0.2.2:8002", []string{"omitted-mptcp", "omitted-mptcp", "omitted-mptcp", "omitted-mptcp", "omitted-mptcp", "omitted-mptcp", "rejected"}},
	{"192.0.2.2:8003", []string{"granted", "omitted", "renewed", "rejected", "orphan"}},
	{"[2001:db8::2]:443", []string{"plain", "refused", "unanswered", "fallback", "unconfirmed", "malformed", "truncated", "stripped"}},
}

const (
	syn    = analyze.FlagSYN
	synack = analyze.FlagSYN | analyze.FlagACK
	rstack = analyze.FlagRST | analyze.FlagACK
)

// pkt is one segment of an exchange: who sent it, what it carried, when.
type pkt struct {
	from    string // "c" client, "s" server
	flags   uint8
	seq     uint32
	ack     uint32
	tfo     analyze.TFOState
	kind    uint8 // TFO kind; 0 means 34
	data    int
	mptcp   bool
	iface   int64
	atMs    int64 // capture time in ms
	snapcut bool  // options cut by snaplen
}

// segment builds the segment, its options parsed from their wire form.
func (p pkt) segment(client, server netip.AddrPort) analyze.Segment {
	s := analyze.Segment{Seq: p.seq, Ack: p.ack, Flags: p.flags, DataLen: p.data, Src: client, Dst: server}
	if p.from == "s" {
		s.Src, s.Dst = server, client
	}
	var opts []byte
	if p.tfo != analyze.TFONone {
		var body []byte
		switch p.tfo {
		case analyze.TFOCookie:
			body = []byte{1, 2, 3, 4, 5, 6, 7, 8}
		case analyze.TFOMalformed:
			body = []byte{1, 2}
		}
		switch p.kind {
		case 0, 34:
			opts = append(opts, 34, byte(2+len(body)))
		default: // experimental, ExID 0xF989
			opts = append(opts, p.kind, byte(4+len(body)), 0xF9, 0x89)
		}
		opts = append(opts, body...)
	}
	if p.mptcp { // MP_CAPABLE, version 1, with the sender's key
		opts = append(opts, 30, 12, 0x01, 0x00, 1, 2, 3, 4, 5, 6, 7, 8)
	}
	s.Options = analyze.ParseOptions(opts, len(opts))
	if p.snapcut {
		s.Options.Stop = analyze.WalkTruncated
	}
	return s
}

// exchange returns the packets of one attempt with the given outcome, its
// client SYN's ISN seq, starting at ms. Names other than outcome names:
// "granted-254" (the experimental kind), "omitted-mptcp" and
// "granted-mptcp" (SYN and SYN-ACK carry MP_CAPABLE), "omitted-mptcp-syn"
// (only the SYN does), "timeout" (a TFO SYN retransmitted 3 times), "truncated" (snaplen cut the SYN's options) and
// "orphan" (a SYN-ACK whose SYN is missing).
func exchange(name string, seq uint32, ms int64) []pkt {
	c := func(p pkt) pkt { p.from, p.flags, p.seq, p.atMs = "c", syn, seq, ms+p.atMs; return p }
	s := func(p pkt) pkt { p.from, p.seq, p.atMs = "s", 9000, ms+p.atMs; p.ack += seq + 1; return p }
	switch name {
	case "granted":
		return []pkt{c(pkt{tfo: analyze.TFORequest}), s(pkt{flags: synack, tfo: analyze.TFOCookie, atMs: 1})}
	case "granted-254":
		return []pkt{c(pkt{tfo: analyze.TFORequest, kind: 254}), s(pkt{flags: synack, tfo: analyze.TFOCookie, kind: 254, atMs: 1})}
	case "omitted":
		return []pkt{c(pkt{tfo: analyze.TFORequest}), s(pkt{flags: synack, atMs: 1})}
	case "granted-mptcp":
		return []pkt{c(pkt{tfo: analyze.TFORequest, mptcp: true}), s(pkt{flags: synack, tfo: analyze.TFOCookie, mptcp: true, atMs: 1})}
	case "omitted-mptcp-syn": // an MPTCP SYN answered by a plain listener
		return []pkt{c(pkt{tfo: analyze.TFORequest, mptcp: true}), s(pkt{flags: synack, atMs: 1})}
	case "timeout": // cookie and data, then three plain retransmissions, no answer (Linux)
		return []pkt{c(pkt{tfo: analyze.TFOCookie, data: 11}), c(pkt{atMs: 1000}), c(pkt{atMs: 2000}), c(pkt{atMs: 3000})}
	case "timeout-2": // the same, given up after two retransmissions
		return []pkt{c(pkt{tfo: analyze.TFOCookie, data: 11}), c(pkt{atMs: 1000}), c(pkt{atMs: 2000})}
	case "omitted-mptcp":
		return []pkt{c(pkt{tfo: analyze.TFORequest, mptcp: true}), s(pkt{flags: synack, mptcp: true, atMs: 1})}
	case "accepted":
		return []pkt{c(pkt{tfo: analyze.TFOCookie, data: 11}), s(pkt{flags: synack, ack: 11, atMs: 1})}
	case "rejected":
		return []pkt{c(pkt{tfo: analyze.TFOCookie, data: 11}), s(pkt{flags: synack, atMs: 1})}
	case "renewed":
		return []pkt{c(pkt{tfo: analyze.TFOCookie, data: 11}), s(pkt{flags: synack, tfo: analyze.TFOCookie, atMs: 1})}
	case "unconfirmed":
		return []pkt{c(pkt{tfo: analyze.TFOCookie}), s(pkt{flags: synack, atMs: 1})}
	case "fallback":
		return []pkt{c(pkt{tfo: analyze.TFOCookie, data: 11}), c(pkt{atMs: 1000}), s(pkt{flags: synack, atMs: 1001})}
	case "refused-plain":
		return []pkt{c(pkt{}), s(pkt{flags: rstack, atMs: 1})}
	case "refused":
		return []pkt{c(pkt{tfo: analyze.TFORequest}), s(pkt{flags: rstack, atMs: 1})}
	case "unanswered":
		return []pkt{c(pkt{tfo: analyze.TFORequest}), c(pkt{tfo: analyze.TFORequest, atMs: 1000})}
	case "plain":
		return []pkt{c(pkt{}), s(pkt{flags: synack, atMs: 1})}
	case "malformed":
		return []pkt{c(pkt{tfo: analyze.TFOMalformed}), s(pkt{flags: synack, tfo: analyze.TFOCookie, atMs: 1})}
	case "truncated":
		return []pkt{c(pkt{snapcut: true}), s(pkt{flags: synack, atMs: 1})}
	case "orphan":
		return []pkt{s(pkt{flags: synack, tfo: analyze.TFOCookie})}
	case "stripped":
		// Seen on both sides of a middlebox that removes the option.
		return []pkt{c(pkt{tfo: analyze.TFORequest}), c(pkt{iface: 1}), s(pkt{flags: synack, iface: 1, atMs: 1}), s(pkt{flags: synack, atMs: 1})}
	}
	panic("unknown exchange " + name)
}
