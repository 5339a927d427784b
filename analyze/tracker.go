package analyze

import (
	"cmp"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"
)

// PacketRef says where a segment was captured.
type PacketRef struct {
	Input     int   // index of the input (file) the frame came from
	Frame     int   // 1-based frame number within that input
	Interface int64 // capture interface within the input: see PackInterface
	Time      int64 // nanoseconds since the Unix epoch
}

// otherVantage reports whether r and o were captured at different vantage
// points: another input, or another interface of the same input. The
// pieces of one rotated capture are different inputs too, which is why
// this never tells a copy from a retransmission (transmissions.sighted
// does, by time); it only qualifies what a copy may prove.
func (r PacketRef) otherVantage(o PacketRef) bool {
	return r.Input != o.Input || r.Interface != o.Interface
}

// PackInterface makes PacketRef.Interface from where within an input a
// frame was captured: the pcapng section and interface (IDB), and the
// ifindex a Linux cooked v2 header names (tcpdump -i any), 0 when none.
func PackInterface(section, idb int, ifindex uint32) int64 {
	return int64(section)<<48 | int64(idb)<<32 | int64(ifindex)
}

// SplitInterface undoes PackInterface.
func SplitInterface(v int64) (section, idb int, ifindex uint32) {
	return int(v >> 48), int(v >> 32 & 0xffff), uint32(v)
}

// copyWindow is how close in time two sightings of a packet must be to
// be one transmission seen at two vantage points (a copy) rather than a
// retransmission. Linux resends a SYN after 1 s (TCP_TIMEOUT_INIT) and a
// SYN-ACK no sooner, and nothing sooner than its minimum RTO of 200 ms
// (TCP_RTO_MIN); 50 ms is a quarter of that, yet covers the path between
// vantage points on one site and the clock offset between NTP-synced
// capture hosts. Its limits (docs/report.md): captures taken on hosts
// whose clocks differ by more, or so far apart on the path that a packet
// takes longer to cross, see copies as retransmissions.
const copyWindow = 50e6

// Content comes before time where it can: when both sightings carry a TCP
// timestamp (every Linux SYN and SYN-ACK does), a different TSval is
// another send however close in time, and the same TSval, not 0, is the
// same send up to stampedCopyWindow apart, for capture hosts whose clocks
// differ by more than copyWindow. A later send always has a later TSval:
// RFC 7323 clocks tick at least once a second, and no SYN is resent
// sooner. A TSval of 0 (Windows clients send it) proves nothing.
const stampedCopyWindow = 500e6

// stamp is a segment's TCP timestamp value; valid iff ok.
type stamp struct {
	val uint32
	ok  bool
}

func stampOf(o *Options) stamp { return stamp{o.TSval, o.HasTS} }

// Sighting is one place a packet of an attempt was seen: PacketRef
// without the time, in 16 bytes, since an attempt keeps a dozen.
type Sighting struct {
	Interface int64 // as PacketRef.Interface
	Frame     uint32
	Input     uint16 // inputs past 65535 share the last number
	// Send numbers the transmission this is a sighting of: 0 the first,
	// n the nth retransmission; sightings of one send are copies.
	Send uint8
	// TFO is the TFO option this sighting carried.
	TFO TFOState
}

func sightingAt(ref PacketRef, send uint8, tfo TFOState) Sighting {
	return Sighting{Interface: ref.Interface, Frame: uint32(ref.Frame), Input: uint16(min(ref.Input, 0xffff)), Send: send, TFO: tfo}
}

// Ref returns where s was seen, without a time.
func (s Sighting) Ref() PacketRef {
	return PacketRef{Input: int(s.Input), Frame: int(s.Frame), Interface: s.Interface}
}

// sightings keeps the first few sightings of a packet: enough to follow
// a SYN and two retransmissions past two vantage points, and bounded.
type sightings struct {
	list [maxSightings]Sighting
	n    uint8
}

const maxSightings = 6

func (s *sightings) add(ref PacketRef, send uint8, tfo TFOState) {
	if int(s.n) < len(s.list) {
		s.list[s.n] = sightingAt(ref, send, tfo)
		s.n++
	}
}

// All returns the sightings kept, in the order they were fed.
func (s *sightings) All() []Sighting { return s.list[:s.n] }

// transmissions groups sightings into sends: a sighting within
// copyWindow of the latest send, with its data length, is a copy of it, a
// later one a new send. The length is the send's own, not the first's:
// Linux retries a TFO SYN with data as a SYN without, and that retry's
// copies at other vantage points are copies.
// Two sends within copyWindow of each other at one vantage point (a
// server answering a retransmitted SYN just as its own SYN-ACK timer
// fires) are taken for one: time cannot tell them apart.
type transmissions struct {
	sent int64 // when the latest send was first seen
	ts   stamp // its TCP timestamp
	// prev and prevTS are the send before: a copy of it may come after
	// the latest send in a file written from two interfaces at once.
	prev   int64
	prevTS stamp
	// dataLen and prevLen are the data lengths of those two sends.
	dataLen, prevLen int32
	// at lists the vantage points of the latest send.
	at    [maxVantages]vantagePoint
	n     uint8
	sends uint8 // sends seen after the first
	span  uint8 // most vantage points any one send was seen at
}

// vantagePoint is an input and an interface within it, hashed into one
// word: a collision (odds 2^-64) would only undercount vantage points.
type vantagePoint uint64

func vantageOf(ref PacketRef) vantagePoint {
	return vantagePoint(uint64(ref.Interface) ^ uint64(ref.Input)*0x9e3779b97f4a7c15)
}

// maxVantages bounds the vantage points counted per send.
const maxVantages = 3

func (t *transmissions) start(ref PacketRef, ts stamp, dataLen int) {
	*t = transmissions{sent: ref.Time, ts: ts, span: 1, n: 1, dataLen: int32(dataLen)}
	t.at[0] = vantageOf(ref)
}

// sameSend reports whether a sighting at time at with timestamp ts, and
// otherwise the same content (same), is a copy of a send first seen at
// sent with timestamp sentTS.
func sameSend(at int64, ts stamp, sent int64, sentTS stamp, same bool) bool {
	d := max(at-sent, sent-at)
	stamped := ts.ok && sentTS.ok
	switch {
	case !same || (stamped && ts.val != sentTS.val):
		return false
	case d <= copyWindow:
		return true
	}
	return stamped && ts.val != 0 && d <= stampedCopyWindow
}

