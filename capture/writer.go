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
	lt, one := uint16(layers.LinkTypeEthernet), true
	for i := range frames {
		if i == 0 {
			lt = frames[i].LinkType
		} else if frames[i].LinkType != lt {
			one = false
			break
		}
	}
	var fw FrameWriter
	var err error
	if one {
		fw, err = NewPcapWriter(w, lt, writeSnaplen)
	} else {
		fw, err = NewNgWriter(w)
	}
	if err != nil {
		return err
	}
	for i := range frames {
		if err := fw.Write(&frames[i].Frame); err != nil {
			return err
		}
	}
	return fw.Flush()
}

// FrameWriter streams frames to a capture file: a PcapWriter or an
// NgWriter. Output is buffered: call Flush before closing the underlying
// writer.
type FrameWriter interface {
	Write(f *Frame) error
	Flush() error
}

// NgWriter streams frames of any link types to a pcapng file: one section,
// one interface per link type in the order first seen. Output is buffered:
// call Flush before closing the underlying writer. After a write error
// every call fails. An NgWriter is not safe for concurrent use.
type NgWriter struct {
	w       io.Writer
	ng      *pcapgo.NgWriter // made with the first frame's interface
	ifaceOf map[uint16]int
	err     error
}

// NewNgWriter returns a writer of a pcapng file to w. The section header
// goes out with the first frame (pcapgo wants an interface with it), or
// with Flush when there is none.
func NewNgWriter(w io.Writer) (*NgWriter, error) {
	return &NgWriter{w: w, ifaceOf: map[uint16]int{}}, nil
}

// start writes the section header and the interface of linkType.
func (w *NgWriter) start(linkType uint16) error {
	ng, err := pcapgo.NewNgWriterInterface(w.w, ngInterface(linkType), pcapgo.NgWriterOptions{
		SectionInfo: pcapgo.NgSectionInfo{Application: "tfopcap"},
	})
	if err != nil {
		w.err = fmt.Errorf("write pcapng: %w", err)
		return w.err
	}
	w.ng, w.ifaceOf[linkType] = ng, 0
	return nil
}

// Write appends f, on the interface of its link type.
func (w *NgWriter) Write(f *Frame) error {
	if w.err != nil {
		return w.err
	}
	if w.ng == nil {
		if err := w.start(f.LinkType); err != nil {
			return err
		}
	}
	iface, ok := w.ifaceOf[f.LinkType]
	if !ok {
		var err error
		if iface, err = w.ng.AddInterface(ngInterface(f.LinkType)); err != nil {
			w.err = fmt.Errorf("write pcapng: %w", err)
			return w.err
		}
		w.ifaceOf[f.LinkType] = iface
	}
	ci := captureInfo(f)
	ci.InterfaceIndex = iface
	if err := w.ng.WritePacket(ci, f.Data); err != nil {
		w.err = fmt.Errorf("write pcapng: frame %d: %w", f.Number, err)
	}
	return w.err
}

// Flush writes buffered frames to the underlying writer.
func (w *NgWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.ng == nil && w.start(uint16(layers.LinkTypeEthernet)) != nil {
		return w.err
	}
	if err := w.ng.Flush(); err != nil {
		w.err = fmt.Errorf("write pcapng: %w", err)
	}
	return w.err
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
