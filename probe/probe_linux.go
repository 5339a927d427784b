package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/engine"
)

// target is one resolved HOST:PORT and the rounds planned for it.
type target struct {
	spec   string
	server netip.AddrPort
	iface  string
	rounds []*round
	notes  []string
	// failed is why the target could not be probed; nil when it was.
	failed error
}

// round is one planned connection: its socket exists (bound, so its port
// is known to the capture filter) before any packet is sent.
type round struct {
	RoundResult
	conn *conn
	// fastopen is false when an MPTCP client kernel could not send TFO.
	fastopen bool
}

func run(ctx context.Context, cfg Config) (*Result, error) {
	if err := checkClientTFO(); err != nil {
		return nil, err
	}
	targets, failed := plan(ctx, cfg)
	defer closeAll(targets)
	if len(targets) == 0 {
		return nil, joinFailures(failed)
	}
	res := &Result{Method: MethodTCPInfo}
	live, err := openCapture(cfg, targets)
	switch {
	case err != nil && cfg.Capture == CaptureRequired:
		return nil, err
	case err != nil:
		res.Warnings = append(res.Warnings, fmt.Sprintf("no capture (%v): the evidence is the kernel's account of each connection (TCP_INFO, tcp_metrics), not its packets", capture.RootCause(err)))
	case live != nil:
		defer live.Close()
		res.Method, res.Interface = MethodCapture, live.Name()
	}
	// Attempts inferred from the kernel's account have no frames to list.
	keep := -1
	if live != nil {
		keep = cfg.MaxAttempts
	}
	coll := analyze.NewCollector(keep)
	j, err := startJudging(ctx, cfg, live, coll)
	if err != nil {
		return nil, err
	}
	// A target that cannot be probed does not stop the others.
	for _, t := range targets {
		if t.failed = t.probe(ctx, cfg); t.failed != nil {
			if ctx.Err() != nil {
				j.finish()
				return nil, t.failed
			}
			failed = append(failed, t.failed)
		}
	}
	if res.Engine, err = j.finish(); err != nil {
		return nil, err
	}
	feed := &kernelFeed{coll: coll}
	for _, t := range targets {
		if t.failed == nil {
			res.Targets = append(res.Targets, t.result(j.seen, live != nil, feed))
		}
	}
	if len(res.Targets) == 0 {
		return nil, joinFailures(failed)
	}
	res.Failed = failed
	res.frameLabels = feed.labels
	res.Summary = coll.Summary()
	return res, nil
}

func closeAll(targets []*target) {
	for _, t := range targets {
		for _, r := range t.rounds {
			if r.conn != nil {
				r.conn.close()
			}
		}
	}
}

// judging is the engine judging the probe's capture while the rounds run;
// without a capture it does nothing.
type judging struct {
	live *capture.Live
	done chan struct{}
	res  *engine.Result
	err  error
	// seen holds each judged attempt by its flow; read it after finish.
	seen map[flow]analyze.Attempt
}

func startJudging(ctx context.Context, cfg Config, live *capture.Live, coll *analyze.Collector) (*judging, error) {
	j := &judging{live: live, seen: map[flow]analyze.Attempt{}}
	if live == nil {
		return j, nil
	}
	ecfg := engine.Config{Sink: coll, ReplyTimeout: cfg.Timeout + time.Second}
	ecfg.OnAttempt = func(a *analyze.Attempt) { j.seen[flow{a.Client.Port(), a.Server}] = a.Clone() }
	if cfg.NewEvidence != nil {
		var err error
		if ecfg.Evidence, err = cfg.NewEvidence(live.LinkType(), live.Snaplen()); err != nil {
			return nil, err
		}
	}
	j.done = make(chan struct{})
	go func() {
		defer close(j.done)
		j.res, j.err = engine.Live(ctx, live, ecfg)
	}()
	return j, nil
}

// finish ends the capture once what the kernel holds is read, and waits
// for the engine to judge it. Every round's SYN-ACK is in the kernel's
// buffer by then: the tap sees a packet before the socket does.
func (j *judging) finish() (*engine.Result, error) {
	if j.live == nil {
		return nil, nil
	}
	j.live.Stop()
	<-j.done
	return j.res, j.err
}

