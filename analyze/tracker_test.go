package analyze

import (
	"net/netip"
	"reflect"
	"testing"
)

// pkt is one segment in a tracker test: who sent it, what it carried, when.
type pkt struct {
	from  string // "c" client, "s" server, "c2" a second client port
	flags uint8
	seq   uint32
	ack   uint32
	tfo   TFOState
	kind  uint8 // TFO kind; 0 means 34
	data  int
	mptcp bool
	iface int64
	input int   // the input (file) it was read from
	atMs  int64 // capture time in ms
	// nat is the client address:port a NAT rewrote the client's to, as
	// seen on the server's side; empty when not rewritten.
	nat     string
	snapcut bool // options cut by snaplen
	// ts is the TCP timestamp (TSval) the segment carries, if stamped.
	ts      uint32
	stamped bool
}

var (
	testClient  = netip.MustParseAddrPort("192.0.2.1:40000")
	testClient2 = netip.MustParseAddrPort("192.0.2.1:40001")
	testServer  = netip.MustParseAddrPort("192.0.2.2:443")
)

func (p pkt) segment() Segment {
	s := Segment{Seq: p.seq, Ack: p.ack, Flags: p.flags, DataLen: p.data}
	client := testClient
	if p.from == "c2" {
		client = testClient2
	}
	if p.nat != "" {
		client = netip.MustParseAddrPort(p.nat)
	}
	if p.from == "s" {
		s.Src, s.Dst = testServer, client
	} else {
		s.Src, s.Dst = client, testServer
	}
	if p.tfo != TFONone {
		kind := p.kind
		if kind == 0 {
			kind = optFastOpen
		}
		var body []byte
		switch p.tfo {
		case TFOCookie:
			body = []byte{1, 2, 3, 4, 5, 6, 7, 8}
		case TFOMalformed:
			body = []byte{1, 2}
		}
		s.Options.TFO.set(kind, uint8(2+len(body)), body)
	}
	if p.mptcp {
		s.Options.MPTCP = MPTCPOption{Present: true, Len: 12, Subtype: MPCapable, Version: 1}
	}
	if p.snapcut {
		s.Options.Stop = WalkTruncated
	}
	s.Options.TSval, s.Options.HasTS = p.ts, p.stamped
	return s
}

// recorder is a Sink that keeps outcomes in finalisation order.
type recorder struct {
	attempts []Attempt
	orphans  int
	// late and earlyFlow are the tracker's LateReplies and EarlyPerFlow.
	late, earlyFlow int
}

func (r *recorder) Attempt(a *Attempt)                    { r.attempts = append(r.attempts, a.Clone()) }
func (r *recorder) OrphanReply(netip.AddrPort, PacketRef) { r.orphans++ }

func runTracker(pkts []pkt, timeout int64) *recorder {
	rec := &recorder{}
	tr := NewTracker(rec, timeout)
	for i, p := range pkts {
		seg := p.segment()
		tr.Add(PacketRef{Input: p.input, Frame: i + 1, Interface: p.iface, Time: p.atMs * 1e6}, &seg)
	}
	tr.Flush()
	rec.late, rec.earlyFlow = tr.LateReplies().N, tr.EarlyPerFlow().N
	return rec
}

const (
	syn    = FlagSYN
	synack = FlagSYN | FlagACK
	rstack = FlagRST | FlagACK
)

func TestTrackerOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		pkts     []pkt
		outcomes []Outcome // sorted by SYN frame
		orphans  int
		late     int // replies after their attempt was judged unanswered
		retrans  int // of the first attempt
		dups     int // of the first attempt
	}{
		{name: "granted", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie},
		}, outcomes: []Outcome{Granted}},
		{name: "granted experimental", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, kind: 254},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, kind: 254},
		}, outcomes: []Outcome{Granted}},
		{name: "omitted with mptcp", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, mptcp: true},
			{from: "s", flags: synack, seq: 900, ack: 101, mptcp: true},
		}, outcomes: []Outcome{Omitted}},
		{name: "accepted", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie, data: 11},
			{from: "s", flags: synack, seq: 900, ack: 112},
		}, outcomes: []Outcome{Accepted}},
		{name: "accepted partly", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie, data: 11},
			{from: "s", flags: synack, seq: 900, ack: 105},
		}, outcomes: []Outcome{Accepted}},
		{name: "accepted across sequence wrap", pkts: []pkt{
			{from: "c", flags: syn, seq: 0xfffffffa, tfo: TFOCookie, data: 20},
			{from: "s", flags: synack, seq: 900, ack: 15},
		}, outcomes: []Outcome{Accepted}},
		{name: "rejected", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie, data: 11},
			{from: "s", flags: synack, seq: 900, ack: 101},
		}, outcomes: []Outcome{Rejected}},
		{name: "renewed", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie, data: 11},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie},
		}, outcomes: []Outcome{Renewed}},
		{name: "unconfirmed", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie},
			{from: "s", flags: synack, seq: 900, ack: 101},
		}, outcomes: []Outcome{Unconfirmed}},
		{name: "fallback", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie, data: 11},
			{from: "c", flags: syn, seq: 100, atMs: 1000},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1001},
		}, outcomes: []Outcome{Fallback}, retrans: 1},
		{name: "cookie after plain retry answers the TFO SYN", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "c", flags: syn, seq: 100, atMs: 1000},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 1001},
		}, outcomes: []Outcome{Granted}, retrans: 1},
		{name: "no cookie before the plain retry is omitted", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 5},
			{from: "c", flags: syn, seq: 100, atMs: 1000},
		}, outcomes: []Outcome{Omitted}, retrans: 1},
		{name: "refused", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: rstack, ack: 101},
		}, outcomes: []Outcome{Refused}},
		{name: "rst without ack is not matched", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: FlagRST, seq: 0},
		}, outcomes: []Outcome{Unanswered}},
		{name: "rst after syn-ack does not change the answer", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie},
			{from: "s", flags: rstack, seq: 901, ack: 101},
		}, outcomes: []Outcome{Granted}},
		{name: "unanswered", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, atMs: 1000},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, atMs: 3000},
		}, outcomes: []Outcome{Unanswered}, retrans: 2},
		{name: "plain", pkts: []pkt{
			{from: "c", flags: syn, seq: 100},
			{from: "s", flags: synack, seq: 900, ack: 101},
		}, outcomes: []Outcome{Plain}},
		{name: "malformed syn", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFOMalformed},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie},
		}, outcomes: []Outcome{MalformedTFO}},
		{name: "malformed reply", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOMalformed},
		}, outcomes: []Outcome{MalformedTFO}},
		{name: "duplicate on a second interface is one attempt", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, iface: 0},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, iface: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, iface: 0},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, iface: 1},
		}, outcomes: []Outcome{Granted}, dups: 1},
		{name: "port reuse with a new isn is a new attempt", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: synack, seq: 900, ack: 101},
			{from: "c", flags: syn, seq: 5000, tfo: TFORequest, atMs: 100},
			{from: "s", flags: synack, seq: 7000, ack: 5001, tfo: TFOCookie, atMs: 101},
		}, outcomes: []Outcome{Omitted, Granted}},
		{name: "reply matched by ack among overlapping attempts", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "c", flags: syn, seq: 5000, tfo: TFORequest, atMs: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 2},
			{from: "s", flags: synack, seq: 900, ack: 5001, atMs: 3},
		}, outcomes: []Outcome{Granted, Omitted}},
		{name: "syn-ack written before its syn", pkts: []pkt{
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 2},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, atMs: 1},
		}, outcomes: []Outcome{Granted}},
		{name: "plain retry written before the tfo syn", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, atMs: 1000},
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie, data: 11},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1001},
		}, outcomes: []Outcome{Fallback}, retrans: 1},
		{name: "rst written before its syn", pkts: []pkt{
			{from: "s", flags: rstack, ack: 101, atMs: 2},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, atMs: 1},
		}, outcomes: []Outcome{Refused}},
		// Files from two hosts merged by time: the server's clock runs
		// 2 s behind the client's. The ack names the SYN: no orphan.
		{name: "syn-ack 2 s before the syn answers it", pkts: []pkt{
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, atMs: 2000},
		}, outcomes: []Outcome{Granted}},
		{name: "syn-ack long before the syn is an orphan", pkts: []pkt{
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, atMs: 20_000},
		}, outcomes: []Outcome{Unanswered}, orphans: 1},
		// The reply came after the 180 s timeout judged the attempt: it
		// is counted as late, not as a SYN-ACK without SYN.
		{name: "syn-ack after the reply timeout is late, not an orphan", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "c2", flags: syn, seq: 100, atMs: 190_000},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 200_000},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 201_000},
		}, outcomes: []Outcome{Unanswered, Unanswered}, late: 1},
		{name: "syn-ack without syn is counted", pkts: []pkt{
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie},
		}, orphans: 1},
		{name: "syn-ack with a wrong ack is not a reply", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie, data: 10},
			{from: "s", flags: synack, seq: 900, ack: 112},
		}, outcomes: []Outcome{Unanswered}, orphans: 1},
		{name: "second client is another attempt", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "c2", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie},
		}, outcomes: []Outcome{Granted, Unanswered}},
		{name: "syn-ack retransmitted 20 s later is no orphan", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 20_000},
		}, outcomes: []Outcome{Granted}},
		{name: "syn resent 10 s after the reply is no new attempt", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, atMs: 10_000},
		}, outcomes: []Outcome{Omitted}},
		// One segment far ahead does not move the clock (maxClockStep):
		// nothing confirms the jump, so the SYN-ACK still answers.
		{name: "a lone syn-ack stamped 250 s later still answers", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 250_000},
		}, outcomes: []Outcome{Granted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := runTracker(tt.pkts, 0)
			if rec.orphans != tt.orphans {
				t.Errorf("orphan replies = %d, want %d", rec.orphans, tt.orphans)
			}
			if rec.late != tt.late {
				t.Errorf("late replies = %d, want %d", rec.late, tt.late)
			}
			got := map[int]Outcome{}
			for _, a := range rec.attempts {
				got[a.SYN.Frame] = a.Outcome
			}
			if len(rec.attempts) != len(tt.outcomes) {
				t.Fatalf("%d attempts (%v), want %d (%v)", len(rec.attempts), got, len(tt.outcomes), tt.outcomes)
			}
			// Attempts come out in any order: compare by SYN frame.
			frames := []int{}
			for i, p := range tt.pkts {
				if p.flags == syn {
					if _, ok := got[i+1]; ok {
						frames = append(frames, i+1)
					}
				}
			}
			for i, f := range frames {
				if got[f] != tt.outcomes[i] {
					t.Errorf("attempt at frame %d: %v, want %v", f, got[f], tt.outcomes[i])
				}
			}
			if len(rec.attempts) > 0 {
				first := rec.attempts[0]
				for _, a := range rec.attempts {
					if a.SYN.Frame < first.SYN.Frame {
						first = a
					}
				}
				if first.SYN.Retransmits != tt.retrans || first.SYN.Duplicates != tt.dups {
					t.Errorf("retransmits/duplicates = %d/%d, want %d/%d", first.SYN.Retransmits, first.SYN.Duplicates, tt.retrans, tt.dups)
				}
			}
		})
	}
}