// sighted files a sighting carrying dataLen bytes: it returns the number
// of the send it is a sighting of, and whether it is a copy of a send
// already seen.
func (t *transmissions) sighted(ref PacketRef, ts stamp, dataLen int) (send uint8, copied bool) {
	if sameSend(ref.Time, ts, t.sent, t.ts, int32(dataLen) == t.dataLen) {
		v := vantageOf(ref)
		if !slices.Contains(t.at[:t.n], v) && int(t.n) < len(t.at) {
			t.at[t.n] = v
			t.n++
			t.span = max(t.span, t.n)
		}
		return t.sends, true
	}
	if t.sends > 0 && sameSend(ref.Time, ts, t.prev, t.prevTS, int32(dataLen) == t.prevLen) {
		return t.sends - 1, true // a late copy of the send before
	}
	span, prev, prevTS, prevLen := t.span, t.sent, t.ts, t.dataLen
	t.sends = min(t.sends+1, 255)
	if ref.Time > t.sent {
		sends := t.sends
		t.start(ref, ts, dataLen)
		t.sends, t.span, t.prev, t.prevTS, t.prevLen = sends, span, prev, prevTS, prevLen
	}
	return t.sends, false
}

// SYNInfo describes an attempt's first client SYN, its copies and its
// retransmissions. The first retransmission that dropped the TFO option
// and the copy a middlebox stripped of it are Attempt.PlainRetry and
// Attempt.Stripped: only a SYN seen twice has either, so they live in the
// attempt's sighting log.
type SYNInfo struct {
	PacketRef
	TFO     TFOOption
	MPTCP   MPTCPOption
	DataLen int
	// Retransmits counts later sends by the client, wherever seen: in
	// the next file of a rotation, another pcapng section, or another
	// interface.
	Retransmits int
	// Duplicates counts copies: a send seen again, near-simultaneously,
	// at another vantage point (or twice at one, as loopback captures do).
	Duplicates int
	// MalformedCopy is set when any copy carried a malformed TFO option.
	MalformedCopy bool
	// Truncated is set when snaplen cut the options of the first copy.
	Truncated bool
	// Fragmented is set when the first copy was the first fragment of an
	// IP datagram: DataLen is then what that fragment held, a lower
	// bound, and the SYN certainly carried data.
	Fragmented bool
	ts         stamp // of the first sighting
	last       int64 // time of the latest copy
}

// maxFragmentedData bounds the SYN data a fragmented SYN may have had: an
// IP datagram's limit.
const maxFragmentedData = 65535

// maxData is the most SYN data a reply may acknowledge.
func (s *SYNInfo) maxData() int {
	if s.Fragmented {
		return maxFragmentedData
	}
	return s.DataLen
}

// hasData reports whether the SYN carried data.
func (s *SYNInfo) hasData() bool { return s.DataLen > 0 || s.Fragmented }

// ReplyKind says how the server answered.
type ReplyKind uint8

const (
	ReplySYNACK ReplyKind = iota + 1
	ReplyRST
)

func (k ReplyKind) String() string {
	switch k {
	case ReplySYNACK:
		return "syn-ack"
	case ReplyRST:
		return "rst"
	}
	return "none"
}

// ReplyInfo describes the server's answer to an attempt. (Its fields of
// a byte or few sit together: 88 bytes, not 96.)
type ReplyInfo struct {
	PacketRef
	Kind ReplyKind // 0 while unanswered
	// Truncated is set when snaplen cut the reply's options.
	Truncated bool
	TFO       TFOOption
	MPTCP     MPTCPOption
	ts        stamp // of the first sighting
	// AckedData is how many bytes of SYN data the reply acknowledges.
	AckedData int
	// Copies counts further sightings of the reply (retransmitted
	// SYN-ACKs, or the same packet at another vantage point).
	Copies int
}

// Attempt is one client SYN keyed by (client, server, ISN) with the
// server's answer. The tracker reuses Attempts: a finalised Attempt handed
// to the Sink is valid only during the call. (Its fields are ordered to
// leave no padding: 304 bytes, the arena's largest part. What only an
// attempt seen twice has, such as the plain retry and the stripped
// copy, lives in its sighting logs.)
type Attempt struct {
	// ID numbers attempts from 1 in the order their first SYN was seen;
	// it stays unique while the Attempt value itself is reused.
	ID             uint64
	Client, Server netip.AddrPort
	ISN            uint32
	idx            int32 // number in Tracker.arena
	SYN            SYNInfo
	Reply          ReplyInfo
	Outcome        Outcome

	// newer says a newer open attempt on the same flow has a as its prev:
	// a is not the head of its chain in Tracker.open.
	newer bool
	queue uint8 // where in Tracker.expiry its entry is while open
	// hash is the flow's (Client, Server), made once from the first SYN,
	// for Tracker.open.
	hash uint32
	prev *Attempt // older open attempt on the same flow
	// log is set once a packet of the attempt was seen a second time,
	// and replies once the reply was.
	log     *sightingLog
	replies *replyLog
}

// sightingLog is what an attempt seen more than once keeps: where its
// SYN was seen, how the sightings group into sends, and the flow a NAT
// rewrote it to. Most attempts are seen once per packet, at one vantage
// point, and never need one: it lives apart, from the tracker's free
// list, so that an Attempt stays small. The reply's part is a replyLog
// of its own: most attempts seen twice are SYNs seen twice (sent again
// to a server that does not answer, or copied at two vantage points)
// whose reply, if any, came once, and a log without it is 264 bytes,
// not 440.
type sightingLog struct {
	syn      sightings
	synSends transmissions
	// plainRetry and stripped are Attempt.PlainRetry's and
	// Attempt.Stripped's.
	plainRetry PacketRef
	stripped   Sighting
	// alias is the flow on which a copy of the SYN was seen with its
	// addresses or ports rewritten (NAT between two vantage points);
	// valid iff aliased.
	alias   flowKey
	aliased bool
}

// replyLog is where an attempt's reply was seen, once it was seen a
// second time, and how those sightings group into sends.
type replyLog struct {
	reply sightings
	sends transmissions
}

