package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
)

// bounds returns the offsets at which the records of a capture start
// (file header or blocks, then records), and its length, walking the file
// independently of the reader.
func bounds(t testing.TB, data []byte) []int {
	t.Helper()
	var b []int
	if isPcapng(data) {
		var bo binary.ByteOrder = binary.LittleEndian
		for off := 0; off < len(data); {
			b = append(b, off)
			if binary.LittleEndian.Uint32(data[off:]) == blockSHB {
				bo = binary.LittleEndian
				if binary.BigEndian.Uint32(data[off+8:]) == byteOrderMagic {
					bo = binary.BigEndian
				}
			}
			off += int(bo.Uint32(data[off+4:]))
		}
	} else {
		bo := binary.ByteOrder(binary.LittleEndian)
		if m := binary.BigEndian.Uint32(data); m == 0xa1b2c3d4 || m == 0xa1b23c4d {
			bo = binary.BigEndian
		}
		b = append(b, 0)
		for off := 24; off < len(data); off += 16 + int(bo.Uint32(data[off+8:])) {
			b = append(b, off)
		}
	}
	return append(b, len(data))
}

// checkErrKind fails unless err is one of the errors the package promises.
func checkErrKind(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil || err == io.EOF || errors.Is(err, ErrTruncated) || errors.Is(err, ErrNotCapture) || isFormatError(err) {
		return
	}
	t.Fatalf("%s: unexpected kind of error %T: %v", what, err, err)
}

// TestCutShortEverywhere cuts small real captures at every byte offset:
// the frames before the cut are read, then io.EOF if the cut falls between
// records, else ErrTruncated naming the offset of the record cut short.
func TestCutShortEverywhere(t *testing.T) {
	for _, name := range []string{
		"tcpdump_tfo-exp254-syndata.pcap",
		"tcpdump_tcp-handshake-nsec-sll.pcap",
		"ptcpdump_tcp-multi-idb-comments.pcapng",
	} {
		t.Run(name, func(t *testing.T) {
			data := readFile(t, publicFile(t, name))
			for _, variant := range []string{"native", "swapped"} {
				if variant == "swapped" {
					if isPcapng(data) {
						data = swapPcapng(t, data)
					} else {
						data = swapPcap(t, data)
					}
				}
				full, _ := mustReadAll(t, name, data)
				bs := bounds(t, data)
				ends := make([]int64, len(full)) // end of each frame's record
				for i, f := range full {
					for _, b := range bs {
						if int64(b) > f.Offset {
							ends[i] = int64(b)
							break
						}
					}
				}
				for k := 0; k <= len(data); k++ {
					what := fmt.Sprintf("%s %s cut at %d", name, variant, k)
					recs, info, err := readBytes("cut.pcap", data[:k])
					checkErrKind(t, what, err)
					if k < bs[1] { // inside the file header or first block
						switch {
						case k < 4 && !errors.Is(err, ErrNotCapture):
							t.Fatalf("%s: %v, want ErrNotCapture", what, err)
						case k >= 4 && !errors.Is(err, ErrTruncated):
							t.Fatalf("%s: %v, want ErrTruncated", what, err)
						case k >= 4 && !strings.Contains(err.Error(), "header cut short"):
							t.Fatalf("%s: %v", what, err)
						}
						continue
					}
					n := 0
					for n < len(full) && ends[n] <= int64(k) {
						n++
					}
					sameRecs(t, recs, full[:n])
					if info.Packets != n {
						t.Fatalf("%s: Info.Packets %d, want %d", what, info.Packets, n)
					}
					start := 0 // the record the cut falls in
					for _, b := range bs {
						if b <= k {
							start = b
						}
					}
					if start == k {
						if err != io.EOF {
							t.Fatalf("%s: cut between records, got %v", what, err)
						}
						continue
					}
					if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), fmt.Sprintf("at byte %d:", start)) {
						t.Fatalf("%s: %v, want ErrTruncated at byte %d", what, err, start)
					}
				}
			}
		})
	}
}