// TestTrackerVantagePoints checks how sightings of one packet are told
// apart: a copy is near-simultaneous, a retransmission comes later,
// whichever input or interface holds either; copies carry evidence.
func TestTrackerVantagePoints(t *testing.T) {
	tests := []struct {
		name      string
		pkts      []pkt
		outcome   Outcome
		attempts  int
		retrans   int
		dups      int
		stripped  int // frame of the stripped copy, 0 for none
		replyLost bool
	}{
		{name: "retransmission in the next rotation file", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie, data: 11, input: 0},
			{from: "c", flags: syn, seq: 100, atMs: 1000, input: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1001, input: 1},
		}, outcome: Fallback, attempts: 1, retrans: 1},
		{name: "retransmission in the next pcapng section", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, iface: PackInterface(0, 0, 0)},
			{from: "c", flags: syn, seq: 100, atMs: 1000, iface: PackInterface(1, 0, 0)},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1001, iface: PackInterface(1, 0, 0)},
		}, outcome: Fallback, attempts: 1, retrans: 1},
		{name: "copy seen twice on one interface (loopback)", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 1},
		}, outcome: Granted, attempts: 1, dups: 1},
		{name: "option stripped between two interfaces", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, iface: 0},
			{from: "c", flags: syn, seq: 100, iface: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1, iface: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1, iface: 0},
		}, outcome: Stripped, attempts: 1, dups: 1, stripped: 2},
		{name: "copies on both sides that keep the option", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie, data: 11, input: 1},
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie, data: 11, input: 0},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1, input: 1},
		}, outcome: Rejected, attempts: 1, dups: 1},
		{name: "stripped copy written before the client's", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, input: 1},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, input: 0},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1, input: 1},
		}, outcome: Stripped, attempts: 1, dups: 1, stripped: 1},
		{name: "option stripped behind a nat", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, input: 0},
			{from: "c", flags: syn, seq: 100, input: 1, nat: "198.51.100.1:6000"},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1, input: 1, nat: "198.51.100.1:6000"},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1, input: 0},
		}, outcome: Stripped, attempts: 1, dups: 1, stripped: 2},
		{name: "nat copy on the same interface is another attempt", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "c", flags: syn, seq: 100, nat: "198.51.100.1:6000"},
		}, outcome: Unanswered, attempts: 2},
		{name: "reply lost between the vantage points", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, iface: 0},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, iface: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 1, iface: 1},
			{from: "c", flags: syn, seq: 100, atMs: 1000, iface: 0},
			{from: "c", flags: syn, seq: 100, atMs: 1000, iface: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 1001, iface: 1},
		}, outcome: Granted, attempts: 1, retrans: 1, dups: 2, replyLost: true},
		{name: "reply lost, written after the retransmissions (two interfaces in one file)", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, iface: 0},
			{from: "c", flags: syn, seq: 100, atMs: 1000, iface: 0},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, iface: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 1, iface: 1},
			{from: "c", flags: syn, seq: 100, atMs: 1000, iface: 1},
		}, outcome: Granted, attempts: 1, retrans: 1, dups: 2, replyLost: true},
		{name: "reply at both vantage points is not lost", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, iface: 0},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, iface: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 1, iface: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 1, iface: 0},
			{from: "c", flags: syn, seq: 100, atMs: 1000, iface: 0},
			{from: "c", flags: syn, seq: 100, atMs: 1000, iface: 1},
		}, outcome: Granted, attempts: 1, retrans: 1, dups: 2},
		{name: "the same timestamp 300 ms apart is a copy (two hosts' clocks)", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, input: 0, ts: 77, stamped: true},
			{from: "c", flags: syn, seq: 100, input: 1, atMs: 300, ts: 77, stamped: true},
			{from: "s", flags: synack, seq: 900, ack: 101, input: 1, atMs: 301},
		}, outcome: Stripped, attempts: 1, dups: 1, stripped: 2},
		{name: "300 ms apart without timestamps is a retransmission", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, input: 0},
			{from: "c", flags: syn, seq: 100, input: 1, atMs: 300},
			{from: "s", flags: synack, seq: 900, ack: 101, input: 1, atMs: 301},
		}, outcome: Fallback, attempts: 1, retrans: 1},
		{name: "timestamp 0 proves nothing past 50 ms", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, input: 0, stamped: true},
			{from: "c", flags: syn, seq: 100, input: 1, atMs: 300, stamped: true},
			{from: "s", flags: synack, seq: 900, ack: 101, input: 1, atMs: 301},
		}, outcome: Fallback, attempts: 1, retrans: 1},
		{name: "another timestamp within 50 ms is a retransmission", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, ts: 77, stamped: true},
			{from: "c", flags: syn, seq: 100, input: 1, atMs: 10, ts: 78, stamped: true},
			{from: "s", flags: synack, seq: 900, ack: 101, input: 1, atMs: 11},
		}, outcome: Fallback, attempts: 1, retrans: 1},
		{name: "nat copy with the same timestamp 300 ms later", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, input: 0, ts: 5, stamped: true},
			{from: "c", flags: syn, seq: 100, tfo: TFORequest, input: 1, atMs: 300, ts: 5, stamped: true, nat: "198.51.100.1:6000"},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, input: 1, atMs: 301, nat: "198.51.100.1:6000"},
		}, outcome: Granted, attempts: 1, dups: 1},
		{name: "copies of a retry that dropped the SYN data are copies", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie, data: 11, iface: 0},
			{from: "c", flags: syn, seq: 100, tfo: TFOCookie, data: 11, iface: 1},
			{from: "c", flags: syn, seq: 100, atMs: 1000, iface: 0},
			{from: "c", flags: syn, seq: 100, atMs: 1000, iface: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1001, iface: 1},
			{from: "s", flags: synack, seq: 900, ack: 101, atMs: 1001, iface: 0},
		}, outcome: Fallback, attempts: 1, retrans: 1, dups: 2},
		{name: "one vantage point cannot lose a reply", pkts: []pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 1},
			{from: "c", flags: syn, seq: 100, atMs: 1000, input: 1},
		}, outcome: Granted, attempts: 1, retrans: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := runTracker(tt.pkts, 0)
			if len(rec.attempts) != tt.attempts {
				t.Fatalf("%d attempts, want %d", len(rec.attempts), tt.attempts)
			}
			a := rec.attempts[0]
			for _, b := range rec.attempts {
				if b.SYN.Frame < a.SYN.Frame {
					a = b
				}
			}
			if a.Outcome != tt.outcome {
				t.Errorf("outcome %v, want %v", a.Outcome, tt.outcome)
			}
			if a.SYN.Retransmits != tt.retrans || a.SYN.Duplicates != tt.dups {
				t.Errorf("retransmits/duplicates = %d/%d, want %d/%d", a.SYN.Retransmits, a.SYN.Duplicates, tt.retrans, tt.dups)
			}
			if int(a.Stripped().Frame) != tt.stripped {
				t.Errorf("stripped copy at frame %d, want %d", a.Stripped().Frame, tt.stripped)
			}
			if a.ReplyLost() != tt.replyLost {
				t.Errorf("reply lost = %v, want %v", a.ReplyLost(), tt.replyLost)
			}
			seen := 1
			if a.log != nil {
				seen = len(a.log.syn.All())
			}
			if seen != min(1+tt.retrans+tt.dups, maxSightings) {
				t.Errorf("%d SYN sightings kept, want one per send and copy", seen)
			}
		})
	}
}

