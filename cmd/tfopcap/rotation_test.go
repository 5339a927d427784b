package main

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/capturetest"
	"github.com/tfopcap/tfopcap/report"
)

// TestRotationsReportTheWhole cuts real captures with SYN retransmissions
// (host-6.18: fallbacks and unanswered attempts resent at 1 s) into many
// files as tcpdump -C does, with editcap -c, and checks that the pieces
// read together give the whole file's report: verdicts, outcome counts,
// findings and every attempt's retransmission count. A retransmission in
// the next file is the client sending again, not a copy from elsewhere.
// The pcapng pieces concatenated are one file of many sections, which must
// give the same report too.
func TestRotationsReportTheWhole(t *testing.T) {
	if _, err := exec.LookPath("editcap"); err != nil {
		t.Skip("editcap (wireshark-common) is not installed")
	}
	lab := filepath.Join("..", "..", "testdata", "captures", "host-6.18")
	for _, tc := range []struct {
		file   string
		frames int // per piece
	}{
		{"host-eth.pcap", 1},      // 901 pieces: a file per frame
		{"host-any-sll2.pcap", 4}, // 226 pieces
		{"host.pcapng", 5},        // 181 pieces
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.file, tc.frames), func(t *testing.T) {
			whole := filepath.Join(lab, tc.file)
			pieces := editcapPieces(t, whole, tc.frames)
			if len(pieces) < 100 {
				t.Fatalf("only %d pieces", len(pieces))
			}
			want := reportEssence(analyzeJSON(t, whole))
			if got := reportEssence(analyzeJSON(t, pieces...)); !reflect.DeepEqual(got, want) {
				t.Errorf("%d pieces report differently from the whole file:\n got %+v\nwant %+v", len(pieces), got, want)
			}
			if filepath.Ext(tc.file) != ".pcapng" {
				return
			}
			sections := filepath.Join(t.TempDir(), "sections.pcapng")
			concatFiles(t, sections, pieces)
			if got := reportEssence(analyzeJSON(t, sections)); !reflect.DeepEqual(got, want) {
				t.Errorf("%d sections report differently from the whole file:\n got %+v\nwant %+v", len(pieces), got, want)
			}
		})
	}
}

// editcapPieces cuts file into pieces of n frames and returns them in order.
func editcapPieces(t *testing.T, file string, n int) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "piece"+filepath.Ext(file))
	if b, err := exec.Command("editcap", "-c", fmt.Sprint(n), file, out).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v: %s", err, b)
	}
	pieces, err := filepath.Glob(filepath.Join(filepath.Dir(out), "piece_*"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(pieces) // editcap numbers them with leading zeros
	return pieces
}

func concatFiles(t *testing.T, dst string, files []string) {
	t.Helper()
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if err := os.WriteFile(dst, all, 0o644); err != nil {
		t.Fatal(err)
	}
}

// essence is what a report says, without where its frames are: the
// inputs and frame numbers of pieces differ from the whole file's.
type essence struct {
	Totals   report.Totals
	Servers  []report.ServerReport
	Findings []report.FindingReport
	Attempts []attemptEssence
}

type attemptEssence struct {
	Client, Server       string
	ISN                  uint32
	Outcome              analyze.Outcome
	Retransmits, Copies  int
	SYNSends, ReplySends int
	PlainRetry, Stripped bool
}

// frameRef is a frame named in a finding's text (input:frame).
var frameRef = regexp.MustCompile(`frame \d+:\d+`)

func reportEssence(r *report.Report) essence {
	e := essence{Totals: r.Totals}
	e.Totals.Packets = 0 // a piece's packet count is its own
	// Findings name frames, which are the pieces' own: keep the rest.
	for _, s := range r.Servers {
		s.Hints = slices.Clone(s.Hints)
		for i, h := range s.Hints {
			s.Hints[i] = frameRef.ReplaceAllString(h, "frame N")
		}
		e.Servers = append(e.Servers, s)
	}
	for _, f := range r.Findings {
		f.Text = frameRef.ReplaceAllString(f.Text, "frame N")
		e.Findings = append(e.Findings, f)
	}
	for _, a := range r.Attempts {
		ae := attemptEssence{Client: a.Client, Server: a.Server, ISN: a.ISN, Outcome: a.Outcome,
			Retransmits: a.SYN.Retransmits, Copies: a.SYN.Duplicates, SYNSends: len(a.SYN.Seen),
			PlainRetry: a.SYN.PlainRetryFrame != 0, Stripped: a.SYN.Stripped != nil}
		if a.Reply != nil {
			ae.ReplySends = len(a.Reply.Seen)
		}
		e.Attempts = append(e.Attempts, ae)
	}
	slices.SortFunc(e.Attempts, func(a, b attemptEssence) int {
		return cmp.Or(cmp.Compare(a.Client, b.Client), cmp.Compare(a.Server, b.Server), cmp.Compare(a.ISN, b.ISN))
	})
	return e
}

// TestRotationsOpenedLazily cuts a lab capture into 100 rotation files
// (as tcpdump -C or editcap -c would) and checks that analyze reads them
// all while holding only a few of them open at once:
// files are opened when the merge reaches their first timestamp, so
// memory stays flat however many rotations there are.
func TestRotationsOpenedLazily(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd to count open files")
	}
	src := "../../testdata/captures/host-6.18/host-eth.pcap"
	frames := capturetest.ReadFrames(t, src)
	const files = 100
	per := (len(frames) + files - 1) / files
	dir := t.TempDir()
	var names []string
	for i := 0; i*per < len(frames); i++ {
		name := filepath.Join(dir, fmt.Sprintf("rot%03d.pcap", i))
		capturetest.WritePcap(t, name, frames[i*per:min((i+1)*per, len(frames))])
		names = append(names, name)
	}
	want := analyzeJSON(t, src)

	openFiles := func() int {
		fds, _ := os.ReadDir("/proc/self/fd")
		return len(fds)
	}
	base := openFiles()
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			peak.Store(max(peak.Load(), int64(openFiles())))
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	got := analyzeJSON(t, names...)
	close(stop)
	<-sampled

	if got.Totals.Packets != want.Totals.Packets {
		t.Errorf("%d rotations: %d packets, whole file %d", len(names), got.Totals.Packets, want.Totals.Packets)
	}
	if g, w := reportEssence(got), reportEssence(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%d rotations report differently from the whole file:\n got %+v\nwant %+v", len(names), g, w)
	}
	// The merge's file, the next one read ahead and one more for slack.
	const maxOpen = 3
	if extra := int(peak.Load()) - base; extra > maxOpen {
		t.Errorf("%d rotation files: up to %d open at once, want at most %d", len(names), extra, maxOpen)
	}
}
