package analyze

import (
	"fmt"
	"net/netip"
	"slices"
)

// clientStats is what capture-wide findings need of one client IP: a few
// frames, never a list of attempts, so memory grows with clients only.
// Attempts arrive in no particular order, so each field keeps an extreme
// (earliest or latest) that does not depend on it.
type clientStats struct {
	// timedOut is the latest TFO SYN retransmitted blackholeRetransmits
	// times or more with no answer to it (unanswered, or answered only
	// after a plain retry): the timeouts Linux's active-TFO blackhole
	// detection counts. Valid iff timedOut.at.Frame != 0.
	timedOut evidence
	// timedOutEnd is the time of timedOut's last copy; retransmits its count.
	timedOutEnd int64
	retransmits int
	// lastTFO is when the latest attempt whose SYN offered TFO began.
	lastTFO int64
	// lastPlain and prevPlain are the two latest SYNs without TFO; each
	// valid iff its at.Frame != 0.
	lastPlain, prevPlain evidence
}

// blackholeRetransmits is how many retransmissions of an unanswered TFO SYN
// show that Linux's detection ran: the SYN timer's third firing sees two
// retransmissions out (icsk_retransmits == 2), counts the blackhole
// (tcp_fastopen_active_detect_blackhole) and sends the third. With only
// two, the application may have given up before that firing.
const blackholeRetransmits = 3

// maxTrackedClients bounds the client table (about 200 bytes a client,
// 13 MB when full), so that a capture of a million clients (a SYN flood, a
// busy edge) stays in bounded memory; attempts from clients beyond it
// still count everywhere else.
const maxTrackedClients = 1 << 16

// noteClient records what a's client shows about the capture as a whole.
func (c *Collector) noteClient(a *Attempt) {
	switch {
	case a.SYN.Truncated:
		c.unknownSYNs++
		return
	case a.SYN.TFO.State != TFONone:
		c.tfoSYNs++
	}
	cl := c.client(a.Client.Addr())
	if cl == nil {
		c.untrackedClients++
		return
	}
	if a.SYN.TFO.State == TFONone {
		cl.notePlain(evidence{a.Server, a.SYN.PacketRef})
		return
	}
	cl.lastTFO = max(cl.lastTFO, a.SYN.Time)
	timedOut := a.Outcome == Unanswered || a.Outcome == Fallback
	if timedOut && a.SYN.Retransmits >= blackholeRetransmits && a.SYN.last > cl.timedOutEnd {
		cl.timedOut = evidence{a.Server, a.SYN.PacketRef}
		cl.timedOutEnd, cl.retransmits = a.SYN.last, a.SYN.Retransmits
	}
}

// client returns the stats of addr, new ones if it has none yet, or nil
// when the table is full.
func (c *Collector) client(addr netip.Addr) *clientStats {
	if cl, ok := c.latestClients.get(addr); ok {
		return cl
	}
	cl := c.clients[addr]
	if cl == nil {
		if len(c.clients) >= maxTrackedClients {
			return nil
		}
		cl = new(clientStats)
		c.clients[addr] = cl
	}
	c.latestClients.put(addr, cl)
	return cl
}

// notePlain keeps p if it is one of the two latest plain SYNs.
func (cl *clientStats) notePlain(p evidence) {
	switch {
	case !cl.lastPlain.valid() || refBefore(cl.lastPlain.at, p.at):
		cl.prevPlain, cl.lastPlain = cl.lastPlain, p
	case !cl.prevPlain.valid() || refBefore(cl.prevPlain.at, p.at):
		cl.prevPlain = p
	}
}

// clientWarnings says when the client findings saw only some clients.
func (c *Collector) clientWarnings() []string {
	if c.untrackedClients == 0 {
		return nil
	}
	return []string{fmt.Sprintf("more than %d client IPs: client-blackhole considers the first %d only "+
		"(%d attempts from later clients not examined for it)", maxTrackedClients, maxTrackedClients, c.untrackedClients)}
}

// captureFindings are the top-level findings, in display order.
func (c *Collector) captureFindings(attempts int) []CaptureFinding {
	f := c.blackholes()
	if attempts > 0 && c.tfoSYNs == 0 && c.unknownSYNs == 0 {
		f = append(f, CaptureFinding{
			ID: FindNoTFOClients,
			Text: fmt.Sprintf("No SYN in the capture asked for TFO (%d attempts): nothing here "+
				"can show whether servers do TFO. Clients need the client bit 0x1 of sysctl "+
				"net.ipv4.tcp_fastopen and an application that uses TFO (`curl --tcp-fastopen`; "+
				"sendto with MSG_FASTOPEN or TCP_FASTOPEN_CONNECT in code).", attempts),
			Servers: []string{},
			Clients: []string{},
		})
	}
	return f
}

// blackholes finds clients whose TFO SYNs timed out and whose SYNs since
// all go without TFO: Linux's active-TFO blackhole detection turns TFO off
// for the whole network namespace, to every server.
func (c *Collector) blackholes() []CaptureFinding {
	var addrs []netip.Addr
	for addr, cl := range c.clients {
		if cl.blackholed() {
			addrs = append(addrs, addr)
		}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	f := []CaptureFinding{}
	for _, addr := range addrs {
		cl := c.clients[addr]
		servers := []string{FormatAddr(cl.timedOut.server)}
		if cl.lastPlain.server != cl.timedOut.server {
			servers = append(servers, FormatAddr(cl.lastPlain.server))
		}
		f = append(f, CaptureFinding{
			ID:      FindClientBlackhole,
			Text:    c.blackholeText(addr, cl),
			Servers: servers,
			Clients: []string{addr.String()},
		})
	}
	return f
}

// blackholed reports whether the client offered TFO, its TFO SYNs timed
// out, and it sent only plain SYNs after that, at least two: one plain SYN
// may just be an application that never asked for TFO.
func (cl *clientStats) blackholed() bool {
	return cl.timedOut.valid() && cl.prevPlain.valid() &&
		cl.prevPlain.at.Time > cl.timedOutEnd && cl.lastTFO <= cl.timedOutEnd
}

func (c *Collector) blackholeText(addr netip.Addr, cl *clientStats) string {
	granted := ""
	if s := c.servers.lookup(cl.lastPlain.server); s != nil && s.grant.Frame != 0 {
		granted = fmt.Sprintf(", which grants cookies (%s)", frameName(s.grant))
	}
	return fmt.Sprintf("Client %s offered TFO until its TFO SYN to %s (%s) went unanswered "+
		"through %d retransmissions; its SYNs since are all plain: %s and, the latest, %s to %s%s. Linux's "+
		"active-TFO blackhole detection turned TFO off on that client, to every server "+
		"(net.ipv4.tcp_fastopen_blackhole_timeout_sec > 0; counted in "+
		"TcpExtTCPFastOpenBlackhole, see `nstat -az TcpExtTCPFastOpenBlackhole`), unless those "+
		"plain SYNs come from applications that never ask for TFO: packets cannot tell. It stays off "+
		"for that timeout, doubled on each new detection; fix what drops the TFO SYNs, or set "+
		"the sysctl to 0 to turn detection off.",
		addr, FormatAddr(cl.timedOut.server), cl.timedOut.frame(), cl.retransmits,
		cl.prevPlain.frame(), cl.lastPlain.frame(), FormatAddr(cl.lastPlain.server), granted)
}
