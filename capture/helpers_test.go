package capture

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// publicDir returns the folder of public real captures, shared between the
// project's checkouts, or skips the test when this checkout has none.
func publicDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "captures", "public")
	if _, err := os.Stat(filepath.Join(dir, "SOURCES.md")); err != nil {
		t.Skipf("public captures not available: %v", err)
	}
	return dir
}

func publicFile(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(publicDir(t), name)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// needTool skips the test when an external cross-check tool is missing.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed: cross-check skipped", name)
	}
	return p
}

// rec is what a test compares of a frame: everything Wireshark can tell
// us too, plus the link type and offset.
type rec struct {
	Number    int
	Time      int64
	OrigLen   int
	CapLen    int
	Interface int
	Section   int
	MD5       string
	LinkType  uint16 // not compared with tshark
	Offset    int64  // not compared with tshark
}

func (r rec) String() string {
	return fmt.Sprintf("#%d t=%d len=%d cap=%d if=%d sec=%d md5=%s lt=%d off=%d", r.Number, r.Time, r.OrigLen, r.CapLen, r.Interface, r.Section, r.MD5, r.LinkType, r.Offset)
}

func recOf(f *Frame) rec {
	sum := md5.Sum(f.Data)
	return rec{
		Number: f.Number, Time: f.Time, OrigLen: f.OrigLen, CapLen: len(f.Data),
		Interface: f.Interface, Section: f.Section, MD5: hex.EncodeToString(sum[:]), LinkType: f.LinkType, Offset: f.Offset,
	}
}

// readRecs reads r to its end and returns the frames and the error that
// ended it (io.EOF for a clean end).
func readRecs(r *FileReader) ([]rec, error) {
	var recs []rec
	var f Frame
	for {
		if err := r.Next(&f); err != nil {
			return recs, err
		}
		recs = append(recs, recOf(&f))
	}
}

// readBytes opens data as a capture and reads it whole.
func readBytes(name string, data []byte) ([]rec, Info, error) {
	r, err := NewFileReader(name, bytes.NewReader(data))
	if err != nil {
		return nil, Info{}, err
	}
	defer r.Close()
	recs, err := readRecs(r)
	return recs, r.Info(), err
}

// mustReadAll reads a capture that must be good to its clean end.
func mustReadAll(t testing.TB, name string, data []byte) ([]rec, Info) {
	t.Helper()
	recs, info, err := readBytes(name, data)
	if err != io.EOF {
		t.Fatalf("%s: read ended with %v, want io.EOF", name, err)
	}
	return recs, info
}

// tsharkRecs returns the packets tshark sees in path, with frame numbers,
// times, lengths, interfaces and an MD5 of each frame's bytes. Records
// tshark numbers that are not packets (pcapng rows without an interface)
// are left out, as Next leaves them out.
func tsharkRecs(t testing.TB, path string) []rec {
	t.Helper()
	tshark := needTool(t, "tshark")
	cmd := exec.Command(tshark, "-n", "-o", "frame.generate_md5_hash:TRUE", "-r", path, "-T", "fields",
		"-e", "frame.number", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len",
		"-e", "frame.interface_id", "-e", "frame.md5_hash", "-e", "frame.section_number")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v\n%s", path, err, stderr.String())
	}
	pcapng := isPcapng(readFile(t, path))
	var recs []rec
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			t.Fatalf("tshark line %q: want 7 fields", line)
		}
		if pcapng && f[4] == "" {
			continue
		}
		var r rec
		r.Number = atoi(t, f[0])
		if f[1] != "" {
			r.Time = parseEpoch(t, f[1])
		}
		r.OrigLen, r.CapLen = atoi(t, f[2]), atoi(t, f[3])
		if f[4] != "" {
			r.Interface = atoi(t, f[4])
		}
		r.MD5 = f[5]
		if f[6] != "" {
			r.Section = atoi(t, f[6]) - 1
		}
		recs = append(recs, r)
	}
	return recs
}

func isPcapng(data []byte) bool {
	return len(data) >= 4 && binary.LittleEndian.Uint32(data) == blockSHB
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("bad number %q: %v", s, err)
	}
	return n
}

// parseEpoch parses "1730555435.524360149" (or fewer fraction digits)
// exactly into nanoseconds.
func parseEpoch(t testing.TB, s string) int64 {
	t.Helper()
	sec, frac, _ := strings.Cut(s, ".")
	frac = (frac + "000000000")[:9]
	return int64(atoi(t, sec))*1e9 + int64(atoi(t, frac))
}

