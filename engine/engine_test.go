package engine

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/internal/capturetest"
)

// TestParseServerAmbiguous checks --server forms: an unbracketed IPv6 that
// also reads as address and port is refused with the two bracketed forms
// to choose from; unambiguous ones are taken as they are.
func TestParseServerAmbiguous(t *testing.T) {
	tests := []struct {
		in      string
		addr    string // bare address matched on any port
		port    string // exact address and port
		errPart string
	}{
		{in: "fd77::1:8001", errPart: `"fd77::1:8001" is ambiguous: write [fd77::1]:8001 for port 8001 of fd77::1, or [fd77::1:8001] for the address`},
		{in: "2001:db8::1:443", errPart: "[2001:db8::1]:443"},
		{in: "[fd77::1:8001]", addr: "fd77::1:8001"},
		{in: "[fd77::1]:8001", port: "[fd77::1]:8001"},
		{in: "fd77::8001", addr: "fd77::8001"},                            // fd77: is no address
		{in: "2001:db8:0:0:0:0:0:1", addr: "2001:db8::1"},                 // eight groups: no room for a port
		{in: "fd77::1:ffff", addr: "fd77::1:ffff"},                        // not a decimal port
		{in: "fd77::1:0", addr: "fd77::1:0"},                              // port 0 is none
		{in: "::1", addr: "::1"},                                          //
		{in: "10.77.0.1", addr: "10.77.0.1"},                              //
		{in: "10.77.0.1:8001", port: "10.77.0.1:8001"},                    //
		{in: "fd77::1:8001x", errPart: "want IP, IP:PORT or [IPv6]:PORT"}, //
	}
	for _, tt := range tests {
		a, ap, err := parseServer(tt.in)
		switch {
		case tt.errPart != "":
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("%s: error %v, want one containing %q", tt.in, err, tt.errPart)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.in, err)
		case tt.addr != "" && (!a.IsValid() || a.String() != tt.addr):
			t.Errorf("%s: address %v port %v, want address %s", tt.in, a, ap, tt.addr)
		case tt.port != "" && (!ap.IsValid() || ap.String() != tt.port):
			t.Errorf("%s: address %v port %v, want %s", tt.in, a, ap, tt.port)
		}
	}
}

// TestEvidencePendingBudget checks that the frames held for attempts not
// yet judged stay within their budget however large the SYNs: the attempts
// open longest lose their frames, and the warning counts those that turn
// out to be wanted.
func TestEvidencePendingBudget(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ev.pcap")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEvidence(f, out, []analyze.Outcome{analyze.Omitted}, 0, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.pendingMax = 3 * 1000 // room for three fat SYNs
	server := netip.MustParseAddrPort("192.0.2.1:443")
	fat := func(id int) *capture.OwnedFrame {
		return &capture.OwnedFrame{Frame: capture.Frame{Data: make([]byte, 1000), OrigLen: 1000, Time: int64(id), LinkType: 1, Number: id}}
	}
	const n = 10
	for id := 1; id <= n; id++ {
		e.add(uint64(id), server, analyze.PacketRef{Frame: id, Time: int64(id)}, fat(id))
		if e.pendingBytes > e.pendingMax {
			t.Fatalf("after attempt %d: %d bytes pending, budget %d", id, e.pendingBytes, e.pendingMax)
		}
	}
	// A retransmission of an evicted attempt is not taken back.
	e.add(1, server, analyze.PacketRef{Frame: n + 1, Time: n + 1}, fat(n+1))
	for id := 1; id <= n; id++ {
		e.finalised(&analyze.Attempt{ID: uint64(id), Server: server, Outcome: analyze.Omitted})
	}
	warnings, err := e.close()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(capturetest.ReadFrames(t, out)); got != 3 {
		t.Errorf("%d frames written, want the 3 that fit", got)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], ": 7 omitted attempt(s) left out") {
		t.Errorf("warnings %q", warnings)
	}
}

// TestCountingSink: --count lets exactly N attempts into the report.
func TestCountingSink(t *testing.T) {
	coll := analyze.NewCollector(0)
	var streamed int
	sink := &countingSink{sink: coll, limit: 2, onJudged: func(*analyze.Attempt) { streamed++ }}
	server := netip.MustParseAddrPort("192.0.2.1:80")
	for i := range 3 {
		sink.Attempt(&analyze.Attempt{Server: server, Client: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.2"), uint16(1000+i)), Outcome: analyze.Granted})
	}
	r := coll.Summary()
	if !sink.full() || streamed != 2 || r.Attempts() != 2 || (Status{Judged: sink.judged, Outcomes: sink.outcomes}).Summary() != "2 attempts (granted 2)" {
		t.Errorf("full %v, streamed %d, report %d attempts, summary %q", sink.full(), streamed, r.Attempts(), (Status{Judged: sink.judged, Outcomes: sink.outcomes}).Summary())
	}
}

// TestFilesCount: Count stops a run over files once that many attempts are
// judged, and lets exactly those into the Sink.
func TestFilesCount(t *testing.T) {
	path := "../testdata/captures/seed-6.1/seed-eth.pcap"
	judge := func(count int) (*Result, *analyze.Collector) {
		in, err := ProbeInput(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		coll := analyze.NewCollector(0)
		res, err := Files(context.Background(), []*FileInput{in}, Config{Sink: coll, Count: count})
		if err != nil {
			t.Fatal(err)
		}
		return res, coll
	}
	all, _ := judge(0)
	if all.Judged < 3 {
		t.Fatalf("%d attempts in %s, want 3 or more", all.Judged, path)
	}
	res, coll := judge(2)
	if res.Judged != 2 || coll.Summary().Attempts() != 2 {
		t.Errorf("Count 2: %d judged, %d in the report", res.Judged, coll.Summary().Attempts())
	}
	if res.Sources[0].Info.Name != path {
		t.Errorf("source %q", res.Sources[0].Info.Name)
	}
}

// TestFilesStopped: a run stopped by its context ends before its input
// does, and its stages end too (their files closed, their stats final).
func TestFilesStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	coll := analyze.NewCollector(0)
	cfg := Config{Sink: coll}
	quit := make(chan struct{})
	st := cfg.newStage(0, 4, quit)
	const conns = 5000
	st.src = newReplaySource(conns, 0)
	r := newRun(cfg, 0)
	if err := r.consume(&fileFeed{m: newMerger([]*stage{st}), quit: quit, stops: newStops(ctx, cfg)}); err != nil {
		t.Fatal(err)
	}
	if _, open := <-st.out; open {
		t.Error("the stage still runs")
	}
	if r.tracker.Flush(); r.sink.judged >= conns {
		t.Errorf("%d of %d attempts judged after the stop", r.sink.judged, conns)
	}
}
