package check

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/host/procs"
	"github.com/tfopcap/tfopcap/host/selfprobe"
	"github.com/tfopcap/tfopcap/host/sockdiag"
	"github.com/tfopcap/tfopcap/host/sysinfo"
)

// Options say what Run looks at.
type Options struct {
	Tool  string
	Ports []uint16 // only listeners on these ports; all when empty
	// Interval is how long the TFO counters are watched before probing
	// (the probes' own SYNs would count); 0 reads them once.
	Interval     time.Duration
	ProbeTimeout time.Duration
	NoProbe      bool
	ProcRoot     string // "/proc" when empty
}

// Privilege warnings: which capability, and what still works without it.
const (
	warnNoRaw = "self-probe skipped: opening a raw socket needs CAP_NET_RAW (run as root, or setcap " +
		"cap_net_raw=eip on tfopcap); listeners, protocols, processes and host settings are still " +
		"listed, and an MPTCP listener on Linux < 6.2 is still judged"
	noRawError      = "not probed: no CAP_NET_RAW"
	warnHiddenMPTCP = "sock_diag lists %s as TCP, but its SYN-ACK carries MP_CAPABLE: it is MPTCP " +
		"(this kernel's sock_diag does not list MPTCP listeners)"
	warnNoOwner = "some listeners have no process in this PID namespace (held by a process outside it, " +
		"as when check runs in a container, or by the kernel): they show a uid instead"
	warnProcs = "%d processes' file descriptors could not be read (another user's: reading them needs " +
		"root or CAP_SYS_PTRACE); their listeners show a uid instead of a process"
)

// Run gathers the facts of the calling thread's network namespace and
// judges every listener. Only listing the listeners can fail the run.
func Run(o Options) (*Report, error) {
	root := cmp.Or(o.ProcRoot, "/proc")
	ls, err := sockdiag.Listeners()
	if err != nil {
		return nil, err
	}
	ls = onPorts(ls, o.Ports)
	r := &Report{Schema: Schema, Tool: o.Tool, Listeners: []ListenerReport{}, Warnings: []string{}}
	for _, p := range o.Ports {
		if !slices.ContainsFunc(ls, func(l sockdiag.Listener) bool { return l.Addr.Port() == p }) {
			r.Warnings = append(r.Warnings, fmt.Sprintf("no TCP or MPTCP listener on port %d", p))
		}
	}
	host, delta := readHost(root, o.Interval)
	r.Host = hostReport(host, delta, o.Interval)
	if host.Counters == nil {
		r.Warnings = append(r.Warnings, "could not read "+root+"/net/netstat: no TFO counters")
	}

	inodes := map[uint32]bool{}
	for _, l := range ls {
		inodes[l.Inode] = true
	}
	owners, unreadable := procs.Owners(root, inodes)
	pr := &prober{off: o.NoProbe, timeout: cmp.Or(o.ProbeTimeout, time.Second)}
	missing := false
	for _, l := range ls {
		lr := ListenerReport{
			Address: l.Addr.String(), Protocol: l.Protocol.String(), UID: l.UID,
			Processes: processReports(owners[l.Inode]), Findings: []FindingReport{},
		}
		missing = missing || len(lr.Processes) == 0
		f := Facts{Who: who(lr), Addr: lr.Address, Protocol: l.Protocol, Host: host, Overflow: delta["TCPFastOpenListenOverflow"]}
		f.Probe, lr.ProbeError = pr.probe(l.Addr)
		if f.Probe != nil {
			lr.Probe = probeReport(f.Probe)
		}
		if answeredMPTCP(f.Probe) && l.Protocol == sockdiag.TCP {
			// Only an MPTCP listener answers MP_CAPABLE: sock_diag of
			// this kernel did not list it as MPTCP.
			f.Protocol, lr.Protocol = sockdiag.MPTCP, sockdiag.MPTCP.String()
			r.Warnings = append(r.Warnings, fmt.Sprintf(warnHiddenMPTCP, lr.Address))
		}
		var fs []analyze.Finding
		lr.TFO, fs = Judge(f)
		for _, x := range fs {
			lr.Findings = append(lr.Findings, FindingReport{x.ID, x.Text})
		}
		r.Listeners = append(r.Listeners, lr)
	}
	if pr.noRaw {
		r.Warnings = append(r.Warnings, warnNoRaw)
	}
	switch {
	case missing && unreadable > 0:
		r.Warnings = append(r.Warnings, fmt.Sprintf(warnProcs, unreadable))
	case missing:
		r.Warnings = append(r.Warnings, warnNoOwner)
	}
	return r, nil
}

// answeredMPTCP reports whether the probe's SYN-ACK carried MP_CAPABLE.
func answeredMPTCP(p *selfprobe.Result) bool {
	return p != nil && p.Reply == selfprobe.ReplySYNACK && strings.HasPrefix(p.MPTCP, "MP_CAPABLE")
}

