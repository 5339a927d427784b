package main

import (
	"io"
	"math"
	"os"
	"sync/atomic"

	"github.com/tfopcap/tfopcap/capture"
)

// fileInput is one capture file given to analyze. It is opened only when
// the merge needs it and closed as soon as it is read, so that hundreds of
// rotation files cost what two do (300 rotations of a 100 MB capture:
// 124 -> 32 MB peak RSS).
type fileInput struct {
	name string
	// first is the timestamp of the file's first record, read by a probe,
	// or math.MinInt64 when there is none (the stage starts at once and
	// reports what the file holds).
	first int64
	size  int64 // regular file's size, else 0

	r    *capture.FileReader // open while its stage reads
	info capture.Info        // valid once its stage has ended
	// header is what the probe read of the file before its first
	// record: its format and (pcap) link type, known before any stage runs.
	header capture.Info
	// reader and read serve the progress bar, on its own goroutine.
	reader atomic.Pointer[capture.FileReader]
	read   atomic.Int64 // bytes read by the closed reader
}

// probeInput opens name, reads its first record's timestamp and closes it
// again; it returns the errors opening would (no such file, not a
// capture), before anything is read.
func probeInput(name string, stdin io.Reader) (*fileInput, error) {
	in := &fileInput{name: name}
	if name == "-" {
		r, err := capture.NewFileReader("-", stdin)
		if err != nil {
			return nil, err
		}
		in.r, in.first, in.header = r, math.MinInt64, r.Info()
		in.reader.Store(r)
		return in, nil
	}
	first, ok, info, err := capture.FirstTime(name)
	in.header = info
	switch {
	case err != nil:
		return nil, err
	case ok:
		in.first = first
	default:
		in.first = math.MinInt64
	}
	if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() {
		in.size = st.Size()
	}
	return in, nil
}

// open opens the file for reading (again).
func (in *fileInput) open() (*capture.FileReader, error) {
	if in.r != nil { // standard input, opened by the probe
		return in.r, nil
	}
	r, err := capture.Open(in.name)
	if err != nil {
		return nil, err
	}
	in.r = r
	in.reader.Store(r)
	return r, nil
}

// finish keeps what the report needs of the reader and closes it.
func (in *fileInput) finish() {
	in.info = in.r.Info()
	in.read.Store(in.r.BytesRead())
	in.reader.Store(nil)
	in.r.Close()
	in.r = nil
}

// Size and BytesRead drive the progress bar.
func (in *fileInput) Size() int64 { return in.size }

func (in *fileInput) BytesRead() int64 {
	if r := in.reader.Load(); r != nil {
		return r.BytesRead()
	}
	return in.read.Load()
}