// flow names a probe connection as the engine reports its attempt.
type flow struct {
	clientPort uint16
	server     netip.AddrPort
}

// checkClientTFO refuses to probe when the client bit of
// net.ipv4.tcp_fastopen is off: no SYN would ask for a cookie. It never
// changes the sysctl.
func checkClientTFO() error {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_fastopen")
	if err != nil {
		return nil // cannot tell; the rounds will show it
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || v&1 != 0 {
		return nil
	}
	return fmt.Errorf("the client side of TCP Fast Open is off here (net.ipv4.tcp_fastopen = %d): turn it on with sysctl -w net.ipv4.tcp_fastopen=%d", v, v|1)
}

// plan resolves the targets and makes the sockets of their rounds; failed
// says why the targets left out cannot be probed (unknown host, no route).
func plan(ctx context.Context, cfg Config) (targets []*target, failed []error) {
	for _, spec := range cfg.Targets {
		server, others, err := resolve(ctx, spec)
		if err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", spec, err))
			continue
		}
		t := &target{spec: spec, server: server}
		if others > 0 {
			t.notes = append(t.notes, fmt.Sprintf("the name has %d more address(es); the probe asked %s (give an address to probe another)", others, server.Addr()))
		}
		if t.iface, err = routeInterface(server.Addr()); err != nil {
			failed = append(failed, fmt.Errorf("%s: no route to %s (%v)", spec, server.Addr(), err))
			continue
		}
		targets = append(targets, t)
		for _, rd := range cfg.Rounds {
			r := &round{RoundResult: RoundResult{Round: rd, Cache: "unknown"}}
			t.rounds = append(t.rounds, r)
			r.conn, r.Err = newConn(server, rd == RoundMPTCP)
			if r.conn != nil {
				r.Client = r.conn.local
			}
		}
	}
	return targets, failed
}