// readHost reads the host's facts, and the counters' growth over interval
// (nil when interval is 0 or the second read fails). It runs before any
// probe, whose cookie requests would count.
func readHost(root string, interval time.Duration) (sysinfo.Host, sysinfo.Counters) {
	host := sysinfo.Read(root)
	if interval <= 0 {
		return host, nil
	}
	time.Sleep(interval)
	after, err := sysinfo.ReadCounters(root)
	if err != nil {
		return host, nil
	}
	delta := sysinfo.Delta(host.Counters, after)
	host.Counters = after
	return host, delta
}

// prober runs the self-probes of one check, and stops trying once a raw
// socket is refused.
type prober struct {
	off     bool // --no-probe
	timeout time.Duration
	noRaw   bool // a raw socket was refused: no CAP_NET_RAW
}

// probe asks the listener at addr; why says why there is no answer ("" when
// there is one).
func (p *prober) probe(addr netip.AddrPort) (res *selfprobe.Result, why string) {
	switch {
	case p.off:
		return nil, "not probed (--no-probe)"
	case p.noRaw:
		return nil, noRawError
	}
	res, err := selfprobe.Probe(probeTarget(addr), p.timeout)
	switch {
	case errors.Is(err, selfprobe.ErrNoRawSocket):
		p.noRaw = true
		return nil, noRawError
	case err != nil:
		return nil, err.Error()
	case res.Reply == selfprobe.ReplyNone:
		return res, noAnswer(res.Target, p.timeout)
	}
	return res, ""
}

func onPorts(ls []sockdiag.Listener, ports []uint16) []sockdiag.Listener {
	if len(ports) == 0 {
		return ls
	}
	return slices.DeleteFunc(ls, func(l sockdiag.Listener) bool { return !slices.Contains(ports, l.Addr.Port()) })
}

// probeTarget is where the probe's SYN goes: the listener's own address,
// or loopback for a wildcard listener.
func probeTarget(ap netip.AddrPort) netip.AddrPort {
	a := ap.Addr()
	switch {
	case a == netip.IPv4Unspecified():
		a = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	case a == netip.IPv6Unspecified():
		a = netip.IPv6Loopback()
	}
	return netip.AddrPortFrom(a, ap.Port())
}

// who names a listener's owner for findings: "nginx (pid 812)", "nginx
// (pids 812, 813)", or "uid 33" when no process could be seen.
func who(l ListenerReport) string {
	if len(l.Processes) == 0 {
		return fmt.Sprintf("a process of uid %d", l.UID)
	}
	pids := make([]string, len(l.Processes))
	for i, p := range l.Processes {
		pids[i] = fmt.Sprint(p.PID)
	}
	word := "pid"
	if len(pids) > 1 {
		word = "pids"
	}
	return fmt.Sprintf("%s (%s %s)", l.Processes[0].Name, word, strings.Join(pids, ", "))
}

func processReports(ps []procs.Process) []ProcessReport {
	out := make([]ProcessReport, 0, len(ps))
	for _, p := range ps {
		out = append(out, ProcessReport{PID: p.PID, Name: p.Name})
	}
	slices.SortFunc(out, func(a, b ProcessReport) int { return a.PID - b.PID })
	return out
}

func probeReport(p *selfprobe.Result) *ProbeReport {
	return &ProbeReport{
		Method: p.Method, Target: p.Target.String(), Reply: p.Reply, TFO: p.TFO.String(),
		CookieLen: p.CookieLen, MPTCP: p.MPTCP, RTTMillis: float64(p.RTT.Microseconds()) / 1000,
	}
}

func hostReport(h sysinfo.Host, delta sysinfo.Counters, interval time.Duration) HostReport {
	hr := HostReport{
		Kernel:           h.Release,
		TCPFastOpen:      intPtr(h.TCPFastOpen),
		ServerBit:        h.TCPFastOpen.Known && h.ServerBit(),
		MPTCPEnabled:     intPtr(h.MPTCPEnabled),
		BlackholeTimeout: intPtr(h.BlackholeTimeout),
		TFOKey:           string(h.Key),
		Counters:         pick(h.Counters),
		Delta:            pick(delta),
		IntervalSeconds:  interval.Seconds(),
	}
	if hr.Counters == nil {
		hr.Counters = map[string]uint64{}
	}
	return hr
}

// pick keeps the TFO counters; nil stays nil.
func pick(c sysinfo.Counters) map[string]uint64 {
	if c == nil {
		return nil
	}
	out := map[string]uint64{}
	for _, name := range sysinfo.TFOCounters {
		if v, ok := c[name]; ok {
			out[name] = v
		}
	}
	return out
}

func intPtr(s sysinfo.Sysctl) *int {
	if !s.Known {
		return nil
	}
	return &s.Value
}

// noAnswer explains a self-probe without a SYN-ACK: a listener of this
// host answers its SYN unless something here drops it.
func noAnswer(target netip.AddrPort, timeout time.Duration) string {
	return fmt.Sprintf("no answer from %s within %v: a firewall rule of this host dropping SYNs to it (nft list ruleset), or a full SYN backlog (nstat TcpExtListenDrops)", target, timeout)
}
