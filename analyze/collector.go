package analyze

import (
	"fmt"
	"net/netip"
	"slices"
)

// DefaultMaxAttempts caps the attempts a report lists in detail, which bounds
// memory on large captures; counts stay complete.
const DefaultMaxAttempts = 10000

// Collector aggregates finalised attempts into per-server results. It is the
// Tracker's Sink. Its zero value is not usable: use NewCollector.
type Collector struct {
	servers serverTable
	// clients holds what capture-wide findings need per client IP
	// (clients.go); tfoSYNs and unknownSYNs count attempts whose SYN asked
	// for TFO, or whose options snaplen cut.
	clients              map[netip.Addr]*clientStats
	tfoSYNs, unknownSYNs int
	// latestClients remembers the entries of clients looked up last
	// (latestTwo, servers.go).
	latestClients latestTwo[netip.Addr, *clientStats]
	// untrackedClients counts attempts from client IPs beyond
	// maxTrackedClients, which the client findings do not see.
	untrackedClients int
	// kept holds compact copies of the attempts listed in detail; the
	// report formats them. (Formatting them as they come took half again
	// the memory, strings and all, while the tracker's own tables peak.)
	kept    KeptAttempts
	omitted int
	// maxAttempts caps kept; < 0 keeps none (and counts them all omitted).
	maxAttempts int
	// onChange is told of changes by TellChanges; pending lists the
	// servers (indexes in servers.listed) that switched since.
	onChange func(netip.AddrPort, *Change)
	pending  []int
}

// OnChange has f called, from TellChanges, for each listed server whose
// deciding outcomes switched (change.go): at the first switch, and once
// more when they turn out interleaved; later switches only count, so
// that a server behind a load balancer does not flood. live prints these
// as they happen. Call it before the first attempt.
func (c *Collector) OnChange(f func(server netip.AddrPort, change *Change)) { c.onChange = f }

// TellChanges calls the OnChange function for the servers that switched
// since the last call. Call it between the tracker's calls (on a tick),
// not from within one: a tracker finalises a sweep's attempts in no
// order, and the sweep's whole batch must be in for the change to name
// the right attempts.
func (c *Collector) TellChanges() {
	for _, i := range c.pending {
		l := &c.servers.listed[i]
		l.stats.changePending = false
		ch := l.stats.change.change()
		if ch == nil || ch.Kind == Interleaved && l.stats.changeTold {
			continue
		}
		l.stats.changeTold = ch.Kind == Interleaved
		c.onChange(l.addr, ch)
	}
	c.pending = c.pending[:0]
}

// LimitServers lists at most max servers (0: DefaultMaxServers), the rest
// aggregated into one row; all lists servers without TFO attempts too.
// Call it before the first attempt.
func (c *Collector) LimitServers(max int, all bool) {
	c.servers.maxServers, c.servers.all = max, all
}

type serverStats struct {
	outcomes  OutcomeCounts
	mptcp     MPTCPCounts
	orphans   int
	truncated int
	// tfoKinds counts attempts by TFO kind: 34, 253, 254.
	tfoKinds [3]int
	// mptcpOmitting counts omitted or rejected attempts whose reply carried MPTCP.
	mptcpOmitting int
	// vantage is what copies at several vantage points showed (vantage.go).
	vantage vantageStats
	// change is when the deciding outcomes changed (change.go); meaningless
	// in the "other" row, which sums servers.
	change changeLog
	// changePending: the server is in Collector.pending; changeTold:
	// OnChange has told that it is interleaved.
	changePending, changeTold bool
	// The earliest frame of each kind of evidence the findings name
	// (hints.go); each is valid iff its Frame != 0.
	mptcpReply   PacketRef // a SYN-ACK carrying MPTCP: the listener is MPTCP (E1 yes)
	plainToMPTCP PacketRef // an MPTCP SYN answered without MPTCP: it is not (E1 no)
	plainOmit    PacketRef // such an answer without a cookie: a plain listener omits
	grant        PacketRef // a reply granting a cookie (E3)
	mptcpGrant   PacketRef // a reply granting a cookie and carrying MPTCP (E2)
	// timeline counts the attempts above over time (timeline.go).
	timeline Timeline
}

// noteEvidence keeps the earliest frames that prove what the findings rest on.
func (s *serverStats) noteEvidence(a *Attempt) {
	if a.Reply.Kind != ReplySYNACK {
		return
	}
	switch {
	case a.Reply.MPTCP.Present:
		keepEarliest(&s.mptcpReply, a.Reply.PacketRef)
	case a.SYN.MPTCP.Present:
		keepEarliest(&s.plainToMPTCP, a.Reply.PacketRef)
		if a.Outcome.Omits() {
			keepEarliest(&s.plainOmit, a.Reply.PacketRef)
		}
	}
	if a.Outcome.Grants() {
		keepEarliest(&s.grant, a.Reply.PacketRef)
		if a.Reply.MPTCP.Present {
			keepEarliest(&s.mptcpGrant, a.Reply.PacketRef)
		}
	}
}

// keepEarliest sets *dst to r if *dst is unset or later: attempts reach the
// Collector in no particular order, yet a report must name the same frame
// however they came.
func keepEarliest(dst *PacketRef, r PacketRef) {
	if dst.Frame == 0 || refBefore(r, *dst) {
		*dst = r
	}
}

// refBefore orders frames by time, then by input and frame number. (It
// compares only as far as it must: cmp.Or of three cmp.Compare computed all
// three, 33 instructions a call, twice per attempt in changeLog.add.)
func refBefore(a, b PacketRef) bool {
	if a.Time != b.Time {
		return a.Time < b.Time
	}
	if a.Input != b.Input {
		return a.Input < b.Input
	}
	return a.Frame < b.Frame
}