// Clone returns a copy of a that stays valid after the Sink call returns:
// the tracker reuses an Attempt and its sighting logs.
func (a *Attempt) Clone() Attempt {
	c := *a
	c.prev = nil
	if a.log != nil {
		l := *a.log
		c.log = &l
	}
	if a.replies != nil {
		r := *a.replies
		c.replies = &r
	}
	return c
}

// replySpan is how many vantage points saw the reply's latest send: 1
// for a reply seen once, 0 for none.
func (a *Attempt) replySpan() uint8 {
	switch {
	case a.replies != nil:
		return a.replies.sends.span
	case a.Answered():
		return 1
	}
	return 0
}

func (a *Attempt) aliased() bool { return a.log != nil && a.log.aliased }

// PlainRetry is the first retransmission of the SYN that dropped the TFO
// option; valid iff its Frame != 0.
func (a *Attempt) PlainRetry() PacketRef {
	if a.log == nil {
		return PacketRef{}
	}
	return a.log.plainRetry
}

// Stripped is the first copy of the SYN's first send that lacks the TFO
// option the copy nearer the client carried: a middlebox between the two
// vantage points removed it. Valid iff its Frame != 0.
func (a *Attempt) Stripped() Sighting {
	if a.log == nil {
		return Sighting{}
	}
	return a.log.stripped
}

// synSent is when the latest send of the SYN was first seen, and its
// timestamp.
func (a *Attempt) synSent() (int64, stamp) {
	if a.log == nil {
		return a.SYN.Time, a.SYN.ts
	}
	return a.log.synSends.sent, a.log.synSends.ts
}

// Sightings lists where the SYN and the reply were seen, copies and
// retransmissions, or nil, nil when each was seen once; reply is nil
// when the reply was seen once (or not at all).
func (a *Attempt) Sightings() (syn, reply []Sighting) {
	if a.log == nil {
		return nil, nil
	}
	if a.replies != nil {
		reply = a.replies.reply.All()
	}
	return a.log.syn.All(), reply
}

// Answered reports whether the server's reply was seen.
func (a *Attempt) Answered() bool { return a.Reply.Kind != 0 }

// Truncated reports whether snaplen hid TFO options needed to judge a.
func (a *Attempt) Truncated() bool { return a.SYN.Truncated || a.Reply.Truncated }

// ReplyLost reports whether the server's SYN-ACK was seen at fewer vantage
// points than the client's SYN crossed, and the client's latest send of
// the SYN came after it: the answer was lost on its way back, between the
// vantage points that saw it and the client's. Times, not the order the
// capture holds packets in, decide, so that a file written from two
// interfaces at once (dumpcap -i a -i b) gives the same answer.
func (a *Attempt) ReplyLost() bool {
	l := a.log
	return l != nil && a.Reply.Kind == ReplySYNACK && l.synSends.span >= 2 &&
		a.replySpan() < l.synSends.span && l.synSends.sent > a.Reply.Time
}

// Rewritten returns the client and server addresses that a copy of the
// SYN carried behind a NAT; ok is false when no copy was rewritten.
func (a *Attempt) Rewritten() (client, server netip.AddrPort, ok bool) {
	if !a.aliased() {
		return client, server, false
	}
	client, server = a.log.alias.addrs()
	return client, server, true
}

// vantages is how many vantage points saw one send of the SYN and of the
// reply (the most of any one send): 1 each for a capture at one place.
func (a *Attempt) vantages() (syn, reply int) {
	if a.log == nil {
		if a.Answered() {
			return 1, 1
		}
		return 1, 0
	}
	return int(a.log.synSends.span), int(a.replySpan())
}

// judge derives the attempt's outcome (DESIGN.md, "Outcomes").
func (a *Attempt) judge() Outcome {
	syn, reply := &a.SYN, &a.Reply
	switch {
	case syn.TFO.State == TFOMalformed || syn.MalformedCopy || reply.TFO.State == TFOMalformed:
		return MalformedTFO
	case a.Stripped().Frame != 0 && reply.TFO.State != TFOCookie && reply.AckedData == 0:
		// The copy nearer the server had no TFO option: whatever came
		// back answered a SYN that never asked.
		return Stripped
	case reply.Kind == 0:
		return Unanswered
	case reply.Kind == ReplyRST:
		return Refused
	case syn.TFO.State == TFONone:
		return Plain
	}
	cookie := reply.TFO.State == TFOCookie
	// A cookieless SYN-ACK after a retry without TFO answered the retry:
	// the server was never asked. One with a cookie, or one that
	// acknowledges data, answered the TFO SYN.
	if retry := a.PlainRetry(); !cookie && reply.AckedData == 0 && retry.Frame != 0 && reply.Time >= retry.Time {
		return Fallback
	}
	if syn.TFO.State == TFORequest {
		if cookie {
			return Granted
		}
		return Omitted
	}
	switch {
	case reply.AckedData > 0:
		return Accepted
	case cookie:
		return Renewed
	case syn.hasData():
		return Rejected
	}
	return Unconfirmed
}

// Sink receives each attempt as it is finalised: in the order their
// deadlines pass, so answered attempts mostly in the order of their replies
// (a reply within a second of a sweep, or behind a stepped clock, may come
// after a later one). The Attempt is reused after the call returns.
type Sink interface {
	Attempt(a *Attempt)
	// OrphanReply counts a SYN-ACK that answers no SYN in the capture
	// (the capture began mid-handshake).
	OrphanReply(server netip.AddrPort, ref PacketRef)
}

// flowKey identifies a client-server pair in flat bytes. netip.AddrPort
// holds a pointer (for the zone, which decoded packets never have): as a
// map key it hashes field by field and makes the garbage collector scan
// the maps; this key is hashed as one block and holds no pointer, so the
// maps of open and recent attempts are smaller and never scanned.
type flowKey struct {
	client, server [16]byte // As16: IPv4 as ::ffff:a.b.c.d
	cport, sport   uint16
	// is4 tells IPv4 from IPv4-mapped IPv6 (bit 0 client, bit 1 server),
	// which netip keeps apart and As16 does not.
	is4 uint8
}

func newFlowKey(client, server netip.AddrPort) flowKey {
	k := flowKey{client: client.Addr().As16(), server: server.Addr().As16(), cport: client.Port(), sport: server.Port()}
	if client.Addr().Is4() {
		k.is4 |= 1
	}
	if server.Addr().Is4() {
		k.is4 |= 2
	}
	return k
}