// TestGzipCutShortEverywhere cuts a gzip-compressed capture at every byte:
// never a panic, always a prefix of the frames and ErrTruncated.
func TestGzipCutShortEverywhere(t *testing.T) {
	data := readFile(t, publicFile(t, "tcpdump_tfo-exp254-syndata.pcap"))
	full, _ := mustReadAll(t, "plain", data)
	gz := gzipBytes(t, data)
	for k := 0; k <= len(gz); k++ {
		what := fmt.Sprintf("gzip cut at %d of %d", k, len(gz))
		recs, _, err := readBytes("cut.pcap.gz", gz[:k])
		checkErrKind(t, what, err)
		switch {
		case k == len(gz):
			if err != io.EOF {
				t.Fatalf("%s: %v", what, err)
			}
		case k < 2:
			if !errors.Is(err, ErrNotCapture) {
				t.Fatalf("%s: %v, want ErrNotCapture", what, err)
			}
		case !errors.Is(err, ErrTruncated):
			t.Fatalf("%s: %v, want ErrTruncated", what, err)
		}
		if len(recs) > len(full) {
			t.Fatalf("%s: %d frames", what, len(recs))
		}
		sameRecs(t, recs, full[:len(recs)])
	}
}

// hostile returns a copy of data with f applied.
func hostile(data []byte, f func(b []byte) []byte) []byte {
	return f(bytes.Clone(data))
}