// NewCollector returns a collector that keeps the details of at most
// maxAttempts attempts (0 keeps DefaultMaxAttempts, < 0 none).
func NewCollector(maxAttempts int) *Collector {
	if maxAttempts == 0 {
		maxAttempts = DefaultMaxAttempts
	}
	return &Collector{clients: make(map[netip.Addr]*clientStats), maxAttempts: maxAttempts}
}

// Attempt implements Sink.
func (c *Collector) Attempt(a *Attempt) {
	if i := c.servers.attempt(a); i >= 0 && c.onChange != nil {
		if s := &c.servers.listed[i].stats; !s.changePending {
			s.changePending = true
			c.pending = append(c.pending, i)
		}
	}
	c.noteClient(a)
	if !a.Counted() {
		return
	}
	if c.kept.Len() >= c.maxAttempts {
		c.omitted++
		return
	}
	c.kept.add(a, c.maxAttempts)
}

// OrphanReply implements Sink.
func (c *Collector) OrphanReply(server netip.AddrPort, _ PacketRef) {
	c.servers.orphan(server)
}

// Summary is what a Collector judged: the facts a report presents, and
// nothing of how it presents them.
type Summary struct {
	// Servers are the servers listed, by address, with their findings.
	Servers []ServerSummary
	// Other sums the servers beyond the listing limit; nil when none.
	Other *ServerSummary
	// Unlisted sums the servers without TFO attempts that are counted,
	// not listed; nil when none.
	Unlisted *Unlisted
	// Findings are about the capture as a whole, in display order.
	Findings []CaptureFinding
	// Kept are copies of the attempts kept in detail, in the order they
	// were judged; Omitted counts those beyond the cap.
	Kept    *KeptAttempts
	Omitted int
	// Warnings say where the counts of servers, or the clients the
	// capture-wide findings saw, are bounds.
	Warnings []string
}

// ServerSummary is one server's (or the sum of several's) verdict and
// the counts it rests on.
type ServerSummary struct {
	Server   netip.AddrPort // the zero value for Other
	Verdict  Verdict
	Outcomes OutcomeCounts
	MPTCP    MPTCPCounts
	// Orphans counts SYN-ACKs whose SYN the capture lacks.
	Orphans int
	// Truncated counts attempts left out because snaplen cut their options.
	Truncated int
	// TFOKinds counts attempts by the TFO kind their SYN used: 34, 253, 254.
	TFOKinds [3]int
	Findings []Finding // none for Other
	// Change is when the deciding outcomes changed; nil when they did
	// not, and for Other.
	Change *Change
	// Aggregated, in Other, counts the servers it sums.
	Aggregated int
	// Timeline counts the attempts that used TFO over time (plain ones
	// may come before a server has a row to count their times in), its
	// bucket 0 the earliest in use.
	Timeline Timeline
}

// MPTCPCounts counts attempts whose SYN or reply carried MPTCP (kind 30).
type MPTCPCounts struct {
	SYN    int
	SYNACK int
}

// CaptureFinding is a finding about the capture as a whole, with the
// servers and clients it concerns.
type CaptureFinding struct {
	ID      FindingID
	Text    string
	Servers []string
	Clients []string
}

// Attempts counts the attempts the summary judged, listed or not.
func (s *Summary) Attempts() int {
	n := 0
	for i := range s.Servers {
		n += s.Servers[i].Outcomes.Total()
	}
	if s.Other != nil {
		n += s.Other.Outcomes.Total()
	}
	if s.Unlisted != nil {
		n += s.Unlisted.Attempts
	}
	return n
}

// Summary sums up what the collector judged.
func (c *Collector) Summary() *Summary {
	sum := &Summary{Kept: &c.kept, Omitted: c.omitted}
	t := &c.servers
	order := make([]int, len(t.listed)) // sorted apart: the index points into listed
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return t.listed[a].addr.Compare(t.listed[b].addr) })
	hosts := c.hostEvidence()
	sum.Servers = make([]ServerSummary, 0, len(order))
	for _, i := range order {
		ap, s := t.listed[i].addr, &t.listed[i].stats
		ss := serverSummary(ap, s, hints(ap, s, s.outcomes.Verdict(), hosts[ap.Addr()]))
		ss.Change = s.change.change()
		sum.Servers = append(sum.Servers, ss)
	}
	if t.otherServers > 0 || t.other.outcomes.Total() > 0 || t.other.truncated > 0 || t.other.orphans > 0 {
		o := serverSummary(netip.AddrPort{}, &t.other, nil)
		o.Aggregated = t.otherServers
		sum.Other = &o
	}
	sum.Unlisted = t.unlisted()
	if t.untracked > 0 {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("more than %d servers: the numbers of servers aggregated "+
			"(\"other\", unlisted_servers) are lower bounds; attempts and outcomes stay complete", maxTrackedServers))
	}
	if n := t.otherServers; n > 0 {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("%d server(s) beyond the first %d are summed in the row %q "+
			"(raise --max-servers to list them); its verdict is that of the sum", n, t.maxServersOr(), OtherServers))
	}
	sum.Findings = c.captureFindings(sum.Attempts())
	sum.Warnings = append(sum.Warnings, c.clientWarnings()...)
	return sum
}

func serverSummary(ap netip.AddrPort, s *serverStats, findings []Finding) ServerSummary {
	return ServerSummary{Server: ap, Verdict: s.outcomes.Verdict(), Outcomes: s.outcomes, MPTCP: s.mptcp,
		Orphans: s.orphans, Truncated: s.truncated, TFOKinds: s.tfoKinds, Findings: findings, Timeline: s.timeline.normalized()}
}

// FormatAddr renders ip:port, or [ip]:port for IPv6, without zones.
func FormatAddr(ap netip.AddrPort) string { return ap.String() }
