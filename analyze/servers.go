package analyze

import "net/netip"

// The per-server table is bounded, so that a scan of a million servers
// costs megabytes, not gigabytes (2^20 servers took 1.6 GB and a 292 MiB
// report):
//   - servers without any TFO attempt (only plain SYNs, or only SYN-ACKs
//     without SYN) are counted in the report's unlisted_servers, not listed,
//     unless Collector.AllServers is set;
//   - at most MaxServers servers are listed; the ones seen after are
//     aggregated into one row named OtherServers;
//   - tfopcap tells apart at most maxTrackedServers servers. Beyond them,
//     attempts still count in the totals, in the "other" row (TFO) or in
//     unlisted_servers (plain), but the numbers of servers there are lower
//     bounds (ServerLimits.Untracked says so).
const (
	// DefaultMaxServers lists enough servers for any one site's capture;
	// a scan's rows beyond it go into "other" (a row takes about 500 bytes
	// of JSON: 1000 rows, half a megabyte).
	DefaultMaxServers = 1000
	// OtherServers names the row that aggregates servers beyond MaxServers.
	OtherServers = "other"
	// maxTrackedServers bounds the index of servers: 24 bytes each, about
	// 10 MB when full, with a plain entry of 24 bytes for each server
	// without TFO attempts.
	maxTrackedServers = 1 << 18
)

// serverKey is a server address in flat bytes: hashed as one block, no
// pointer for the garbage collector to scan (see flowKey).
type serverKey struct {
	addr [16]byte
	port uint16
	is4  bool
}

func newServerKey(ap netip.AddrPort) serverKey {
	return serverKey{addr: ap.Addr().As16(), port: ap.Port(), is4: ap.Addr().Is4()}
}

// Where a tracked server's counts are, in serverTable.index: a listed
// server's index in listed (>= 0), the "other" row, or -2-i for plain[i].
const inOther = -1

// plainStats counts a server without TFO attempts, compactly: only what
// such attempts can have.
type plainStats struct {
	plain, refused, unanswered uint32
	orphans                    uint32
	mptcpSYN, mptcpSYNACK      uint32
}

// addTo merges p into s, when the server turns out to use TFO.
func (p *plainStats) addTo(s *serverStats) {
	s.outcomes[Plain] += int(p.plain)
	s.outcomes[Refused] += int(p.refused)
	s.outcomes[Unanswered] += int(p.unanswered)
	s.orphans += int(p.orphans)
	s.mptcp.SYN += int(p.mptcpSYN)
	s.mptcp.SYNACK += int(p.mptcpSYNACK)
}

// serverTable holds the per-server counts under the bounds above. Its zero
// value is an empty table listing DefaultMaxServers.
type serverTable struct {
	index  map[serverKey]int32
	listed []listedServer
	plain  []plainStats
	other  serverStats
	// otherServers and unlisted count the servers in other and plain;
	// untracked counts attempts and orphans of servers beyond
	// maxTrackedServers (TFO ones go to other, plain ones to untrackedPlain).
	otherServers   int
	untracked      int
	untrackedPlain plainStats
	maxServers     int
	all            bool
}

type listedServer struct {
	addr  netip.AddrPort
	stats serverStats
}

// usesTFO reports whether a's SYN or reply had a TFO option, or snaplen
// hid whether they had: what makes a server worth a row of its own.
func usesTFO(a *Attempt) bool {
	return a.SYN.TFO.State != TFONone || a.SYN.MalformedCopy || a.Reply.TFO.State != TFONone || a.Truncated()
}

// full returns the full counts for ap, making it a listed server (or one
// aggregated into "other") if it was not, with any plain counts it had.
func (t *serverTable) full(ap netip.AddrPort) *serverStats {
	if t.index == nil {
		t.index = make(map[serverKey]int32)
	}
	key := newServerKey(ap)
	i, ok := t.index[key]
	switch {
	case ok && i >= 0:
		return &t.listed[i].stats
	case ok && i == inOther:
		return &t.other
	case !ok && len(t.index) >= maxTrackedServers:
		t.untracked++
		return &t.other
	}
	var s *serverStats
	if len(t.listed) < t.maxServersOr() {
		t.index[key] = int32(len(t.listed))
		t.listed = append(t.listed, listedServer{addr: ap})
		s = &t.listed[len(t.listed)-1].stats
	} else {
		t.index[key] = inOther
		t.otherServers++
		s = &t.other
	}
	if ok { // it was plain: its counts come along
		p := &t.plain[-2-i]
		p.addTo(s)
		*p = plainStats{} // the slot stays, unindexed: no compaction
	}
	return s
}

