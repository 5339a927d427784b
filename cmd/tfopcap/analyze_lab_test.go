package main

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/internal/netnslab"
	"github.com/tfopcap/tfopcap/report"
)

// recorder is a packet capture program (tcpdump, dumpcap) running in a
// namespace until stopped.
type recorder struct {
	name string
	cmd  *exec.Cmd
	out  syncBuffer
}

func startRecorder(t *testing.T, ns netnslab.Netns, name string, argv ...string) *recorder {
	t.Helper()
	if _, err := exec.LookPath(argv[0]); err != nil {
		t.Skipf("%s not installed (apt-get install tcpdump tshark)", argv[0])
	}
	r := &recorder{name: name, cmd: ns.Command(argv[0], argv[1:]...)}
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait() })
	// Both tools say when they listen; before that, packets are lost.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(r.out.String(), "listening on") && !strings.Contains(r.out.String(), "Capturing on") {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not capturing after 10s: %s", name, r.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return r
}

func (r *recorder) stop(t *testing.T) {
	t.Helper()
	r.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still running 10s after SIGINT", r.name)
	}
}

// waitPacketSockets waits until ns has n packet sockets (/proc/net/packet
// is per network namespace), that is until n recorders really capture.
func waitPacketSockets(t *testing.T, ns netnslab.Netns, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := ns.Run("cat", "/proc/net/packet")
		if err != nil {
			t.Fatalf("%s: /proc/net/packet: %v", ns.Name, err)
		}
		if lines := strings.Count(strings.TrimSpace(out), "\n"); lines >= n {
			// libpcap attaches its filter and ring right after the socket.
			time.Sleep(100 * time.Millisecond)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d recorders not capturing after 10s:\n%s", ns.Name, n, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAnalyzeLab builds the two-namespace lab, makes real TFO traffic
// between two Linux network stacks, records it with tcpdump and dumpcap in
// four formats, and checks that `tfopcap analyze` finds exactly the
// outcomes the traffic must produce: granted, omitted, accepted, rejected,
// renewed, fallback, refused, over IPv4, IPv6, TCP and MPTCP.
func TestAnalyzeLab(t *testing.T) {
	p := netnslab.NewPair(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft not installed (apt-get install nftables)")
	}
	dir := t.TempDir()
	v4 := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(p.ServerV4, port) }
	tfo, noTFO, mpTFO, mpNoTFO, dropTFO, closed := v4(8001), v4(8002), v4(8003), v4(8004), v4(8006), v4(8007)
	v6TFO := netip.AddrPortFrom(p.ServerV6, 8001)
	for _, s := range []netnslab.ServerConfig{
		{Addr: tfo, FastOpen: 16}, {Addr: noTFO}, {Addr: mpTFO, FastOpen: 16, MPTCP: true},
		{Addr: mpNoTFO, MPTCP: true}, {Addr: dropTFO, FastOpen: 16}, {Addr: v6TFO, FastOpen: 16},
	} {
		ln, err := p.Server.Listen(s)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
	}
	// A firewall that drops SYNs carrying TFO to 8006: the client's
	// retransmission goes without the option (fallback).
	nft := p.Server.Command("nft", "-f", "-")
	nft.Stdin = strings.NewReader(`table inet tfopcap_test {
  chain input {
    type filter hook input priority -10; policy accept;
    tcp dport 8006 tcp flags & (syn|ack) == syn tcp option fastopen exists drop
  }
}`)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}

	files := map[string]string{
		"eth.pcap":       filepath.Join(dir, "eth.pcap"),
		"any.pcap":       filepath.Join(dir, "any.pcap"),
		"nsec.pcap":      filepath.Join(dir, "nsec.pcap"),
		"dumpcap.pcapng": filepath.Join(dir, "dumpcap.pcapng"),
	}
	recs := []*recorder{
		startRecorder(t, p.Client, "tcpdump eth", "tcpdump", "-n", "--immediate-mode", "-s", "256", "-i", p.ClientIf, "-w", files["eth.pcap"]),
		startRecorder(t, p.Client, "tcpdump any", "tcpdump", "-n", "--immediate-mode", "-s", "256", "-i", "any", "-w", files["any.pcap"]),
		startRecorder(t, p.Server, "tcpdump nsec", "tcpdump", "-n", "--immediate-mode", "--time-stamp-precision=nano", "-i", p.ServerIf, "-w", files["nsec.pcap"]),
		startRecorder(t, p.Client, "dumpcap", "dumpcap", "-q", "-i", p.ClientIf, "-s", "256", "-w", files["dumpcap.pcapng"]),
	}
	// dumpcap says "Capturing on" before its capture process has opened
	// the interface: wait until every recorder's packet socket exists, or
	// the first handshakes are lost.
	waitPacketSockets(t, p.Client, 3)
	waitPacketSockets(t, p.Server, 1)

	rotateKey := func() {
		if err := p.Server.Sysctl("net.ipv4.tcp_fastopen_key", "00000001-00000002-00000003-00000004"); err != nil {
			t.Fatal(err)
		}
	}
	type step struct {
		flush, rotate bool
		server        netip.AddrPort
		mptcp         bool
		dataAcked     bool // what TCP_INFO must say
		fails         bool // the connection is refused
	}
	steps := []step{
		{flush: true, server: noTFO},                  // omitted
		{server: tfo},                                 // granted: the cookie is cached for the address
		{server: tfo, dataAcked: true},                // accepted
		{server: noTFO},                               // rejected: same address, no TFO there
		{rotate: true, server: tfo},                   // renewed: the server's key changed
		{server: tfo, dataAcked: true},                // accepted with the new cookie
		{flush: true, server: mpTFO, mptcp: true},     // granted over MPTCP (Linux >= 6.2)
		{server: mpTFO, mptcp: true, dataAcked: true}, // accepted over MPTCP
		{flush: true, server: mpNoTFO, mptcp: true},   // omitted, SYN-ACK with MP_CAPABLE
		{flush: true, server: dropTFO},                // fallback: the TFO SYN is dropped
		{flush: true, server: v6TFO},                  // granted over IPv6
		{server: v6TFO, dataAcked: true},              // accepted over IPv6
		{server: closed, fails: true},                 // refused
	}
	for i, s := range steps {
		if s.flush {
			if err := p.Client.FlushTCPMetrics(); err != nil {
				t.Fatal(err)
			}
		}
		if s.rotate {
			rotateKey()
		}
		res, err := p.Client.Dial(netnslab.DialConfig{Server: s.server, FastOpen: true, MPTCP: s.mptcp})
		if s.fails {
			if err == nil {
				t.Fatalf("step %d: %s accepted a connection", i+1, s.server)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
		if res.SYNDataAcked != s.dataAcked {
			t.Fatalf("step %d to %s: SYN data acked %v, want %v: the kernel did not do what the test expects", i+1, s.server, res.SYNDataAcked, s.dataAcked)
		}
	}
	time.Sleep(300 * time.Millisecond)
	for _, r := range recs {
		r.stop(t)
	}

	want := map[string]serverWant{
		tfo.String():     {"grants", map[string]int{"granted": 1, "accepted": 2, "renewed": 1}, report.MPTCPCounts{}},
		noTFO.String():   {"omits", map[string]int{"omitted": 1, "rejected": 1}, report.MPTCPCounts{}},
		mpTFO.String():   {"grants", map[string]int{"granted": 1, "accepted": 1}, report.MPTCPCounts{SYN: 2, SYNACK: 2}},
		mpNoTFO.String(): {"omits", map[string]int{"omitted": 1}, report.MPTCPCounts{SYN: 1, SYNACK: 1}},
		dropTFO.String(): {"inconclusive", map[string]int{"fallback": 1}, report.MPTCPCounts{}},
		v6TFO.String():   {"grants", map[string]int{"granted": 1, "accepted": 1}, report.MPTCPCounts{}},
		closed.String():  {"inconclusive", map[string]int{"refused": 1}, report.MPTCPCounts{}},
	}
	for name, file := range files {
		t.Run(name, func(t *testing.T) {
			checkServers(t, name, analyzeJSON(t, file), want)
		})
	}
	// One capture per interface, given together: the handshakes seen on
	// both ends are duplicates, never new attempts.
	t.Run("both ends together", func(t *testing.T) {
		checkServers(t, "eth+nsec", analyzeJSON(t, files["eth.pcap"], files["nsec.pcap"]), want)
	})
	if t.Failed() {
		for name, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				t.Logf("%s: %d bytes", name, len(b))
			}
		}
	}
}