func TestHostileInput(t *testing.T) {
	le := binary.LittleEndian
	pkt := bytes.Repeat([]byte{0x45}, 60)
	goodPcap := pcapFile(le, 0xa1b2c3d4, 65535, 1,
		pcapRecord(le, 1, 1, 60, 60, pkt),
		pcapRecord(le, 2, 2, 60, 60, pkt),
		pcapRecord(le, 3, 3, 60, 60, pkt))
	const rec2 = 24 + 76 // offset of the second record
	setU32 := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { le.PutUint32(b[off:], v); return b }
	}
	goodNg := (&ng{bo: le}).shb().idb(1, 0).epb(0, 1, 60, pkt).epb(0, 2, 60, pkt).buf
	const shbLen, idbLen, epbLen = 28, 20, 92
	epb1 := shbLen + idbLen
	epb2 := epb1 + epbLen

	gzGood := gzipBytes(t, goodPcap)
	badCRC := bytes.Clone(gzGood)
	badCRC[len(badCRC)-8] ^= 0xff

	for _, c := range []struct {
		name    string
		data    []byte
		open    string // Open fails with this text (after the file name)
		frames  int    // else this many frames are read
		end     string // and reading ends with this text, "EOF" for io.EOF
		sentinl error  // and the error wraps this (nil: a *FormatError unless end is EOF)
	}{
		{name: "empty", data: nil, open: "empty file (not a capture file)", sentinl: ErrNotCapture},
		{name: "text", data: []byte("Hello, world\n"), open: "not a capture file (starts with 48 65 6c 6c)", sentinl: ErrNotCapture},
		{name: "three bytes", data: []byte{0xd4, 0xc3, 0xb2}, open: "not a capture file (only 3 bytes: d4 c3 b2)", sentinl: ErrNotCapture},
		{name: "pcap header cut short", data: goodPcap[:12], open: "pcap header cut short (12 of 24 bytes)", sentinl: ErrTruncated},
		{name: "modified pcap magic", data: hostile(goodPcap, setU32(0, 0xa1b2cd34)), open: "not a capture file (starts with 34 cd b2 a1)", sentinl: ErrNotCapture},
		{name: "pcap version 3", data: hostile(goodPcap, func(b []byte) []byte { b[4] = 3; return b }), open: "at byte 0: unsupported pcap version 3.4"},
		{name: "absurd snaplen is only a number", data: hostile(goodPcap, setU32(16, 0xffffffff)), frames: 3, end: "EOF"},
		{name: "snaplen 0", data: hostile(goodPcap, setU32(16, 0)), frames: 3, end: "EOF"},
		{name: "caplen 2^32-16", data: hostile(goodPcap, setU32(rec2+8, 0xfffffff0)), frames: 1,
			end: fmt.Sprintf("at byte %d: record of frame 2 claims 4294967280 captured bytes", rec2)},
		{name: "caplen one over the limit", data: hostile(goodPcap, setU32(rec2+8, MaxCaptureLength+1)), frames: 1, end: "262145 captured bytes"},
		{name: "caplen at the limit is only cut short", data: hostile(goodPcap, setU32(rec2+8, MaxCaptureLength)), frames: 1,
			end: fmt.Sprintf("at byte %d: record of frame 2 has 152 of 262160 bytes", rec2), sentinl: ErrTruncated},
		{name: "caplen beyond snaplen is kept", data: hostile(goodPcap, setU32(16, 20)), frames: 3, end: "EOF"},
		{name: "record header cut short", data: goodPcap[:rec2+5], frames: 1, end: fmt.Sprintf("at byte %d: record header has 5 of 16 bytes", rec2), sentinl: ErrTruncated},
		{name: "zero-length record", data: pcapFile(le, 0xa1b2c3d4, 0, 1, pcapRecord(le, 1, 0, 0, 0, nil)), frames: 1, end: "EOF"},

		{name: "pcapng section header cut short", data: goodNg[:20], open: "pcapng section header cut short (20 of 28 bytes)", sentinl: ErrTruncated},
		{name: "pcapng bad byte-order magic", data: hostile(goodNg, setU32(8, 0x11223344)), open: "at byte 0: pcapng section header without byte-order magic (found 44 33 22 11)"},
		{name: "pcapng version 2", data: hostile(goodNg, func(b []byte) []byte { b[12] = 2; return b }), open: "unsupported pcapng version 2.0"},
		{name: "pcapng section header length 2^32-4", data: hostile(goodNg, setU32(4, 0xfffffffc)), open: "section header block length 4294967292 is impossible"},
		{name: "block length not a multiple of 4", data: hostile(goodNg, setU32(epb1+4, 91)), end: fmt.Sprintf("at byte %d: pcapng block of type 0x00000006 has impossible length 91", epb1)},
		{name: "block length below 12", data: hostile(goodNg, setU32(epb1+4, 8)), end: "impossible length 8"},
		{name: "packet block length 2^32-4", data: hostile(goodNg, setU32(epb1+4, 0xfffffffc)), end: "has length 4294967292, more than"},
		{name: "trailing length differs", data: hostile(goodNg, setU32(epb1+epbLen-4, 96)), end: "length 92 at its start, 96 at its end"},
		{name: "packet block length too long for the file", data: hostile(goodNg, setU32(epb2+4, 96)), frames: 1,
			end: fmt.Sprintf("at byte %d: enhanced packet block has 92 of 96 bytes", epb2), sentinl: ErrTruncated},
		{name: "captured length past the block", data: hostile(goodNg, setU32(epb1+20, 64)), end: "claims 64 captured bytes, which do not fit its 92-byte block"},
		{name: "captured length 2^32-1", data: hostile(goodNg, setU32(epb1+20, 0xffffffff)), end: "claims 4294967295 captured bytes, more than the 262144"},
		{name: "undescribed interface", data: hostile(goodNg, setU32(epb2+8, 5)), frames: 1, end: "packet on interface 5, but its section describes 1 interfaces"},
		{name: "simple packet before any interface", data: (&ng{bo: le}).shb().spb(60, pkt).buf, end: "describes 0 interfaces"},
		{name: "interface option past the block", data: (&ng{bo: le}).shb().block(blockIDB, []byte{1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 200, 0}).buf,
			end: "interface block option 9 of 200 bytes runs past the block"},
		{name: "impossible timestamp resolution", data: (&ng{bo: le}).shb().idb(1, 0, (&ng{bo: le}).opt(optTSResol, []byte{20})).buf, end: "impossible timestamp resolution (if_tsresol 0x14)"},
		{name: "unknown block skipped", data: concat(goodNg[:epb2], (&ng{bo: le}).block(0x12345678, []byte{1, 2, 3, 4}).buf, goodNg[epb2:]), frames: 2, end: "EOF"},
		{name: "unknown block of 4 GiB", data: concat(goodNg, []byte{0x78, 0x56, 0x34, 0x12, 0xfc, 0xff, 0xff, 0xff}), frames: 2, end: "has length 4294967292, more than any block can need"},
		{name: "unknown block cut short", data: concat(goodNg, []byte{0x78, 0x56, 0x34, 0x12, 0, 1, 0, 0}), frames: 2,
			end: fmt.Sprintf("at byte %d: block of type 0x12345678 has 8 of 256 bytes", len(goodNg)), sentinl: ErrTruncated},
		{name: "unknown block trailer differs", data: concat(goodNg, []byte{0x78, 0x56, 0x34, 0x12, 16, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0}), frames: 2,
			end: "length 16 at its start, 12 at its end"},
		{name: "garbage after the last block", data: concat(goodNg, []byte{0, 0, 0}), frames: 2, end: "block header has 3 of 8 bytes", sentinl: ErrTruncated},

		{name: "gzip magic alone", data: []byte{0x1f, 0x8b}, open: "gzip header cut short", sentinl: ErrTruncated},
		{name: "gzip of text", data: gzipBytes(t, []byte("Hello, world\n")), open: "not a capture file (gzip-compressed, starts with 48 65 6c 6c)", sentinl: ErrNotCapture},
		{name: "gzip of nothing", data: gzipBytes(t, nil), open: "not a capture file (gzip-compressed, 0 bytes: )", sentinl: ErrNotCapture},
		{name: "gzip bad header", data: []byte{0x1f, 0x8b, 99, 0, 0, 0, 0, 0, 0, 0, 0, 0}, open: "corrupt gzip data: gzip: invalid header"},
		{name: "gzip bad checksum", data: badCRC, frames: 3, end: "corrupt gzip data: gzip: invalid checksum"},
		{name: "gzip stream cut short", data: gzGood[:len(gzGood)-20], frames: 2, end: "(gzip stream ends early)", sentinl: ErrTruncated},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewFileReader("f", bytes.NewReader(c.data))
			if c.open != "" {
				if err == nil {
					r.Close()
					t.Fatalf("Open succeeded, want %q", c.open)
				}
				if want := "f: " + c.open; !strings.HasPrefix(err.Error(), "f: ") || !strings.Contains(err.Error(), c.open) {
					t.Errorf("Open: %q, want %q", err, want)
				}
				checkSentinel(t, err, c.sentinl)
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer r.Close()
			recs, err := readRecs(r)
			if len(recs) != c.frames {
				t.Errorf("read %d frames, want %d", len(recs), c.frames)
			}
			if c.end == "EOF" {
				if err != io.EOF {
					t.Errorf("ended with %v, want io.EOF", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), "f: ") || !strings.Contains(err.Error(), c.end) {
				t.Errorf("ended with %q, want %q", err, c.end)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			checkSentinel(t, err, c.sentinl)
			if again := r.Next(&Frame{}); again != err {
				t.Errorf("Next after an error: %v, want the same error", again)
			}
		})
	}
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func checkSentinel(t *testing.T, err, sentinel error) {
	t.Helper()
	if sentinel != nil {
		if !errors.Is(err, sentinel) {
			t.Errorf("%v does not wrap %v", err, sentinel)
		}
		return
	}
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Errorf("%v (%T) is not a *FormatError", err, err)
	} else if fe.File != "f" {
		t.Errorf("FormatError.File %q", fe.File)
	}
}

