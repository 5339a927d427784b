package report

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
)

// RenderOptions tune the human-readable formats.
type RenderOptions struct {
	// Attempts lists every attempt after the server table.
	Attempts bool
}

// Render writes r in format "text", "json", "markdown" or "html".
func Render(w io.Writer, r *Report, format string, opts RenderOptions) error {
	bw := bufio.NewWriter(w)
	var err error
	switch format {
	case "text":
		renderText(bw, r, opts)
	case "json":
		err = WriteJSON(bw, r)
	case "markdown":
		renderMarkdown(bw, r, opts)
	case "html":
		err = renderHTML(bw, r)
	default:
		return fmt.Errorf("unknown report format %q", format)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// WriteJSON writes the report as one indented JSON object. Hints say
// ">= 6.2", so HTML characters are not escaped. It streams the attempts
// (render_json.go) rather than building the document in memory.
func WriteJSON(w io.Writer, r *Report) error {
	return writeJSONStream(w, r)
}

// textWidth is the width text output is laid out for.
const textWidth = 100

// outcomeParts lists the non-zero counts: ["omitted 4", "rejected 2"].
func outcomeParts(c *analyze.OutcomeCounts) []string {
	var parts []string
	for i, n := range c {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", analyze.Outcome(i), n))
		}
	}
	if len(parts) == 0 {
		return []string{"-"}
	}
	return parts
}

// unlistedLine describes the servers the report counts without listing
// them, or is empty.
func unlistedLine(r *Report) string {
	u := r.UnlistedServers
	if u == nil {
		return ""
	}
	s := fmt.Sprintf("%d server(s) without any TFO attempt, not listed (--all-servers lists them): %d attempts", u.Servers, u.Attempts)
	if u.Attempts > 0 {
		s += " (" + outcomeSummary(&u.Outcomes) + ")"
	}
	if u.SYNACKWithoutSYN > 0 {
		s += fmt.Sprintf(", %d SYN-ACK(s) without SYN", u.SYNACKWithoutSYN)
	}
	return s
}

// outcomeSummary lists the non-zero counts: "omitted 4, rejected 2".
func outcomeSummary(c *analyze.OutcomeCounts) string { return strings.Join(outcomeParts(c), ", ") }

// mptcpSummary is "SYN/SYN-ACK" counts, or "-" when MPTCP was not seen.
func mptcpSummary(m MPTCPCounts) string {
	if m.SYN == 0 && m.SYNACK == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", m.SYN, m.SYNACK)
}

// wrap breaks s into lines of at most width bytes; the first line starts
// with first, the others with indent.
func wrap(s string, width int, first, indent string) string {
	return fill(strings.Fields(s), width, first, indent)
}

// wrapList joins items with ", ", breaking lines between items so that they
// stay within width where an item fits.
func wrapList(items []string, width int, first, indent string) string {
	words := make([]string, len(items))
	for i, item := range items {
		words[i] = item
		if i < len(items)-1 {
			words[i] += ","
		}
	}
	return fill(words, width, first, indent)
}

// fill lays words out on lines of at most width bytes, a space apart.
func fill(words []string, width int, first, indent string) string {
	var b strings.Builder
	line, empty := first, true
	for _, word := range words {
		if !empty && len(line)+1+len(word) > width {
			b.WriteString(line)
			b.WriteByte('\n')
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	b.WriteString(line)
	return b.String()
}

func renderText(w io.Writer, r *Report, opts RenderOptions) {
	fmt.Fprintf(w, "%s: %d input(s), %d packets, %d attempts, %d server(s)\n",
		r.Tool, len(r.Inputs), r.Totals.Packets, r.Totals.Attempts, len(r.Servers))
	for i, in := range r.Inputs {
		fmt.Fprintf(w, "input %d: %s\n  %s, %s, %d packets", i, oneLineText(in.Name), in.Format, strings.Join(in.LinkTypes, "/"), in.Packets)
		if in.First != "" {
			fmt.Fprintf(w, ", %s to %s", in.First, in.Last)
		}
		fmt.Fprintln(w)
		for _, warn := range in.Warnings {
			fmt.Fprintln(w, wrap("warning: "+warn, textWidth, "  ", "    "))
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintln(w, wrap("warning: "+warn, textWidth, "", "    "))
	}
	if r.Live != nil {
		fmt.Fprintf(w, "live %s: %d received, %d dropped by the kernel, %d dropped by the interface\n",
			r.Live.Interface, r.Live.Received, r.Live.Dropped, r.Live.IfDropped)
	}
	fmt.Fprintln(w)
	if len(r.Servers) == 0 {
		if u := unlistedLine(r); u != "" {
			fmt.Fprintln(w, wrap(u, textWidth, "", ""))
		} else {
			fmt.Fprintln(w, "No TCP connection attempts (SYNs) found.")
		}
		writeTextTail(w, r, opts)
		return
	}

	serverW := len("SERVER")
	for _, s := range r.Servers {
		serverW = max(serverW, len(s.Server))
	}
	// Inconclusive come last and wrap at commas, so rows stay within textWidth
	// however many outcomes a server has.
	prefix := func(server, verdict, attempts, mptcp string) string {
		return fmt.Sprintf("%-*s  %-12s  %8s  %-11s  ", serverW, server, verdict, attempts, mptcp)
	}
	fmt.Fprintln(w, prefix("SERVER", "VERDICT", "ATTEMPTS", "MPTCP S/SA")+"OUTCOMES")
	for _, s := range r.Servers {
		p := prefix(s.Server, s.Verdict.String(), fmt.Sprint(s.Attempts), mptcpSummary(s.MPTCP))
		var parts []string
		if s.Attempts > 0 {
			parts = outcomeParts(&s.Outcomes)
		}
		if s.Truncated > 0 {
			parts = append(parts, fmt.Sprintf("(+%d cut by snaplen)", s.Truncated))
		}
		if s.SYNACKWithoutSYN > 0 {
			parts = append(parts, fmt.Sprintf("(+%d SYN-ACK without SYN)", s.SYNACKWithoutSYN))
		}
		if len(parts) == 0 {
			parts = []string{"-"}
		}
		fmt.Fprintln(w, wrapList(parts, textWidth, p, strings.Repeat(" ", len(p))))
	}

	if u := unlistedLine(r); u != "" {
		fmt.Fprintln(w, wrap(u, textWidth, "", ""))
	}
	renderChangesText(w, r.Servers)

	// A hint shared by several servers is printed once, with its servers,
	// causes of failure first.
	type hint struct {
		id   analyze.FindingID
		text string
	}
	var order []hint
	servers := map[hint][]string{}
	for _, s := range r.Servers {
		for i, text := range s.Hints {
			h := hint{text: text}
			if i < len(s.HintIDs) {
				h.id = s.HintIDs[i]
			}
			if servers[h] == nil {
				order = append(order, h)
			}
			servers[h] = append(servers[h], s.Server+" ("+s.Verdict.String()+")")
		}
	}
	slices.SortStableFunc(order, func(a, b hint) int { return cmp.Compare(a.id.Rank(), b.id.Rank()) })
	if len(order) > 0 {
		fmt.Fprintln(w, "\nHints:")
	}
	for _, h := range order {
		fmt.Fprintln(w, wrapList(servers[h], textWidth, "* "+idTag(h.id), "  "))
		fmt.Fprintln(w, wrap(h.text, textWidth, "    ", "    "))
	}
	writeTextTail(w, r, opts)
}

// renderChangesText says, for each server whose outcomes changed, when.
func renderChangesText(w io.Writer, servers []ServerReport) {
	header := false
	for i := range servers {
		s := &servers[i]
		if s.Change == nil {
			continue
		}
		if !header {
			fmt.Fprintln(w, "\nChanges (input:frame of the SYN-ACK that decided):")
			header = true
		}
		fmt.Fprintln(w, wrap(s.Server+" "+changeSentence(s.Change), textWidth, "* ", "    "))
	}
}

// writeTextTail ends the text report with what does not depend on the
// server table: the capture-wide findings and the attempt list.
func writeTextTail(w io.Writer, r *Report, opts RenderOptions) {
	renderProbesText(w, r)
	renderFindingsText(w, r.Findings)
	if opts.Attempts {
		fmt.Fprintln(w, "\nAttempts (input:frame SYN time (UTC); reply after ms from the first SYN; frames as Wireshark numbers them):")
		for i := range r.Attempts {
			fmt.Fprintln(w, attemptLine(&r.Attempts[i]))
			if p := pathText(&r.Attempts[i]); p != "" {
				fmt.Fprintln(w, wrap(p, textWidth, "    ", "      "))
			}
		}
		if r.AttemptsOmitted > 0 {
			fmt.Fprintf(w, "... %d more attempts not kept (raise --max-attempts)\n", r.AttemptsOmitted)
		}
	}
}

// idTag shows a finding's ID where users can grep for it: "[listener-no-tfo] ".
func idTag(id analyze.FindingID) string {
	if id == "" {
		return ""
	}
	return "[" + oneLineText(string(id)) + "] "
}

// findingScope lists the clients and servers a capture-wide finding
// concerns, or "whole capture".
func findingScope(f *FindingReport) []string {
	var scope []string
	for _, c := range f.Clients {
		scope = append(scope, "client "+c)
	}
	for _, s := range f.Servers {
		scope = append(scope, "server "+s)
	}
	if len(scope) == 0 {
		scope = []string{"whole capture"}
	}
	return scope
}

// renderFindingsText prints the capture-wide findings after the hints.
func renderFindingsText(w io.Writer, findings []FindingReport) {
	if len(findings) == 0 {
		return
	}
	fmt.Fprintln(w, "\nFindings:")
	for i := range findings {
		f := &findings[i]
		scope := findingScope(f)
		for j := range scope {
			scope[j] = oneLineText(scope[j])
		}
		fmt.Fprintln(w, wrapList(scope, textWidth, "* "+idTag(f.ID), "  "))
		fmt.Fprintln(w, wrap(oneLineText(f.Text), textWidth, "    ", "    "))
	}
}

// AttemptLine renders one attempt on one line, as the text report lists
// attempts: "input:frame client > server  SYN ... -> input:frame SYN-ACK ...
// => outcome". Live capture streams these as attempts are finalised.
func AttemptLine(a *AttemptReport) string { return attemptLine(a) }

// attemptLine is one attempt on one line: where, what was asked, what came
// back, and the outcome.
func attemptLine(a *AttemptReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d:%d %s %s > %s  SYN %s", a.Input, a.SYN.Frame, clockTime(a.SYN.Time), a.Client, a.Server,
		tfoDesc(a.SYN.TFO, a.SYN.TFOKind, a.SYN.Cookie))
	switch {
	case a.SYN.Fragmented:
		fmt.Fprintf(&b, " data >=%d (IP-fragmented)", a.SYN.DataLen)
	case a.SYN.DataLen > 0:
		fmt.Fprintf(&b, " data %d", a.SYN.DataLen)
	}
	if a.SYN.MPTCP != "" {
		fmt.Fprintf(&b, " %s", a.SYN.MPTCP)
	}
	if a.SYN.Retransmits > 0 {
		fmt.Fprintf(&b, " (retransmitted %d)", a.SYN.Retransmits)
	}
	if a.SYN.PlainRetryFrame != 0 {
		fmt.Fprintf(&b, " (plain retry %d:%d)", plainRetryInput(&a.SYN, a.Input), a.SYN.PlainRetryFrame)
	}
	if a.Reply == nil {
		b.WriteString(" -> no reply")
	} else {
		fmt.Fprintf(&b, " -> %d:%d after %s %s", a.Reply.Input, a.Reply.Frame, rttText(a.Reply.RTTMicros), strings.ToUpper(a.Reply.Kind))
		if a.Reply.Kind == analyze.ReplySYNACK.String() {
			fmt.Fprintf(&b, " %s", tfoDesc(a.Reply.TFO, 0, a.Reply.Cookie))
			if a.Reply.AckedData > 0 {
				fmt.Fprintf(&b, " acks data %d", a.Reply.AckedData)
			}
			if a.Reply.MPTCP != "" {
				fmt.Fprintf(&b, " %s", a.Reply.MPTCP)
			}
		}
	}
	fmt.Fprintf(&b, "  => %s", a.Outcome)
	return b.String()
}

// clockTime shows a report time as the time of day, to the microsecond,
// in UTC: "23:05:21.964217" (the inputs' first and last give the date).
// A time it cannot parse is shown as it is.
func clockTime(rfc3339 string) string {
	t, err := time.Parse(time.RFC3339Nano, rfc3339)
	if err != nil {
		return rfc3339
	}
	return t.UTC().Format("15:04:05.000000")
}

// rttText shows a SYN-to-reply time in milliseconds: "0.058 ms".
func rttText(us int64) string { return strconv.FormatFloat(float64(us)/1e3, 'f', 3, 64) + " ms" }

// plainRetryInput is the input of the SYN's plain retry; reports from
// before plain_retry_input had it in the SYN's own input.
func plainRetryInput(s *SYNReport, input int) int {
	if s.PlainRetryInput != nil {
		return *s.PlainRetryInput
	}
	return input
}

// pathText says where an attempt's packets were seen, send by send:
// "path: SYN 0:1 (ifindex 4), 0:2 (ifindex 5) no-TFO; resent 0:9 ... |
// SYN-ACK 0:3 (ifindex 5)". It is empty when every packet was seen at
// one vantage point in one input, where input:frame says it all.
func pathText(a *AttemptReport) string {
	var reply []SightingReport
	if a.Reply != nil {
		reply = a.Reply.Seen
	}
	if !severalPlaces(a.SYN.Seen, reply) {
		return ""
	}
	var b strings.Builder
	b.WriteString("path: SYN ")
	if len(a.SYN.Seen) == 0 { // seen once
		fmt.Fprintf(&b, "%d:%d", a.Input, a.SYN.Frame)
	}
	writeSightings(&b, a.SYN.Seen, a.SYN.TFO)
	if len(reply) > 0 {
		b.WriteString(" | " + strings.ToUpper(a.Reply.Kind) + " ")
		writeSightings(&b, reply, a.Reply.TFO)
	}
	if w := a.Rewritten; w != nil {
		fmt.Fprintf(&b, " | NAT: also seen as %s > %s", w.Client, w.Server)
	}
	return b.String()
}

// severalPlaces reports whether the sightings span more than one input or
// interface.
func severalPlaces(lists ...[]SightingReport) bool {
	var first *SightingReport
	for _, list := range lists {
		for i := range list {
			s := &list[i]
			if first == nil {
				first = s
			} else if s.Input != first.Input || s.Section != first.Section || s.Interface != first.Interface || s.IfIndex != first.IfIndex {
				return true
			}
		}
	}
	return false
}

// writeSightings writes sightings grouped by send, copies after commas,
// marking the TFO state of any copy whose state differs from tfo.
func writeSightings(b *strings.Builder, list []SightingReport, tfo string) {
	for i, s := range list {
		switch {
		case i == 0:
		case s.Send != list[i-1].Send:
			b.WriteString("; resent ")
		default:
			b.WriteString(", ")
		}
		fmt.Fprintf(b, "%d:%d", s.Input, s.Frame)
		var where []string
		if s.Section > 0 {
			where = append(where, fmt.Sprintf("section %d", s.Section))
		}
		if s.Section > 0 || s.Interface > 0 {
			where = append(where, fmt.Sprintf("interface %d", s.Interface))
		}
		if s.IfIndex > 0 {
			where = append(where, fmt.Sprintf("ifindex %d", s.IfIndex))
		}
		if len(where) > 0 {
			b.WriteString(" (" + strings.Join(where, " ") + ")")
		}
		if s.Send == 0 && s.TFO != tfo {
			b.WriteString(" " + strings.Replace(s.TFO, "none", "no-TFO", 1))
		}
	}
}

// tfoDesc describes a TFO option: "request(34)", "cookie 2657f58b…", "no TFO".
func tfoDesc(state string, kind int, cookie string) string {
	var s string
	switch state {
	case "none":
		return "no-TFO"
	case "cookie":
		s = "cookie " + cookie
	default:
		s = state
	}
	if kind != 0 {
		s += fmt.Sprintf(" (kind %d)", kind)
	}
	return s
}
