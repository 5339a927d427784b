package capture

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// writeSnaplen is the snapshot length declared by the files written here.
const writeSnaplen = MaxCaptureLength

// WriteFrames writes frames, in the order given, as one capture file: pcap
// with nanosecond timestamps when they all have one link type, else pcapng
// with one interface per link type (in the order first seen). Times, lengths
// and bytes are kept as they are. With no frames it writes an empty
// Ethernet pcap, so the output is always a readable file. Frame.Interface
// and Frame.Number are not written.
func WriteFrames(w io.Writer, frames []OwnedFrame) error {
	var types []uint16
	ifaceOf := make(map[uint16]int)
	for i := range frames {
		lt := frames[i].LinkType
		if _, ok := ifaceOf[lt]; !ok {
			ifaceOf[lt] = len(types)
			types = append(types, lt)
		}
	}
	if len(types) <= 1 {
		lt := uint16(layers.LinkTypeEthernet)
		if len(types) == 1 {
			lt = types[0]
		}
		pw, err := NewPcapWriter(w, lt, writeSnaplen)
		if err != nil {
			return err
		}
		for i := range frames {
			if err := pw.Write(&frames[i].Frame); err != nil {
				return err
			}
		}
		return pw.Flush()
	}

	ng, err := pcapgo.NewNgWriterInterface(w, ngInterface(types[0]), pcapgo.NgWriterOptions{
		SectionInfo: pcapgo.NgSectionInfo{Application: "tfopcap"},
	})
	if err != nil {
		return fmt.Errorf("write pcapng: %w", err)
	}
	for _, lt := range types[1:] {
		if _, err := ng.AddInterface(ngInterface(lt)); err != nil {
			return fmt.Errorf("write pcapng: %w", err)
		}
	}
	for i := range frames {
		f := &frames[i].Frame
		ci := captureInfo(f)
		ci.InterfaceIndex = ifaceOf[f.LinkType]
		if err := ng.WritePacket(ci, f.Data); err != nil {
			return fmt.Errorf("write pcapng: frame %d: %w", f.Number, err)
		}
	}
	if err := ng.Flush(); err != nil {
		return fmt.Errorf("write pcapng: %w", err)
	}
	return nil
}

func ngInterface(lt uint16) pcapgo.NgInterface {
	return pcapgo.NgInterface{
		LinkType:   layers.LinkType(lt),
		SnapLength: writeSnaplen,
		// AddInterface writes if_tsresol 9 (nanoseconds) whatever this says.
		TimestampResolution: 9,
	}
}

// captureInfo describes f to pcapgo. A record may not claim fewer original
// bytes than it holds, so OrigLen is raised to len(Data) if need be.
func captureInfo(f *Frame) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{
		Timestamp:     time.Unix(0, f.Time).UTC(),
		CaptureLength: len(f.Data),
		Length:        max(f.OrigLen, len(f.Data)),
	}
}

// PcapWriter streams frames of one link type to a pcap file with
// nanosecond timestamps (used for live capture's -w). Output is buffered:
// call Flush before closing the underlying writer. A PcapWriter is not safe
// for concurrent use.
type PcapWriter struct {
	bw       *bufio.Writer
	pw       *pcapgo.Writer
	linkType uint16
	err      error
}

// NewPcapWriter writes a pcap file header for linkType and snaplen (the
// snapshot length frames were captured with; 0 or less declares
// MaxCaptureLength) to w and returns a writer for its frames.
func NewPcapWriter(w io.Writer, linkType uint16, snaplen int) (*PcapWriter, error) {
	if snaplen <= 0 || snaplen > MaxCaptureLength {
		snaplen = MaxCaptureLength
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	pw := pcapgo.NewWriterNanos(bw)
	if err := pw.WriteFileHeader(uint32(snaplen), layers.LinkType(linkType)); err != nil {
		return nil, fmt.Errorf("write pcap header: %w", err)
	}
	return &PcapWriter{bw: bw, pw: pw, linkType: linkType}, nil
}

// Write appends f. A frame of another link type than the writer's is an
// error (a pcap file has one); after a write error every call fails.
func (w *PcapWriter) Write(f *Frame) error {
	if w.err != nil {
		return w.err
	}
	if f.LinkType != w.linkType {
		return fmt.Errorf("write pcap: frame %d has link type %d, the file %d", f.Number, f.LinkType, w.linkType)
	}
	if err := w.pw.WritePacket(captureInfo(f), f.Data); err != nil {
		w.err = fmt.Errorf("write pcap: %w", err)
		return w.err
	}
	return nil
}

// Flush writes buffered frames to the underlying writer.
func (w *PcapWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("write pcap: %w", err)
	}
	return w.err
}
