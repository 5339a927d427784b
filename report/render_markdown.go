package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
)

// evidenceAttempts is how many attempts the markdown report shows for each
// server that omits cookies, with or without --attempts.
const evidenceAttempts = 5

// renderMarkdown writes a report meant to be pasted into a GitHub issue as
// is: what was captured, the verdicts, the hints, and for each server that
// omits cookies the frames that show it. Every string that came from an
// input (file names, warnings) is escaped.
func renderMarkdown(w io.Writer, r *Report, opts RenderOptions) {
	fmt.Fprintf(w, "### TCP Fast Open report (%s)\n\n", mdText(r.Tool))
	fmt.Fprintf(w, "%d input(s), %d packets, %d attempts, %d server(s).\n\n",
		len(r.Inputs), r.Totals.Packets, r.Totals.Attempts, len(r.Servers))
	if len(r.Inputs) > 0 {
		fmt.Fprintln(w, "| # | input | format | link types | packets | first | last | span |")
		fmt.Fprintln(w, "|---:|---|---|---|---:|---|---|---:|")
		for i, in := range r.Inputs {
			lts := make([]string, len(in.LinkTypes))
			for j, lt := range in.LinkTypes {
				lts[j] = mdText(lt)
			}
			fmt.Fprintf(w, "| %d | %s | %s | %s | %d | %s | %s | %s |\n", i, mdText(in.Name), mdText(in.Format),
				orDash(strings.Join(lts, ", ")), in.Packets, orDash(mdText(in.First)), orDash(mdText(in.Last)),
				span(in.First, in.Last))
		}
	}
	var warns []string
	for _, in := range r.Inputs {
		for _, wn := range in.Warnings {
			warns = append(warns, mdText(in.Name+": "+wn))
		}
	}
	for _, wn := range r.Warnings {
		warns = append(warns, mdText(wn))
	}
	if len(warns) > 0 {
		fmt.Fprintln(w)
		for _, wn := range warns {
			fmt.Fprintf(w, "> **warning:** %s\n>\n", wn)
		}
	}
	if r.Live != nil {
		fmt.Fprintf(w, "\nLive capture on %s: %d received, %d dropped by the kernel, %d dropped by the interface.\n",
			mdCode(r.Live.Interface), r.Live.Received, r.Live.Dropped, r.Live.IfDropped)
	}
	fmt.Fprintln(w)
	if len(r.Servers) == 0 {
		if u := unlistedLine(r); u != "" {
			fmt.Fprintln(w, mdLine(u)+".")
		} else {
			fmt.Fprintln(w, "No TCP connection attempts (SYNs) found.")
		}
		writeMarkdownTail(w, r, opts)
		return
	}
	fmt.Fprintln(w, "| server | verdict | attempts | outcomes | MPTCP SYN/SYN-ACK |")
	fmt.Fprintln(w, "|---|---|---:|---|---|")
	for _, s := range r.Servers {
		fmt.Fprintf(w, "| %s | **%s** | %d | %s | %s |\n", mdCode(s.Server), s.Verdict, s.Attempts,
			outcomeSummary(&s.Outcomes), mptcpSummary(s.MPTCP))
	}
	if u := unlistedLine(r); u != "" {
		fmt.Fprintf(w, "\n%s.\n", mdLine(u))
	}
	for i := range r.Servers {
		s := &r.Servers[i]
		failing := s.Verdict == analyze.Omits || s.Verdict == analyze.Mixed
		if len(s.Hints) == 0 && !failing {
			continue
		}
		fmt.Fprintf(w, "\n#### %s %s\n\n", mdCode(s.Server), s.Verdict)
		if s.Change != nil {
			fmt.Fprintf(w, "- **Change:** %s\n", mdText(changeSentence(s.Change)))
		}
		for j, h := range s.Hints {
			// Hints are tfopcap's own markdown (they quote commands in
			// backticks), but a report read back may carry anything.
			fmt.Fprintf(w, "- %s%s\n", mdIDTag(s.HintIDs, j), mdLine(h))
		}
		if failing {
			renderEvidence(w, r, s)
		}
	}
	writeMarkdownTail(w, r, opts)
}

