package main

import (
	"cmp"
	"fmt"
	"os"
	"slices"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
)

// evidence collects the packets that prove chosen outcomes: the SYNs, their
// retransmissions and the replies of every attempt whose outcome is in the
// set, with original bytes, timestamps and link types. Frames are held only
// while their attempt is open. From files (analyze) the kept frames are
// written at the end in capture order, as pcap or, across link types,
// pcapng; from a live interface (one link type, no end in sight) each
// attempt's frames are written as soon as it is judged, so memory follows
// open attempts, not the length of the capture.
type evidence struct {
	path     string
	outcomes []analyze.Outcome
	pending  map[uint64][]capture.OwnedFrame
	kept     []capture.OwnedFrame
	attempts int

	// stream is set for live capture: frames go out as attempts end.
	file   *os.File
	stream *capture.PcapWriter
	err    error
}

func newEvidence(path string, outcomes []analyze.Outcome) *evidence {
	return &evidence{path: path, outcomes: outcomes, pending: map[uint64][]capture.OwnedFrame{}}
}

// newStreamEvidence writes evidence as attempts end, into a pcap of one
// link type.
func newStreamEvidence(path string, outcomes []analyze.Outcome, linkType uint16, snaplen int) (*evidence, error) {
	e := newEvidence(path, outcomes)
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	if e.stream, err = capture.NewPcapWriter(f, linkType, snaplen); err != nil {
		f.Close()
		return nil, fmt.Errorf("evidence %s: %w", path, err)
	}
	e.file = f
	return e, nil
}

// add files a frame under the attempt it joined (id 0: none, dropped).
func (e *evidence) add(id uint64, f *capture.OwnedFrame) {
	if id != 0 && f != nil {
		e.pending[id] = append(e.pending[id], *f)
	}
}

// finalised keeps or drops an attempt's frames once its outcome is known.
func (e *evidence) finalised(a *analyze.Attempt) {
	frames, ok := e.pending[a.ID]
	if !ok {
		return
	}
	delete(e.pending, a.ID)
	if !slices.Contains(e.outcomes, a.Outcome) {
		return
	}
	e.attempts++
	if e.stream == nil {
		e.kept = append(e.kept, frames...)
		return
	}
	for i := range frames {
		if e.err == nil {
			e.err = e.stream.Write(&frames[i].Frame)
		}
	}
}

// write finishes the evidence file.
func (e *evidence) write() error {
	if e.stream != nil {
		err := e.err
		if err == nil {
			err = e.stream.Flush()
		}
		if cerr := e.file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("evidence %s: %w", e.path, err)
		}
		return nil
	}
	slices.SortStableFunc(e.kept, func(a, b capture.OwnedFrame) int {
		return cmp.Compare(a.Time, b.Time)
	})
	f, err := os.Create(e.path)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if err := capture.WriteFrames(f, e.kept); err != nil {
		f.Close()
		return fmt.Errorf("evidence %s: %w", e.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}