// TestTrackerTimeout checks that a live-style reply timeout finalises an
// attempt as unanswered once the clock moves past it, without Flush.
func TestTrackerTimeout(t *testing.T) {
	rec := &recorder{}
	tr := NewTracker(rec, 2e9)
	seg := pkt{from: "c", flags: syn, seq: 1, tfo: TFORequest}.segment()
	tr.Add(PacketRef{Frame: 1, Time: 0}, &seg)
	tr.Advance(1e9)
	if len(rec.attempts) != 0 || tr.Open() != 1 {
		t.Fatalf("finalised too early: %d attempts, %d open", len(rec.attempts), tr.Open())
	}
	tr.Advance(3e9)
	if len(rec.attempts) != 1 || rec.attempts[0].Outcome != Unanswered || tr.Open() != 0 {
		t.Fatalf("after the timeout: %+v, %d open", rec.attempts, tr.Open())
	}
}

// TestTrackerBackoff checks that a client backing off past a short (live)
// reply timeout stays one unanswered attempt.
func TestTrackerBackoff(t *testing.T) {
	rec := &recorder{}
	tr := NewTracker(rec, 5e9)
	for _, at := range []int64{0, 1, 3, 7, 15, 31} { // Linux 6.1's SYN backoff, in seconds
		seg := pkt{from: "c", flags: syn, seq: 1, tfo: TFORequest}.segment()
		tr.Add(PacketRef{Frame: int(at) + 1, Time: at * 1e9}, &seg)
	}
	tr.Flush()
	if len(rec.attempts) != 1 || rec.attempts[0].Outcome != Unanswered {
		t.Errorf("%d attempts, want 1 unanswered: %+v", len(rec.attempts), rec.attempts)
	}
}