// addrs undoes newFlowKey.
func (k flowKey) addrs() (client, server netip.AddrPort) {
	addr := func(b [16]byte, is4 bool) netip.Addr {
		a := netip.AddrFrom16(b)
		if is4 {
			a = a.Unmap()
		}
		return a
	}
	return netip.AddrPortFrom(addr(k.client, k.is4&1 != 0), k.cport), netip.AddrPortFrom(addr(k.server, k.is4&2 != 0), k.sport)
}

// Tracker matches client SYNs with the server's replies and finalises each
// attempt with its outcome. Feed it segments in time order. Its zero value
// is not usable: use NewTracker. It is not safe for concurrent use.
type Tracker struct {
	sink Sink
	// open holds the newest open attempt per flow; older ones on the same
	// flow (port reuse with a new ISN) hang off Attempt.prev.
	open flowTable
	seed uint64 // of the flow hashes in open and done
	// touched keeps what Prefetch loaded.
	touched uint32
	// arena holds every Attempt, open or free, numbered for open.
	arena arena
	// expiry holds the open attempts in the order of the capture time
	// after which each expires, so that a sweep or shed takes them from
	// its front, in an order that does not depend on the flow table's;
	// nopen counts them.
	expiry expiry
	nopen  int
	free   []*Attempt
	// done remembers recently finalised attempts, so that late
	// copies of their packets (a SYN-ACK retransmitted after 8 s, a SYN
	// resent because the SYN-ACK was lost after the capture point) are
	// recognised instead of becoming orphans or new attempts.
	done recent
	// parked holds replies that matched no open attempt while they wait
	// a moment for their SYN (see park).
	parked map[flowKey]parkedReply
	// byISN and aliases find NAT'd copies of SYNs (natOriginal).
	byISN   []isnEntry
	aliases map[flowKey]*Attempt
	// freeLogs and freeReplies are sighting logs of finalised attempts,
	// for reuse.
	freeLogs    []*sightingLog
	freeReplies []*replyLog

	// ReplyTimeout finalises an unanswered attempt this long (ns) after
	// its latest SYN copy.
	replyTimeout int64
	// linger keeps an answered attempt this long (ns) after its reply, so
	// that late SYN and SYN-ACK copies join it instead of being new.
	linger    int64
	now       int64
	nextSweep int64
	lastID    uint64

	// maxOpen bounds the attempts open at once; past it, shed judges the
	// ones closest to expiring. early counts unanswered ones judged so.
	maxOpen int
	early   int
	// forgotten is Forgotten's count.
	forgotten int
	// due holds the entries a sweep or shed takes from expiry and order
	// the attempts they finalise, reused (orderDue).
	due   []queued
	order []*Attempt
	// earlyFlow counts unanswered attempts judged before their timeout
	// because their flow had maxAttemptsPerFlow newer ones open.
	earlyFlow Tally
	// lateReplies counts replies to attempts already judged unanswered.
	lateReplies Tally
	// ahead is a segment stamped more than MaxClockStep past the clock,
	// waiting for the next one to confirm the jump (valid iff aheadSet);
	// outliers counts those the next segment did not confirm.
	ahead    PacketRef
	aheadSet bool
	outliers Tally
}

// Tally counts occurrences of one oddity and remembers where the first was.
type Tally struct {
	N     int
	First PacketRef // valid iff N > 0
}

func (t *Tally) add(ref PacketRef) {
	if t.N == 0 {
		t.First = ref
	}
	t.N++
}

// Default time limits, in capture time.
const (
	// DefaultReplyTimeout outlasts Linux's whole SYN retry budget
	// (tcp_syn_retries=6: about 127 s), so offline analysis never calls an
	// attempt unanswered while its client still retries.
	DefaultReplyTimeout = 180 * time.Second
	// answeredLinger keeps answered attempts for late copies of their
	// packets (retransmitted SYN-ACKs, the other interface's copy).
	answeredLinger = 3e9
	sweepInterval  = 1e9
	// maxAttemptsPerFlow bounds the chain of open attempts on one 4-tuple
	// (a scanner reusing a port with new ISNs).
	maxAttemptsPerFlow = 8
	// DefaultMaxOpen bounds the attempts open at once (about 6 MB).
	DefaultMaxOpen = 1 << 14
)

// NewTracker returns a tracker that finalises attempts into sink.
// replyTimeout (ns) bounds how long an unanswered attempt stays open; 0
// means DefaultReplyTimeout.
func NewTracker(sink Sink, replyTimeout int64) *Tracker {
	if replyTimeout <= 0 {
		replyTimeout = int64(DefaultReplyTimeout)
	}
	seed := rand.Uint64() | 1 // odd, as FlowHasher marks it
	t := &Tracker{
		sink:         sink,
		seed:         seed,
		replyTimeout: replyTimeout,
		linger:       min(answeredLinger, replyTimeout),
		done:         newRecent(RecentCapacity, seed),
		maxOpen:      DefaultMaxOpen,
		byISN:        make([]isnEntry, isnSlots),
	}
	t.open.arena = &t.arena
	return t
}

// Prefetch starts loading what Add will look at first for seg, which
// the FlowHasher has hashed: the open table's slot and the attempt
// there, and the recent memory's index slot. Called a few events before
// Add is, the cache misses of those lookups (the tracker's costliest)
// overlap with the work on the events between.
func (t *Tracker) Prefetch(seg *Segment) {
	if seg.hashedWith == t.seed {
		h := fold(seg.flow)
		t.touched += t.open.touch(h) + t.done.touch(h)
	}
}

// Open returns the number of attempts not yet finalised. A live run's
// status reads it every tick: a walk of the open table there was 1.5-2%
// of a replay's samples (bench/live.sh), the count is free.
func (t *Tracker) Open() int { return t.nopen }

// Add feeds one decoded segment and returns the ID of the open attempt it
// joined, or 0 when it joined none. Only SYNs, SYN-ACKs and RSTs matter;
// others are ignored.
func (t *Tracker) Add(ref PacketRef, seg *Segment) uint64 {
	t.advance(ref)
	switch {
	case seg.IsSYN():
		return t.addSYN(ref, seg)
	case seg.IsSYNACK():
		return t.addReply(ref, seg, ReplySYNACK)
	case seg.IsRST() && seg.Flags&FlagACK != 0:
		// A RST answering a SYN acknowledges it (RFC 9293 3.10.7.1);
		// one without ACK cannot be matched.
		return t.addReply(ref, seg, ReplyRST)
	}
	return 0
}

