package analyze

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// RenderOptions tune the human-readable formats.
type RenderOptions struct {
	// Attempts lists every attempt after the server table.
	Attempts bool
}

// Render writes r in format "text", "json" or "markdown".
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
func outcomeParts(c *OutcomeCounts) []string {
	var parts []string
	for i, n := range c {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", Outcome(i), n))
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
func outcomeSummary(c *OutcomeCounts) string { return strings.Join(outcomeParts(c), ", ") }

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
		fmt.Fprintf(w, "input %d: %s\n  %s, %s, %d packets", i, in.Name, in.Format, strings.Join(in.LinkTypes, "/"), in.Packets)
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
		return
	}

	serverW := len("SERVER")
	for _, s := range r.Servers {
		serverW = max(serverW, len(s.Server))
	}
	// Outcomes come last and wrap at commas, so rows stay within textWidth
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

	// A hint shared by several servers is printed once, with its servers,
	// causes of failure first.
	type hint struct {
		id   FindingID
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
		fmt.Fprintln(w, wrapList(servers[h], textWidth, "* ", "  "))
		fmt.Fprintln(w, wrap(h.text, textWidth, "    ", "    "))
	}

	if opts.Attempts {
		fmt.Fprintln(w, "\nAttempts (input:frame; frames as Wireshark numbers them):")
		for i := range r.Attempts {
			fmt.Fprintln(w, attemptLine(&r.Attempts[i]))
		}
		if r.AttemptsOmitted > 0 {
			fmt.Fprintf(w, "... %d more attempts not kept (raise --max-attempts)\n", r.AttemptsOmitted)
		}
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
	fmt.Fprintf(&b, "%d:%d %s > %s  SYN %s", a.Input, a.SYN.Frame, a.Client, a.Server, tfoDesc(a.SYN.TFO, a.SYN.TFOKind, a.SYN.Cookie))
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
		fmt.Fprintf(&b, " (plain retry %d:%d)", a.Input, a.SYN.PlainRetryFrame)
	}
	if a.Reply == nil {
		b.WriteString(" -> no reply")
	} else {
		fmt.Fprintf(&b, " -> %d:%d %s", a.Reply.Input, a.Reply.Frame, strings.ToUpper(a.Reply.Kind))
		if a.Reply.Kind == ReplySYNACK.String() {
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