// TestTrackerFlood checks that a SYN flood keeps the open attempts bounded
// and that the attempts judged early are counted.
func TestTrackerFlood(t *testing.T) {
	rec := &discard{}
	tr := NewTracker(rec, 0)
	tr.maxOpen = 1000
	seg := pkt{from: "c", flags: syn, tfo: TFORequest}.segment()
	for i := range 20000 {
		seg.Seq = uint32(i)
		seg.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), 40000)
		tr.Add(PacketRef{Frame: i + 1, Time: int64(i) * 1e6}, &seg)
		if n := tr.nopen; n > 1000 {
			t.Fatalf("%d attempts open after %d SYNs", n, i+1)
		}
	}
	if tr.Early() == 0 || tr.Early() > 20000 {
		t.Errorf("Early() = %d", tr.Early())
	}
	tr.Flush()
}

// TestTrackerTruncated checks that attempts whose options snaplen cut are
// marked so the collector can leave them out of verdicts.
func TestTrackerTruncated(t *testing.T) {
	rec := runTracker([]pkt{
		{from: "c", flags: syn, seq: 100, snapcut: true},
		{from: "s", flags: synack, seq: 900, ack: 101},
	}, 0)
	if len(rec.attempts) != 1 || !rec.attempts[0].Truncated() {
		t.Fatalf("attempt not marked truncated: %+v", rec.attempts)
	}
	c := NewCollector(0)
	c.Attempt(&rec.attempts[0])
	r := c.Summary()
	if r.Servers[0].Truncated != 1 || r.Servers[0].Outcomes.Total() != 0 || r.Servers[0].Verdict != Inconclusive {
		t.Errorf("server = %+v", r.Servers[0])
	}
}

// TestTrackerChainBound checks that a flow reusing its port with ever new
// ISNs keeps a bounded number of open attempts.
func TestTrackerChainBound(t *testing.T) {
	rec := &recorder{}
	tr := NewTracker(rec, 0)
	for i := range 100 {
		seg := pkt{from: "c", flags: syn, seq: uint32(i * 1000)}.segment()
		tr.Add(PacketRef{Frame: i + 1, Time: int64(i)}, &seg)
	}
	if tr.Open() != maxAttemptsPerFlow {
		t.Errorf("%d open attempts, want %d", tr.Open(), maxAttemptsPerFlow)
	}
	tr.Flush()
	if len(rec.attempts) != 100 {
		t.Errorf("%d attempts finalised, want 100", len(rec.attempts))
	}
}

// TestRecentBounded checks that the memory of finalised attempts stays at
// its capacity, refreshed entries included.
func TestRecentBounded(t *testing.T) {
	r := newRecent(4, 1)
	for i := range 100 {
		client := netip.AddrPortFrom(testClient.Addr(), uint16(i%7))
		key := newFlowKey(client, testServer)
		r.add(key.hash64(r.seed), uint32(i), 0, int64(i), false)
		r.lateSYN(key.hash64(r.seed), uint32(i), int64(i)+1) // refreshes the entry
	}
	if r.len() > 4 || r.n != 4 {
		t.Errorf("%d entries, ring %d; want at most 4", r.len(), r.n)
	}
}

func TestVerdicts(t *testing.T) {
	tests := []struct {
		counts map[Outcome]int
		want   Verdict
	}{
		{map[Outcome]int{Granted: 1}, Grants},
		{map[Outcome]int{Accepted: 3, Plain: 10}, Grants},
		{map[Outcome]int{Renewed: 1, Unconfirmed: 2}, Grants},
		{map[Outcome]int{Omitted: 4, Rejected: 2}, Omits},
		{map[Outcome]int{Rejected: 1, Fallback: 5}, Omits},
		{map[Outcome]int{Granted: 1, Omitted: 1}, Mixed},
		{map[Outcome]int{Accepted: 1, Rejected: 1}, Mixed},
		{map[Outcome]int{Plain: 1, Refused: 1, Unanswered: 1, Fallback: 1, Unconfirmed: 1, MalformedTFO: 1}, Inconclusive},
		{map[Outcome]int{}, Inconclusive},
	}
	for _, tt := range tests {
		var c OutcomeCounts
		for o, n := range tt.counts {
			c[o] = n
		}
		if got := c.Verdict(); got != tt.want {
			t.Errorf("Verdict(%v) = %v, want %v", tt.counts, got, tt.want)
		}
	}
}

