package main

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/capturetest"
	"github.com/tfopcap/tfopcap/report"
)

// TestDisorderedCapture checks that a file whose SYN-ACKs and RSTs were
// written before their SYNs (as a capture from several interfaces at once
// can be) gives the same verdicts as the ordered capture.
func TestDisorderedCapture(t *testing.T) {
	src := "../../testdata/captures/host-6.18/host-eth.pcap"
	frames := capturetest.ReadFrames(t, src)
	rng := rand.New(rand.NewPCG(7, 7))
	// Swap neighbours at random: each frame may move one place, a slip
	// of well under a millisecond in this capture.
	for i := 1; i < len(frames); i++ {
		if rng.IntN(2) == 0 {
			frames[i-1], frames[i] = frames[i], frames[i-1]
		}
	}
	out := filepath.Join(t.TempDir(), "disordered.pcap")
	capturetest.WritePcap(t, out, frames)
	want, got := analyzeJSON(t, src), analyzeJSON(t, out)
	if len(got.Servers) != len(want.Servers) {
		t.Fatalf("%d servers, ordered capture %d", len(got.Servers), len(want.Servers))
	}
	for i := range want.Servers {
		if a, b := serverGot(got.Servers[i]), serverGot(want.Servers[i]); a != b || got.Servers[i].SYNACKWithoutSYN != 0 {
			t.Errorf("%s: %s (%d SYN-ACKs without SYN), ordered capture %s", want.Servers[i].Server, a, got.Servers[i].SYNACKWithoutSYN, b)
		}
	}
}

// TestDisorderedEvidence checks that --evidence on a disordered capture
// still holds every failing attempt's SYN and reply, including replies
// written before their SYN.
func TestDisorderedEvidence(t *testing.T) {
	src := "../../testdata/captures/seed-6.1/seed-eth.pcap"
	frames := capturetest.ReadFrames(t, src)
	for i := 1; i < len(frames); i += 2 { // every pair swapped
		frames[i-1], frames[i] = frames[i], frames[i-1]
	}
	dir := t.TempDir()
	disordered := filepath.Join(dir, "disordered.pcap")
	capturetest.WritePcap(t, disordered, frames)
	evidence := filepath.Join(dir, "evidence.pcap")
	analyzeJSON(t, "--evidence", evidence, disordered)
	got, want := analyzeJSON(t, evidence), analyzeJSON(t, src)
	for _, w := range want.Servers {
		failing := w.Outcomes[analyze.Omitted] + w.Outcomes[analyze.Rejected]
		var g *report.ServerReport
		for i := range got.Servers {
			if got.Servers[i].Server == w.Server {
				g = &got.Servers[i]
			}
		}
		switch {
		case failing == 0 && g != nil:
			t.Errorf("%s: in the evidence but nothing failed there", w.Server)
		case failing > 0 && (g == nil || g.Outcomes[analyze.Omitted] != w.Outcomes[analyze.Omitted] ||
			g.Outcomes[analyze.Rejected] != w.Outcomes[analyze.Rejected] || g.Attempts != failing):
			t.Errorf("%s: evidence re-analysed %+v, want omitted %d rejected %d", w.Server, g, w.Outcomes[analyze.Omitted], w.Outcomes[analyze.Rejected])
		}
	}
}

// TestTimestampOutlier inserts into a lab capture one copy of a SYN-ACK
// stamped three years ahead, as a damaged record would be. It must not
// judge the attempts open at that moment unanswered (one record moved the
// clock that times them out, and their SYN-ACKs then vanished), and the
// report must say where the odd timestamp is.
func TestTimestampOutlier(t *testing.T) {
	src := "../../testdata/captures/host-6.18/host-eth.pcap"
	frames := capturetest.ReadFrames(t, src)
	at := -1
	for i := len(frames) / 2; i < len(frames); i++ {
		var seg analyze.Segment
		if analyze.Decode(frames[i].LinkType, frames[i].Data, frames[i].OrigLen, &seg) == analyze.DecodedTCP && seg.IsSYNACK() {
			at = i
			break
		}
	}
	if at < 0 {
		t.Fatal("no SYN-ACK in the second half of the capture")
	}
	odd := frames[at].Frame.Clone()
	odd.Time += 3 * 365 * 24 * 3600 * 1e9
	frames = slices.Insert(frames, at+1, odd)
	out := filepath.Join(t.TempDir(), "outlier.pcap")
	capturetest.WritePcap(t, out, frames)

	want, got := analyzeJSON(t, src), analyzeJSON(t, out)
	if got.Totals.Outcomes != want.Totals.Outcomes {
		t.Errorf("outcomes %v, without the outlier %v", got.Totals.Outcomes, want.Totals.Outcomes)
	}
	frame := fmt.Sprintf("frame %d", at+2) // 1-based, after the original
	if w := strings.Join(got.Warnings, "\n"); !strings.Contains(w, "did not move the clock") || !strings.Contains(w, frame) {
		t.Errorf("report warnings %q: want the outlier at %s named", got.Warnings, frame)
	}
	if w := strings.Join(got.Inputs[0].Warnings, "\n"); !strings.Contains(w, "jump(s) of more than") || !strings.Contains(w, "before the record preceding them") {
		t.Errorf("input warnings %q: want the jump ahead and the step back", got.Inputs[0].Warnings)
	}
}
