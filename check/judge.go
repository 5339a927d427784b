package check

import (
	"fmt"
	"strings"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/host/selfprobe"
	"github.com/tfopcap/tfopcap/host/sockdiag"
	"github.com/tfopcap/tfopcap/host/sysinfo"
)

// TFO states of a listener.
const (
	TFOEnabled  = "enabled"  // the self-probe got a cookie
	TFODisabled = "disabled" // no cookie: the probe's SYN-ACK lacked one, or the kernel cannot
	TFOUnknown  = "unknown"  // no probe answer, and nothing else decides
)

// mptcpTFOKernel is the first Linux release whose MPTCP sockets accept
// TCP_FASTOPEN (6.2: "mptcp: add support for TCP_FASTOPEN").
const mptcpTFOMajor, mptcpTFOMinor = 6, 2

// Facts is what Judge weighs for one listener.
type Facts struct {
	Who      string // "xray (pid 812)", or "uid 1000" when the process is unknown
	Addr     string // the listener's address, e.g. "*:443"
	Protocol sockdiag.Protocol
	Host     sysinfo.Host
	// Overflow counts TcpExtTCPFastOpenListenOverflow during the interval.
	Overflow uint64
	// Probe is the self-probe's answer; nil when none was made.
	Probe *selfprobe.Result
}

// kernelBefore62 reports whether the release is older than 6.2; ok is
// false when the release cannot be read.
func kernelBefore62(release string) (before, ok bool) {
	maj, min, ok := sysinfo.Version(release)
	if !ok {
		return false, false
	}
	return maj < mptcpTFOMajor || maj == mptcpTFOMajor && min < mptcpTFOMinor, true
}

// Judge decides a listener's TFO state and its findings. The rules are
// analyze's E-rules (DESIGN.md, "Findings") with facts for evidence: E1
// is the protocol sock_diag reports, E2 the kernel release, E3 the
// server bit of net.ipv4.tcp_fastopen, and the probe's SYN-ACK says
// whether the listener grants at all.
func Judge(f Facts) (state string, findings []analyze.Finding) {
	state = probeState(f.Probe)
	old, known := kernelBefore62(f.Host.Release)
	if f.Protocol == sockdiag.MPTCP && known && old {
		// Certain without a probe: the kernel refuses TCP_FASTOPEN on
		// every MPTCP socket. A cookie would contradict it; say so.
		if state == TFOEnabled {
			return state, nil
		}
		return TFODisabled, []analyze.Finding{mptcpTFOUnsupported(f)}
	}
	if state != TFODisabled {
		return state, nil
	}
	if f.Host.TCPFastOpen.Known && !f.Host.ServerBit() {
		return state, []analyze.Finding{serverBitOff(f)}
	}
	findings = []analyze.Finding{listenerNoTFO(f, known)}
	if f.Protocol == sockdiag.TCP {
		findings = append(findings, notMPTCP(f))
	}
	return state, findings
}

func probeState(p *selfprobe.Result) string {
	switch {
	case p == nil || p.Reply != selfprobe.ReplySYNACK:
		return TFOUnknown
	case p.TFO == analyze.TFOCookie:
		return TFOEnabled
	}
	return TFODisabled
}

// probeSaid is the probe's evidence as a clause, "" without a probe answer.
func probeSaid(p *selfprobe.Result) string {
	if p == nil || p.Reply != selfprobe.ReplySYNACK {
		return ""
	}
	s := fmt.Sprintf("a cookie request sent to %s was answered without a cookie", p.Target)
	if p.MPTCP != "" {
		s += " (the SYN-ACK carries " + p.MPTCP + ")"
	}
	return s + "; "
}

func mptcpTFOUnsupported(f Facts) analyze.Finding {
	text := fmt.Sprintf("%s listens MPTCP on %s; %sthe kernel is %s < 6.2: TCP_FASTOPEN cannot be "+
		"set on MPTCP sockets (setsockopt fails with ENOPROTOOPT), so this listener never grants "+
		"cookies. Restart it with GODEBUG=multipathtcp=0 (Go programs), or after sysctl "+
		"net.mptcp.enabled=0 (MPTCP sockets made before it stay MPTCP), which work whatever the "+
		"application does; or use ListenConfig.SetMultipathTCP(false) in its code; or a kernel >= 6.2. An application's own \"mptcp off\" switch may not do it: check again with "+
		"tfopcap check.", f.Who, f.Addr, probeSaid(f.Probe), kernelName(f.Host.Release))
	return analyze.Finding{ID: analyze.FindMPTCPTFOUnsupported, Text: text}
}

func serverBitOff(f Facts) analyze.Finding {
	text := fmt.Sprintf("%s listens %s on %s; %snet.ipv4.tcp_fastopen is %d, without the server bit "+
		"0x2, so no listener of this host (network namespace) grants cookies: sysctl -w "+
		"net.ipv4.tcp_fastopen=3.", f.Who, protoName(f.Protocol), f.Addr, probeSaid(f.Probe), f.Host.TCPFastOpen.Value)
	return analyze.Finding{ID: analyze.FindOtherCauses, Text: text}
}

func listenerNoTFO(f Facts, kernelKnown bool) analyze.Finding {
	var why []string
	if f.Host.TCPFastOpen.Known {
		why = append(why, fmt.Sprintf("net.ipv4.tcp_fastopen is %d (server bit on)", f.Host.TCPFastOpen.Value))
	}
	if f.Protocol == sockdiag.MPTCP && kernelKnown {
		why = append(why, fmt.Sprintf("the kernel is %s >= 6.2, which does TFO on MPTCP", kernelName(f.Host.Release)))
	}
	if len(why) == 0 {
		why = append(why, "nothing on the host keeps TFO off")
	}
	text := fmt.Sprintf("%s listens %s on %s; %s%s: this listener does not enable TFO (no TCP_FASTOPEN, "+
		"or its setsockopt failed), unless a firewall rule of this host strips option 34: the "+
		"self-probe passes this host's netfilter hooks (look for \"reset tcp option fastopen\" in "+
		"nft list ruleset). Enable it: TCP_FASTOPEN with a queue length (Go: setsockopt in "+
		"ListenConfig.Control, and check its error), nginx `listen ... fastopen=N`, haproxy `bind ... tfo`.",
		f.Who, protoName(f.Protocol), f.Addr, probeSaid(f.Probe), strings.Join(why, " and "))
	if f.Overflow > 0 {
		text += fmt.Sprintf(" TcpExtTCPFastOpenListenOverflow grew by %d meanwhile: some TFO listener's queue is full.", f.Overflow)
	}
	return analyze.Finding{ID: analyze.FindListenerNoTFO, Text: text}
}

func notMPTCP(f Facts) analyze.Finding {
	return analyze.Finding{ID: analyze.FindNotMPTCP, Text: fmt.Sprintf("%s is a plain TCP listener "+
		"(sock_diag): MPTCP is not the cause.", f.Addr)}
}

func protoName(p sockdiag.Protocol) string {
	if p == sockdiag.MPTCP {
		return "MPTCP"
	}
	return "TCP"
}

// kernelName shortens a release to its version, "6.1.0-27-cloud-amd64" ->
// "6.1".
func kernelName(release string) string {
	if maj, min, ok := sysinfo.Version(release); ok {
		return fmt.Sprintf("%d.%d", maj, min)
	}
	if release == "" {
		return "unknown"
	}
	return release
}