func TestOutcomeNames(t *testing.T) {
	want := []string{"granted", "omitted", "accepted", "rejected", "renewed", "unconfirmed",
		"fallback", "refused", "unanswered", "plain", "malformed", "stripped"}
	for i, o := range Outcomes() {
		if o.String() != want[i] {
			t.Errorf("outcome %d = %q, want %q", i, o, want[i])
		}
		if p, ok := ParseOutcome(want[i]); !ok || p != o {
			t.Errorf("ParseOutcome(%q) = %v, %v", want[i], p, ok)
		}
	}
	for i, name := range []string{"inconclusive", "grants", "omits", "mixed"} {
		if Verdict(i).String() != name {
			t.Errorf("verdict %d = %q, want %q", i, Verdict(i), name)
		}
	}
}

func TestTrackerAllocs(t *testing.T) {
	rec := &discard{}
	tr := NewTracker(rec, 0)
	synSeg := pkt{from: "c", flags: syn, tfo: TFORequest}.segment()
	ackSeg := pkt{from: "s", flags: synack, tfo: TFOCookie}.segment()
	var now int64
	step := func() {
		now += 1e6
		synSeg.Seq += 7919
		synSeg.Src = netip.AddrPortFrom(synSeg.Src.Addr(), uint16(now/1e6))
		ackSeg.Dst = synSeg.Src
		ackSeg.Ack = synSeg.Seq + 1
		tr.Add(PacketRef{Time: now}, &synSeg)
		tr.Add(PacketRef{Time: now + 1}, &ackSeg)
	}
	for range 20000 { // reach steady state: the map and free list have grown
		step()
	}
	if n := testing.AllocsPerRun(1000, step); n != 0 {
		t.Errorf("tracker allocates %v times per handshake in steady state", n)
	}
}

type discard struct{}

func (discard) Attempt(*Attempt)                      {}
func (discard) OrphanReply(netip.AddrPort, PacketRef) {}

func BenchmarkTracker(b *testing.B) {
	tr := NewTracker(discard{}, 0)
	synSeg := pkt{from: "c", flags: syn, tfo: TFORequest}.segment()
	ackSeg := pkt{from: "s", flags: synack, tfo: TFOCookie}.segment()
	var now int64
	b.ReportAllocs()
	for b.Loop() {
		now += 1e5
		synSeg.Seq += 7919
		synSeg.Src = netip.AddrPortFrom(synSeg.Src.Addr(), uint16(now/1e5))
		ackSeg.Dst = synSeg.Src
		ackSeg.Ack = synSeg.Seq + 1
		tr.Add(PacketRef{Time: now}, &synSeg)
		tr.Add(PacketRef{Time: now + 1}, &ackSeg)
	}
}

// TestTrackerNATAlias checks that a NAT'd copy's flow leads to the
// attempt: its SYN-ACK answers it, the rewritten addresses are kept, and
// a later SYN on that flow after the attempt ends is no new attempt.
func TestTrackerNATAlias(t *testing.T) {
	const nat = "198.51.100.1:6000"
	rec := runTracker([]pkt{
		{from: "c", flags: syn, seq: 100, tfo: TFORequest, input: 0},
		{from: "c", flags: syn, seq: 100, tfo: TFORequest, input: 1, nat: nat},
		{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 1, input: 1, nat: nat},
		{from: "c", flags: syn, seq: 100, atMs: 20_000, input: 1, nat: nat}, // after the linger
	}, 0)
	if len(rec.attempts) != 1 {
		t.Fatalf("%d attempts, want 1", len(rec.attempts))
	}
	a := rec.attempts[0]
	if a.Outcome != Granted || a.Reply.Input != 1 {
		t.Errorf("outcome %v, reply from input %d; want granted by the server side's SYN-ACK", a.Outcome, a.Reply.Input)
	}
	c, s, ok := a.Rewritten()
	if !ok || c.String() != nat || s != testServer {
		t.Errorf("rewritten %v > %v (%v), want %s > %v", c, s, ok, nat, testServer)
	}
}

// TestTrackerPerFlowLimitCounted checks that attempts judged before their
// timeout because their flow had maxAttemptsPerFlow newer ones open (a
// scanner reusing one port with new ISNs) are counted, so the report can
// say their replies may have been missed.
func TestTrackerPerFlowLimitCounted(t *testing.T) {
	var pkts []pkt
	for i := range maxAttemptsPerFlow + 3 {
		pkts = append(pkts, pkt{from: "c", flags: syn, seq: uint32(1000 * (i + 1)), tfo: TFORequest, atMs: int64(i)})
	}
	// The newest attempt is answered; the three oldest were judged early.
	pkts = append(pkts, pkt{from: "s", flags: synack, seq: 9, ack: uint32(1000*(maxAttemptsPerFlow+3)) + 1, tfo: TFOCookie, atMs: 20})
	rec := runTracker(pkts, 0)
	if len(rec.attempts) != maxAttemptsPerFlow+3 {
		t.Fatalf("%d attempts, want %d", len(rec.attempts), maxAttemptsPerFlow+3)
	}
	if rec.earlyFlow != 3 {
		t.Errorf("EarlyPerFlow().N = %d, want 3", rec.earlyFlow)
	}
}

