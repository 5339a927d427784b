package analyze

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Schema names the JSON report contract; bump it when a field changes
// meaning or goes away. Adding fields keeps it.
const Schema = "tfopcap.report/v1"

// Report is the one model every output format renders. Its JSON form is the
// contract in DESIGN.md.
type Report struct {
	Schema   string          `json:"schema"`
	Tool     string          `json:"tool"`
	Inputs   []InputReport   `json:"inputs"`
	Totals   Totals          `json:"totals"`
	Servers  []ServerReport  `json:"servers"`
	Attempts []AttemptReport `json:"attempts"`
	// AttemptsOmitted counts attempts left out of Attempts by the cap;
	// Totals and Servers still count them.
	AttemptsOmitted int `json:"attempts_omitted,omitempty"`
	// UnlistedServers sums the servers without TFO attempts, which
	// Servers lists only when asked (--all-servers); nil when none.
	UnlistedServers *UnlistedServers `json:"unlisted_servers,omitempty"`
	// Live holds libpcap's counters for a live capture.
	Live *LiveStats `json:"live,omitempty"`
	// Findings about the capture as a whole (clients, no TFO at all).
	Findings []FindingReport `json:"findings"`
	// Warnings that concern no single input.
	Warnings []string `json:"warnings,omitempty"`
}

// InputReport describes one input file or interface.
type InputReport struct {
	Name      string   `json:"name"`
	Format    string   `json:"format"`
	LinkTypes []string `json:"link_types"`
	Packets   int      `json:"packets"`
	First     string   `json:"first,omitempty"`
	Last      string   `json:"last,omitempty"`
	Warnings  []string `json:"warnings"`
}

// Totals sums over all servers.
type Totals struct {
	Packets  int           `json:"packets"`
	Attempts int           `json:"attempts"`
	Outcomes OutcomeCounts `json:"outcomes"`
}

// ServerReport is one server's verdict and its evidence.
type ServerReport struct {
	Server   string        `json:"server"`
	Verdict  Verdict       `json:"verdict"`
	Attempts int           `json:"attempts"`
	Outcomes OutcomeCounts `json:"outcomes"`
	MPTCP    MPTCPCounts   `json:"mptcp"`
	Hints    []string      `json:"hints"`
	// HintIDs are the stable IDs of Hints, in the same order.
	HintIDs []FindingID `json:"hint_ids"`
	// SYNACKWithoutSYN counts SYN-ACKs whose SYN the capture lacks.
	SYNACKWithoutSYN int `json:"synack_without_syn"`
	// Truncated counts attempts left out because snaplen cut their options.
	Truncated int `json:"truncated"`
	// TFOKinds counts attempts by the TFO option kind their SYN used.
	TFOKinds map[string]int `json:"tfo_kinds,omitempty"`
	// Aggregated, in the row named OtherServers, counts the servers
	// beyond --max-servers whose counts the row sums.
	Aggregated int `json:"aggregated,omitempty"`
}

// MPTCPCounts counts attempts whose SYN or reply carried MPTCP (kind 30).
type MPTCPCounts struct {
	SYN    int `json:"syn"`
	SYNACK int `json:"synack"`
}

// AttemptReport is one attempt as the report shows it.
type AttemptReport struct {
	Input   int          `json:"input"`
	Client  string       `json:"client"`
	Server  string       `json:"server"`
	ISN     uint32       `json:"isn"`
	SYN     SYNReport    `json:"syn"`
	Reply   *ReplyReport `json:"reply"`
	Outcome Outcome      `json:"outcome"`
	// Rewritten holds the addresses a copy of the SYN carried behind a
	// NAT between two vantage points; absent when none was rewritten.
	Rewritten *RewrittenReport `json:"rewritten,omitempty"`

	synTime int64 // orders attempts; the text form of Time does not sort
}

// RewrittenReport is a flow as a NAT rewrote it.
type RewrittenReport struct {
	Client string `json:"client"`
	Server string `json:"server"`
}