// writeMarkdownTail ends the markdown report with what does not depend on
// the server table: the capture-wide findings and the attempt list.
func writeMarkdownTail(w io.Writer, r *Report, opts RenderOptions) {
	renderProbesMarkdown(w, r)
	if len(r.Findings) > 0 {
		fmt.Fprint(w, "\n#### Capture-wide findings\n\n")
		for i := range r.Findings {
			f := &r.Findings[i]
			scope := findingScope(f)
			for j := range scope {
				scope[j] = mdText(scope[j])
			}
			fmt.Fprintf(w, "- [%s] (%s) %s\n", mdText(string(f.ID)), strings.Join(scope, ", "), mdLine(f.Text))
		}
	}
	if opts.Attempts && len(r.Attempts) > 0 {
		fmt.Fprintf(w, "\n<details><summary>All %d attempts listed</summary>\n\n", len(r.Attempts))
		attemptTable(w, r.Attempts)
		fmt.Fprintln(w, "\n</details>")
	}
	if r.AttemptsOmitted > 0 {
		fmt.Fprintf(w, "\n%d more attempts were counted but not kept in detail (raise --max-attempts).\n", r.AttemptsOmitted)
	}
}

// renderEvidence lists the first attempts that show a server omitting
// cookies, and for a mixed server the first that shows it granting one.
func renderEvidence(w io.Writer, r *Report, s *ServerReport) {
	var picked []AttemptReport
	omitting, granting := 0, 0
	grant, lastGrant := -1, false // where in picked the grant shown is, and whether it is the change's
	for i := range r.Attempts {
		a := &r.Attempts[i]
		if canonicalAddr(a.Server) != canonicalAddr(s.Server) {
			continue
		}
		switch {
		case a.Outcome.Omits():
			omitting++
			if omitting <= evidenceAttempts {
				picked = append(picked, *a)
			}
		case a.Outcome.Grants():
			granting++
			if granting == 1 && s.Verdict == analyze.Mixed {
				grant = len(picked)
				picked = append(picked, *a)
			} else if isDecision(a, changeGrant(s.Change)) && grant >= 0 {
				picked[grant] = *a // the grant next to the change shows more than the first
				lastGrant = true
			}
		}
	}
	if len(picked) == 0 {
		fmt.Fprintln(w, "\nThe attempts that show it were not kept in detail (raise --max-attempts).")
		return
	}
	var what string
	switch {
	case omitting == 1:
		what = "the attempt that omitted or was rejected"
	case omitting <= evidenceAttempts:
		what = fmt.Sprintf("all %d attempts that omitted or were rejected", omitting)
	default:
		what = fmt.Sprintf("the first %d of %d attempts that omitted or were rejected", evidenceAttempts, omitting)
	}
	switch {
	case s.Verdict != analyze.Mixed || granting == 0:
	case granting == 1:
		what += ", and the one that was granted, accepted or renewed"
	case lastGrant:
		what += fmt.Sprintf(", and of %d that were granted, accepted or renewed the one next to the change", granting)
	default:
		what += fmt.Sprintf(", and the first of %d that were granted, accepted or renewed", granting)
	}
	fmt.Fprintf(w, "\nEvidence (input:frame, numbered from 1 as in Wireshark): %s.\n\n", what)
	attemptTable(w, picked)
}

// changeGrant is the deciding attempt of a change that granted, or nil.
func changeGrant(c *ChangeReport) *DecisionReport {
	switch {
	case c == nil || c.Before == nil || c.After == nil:
		return nil
	case c.Before.Outcome.Grants():
		return c.Before
	}
	return c.After
}

// isDecision reports whether a is the attempt d names.
func isDecision(a *AttemptReport, d *DecisionReport) bool {
	return d != nil && a.Reply != nil && a.Reply.Input == d.Input && a.Reply.Frame == d.Frame
}