// MaxClockStep is how far one segment may move the clock at once. A
// segment stamped further ahead moves it only when the next one confirms
// the jump (a capture that paused, a clock stepped forward): one damaged
// timestamp years ahead would otherwise judge every open attempt
// unanswered, and their replies would come too late. Holding the clock
// back costs nothing but memory for a while: attempts are judged later,
// never wrongly. A step under it can expire only attempts within a minute
// of their 180 s timeout and answered ones kept for late copies; it is
// long enough that SYN retries (1, 2, 4 ... 32 s apart) in a quiet
// capture move the clock at once.
const MaxClockStep = 60e9

// Advance moves the tracker's clock to now (ns), finalising attempts that
// timed out. Live capture calls it on a ticker so that quiet periods still
// finalise attempts; its ticks should come from a monotonic clock. A jump
// of more than MaxClockStep waits for confirmation, as for segments.
func (t *Tracker) Advance(now int64) { t.advance(PacketRef{Time: now, Frame: -1}) }

// advance moves the clock to ref's time under the rule of MaxClockStep.
func (t *Tracker) advance(ref PacketRef) {
	now := ref.Time
	beyond := now-t.now > MaxClockStep
	switch {
	case t.aheadSet && beyond:
		// Two in a row past the clock: a real jump.
		t.now, t.aheadSet = min(now, t.ahead.Time), false
	case t.aheadSet:
		if t.ahead.Frame >= 0 { // a segment, not a tick
			t.outliers.add(t.ahead)
		}
		t.now, t.aheadSet = max(t.now, now), false
	case beyond && (t.nopen > 0 || len(t.parked) > 0):
		t.ahead, t.aheadSet = ref, true
	default: // a small step, or nothing open that a jump could expire
		t.now = max(t.now, now)
	}
	if t.now >= t.nextSweep {
		at := sweepPoint(t.now)
		t.sweep(at)
		t.nextSweep = at + sweepInterval
	}
}

// sweepPoint is the latest multiple of sweepInterval at or before now.
// Sweeps judge up to such points, whatever moved the clock past one: a
// live capture's tick between two packets then judges what analyze
// judges at the second packet of the file it wrote (a sweep at the
// moment of the tick, and the next one an interval after it, made the
// two differ whenever the tables were full).
func sweepPoint(now int64) int64 {
	at := now - now%sweepInterval
	if at > now { // a negative now
		at -= sweepInterval
	}
	return at
}

// ClockOutliers counts the segments stamped more than MaxClockStep ahead
// of the segments around them, which were not let move the clock that
// times attempts out; First is the first of them.
func (t *Tracker) ClockOutliers() Tally { return t.outliers }

// Flush finalises every open attempt, as at the end of the input, and
// releases its tables; a tracker fed again after Flush starts afresh.
// No late copy can follow the end, so it does not remember the attempts
// for that (a tenth of a large capture's tracking time), and as the
// tables go with them it only judges them, in finalise's order, without
// taking each out of the flow table, nor clearing more of it than its
// pointers (on the real capture, with a Sink that discards: 8.3 -> 5.2 M
// instructions, last-level misses 142 -> 82 k).
func (t *Tracker) Flush() {
	t.expireParked(t.now, true)
	due := t.expiry.takeDue(slices.Grow(t.due[:0], t.nopen), 0, math.MaxInt64)
	for _, a := range t.orderDue(due) {
		a.Outcome = a.judge()
		t.sink.Attempt(a)
		// A collection may run meanwhile, with the arena still reachable:
		// left in place, these pointers had it follow every attempt's
		// (the whole run's GC marking: 74 -> 84-108 M instructions).
		a.prev, a.log, a.replies = nil, nil, nil
	}
	t.arena = arena{}
	t.open = flowTable{arena: &t.arena}
	t.expiry, t.nopen = expiry{}, 0
	t.free, t.aliases, t.freeLogs, t.freeReplies, t.due, t.order = nil, nil, nil, nil, nil, nil
	clear(t.byISN)
	t.done = newRecent(t.done.capacity, t.seed)
}

// sweep finalises the attempts that expired before at (a sweepPoint):
// answered ones linger after their reply, unanswered ones wait
// replyTimeout after their latest SYN copy.
func (t *Tracker) sweep(at int64) {
	if len(t.parked) > 0 {
		t.expireParked(at, false)
	}
	t.finaliseDue(t.expiry.takeDue(t.due[:0], 0, at-1))
}

// finaliseDue finalises the attempts of due, taken from expiry, in the
// order of their deadlines, which for answered attempts is the order of
// their replies: a Sink then sees what a sweep judges in time order, as
// later sweeps judge later replies (analyze's change points rely on it).
// due is t.due's buffer.
func (t *Tracker) finaliseDue(due []queued) {
	order := t.orderDue(due)
	for _, a := range order {
		t.unlink(a)
		t.finalise(a)
	}
	clear(order) // no stale pointers to reused attempts
	t.due, t.order = due[:0], order[:0]
}

// orderDue returns the attempts of due, which expiry gave in the order
// of their deadlines, with those of equal deadlines in the order of
// their IDs: finalisation order does not depend on how the attempts
// were queued. Equal deadlines are few (replies in one microsecond, or
// one file's timestamp granularity).
func (t *Tracker) orderDue(due []queued) []*Attempt {
	order := slices.Grow(t.order[:0], len(due))
	ties := false
	for i, q := range due {
		order = append(order, t.arena.at(q.idx))
		ties = ties || i > 0 && q.deadline == due[i-1].deadline
	}
	if !ties {
		return order
	}
	byID := func(a, b *Attempt) int { return cmp.Compare(a.ID, b.ID) }
	for i := 0; i < len(due); {
		j := i + 1
		for j < len(due) && due[j].deadline == due[i].deadline {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(order[i:j], byID)
		}
		i = j
	}
	return order
}

// deadline is when a expires: it is finalised at the first sweep after it.
func (t *Tracker) deadline(a *Attempt) int64 {
	if a.Answered() {
		return a.Reply.Time + t.linger
	}
	return a.SYN.last + t.replyTimeout
}

