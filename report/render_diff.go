package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tfopcap/tfopcap/analyze"
)

// RenderDiff writes d in format "text", "json" or "markdown". Every string
// in d may come from a hostile file; the markdown form escapes them.
func RenderDiff(w io.Writer, d *DiffReport, format string) error {
	bw := bufio.NewWriter(w)
	switch format {
	case "text":
		renderDiffText(bw, d)
	case "json":
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		// Hints are prose with "<" and ">": keep them readable.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d); err != nil {
			return err
		}
	case "markdown":
		renderDiffMarkdown(bw, d)
	default:
		return fmt.Errorf("unknown diff format %q", format)
	}
	return bw.Flush()
}

// diffSummary is "1 regressed, 0 improved, ...".
func diffSummary(s DiffSummary) string {
	return fmt.Sprintf("%d regressed, %d undecided, %d improved, %d changed, %d unchanged, %d new, %d vanished",
		s.Regressed, s.Undecided, s.Improved, s.Changed, s.Unchanged, s.New, s.Vanished)
}

// sideLine describes one report of a diff.
func sideLine(s DiffSide) string {
	inputs := "no inputs"
	if len(s.Inputs) > 0 {
		inputs = strings.Join(s.Inputs, ", ")
	}
	return oneLineText(fmt.Sprintf("%s (%s): %d server(s), %d attempts from %s", s.Name, s.Tool, s.Servers, s.Attempts, inputs))
}

// arrow joins an old and a new value: "grants -> omits", or just "grants"
// when they are equal; "-" stands for a side that lacks the server.
func arrow(old, new, sep string) string {
	if old == new {
		return old
	}
	return old + sep + new
}

// serverDiffCells are a server's verdict, attempts, outcome changes and
// MPTCP columns.
func serverDiffCells(sd *ServerDiff, sep string) (verdict, attempts, outcomes, mptcp string) {
	verdict, attempts, om, nm := "-", "-", "-", "-"
	if sd.Old != nil {
		verdict, attempts, om = sd.Old.Verdict.String(), fmt.Sprint(sd.Old.Attempts), mptcpSummary(sd.Old.MPTCP)
	}
	nv, na := "-", "-"
	if sd.New != nil {
		nv, na, nm = sd.New.Verdict.String(), fmt.Sprint(sd.New.Attempts), mptcpSummary(sd.New.MPTCP)
	}
	if sd.Old == nil || sd.New == nil {
		// A server on one side only: arrows show which.
		verdict, attempts = verdict+sep+nv, attempts+sep+na
	} else {
		verdict, attempts = arrow(verdict, nv, sep), arrow(attempts, na, sep)
	}
	parts := make([]string, 0, len(sd.Outcomes))
	for _, oc := range sd.Outcomes {
		parts = append(parts, fmt.Sprintf("%s %d%s%d", oc.Outcome, oc.Old, sep, oc.New))
	}
	outcomes = "no change"
	if len(parts) > 0 {
		outcomes = strings.Join(parts, ", ")
	}
	return verdict, attempts, outcomes, arrow(om, nm, sep)
}

// hintWorthy reports whether a server's new hints explain its change: it
// moved, or appeared, and now omits cookies.
func hintWorthy(sd *ServerDiff) bool {
	return sd.Change != Unchanged && sd.New != nil && len(sd.New.Hints) > 0 &&
		(sd.New.Verdict == analyze.Omits || sd.New.Verdict == analyze.Mixed)
}

func renderDiffText(w io.Writer, d *DiffReport) {
	fmt.Fprintf(w, "%s diff\n", oneLineText(d.Tool))
	fmt.Fprintf(w, "old: %s\n", sideLine(d.Old))
	fmt.Fprintf(w, "new: %s\n\n", sideLine(d.New))
	status := "no regression"
	if d.Regressed() {
		status = "REGRESSED"
	}
	fmt.Fprintf(w, "%s: %s\n\n", status, diffSummary(d.Summary))
	if len(d.Servers) == 0 {
		fmt.Fprintln(w, "Neither report has servers.")
		return
	}

	type row struct{ server, change, verdict, attempts, outcomes, mptcp string }
	rows := []row{{"SERVER", "CHANGE", "VERDICT", "ATTEMPTS", "OUTCOMES", "MPTCP S/SA"}}
	for i := range d.Servers {
		sd := &d.Servers[i]
		v, a, o, m := serverDiffCells(sd, " -> ")
		rows = append(rows, row{oneLineText(sd.Server), sd.Change.String(), v, a, o, m})
	}
	var ws [5]int
	for _, r := range rows {
		for i, c := range [5]string{r.server, r.change, r.verdict, r.attempts, r.outcomes} {
			ws[i] = max(ws[i], len(c))
		}
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", ws[0], r.server, ws[1], r.change,
			ws[2], r.verdict, ws[3], r.attempts, ws[4], r.outcomes, r.mptcp)
	}
	for i := range d.Servers {
		sd := &d.Servers[i]
		if !hintWorthy(sd) {
			continue
		}
		fmt.Fprintf(w, "\n%s (%s, now %s):\n", oneLineText(sd.Server), sd.Change, sd.New.Verdict)
		if c := sd.New.Change; c != nil {
			fmt.Fprintln(w, wrap(oneLineText("change: "+changeSentence(c)), textWidth, "  - ", "    "))
		}
		for j, h := range sd.New.Hints {
			fmt.Fprintln(w, wrap(oneLineText(h), textWidth, "  - "+diffIDTag(sd.New.HintIDs, j), "    "))
		}
	}
	if d.Series != nil {
		renderSeriesText(w, d.Series)
	}
}

