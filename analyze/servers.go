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
	// latest remembers where the two servers looked up last have their
	// full counts (an index in listed, or inOther), so that most attempts
	// skip the index: an entry never goes stale, as full counts keep
	// their place.
	latest latestTwo[netip.AddrPort, int32]
}

// latestTwo remembers the values of the last two keys put in it. A
// capture's attempts come from a few clients to a few servers, interleaved
// (the IPv4 and IPv6 half of one test), and comparing two netip values
// costs a few instructions where a map's hash, probe and key compare cost
// 170-240 (callgrind, real handshake capture). Its zero value is empty.
type latestTwo[K comparable, V any] struct {
	key [2]K
	val [2]V
	set [2]bool
}

func (l *latestTwo[K, V]) get(k K) (v V, ok bool) {
	switch {
	case l.set[0] && l.key[0] == k:
		return l.val[0], true
	case l.set[1] && l.key[1] == k:
		return l.val[1], true
	}
	return v, false
}

// put makes k the latest key; the one before stays, second.
func (l *latestTwo[K, V]) put(k K, v V) {
	l.key[1], l.val[1], l.set[1] = l.key[0], l.val[0], l.set[0]
	l.key[0], l.val[0], l.set[0] = k, v, true
}

type listedServer struct {
	addr  netip.AddrPort
	stats serverStats
}

// UsesTFO reports whether a's SYN or reply had a TFO option, or snaplen
// hid whether they had: what makes a server worth a row of its own.
func (a *Attempt) UsesTFO() bool {
	return a.SYN.TFO.State != TFONone || a.SYN.MalformedCopy || a.Reply.TFO.State != TFONone || a.Truncated()
}

// Counted reports whether a counts in its server's outcomes (and so in
// verdicts): an attempt whose options snaplen cut is counted apart, as
// truncated, unless it was refused or unanswered, which needs no option.
func (a *Attempt) Counted() bool {
	return !a.Truncated() || a.Outcome == Refused || a.Outcome == Unanswered
}

// full returns the full counts for ap, making it a listed server (or one
// aggregated into "other") if it was not, with any plain counts it had.
func (t *serverTable) full(ap netip.AddrPort) *serverStats { return t.stats(t.fullIndex(ap)) }

// stats returns the counts at i, an index in listed or inOther.
func (t *serverTable) stats(i int32) *serverStats {
	if i >= 0 {
		return &t.listed[i].stats
	}
	return &t.other
}

// fullIndex is full, returning where the counts are: ap's index in
// listed, or inOther.
func (t *serverTable) fullIndex(ap netip.AddrPort) int32 {
	if i, ok := t.latest.get(ap); ok {
		return i
	}
	if t.index == nil {
		t.index = make(map[serverKey]int32)
	}
	key := newServerKey(ap)
	i, ok := t.index[key]
	switch {
	case ok && i >= inOther:
		t.latest.put(ap, i)
		return i
	case !ok && len(t.index) >= maxTrackedServers:
		t.untracked++ // counted once per attempt: not remembered
		return inOther
	}
	plain := i
	if len(t.listed) < t.maxServersOr() {
		i = int32(len(t.listed))
		t.listed = append(t.listed, listedServer{addr: ap})
	} else {
		i = inOther
		t.otherServers++
	}
	t.index[key] = i
	if ok { // it was plain: its counts come along
		p := &t.plain[-2-plain]
		p.addTo(t.stats(i))
		*p = plainStats{} // the slot stays, unindexed: no compaction
	}
	t.latest.put(ap, i)
	return i
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

// attempt counts a finalised attempt. It returns the server's index in
// listed when the attempt switched its deciding outcomes (change.go),
// else -1; never for the "other" row, whose runs mix servers.
func (t *serverTable) attempt(a *Attempt) (switched int) {
	if t.all || a.UsesTFO() {
		return t.countFull(a)
	}
	if _, ok := t.latest.get(a.Server); ok {
		return t.countFull(a) // a plain attempt to a server with full counts
	}
	p := t.plainFor(a.Server)
	if p == nil {
		return t.countFull(a)
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
	return -1
}

func (t *serverTable) countFull(a *Attempt) int {
	i := t.fullIndex(a.Server)
	if t.stats(i).count(a) && i >= 0 {
		return int(i)
	}
	return -1
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

// count adds one finalised attempt to s, and reports whether it switched
// the deciding outcomes.
func (s *serverStats) count(a *Attempt) (switched bool) {
	if !a.Counted() {
		s.truncated++
		return false
	}
	s.outcomes[a.Outcome]++
	if a.UsesTFO() {
		s.timeline.Add(a.SYN.Time, ClassOf(a.Outcome))
	}
	switched = s.change.add(a) > 0
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
	return switched
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