// track queues a new open attempt in expiry; retime queues it again
// when its deadline changed, after a SYN copy or the reply; untrack
// takes it out.
func (t *Tracker) track(a *Attempt) {
	t.nopen++
	t.expiry.push(a, t.deadline(a))
}

func (t *Tracker) retime(a *Attempt) {
	t.expiry.drop(a)
	t.expiry.push(a, t.deadline(a))
}

func (t *Tracker) untrack(a *Attempt) {
	t.nopen--
	t.expiry.drop(a)
}

// unlink takes a out of its flow's chain of open attempts. The head of a
// chain, nearly always alone on its flow, needs no lookup of the chain.
func (t *Tracker) unlink(a *Attempt) {
	if !a.newer {
		if a.prev == nil {
			t.open.remove(a)
		} else {
			a.prev.newer = false
			t.open.set(a.prev)
		}
		return
	}
	for p := t.open.get(&a.Client, &a.Server, a.hash); p != nil; p = p.prev {
		if p.prev == a {
			p.prev = a.prev
			return
		}
	}
}

func (t *Tracker) addSYN(ref PacketRef, seg *Segment) uint64 {
	flow := t.flowOf(seg, &seg.Src, &seg.Dst)
	h := fold(flow)
	head, slot := t.open.find(&seg.Src, &seg.Dst, h)
	n := 0
	for a := head; a != nil; a = a.prev {
		if a.ISN == seg.Seq {
			t.sightSYN(a, ref, seg)
			return a.ID
		}
		n++
	}
	if len(t.aliases) > 0 {
		if a := t.aliases[newFlowKey(seg.Src, seg.Dst)]; a != nil && a.ISN == seg.Seq {
			t.sightSYN(a, ref, seg)
			return a.ID
		}
	}
	if t.done.lateSYN(flow, seg.Seq, ref.Time) {
		return 0
	}
	if a := t.natOriginal(ref, seg); a != nil {
		t.addAlias(a, newFlowKey(seg.Src, seg.Dst))
		t.sightSYN(a, ref, seg)
		return a.ID
	}
	a := t.alloc()
	t.lastID++
	a.ID = t.lastID
	a.Client, a.Server, a.ISN = seg.Src, seg.Dst, seg.Seq
	a.hash = h
	a.Reply, a.Outcome, a.newer = ReplyInfo{}, 0, false // of a reused Attempt
	a.SYN = SYNInfo{
		PacketRef:  ref,
		TFO:        seg.Options.TFO,
		MPTCP:      seg.Options.MPTCP,
		DataLen:    seg.DataLen,
		Truncated:  seg.Options.Stop == WalkTruncated,
		Fragmented: seg.Fragmented,
		ts:         stampOf(&seg.Options),
		last:       ref.Time,
	}
	a.prev = head
	if head != nil {
		head.newer = true
	}
	t.open.setAt(slot, a) // nothing above changed the flow table
	t.track(a)
	t.byISN[isnSlot(a.ISN)] = isnEntry{a, a.ID, a.ISN}
	if len(t.parked) > 0 {
		t.unpark(newFlowKey(seg.Src, seg.Dst), a)
	}
	if n+1 > maxAttemptsPerFlow {
		t.trimChain(a)
	}
	if t.nopen > t.maxOpen {
		t.shed()
	}
	return a.ID
}

// shed finalises the eighth of the open attempts that would expire first,
// when more than maxOpen are open at once (a SYN flood, a scan, a capture
// of very many handshakes a second): memory stays bounded at any rate.
// Answered attempts lose only late copies; unanswered ones are judged
// before their timeout, which Early counts so the report can say so.
// The eighth is every attempt whose deadline is no later than the
// (n/8+1)-th earliest's, ties included.
func (t *Tracker) shed() {
	due := t.expiry.takeDue(t.due[:0], t.nopen/8+1, math.MaxInt64)
	for _, q := range due {
		if !t.arena.at(q.idx).Answered() {
			t.early++
		}
	}
	t.finaliseDue(due)
}

// Early returns how many unanswered attempts were judged before their
// reply timeout because too many attempts were open at once.
func (t *Tracker) Early() int { return t.early }

// Forgotten counts the judged attempts (and NAT'd flows of them) that
// the memory of recent ones let go less than a minute after their last
// packet, to make room: more than its 65536 were judged within that
// minute (a busy server, or a SYN flood). A
// retransmission of one of them after that counts as an attempt of its
// own, and a late reply as a SYN-ACK without SYN.
func (t *Tracker) Forgotten() int { return t.forgotten }

// EarlyPerFlow counts the unanswered attempts judged before their reply
// timeout because maxAttemptsPerFlow newer attempts on the same flow (a
// scanner reusing a port with new ISNs) were open; First is the SYN of the
// first one.
func (t *Tracker) EarlyPerFlow() Tally { return t.earlyFlow }

// LateReplies counts the SYN-ACKs and RSTs that answered an attempt
// already judged unanswered (after its reply timeout, or early): they are
// neither the attempt's reply nor a SYN-ACK without SYN. First is the
// first such reply.
func (t *Tracker) LateReplies() Tally { return t.lateReplies }

// trimChain finalises the oldest attempts beyond maxAttemptsPerFlow.
func (t *Tracker) trimChain(head *Attempt) {
	a := head
	for i := 1; i < maxAttemptsPerFlow && a != nil; i++ {
		a = a.prev
	}
	if a == nil {
		return
	}
	rest := a.prev
	a.prev = nil
	for p := rest; p != nil; p = p.prev {
		if !p.Answered() {
			t.earlyFlow.add(p.SYN.PacketRef)
		}
	}
	t.finaliseChain(rest)
}

// sightSYN files another sighting of a's SYN.
func (t *Tracker) sightSYN(a *Attempt, ref PacketRef, seg *Segment) {
	before := t.deadline(a)
	a.SYN.addSighting(ref, seg, t.logFor(a))
	if t.deadline(a) != before {
		t.retime(a)
	}
}

// logFor returns a's sighting log, making one, from what a holds so far,
// when a packet of a is seen a second time.
func (t *Tracker) logFor(a *Attempt) *sightingLog {
	if a.log != nil {
		return a.log
	}
	l := reuse(&t.freeLogs)
	l.syn.add(a.SYN.PacketRef, 0, a.SYN.TFO.State)
	l.synSends.start(a.SYN.PacketRef, a.SYN.ts, a.SYN.DataLen)
	a.log = l
	return l
}

