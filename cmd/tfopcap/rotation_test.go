package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/capture"
)

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
	frames := readFrames(t, src)
	const files = 100
	per := (len(frames) + files - 1) / files
	dir := t.TempDir()
	var names []string
	for i := 0; i*per < len(frames); i++ {
		name := filepath.Join(dir, fmt.Sprintf("rot%03d.pcap", i))
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := capture.WriteFrames(f, frames[i*per:min((i+1)*per, len(frames))]); err != nil {
			t.Fatal(err)
		}
		f.Close()
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

	// Packets and attempts only: whether a retry in the next file is a
	// retransmission or a copy is the tracker's business (issue 10).
	if got.Totals.Packets != want.Totals.Packets || got.Totals.Attempts != want.Totals.Attempts || len(got.Servers) != len(want.Servers) {
		t.Errorf("%d rotations: %d packets, %d attempts, %d servers; whole file %d, %d, %d", len(names),
			got.Totals.Packets, got.Totals.Attempts, len(got.Servers), want.Totals.Packets, want.Totals.Attempts, len(want.Servers))
	}
	// The merge's file, the next one read ahead and one more for slack.
	if extra := int(peak.Load()) - base; extra > minRunning+1 {
		t.Errorf("%d rotation files: up to %d open at once, want at most %d", len(names), extra, minRunning+1)
	}
}
