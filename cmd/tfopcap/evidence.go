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
// while their attempt is open, so memory follows open attempts, not the
// capture.
type evidence struct {
	path     string
	outcomes []analyze.Outcome
	pending  map[uint64][]capture.OwnedFrame
	kept     []capture.OwnedFrame
	attempts int
}

func newEvidence(path string, outcomes []analyze.Outcome) *evidence {
	return &evidence{path: path, outcomes: outcomes, pending: map[uint64][]capture.OwnedFrame{}}
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
	if slices.Contains(e.outcomes, a.Outcome) {
		e.kept = append(e.kept, frames...)
		e.attempts++
	}
}

// write saves the kept frames in capture order: pcap, or pcapng when they
// span several link types.
func (e *evidence) write() error {
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
