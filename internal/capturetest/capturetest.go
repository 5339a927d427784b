// Package capturetest reads and writes capture files for tests: the frames
// of a real capture, reordered, cut or damaged, written back as a pcap.
package capturetest

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/tfopcap/tfopcap/capture"
)

// ReadFrames returns the frames of a capture file, owned.
func ReadFrames(t testing.TB, path string) []capture.OwnedFrame {
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

// WritePcap writes frames to a new pcap file at path and returns path.
func WritePcap(t testing.TB, path string, frames []capture.OwnedFrame) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := capture.WriteFrames(f, frames); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
