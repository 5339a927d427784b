package report

import (
	"encoding/hex"

	"github.com/tfopcap/tfopcap/analyze"
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
	Packets  int                   `json:"packets"`
	Attempts int                   `json:"attempts"`
	Outcomes analyze.OutcomeCounts `json:"outcomes"`
}

// ServerReport is one server's verdict and its evidence.
type ServerReport struct {
	Server   string                `json:"server"`
	Verdict  analyze.Verdict       `json:"verdict"`
	Attempts int                   `json:"attempts"`
	Outcomes analyze.OutcomeCounts `json:"outcomes"`
	MPTCP    MPTCPCounts           `json:"mptcp"`
	Hints    []string              `json:"hints"`
	// HintIDs are the stable IDs of Hints, in the same order.
	HintIDs []analyze.FindingID `json:"hint_ids"`
	// SYNACKWithoutSYN counts SYN-ACKs whose SYN the capture lacks.
	SYNACKWithoutSYN int `json:"synack_without_syn"`
	// Truncated counts attempts left out because snaplen cut their options.
	Truncated int `json:"truncated"`
	// TFOKinds counts attempts by the TFO option kind their SYN used.
	TFOKinds map[string]int `json:"tfo_kinds,omitempty"`
	// Listener is the local listener behind this address, when tfopcap
	// ran on the server host and could see it; nil otherwise.
	Listener *ListenerReport `json:"listener,omitempty"`
	// Aggregated, in the row named analyze.OtherServers ("other"), counts the servers
	// beyond --max-servers whose counts the row sums.
	Aggregated int `json:"aggregated,omitempty"`
	// Timeline counts the server's TFO attempts over time, for the
	// picture (--plot, html); not part of the JSON contract, so a report
	// read back has none.
	Timeline analyze.Timeline `json:"-"`
	// Change says when the server's deciding outcomes changed; absent
	// when they did not (every verdict but mixed) and in "other".
	Change *ChangeReport `json:"change,omitempty"`
	// Probe says what `tfopcap probe` did to this server; nil otherwise.
	Probe *ProbeReport `json:"probe,omitempty"`
}

// ChangeReport is when a server's deciding outcomes changed
// (analyze.Change; docs/report.md, "Change points").
type ChangeReport struct {
	// Kind is "stopped-granting", "started-granting" or "interleaved".
	Kind     string `json:"kind"`
	Switches int    `json:"switches"`
	// Inexact: switches may be off by a few (interleaved only).
	Inexact bool `json:"inexact,omitempty"`
	// Before is the last deciding attempt before the first switch, After
	// the first after it; absent when attempts judged out of order hid
	// them (interleaved only).
	Before *DecisionReport `json:"before,omitempty"`
	After  *DecisionReport `json:"after,omitempty"`
}

// DecisionReport is a deciding attempt: its outcome, the reply that
// decided it (input, frame, time) and its SYN.
type DecisionReport struct {
	Outcome  analyze.Outcome `json:"outcome"`
	Input    int             `json:"input"`
	Frame    int             `json:"frame"`
	Time     string          `json:"time"`
	SYNInput int             `json:"syn_input"`
	SYNFrame int             `json:"syn_frame"`
	SYNTime  string          `json:"syn_time"`
}

func newChangeReport(c *analyze.Change) *ChangeReport {
	if c == nil {
		return nil
	}
	return &ChangeReport{Kind: c.Kind.String(), Switches: c.Switches, Inexact: c.Inexact,
		Before: newDecisionReport(c.Before), After: newDecisionReport(c.After)}
}

func newDecisionReport(d analyze.Decision) *DecisionReport {
	if d.Reply.Frame == 0 {
		return nil
	}
	return &DecisionReport{Outcome: d.Outcome, Input: d.Reply.Input, Frame: d.Reply.Frame, Time: FormatTime(d.Reply.Time),
		SYNInput: d.SYN.Input, SYNFrame: d.SYN.Frame, SYNTime: FormatTime(d.SYN.Time)}
}

