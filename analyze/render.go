package analyze

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
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

// WriteJSON writes the report as one indented JSON object.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// textWidth is the width text output is laid out for.
const textWidth = 100

// outcomeSummary lists the non-zero counts: "omitted 4, rejected 2".
func outcomeSummary(c *OutcomeCounts) string {
	var parts []string
	for i, n := range c {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", Outcome(i), n))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

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
	var b strings.Builder
	line, empty := first, true
	for _, word := range strings.Fields(s) {
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
		fmt.Fprintf(w, "input %d: %s (%s, %s, %d packets", i, in.Name, in.Format, strings.Join(in.LinkTypes, "/"), in.Packets)
		if in.First != "" {
			fmt.Fprintf(w, ", %s to %s", in.First, in.Last)
		}
		fmt.Fprintln(w, ")")
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
		fmt.Fprintln(w, "No TCP connection attempts (SYNs) found.")
		return
	}

	serverW, outcomesW := len("SERVER"), len("OUTCOMES")
	for _, s := range r.Servers {
		serverW = max(serverW, len(s.Server))
		outcomesW = max(outcomesW, len(outcomeSummary(&s.Outcomes)))
	}
	row := func(server, verdict, attempts, outcomes, mptcp string) {
		fmt.Fprintf(w, "%-*s  %-12s  %8s  %-*s  %s\n", serverW, server, verdict, attempts, outcomesW, outcomes, mptcp)
	}
	row("SERVER", "VERDICT", "ATTEMPTS", "OUTCOMES", "MPTCP SYN/SYN-ACK")
	for _, s := range r.Servers {
		row(s.Server, s.Verdict.String(), fmt.Sprint(s.Attempts), outcomeSummary(&s.Outcomes), mptcpSummary(s.MPTCP))
	}

	first := true
	for _, s := range r.Servers {
		if len(s.Hints) == 0 {
			continue
		}
		if first {
			fmt.Fprintln(w, "\nHints:")
			first = false
		}
		fmt.Fprintf(w, "%s (%s):\n", s.Server, s.Verdict)
		for _, h := range s.Hints {
			fmt.Fprintln(w, wrap(h, textWidth, "  - ", "    "))
		}
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
	if a.SYN.DataLen > 0 {
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
