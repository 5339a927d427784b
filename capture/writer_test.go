package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// ownedFrames reads a capture and keeps every frame.
func ownedFrames(t testing.TB, path string) []OwnedFrame {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []OwnedFrame
	var f Frame
	for {
		err := r.Next(&f)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f.Clone())
	}
}

// sameFrames compares what a file keeps of frames: bytes, lengths, times
// and link types, in order.
func sameFrames(t testing.TB, got []rec, want []OwnedFrame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
	for i := range got {
		w := recOf(&want[i].Frame)
		g := got[i]
		if g.Time != w.Time || g.MD5 != w.MD5 || g.CapLen != w.CapLen || g.OrigLen != w.OrigLen || g.LinkType != w.LinkType || g.Number != i+1 {
			t.Fatalf("frame %d:\n got  %v\n want %v", i+1, g, w)
		}
	}
}

func TestWriteFramesPcap(t *testing.T) {
	for _, name := range []string{
		"tcpdump_tcp-handshake-nsec-sll.pcap",     // nanosecond times
		"pymptcpanalyzer_iperf-mptcp-ppp.pcap",    // times at the epoch: 0 must stay 0
		"ptcpdump_tcp-multi-idb-comments.pcapng",  // pcapng of one link type becomes pcap
		"tcpdump_scps-invalid-linktype-ipv4.pcap", // a link type nothing here decodes
		"tcpdump_mptcp-dss-oobr-malformed.pcap",   // a single frame
		"pathspider_tfo-measurement-exp254.pcap",  // many
	} {
		t.Run(name, func(t *testing.T) {
			frames := ownedFrames(t, publicFile(t, name))
			var buf bytes.Buffer
			if err := WriteFrames(&buf, frames); err != nil {
				t.Fatal(err)
			}
			if m := binary.LittleEndian.Uint32(buf.Bytes()); m != 0xa1b23c4d {
				t.Errorf("magic %08x, want nanosecond pcap", m)
			}
			got, info := mustReadAll(t, "written", buf.Bytes())
			sameFrames(t, got, frames)
			if info.Format != "pcap-ns" || info.Snaplen != MaxCaptureLength {
				t.Errorf("info %+v", info)
			}
			sameAsTshark(t, got, tsharkRecs(t, writeTemp(t, "w.pcap", buf.Bytes())))
		})
	}
}

// TestWriteFramesPcapng mixes link types, which only pcapng can hold: one
// interface per link type, in the order first seen.
func TestWriteFramesPcapng(t *testing.T) {
	var frames []OwnedFrame
	for _, name := range []string{
		"tcpdump_tfo-exp254-syndata.pcap",        // 1
		"tcpdump_mptcp-v1-sll.pcap",              // 113
		"ptcpdump_tfo-mptcp-sll2.pcap",           // 276
		"tcpdump_mptcp-tcprst-nosyn.pcap",        // 101
		"tcpdump_tcp-handshake-nsec-sll.pcap",    // 113 again
		"ptcpdump_tcp-multi-idb-comments.pcapng", // 1 again
	} {
		frames = append(frames, ownedFrames(t, publicFile(t, name))...)
	}
	var buf bytes.Buffer
	if err := WriteFrames(&buf, frames); err != nil {
		t.Fatal(err)
	}
	got, info := mustReadAll(t, "written", buf.Bytes())
	sameFrames(t, got, frames)
	if want := []uint16{1, 113, 276, 101}; info.Format != "pcapng" || !slices.Equal(info.LinkTypes, want) {
		t.Errorf("format %s link types %v, want pcapng %v", info.Format, info.LinkTypes, want)
	}
	for _, g := range got {
		if want := slices.Index(info.LinkTypes, g.LinkType); g.Interface != want {
			t.Fatalf("frame %v: want interface %d", g, want)
		}
	}
	sameAsTshark(t, got, tsharkRecs(t, writeTemp(t, "w.pcapng", buf.Bytes())))
}

func TestWriteFramesEdges(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFrames(&buf, nil); err != nil {
		t.Fatal(err)
	}
	got, info := mustReadAll(t, "empty", buf.Bytes())
	if len(got) != 0 || !slices.Equal(info.LinkTypes, []uint16{1}) {
		t.Errorf("no frames: %v %+v", got, info)
	}

	// A frame claiming fewer original bytes than it holds is written with
	// the original length raised, as a pcap record must be.
	buf.Reset()
	odd := OwnedFrame{Frame{Data: []byte{1, 2, 3, 4}, OrigLen: 2, Time: -1, LinkType: 1}}
	if err := WriteFrames(&buf, []OwnedFrame{odd}); err != nil {
		t.Fatal(err)
	}
	got, _ = mustReadAll(t, "odd", buf.Bytes())
	if len(got) != 1 || got[0].CapLen != 4 || got[0].OrigLen != 4 {
		t.Errorf("odd frame: %v", got)
	}
}

func TestPcapWriter(t *testing.T) {
	frames := ownedFrames(t, publicFile(t, "pathspider_tfo-measurement-exp254.pcap"))
	var buf bytes.Buffer
	w, err := NewPcapWriter(&buf, 1, 192)
	if err != nil {
		t.Fatal(err)
	}
	for i := range frames {
		if err := w.Write(&frames[i].Frame); err != nil {
			t.Fatal(err)
		}
	}
	other := frames[0]
	other.LinkType = 113
	if err := w.Write(&other.Frame); err == nil || !strings.Contains(err.Error(), "link type 113") {
		t.Errorf("frame of another link type: %v", err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, info := mustReadAll(t, "streamed", buf.Bytes())
	sameFrames(t, got, frames)
	if info.Snaplen != 192 || info.Format != "pcap-ns" {
		t.Errorf("info %+v, want snaplen 192, pcap-ns", info)
	}

	// Write errors surface, and stay.
	fail := errors.New("disk full")
	w, err = NewPcapWriter(failWriter{fail}, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range frames {
		if err = w.Write(&frames[i].Frame); err != nil {
			break
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if !errors.Is(err, fail) || !errors.Is(w.Flush(), fail) {
		t.Errorf("write error: %v", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }
