package main

// Conformance tests check tfopcap against an independent dissector: tshark.
// Per packet, tfopcap's view of TFO and MPTCP options must equal tshark's
// fields; per server, the outcome counts must equal those of a simple
// oracle that applies DESIGN.md's rules to tshark's dissection. The tests
// run over every real capture available (the public ones in ../shared and
// the lab's in testdata/captures) and skip without tshark.

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/report"
)

// publicDir holds the shared public captures; tests skip when it is absent.
const publicDir = "../../../shared/captures/public"

// realCaptures lists every real capture the tests can use.
func realCaptures(t *testing.T) []string {
	t.Helper()
	var files []string
	pub, _ := filepath.Glob(filepath.Join(publicDir, "*.pcap*"))
	files = append(files, pub...)
	filepath.WalkDir("../../testdata/captures", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng") || strings.HasSuffix(path, ".gz")) {
			files = append(files, path)
		}
		return nil
	})
	if len(files) == 0 {
		t.Skip("no real captures: ../shared/captures/public and testdata/captures are absent")
	}
	return files
}

func needTshark(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
}

// tsPacket is one TCP SYN or RST as tshark dissects it.
type tsPacket struct {
	frame, iface int
	ifindex      int    // the -i any (SLL2) interface index, 0 when none
	time         int64  // µs since the epoch
	src, dst     string // ip:port, [ipv6]:port
	flags        uint8
	seq, ack     uint32
	dataLen      int
	tfo          string // none, request, cookie, malformed
	cookie       string
	tfoKind      int
	mptcp        bool
	mptcpSubtype int // -1 when tshark gives none
}

const tsharkFields = "frame.number frame.interface_id ip.src ipv6.src ip.dst ipv6.dst tcp.srcport tcp.dstport " +
	"tcp.flags tcp.seq_raw tcp.ack_raw tcp.len tcp.options.tfo.request tcp.options.tfo.cookie " +
	"tcp.options.experimental.exid tcp.option_kind tcp.options.mptcp.subtype frame.time_epoch sll.ifindex"

// tsharkPackets dissects the SYNs and RSTs of file with tshark.
func tsharkPackets(t *testing.T, file string) []tsPacket {
	t.Helper()
	args := []string{"-n", "-r", file, "-Y", "tcp.flags.syn==1 || tcp.flags.reset==1", "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range strings.Fields(tsharkFields) {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", file, err, stderr.String())
	}
	var pkts []tsPacket
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		c := strings.Split(sc.Text(), "|")
		if len(c) != 19 {
			t.Fatalf("tshark line %q: %d fields", sc.Text(), len(c))
		}
		// Tunnels give several IP layers: the innermost carries the TCP.
		last := func(s string) string { return s[strings.LastIndex(s, ",")+1:] }
		p := tsPacket{frame: atoi(c[0]), iface: atoi(c[1]), dataLen: atoi(last(c[11])), mptcpSubtype: -1,
			time: epochMicros(c[17]), ifindex: atoi(c[18])}
		src, dst := last(c[2]), last(c[4])
		if c[3] != "" {
			src, dst = "["+last(c[3])+"]", "["+last(c[5])+"]"
		}
		p.src, p.dst = src+":"+last(c[6]), dst+":"+last(c[7])
		p.flags = uint8(parseUint(c[8]))
		p.seq, p.ack = uint32(parseUint(c[9])), uint32(parseUint(c[10]))
		kinds := strings.Split(c[15], ",")
		switch {
		case c[12] == "1":
			p.tfo = "request"
		case c[13] != "":
			cookie := strings.Split(c[13], ",")[0]
			p.cookie = cookie
			if n := len(cookie) / 2; n >= 4 && n <= 16 {
				p.tfo = "cookie"
			} else {
				p.tfo, p.cookie = "malformed", ""
			}
		default:
			p.tfo = "none"
		}
		if p.tfo != "none" {
			p.tfoKind = 34
			if strings.Contains(c[14], "0xf989") && !contains(kinds, "34") {
				p.tfoKind = 254
				if contains(kinds, "253") {
					p.tfoKind = 253
				}
			}
		}
		if contains(kinds, "30") {
			p.mptcp = true
			if c[16] != "" {
				p.mptcpSubtype = atoi(strings.Split(c[16], ",")[0])
			}
		}
		pkts = append(pkts, p)
	}
	return pkts
}

