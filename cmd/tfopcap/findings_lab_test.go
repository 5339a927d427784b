package main

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/netnslab"
	"github.com/tfopcap/tfopcap/report"
)

// idsWant are the finding IDs a server, or the capture as a whole, must
// and must not get.
type idsWant struct {
	Must    []analyze.FindingID `json:"must"`
	MustNot []analyze.FindingID `json:"must_not"`
}

// serverIDsWant is a server's verdict and finding IDs.
type serverIDsWant struct {
	Verdict string `json:"verdict"`
	idsWant
}

// findingsSituation is one entry of a findings lab manifest
// (testdata/lab/run-findings).
type findingsSituation struct {
	Name     string                   `json:"name"`
	File     string                   `json:"file"`
	Servers  map[string]serverIDsWant `json:"servers"`
	Findings idsWant                  `json:"findings"`
}

// checkIDs reports the IDs got lacks from must and holds from mustNot.
func checkIDs(t *testing.T, what string, got []analyze.FindingID, w idsWant) {
	t.Helper()
	for _, id := range w.Must {
		if !slices.Contains(got, id) {
			t.Errorf("%s: lacks %s (got %v)", what, id, got)
		}
	}
	for _, id := range w.MustNot {
		if slices.Contains(got, id) {
			t.Errorf("%s: has %s, which the capture contradicts (got %v)", what, id, got)
		}
	}
}

// checkFindings checks a report against a situation: every listed
// server's verdict and IDs, the capture-wide IDs, and that every hint has
// its ID.
func checkFindings(t *testing.T, r *report.Report, sit findingsSituation) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range r.Servers {
		if len(s.HintIDs) != len(s.Hints) {
			t.Errorf("%s: %d hints, %d hint IDs", s.Server, len(s.Hints), len(s.HintIDs))
		}
		w, ok := sit.Servers[s.Server]
		if !ok {
			continue
		}
		seen[s.Server] = true
		if s.Verdict.String() != w.Verdict {
			t.Errorf("%s: verdict %s, want %s", s.Server, s.Verdict, w.Verdict)
		}
		checkIDs(t, s.Server, s.HintIDs, w.idsWant)
	}
	for server := range sit.Servers {
		if !seen[server] {
			t.Errorf("%s: not in the report", server)
		}
	}
	var ids []analyze.FindingID
	for _, f := range r.Findings {
		ids = append(ids, f.ID)
	}
	checkIDs(t, "capture-wide findings", ids, sit.Findings)
}

// TestFindingsLabCaptures checks the committed findings captures against
// what their manifests say each situation must and must not give.
func TestFindingsLabCaptures(t *testing.T) {
	manifests, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "captures", "findings-*", "manifest.json"))
	if len(manifests) == 0 {
		t.Fatal("no testdata/captures/findings-*/manifest.json")
	}
	for _, m := range manifests {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		var man struct {
			Situations []findingsSituation `json:"situations"`
		}
		if err := json.Unmarshal(b, &man); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		for _, sit := range man.Situations {
			t.Run(filepath.Base(filepath.Dir(m))+"/"+sit.Name, func(t *testing.T) {
				checkFindings(t, analyzeJSON(t, "--all-servers", filepath.Join(filepath.Dir(m), sit.File)), sit)
			})
		}
	}
}

// TestFindingsLab makes the findings situations live on the running
// kernel, with Go servers and clients in fresh namespaces (Linux keeps the
// blackhole state per namespace), captures each with tcpdump and checks the
// IDs it must and must not give. testdata/lab/run-findings makes the same
// situations with nginx, haproxy and curl as well.
func TestFindingsLab(t *testing.T) {
	netnslab.Require(t)
	for _, sit := range []struct {
		name string
		run  func(t *testing.T, p *netnslab.Pair) findingsSituation
	}{
		{"listeners", labListeners},
		{"not-mptcp", labNotMPTCP},
		{"blackhole", labBlackhole},
		{"no-tfo", labNoTFO},
	} {
		t.Run(sit.name, func(t *testing.T) {
			p := netnslab.NewPair(t)
			file := filepath.Join(t.TempDir(), sit.name+".pcap")
			rec := startRecorder(t, p.Client, "tcpdump", "tcpdump", "-n", "--immediate-mode", "-s", "256", "-i", p.ClientIf, "-w", file, "tcp")
			waitPacketSockets(t, p.Client, 1)
			want := sit.run(t, p)
			time.Sleep(200 * time.Millisecond)
			rec.stop(t)
			checkFindings(t, analyzeJSON(t, "--all-servers", file), want)
		})
	}
}