// sameAsTshark compares frames with tshark's view, field by field.
func sameAsTshark(t testing.TB, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("read %d packets, tshark %d", len(got), len(want))
	}
	bad := 0
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		g.LinkType, g.Offset = 0, 0
		if g != w {
			t.Errorf("packet %d:\n got  %v\n want %v (tshark)", i, g, w)
			if bad++; bad > 5 {
				t.FailNow()
			}
		}
	}
}

// sameRecs compares two reads of the same capture in different encodings:
// only offsets may differ.
func sameRecs(t testing.TB, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d frames, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		g.Offset, w.Offset = 0, 0
		if g != w {
			t.Fatalf("frame %d:\n got  %v\n want %v", i, g, w)
		}
	}
}

// swapPcap returns a pcap file in the other byte order.
func swapPcap(t testing.TB, in []byte) []byte {
	t.Helper()
	if len(in) < 24 {
		t.Fatal("swapPcap: short file")
	}
	out := bytes.Clone(in)
	var from, to binary.ByteOrder = binary.LittleEndian, binary.BigEndian
	if m := binary.LittleEndian.Uint32(in); m != 0xa1b2c3d4 && m != 0xa1b23c4d {
		from, to = to, from
	}
	sw32 := func(off int) { to.PutUint32(out[off:], from.Uint32(in[off:])) }
	sw16 := func(off int) { to.PutUint16(out[off:], from.Uint16(in[off:])) }
	sw32(0)
	sw16(4)
	sw16(6)
	for _, off := range []int{8, 12, 16, 20} {
		sw32(off)
	}
	for off := 24; off < len(in); {
		if off+16 > len(in) {
			t.Fatal("swapPcap: truncated record")
		}
		caplen := int(from.Uint32(in[off+8:]))
		for i := 0; i < 16; i += 4 {
			sw32(off + i)
		}
		off += 16 + caplen
	}
	return out
}