// epochMicros parses tshark's frame.time_epoch ("1796158740.486376000").
func epochMicros(s string) int64 {
	sec, frac, _ := strings.Cut(s, ".")
	frac = (frac + "000000")[:6]
	return int64(atoi(sec))*1e6 + int64(atoi(frac))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func parseUint(s string) uint64 {
	n, _ := strconv.ParseUint(s, 0, 64)
	return n
}

// ourPackets decodes the SYNs and RSTs of file with tfopcap's own reader
// and decoder, keyed by frame number.
func ourPackets(t *testing.T, file string) map[int]analyze.Segment {
	t.Helper()
	r, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	segs := map[int]analyze.Segment{}
	var f capture.Frame
	for {
		err := r.Next(&f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var seg analyze.Segment
		if analyze.Decode(f.LinkType, f.Data, f.OrigLen, &seg) == analyze.DecodedTCP && seg.Flags&(analyze.FlagSYN|analyze.FlagRST) != 0 {
			segs[f.Number] = seg
		}
	}
	return segs
}

// TestPacketsMatchTshark checks, for every SYN, SYN-ACK and RST in every
// real capture, that tfopcap sees the same TFO option (state, kind,
// cookie), MPTCP option and data length as tshark.
func TestPacketsMatchTshark(t *testing.T) {
	needTshark(t)
	for _, file := range realCaptures(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ours := ourPackets(t, file)
			theirs := tsharkPackets(t, file)
			if len(theirs) != len(ours) {
				t.Errorf("tshark sees %d SYN/RST segments, tfopcap %d", len(theirs), len(ours))
			}
			for _, p := range theirs {
				seg, ok := ours[p.frame]
				if !ok {
					t.Errorf("frame %d: tfopcap decoded no TCP segment", p.frame)
					continue
				}
				got := fmt.Sprintf("%s>%s flags %#x seq %d ack %d len %d", seg.Src, seg.Dst, seg.Flags&0x3f, seg.Seq, seg.Ack, seg.DataLen)
				want := fmt.Sprintf("%s>%s flags %#x seq %d ack %d len %d", p.src, p.dst, p.flags&0x3f, p.seq, p.ack, p.dataLen)
				if got != want {
					t.Errorf("frame %d: tfopcap %s, tshark %s", p.frame, got, want)
				}
				if seg.Flags&analyze.FlagSYN == 0 {
					continue
				}
				tfo := seg.Options.TFO
				kind := 0
				if tfo.State != analyze.TFONone {
					kind = int(tfo.Kind)
				}
				got = fmt.Sprintf("tfo %s kind %d cookie %q", tfo.State, kind, hex.EncodeToString(tfo.Cookie()))
				want = fmt.Sprintf("tfo %s kind %d cookie %q", p.tfo, p.tfoKind, p.cookie)
				if got != want {
					t.Errorf("frame %d: tfopcap %s, tshark %s", p.frame, got, want)
				}
				m := seg.Options.MPTCP
				if m.Present != p.mptcp {
					t.Errorf("frame %d: tfopcap MPTCP %v, tshark %v", p.frame, m.Present, p.mptcp)
				} else if m.Present && m.Len >= 3 && p.mptcpSubtype >= 0 && int(m.Subtype) != p.mptcpSubtype {
					t.Errorf("frame %d: tfopcap MPTCP subtype %d, tshark %d", p.frame, m.Subtype, p.mptcpSubtype)
				}
			}
		})
	}
}

// oracleServer is what the oracle expects of one server.
type oracleServer struct {
	outcomes map[string]int
	mptcp    report.MPTCPCounts
	orphans  int
}