// renderSeriesText lists the reports of a series and each server's
// verdict in each, with its first bad report.
func renderSeriesText(w io.Writer, s *DiffSeries) {
	fmt.Fprintf(w, "\nSeries of %d reports; first bad: the first report whose change from report 0 fails:\n", len(s.Reports))
	for i, side := range s.Reports {
		fmt.Fprintf(w, "  %d: %s\n", i, sideLine(side))
	}
	rows := [][]string{{"SERVER"}}
	for i := range s.Reports {
		rows[0] = append(rows[0], fmt.Sprint(i))
	}
	rows[0] = append(rows[0], "FIRST BAD")
	for _, ss := range s.Servers {
		rows = append(rows, append(append([]string{oneLineText(ss.Server)}, seriesVerdicts(ss)...), firstBad(ss)))
	}
	ws := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			ws[i] = max(ws[i], len(c))
		}
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r[:len(r)-1] {
			fmt.Fprintf(&b, "%-*s  ", ws[i], c)
		}
		fmt.Fprintln(w, b.String()+r[len(r)-1])
	}
}

// seriesVerdicts are a server's verdicts through a series, "-" where a
// report lacks it.
func seriesVerdicts(ss SeriesServer) []string {
	out := make([]string, len(ss.Verdicts))
	for i, v := range ss.Verdicts {
		out[i] = "-"
		if v != nil {
			out[i] = v.String()
		}
	}
	return out
}

// firstBad is "2 (regressed)", or "-".
func firstBad(ss SeriesServer) string {
	if ss.FirstBad == nil {
		return "-"
	}
	return fmt.Sprintf("%d (%s)", *ss.FirstBad, ss.Change)
}

func renderDiffMarkdown(w io.Writer, d *DiffReport) {
	status := "no regression"
	if d.Regressed() {
		status = "regression"
	}
	fmt.Fprintf(w, "### TCP Fast Open diff: %s\n\n", status)
	fmt.Fprintf(w, "%s (%s)\n\n", mdText(diffSummary(d.Summary)), mdText(d.Tool))
	fmt.Fprintln(w, "| | report | tool | inputs | servers | attempts |")
	fmt.Fprintln(w, "|---|---|---|---|---:|---:|")
	for _, side := range []struct {
		label string
		s     *DiffSide
	}{{"old", &d.Old}, {"new", &d.New}} {
		inputs := make([]string, len(side.s.Inputs))
		for i, in := range side.s.Inputs {
			inputs[i] = mdText(in)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %d |\n", side.label, mdText(side.s.Name), mdText(side.s.Tool),
			orDash(strings.Join(inputs, ", ")), side.s.Servers, side.s.Attempts)
	}
	fmt.Fprintln(w)
	if len(d.Servers) == 0 {
		fmt.Fprintln(w, "Neither report has servers.")
		return
	}
	fmt.Fprintln(w, "| server | change | verdict | attempts | outcome changes | MPTCP SYN/SYN-ACK |")
	fmt.Fprintln(w, "|---|---|---|---:|---|---|")
	for i := range d.Servers {
		sd := &d.Servers[i]
		v, a, o, m := serverDiffCells(sd, " → ")
		change := sd.Change.String()
		if sd.Change == Regressed {
			change = "**" + change + "**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", mdCode(sd.Server), change, v, a, o, m)
	}
	for i := range d.Servers {
		sd := &d.Servers[i]
		if !hintWorthy(sd) {
			continue
		}
		fmt.Fprintf(w, "\n**%s** (%s, now %s):\n\n", mdCode(sd.Server), sd.Change, sd.New.Verdict)
		if c := sd.New.Change; c != nil {
			fmt.Fprintf(w, "- **Change:** %s\n", mdText(changeSentence(c)))
		}
		for j, h := range sd.New.Hints {
			// Hints are tfopcap's markdown (commands in backticks); mdLine
			// keeps that but no line breaks or raw HTML from the file.
			fmt.Fprintf(w, "- %s%s\n", mdIDTag(sd.New.HintIDs, j), mdLine(h))
		}
	}
	if d.Series != nil {
		renderSeriesMarkdown(w, d.Series)
	}
}

// renderSeriesMarkdown is renderSeriesText as tables.
func renderSeriesMarkdown(w io.Writer, s *DiffSeries) {
	fmt.Fprintf(w, "\n#### Series of %d reports\n\nFirst bad: the first report whose change from report 0 fails.\n\n", len(s.Reports))
	fmt.Fprintln(w, "| # | report | tool | inputs | servers | attempts |")
	fmt.Fprintln(w, "|---:|---|---|---|---:|---:|")
	for i, side := range s.Reports {
		inputs := make([]string, len(side.Inputs))
		for j, in := range side.Inputs {
			inputs[j] = mdText(in)
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %d | %d |\n", i, mdText(side.Name), mdText(side.Tool),
			orDash(strings.Join(inputs, ", ")), side.Servers, side.Attempts)
	}
	head, rule := "\n| server |", "|---|"
	for i := range s.Reports {
		head += fmt.Sprintf(" %d |", i)
		rule += "---|"
	}
	fmt.Fprintln(w, head+" first bad |")
	fmt.Fprintln(w, rule+"---|")
	for _, ss := range s.Servers {
		bad := firstBad(ss)
		if ss.FirstBad != nil {
			bad = "**" + bad + "**"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", mdCode(ss.Server), strings.Join(seriesVerdicts(ss), " | "), bad)
	}
}

// oneLineText keeps a hostile string from breaking a line of text output
// or sending escape sequences to a terminal: control characters are shown
// as Go escapes.
func oneLineText(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

// diffIDTag is hint i's ID tag in text, empty when the report lacks IDs.
func diffIDTag(ids []analyze.FindingID, i int) string {
	if i >= len(ids) {
		return ""
	}
	return idTag(ids[i])
}
