package analyze

import (
	"fmt"
	"io"
	"strings"
)

func renderMarkdown(w io.Writer, r *Report, opts RenderOptions) {
	fmt.Fprintf(w, "### TCP Fast Open report (%s)\n\n", r.Tool)
	fmt.Fprintln(w, "| input | format | link types | packets | first | last |")
	fmt.Fprintln(w, "|---|---|---|---:|---|---|")
	for _, in := range r.Inputs {
		fmt.Fprintf(w, "| `%s` | %s | %s | %d | %s | %s |\n", mdEscape(in.Name), in.Format,
			strings.Join(in.LinkTypes, ", "), in.Packets, in.First, in.Last)
	}
	var warns []string
	for _, in := range r.Inputs {
		for _, wn := range in.Warnings {
			warns = append(warns, in.Name+": "+wn)
		}
	}
	warns = append(warns, r.Warnings...)
	if len(warns) > 0 {
		fmt.Fprintln(w)
		for _, wn := range warns {
			fmt.Fprintf(w, "> **warning:** %s\n", mdEscape(wn))
		}
	}
	fmt.Fprintln(w)
	if len(r.Servers) == 0 {
		fmt.Fprintln(w, "No TCP connection attempts (SYNs) found.")
		return
	}
	fmt.Fprintln(w, "| server | verdict | attempts | outcomes | MPTCP SYN/SYN-ACK |")
	fmt.Fprintln(w, "|---|---|---:|---|---|")
	for _, s := range r.Servers {
		fmt.Fprintf(w, "| `%s` | **%s** | %d | %s | %s |\n", s.Server, s.Verdict, s.Attempts,
			outcomeSummary(&s.Outcomes), mptcpSummary(s.MPTCP))
	}
	for _, s := range r.Servers {
		if len(s.Hints) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n**`%s` (%s)**\n\n", s.Server, s.Verdict)
		for _, h := range s.Hints {
			fmt.Fprintf(w, "- %s\n", h)
		}
	}
	if opts.Attempts && len(r.Attempts) > 0 {
		fmt.Fprintln(w, "\n| input:frame | client | server | SYN | reply | outcome |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for i := range r.Attempts {
			a := &r.Attempts[i]
			reply := "none"
			if a.Reply != nil {
				reply = fmt.Sprintf("%d:%d %s %s", a.Reply.Input, a.Reply.Frame, a.Reply.Kind, tfoDesc(a.Reply.TFO, 0, a.Reply.Cookie))
			}
			fmt.Fprintf(w, "| %d:%d | `%s` | `%s` | %s | %s | %s |\n", a.Input, a.SYN.Frame, a.Client, a.Server,
				tfoDesc(a.SYN.TFO, a.SYN.TFOKind, a.SYN.Cookie), reply, a.Outcome)
		}
	}
}

// mdEscape keeps text from breaking a markdown table.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