// joinFailures is one line for targets none of which could be probed.
func joinFailures(failed []error) error {
	if len(failed) == 1 {
		return failed[0]
	}
	msgs := make([]string, len(failed))
	for i, err := range failed {
		msgs[i] = err.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

// resolve turns HOST:PORT into an address, the first the resolver gives,
// and says how many others it gave.
func resolve(ctx context.Context, spec string) (server netip.AddrPort, others int, err error) {
	host, port, err := net.SplitHostPort(spec)
	if err != nil {
		return server, 0, fmt.Errorf("want HOST:PORT ([IPv6]:PORT): %v", strings.TrimPrefix(err.Error(), "address "+spec+": "))
	}
	p, err := net.DefaultResolver.LookupPort(ctx, "tcp", port)
	if err != nil || p == 0 {
		return server, 0, fmt.Errorf("bad port %q", port)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap().WithZone(a.Zone()), uint16(p)), 0, nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return server, 0, fmt.Errorf("unknown host %q", host)
	}
	return netip.AddrPortFrom(addrs[0].Unmap(), uint16(p)), len(addrs) - 1, nil
}

// openCapture opens libpcap on the interface the targets are routed
// through ("any" when they differ), filtered to the rounds' 5-tuples.
func openCapture(cfg Config, targets []*target) (*capture.Live, error) {
	if cfg.Capture == CaptureOff {
		return nil, nil
	}
	iface := ""
	var terms []string
	for _, t := range targets {
		if iface == "" {
			iface = t.iface
		} else if iface != t.iface {
			iface = "any"
		}
		for _, r := range t.rounds {
			if r.conn != nil {
				terms = append(terms, fmt.Sprintf("(host %s and port %d and port %d)", t.server.Addr().WithZone(""), t.server.Port(), r.conn.local.Port()))
			}
		}
	}
	if len(terms) == 0 {
		return nil, errors.New("no round could make a socket")
	}
	return capture.OpenLive(capture.LiveConfig{Interface: iface, Filter: strings.Join(terms, " or ")})
}

// probe runs the target's rounds in order. When the first connection
// fails (refused, filtered, unreachable) the probe ends with one line.
func (t *target) probe(ctx context.Context, cfg Config) error {
	connected := false
	for _, r := range t.rounds {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.conn == nil {
			t.notes = append(t.notes, fmt.Sprintf("round %s: %v", r.Round, r.Err))
			continue
		}
		err := t.connect(r, cfg)
		r.conn.close()
		switch {
		case err == nil:
			connected = true
		case !connected:
			// The first connection tells whether the target can be
			// probed at all; a later failure is what that round saw.
			return fmt.Errorf("%s: %v", t.spec, err)
		default:
			t.notes = append(t.notes, fmt.Sprintf("round %s: %v", r.Round, err))
		}
	}
	return nil
}

// connect makes the round's connection and reads the kernel's account of
// it: the cookie cache before and after, TCP_INFO, MPTCP_INFO.
func (t *target) connect(r *round, cfg Config) error {
	if r.Round == RoundData {
		r.Cache = cacheState(t.server.Addr()) // the cookie the request got
	} else {
		r.Cache = t.freshCache()
	}
	start := time.Now()
	var err error
	r.Kernel.SYNData, r.fastopen, err = r.conn.connect(cfg.Payload, cfg.Timeout)
	r.Handshake = time.Since(start)
	if err != nil {
		r.Err = err
		return err
	}
	if sa, err := unix.Getsockname(r.conn.fd); err == nil {
		r.Client = addrPort(sa) // the address the kernel chose
	}
	r.Kernel.FastopenClientFail = "unknown"
	if err := r.conn.tcpInfo(&r.Kernel); err != nil && r.Round != RoundMPTCP {
		t.notes = append(t.notes, fmt.Sprintf("round %s: TCP_INFO: %v", r.Round, err))
	}
	if r.Round == RoundMPTCP {
		status := r.conn.mptcpStatus()
		if r.MPTCP = mptcpAfter(status, r.Kernel); r.MPTCP != status {
			t.notes = append(t.notes, "round mptcp: the server did not ack the SYN data and the client fell back to TCP when it resent it, so without packets the probe cannot tell whether the listener is MPTCP (run as root to capture its SYN-ACK)")
		}
		if !r.fastopen {
			t.notes = append(t.notes, "this client's kernel cannot use TFO on MPTCP sockets (Linux < 6.2): the MPTCP round asked for no cookie, it only shows whether the listener is MPTCP")
		}
	}
	if has, err := cachedCookie(t.server.Addr()); err == nil {
		r.Kernel.CookieAfter, r.Kernel.CookieKnown = has, true
	}
	return nil
}

// freshCache empties the kernel's cookie cache for the server when
// allowed and says what the round starts from.
func (t *target) freshCache() string {
	addr := t.server.Addr()
	has, err := cachedCookie(addr)
	if err != nil {
		return "unknown"
	}
	if !has {
		return "empty"
	}
	if err := forgetCookie(addr); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.addNote(fmt.Sprintf("the kernel held a cookie for %s and the probe may not delete it (CAP_NET_ADMIN; as root: ip tcp_metrics delete %s): rounds that should ask for a cookie sent it with data", addr, addr))
		} else {
			t.addNote(fmt.Sprintf("deleting the cached cookie for %s failed: %v", addr, err))
		}
		return "cookie"
	}
	return "cleared"
}

func cacheState(addr netip.Addr) string {
	has, err := cachedCookie(addr)
	switch {
	case err != nil:
		return "unknown"
	case has:
		return "cookie"
	}
	return "empty"
}

func (t *target) addNote(n string) {
	for _, have := range t.notes {
		if have == n {
			return
		}
	}
	t.notes = append(t.notes, n)
}

// mptcpAfter corrects what MPTCP_INFO said of the MPTCP round for the
// client's own fallback: a client whose SYN data the server did not ack
// falls back to TCP when it retransmits the data (nstat
// MPTcpExtMPCapableDataFallback), after an MP_CAPABLE SYN-ACK too. So
// "no" then says nothing of the listener; only the packets could.
func mptcpAfter(status string, k Kernel) string {
	if status == "no" && k.SYNData && !k.SYNDataAcked {
		return "unknown"
	}
	return status
}