func (t *serverTable) maxServersOr() int {
	if t.maxServers == 0 {
		return DefaultMaxServers
	}
	return t.maxServers
}

// lookup returns the full counts of ap when it has a row of its own, or
// nil; it adds nothing.
func (t *serverTable) lookup(ap netip.AddrPort) *serverStats {
	if i, ok := t.index[newServerKey(ap)]; ok && i >= 0 {
		return &t.listed[i].stats
	}
	return nil
}

// plainFor returns the compact counts of ap, a server without TFO attempts
// so far; nil when it has full counts (then full applies).
func (t *serverTable) plainFor(ap netip.AddrPort) *plainStats {
	if t.index == nil {
		t.index = make(map[serverKey]int32)
	}
	key := newServerKey(ap)
	i, ok := t.index[key]
	switch {
	case ok && i <= -2:
		return &t.plain[-2-i]
	case ok:
		return nil
	case len(t.index) >= maxTrackedServers:
		t.untracked++
		return &t.untrackedPlain
	}
	t.index[key] = int32(-2 - len(t.plain))
	t.plain = append(t.plain, plainStats{})
	return &t.plain[len(t.plain)-1]
}

// attempt counts a finalised attempt.
func (t *serverTable) attempt(a *Attempt) {
	if t.all || usesTFO(a) {
		t.full(a.Server).count(a)
		return
	}
	p := t.plainFor(a.Server)
	if p == nil {
		t.full(a.Server).count(a)
		return
	}
	switch {
	case a.Outcome == Refused:
		p.refused++
	case a.Outcome == Unanswered:
		p.unanswered++
	default:
		p.plain++
	}
	if a.SYN.MPTCP.Present {
		p.mptcpSYN++
	}
	if a.Reply.MPTCP.Present {
		p.mptcpSYNACK++
	}
}

// orphan counts a SYN-ACK without SYN.
func (t *serverTable) orphan(ap netip.AddrPort) {
	if t.all {
		t.full(ap).orphans++
		return
	}
	if p := t.plainFor(ap); p != nil {
		p.orphans++
		return
	}
	t.full(ap).orphans++
}

// count adds one finalised attempt to s.
func (s *serverStats) count(a *Attempt) {
	if a.Truncated() && a.Outcome != Refused && a.Outcome != Unanswered {
		s.truncated++
		return
	}
	s.outcomes[a.Outcome]++
	if usesTFO(a) {
		s.timeline.Add(a.SYN.Time, ClassOf(a.Outcome))
	}
	s.change.add(a)
	s.noteEvidence(a)
	s.vantage.add(a)
	if a.SYN.MPTCP.Present {
		s.mptcp.SYN++
	}
	if a.Reply.MPTCP.Present {
		s.mptcp.SYNACK++
		if a.Outcome.Omits() {
			s.mptcpOmitting++
		}
	}
	switch a.SYN.TFO.Kind {
	case optFastOpen:
		s.tfoKinds[0]++
	case optExperimental:
		s.tfoKinds[1]++
	case optExperimental2:
		s.tfoKinds[2]++
	}
}

// Unlisted sums the servers without TFO attempts that a report does not
// list (see serverTable).
type Unlisted struct {
	// Servers counts them; a lower bound past maxTrackedServers.
	Servers  int
	Attempts int
	Outcomes OutcomeCounts
	// Orphans counts SYN-ACKs whose SYN the capture lacks.
	Orphans int
}

// unlisted sums the plain servers.
func (t *serverTable) unlisted() *Unlisted {
	var s serverStats
	n := 0
	for i := range t.plain {
		if p := &t.plain[i]; *p != (plainStats{}) {
			p.addTo(&s)
			n++
		}
	}
	t.untrackedPlain.addTo(&s)
	if n == 0 && s.outcomes.Total() == 0 && s.orphans == 0 {
		return nil
	}
	return &Unlisted{Servers: n, Attempts: s.outcomes.Total(), Outcomes: s.outcomes, Orphans: s.orphans}
}