func listen(t *testing.T, p *netnslab.Pair, cfg netnslab.ServerConfig) {
	t.Helper()
	ln, err := p.Server.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
}

// dialTFO makes n TFO connections (the first asks for a cookie when none
// is cached), flushing the client's cookie cache first.
func dialTFO(t *testing.T, p *netnslab.Pair, server netip.AddrPort, mptcp bool, n int) {
	t.Helper()
	if err := p.Client.FlushTCPMetrics(); err != nil {
		t.Fatal(err)
	}
	for range n {
		if _, err := p.Client.Dial(netnslab.DialConfig{Server: server, FastOpen: true, MPTCP: mptcp}); err != nil {
			t.Fatal(err)
		}
	}
}

func must(ids ...analyze.FindingID) []analyze.FindingID { return ids }

// labListeners: MPTCP listeners with and without TCP_FASTOPEN and a plain
// one without, on one host. The one granting on MPTCP proves the kernel
// does TFO on MPTCP sockets, so the others lack TCP_FASTOPEN.
func labListeners(t *testing.T, p *netnslab.Pair) findingsSituation {
	mpTFO, mpNoTFO, noTFO := netip.AddrPortFrom(p.ServerV4, 8001), netip.AddrPortFrom(p.ServerV4, 8005), netip.AddrPortFrom(p.ServerV4, 8004)
	listen(t, p, netnslab.ServerConfig{Addr: mpTFO, MPTCP: true, FastOpen: 16})
	listen(t, p, netnslab.ServerConfig{Addr: mpNoTFO, MPTCP: true})
	listen(t, p, netnslab.ServerConfig{Addr: noTFO})
	dialTFO(t, p, mpTFO, true, 2)
	dialTFO(t, p, mpNoTFO, true, 2)
	dialTFO(t, p, noTFO, false, 2)
	return findingsSituation{
		Servers: map[string]serverIDsWant{
			mpTFO.String():   {"grants", idsWant{}},
			mpNoTFO.String(): {"omits", idsWant{must(analyze.FindListenerNoTFO), must(analyze.FindMPTCPTFOUnsupported, analyze.FindMPTCPUnseen, analyze.FindNotMPTCP, analyze.FindOtherCauses)}},
			noTFO.String():   {"omits", idsWant{must(analyze.FindListenerNoTFO), must(analyze.FindMPTCPTFOUnsupported, analyze.FindMPTCPUnseen, analyze.FindNotMPTCP)}},
		},
		Findings: idsWant{MustNot: must(analyze.FindClientBlackhole, analyze.FindNoTFOClients)},
	}
}

// labNotMPTCP: MPTCP clients answered by a plain listener without TFO,
// alone on its host.
func labNotMPTCP(t *testing.T, p *netnslab.Pair) findingsSituation {
	noTFO := netip.AddrPortFrom(p.ServerV4, 8004)
	listen(t, p, netnslab.ServerConfig{Addr: noTFO})
	dialTFO(t, p, noTFO, true, 2)
	return findingsSituation{
		Servers: map[string]serverIDsWant{
			noTFO.String(): {"omits", idsWant{must(analyze.FindNotMPTCP, analyze.FindOtherCauses), must(analyze.FindMPTCPTFOUnsupported, analyze.FindMPTCPUnseen, analyze.FindListenerNoTFO)}},
		},
		Findings: idsWant{MustNot: must(analyze.FindClientBlackhole, analyze.FindNoTFOClients)},
	}
}