// SYNReport is an attempt's client SYN.
type SYNReport struct {
	Frame       int    `json:"frame"`
	Time        string `json:"time"`
	TFO         string `json:"tfo"`
	TFOKind     int    `json:"tfo_kind"`
	Cookie      string `json:"cookie"`
	DataLen     int    `json:"data_len"`
	MPTCP       string `json:"mptcp"`
	Retransmits int    `json:"retransmits"`
	Duplicates  int    `json:"duplicates"`
	// PlainRetryFrame is the first retransmission without TFO, in input
	// PlainRetryInput (a rotation's next file may hold it).
	PlainRetryFrame int  `json:"plain_retry_frame,omitempty"`
	PlainRetryInput *int `json:"plain_retry_input,omitempty"`
	Truncated       bool `json:"truncated,omitempty"`
	// Fragmented: the SYN was the first fragment of an IP datagram, and
	// DataLen counts only the data in it (a lower bound).
	Fragmented bool `json:"fragmented,omitempty"`
	// Stripped is the copy nearer the server that lacks the TFO option.
	Stripped *SightingReport `json:"stripped,omitempty"`
	// Seen lists where the SYN was seen, copies and retransmissions; nil
	// when it was seen once (input and frame say where).
	Seen []SightingReport `json:"seen,omitempty"`
}

// SightingReport is one place a packet was seen: which input, which
// interface within it, which frame, and which of the sender's
// transmissions it was (0 the first; sightings of one send are copies).
type SightingReport struct {
	Input     int    `json:"input"`
	Section   int    `json:"section,omitempty"`
	Interface int    `json:"interface"`
	IfIndex   int    `json:"ifindex,omitempty"`
	Frame     int    `json:"frame"`
	Send      int    `json:"send"`
	TFO       string `json:"tfo"`
}

// ReplyReport is the server's answer to an attempt.
type ReplyReport struct {
	Input     int    `json:"input"`
	Frame     int    `json:"frame"`
	Time      string `json:"time"`
	Kind      string `json:"kind"`
	TFO       string `json:"tfo"`
	Cookie    string `json:"cookie"`
	AckedData int    `json:"acked_data"`
	MPTCP     string `json:"mptcp"`
	Truncated bool   `json:"truncated,omitempty"`
	// Seen lists where the reply was seen, as SYNReport.Seen.
	Seen []SightingReport `json:"seen,omitempty"`
}

// LiveStats are libpcap's counters at the end of a live capture.
type LiveStats struct {
	Interface string `json:"interface"`
	Received  int    `json:"received"`
	Dropped   int    `json:"dropped"`
	IfDropped int    `json:"if_dropped"`
}

// FormatTime renders a capture timestamp (ns since the epoch) as RFC 3339
// in UTC, the report's time format.
func FormatTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

// FormatAddr renders ip:port, or [ip]:port for IPv6, without zones.
func FormatAddr(ap netip.AddrPort) string { return ap.String() }

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
	// kept holds copies of the attempts listed in detail, in chunks so
	// that growing never copies; Report formats them. (Formatting them as
	// they come took half again the memory, strings and all, while the
	// tracker's own tables peak.)
	kept    [][]Attempt
	nkept   int
	omitted int
	// maxAttempts caps nkept; < 0 keeps none (and counts them all omitted).
	maxAttempts int
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
	// The earliest frame of each kind of evidence the findings name
	// (hints.go); each is valid iff its Frame != 0.
	mptcpReply   PacketRef // a SYN-ACK carrying MPTCP: the listener is MPTCP (E1 yes)
	plainToMPTCP PacketRef // an MPTCP SYN answered without MPTCP: it is not (E1 no)
	grant        PacketRef // a reply granting a cookie (E3)
	mptcpGrant   PacketRef // a reply granting a cookie and carrying MPTCP (E2)
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
	}
	if a.Outcome.grants() {
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

// refBefore orders frames by time, then by input and frame number.
func refBefore(a, b PacketRef) bool {
	return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.Input, b.Input), cmp.Compare(a.Frame, b.Frame)) < 0
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
	c.servers.attempt(a)
	c.noteClient(a)
	if a.Truncated() && a.Outcome != Refused && a.Outcome != Unanswered {
		return
	}
	if c.nkept >= c.maxAttempts {
		c.omitted++
		return
	}
	if c.nkept%keptChunk == 0 {
		c.kept = append(c.kept, make([]Attempt, 0, min(keptChunk, c.maxAttempts-c.nkept)))
	}
	chunk := &c.kept[len(c.kept)-1]
	*chunk = append(*chunk, a.Clone())
	c.nkept++
}

