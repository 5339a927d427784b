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
	// loose holds the last frames that joined no attempt when they came:
	// a reply the tracker parks until its SYN arrives is found here.
	loose     map[frameID]capture.OwnedFrame
	looseFIFO []frameID

	// stream is set for live capture: frames go out as attempts end.
	file   *os.File
	stream *capture.PcapWriter
	err    error
}

// frameID names a frame across inputs.
type frameID struct{ input, frame int }

// maxLoose bounds the frames kept for replies that came before their SYN.
const maxLoose = 4096

func newEvidence(path string, outcomes []analyze.Outcome) *evidence {
	return &evidence{path: path, outcomes: outcomes, pending: map[uint64][]capture.OwnedFrame{},
		loose: map[frameID]capture.OwnedFrame{}}
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

// add files a frame under the attempt it joined; one that joined none is
// kept a while in case the tracker matches it later (a reply that came
// before its SYN).
func (e *evidence) add(id uint64, ref analyze.PacketRef, f *capture.OwnedFrame) {
	switch {
	case f == nil:
	case id != 0:
		e.pending[id] = append(e.pending[id], *f)
	default:
		if len(e.looseFIFO) >= maxLoose {
			delete(e.loose, e.looseFIFO[0])
			e.looseFIFO = e.looseFIFO[1:]
		}
		fid := frameID{ref.Input, ref.Frame}
		e.loose[fid] = *f
		e.looseFIFO = append(e.looseFIFO, fid)
	}
}

// finalised keeps or drops an attempt's frames once its outcome is known.
func (e *evidence) finalised(a *analyze.Attempt) {
	frames, ok := e.pending[a.ID]
	if !ok {
		return
	}
	delete(e.pending, a.ID)
	if a.Answered() {
		// A reply parked until its SYN came joined no attempt when read.
		if f, ok := e.loose[frameID{a.Reply.Input, a.Reply.Frame}]; ok {
			delete(e.loose, frameID{a.Reply.Input, a.Reply.Frame})
			frames = append(frames, f)
			slices.SortStableFunc(frames, func(x, y capture.OwnedFrame) int { return cmp.Compare(x.Time, y.Time) })
		}
	}
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