// swapPcapng returns a pcapng file with every section in the other byte
// order: block headers, fixed fields and the numeric options this package
// or Wireshark read. Blocks it does not know keep their bodies.
func swapPcapng(t testing.TB, in []byte) []byte {
	t.Helper()
	out := bytes.Clone(in)
	var from, to binary.ByteOrder
	sw16 := func(off int) { to.PutUint16(out[off:], from.Uint16(in[off:])) }
	sw32 := func(off int) { to.PutUint32(out[off:], from.Uint32(in[off:])) }
	sw64 := func(off int) { to.PutUint64(out[off:], from.Uint64(in[off:])) }
	// options swaps the options in in[off:end]; u32s and u64s name the
	// option codes whose values are one or more numbers.
	options := func(off, end int, u32s, u64s []int) {
		for off+4 <= end {
			code, olen := int(from.Uint16(in[off:])), int(from.Uint16(in[off+2:]))
			sw16(off)
			sw16(off + 2)
			if code == 0 {
				return
			}
			v := off + 4
			switch {
			case contains(u32s, code):
				for i := 0; i+4 <= olen; i += 4 {
					sw32(v + i)
				}
			case contains(u64s, code) && olen == 8:
				sw64(v)
			case code == 2988 || code == 2989 || code == 19372 || code == 19373:
				sw32(v) // custom option: Private Enterprise Number first
			}
			off = v + (olen+3)&^3
		}
	}
	for off := 0; off < len(in); {
		if off+12 > len(in) {
			t.Fatal("swapPcapng: truncated block")
		}
		if binary.LittleEndian.Uint32(in[off:]) == blockSHB {
			from, to = binary.ByteOrder(binary.LittleEndian), binary.ByteOrder(binary.BigEndian)
			if binary.BigEndian.Uint32(in[off+8:]) == byteOrderMagic {
				from, to = to, from
			}
		}
		typ, blen := from.Uint32(in[off:]), int(from.Uint32(in[off+4:]))
		end := off + blen - 4
		sw32(off)
		sw32(off + 4)
		sw32(end)
		b := off + 8
		switch typ {
		case blockSHB:
			sw32(b)
			sw16(b + 4)
			sw16(b + 6)
			sw64(b + 8)
			options(b+16, end, nil, nil)
		case blockIDB:
			sw16(b)
			sw16(b + 2)
			sw32(b + 4)
			options(b+8, end, []int{10}, []int{8, 14})
		case blockEPB, blockPB:
			if typ == blockEPB {
				sw32(b)
			} else {
				sw16(b)
				sw16(b + 2)
			}
			for i := 4; i < 20; i += 4 {
				sw32(b + i)
			}
			caplen := int(from.Uint32(in[b+12:]))
			options(b+20+(caplen+3)&^3, end, []int{2, 6}, []int{4, 5})
		case blockSPB:
			sw32(b)
		case blockISB:
			for i := 0; i < 12; i += 4 {
				sw32(b + i)
			}
			options(b+12, end, []int{2, 3}, []int{4, 5, 6, 7, 8})
		case blockNRB:
			p := b
			for p+4 <= end {
				rt, rl := from.Uint16(in[p:]), int(from.Uint16(in[p+2:]))
				sw16(p)
				sw16(p + 2)
				p += 4 + (rl+3)&^3
				if rt == 0 {
					break
				}
			}
			options(p, end, nil, nil)
		}
		off += blen
	}
	return out
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// ng builds pcapng files for tests, in either byte order.
type ng struct {
	bo  byteOrder
	buf []byte
}

func (n *ng) block(typ uint32, body []byte) *ng {
	body = pad4(body)
	l := uint32(12 + len(body))
	n.buf = n.bo.AppendUint32(n.buf, typ)
	n.buf = n.bo.AppendUint32(n.buf, l)
	n.buf = append(n.buf, body...)
	n.buf = n.bo.AppendUint32(n.buf, l)
	return n
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (n *ng) shb() *ng {
	b := n.bo.AppendUint32(nil, byteOrderMagic)
	b = n.bo.AppendUint16(b, 1)
	b = n.bo.AppendUint16(b, 0)
	b = n.bo.AppendUint64(b, ^uint64(0))
	return n.block(blockSHB, b)
}

// opt encodes one option.
func (n *ng) opt(code uint16, v []byte) []byte {
	b := n.bo.AppendUint16(nil, code)
	b = n.bo.AppendUint16(b, uint16(len(v)))
	return pad4(append(b, v...))
}

func (n *ng) idb(linkType uint16, snaplen uint32, opts ...[]byte) *ng {
	b := n.bo.AppendUint16(nil, linkType)
	b = n.bo.AppendUint16(b, 0)
	b = n.bo.AppendUint32(b, snaplen)
	for _, o := range opts {
		b = append(b, o...)
	}
	if len(opts) > 0 {
		b = append(b, 0, 0, 0, 0)
	}
	return n.block(blockIDB, b)
}

func (n *ng) epb(ifc uint32, ts uint64, orig int, data []byte) *ng {
	b := n.bo.AppendUint32(nil, ifc)
	b = n.bo.AppendUint32(b, uint32(ts>>32))
	b = n.bo.AppendUint32(b, uint32(ts))
	b = n.bo.AppendUint32(b, uint32(len(data)))
	b = n.bo.AppendUint32(b, uint32(orig))
	return n.block(blockEPB, append(b, data...))
}

func (n *ng) pb(ifc uint16, ts uint64, orig int, data []byte) *ng {
	b := n.bo.AppendUint16(nil, ifc)
	b = n.bo.AppendUint16(b, 0)
	b = n.bo.AppendUint32(b, uint32(ts>>32))
	b = n.bo.AppendUint32(b, uint32(ts))
	b = n.bo.AppendUint32(b, uint32(len(data)))
	b = n.bo.AppendUint32(b, uint32(orig))
	return n.block(blockPB, append(b, data...))
}

func (n *ng) spb(orig int, data []byte) *ng {
	return n.block(blockSPB, append(n.bo.AppendUint32(nil, uint32(orig)), data...))
}

// pcapFile builds a pcap file from raw records for hostile-input tests.
func pcapFile(bo byteOrder, magic uint32, snaplen, linkType uint32, recs ...[]byte) []byte {
	b := bo.AppendUint32(nil, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, snaplen)
	b = bo.AppendUint32(b, linkType)
	for _, r := range recs {
		b = append(b, r...)
	}
	return b
}

func pcapRecord(bo byteOrder, sec, frac, caplen, orig uint32, data []byte) []byte {
	b := bo.AppendUint32(nil, sec)
	b = bo.AppendUint32(b, frac)
	b = bo.AppendUint32(b, caplen)
	b = bo.AppendUint32(b, orig)
	return append(b, data...)
}

// writeTemp writes data to a file in a fresh temporary folder.
func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// isFormatError reports whether err is a *FormatError.
func isFormatError(err error) bool {
	var fe *FormatError
	return errors.As(err, &fe)
}
