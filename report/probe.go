package report

import (
	"fmt"
	"io"
	"strings"
)

// ProbeReport is what `tfopcap probe` did to one server and what it saw:
// servers[].probe in the JSON report. The server's verdict and hints come
// from the attempts as for any capture; this says how they were made.
type ProbeReport struct {
	// Target is the HOST:PORT as given.
	Target string `json:"target"`
	// MPTCP is whether the listener is MPTCP: "yes" (its SYN-ACK to an
	// MPTCP client carried MP_CAPABLE), "no" (it answered as plain TCP) or
	// "unknown" (no MPTCP round, or this client could not make one).
	MPTCP string `json:"mptcp"`
	// Method is where the evidence came from: "capture" (the probe's own
	// packets, through libpcap) or "tcp_info" (the kernel's account of
	// each connection, without packets).
	Method string             `json:"method"`
	Rounds []ProbeRoundReport `json:"rounds"`
	// Notes say what the probe could not see or do.
	Notes []string `json:"notes"`
}

// ProbeRoundReport is one connection the probe made.
type ProbeRoundReport struct {
	// Round is "request" (a cookie request on a fresh cache), "data" (the
	// cookie with data) or "mptcp" (an MPTCP client asking for a cookie).
	Round  string `json:"round"`
	Client string `json:"client,omitempty"`
	// Cache is the kernel's cookie cache for the server before the round:
	// "cleared" (the probe deleted the entry), "empty", "cookie" (a cookie
	// was cached and kept) or "unknown".
	Cache string `json:"cache"`
	// Outcome is the attempt's outcome: judged from the packets (capture)
	// or from the kernel's account (tcp_info); empty when it failed.
	Outcome string `json:"outcome,omitempty"`
	// Kernel is the kernel's own account (TCP_INFO, tcp_metrics).
	Kernel ProbeKernelReport `json:"kernel"`
	// MPTCP is "yes", "no" or "unknown" for an MPTCP round, else empty.
	MPTCP string `json:"mptcp,omitempty"`
	// Error says why the round made no connection.
	Error string `json:"error,omitempty"`
}

// ProbeKernelReport is what the client's kernel said of one connection.
type ProbeKernelReport struct {
	// SYNData is set when the kernel put data in the SYN (it held a cookie).
	SYNData bool `json:"syn_data"`
	// SYNDataAcked is TCP_INFO's TCPI_OPT_SYN_DATA: the server acknowledged it.
	SYNDataAcked bool `json:"syn_data_acked"`
	// FastopenClientFail is tcpi_fastopen_client_fail (Linux >= 5.5): "none",
	// "cookie_unavailable", "data_not_acked", "syn_retransmitted", or
	// "unknown" when the kernel does not say.
	FastopenClientFail string `json:"fastopen_client_fail"`
	// CookieAfter is set when the kernel's cache held a cookie for the
	// server after the round; nil when it could not be read.
	CookieAfter *bool `json:"cookie_after,omitempty"`
}

// renderProbesText writes one block per probed server.
func renderProbesText(w io.Writer, r *Report) {
	for _, s := range r.Servers {
		p := s.Probe
		if p == nil {
			continue
		}
		fmt.Fprintf(w, "\nProbe %s: MPTCP listener %s, evidence from %s\n", probeName(s.Server, p.Target), p.MPTCP, probeMethodText(p.Method))
		for _, rd := range p.Rounds {
			fmt.Fprintln(w, wrap(probeRoundText(&rd), textWidth, "  ", "      "))
		}
		for _, n := range p.Notes {
			fmt.Fprintln(w, wrap("note: "+n, textWidth, "  ", "    "))
		}
	}
}

// renderProbesMarkdown writes the probe rounds as one table per server.
func renderProbesMarkdown(w io.Writer, r *Report) {
	for _, s := range r.Servers {
		p := s.Probe
		if p == nil {
			continue
		}
		fmt.Fprintf(w, "\n### Probe of %s\n\nMPTCP listener: **%s**; evidence from %s.\n\n", mdText(probeName(s.Server, p.Target)), p.MPTCP, mdText(probeMethodText(p.Method)))
		fmt.Fprintln(w, "| round | client | cache before | outcome | kernel |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		for _, rd := range p.Rounds {
			outcome := rd.Outcome
			if rd.Error != "" {
				outcome = rd.Error
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", rd.Round, orDash(rd.Client), rd.Cache, mdText(orDash(outcome)), mdText(kernelText(&rd.Kernel)))
		}
		for _, n := range p.Notes {
			fmt.Fprintf(w, "\n%s\n", mdLine("Note: "+n))
		}
	}
}

// probeName is the server, with the target as given when it was a name.
func probeName(server, target string) string {
	if server == target {
		return server
	}
	return server + " (" + oneLineText(target) + ")"
}

func probeMethodText(m string) string {
	if m == "tcp_info" {
		return "the kernel's account (TCP_INFO), no packets"
	}
	return "its own packets (libpcap)"
}

// probeRoundText is "request  10.0.0.1:40000  cache cleared  omitted  (kernel: ...)".
func probeRoundText(rd *ProbeRoundReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %s, cache %s: ", rd.Round, orDash(rd.Client), rd.Cache)
	switch {
	case rd.Error != "":
		b.WriteString(rd.Error)
	case rd.Outcome != "":
		b.WriteString(rd.Outcome)
	default:
		b.WriteString("-")
	}
	if rd.MPTCP != "" {
		fmt.Fprintf(&b, ", MPTCP %s", rd.MPTCP)
	}
	if rd.Error == "" {
		fmt.Fprintf(&b, " (kernel: %s)", kernelText(&rd.Kernel))
	}
	return b.String()
}

func kernelText(k *ProbeKernelReport) string {
	parts := []string{}
	switch {
	case k.SYNDataAcked:
		parts = append(parts, "SYN data acked")
	case k.SYNData:
		parts = append(parts, "SYN data sent")
	default:
		parts = append(parts, "no SYN data")
	}
	parts = append(parts, "fastopen_client_fail "+k.FastopenClientFail)
	if k.CookieAfter != nil {
		if *k.CookieAfter {
			parts = append(parts, "cookie cached")
		} else {
			parts = append(parts, "no cookie cached")
		}
	}
	return strings.Join(parts, ", ")
}