// MPTCPCounts counts attempts whose SYN or reply carried MPTCP (kind 30).
type MPTCPCounts struct {
	SYN    int `json:"syn"`
	SYNACK int `json:"synack"`
}

// AttemptReport is one attempt as the report shows it.
type AttemptReport struct {
	Input   int             `json:"input"`
	Client  string          `json:"client"`
	Server  string          `json:"server"`
	ISN     uint32          `json:"isn"`
	SYN     SYNReport       `json:"syn"`
	Reply   *ReplyReport    `json:"reply"`
	Outcome analyze.Outcome `json:"outcome"`
	// Rewritten holds the addresses a copy of the SYN carried behind a
	// NAT between two vantage points; absent when none was rewritten.
	Rewritten *RewrittenReport `json:"rewritten,omitempty"`
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
	Input int    `json:"input"`
	Frame int    `json:"frame"`
	Time  string `json:"time"`
	// RTTMicros is how long after the first SYN the reply came, in
	// microseconds: the handshake's round trip, plus the client's
	// retransmission timeouts when the SYN was resent.
	RTTMicros int64  `json:"rtt_us"`
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

// NewAttemptReport renders one attempt.
func NewAttemptReport(a *analyze.Attempt) AttemptReport {
	var addrs addrText
	return newAttemptReport(a, &addrs)
}

// newAttemptReport renders a, its addresses through addrs (format.go).
func newAttemptReport(a *analyze.Attempt, addrs *addrText) AttemptReport {
	r := AttemptReport{
		Input:  a.SYN.Input,
		Client: addrs.client(a.Client),
		Server: addrs.server(a.Server),
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
	}
	if retry := a.PlainRetry(); retry.Frame != 0 {
		r.SYN.PlainRetryFrame = retry.Frame
		in := retry.Input
		r.SYN.PlainRetryInput = &in
	}
	if stripped := a.Stripped(); stripped.Frame != 0 {
		st := sightingReport(stripped)
		r.SYN.Stripped = &st
	}
	synSeen, replySeen := a.Sightings()
	r.SYN.Seen = sightingReports(synSeen)
	if c, s, ok := a.Rewritten(); ok {
		r.Rewritten = &RewrittenReport{Client: analyze.FormatAddr(c), Server: analyze.FormatAddr(s)}
	}
	if a.Answered() {
		r.Reply = &ReplyReport{
			Input:     a.Reply.Input,
			Frame:     a.Reply.Frame,
			Time:      FormatTime(a.Reply.Time),
			RTTMicros: (a.Reply.Time - a.SYN.Time) / 1e3,
			Kind:      a.Reply.Kind.String(),
			TFO:       a.Reply.TFO.State.String(),
			Cookie:    hex.EncodeToString(a.Reply.TFO.Cookie()),
			AckedData: a.Reply.AckedData,
			MPTCP:     a.Reply.MPTCP.String(),
			Truncated: a.Reply.Truncated,
		}
		r.Reply.Seen = sightingReports(replySeen)
	}
	return r
}

func sightingReport(s analyze.Sighting) SightingReport {
	section, idb, ifindex := analyze.SplitInterface(s.Interface)
	if ifindex == analyze.SLLOutgoing {
		ifindex = 0 // a direction, not an interface: the frame says which
	}
	return SightingReport{Input: int(s.Input), Section: section, Interface: idb, IfIndex: int(ifindex),
		Frame: int(s.Frame), Send: int(s.Send), TFO: s.TFO.String()}
}

// sightingReports renders a packet's sightings, or nil for a packet seen
// once: most are, and their input and frame already say where.
func sightingReports(list []analyze.Sighting) []SightingReport {
	if len(list) < 2 {
		return nil
	}
	out := make([]SightingReport, len(list))
	for i, s := range list {
		out[i] = sightingReport(s)
	}
	return out
}

// addServer adds one row to the report and its counts to the totals.
func (r *Report) addServer(name string, s *analyze.ServerSummary) {
	sr := ServerReport{
		Server:           name,
		Verdict:          s.Verdict,
		Attempts:         s.Outcomes.Total(),
		Outcomes:         s.Outcomes,
		MPTCP:            MPTCPCounts(s.MPTCP),
		SYNACKWithoutSYN: s.Orphans,
		Truncated:        s.Truncated,
		Hints:            []string{},
		HintIDs:          []analyze.FindingID{},
		Aggregated:       s.Aggregated,
		Timeline:         s.Timeline,
		Change:           newChangeReport(s.Change),
	}
	for i, kind := range [...]string{"34", "253", "254"} {
		if n := s.TFOKinds[i]; n > 0 {
			if sr.TFOKinds == nil {
				sr.TFOKinds = map[string]int{}
			}
			sr.TFOKinds[kind] = n
		}
	}
	for _, f := range s.Findings {
		sr.Hints = append(sr.Hints, f.Text)
		sr.HintIDs = append(sr.HintIDs, f.ID)
	}
	r.Servers = append(r.Servers, sr)
	r.Totals.Attempts += sr.Attempts
	for i, n := range s.Outcomes {
		r.Totals.Outcomes[i] += n
	}
}

// Build makes the report of what a collector judged. inputs describe the
// inputs in order.
func Build(tool string, inputs []InputReport, sum *analyze.Summary) *Report {
	r := &Report{
		Schema:          Schema,
		Tool:            tool,
		Inputs:          inputs,
		Servers:         []ServerReport{},
		Findings:        []FindingReport{},
		Attempts:        attemptReports(sum.Kept),
		AttemptsOmitted: sum.Omitted,
	}
	if r.Inputs == nil {
		r.Inputs = []InputReport{}
	}
	for _, in := range inputs {
		r.Totals.Packets += in.Packets
	}
	for i := range sum.Servers {
		r.addServer(analyze.FormatAddr(sum.Servers[i].Server), &sum.Servers[i])
	}
	if sum.Other != nil {
		r.addServer(analyze.OtherServers, sum.Other)
	}
	if u := sum.Unlisted; u != nil {
		r.UnlistedServers = &UnlistedServers{Servers: u.Servers, Attempts: u.Attempts, Outcomes: u.Outcomes, SYNACKWithoutSYN: u.Orphans}
		r.Totals.Attempts += u.Attempts
		for i, n := range u.Outcomes {
			r.Totals.Outcomes[i] += n
		}
	}
	r.Warnings = append(r.Warnings, sum.Warnings...)
	for _, f := range sum.Findings {
		r.Findings = append(r.Findings, FindingReport(f))
	}
	return r
}

// attemptReports renders the kept attempts in the order of their SYNs.
// (Rendering the second half on another goroutine took 10000 attempts
// from 10.3 to 8.2 ms, within the noise: p=0.13; and on another machine
// 9.1-10.1 -> 8.8-9.4 ms, medians of 12.)
func attemptReports(kept *analyze.KeptAttempts) []AttemptReport {
	if kept == nil {
		return make([]AttemptReport, 0)
	}
	reports := make([]AttemptReport, 0, kept.Len())
	var addrs addrText
	for a := range kept.BySYN() {
		reports = append(reports, newAttemptReport(a, &addrs))
	}
	return reports
}

// UnlistedServers sums the servers without TFO attempts that the report
// does not list.
type UnlistedServers struct {
	// Servers counts them; a lower bound when the report warns that
	// there were more servers than tracked.
	Servers  int                   `json:"servers"`
	Attempts int                   `json:"attempts"`
	Outcomes analyze.OutcomeCounts `json:"outcomes"`
	// SYNACKWithoutSYN counts as in ServerReport.
	SYNACKWithoutSYN int `json:"synack_without_syn"`
}

// FindingReport is a capture-wide finding as the report shows it.
type FindingReport struct {
	ID      analyze.FindingID `json:"id"`
	Text    string            `json:"text"`
	Servers []string          `json:"servers"`
	Clients []string          `json:"clients"`
}