// TestWarnings checks the oddities reported rather than refused.
func TestWarnings(t *testing.T) {
	le := binary.LittleEndian
	data := pcapFile(le, 0xa1b2c3d4, 65535, 1, pcapRecord(le, 1, 0, 60, 40, make([]byte, 60)))
	recs, info := mustReadAll(t, "f", data)
	if len(recs) != 1 || recs[0].CapLen != 60 || recs[0].OrigLen != 40 {
		t.Errorf("frames %v", recs)
	}
	if len(info.Warnings) != 1 || !strings.Contains(info.Warnings[0], "more captured bytes than their original length") {
		t.Errorf("warnings %q", info.Warnings)
	}
}

// TestRandomInput feeds random bytes, alone and behind valid magic
// numbers and headers: never a panic, never an unexpected kind of error.
func TestRandomInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	le := binary.LittleEndian
	prefixes := [][]byte{
		nil,
		pcapFile(le, 0xa1b2c3d4, 65535, 1),
		pcapFile(binary.BigEndian, 0xa1b23c4d, 65535, 1),
		(&ng{bo: le}).shb().idb(1, 0).buf,
		(&ng{bo: binary.BigEndian}).shb().buf,
		{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff},
	}
	for i := range 3000 {
		p := prefixes[i%len(prefixes)]
		b := make([]byte, rng.IntN(2000))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		data := append(bytes.Clone(p), b...)
		recs, _, err := readBytes("random", data)
		checkErrKind(t, fmt.Sprintf("input %d", i), err)
		for _, r := range recs {
			if r.CapLen > MaxCaptureLength {
				t.Fatalf("input %d: frame of %d bytes", i, r.CapLen)
			}
		}
	}
}

