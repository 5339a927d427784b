package check

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tfopcap/tfopcap/host/sysinfo"
)

// Render writes r as "text", "markdown" or "json".
func Render(w io.Writer, r *Report, format string) error {
	bw := bufio.NewWriter(w)
	switch format {
	case "json":
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	case "markdown":
		renderMarkdown(bw, r)
	default:
		renderText(bw, r)
	}
	return bw.Flush()
}

func renderText(w io.Writer, r *Report) {
	h := r.Host
	fmt.Fprintf(w, "host: kernel %s, %s, %s, tcp_fastopen_key %s\n",
		orUnknown(h.Kernel), sysctlText("net.ipv4.tcp_fastopen", h.TCPFastOpen), sysctlText("net.mptcp.enabled", h.MPTCPEnabled), h.TFOKey)
	fmt.Fprintf(w, "counters: %s\n", countersText(h))
	fmt.Fprintf(w, "\n%d listener(s):\n", len(r.Listeners))
	for _, l := range r.Listeners {
		fmt.Fprintf(w, "  %-22s %-5s %-24s TFO %s\n", l.Address, l.Protocol, owner(l), l.TFO)
		if l.ProbeError != "" { // says more than a probe that got no answer
			fmt.Fprintf(w, "      probe: %s\n", l.ProbeError)
		} else if l.Probe != nil {
			fmt.Fprintf(w, "      probe: %s\n", probeText(l.Probe))
		}
		for _, f := range l.Findings {
			fmt.Fprintf(w, "      [%s] %s\n", f.ID, f.Text)
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

func renderMarkdown(w io.Writer, r *Report) {
	h := r.Host
	fmt.Fprintf(w, "## tfopcap check\n\nKernel %s, `%s`, `%s`, TFO key %s.\n\nCounters: %s\n\n",
		orUnknown(h.Kernel), sysctlText("net.ipv4.tcp_fastopen", h.TCPFastOpen), sysctlText("net.mptcp.enabled", h.MPTCPEnabled), h.TFOKey, countersText(h))
	fmt.Fprintln(w, "| listener | protocol | process | TFO | probe | findings |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, l := range r.Listeners {
		probe := l.ProbeError
		if probe == "" && l.Probe != nil {
			probe = probeText(l.Probe)
		}
		ids := make([]string, len(l.Findings))
		for i, f := range l.Findings {
			ids[i] = "`" + string(f.ID) + "`"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", l.Address, l.Protocol, cell(owner(l)), l.TFO, cell(probe), strings.Join(ids, " "))
	}
	for _, l := range r.Listeners {
		for _, f := range l.Findings {
			fmt.Fprintf(w, "\n- **%s** `%s`: %s\n", l.Address, f.ID, f.Text)
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "\n> warning: %s\n", warn)
	}
}

func owner(l ListenerReport) string {
	if len(l.Processes) == 0 {
		return fmt.Sprintf("uid %d", l.UID)
	}
	return who(l)
}

func probeText(p *ProbeReport) string {
	if p.Reply != "syn-ack" {
		return fmt.Sprintf("%s -> %s", p.Target, p.Reply)
	}
	s := fmt.Sprintf("%s -> syn-ack, tfo %s", p.Target, p.TFO)
	if p.CookieLen > 0 {
		s += fmt.Sprintf(" (%d bytes)", p.CookieLen)
	}
	if p.MPTCP != "" {
		s += ", " + p.MPTCP
	}
	return s + fmt.Sprintf(", %.3f ms", p.RTTMillis)
}

func countersText(h HostReport) string {
	var parts []string
	for _, name := range sysinfo.TFOCounters {
		v, ok := h.Counters[name]
		if !ok {
			continue
		}
		part := fmt.Sprintf("%s %d", strings.TrimPrefix(name, "TCPFastOpen"), v)
		if h.Delta != nil {
			part += fmt.Sprintf(" (+%d)", h.Delta[name])
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "unreadable"
	}
	s := strings.Join(parts, ", ")
	if h.Delta != nil {
		s += fmt.Sprintf("; (+N) is the growth over %gs", h.IntervalSeconds)
	}
	return s
}

func sysctlText(name string, v *int) string {
	if v == nil {
		return name + " unreadable"
	}
	return fmt.Sprintf("%s=%d", name, *v)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