// oracle applies DESIGN.md's matching and outcome rules to tshark's
// packets, in file order, with no timeouts: a deliberately plain second
// implementation.
func oracle(pkts []tsPacket) map[string]*oracleServer {
	type attempt struct {
		client, server string
		isn            uint32
		first          tsPacket
		malformed      bool
		plainRetry     int // index into pkts, -1 if none
		reply          *tsPacket
		replyIdx       int
		// Copies (DESIGN.md, "Copies, retransmissions and vantage
		// points"): a SYN within 50 ms of the latest send with the same
		// data is a copy of it; behind a NAT it has other addresses but
		// the ISN, and is seen elsewhere. flows are the (client, server)
		// pairs the attempt was seen on.
		sent     int64
		sends    int
		stripped bool
		flows    [][2]string
	}
	const copyWindow = 50_000 // µs
	elsewhere := func(p, q *tsPacket) bool { return p.iface != q.iface || p.ifindex != q.ifindex }
	near := func(a, b int64) bool { return a-b <= copyWindow && b-a <= copyWindow }
	var attempts []*attempt
	servers := map[string]*oracleServer{}
	server := func(s string) *oracleServer {
		if servers[s] == nil {
			servers[s] = &oracleServer{outcomes: map[string]int{}}
		}
		return servers[s]
	}
	for i := range pkts {
		p := &pkts[i]
		switch {
		case p.flags&0x12 == 0x02: // SYN
			var a *attempt
			for _, x := range attempts {
				for _, f := range x.flows {
					if f == [2]string{p.src, p.dst} && x.isn == p.seq {
						a = x
					}
				}
			}
			for _, x := range attempts {
				if a == nil && x.isn == p.seq && x.first.dataLen == p.dataLen && near(p.time, x.sent) && elsewhere(p, &x.first) {
					a = x // a NAT'd copy
					a.flows = append(a.flows, [2]string{p.src, p.dst})
				}
			}
			if a == nil {
				attempts = append(attempts, &attempt{client: p.src, server: p.dst, isn: p.seq, first: *p, malformed: p.tfo == "malformed",
					plainRetry: -1, sent: p.time, flows: [][2]string{{p.src, p.dst}}})
				continue
			}
			if p.tfo == "malformed" {
				a.malformed = true
			}
			switch {
			case near(p.time, a.sent) && p.dataLen == a.first.dataLen: // a copy
				if a.sends == 0 && elsewhere(p, &a.first) && (a.first.tfo == "none") != (p.tfo == "none") {
					a.stripped = true
					if a.first.tfo == "none" {
						a.first = *p // the copy with the option is the client's
					}
				}
			default: // a retransmission
				a.sends++
				a.sent = p.time
				if a.first.tfo != "none" && p.tfo == "none" && a.plainRetry < 0 {
					a.plainRetry = i
				}
			}
		case p.flags&0x12 == 0x12, p.flags&0x14 == 0x14: // SYN-ACK, RST+ACK
			matched := false
			for _, a := range attempts {
				if slices.Contains(a.flows, [2]string{p.dst, p.src}) && p.ack-(a.isn+1) <= uint32(a.first.dataLen) {
					matched = true
					if a.reply == nil {
						a.reply, a.replyIdx = p, i
					}
					break
				}
			}
			if !matched && p.flags&0x12 == 0x12 {
				server(p.src).orphans++
			}
		}
	}
	for _, a := range attempts {
		s := server(a.server)
		var outcome string
		r := a.reply
		switch {
		case a.malformed || (r != nil && r.tfo == "malformed"):
			outcome = "malformed"
		case a.stripped && (r == nil || (r.tfo != "cookie" && r.ack == a.isn+1)):
			outcome = "stripped"
		case r == nil:
			outcome = "unanswered"
		case r.flags&0x04 != 0:
			outcome = "refused"
		case a.first.tfo == "none":
			outcome = "plain"
		case r.tfo != "cookie" && r.ack == a.isn+1 && a.plainRetry >= 0 && a.replyIdx > a.plainRetry:
			outcome = "fallback"
		case a.first.tfo == "request" && r.tfo == "cookie":
			outcome = "granted"
		case a.first.tfo == "request":
			outcome = "omitted"
		case r.ack != a.isn+1:
			outcome = "accepted"
		case r.tfo == "cookie":
			outcome = "renewed"
		case a.first.dataLen > 0:
			outcome = "rejected"
		default:
			outcome = "unconfirmed"
		}
		s.outcomes[outcome]++
		if a.first.mptcp {
			s.mptcp.SYN++
		}
		if r != nil && r.mptcp {
			s.mptcp.SYNACK++
		}
	}
	return servers
}

// analyzeJSON runs `tfopcap analyze --format json` in-process.
func analyzeJSON(t *testing.T, args ...string) *report.Report {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"analyze", "--format", "json"}, args...), streams{strings.NewReader(""), &stdout, &stderr})
	if code != exitOK {
		t.Fatalf("tfopcap analyze %v: exit %d: %s", args, code, stderr.String())
	}
	var r report.Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	return &r
}

// TestOutcomesMatchTsharkOracle checks every server's outcome counts, MPTCP
// counts and orphan SYN-ACKs against the oracle.
func TestOutcomesMatchTsharkOracle(t *testing.T) {
	needTshark(t)
	for _, file := range realCaptures(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			want := oracle(tsharkPackets(t, file))
			r := analyzeJSON(t, "--all-servers", file) // the oracle lists plain servers too
			got := map[string]report.ServerReport{}
			for _, s := range r.Servers {
				got[s.Server] = s
			}
			var names []string
			for name := range want {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				w := want[name]
				g, ok := got[name]
				if !ok {
					t.Errorf("server %s missing from the report", name)
					continue
				}
				gotOutcomes := map[string]int{}
				for _, o := range analyze.Outcomes() {
					if n := g.Outcomes[o]; n > 0 {
						gotOutcomes[o.String()] = n
					}
				}
				if fmt.Sprint(gotOutcomes) != fmt.Sprint(w.outcomes) {
					t.Errorf("server %s: outcomes %v, oracle %v", name, gotOutcomes, w.outcomes)
				}
				if g.MPTCP != w.mptcp {
					t.Errorf("server %s: MPTCP %+v, oracle %+v", name, g.MPTCP, w.mptcp)
				}
				if g.SYNACKWithoutSYN != w.orphans {
					t.Errorf("server %s: SYN-ACKs without SYN %d, oracle %d", name, g.SYNACKWithoutSYN, w.orphans)
				}
			}
			if len(got) != len(want) {
				t.Errorf("report has %d servers, oracle %d", len(got), len(want))
			}
		})
	}
}