// repliesFor returns the log of a's reply, making one from the reply a
// holds, when the reply is seen a second time.
func (t *Tracker) repliesFor(a *Attempt) *replyLog {
	if a.replies != nil {
		return a.replies
	}
	r := reuse(&t.freeReplies)
	r.reply.add(a.Reply.PacketRef, 0, a.Reply.TFO.State)
	r.sends.start(a.Reply.PacketRef, a.Reply.ts, 0)
	a.replies = r
	return r
}

// reuse returns a zero value from the free list, or a new one.
func reuse[T any](free *[]*T) *T {
	n := len(*free)
	if n == 0 {
		return new(T)
	}
	v := (*free)[n-1]
	*free = (*free)[:n-1]
	var zero T
	*v = zero
	return v
}

// addSighting files a SYN seen again: a copy of the latest send if it
// came within copyWindow of it with the same data, otherwise a
// retransmission, whichever input, section or interface holds either.
// l is the attempt's sighting log.
func (s *SYNInfo) addSighting(ref PacketRef, seg *Segment, l *sightingLog) {
	s.last = max(s.last, ref.Time)
	tfo := seg.Options.TFO.State
	if tfo == TFOMalformed {
		s.MalformedCopy = true
	}
	truncated := seg.Options.Stop == WalkTruncated
	send, copied := l.synSends.sighted(ref, stampOf(&seg.Options), seg.DataLen)
	l.syn.add(ref, send, tfo)
	if copied {
		s.Duplicates++
		if send == 0 && !truncated && ref.otherVantage(s.PacketRef) {
			s.compareCopy(ref, seg, l)
		}
		return
	}
	s.Retransmits++
	later := synCopy{ref, tfo, truncated}
	if ref.Time < s.Time {
		// The capture put a retransmission before the original (several
		// interfaces written at once): the earlier send is the original.
		later = synCopy{s.PacketRef, s.TFO.State, s.Truncated}
		s.PacketRef, s.TFO, s.MPTCP, s.DataLen = ref, seg.Options.TFO, seg.Options.MPTCP, seg.DataLen
		s.Truncated, s.Fragmented = truncated, seg.Fragmented
		if l.plainRetry.Frame != 0 && s.TFO.State == TFONone {
			l.plainRetry = PacketRef{}
		}
	}
	if s.TFO.State != TFONone && later.tfo == TFONone && !later.truncated &&
		(l.plainRetry.Frame == 0 || later.ref.Time < l.plainRetry.Time) {
		l.plainRetry = later.ref
	}
}

// synCopy is what addSighting needs of the later of two SYN sends.
type synCopy struct {
	ref       PacketRef
	tfo       TFOState
	truncated bool
}

// compareCopy looks for a middlebox between the vantage points of the
// first send and its copy at ref. Middleboxes remove options; none adds a
// TFO option, so the copy that carries one is the nearer the client,
// whichever the capture put first (two hosts' clocks need not agree).
// l is the attempt's sighting log.
func (s *SYNInfo) compareCopy(ref PacketRef, seg *Segment, l *sightingLog) {
	tfo := seg.Options.TFO
	switch {
	case s.TFO.State != TFONone && tfo.State == TFONone:
		if l.stripped.Frame == 0 {
			l.stripped = sightingAt(ref, 0, tfo.State)
		}
	case s.TFO.State == TFONone && tfo.State != TFONone && l.plainRetry.Frame == 0:
		l.stripped = sightingAt(s.PacketRef, 0, s.TFO.State)
		s.PacketRef, s.TFO, s.MPTCP = ref, tfo, seg.Options.MPTCP
	}
}

// addReply matches a SYN-ACK or RST from server to client by its ack: it
// answers the attempt whose ISN+1+n it acknowledges, 0 <= n <= SYN data.
// answer records the server's reply to a, whose options are o; acked is
// how much SYN data it acknowledges. (o by pointer: the options by value,
// as they were, went through the stack on every reply.)
func (t *Tracker) answer(a *Attempt, ref PacketRef, kind ReplyKind, acked int, o *Options) {
	ts := stampOf(o)
	a.Reply = ReplyInfo{PacketRef: ref, Kind: kind, AckedData: acked, ts: ts}
	if kind == ReplySYNACK {
		a.Reply.TFO, a.Reply.MPTCP, a.Reply.Truncated = o.TFO, o.MPTCP, o.Stop == WalkTruncated
	}
	t.retime(a)
}

func (t *Tracker) addReply(ref PacketRef, seg *Segment, kind ReplyKind) uint64 {
	flow := t.flowOf(seg, &seg.Dst, &seg.Src)
	for a := t.open.get(&seg.Dst, &seg.Src, fold(flow)); a != nil; a = a.prev {
		if id, ok := t.replyTo(a, ref, seg, kind); ok {
			return id
		}
	}
	if len(t.aliases) > 0 {
		if a := t.aliases[newFlowKey(seg.Dst, seg.Src)]; a != nil {
			if id, ok := t.replyTo(a, ref, seg, kind); ok {
				return id
			}
		}
	}
	if late, first := t.done.lateAnswer(flow, seg.Ack, ref.Time); late {
		if first {
			t.lateReplies.add(ref)
		}
		return 0
	}
	t.park(newFlowKey(seg.Dst, seg.Src), parkedReply{ref: ref, kind: kind, ack: seg.Ack, server: seg.Src, opts: seg.Options})
	return 0
}

// replyTo files seg as a's reply, or a sighting of it, when its ack
// matches a's SYN (ok). The ID is 0 for a RST after the SYN-ACK, which
// ends a connection and answers nothing.
func (t *Tracker) replyTo(a *Attempt, ref PacketRef, seg *Segment, kind ReplyKind) (id uint64, ok bool) {
	n := seg.Ack - (a.ISN + 1) // wraps like sequence numbers do
	if n > uint32(a.SYN.maxData()) {
		return 0, false
	}
	switch {
	case !a.Answered():
		t.answer(a, ref, kind, int(n), &seg.Options)
	case kind == a.Reply.Kind:
		a.Reply.Copies++
		t.logFor(a) // an attempt with a packet seen twice has a log
		r := t.repliesFor(a)
		send, _ := r.sends.sighted(ref, stampOf(&seg.Options), 0)
		r.reply.add(ref, send, seg.Options.TFO.State)
	default:
		return 0, true
	}
	return a.ID, true
}

