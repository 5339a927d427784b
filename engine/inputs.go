package engine

import (
	"io"
	"math"
	"os"
	"strings"
	"sync/atomic"

	"github.com/tfopcap/tfopcap/capture"
)

// FileInput is one capture file of a run. It is opened only when
// the merge needs it and closed as soon as it is read, so that hundreds of
// rotation files cost what two do (300 rotations of a 100 MB capture:
// 124 -> 32 MB peak RSS).
type FileInput struct {
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

// ProbeInput opens name, reads its first record's timestamp and closes it
// again; it returns the errors opening would (no such file, not a
// capture), before anything is read.
func ProbeInput(name string, stdin io.Reader) (*FileInput, error) {
	in := &FileInput{name: name}
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
func (in *FileInput) open() (*capture.FileReader, error) {
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
func (in *FileInput) finish() {
	in.info = in.r.Info()
	in.read.Store(in.r.BytesRead())
	in.reader.Store(nil)
	in.r.Close()
	in.r = nil
}

// Size and BytesRead drive the progress bar.
func (in *FileInput) Size() int64 { return in.size }

func (in *FileInput) BytesRead() int64 {
	if r := in.reader.Load(); r != nil {
		return r.BytesRead()
	}
	return in.read.Load()
}

// Name is the file's name as given ("-" for standard input).
func (in *FileInput) Name() string { return in.name }

// EvidenceLinkType is the link type of a pcap evidence file for these
// inputs: when every input is a pcap file and all share one link type.
// Otherwise (a pcapng input may describe new interfaces at any point) it
// is 0: write pcapng.
func EvidenceLinkType(inputs []*FileInput) uint16 {
	var lt uint16
	for _, in := range inputs {
		info := in.header
		if !strings.HasPrefix(info.Format, "pcap") || info.Format == "pcapng" || len(info.LinkTypes) != 1 {
			return 0
		}
		if lt != 0 && info.LinkTypes[0] != lt {
			return 0
		}
		lt = info.LinkTypes[0]
	}
	return lt
}
