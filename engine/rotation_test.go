package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/internal/capturetest"
)

// TestRotationsRecycleBatches checks that a rotation file costs far less
// than one event batch once read: the same frames cut into 10 or 100 files
// must allocate about the same. The merger once dropped each file's last
// batch (40 KB) instead of handing it to the next file's stage.
func TestRotationsRecycleBatches(t *testing.T) {
	frames := capturetest.ReadFrames(t, "../testdata/captures/host-6.18/host-eth.pcap")
	dir := t.TempDir()
	cut := func(files int) []string {
		per := (len(frames) + files - 1) / files
		var names []string
		for i := 0; i*per < len(frames); i++ {
			name := filepath.Join(dir, fmt.Sprintf("%d-%03d.pcap", files, i))
			capturetest.WritePcap(t, name, frames[i*per:min((i+1)*per, len(frames))])
			names = append(names, name)
		}
		return names
	}
	allocated := func(names []string) uint64 {
		var inputs []*FileInput
		for _, name := range names {
			in, err := ProbeInput(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, in)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := Files(context.Background(), inputs, Config{Sink: analyze.NewCollector(0)}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	few, many := cut(10), cut(100)
	a, b := allocated(few), allocated(many)
	perFile := (float64(b) - float64(a)) / float64(len(many)-len(few))
	batch := float64(batchSize * unsafe.Sizeof(event{}))
	t.Logf("%d files: %d bytes, %d files: %d bytes (%.0f a file; a batch is %.0f)", len(few), a, len(many), b, perFile, batch)
	if perFile > batch/4 {
		t.Errorf("each rotation file allocates %.0f bytes, a batch is %.0f", perFile, batch)
	}
}

// TestRotationOpenFailsAtItsTurn: a file that cannot be opened when the
// merge reaches it (removed after the probe) ends the run with an error
// naming it, whether it is the file read next or one read ahead.
func TestRotationOpenFailsAtItsTurn(t *testing.T) {
	frames := capturetest.ReadFrames(t, "../testdata/captures/host-6.18/host-eth.pcap")
	for _, gone := range []int{1, 2} {
		dir := t.TempDir()
		per := (len(frames) + 2) / 3
		var inputs []*FileInput
		var names []string
		for i := 0; i < 3; i++ {
			name := filepath.Join(dir, fmt.Sprintf("rot%d.pcap", i))
			capturetest.WritePcap(t, name, frames[i*per:min((i+1)*per, len(frames))])
			in, err := ProbeInput(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			inputs, names = append(inputs, in), append(names, name)
		}
		if err := os.Remove(names[gone]); err != nil {
			t.Fatal(err)
		}
		_, err := Files(context.Background(), inputs, Config{Sink: analyze.NewCollector(0)})
		if err == nil || !strings.Contains(err.Error(), filepath.Base(names[gone])) {
			t.Errorf("file %d removed: error %v, want one naming %s", gone, err, names[gone])
		}
	}
}

// TestRotationsReadAhead: once the two files being read are read to the
// end, the next one starts while the merge is still in the first, so that
// small rotation files are read on the other core ahead of the tracker.
// Reading stopped at two files whose batches were not yet merged once,
// which left the tracker waiting on every file of a tcpdump -C 1 set.
func TestRotationsReadAhead(t *testing.T) {
	frames := capturetest.ReadFrames(t, "../testdata/captures/host-6.18/host-eth.pcap")
	dir := t.TempDir()
	per := (len(frames) + 3) / 4
	var stages []*stage
	cfg := Config{}
	quit := make(chan struct{})
	defer close(quit)
	for i := 0; i*per < len(frames); i++ {
		name := filepath.Join(dir, fmt.Sprintf("rot%d.pcap", i))
		capturetest.WritePcap(t, name, frames[i*per:min((i+1)*per, len(frames))])
		in, err := ProbeInput(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := cfg.newStage(i, stageQueue(4), quit)
		s.in, s.first = in, in.first
		stages = append(stages, s)
	}
	m := newMerger(stages)
	defer m.drain()
	if m.next() == nil {
		t.Fatal("no event in the first file")
	}
	// Files 0 and 1 are read to the end soon: each is small enough for
	// the batches its stage may queue.
	for i := 0; len(m.finished) < 2; i++ {
		if i == 500 {
			t.Fatalf("after 5 s, %d of the first two stages have finished reading", len(m.finished))
		}
		time.Sleep(10 * time.Millisecond)
	}
	m.next() // still in file 0
	if !m.started[2] {
		t.Errorf("file 2 not started while files 0 and 1 were read to the end: started %v", m.started)
	}
}

// TestFilesFileCutShort: a file cut short by another program after its
// stage opened it (and read its first 256 KB) ends that source with a
// truncation error, and the attempts before the cut are judged as in a
// file that ends there: nothing lost.
func TestFilesFileCutShort(t *testing.T) {
	frames := capturetest.ReadFrames(t, "../testdata/captures/host-6.18/host-eth.pcap")
	// Repeated 1000 s apart, so that each copy's handshakes are new
	// attempts, until the file is several read buffers long.
	var many []capture.OwnedFrame
	size := 24
	for rep := 0; size < 3<<20; rep++ {
		for _, f := range frames {
			f.Time += int64(rep) * 1000e9
			many = append(many, f)
			size += 16 + len(f.Data)
		}
	}
	dir := t.TempDir()
	path := capturetest.WritePcap(t, filepath.Join(dir, "cut.pcap"), many)
	const cutAt = 2 << 20
	whole, end := 0, 24
	for _, f := range many {
		if end+16+len(f.Data) > cutAt {
			break
		}
		end += 16 + len(f.Data)
		whole++
	}
	prefix := capturetest.WritePcap(t, filepath.Join(dir, "prefix.pcap"), many[:whole])
	judge := func(in *FileInput) (*Result, *analyze.Summary) {
		t.Helper()
		coll := analyze.NewCollector(0)
		res, err := Files(context.Background(), []*FileInput{in}, Config{Sink: coll})
		if err != nil {
			t.Fatal(err)
		}
		return res, coll.Summary()
	}
	probe := func(name string) *FileInput {
		t.Helper()
		in, err := ProbeInput(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	wantRes, want := judge(probe(prefix))

	in := probe(path)
	r, err := in.open()
	if err != nil {
		t.Fatal(err)
	}
	if r.BytesRead() >= cutAt {
		t.Fatalf("opening read %d bytes, past the cut at %d", r.BytesRead(), cutAt)
	}
	if err := os.Truncate(path, cutAt); err != nil {
		t.Fatal(err)
	}
	res, got := judge(in)
	if err := res.Sources[0].Err; !errors.Is(err, capture.ErrTruncated) {
		t.Fatalf("source ended with %v, want ErrTruncated", err)
	}
	t.Logf("%v", res.Sources[0].Err)
	if res.Judged != wantRes.Judged || res.Outcomes != wantRes.Outcomes || got.Attempts() != want.Attempts() {
		t.Errorf("judged %d %v (%d in the report), want %d %v (%d) as in the file cut there",
			res.Judged, res.Outcomes, got.Attempts(), wantRes.Judged, wantRes.Outcomes, want.Attempts())
	}
	if res.Judged == 0 {
		t.Error("no attempt judged")
	}
}
