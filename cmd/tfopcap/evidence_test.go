package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/engine"
	"github.com/tfopcap/tfopcap/internal/capturetest"
	"github.com/tfopcap/tfopcap/internal/synth"
)

// TestEvidence checks that --evidence writes exactly the SYNs and replies of
// the attempts with the chosen outcomes, byte for byte, in capture order.
func TestEvidence(t *testing.T) {
	src := filepath.Join(publicDir, "pathspider_tfo-measurement-exp254.pcap")
	if _, err := os.Stat(src); err != nil {
		t.Skip("../shared/captures/public is absent")
	}
	all := capturetest.ReadFrames(t, src)
	tests := []struct {
		outcomes string
		frames   []int // original frame numbers, in order
		want     map[analyze.Outcome]int
	}{
		// 78.140.190.102 rejected the cookie of frame 517; 40.117.92.192
		// omitted the cookie asked for in frame 1195.
		{"omitted,rejected", []int{517, 624, 1195, 1399}, map[analyze.Outcome]int{analyze.Omitted: 1, analyze.Rejected: 1}},
		// 46.45.154.70: a TFO SYN (1167), its plain retry (1705), the answer (1706).
		{"fallback", []int{1167, 1705, 1706}, map[analyze.Outcome]int{analyze.Fallback: 1}},
		{"refused", []int{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.outcomes, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "evidence.pcap")
			var stdout, stderr bytes.Buffer
			args := []string{"analyze", "--evidence", out, "--evidence-outcomes", tt.outcomes, src}
			if code := run(args, streams{strings.NewReader(""), &stdout, &stderr}); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			got := capturetest.ReadFrames(t, out)
			if tt.outcomes == "refused" {
				// The two refused attempts' SYNs and RSTs.
				if len(got) != 4 {
					t.Errorf("%d frames, want 4", len(got))
				}
				return
			}
			if len(got) != len(tt.frames) {
				t.Fatalf("%d frames, want %d", len(got), len(tt.frames))
			}
			for i, n := range tt.frames {
				want := all[n-1]
				if !bytes.Equal(got[i].Data, want.Data) || got[i].Time != want.Time || got[i].OrigLen != want.OrigLen {
					t.Errorf("evidence frame %d is not frame %d of the capture", i+1, n)
				}
			}
			r := analyzeJSON(t, out)
			counts := map[analyze.Outcome]int{}
			for _, s := range r.Servers {
				for _, o := range analyze.Outcomes() {
					if s.Outcomes[o] > 0 {
						counts[o] += s.Outcomes[o]
					}
				}
			}
			if len(counts) != len(tt.want) {
				t.Errorf("evidence re-analysed: %v, want %v", counts, tt.want)
			}
			for o, n := range tt.want {
				if counts[o] != n {
					t.Errorf("evidence re-analysed: %v, want %v", counts, tt.want)
				}
			}
		})
	}
}

// synthCapture writes a synthetic capture of cfg's profile with the given
// mix to dir and returns its path and expectation.
func synthCapture(t *testing.T, dir, mix string, size int64) (string, *synth.Expectation) {
	t.Helper()
	cfg, _ := synth.Profile("handshake")
	cfg.Mix, cfg.Size, cfg.MeanFlow, cfg.Servers = synth.MustMix(mix), size, 1, 2
	path := filepath.Join(dir, "synth.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	exp, err := synth.Generate(f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return path, exp
}

// TestEvidenceMax checks the cap on --evidence: by default the first
// engine.DefaultEvidenceMax failing attempts of each server, with a warning that
// counts the rest; --evidence-max raises it, 0 keeps all. The frames are
// streamed, yet in time order.
func TestEvidenceMax(t *testing.T) {
	dir := t.TempDir()
	src, exp := synthCapture(t, dir, "omitted=80,granted=20", 2<<20)
	omitted := exp.Outcomes["omitted"]
	servers := 0
	for _, oc := range exp.Servers {
		if oc["omitted"] > 0 {
			servers++
		}
	}
	for _, tt := range []struct {
		flag      string
		perServer int // 0: all
	}{{"", engine.DefaultEvidenceMax}, {"--evidence-max=3", 3}, {"--evidence-max=0", 0}} {
		t.Run(tt.flag, func(t *testing.T) {
			out := filepath.Join(dir, "evidence.pcap")
			args := []string{"-q", "--evidence", out, src}
			if tt.flag != "" {
				args = append([]string{tt.flag}, args...)
			}
			r := analyzeJSON(t, args...)
			ev := analyzeJSON(t, out)
			kept := 0
			for _, s := range ev.Servers {
				n := s.Outcomes[analyze.Omitted]
				if tt.perServer > 0 && n != tt.perServer {
					t.Errorf("%s: %d omitted attempts in the evidence, want %d", s.Server, n, tt.perServer)
				}
				if n != s.Attempts {
					t.Errorf("%s: evidence holds %d attempts, %d of them omitted", s.Server, s.Attempts, n)
				}
				kept += n
			}
			leftOut := omitted - kept
			warned := strings.Contains(strings.Join(r.Warnings, "\n"), fmt.Sprintf(": %d more of %d server(s) left out", leftOut, servers))
			switch {
			case tt.perServer == 0 && (kept != omitted || len(r.Warnings) != 0):
				t.Errorf("evidence holds %d of %d omitted attempts, warnings %q", kept, omitted, r.Warnings)
			case tt.perServer > 0 && !warned:
				t.Errorf("warnings %q do not say that %d attempts of %d servers were left out", r.Warnings, leftOut, servers)
			}
			frames := capturetest.ReadFrames(t, out)
			for i := 1; i < len(frames); i++ {
				if frames[i].Time < frames[i-1].Time {
					t.Fatalf("evidence frame %d is earlier than frame %d", i+1, i)
				}
			}
		})
	}
}