const keptChunk = 1024 // attempts per chunk of Collector.kept: 312 KB

// attemptReports renders the kept attempts in order, the second half of
// the chunks on another goroutine: this runs after the input is read, when
// the other core has nothing left to do (10000 attempts: 3 ms on one).
func (c *Collector) attemptReports() []AttemptReport {
	reports := make([]AttemptReport, c.nkept)
	render := func(chunks [][]Attempt, at int) {
		for _, chunk := range chunks {
			for i := range chunk {
				reports[at] = NewAttemptReport(&chunk[i])
				at++
			}
		}
	}
	half := len(c.kept) / 2 // chunks before the last are full
	var wg sync.WaitGroup
	wg.Go(func() { render(c.kept[half:], half*keptChunk) })
	render(c.kept[:half], 0)
	wg.Wait()
	return reports
}

// OrphanReply implements Sink.
func (c *Collector) OrphanReply(server netip.AddrPort, _ PacketRef) {
	c.servers.orphan(server)
}

// NewAttemptReport renders one attempt.
func NewAttemptReport(a *Attempt) AttemptReport {
	r := AttemptReport{
		Input:  a.SYN.Input,
		Client: FormatAddr(a.Client),
		Server: FormatAddr(a.Server),
		ISN:    a.ISN,
		SYN: SYNReport{
			Frame:       a.SYN.Frame,
			Time:        FormatTime(a.SYN.Time),
			TFO:         a.SYN.TFO.State.String(),
			TFOKind:     int(a.SYN.TFO.Kind),
			Cookie:      hex.EncodeToString(a.SYN.TFO.Cookie()),
			DataLen:     a.SYN.DataLen,
			MPTCP:       a.SYN.MPTCP.String(),
			Retransmits: a.SYN.Retransmits,
			Duplicates:  a.SYN.Duplicates,
			Truncated:   a.SYN.Truncated,
			Fragmented:  a.SYN.Fragmented,
		},
		Outcome: a.Outcome,
		synTime: a.SYN.Time,
	}
	if a.SYN.PlainRetry.Frame != 0 {
		r.SYN.PlainRetryFrame = a.SYN.PlainRetry.Frame
		in := a.SYN.PlainRetry.Input
		r.SYN.PlainRetryInput = &in
	}
	if a.SYN.Stripped.Frame != 0 {
		st := sightingReport(a.SYN.Stripped)
		r.SYN.Stripped = &st
	}
	if a.log != nil { // seen more than once
		r.SYN.Seen = sightingReports(a.log.syn.All())
	}
	if c, s, ok := a.Rewritten(); ok {
		r.Rewritten = &RewrittenReport{Client: FormatAddr(c), Server: FormatAddr(s)}
	}
	if a.Answered() {
		r.Reply = &ReplyReport{
			Input:     a.Reply.Input,
			Frame:     a.Reply.Frame,
			Time:      FormatTime(a.Reply.Time),
			Kind:      a.Reply.Kind.String(),
			TFO:       a.Reply.TFO.State.String(),
			Cookie:    hex.EncodeToString(a.Reply.TFO.Cookie()),
			AckedData: a.Reply.AckedData,
			MPTCP:     a.Reply.MPTCP.String(),
			Truncated: a.Reply.Truncated,
		}
		if a.log != nil {
			r.Reply.Seen = sightingReports(a.log.reply.All())
		}
	}
	return r
}

func sightingReport(s Sighting) SightingReport {
	section, idb, ifindex := SplitInterface(s.Interface)
	return SightingReport{Input: int(s.Input), Section: section, Interface: idb, IfIndex: ifindex,
		Frame: int(s.Frame), Send: int(s.Send), TFO: s.TFO.String()}
}