// TestTrackerClockOutlier checks that one record stamped years ahead does
// not judge every open attempt unanswered: before, their SYN-ACKs then
// matched finalised attempts and vanished. The outlier is counted.
func TestTrackerClockOutlier(t *testing.T) {
	const years = 3 * 365 * 24 * 3600 * 1000
	pkts := []pkt{
		{from: "c", flags: syn, seq: 100, tfo: TFORequest},
		{from: "c2", flags: syn, seq: 500, tfo: TFORequest, atMs: 1},
		// A plain SYN from elsewhere, its timestamp damaged.
		{from: "c", flags: syn, seq: 7000, atMs: years},
		{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 2},
		{from: "s2", flags: synack, seq: 900, ack: 501, tfo: TFOCookie, atMs: 3},
	}
	rec := &recorder{}
	tr := NewTracker(rec, 0)
	for i, p := range pkts {
		seg := p.segment()
		if p.from == "s2" {
			seg.Src, seg.Dst = testServer, testClient2
		}
		tr.Add(PacketRef{Frame: i + 1, Time: p.atMs * 1e6}, &seg)
	}
	tr.Flush()
	got := map[int]Outcome{}
	for _, a := range rec.attempts {
		got[a.SYN.Frame] = a.Outcome
	}
	if got[1] != Granted || got[2] != Granted || rec.orphans != 0 || tr.LateReplies().N != 0 {
		t.Errorf("outcomes by SYN frame %v, %d orphans, %d late replies; want frames 1 and 2 granted, none", got, rec.orphans, tr.LateReplies().N)
	}
	if o := tr.ClockOutliers(); o.N != 1 || o.First.Frame != 3 {
		t.Errorf("ClockOutliers() = %+v, want 1 at frame 3", o)
	}
}

// TestTrackerClockJumpConfirmed checks that a real gap (two segments in a
// row far ahead) still moves the clock and expires what timed out: a
// reply within recentWindow of the SYN's timeout (180 s) is late, one
// after it answers no SYN the tracker still remembers.
func TestTrackerClockJumpConfirmed(t *testing.T) {
	for _, tc := range []struct {
		replyMs       int64
		late, orphans int
	}{
		{replyMs: 200_001, late: 1},
		{replyMs: 600_001, orphans: 1},
	} {
		rec := runTracker([]pkt{
			{from: "c", flags: syn, seq: 100, tfo: TFORequest},
			{from: "c2", flags: syn, seq: 500, atMs: tc.replyMs - 1},
			{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: tc.replyMs},
		}, 0)
		if len(rec.attempts) != 2 || rec.late != tc.late || rec.orphans != tc.orphans {
			t.Errorf("reply at %d ms: %d attempts, %d late replies, %d orphans; want 2, %d, %d",
				tc.replyMs, len(rec.attempts), rec.late, rec.orphans, tc.late, tc.orphans)
		}
	}
}

// TestTrackerChainUnlink: attempts on one flow (a port reused with new
// ISNs) leave its chain of open attempts in any order, the middle one, then
// the head, then the last; each reply still finds its attempt, and the
// open table ends empty.
func TestTrackerChainUnlink(t *testing.T) {
	rec := &recorder{}
	tr := NewTracker(rec, 0)
	at := func(ms int64, p pkt) {
		seg := p.segment()
		tr.Add(PacketRef{Frame: 1, Time: ms * 1e6}, &seg)
	}
	for i, isn := range []uint32{100, 200, 300} {
		at(int64(i), pkt{from: "c", flags: syn, seq: isn, tfo: TFORequest})
	}
	steps := []struct {
		isn  uint32 // answered at ms, then lingers and goes
		ms   int64
		open int // after it has gone
	}{
		{200, 3, 2},    // the middle one
		{300, 4004, 1}, // the head, with an older one behind it
		{100, 8008, 0}, // the last
	}
	for _, s := range steps {
		at(s.ms, pkt{from: "s", flags: synack, seq: 900, ack: s.isn + 1, tfo: TFOCookie})
		tr.Advance((s.ms + 4000) * 1e6)
		if tr.Open() != s.open {
			t.Fatalf("after %d went: %d open, want %d", s.isn, tr.Open(), s.open)
		}
	}
	if tr.open.n != 0 {
		t.Errorf("%d flows left in the open table", tr.open.n)
	}
	if len(rec.attempts) != 3 {
		t.Fatalf("%d attempts judged, want 3", len(rec.attempts))
	}
	for _, a := range rec.attempts {
		if a.Outcome != Granted {
			t.Errorf("attempt with ISN %d: %v, want granted", a.ISN, a.Outcome)
		}
	}
}

