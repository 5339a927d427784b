package synth

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
)

// outcome names, as tfopcap reports them.
const (
	outPlain      = "plain"
	outGranted    = "granted"
	outOmitted    = "omitted"
	outAccepted   = "accepted"
	outRejected   = "rejected"
	outRefused    = "refused"
	outUnanswered = "unanswered"
)

// server is one listener and how it answers TFO.
type server struct {
	addr   netip.AddrPort
	grants bool // grants cookies and accepts SYN data; else ignores TFO
	mptcp  bool // an MPTCP listener: answers MP_CAPABLE in kind
}

// states of a connection, in the order they usually come.
const (
	stSYN = iota
	stSYNRetry
	stRST
	stSYNACK
	stACK
	stRequest
	stResponse
	stClientACK
	stFIN1
	stFIN2
	stFIN3
	stDone
)

// conn is one TCP connection: a state machine that yields its packets one
// at a time, so that many connections interleave as on a busy link.
type conn struct {
	srv            *server
	client, server netip.AddrPort
	outcome        string
	tfoKind        uint8  // 34 or 254; 0 for a plain SYN
	cookie         []byte // cookie the client sends (accepted, rejected)
	mptcp          bool   // the client's SYN carries MP_CAPABLE
	synData        int    // bytes in the SYN (accepted, rejected)

	cISN, sISN uint32
	cSeq, sSeq uint32 // next sequence numbers
	cMSS, sMSS int    // payload per segment each way
	ts         uint32
	ipID       uint16

	request  int // request bytes still to send
	response int // response bytes still to send
	unacked  int // server segments since the client's last ACK
	state    int
}

// gen holds what every connection shares.
type gen struct {
	cfg     *Config
	rng     *rand.Rand
	w       *pcapWriter
	now     int64 // capture clock, ns
	servers []*server
	nextCli uint64 // connections started; numbers the client address
	opts    []byte // scratch for options
	expect  *Expectation
}

// newConn starts a connection with an outcome drawn from the mix.
func (g *gen) newConn() *conn {
	cfg := g.cfg
	outcome := cfg.Mix.draw(g.rng)
	v6 := g.rng.Float64() < cfg.V6
	var cands []*server
	for _, s := range g.servers {
		if s.addr.Addr().Is6() != v6 {
			continue
		}
		switch outcome {
		case outGranted, outAccepted:
			if !s.grants {
				continue
			}
		case outOmitted, outRejected:
			if s.grants {
				continue
			}
		}
		cands = append(cands, s)
	}
	srv := cands[g.rng.IntN(len(cands))]

	// Every connection gets a client ip:port of its own: tfopcap keys
	// attempts by client, server and ISN, and the expected outcomes do
	// not depend on how it treats port reuse.
	n := g.nextCli
	g.nextCli++
	port := uint16(32768 + n%28000)
	host := n/28000 + 1
	var cip netip.Addr
	if v6 {
		cip = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 14: byte(host >> 8), 15: byte(host)})
	} else {
		cip = netip.AddrFrom4([4]byte{198, 19, byte(host >> 8), byte(host)})
	}
	c := &conn{
		srv:     srv,
		client:  netip.AddrPortFrom(cip, port),
		server:  srv.addr,
		outcome: outcome,
		cISN:    g.rng.Uint32(),
		sISN:    g.rng.Uint32(),
		ts:      g.rng.Uint32(),
		ipID:    uint16(g.rng.Uint32()),
		mptcp:   g.rng.Float64() < cfg.MPTCP,
	}
	c.cMSS, c.sMSS = mtu-ip4Len-tcpLen-tsOptLen, mtu-ip4Len-tcpLen-tsOptLen
	if v6 {
		c.cMSS, c.sMSS = mtu-ip6Len-tcpLen-tsOptLen, mtu-ip6Len-tcpLen-tsOptLen
	}
	if c.mptcp && srv.mptcp {
		// DSS on every data segment takes 8 bytes more of each.
		c.cMSS -= 8
		c.sMSS -= 8
	}
	switch outcome {
	case outGranted, outOmitted, outAccepted, outRejected:
		c.tfoKind = optTFO
		if g.rng.Float64() < cfg.Exp254 {
			c.tfoKind = optExp
		}
	case outRefused, outUnanswered:
		if g.rng.Float64() < 0.5 {
			c.tfoKind = optTFO
		}
	}
	c.request = 80 + g.rng.IntN(cfg.RequestMax)
	c.response = cfg.flowBytes(g.rng)
	if outcome == outAccepted || outcome == outRejected {
		c.cookie = make([]byte, 8)
		binary.BigEndian.PutUint64(c.cookie, g.rng.Uint64())
		c.synData = min(c.request, c.cMSS)
	}
	c.cSeq, c.sSeq = c.cISN+1, c.sISN+1
	g.expect.add(c)
	return c
}

// step writes the connection's next packet and reports whether it has more.
func (g *gen) step(c *conn) bool {
	o := g.opts[:0]
	s := segment{window: 502}
	toServer := true
	c.ts += 3
	switch c.state {
	case stSYN, stSYNRetry:
		s.flags = syn
		s.seq = c.cISN
		s.window = 64240
		o = optSYN(o, uint16(c.cMSS+tsOptLen), c.ts, 0)
		switch {
		case c.cookie != nil:
			o = optTFOCookie(o, c.tfoKind, c.cookie)
			s.dataLen = c.synData
		case c.tfoKind != 0:
			o = optTFOReq(o, c.tfoKind)
		}
		if c.mptcp {
			o = optMPCapableSYN(o)
		}
		switch {
		case c.outcome == outUnanswered && c.state == stSYN:
			c.state = stSYNRetry
		case c.outcome == outUnanswered:
			c.state = stDone
		case c.outcome == outRefused:
			c.state = stRST
		default:
			c.state = stSYNACK
		}
	case stRST:
		toServer = false
		s.flags = rst | ack
		s.ack = c.cISN + 1
		s.window = 0
		c.state = stDone
	case stSYNACK:
		toServer = false
		s.flags = syn | ack
		s.seq = c.sISN
		s.ack = c.cISN + 1
		s.window = 65160
		if c.outcome == outAccepted {
			s.ack += uint32(c.synData)
			c.cSeq += uint32(c.synData)
			c.request -= c.synData
		}
		o = optSYN(o, uint16(c.sMSS+tsOptLen), c.ts+1000, c.ts)
		if c.outcome == outGranted {
			var ck [8]byte
			binary.BigEndian.PutUint64(ck[:], uint64(c.cISN)<<32|uint64(c.sISN))
			o = optTFOCookie(o, c.tfoKind, ck[:])
		}
		if c.mptcp && c.srv.mptcp {
			o = optMPCapableSYNACK(o, uint64(c.sISN)<<32|uint64(c.cISN))
		}
		c.state = stACK
	case stACK:
		s.flags = ack
		s.seq, s.ack = c.cSeq, c.sSeq
		o = g.dataOpts(o, c, false)
		c.state = stRequest
		if c.request <= 0 {
			c.state = stResponse
		}
	case stRequest:
		s.flags = psh | ack
		s.seq, s.ack = c.cSeq, c.sSeq
		s.dataLen = min(c.request, c.cMSS)
		o = g.dataOpts(o, c, false)
		c.cSeq += uint32(s.dataLen)
		c.request -= s.dataLen
		if c.request <= 0 {
			c.state = stResponse
		}
	case stResponse:
		toServer = false
		s.flags = ack
		s.seq, s.ack = c.sSeq, c.cSeq
		s.dataLen = min(c.response, c.sMSS)
		o = g.dataOpts(o, c, true)
		c.sSeq += uint32(s.dataLen)
		c.response -= s.dataLen
		c.unacked++
		switch {
		case c.response <= 0:
			s.flags |= psh
			c.state = stFIN1
		case c.unacked == 2:
			c.state = stClientACK
		}
	case stClientACK:
		s.flags = ack
		s.seq, s.ack = c.cSeq, c.sSeq
		o = g.dataOpts(o, c, false)
		if g.rng.IntN(100) == 0 {
			// Now and then a SACK block, as after a loss elsewhere.
			o = optSACKBlock(o, c.sSeq+uint32(c.sMSS), c.sSeq+uint32(2*c.sMSS))
		}
		c.unacked = 0
		c.state = stResponse
	case stFIN1:
		s.flags = fin | ack
		s.seq, s.ack = c.cSeq, c.sSeq
		o = g.dataOpts(o, c, false)
		c.cSeq++
		c.state = stFIN2
	case stFIN2:
		toServer = false
		s.flags = fin | ack
		s.seq, s.ack = c.sSeq, c.cSeq
		o = g.dataOpts(o, c, true)
		c.sSeq++
		c.state = stFIN3
	case stFIN3:
		s.flags = ack
		s.seq, s.ack = c.cSeq, c.sSeq
		o = g.dataOpts(o, c, false)
		c.state = stDone
	}
	if toServer {
		s.src, s.dst = c.client, c.server
	} else {
		s.src, s.dst = c.server, c.client
	}
	s.ipID = c.ipID
	c.ipID++
	s.opts = o
	g.opts = o
	g.w.write(g.now, &s, toServer)
	g.tick(14 + 40 + 32 + s.dataLen)
	return c.state != stDone
}

// dataOpts appends the options of an established connection's segment.
func (g *gen) dataOpts(o []byte, c *conn, fromServer bool) []byte {
	o = append(o, optNOP, optNOP)
	if fromServer {
		o = appendTS(o, c.ts+1000, c.ts)
	} else {
		o = appendTS(o, c.ts, c.ts+1000)
	}
	if c.mptcp && c.srv.mptcp {
		o = optDSS(o, c.sSeq)
	}
	return o
}

// tick advances the capture clock by the time a frame of n bytes takes at
// the configured rate, with some jitter.
func (g *gen) tick(n int) {
	d := int64(n) * 8 * 1000 / int64(g.cfg.RateMbps)
	g.now += d + g.rng.Int64N(d/2+1)
}
