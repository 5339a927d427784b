// Package synth writes deterministic synthetic captures for tfopcap's
// benchmarks, together with the outcomes tfopcap must find in them.
//
// A capture is an Ethernet pcap (microsecond timestamps) of interleaved TCP
// connections, IPv4 and some IPv6, with Linux's SYN option sets (MSS, SACK
// permitted, timestamps, window scale), TFO requests and cookies in kind 34
// and the experimental kind 254, some MPTCP (MP_CAPABLE in handshakes, DSS
// on data), and mostly 1514-byte data segments. Each connection's handshake
// has one outcome drawn from a weighted mix; the generator counts them as
// it goes, so the expectation is exact, not estimated.
//
// The same Config and seed always give the same bytes. Nothing here is
// safe for concurrent use; separate Generate calls are independent.
package synth

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Config says what to generate.
type Config struct {
	Profile string  // name of the profile the defaults came from, for the expectation
	Size    int64   // stop starting connections once this many bytes are written
	Seed    uint64  // random seed
	V6      float64 // share of connections over IPv6
	MPTCP   float64 // share of client SYNs carrying MP_CAPABLE
	Exp254  float64 // share of TFO SYNs in the experimental kind 254 encoding
	Mix     Mix     // outcome weights
	// Concurrent is the number of connections open at once; their packets
	// interleave at random.
	Concurrent int
	MeanFlow   int64 // mean response bytes per connection (Pareto, shape 1.2)
	MaxFlow    int64 // cap on one connection's response bytes
	RequestMax int   // request bytes are 80 plus up to this many
	RateMbps   int   // link rate that spaces the timestamps
	Servers    int   // servers per address family: even ones grant, odd ones ignore TFO
}

// Profile returns the defaults of a named capture profile:
//
//   - bulk: a busy proxy's link, almost all of it full-size data segments of
//     long downloads; about six thousand handshakes per GB.
//   - handshake: short request/response connections, so that SYNs are a
//     large share of the packets: about 25 thousand TFO attempts per 100 MB.
func Profile(name string) (Config, bool) {
	c := Config{Profile: name, Size: 100 << 20, Seed: 1, V6: 0.1, MPTCP: 0.05, Exp254: 0.1, Servers: 8}
	switch name {
	case "bulk":
		c.Concurrent, c.MeanFlow, c.MaxFlow, c.RequestMax, c.RateMbps = 64, 256<<10, 64<<20, 600, 500
		c.Mix = MustMix("plain=40,granted=15,omitted=15,accepted=15,rejected=10,refused=3,unanswered=2")
	case "handshake":
		c.Concurrent, c.MeanFlow, c.MaxFlow, c.RequestMax, c.RateMbps = 512, 1500, 64<<10, 400, 100
		c.Mix = MustMix("plain=30,granted=20,omitted=20,accepted=15,rejected=10,refused=3,unanswered=2")
	default:
		return Config{}, false
	}
	return c, true
}

// Validate reports a setting Generate cannot use.
func (c *Config) Validate() error {
	switch {
	case c.Size <= 0:
		return fmt.Errorf("size must be positive")
	case c.Servers < 2:
		return fmt.Errorf("need at least 2 servers per address family")
	case c.V6 < 0 || c.V6 > 1 || c.MPTCP < 0 || c.MPTCP > 1 || c.Exp254 < 0 || c.Exp254 > 1:
		return fmt.Errorf("shares must be between 0 and 1")
	case c.Concurrent < 1 || c.MeanFlow < 1 || c.MaxFlow < 1 || c.RequestMax < 1 || c.RateMbps < 1:
		return fmt.Errorf("concurrency, flow sizes, request size and rate must be positive")
	case c.Mix.total <= 0:
		return fmt.Errorf("the outcome mix is empty")
	}
	return nil
}

// Outcomes lists the outcomes the generator produces, as tfopcap names them.
var Outcomes = []string{outPlain, outGranted, outOmitted, outAccepted, outRejected, outRefused, outUnanswered}

// Mix is a weighted choice of outcomes.
type Mix struct {
	names   []string
	weights []float64
	total   float64
}

// ParseMix parses "plain=40,granted=15,...": outcome names and weights.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(part, "=")
		if !ok || !slices.Contains(Outcomes, name) {
			return m, fmt.Errorf("%q: want OUTCOME=WEIGHT with one of %v", part, Outcomes)
		}
		f, err := strconv.ParseFloat(w, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) {
			return m, fmt.Errorf("%q: weight must be a number >= 0", part)
		}
		m.names = append(m.names, name)
		m.weights = append(m.weights, f)
		m.total += f
	}
	if m.total == 0 {
		return m, fmt.Errorf("all weights are zero")
	}
	return m, nil
}

// MustMix is ParseMix for constants.
func MustMix(s string) Mix {
	m, err := ParseMix(s)
	if err != nil {
		panic(err)
	}
	return m
}

func (m *Mix) draw(r *rand.Rand) string {
	x := r.Float64() * m.total
	for i, w := range m.weights {
		if x < w {
			return m.names[i]
		}
		x -= w
	}
	return m.names[len(m.names)-1]
}

// flowBytes draws a response size from a Pareto distribution (shape 1.2:
// many small transfers, a few elephants) with the configured mean, capped.
func (c *Config) flowBytes(r *rand.Rand) int {
	const alpha = 1.2
	xm := float64(c.MeanFlow) * (alpha - 1) / alpha
	u := 1 - r.Float64() // (0, 1]
	return int(min(xm/math.Pow(u, 1/alpha), float64(c.MaxFlow)))
}