// TestTrackerReusedAttemptStartsClean: an Attempt finalised with a reply,
// a sighting log and a newer attempt on its flow, reused for a new SYN,
// carries none of it (finalise does not clear an Attempt whole; addSYN
// resets what it does not set).
func TestTrackerReusedAttemptStartsClean(t *testing.T) {
	rec := runTracker([]pkt{
		{from: "c", flags: syn, seq: 100, tfo: TFORequest},
		{from: "c", flags: syn, seq: 100, tfo: TFORequest, iface: 1}, // a copy: a log
		{from: "c", flags: syn, seq: 200, tfo: TFORequest, atMs: 1},  // newer on the flow
		{from: "s", flags: synack, seq: 900, ack: 101, tfo: TFOCookie, atMs: 2},
		{from: "s", flags: synack, seq: 901, ack: 201, tfo: TFOCookie, atMs: 2},
		// Both are judged by the sweep at 10 s; these reuse their Attempts.
		{from: "c2", flags: syn, seq: 500, atMs: 10_000},
		{from: "c", flags: syn, seq: 700, atMs: 10_001},
	}, 0)
	if len(rec.attempts) != 4 {
		t.Fatalf("%d attempts, want 4", len(rec.attempts))
	}
	for _, a := range rec.attempts[2:] {
		if a.Outcome != Unanswered || a.Reply != (ReplyInfo{}) || a.log != nil || a.newer || a.SYN.Retransmits+a.SYN.Duplicates != 0 {
			t.Errorf("reused attempt %d: outcome %v, reply %+v, log %v, newer %v", a.ID, a.Outcome, a.Reply, a.log != nil, a.newer)
		}
	}
}

// TestPrefetchChangesNothing: prefetching the lookups of the segments
// ahead, hashed by the tracker's FlowHasher, another tracker's or none,
// judges as a tracker that never prefetches; and a prefetch touches the
// slot and, when its hash matches, the attempt that Add will look at.
func TestPrefetchChangesNothing(t *testing.T) {
	pkts := []pkt{
		{from: "c", flags: syn, seq: 1000, tfo: TFORequest, atMs: 0},
		{from: "c2", flags: syn, seq: 2000, tfo: TFOCookie, data: 10, atMs: 1},
		{from: "s", flags: synack, seq: 5000, ack: 1001, tfo: TFOCookie, atMs: 2},
		{from: "c", flags: syn, seq: 1000, tfo: TFORequest, atMs: 1002},
		{from: "c2", flags: syn, seq: 2000, tfo: TFOCookie, data: 10, atMs: 3000},
	}
	want := runTracker(pkts, 0)
	other := NewTracker(&recorder{}, 0).FlowHasher()
	for _, tc := range []struct {
		name string
		hash func(tr *Tracker, seg *Segment)
	}{
		{"hashed", func(tr *Tracker, seg *Segment) { tr.FlowHasher().Hash(seg) }},
		{"another tracker's hash", func(_ *Tracker, seg *Segment) { other.Hash(seg) }},
		{"not hashed", func(*Tracker, *Segment) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			tr := NewTracker(rec, 0)
			segs := make([]Segment, len(pkts))
			for i, p := range pkts {
				segs[i] = p.segment()
				tc.hash(tr, &segs[i])
			}
			for i := range segs {
				for j := i; j < min(i+3, len(segs)); j++ {
					tr.Prefetch(&segs[j])
				}
				p := pkts[i]
				tr.Add(PacketRef{Input: p.input, Frame: i + 1, Interface: p.iface, Time: p.atMs * 1e6}, &segs[i])
			}
			tr.Flush()
			for i := range min(len(rec.attempts), len(want.attempts)) { // each tracker seeds its hashes
				rec.attempts[i].hash = want.attempts[i].hash
			}
			if !reflect.DeepEqual(rec.attempts, want.attempts) || rec.orphans != want.orphans {
				t.Errorf("with prefetches judged %+v (%d orphans), want %+v (%d)", rec.attempts, rec.orphans, want.attempts, want.orphans)
			}
		})
	}

	tr := NewTracker(&recorder{}, 0)
	first := pkts[0].segment()
	tr.FlowHasher().Hash(&first)
	h := fold(first.flow)
	if got := tr.open.touch(h); got != 0 {
		t.Errorf("touch of an empty table = %d, want 0", got)
	}
	tr.Add(PacketRef{Frame: 1}, &first)
	a := tr.open.get(&first.Src, &first.Dst, h)
	if got, want := tr.open.touch(h), uint32(a.idx+1)+a.ISN; got != want {
		t.Errorf("touch of the attempt's slot = %d, want its number and ISN, %d", got, want)
	}
	if got := tr.open.touch(h ^ 1); got == uint32(a.idx+1)+a.ISN {
		t.Errorf("touch of another hash read the attempt")
	}
}
