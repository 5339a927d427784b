package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
)

// readFrames returns the frames of a capture file, owned.
func readFrames(t *testing.T, path string) []capture.OwnedFrame {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var frames []capture.OwnedFrame
	var f capture.Frame
	for {
		err := r.Next(&f)
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f.Clone())
	}
}

// TestEvidence checks that --evidence writes exactly the SYNs and replies of
// the attempts with the chosen outcomes, byte for byte, in capture order.
func TestEvidence(t *testing.T) {
	src := filepath.Join(publicDir, "pathspider_tfo-measurement-exp254.pcap")
	if _, err := os.Stat(src); err != nil {
		t.Skip("../shared/captures/public is absent")
	}
	all := readFrames(t, src)
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
			got := readFrames(t, out)
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