// TestReadErrors covers an input that fails or stalls.
func TestReadErrors(t *testing.T) {
	data := readFile(t, publicFile(t, "tcpdump_tfo-exp254-syndata.pcap"))
	boom := errors.New("boom")
	r, err := NewFileReader("f", io.MultiReader(bytes.NewReader(data[:500]), iotest.ErrReader(boom)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = readRecs(r)
	if !errors.Is(err, boom) || err.Error() != "f: read error at byte 500: boom" {
		t.Errorf("got %v", err)
	}

	// A reader that returns nothing and no error forever must not hang.
	_, err = NewFileReader("f", stallReader{})
	if !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("stalled input: %v", err)
	}
}

type stallReader struct{}

func (stallReader) Read([]byte) (int, error) { return 0, nil }

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pcap")
	for _, c := range []struct {
		name, path, want string
		is               error
	}{
		{"directory", dir, dir + ": is a directory", syscall.EISDIR},
		{"missing", missing, missing + ": no such file", fs.ErrNotExist},
	} {
		_, err := Open(c.path)
		if err == nil || err.Error() != c.want || !errors.Is(err, c.is) {
			t.Errorf("%s: %v, want %q wrapping %v", c.name, err, c.want, c.is)
		}
	}
	text := writeTemp(t, "x.txt", []byte("Hello, world\n"))
	if _, err := Open(text); err == nil || err.Error() != text+": not a capture file (starts with 48 65 6c 6c)" {
		t.Errorf("text: %v", err)
	}
	short := writeTemp(t, "f.pcap", readFile(t, publicFile(t, "tcpdump_tfo-exp254-syndata.pcap"))[:12])
	if _, err := Open(short); err == nil || err.Error() != short+": pcap header cut short (12 of 24 bytes)" {
		t.Errorf("short: %v", err)
	}
}

// TestSimplePacketLengths: a Simple Packet Block holds its packet cut to
// the interface's snapshot length, and never more than the block holds.
func TestSimplePacketLengths(t *testing.T) {
	le := binary.LittleEndian
	pkt := bytes.Repeat([]byte{0x45}, 60)
	for _, c := range []struct {
		name         string
		snaplen      uint32
		orig         int
		data         []byte
		caplen, olen int
	}{
		{"whole", 0, 60, pkt, 60, 60},
		{"cut to the snapshot length", 32, 60, pkt, 32, 60},
		{"original longer than the block", 0, 1500, pkt, 60, 1500},
		{"original shorter than the block's padding", 0, 57, pkt, 57, 57},
	} {
		data := (&ng{bo: le}).shb().idb(1, c.snaplen).spb(c.orig, c.data).buf
		got, _ := mustReadAll(t, c.name, data)
		if len(got) != 1 || got[0].CapLen != c.caplen || got[0].OrigLen != c.olen || got[0].Time != 0 {
			t.Errorf("%s: %v, want caplen %d len %d time 0", c.name, got, c.caplen, c.olen)
		}
	}
}

// TestUnknownBlockTypesAggregated checks that a pcapng file of many
// unknown block types gives a few warning lines, not one per type (2^20
// types gave a million lines and a map as large).
func TestUnknownBlockTypesAggregated(t *testing.T) {
	n := (&ng{bo: binary.LittleEndian}).shb().idb(1, 0)
	const types = 1000
	for i := range types {
		n.block(0x40000000+uint32(i), nil)
	}
	r, err := NewFileReader("many-types.pcapng", bytes.NewReader(n.buf))
	if err != nil {
		t.Fatal(err)
	}
	var f Frame
	for r.Next(&f) == nil {
	}
	w := r.Info().Warnings
	if len(w) != maxUnknownTypes+1 {
		t.Fatalf("%d warnings, want %d:\n%s", len(w), maxUnknownTypes+1, strings.Join(w, "\n"))
	}
	if want := fmt.Sprintf("skipped %d more pcapng blocks of other unknown types", types-maxUnknownTypes); !strings.HasPrefix(w[len(w)-1], want) {
		t.Errorf("last warning %q, want %q...", w[len(w)-1], want)
	}
}