// Expectation is what tfopcap must report for a generated capture.
type Expectation struct {
	Profile  string                    `json:"profile"`
	Seed     uint64                    `json:"seed"`
	Bytes    int64                     `json:"bytes"`
	Packets  int64                     `json:"packets"`
	SYNs     int64                     `json:"syn_packets"` // SYN, SYN-ACK and RST packets
	Attempts int                       `json:"attempts"`
	TFO      int                       `json:"tfo_attempts"`
	Outcomes map[string]int            `json:"outcomes"`
	Servers  map[string]map[string]int `json:"servers"`
	Verdicts map[string]string         `json:"verdicts"`
}

func (e *Expectation) add(c *conn) {
	e.Attempts++
	if c.tfoKind != 0 {
		e.TFO++
	}
	e.Outcomes[c.outcome]++
	k := c.server.String()
	if e.Servers[k] == nil {
		e.Servers[k] = map[string]int{}
	}
	e.Servers[k][c.outcome]++
}

// verdicts derives each server's verdict the way DESIGN.md defines it.
func (e *Expectation) verdicts() {
	e.Verdicts = map[string]string{}
	for s, oc := range e.Servers {
		g := oc[outGranted]+oc[outAccepted] > 0
		o := oc[outOmitted]+oc[outRejected] > 0
		switch {
		case g && o:
			e.Verdicts[s] = "mixed"
		case g:
			e.Verdicts[s] = "grants"
		case o:
			e.Verdicts[s] = "omits"
		default:
			e.Verdicts[s] = "inconclusive"
		}
	}
}

// Generate writes a capture to w and returns what it holds.
func Generate(w io.Writer, cfg Config) (*Expectation, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	g := &gen{
		cfg:    &cfg,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x7f0cab)),
		w:      newPcapWriter(bw),
		now:    1764113221e9, // 2025-11-25T23:27:01Z
		opts:   make([]byte, 0, 64),
		expect: &Expectation{Profile: cfg.Profile, Seed: cfg.Seed, Outcomes: map[string]int{}, Servers: map[string]map[string]int{}},
	}
	for i := range cfg.Servers {
		// Half grant; of those that do not, every other one is an MPTCP
		// listener, the case that started tfopcap.
		grants := i%2 == 0
		mp := !grants && i%4 == 1
		port := uint16([]int{443, 8443, 80, 8080}[i%4])
		g.servers = append(g.servers,
			&server{addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(1 + i)}), port), grants: grants, mptcp: mp},
			&server{addr: netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(1 + i)}), port), grants: grants, mptcp: mp})
	}
	active := make([]*conn, 0, cfg.Concurrent)
	for range cfg.Concurrent {
		active = append(active, g.newConn())
	}
	for len(active) > 0 {
		i := g.rng.IntN(len(active))
		c := active[i]
		if g.step(c) {
			continue
		}
		if g.w.bytes < cfg.Size {
			active[i] = g.newConn()
			continue
		}
		active[i] = active[len(active)-1]
		active = active[:len(active)-1]
		if len(active) == cfg.Concurrent-1 {
			// The size is reached: let the others finish soon, without
			// cutting any handshake (that would change its outcome).
			for _, a := range active {
				a.response = min(a.response, 8*a.sMSS)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	g.expect.Bytes, g.expect.Packets, g.expect.SYNs = g.w.bytes, g.w.packets, g.w.syns
	g.expect.verdicts()
	return g.expect, nil
}

// Report is the part of a tfopcap JSON report that Check compares.
type Report struct {
	Totals struct {
		Packets  int64          `json:"packets"`
		Attempts int            `json:"attempts"`
		Outcomes map[string]int `json:"outcomes"`
	} `json:"totals"`
	Servers []struct {
		Server   string         `json:"server"`
		Verdict  string         `json:"verdict"`
		Outcomes map[string]int `json:"outcomes"`
	} `json:"servers"`
}

// Check compares a report with the expectation: packets, attempts and
// outcomes in total and per server, and the verdicts. It returns the
// differences, sorted; none means the report is right.
func (e *Expectation) Check(rep *Report) []string {
	var diffs []string
	if rep.Totals.Packets != e.Packets {
		diffs = append(diffs, fmt.Sprintf("packets: report %d, expected %d", rep.Totals.Packets, e.Packets))
	}
	if rep.Totals.Attempts != e.Attempts {
		diffs = append(diffs, fmt.Sprintf("attempts: report %d, expected %d", rep.Totals.Attempts, e.Attempts))
	}
	diffs = append(diffs, diffCounts("totals", rep.Totals.Outcomes, e.Outcomes)...)
	seen := map[string]bool{}
	for _, s := range rep.Servers {
		seen[s.Server] = true
		if e.Servers[s.Server] == nil {
			diffs = append(diffs, fmt.Sprintf("server %s: not in the capture", s.Server))
			continue
		}
		diffs = append(diffs, diffCounts("server "+s.Server, s.Outcomes, e.Servers[s.Server])...)
		if s.Verdict != e.Verdicts[s.Server] {
			diffs = append(diffs, fmt.Sprintf("server %s: verdict %s, expected %s", s.Server, s.Verdict, e.Verdicts[s.Server]))
		}
	}
	for s := range e.Servers {
		if !seen[s] {
			diffs = append(diffs, fmt.Sprintf("server %s: missing from the report", s))
		}
	}
	slices.Sort(diffs)
	return diffs
}

func diffCounts(where string, got, want map[string]int) []string {
	var d []string
	for _, o := range Outcomes {
		if got[o] != want[o] {
			d = append(d, fmt.Sprintf("%s: %s %d, expected %d", where, o, got[o], want[o]))
		}
	}
	for o, n := range got {
		if !slices.Contains(Outcomes, o) && n > 0 {
			d = append(d, fmt.Sprintf("%s: %s %d, expected 0", where, o, n))
		}
	}
	return d
}