// labBlackhole: a client with blackhole detection on gets cookies, then its
// TFO SYN and the whole flow are dropped until detection fires (the SYN
// timer's third firing, 3 s in on 6.18's linear SYN timeouts); its next
// connections to the server that granted cookies go without TFO.
func labBlackhole(t *testing.T, p *netnslab.Pair) findingsSituation {
	tfo, dropped := netip.AddrPortFrom(p.ServerV4, 8001), netip.AddrPortFrom(p.ServerV4, 8003)
	if err := p.Client.Sysctl("net.ipv4.tcp_fastopen_blackhole_timeout_sec", "3600"); err != nil {
		t.Skipf("no blackhole detection here: %v", err)
	}
	listen(t, p, netnslab.ServerConfig{Addr: tfo, FastOpen: 16})
	listen(t, p, netnslab.ServerConfig{Addr: dropped, FastOpen: 16})
	nft := p.Server.Command("nft", "-f", "-")
	nft.Stdin = strings.NewReader(`table inet tfopcap_test {
  set tfoflows { type ipv4_addr . inet_service; flags dynamic, timeout; timeout 60s; }
  chain input {
    type filter hook input priority -10; policy accept;
    tcp dport 8003 tcp flags & (syn|ack) == syn tcp option fastopen exists add @tfoflows { ip saddr . tcp sport } drop
    tcp dport 8003 tcp flags & (syn|ack) == syn ip saddr . tcp sport @tfoflows drop
  }
}`)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Skipf("nft: %v: %s", err, out)
	}
	dialTFO(t, p, tfo, false, 2)
	if _, err := p.Client.Dial(netnslab.DialConfig{Server: dropped, FastOpen: true, Timeout: 3500 * time.Millisecond}); err == nil {
		t.Fatal("the dropped flow connected")
	}
	for range 2 {
		if _, err := p.Client.Dial(netnslab.DialConfig{Server: tfo, FastOpen: true}); err != nil {
			t.Fatal(err)
		}
	}
	// The kernel's own count says whether detection fired: if not, the
	// finding would be wrong, not missing.
	out, err := p.Client.Run("nstat", "-az", "TcpExtTCPFastOpenBlackhole")
	if err != nil {
		t.Skipf("nstat: %v", err)
	}
	if f := strings.Fields(out); !slices.Contains(f, "TcpExtTCPFastOpenBlackhole") || f[slices.Index(f, "TcpExtTCPFastOpenBlackhole")+1] != "1" {
		t.Fatalf("the kernel did not detect the blackhole: %s", out)
	}
	return findingsSituation{
		Servers: map[string]serverIDsWant{
			tfo.String():     {"grants", idsWant{}},
			dropped.String(): {"inconclusive", idsWant{}},
		},
		Findings: idsWant{must(analyze.FindClientBlackhole), must(analyze.FindNoTFOClients)},
	}
}

// labNoTFO: clients that never ask for TFO.
func labNoTFO(t *testing.T, p *netnslab.Pair) findingsSituation {
	tfo := netip.AddrPortFrom(p.ServerV4, 8002)
	listen(t, p, netnslab.ServerConfig{Addr: tfo, FastOpen: 16})
	for range 2 {
		if _, err := p.Client.Dial(netnslab.DialConfig{Server: tfo}); err != nil {
			t.Fatal(err)
		}
	}
	return findingsSituation{
		Servers: map[string]serverIDsWant{
			tfo.String(): {"inconclusive", idsWant{MustNot: must(analyze.FindMPTCPTFOUnsupported, analyze.FindListenerNoTFO, analyze.FindOtherCauses)}},
		},
		Findings: idsWant{must(analyze.FindNoTFOClients), must(analyze.FindClientBlackhole)},
	}
}

// TestFindingsOnSeedAndHostCaptures pins the findings of the first lab
// runs: the seed (Linux 6.1) keeps its MPTCP cause, and on 6.18, where
// :8001 grants cookies on MPTCP, no listener is blamed on the kernel.
func TestFindingsOnSeedAndHostCaptures(t *testing.T) {
	lab := func(f string) string { return filepath.Join("..", "..", "testdata", "captures", f) }
	mptcpCause := serverIDsWant{"omits", idsWant{must(analyze.FindMPTCPTFOUnsupported), must(analyze.FindListenerNoTFO, analyze.FindNotMPTCP, analyze.FindMPTCPUnseen)}}
	noTFO := serverIDsWant{"omits", idsWant{must(analyze.FindListenerNoTFO), must(analyze.FindMPTCPTFOUnsupported, analyze.FindMPTCPUnseen, analyze.FindOtherCauses)}}
	plainNoTFO := serverIDsWant{"omits", idsWant{must(analyze.FindListenerNoTFO, analyze.FindNotMPTCP), must(analyze.FindMPTCPTFOUnsupported, analyze.FindMPTCPUnseen, analyze.FindOtherCauses)}}
	quiet := idsWant{MustNot: must(analyze.FindClientBlackhole, analyze.FindNoTFOClients)}
	for _, tc := range []struct {
		file string
		sit  findingsSituation
	}{
		{lab("seed-6.1/seed-eth.pcap"), findingsSituation{Servers: map[string]serverIDsWant{
			"10.77.0.1:8001": mptcpCause, "10.77.0.1:8004": mptcpCause, "[fd77::1]:8001": mptcpCause,
		}, Findings: quiet}},
		{lab("host-6.18/host-eth.pcap"), findingsSituation{Servers: map[string]serverIDsWant{
			"10.77.0.1:8005": noTFO, "[fd77::1]:8005": noTFO, "10.77.0.1:8004": plainNoTFO, "[fd77::1]:8004": plainNoTFO,
		}, Findings: quiet}},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) { checkFindings(t, analyzeJSON(t, "--all-servers", tc.file), tc.sit) })
	}
}