// sightingReports renders a packet's sightings, or nil for a packet seen
// once: most are, and their input and frame already say where.
func sightingReports(list []Sighting) []SightingReport {
	if len(list) < 2 {
		return nil
	}
	out := make([]SightingReport, len(list))
	for i, s := range list {
		out[i] = sightingReport(s)
	}
	return out
}

// addServer adds one row to the report and its counts to the totals,
// with its findings (none for a sum of servers).
func (r *Report) addServer(name string, s *serverStats, findings []Finding) {
	sr := ServerReport{
		Server:           name,
		Verdict:          s.outcomes.Verdict(),
		Attempts:         s.outcomes.Total(),
		Outcomes:         s.outcomes,
		MPTCP:            s.mptcp,
		SYNACKWithoutSYN: s.orphans,
		Truncated:        s.truncated,
		Hints:            []string{},
		HintIDs:          []FindingID{},
	}
	for i, kind := range [...]string{"34", "253", "254"} {
		if n := s.tfoKinds[i]; n > 0 {
			if sr.TFOKinds == nil {
				sr.TFOKinds = map[string]int{}
			}
			sr.TFOKinds[kind] = n
		}
	}
	for _, f := range findings {
		sr.Hints = append(sr.Hints, f.Text)
		sr.HintIDs = append(sr.HintIDs, f.ID)
	}
	r.Servers = append(r.Servers, sr)
	r.Totals.Attempts += sr.Attempts
	for i, n := range s.outcomes {
		r.Totals.Outcomes[i] += n
	}
}

// Report builds the report. inputs describe the inputs in order; packets
// is the total number of frames read.
func (c *Collector) Report(tool string, inputs []InputReport) *Report {
	r := &Report{
		Schema:          Schema,
		Tool:            tool,
		Inputs:          inputs,
		Servers:         []ServerReport{},
		Findings:        []FindingReport{},
		Attempts:        c.attemptReports(),
		AttemptsOmitted: c.omitted,
	}
	if r.Inputs == nil {
		r.Inputs = []InputReport{}
	}
	if r.Attempts == nil {
		r.Attempts = []AttemptReport{}
	}
	for _, in := range inputs {
		r.Totals.Packets += in.Packets
	}
	t := &c.servers
	order := make([]int, len(t.listed)) // sorted apart: the index points into listed
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return t.listed[a].addr.Compare(t.listed[b].addr) })
	hosts := c.hostEvidence()
	for _, i := range order {
		ap, s := t.listed[i].addr, &t.listed[i].stats
		r.addServer(FormatAddr(ap), s, hints(ap, s, s.outcomes.Verdict(), hosts[ap.Addr()]))
	}
	if t.otherServers > 0 || t.other.outcomes.Total() > 0 || t.other.truncated > 0 || t.other.orphans > 0 {
		r.addServer(OtherServers, &t.other, nil)
		r.Servers[len(r.Servers)-1].Aggregated = t.otherServers
	}
	if u := t.unlisted(); u != nil {
		r.UnlistedServers = u
		r.Totals.Attempts += u.Attempts
		for i, n := range u.Outcomes {
			r.Totals.Outcomes[i] += n
		}
	}
	if t.untracked > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("more than %d servers: the numbers of servers aggregated "+
			"(\"other\", unlisted_servers) are lower bounds; attempts and outcomes stay complete", maxTrackedServers))
	}
	if n := t.otherServers; n > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d server(s) beyond the first %d are summed in the row %q "+
			"(raise --max-servers to list them); its verdict is that of the sum", n, t.maxServersOr(), OtherServers))
	}
	r.Findings = c.captureFindings(r.Totals.Attempts)
	slices.SortStableFunc(r.Attempts, func(a, b AttemptReport) int {
		return cmp.Or(cmp.Compare(a.synTime, b.synTime), cmp.Compare(a.Input, b.Input), cmp.Compare(a.SYN.Frame, b.SYN.Frame))
	})
	return r
}