// attemptTable writes attempts as a table, one row each.
func attemptTable(w io.Writer, attempts []AttemptReport) {
	fmt.Fprintln(w, "| SYN | time (UTC) | client | server | SYN options | reply | after | reply options | outcome |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---:|---|---|")
	for i := range attempts {
		a := &attempts[i]
		synOpts := tfoDesc(a.SYN.TFO, a.SYN.TFOKind, a.SYN.Cookie)
		if a.SYN.DataLen > 0 {
			synOpts += fmt.Sprintf(", data %d", a.SYN.DataLen)
		}
		if a.SYN.MPTCP != "" {
			synOpts += ", " + a.SYN.MPTCP
		}
		if a.SYN.Retransmits > 0 {
			synOpts += fmt.Sprintf(", retransmitted %d", a.SYN.Retransmits)
		}
		if a.SYN.PlainRetryFrame != 0 {
			synOpts += fmt.Sprintf(", plain retry %d:%d", plainRetryInput(&a.SYN, a.Input), a.SYN.PlainRetryFrame)
		}
		if p := pathText(a); p != "" {
			synOpts += "; " + p
		}
		reply, rtt, replyOpts := "none", "-", "-"
		if a.Reply != nil {
			reply = fmt.Sprintf("%d:%d", a.Reply.Input, a.Reply.Frame)
			rtt = rttText(a.Reply.RTTMicros)
			replyOpts = a.Reply.Kind
			if a.Reply.Kind == analyze.ReplySYNACK.String() {
				replyOpts += " " + tfoDesc(a.Reply.TFO, 0, a.Reply.Cookie)
				if a.Reply.AckedData > 0 {
					replyOpts += fmt.Sprintf(", acks data %d", a.Reply.AckedData)
				}
				if a.Reply.MPTCP != "" {
					replyOpts += ", " + a.Reply.MPTCP
				}
			}
		}
		fmt.Fprintf(w, "| %d:%d | %s | %s | %s | %s | %s | %s | %s | %s |\n", a.Input, a.SYN.Frame, mdText(clockTime(a.SYN.Time)),
			mdCode(a.Client), mdCode(a.Server), mdText(synOpts), reply, rtt, mdText(replyOpts), a.Outcome)
	}
}

// span is the time from first to last as a duration, or "-".
func span(first, last string) string {
	f, err1 := time.Parse(time.RFC3339Nano, first)
	l, err2 := time.Parse(time.RFC3339Nano, last)
	if err1 != nil || err2 != nil {
		return "-"
	}
	d := l.Sub(f)
	switch {
	case d >= time.Second:
		d = d.Round(time.Millisecond)
	case d >= time.Millisecond:
		d = d.Round(time.Microsecond)
	}
	return d.String()
}

// orDash stands "-" in for an empty cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// mdSpecial are the characters that could start markdown or HTML markup in
// text, and the line breaks that would end a table row.
var mdSpecial = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "#", `\#`, "~", `\~`, "&", `\&`, "!", `\!`,
	"\r\n", " ", "\n", " ", "\r", " ",
)

// mdText escapes s to show as itself, on one line, in a table cell or a
// paragraph.
func mdText(s string) string { return mdSpecial.Replace(s) }

// mdLine keeps s's own markdown but makes it safe for one list item: no
// line breaks, no raw HTML.
func mdLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "<", `\<`).Replace(s)
}

// mdCode shows s as a code span. A backslash cannot be escaped inside a
// code span, and GitHub reads "\|" there as a pipe, so s with a backslash
// is shown as escaped text instead.
func mdCode(s string) string {
	if s == "" {
		return "-"
	}
	if strings.Contains(s, `\`) {
		return mdText(s)
	}
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "|", `\|`).Replace(s)
	run, longest := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if s[0] == '`' || s[len(s)-1] == '`' || (s[0] == ' ' && s[len(s)-1] == ' ') {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdIDTag shows the ID of hint i, "[listener-no-tfo] ", where users can
// grep for it; a report read back may lack IDs.
func mdIDTag(ids []analyze.FindingID, i int) string {
	if i >= len(ids) || ids[i] == "" {
		return ""
	}
	return "[" + mdText(string(ids[i])) + "] "
}