// Behind a NAT the two sides of a router see one SYN on two flows: the
// client's addresses and ports on one side, rewritten ones on the other.
// The ISN survives (Linux's NAT leaves it alone), so a SYN on a new flow
// with the ISN, the data length and the time of an open attempt's latest
// send, seen at another vantage point, is a copy of it. byISN holds the
// newest attempt per slot of ISN hash: a lossy index, bounded whatever
// the SYN rate, which misses a copy only when another SYN with a
// colliding ISN came in between (isnSlots per copyWindow).
const isnSlots = 1 << 12

type isnEntry struct {
	a  *Attempt
	id uint64 // a.ID when indexed: the Attempt may since have been reused
	// isn is a.ISN, so that a SYN that merely shares the slot (nearly
	// every new one) is told apart without loading the Attempt, which is
	// seldom in the cache any more.
	isn uint32
}

func isnSlot(isn uint32) int { return int((isn ^ isn>>12 ^ isn>>24) & (isnSlots - 1)) }

// natOriginal returns the open attempt whose SYN seg is a NAT'd copy of,
// or nil.
func (t *Tracker) natOriginal(ref PacketRef, seg *Segment) *Attempt {
	e := t.byISN[isnSlot(seg.Seq)]
	a := e.a
	if a == nil || e.isn != seg.Seq || a.ID != e.id || a.ISN != seg.Seq || a.aliased() || !ref.otherVantage(a.SYN.PacketRef) {
		return nil
	}
	if sent, ts := a.synSent(); !sameSend(ref.Time, stampOf(&seg.Options), sent, ts, a.SYN.DataLen == seg.DataLen) {
		return nil
	}
	return a
}

// addAlias makes key, the flow of a NAT'd copy, lead to a too.
func (t *Tracker) addAlias(a *Attempt, key flowKey) {
	if t.aliases == nil {
		t.aliases = make(map[flowKey]*Attempt)
	}
	l := t.logFor(a)
	l.alias, l.aliased = key, true
	t.aliases[key] = a
}

// A reply that matches no open attempt waits parkWindow of capture time
// for its SYN before it counts as a SYN-ACK without SYN: a capture written
// from several interfaces at once (dumpcap -i a -i b reads each at least
// every 250 ms) can put a reply read from one interface before its SYN
// read from another, and files from two hosts merged by time put the
// server's replies before the client's SYNs by the hosts' clock skew (a
// reply parked 300 ms was counted as SYN-ACK without SYN while its SYN
// came later). At most maxParked wait at once.
const (
	parkWindow = 10e9
	maxParked  = 4096
)

// parkedReply is a SYN-ACK or RST waiting for its SYN.
type parkedReply struct {
	ref    PacketRef
	kind   ReplyKind
	ack    uint32
	server netip.AddrPort
	opts   Options
}

func (t *Tracker) park(key flowKey, p parkedReply) {
	if old, ok := t.parked[key]; ok {
		t.orphan(&old)
	}
	if len(t.parked) >= maxParked {
		t.orphan(&p)
		return
	}
	if t.parked == nil {
		t.parked = make(map[flowKey]parkedReply)
	}
	t.parked[key] = p
}

// orphan gives up on a parked reply: a SYN-ACK is counted, a RST dropped.
func (t *Tracker) orphan(p *parkedReply) {
	if p.kind == ReplySYNACK {
		t.sink.OrphanReply(p.server, p.ref)
	}
}

// unpark answers a new attempt with a reply that came before its SYN.
func (t *Tracker) unpark(key flowKey, a *Attempt) {
	p, ok := t.parked[key]
	if !ok {
		return
	}
	n := p.ack - (a.ISN + 1)
	if n > uint32(a.SYN.maxData()) {
		return
	}
	delete(t.parked, key)
	t.answer(a, p.ref, p.kind, int(n), &p.opts)
}

// expireParked counts the replies whose SYN had not come parkWindow before
// at; all of them at the
// end of the input.
func (t *Tracker) expireParked(at int64, all bool) {
	for key, p := range t.parked {
		if all || at-p.ref.Time > parkWindow {
			delete(t.parked, key)
			t.orphan(&p)
		}
	}
}

func (t *Tracker) finaliseChain(a *Attempt) {
	for a != nil {
		prev := a.prev
		t.finalise(a)
		a = prev
	}
}

func (t *Tracker) finalise(a *Attempt) {
	// Unanswered attempts are remembered too: with a short live reply
	// timeout, a client backing off (1, 2, 4, 8 s...) must stay one
	// attempt, not become one per retransmission.
	last := a.SYN.last
	if a.Answered() {
		last = max(last, a.Reply.Time)
	} else {
		// From its judgement on: a reply after the timeout is late, not
		// one without SYN.
		// Its deadline when a sweep judges it, which may come at a
		// later packet or a tick: the same in either case.
		last = max(last, min(t.now, t.deadline(a)))
	}
	if t.done.add(flowHash64(&a.Client, &a.Server, t.seed), a.ISN, a.SYN.maxData(), last, a.Answered()) {
		t.forgotten++
	}
	if a.aliased() && t.done.add(a.log.alias.hash64(t.seed), a.ISN, a.SYN.maxData(), last, a.Answered()) {
		t.forgotten++
	}
	if a.aliased() && t.aliases[a.log.alias] == a {
		delete(t.aliases, a.log.alias)
	}
	t.untrack(a)
	a.Outcome = a.judge()
	t.sink.Attempt(a)
	if a.log != nil {
		t.freeLogs = append(t.freeLogs, a.log)
	}
	if a.replies != nil {
		t.freeReplies = append(t.freeReplies, a.replies)
	}
	// Not cleared whole (304 bytes, and a bulk write barrier while the
	// GC runs): addSYN sets or resets every field when it reuses a; the
	// pointers go for the GC, the ID so that byISN no longer matches a.
	a.ID, a.prev, a.log, a.replies = 0, nil, nil, nil
	t.free = append(t.free, a)
}

func (t *Tracker) alloc() *Attempt {
	if n := len(t.free); n > 0 {
		a := t.free[n-1]
		t.free = t.free[:n-1]
		return a
	}
	return t.arena.alloc()
}
