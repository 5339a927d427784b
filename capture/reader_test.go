package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// publicCaptures lists every public capture with what SOURCES.md and
// capinfos say of it. First and last are capinfos' earliest and latest
// packet times.
var publicCaptures = []struct {
	name        string
	format      string
	linkTypes   []uint16
	packets     int
	first, last int64
}{
	{"dnscollector_dns-tcp-fastopen.pcap", "pcap", []uint16{1}, 32, 1678030147391134000, 1678030152581411000},
	{"gopacket_test-loopback-null.pcap", "pcap", []uint16{0}, 24, 1357492952275121000, 1357492952508959000},
	{"mptcproxy_mptcp-join-sll2.pcap", "pcap", []uint16{276}, 37, 1700842888709141000, 1700842895553589000},
	{"pathspider_tfo-cookie-request-exp254.pcap", "pcap", []uint16{1}, 7, 1477052716168128000, 1477052716231185000},
	{"pathspider_tfo-cookie-request-kind34-rewritten.pcap", "pcap", []uint16{1}, 7, 1477052716168128000, 1477052716231185000},
	{"pathspider_tfo-data-on-syn-exp254-ipv6.pcap", "pcap", []uint16{1}, 9, 1477052716203237000, 1477052716220903000},
	{"pathspider_tfo-data-on-syn-kind34-rewritten-ipv6.pcap", "pcap", []uint16{1}, 9, 1477052716203237000, 1477052716220903000},
	{"pathspider_tfo-measurement-exp254.pcap", "pcap", []uint16{1}, 1741, 1477052712661530000, 1477052719240970000},
	{"ptcpdump_mptcp-loopback.pcap", "pcap", []uint16{1}, 14, 1727492135698856000, 1727492141168438000},
	{"ptcpdump_tcp-multi-idb-comments.pcapng", "pcapng", []uint16{1}, 24, 1730555435524360149, 1730555435560602110},
	{"ptcpdump_tfo-mptcp-sll2.pcap", "pcap", []uint16{276}, 4, 1727810461433721000, 1727810461442667000},
	{"pymptcpanalyzer_client_2-pcapng-sll.pcap", "pcapng", []uint16{113}, 2884, 1529037834335235214, 1529037866206589103},
	{"pymptcpanalyzer_iperf-mptcp-ppp.pcap", "pcap", []uint16{9}, 2560, 0, 12319482000},
	{"tcpdump_accecn-exp254-nontfo.pcap", "pcap", []uint16{1}, 6, 1658816767794026000, 1658816768075386000},
	{"tcpdump_mptcp-aa-echo-nosyn.pcap", "pcap", []uint16{113}, 2, 1601550140402400000, 1601550140602589000},
	{"tcpdump_mptcp-aa-v1.pcap", "pcap", []uint16{1}, 24, 1582742655949492000, 1582742666050757000},
	{"tcpdump_mptcp-dss-oobr-malformed.pcap", "pcap", []uint16{1}, 1, 1415590328002213000, 1415590328002213000},
	{"tcpdump_mptcp-fclose.pcap", "pcap", []uint16{1}, 11, 1361806842767916000, 1361806847780117000},
	{"tcpdump_mptcp-tcprst-nosyn.pcap", "pcap", []uint16{101}, 2, 1620829639175792000, 1620829639175964000},
	{"tcpdump_mptcp-v0.pcap", "pcap", []uint16{1}, 264, 1361796995701161000, 1361797004766202000},
	{"tcpdump_mptcp-v1-sll.pcap", "pcap", []uint16{113}, 20, 1578930666676845000, 1578930666677429000},
	{"tcpdump_scps-invalid-linktype-ipv4.pcap", "pcap", []uint16{228}, 2, 1466797060000000000, 1466797359000000000},
	{"tcpdump_tcp-handshake-nsec-sll.pcap", "pcap-ns", []uint16{113}, 3, 1418145369924505488, 1418145370052115157},
	{"tcpdump_tfo-exp254-syndata.pcap", "pcap", []uint16{1}, 14, 1349367980467968000, 1349367990591516000},
}

// TestPublicCaptures reads every public capture and checks the summary
// against the table, and every frame against tshark.
func TestPublicCaptures(t *testing.T) {
	dir := publicDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".md") {
			listed++
		}
	}
	if listed != len(publicCaptures) {
		t.Errorf("%d files in %s, %d in the table: keep the table complete", listed, dir, len(publicCaptures))
	}
	for _, c := range publicCaptures {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := publicFile(t, c.name)
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			recs, err := readRecs(r)
			if err != io.EOF {
				t.Fatalf("read ended with %v, want io.EOF", err)
			}
			info := r.Info()
			if info.Format != c.format || info.Compressed {
				t.Errorf("format %q compressed %v, want %q uncompressed", info.Format, info.Compressed, c.format)
			}
			if !slices.Equal(info.LinkTypes, c.linkTypes) {
				t.Errorf("link types %v, want %v", info.LinkTypes, c.linkTypes)
			}
			if info.Packets != c.packets || len(recs) != c.packets {
				t.Errorf("Info.Packets %d, frames %d, want %d", info.Packets, len(recs), c.packets)
			}
			if !info.HasTimes || info.First != c.first || info.Last != c.last {
				t.Errorf("times %d..%d (have %v), want %d..%d", info.First, info.Last, info.HasTimes, c.first, c.last)
			}
			if len(info.Warnings) != 0 {
				t.Errorf("warnings %q", info.Warnings)
			}
			fi, _ := os.Stat(path)
			if r.Size() != fi.Size() || r.BytesRead() != fi.Size() {
				t.Errorf("Size %d BytesRead %d, want both %d", r.Size(), r.BytesRead(), fi.Size())
			}
			for i, rc := range recs {
				if rc.Number != i+1 {
					t.Fatalf("frame %d numbered %d", i+1, rc.Number)
				}
				if !slices.Contains(c.linkTypes, rc.LinkType) {
					t.Fatalf("frame %d: link type %d", rc.Number, rc.LinkType)
				}
			}
			sameAsTshark(t, recs, tsharkRecs(t, path))
		})
	}
}

// TestCapinfosAgrees checks the table itself against capinfos, so the
// table cannot drift from what Wireshark's tools say.
func TestCapinfosAgrees(t *testing.T) {
	capinfos := needTool(t, "capinfos")
	for _, c := range publicCaptures {
		out, err := exec.Command(capinfos, "-T", "-r", "-S", "-c", "-a", "-e", publicFile(t, c.name)).Output()
		if err != nil {
			t.Fatalf("capinfos %s: %v", c.name, err)
		}
		f := strings.Split(strings.TrimSpace(string(out)), "\t")
		if len(f) != 4 {
			t.Fatalf("capinfos %s: %q", c.name, out)
		}
		if n := atoi(t, f[1]); n != c.packets {
			t.Errorf("%s: capinfos counts %d packets, table %d", c.name, n, c.packets)
		}
		if first, last := parseEpoch(t, f[2]), parseEpoch(t, f[3]); first != c.first || last != c.last {
			t.Errorf("%s: capinfos times %d..%d, table %d..%d", c.name, first, last, c.first, c.last)
		}
	}
}

// TestEncodings reads each public capture in every encoding the reader
// accepts and requires the same frames: the other byte order, gzip, gzip
// of the other byte order, and standard input.
func TestEncodings(t *testing.T) {
	for _, c := range publicCaptures {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			data := readFile(t, publicFile(t, c.name))
			want, wantInfo := mustReadAll(t, c.name, data)
			var swapped []byte
			if isPcapng(data) {
				swapped = swapPcapng(t, data)
			} else {
				swapped = swapPcap(t, data)
			}
			if bytes.Equal(swapped[:8], data[:8]) {
				t.Fatal("swapping changed nothing")
			}
			variants := []struct {
				name       string
				data       []byte
				compressed bool
			}{
				{"swapped", swapped, false},
				{"gzip", gzipBytes(t, data), true},
				{"gzip-swapped", gzipBytes(t, swapped), true},
			}
			for _, v := range variants {
				got, info := mustReadAll(t, c.name+"/"+v.name, v.data)
				sameRecs(t, got, want)
				if info.Format != wantInfo.Format || info.Compressed != v.compressed ||
					!slices.Equal(info.LinkTypes, wantInfo.LinkTypes) || info.First != wantInfo.First || info.Last != wantInfo.Last {
					t.Errorf("%s: info %+v, want %+v", v.name, info, wantInfo)
				}
			}
		})
	}
}

// TestSwappedTshark checks the byte-swapping helper itself: tshark must see
// the same packets in a swapped file as in the original.
func TestSwappedTshark(t *testing.T) {
	needTool(t, "tshark")
	for _, name := range []string{
		"ptcpdump_tcp-multi-idb-comments.pcapng",
		"pymptcpanalyzer_client_2-pcapng-sll.pcap",
		"tcpdump_tcp-handshake-nsec-sll.pcap",
		"tcpdump_tfo-exp254-syndata.pcap",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := publicFile(t, name)
			data := readFile(t, path)
			var swapped []byte
			if isPcapng(data) {
				swapped = swapPcapng(t, data)
			} else {
				swapped = swapPcap(t, data)
			}
			p := writeTemp(t, "swapped", swapped)
			sameAsTshark(t, tsharkRecs(t, p), tsharkRecs(t, path))
			got, _ := mustReadAll(t, p, swapped)
			sameAsTshark(t, got, tsharkRecs(t, p))
		})
	}
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGzipFile opens a gzip file by name (the reader behind it is the
// prefetching goroutine) and closes it early, which must stop the
// goroutine without a leak or a hang.
func TestGzipFile(t *testing.T) {
	data := readFile(t, publicFile(t, "pymptcpanalyzer_client_2-pcapng-sll.pcap"))
	want, _ := mustReadAll(t, "plain", data)
	p := writeTemp(t, "c.pcapng.gz", gzipBytes(t, data))
	r, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readRecs(r)
	if err != io.EOF {
		t.Fatalf("read ended with %v", err)
	}
	sameRecs(t, got, want)
	fi, _ := os.Stat(p)
	if r.Size() != fi.Size() || r.BytesRead() != fi.Size() {
		t.Errorf("Size %d BytesRead %d, want compressed size %d", r.Size(), r.BytesRead(), fi.Size())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Next(&Frame{}); err == nil || err == io.EOF {
		t.Errorf("Next after Close: %v", err)
	}

	// Stop after one frame, with the goroutine still inflating.
	r, err = Open(p)
	if err != nil {
		t.Fatal(err)
	}
	var f Frame
	if err := r.Next(&f); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.pf.exited:
	default:
		t.Error("prefetching goroutine still running after Close")
	}
}

// TestStdin reads "-" from standard input.
func TestStdin(t *testing.T) {
	path := publicFile(t, "tcpdump_tfo-exp254-syndata.pcap")
	want, _ := mustReadAll(t, path, readFile(t, path))
	for _, gz := range []bool{false, true} {
		in := path
		if gz {
			in = writeTemp(t, "in.gz", gzipBytes(t, readFile(t, path)))
		}
		f, err := os.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		old := os.Stdin
		os.Stdin = f
		r, err := Open("-")
		os.Stdin = old
		if err != nil {
			t.Fatal(err)
		}
		got, err := readRecs(r)
		if err != io.EOF {
			t.Fatalf("stdin: read ended with %v", err)
		}
		sameRecs(t, got, want)
		if r.Info().Name != "stdin" || r.Size() != 0 {
			t.Errorf("stdin: name %q size %d", r.Info().Name, r.Size())
		}
		r.Close()
		if _, err := f.Stat(); err != nil {
			t.Errorf("Close closed standard input: %v", err)
		}
		f.Close()
	}
}

// TestMultiSection concatenates pcapng files, each section in its own byte
// order with its own interfaces: interfaces are numbered within their
// section and frames across the whole file, as tshark numbers them.
func TestMultiSection(t *testing.T) {
	a := readFile(t, publicFile(t, "ptcpdump_tcp-multi-idb-comments.pcapng"))
	b := readFile(t, publicFile(t, "pymptcpanalyzer_client_2-pcapng-sll.pcap"))
	data := slices.Concat(a, swapPcapng(t, b), swapPcapng(t, a))
	got, info := mustReadAll(t, "multi", data)
	if want := []uint16{1, 113}; !slices.Equal(info.LinkTypes, want) {
		t.Errorf("link types %v, want %v", info.LinkTypes, want)
	}
	if info.Packets != 24+2884+24 {
		t.Errorf("%d packets", info.Packets)
	}
	if last := got[len(got)-1]; last.Interface != 1 || last.Section != 2 || last.Number != 24+2884+24 {
		t.Errorf("last frame %v: want interface 1 of section 2, number %d", last, 24+2884+24)
	}
	sameAsTshark(t, got, tsharkRecs(t, writeTemp(t, "multi.pcapng", data)))
}

// TestPcapngRecords checks frame numbering around blocks that are not
// packets: Wireshark numbers journal entries, custom blocks and sysdig
// events, not name resolution, statistics, decryption secrets or unknown
// blocks. Simple Packet Blocks and obsolete Packet Blocks are packets.
func TestPcapngRecords(t *testing.T) {
	for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		n := &ng{bo: bo}
		pkt := bytes.Repeat([]byte{0xab}, 60)
		n.shb().idb(1, 0x40000)
		n.epb(0, 1_000_000, 60, pkt)
		n.block(blockJournal, []byte("__REALTIME_TIMESTAMP=1000000\nMESSAGE=hi\n"))
		n.epb(0, 2_000_000, 60, pkt)
		n.block(blockCustom, []byte{0x59, 0x7f, 0, 0, 1, 2, 3, 4})
		n.epb(0, 3_000_000, 100, pkt[:50])
		n.block(blockCustomNoCopy, []byte{0x59, 0x7f, 0, 0, 1, 2, 3, 4})
		n.pb(0, 4_000_000, 60, pkt)
		n.spb(60, pkt)
		n.block(0x12345678, []byte{1, 2, 3, 4})
		n.block(blockSysdigEvent, make([]byte, 32))
		n.block(blockNRB, []byte{0, 0, 0, 0})
		n.block(blockISB, make([]byte, 12))
		n.block(blockDSB, []byte{'K', 'S', 'L', 'T', 0, 0, 0, 0})
		n.epb(0, 5_000_000, 60, pkt)
		got, info := mustReadAll(t, "records", n.buf)
		numbers := make([]int, len(got))
		for i, r := range got {
			numbers[i] = r.Number
		}
		if want := []int{1, 3, 5, 7, 8, 10}; !slices.Equal(numbers, want) {
			t.Errorf("%v: frame numbers %v, want %v", bo, numbers, want)
		}
		if got[4].Time != 0 || got[4].CapLen != 60 {
			t.Errorf("simple packet block: %v", got[4])
		}
		if len(info.Warnings) != 1 || !strings.Contains(info.Warnings[0], "0x12345678") {
			t.Errorf("warnings %q, want one naming the unknown block type", info.Warnings)
		}
		if info.Packets != 6 || info.First != 1e9 || info.Last != 5e9 {
			t.Errorf("info %+v", info)
		}
		if bo == binary.LittleEndian {
			// tshark only reads journal blocks it can parse, which is
			// why this one is well formed.
			sameAsTshark(t, got, tsharkRecs(t, writeTemp(t, "records.pcapng", n.buf)))
		}
	}
}

// TestTimestampResolutions covers if_tsresol (decimal and binary) and
// if_tsoffset, per interface, against tshark.
func TestTimestampResolutions(t *testing.T) {
	pkt := bytes.Repeat([]byte{0x5a}, 42)
	for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		n := &ng{bo: bo}
		n.shb()
		n.idb(1, 0)                                  // 0: default microseconds
		n.idb(1, 0, n.opt(optTSResol, []byte{9}))    // 1: nanoseconds
		n.idb(1, 0, n.opt(optTSResol, []byte{3}))    // 2: milliseconds
		n.idb(1, 0, n.opt(optTSResol, []byte{12}))   // 3: picoseconds, truncated to ns
		n.idb(1, 0, n.opt(optTSResol, []byte{0x94})) // 4: 2^-20 s
		n.idb(101, 0, n.opt(optTSResol, []byte{6}),  // 5: microseconds, an hour later
			n.opt(optTSOffset, bo.AppendUint64(nil, 3600)))
		n.idb(1, 0, n.opt(optTSResol, []byte{0x80})) // 6: whole seconds, binary
		n.epb(0, 1_700_000_000_123_456, 42, pkt)
		n.epb(1, 1_700_000_000_123_456_789, 42, pkt)
		n.epb(2, 1_700_000_000_123, 42, pkt)
		n.epb(3, 10_000_000_012_345_678_901, 42, pkt) // 1970-04-26: picoseconds since 1970 overflow 64 bits in July 1970
		n.epb(4, 1_700_000_000<<20|0x80000, 42, pkt)
		n.epb(5, 1_700_000_000_000_001, 42, pkt)
		n.epb(6, 1_700_000_000, 42, pkt)
		got, info := mustReadAll(t, "tsresol", n.buf)
		want := []int64{
			1_700_000_000_123_456_000,
			1_700_000_000_123_456_789,
			1_700_000_000_123_000_000,
			10_000_000_012_345_678,
			1_700_000_000_500_000_000,
			1_700_003_600_000_001_000,
			1_700_000_000_000_000_000,
		}
		for i := range want {
			if got[i].Time != want[i] || got[i].Interface != i {
				t.Errorf("%v: interface %d: time %d, want %d", bo, got[i].Interface, got[i].Time, want[i])
			}
		}
		if !slices.Equal(info.LinkTypes, []uint16{1, 101}) || got[5].LinkType != 101 {
			t.Errorf("link types %v, frame 6 %d", info.LinkTypes, got[5].LinkType)
		}
		if bo == binary.LittleEndian {
			sameAsTshark(t, got, tsharkRecs(t, writeTemp(t, "tsresol.pcapng", n.buf)))
		}
	}
}

// TestDataAliasing documents buffer ownership: Data is clipped so that
// appending to it cannot overwrite the next frame, and Clone copies.
func TestDataAliasing(t *testing.T) {
	data := readFile(t, publicFile(t, "tcpdump_tfo-exp254-syndata.pcap"))
	r, err := NewFileReader("x", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var f Frame
	if err := r.Next(&f); err != nil {
		t.Fatal(err)
	}
	if cap(f.Data) != len(f.Data) {
		t.Errorf("cap(Data) %d > len %d", cap(f.Data), len(f.Data))
	}
	kept := f.Clone()
	before := bytes.Clone(f.Data)
	_ = append(f.Data, 0xff)
	if err := r.Next(&f); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept.Data, before) || kept.Number != 1 {
		t.Errorf("clone changed: %v", kept.Frame)
	}
}

// TestIfaceNanos covers timestamp conversions too fine or too large for a
// file tshark reads the same way (Wireshark 4.0 overflows multiplying a
// picosecond fraction by 1e9).
func TestIfaceNanos(t *testing.T) {
	for _, c := range []struct {
		name  string
		in    iface
		ts    uint64
		nanos int64
	}{
		{"ps large fraction", iface{exp: 12, scale: 1000}, 10_000_000_999_999_999_999, 10_000_000_999_999_999},
		{"ns", iface{exp: 9, scale: 1}, 1_700_000_000_123_456_789, 1_700_000_000_123_456_789},
		{"10^-19", iface{exp: 19, scale: 1e10}, 18_000_000_000_000_000_000, 1_800_000_000},
		{"2^-63", iface{binary: true, exp: 63}, 1<<63 | 1<<62, 1_500_000_000},
		{"2^-32 rounds down", iface{binary: true, exp: 32}, 5<<32 | 1, 5_000_000_000},
		{"2^0", iface{binary: true, exp: 0}, 7, 7_000_000_000},
		{"offset back", iface{exp: 6, scale: 1000, offset: -10}, 20_000_000, 10_000_000_000},
	} {
		if got := c.in.nanos(c.ts); got != c.nanos {
			t.Errorf("%s: %d, want %d", c.name, got, c.nanos)
		}
	}
}

// TestLargeFileBuffers reads large files with the 1 MiB buffer while at
// most maxLargeBufs readers hold one, gives each back at Close, and reads
// the same frames as a small buffer does, records crossing every buffer
// boundary included.
func TestLargeFileBuffers(t *testing.T) {
	le := binary.LittleEndian
	rnd := rand.NewChaCha8([32]byte{1})
	var recs [][]byte
	size := 0
	for i := 0; size < largeFileMin+largeReadBuf/3; i++ {
		n := 40 + (i*7919)%1500
		if i%97 == 0 {
			n = 60000 + i%5000 // a record larger than a small buffer
		}
		data := make([]byte, n)
		rnd.Read(data) // so that the gzip file is large too
		recs = append(recs, pcapRecord(le, uint32(i), 0, uint32(n), uint32(n), data))
		size += 16 + n
	}
	file := pcapFile(le, 0xa1b2c3d4, MaxCaptureLength, 1, recs...)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := write("big.pcap", file)
	small := write("small.pcap", file[:largeFileMin/2])
	gz := write("big.pcap.gz", gzipBytes(t, file))
	junk := write("junk.pcap", make([]byte, largeFileMin))

	// The reference: a reader that starts with the smallest buffer.
	ref, err := openFile(big, minReadBuf)
	if err != nil {
		t.Fatal(err)
	}
	want, err := readRecs(ref)
	ref.Close()
	if err != io.EOF || len(want) != len(recs) {
		t.Fatalf("reference read %d of %d frames, ended with %v", len(want), len(recs), err)
	}

	tests := []struct {
		name  string
		files []string
		large []bool // whether each reader holds a large buffer
		n     int    // frames each reads
	}{
		{"three large files at once", []string{big, big, big}, []bool{true, true, false}, len(want)},
		{"a small file", []string{small}, []bool{false}, -1},
		{"gzip", []string{gz}, []bool{false}, len(want)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var readers []*FileReader
			var got [][]rec
			for _, name := range tt.files {
				r, err := Open(name)
				if err != nil {
					t.Fatal(err)
				}
				readers = append(readers, r)
				got = append(got, nil)
			}
			// Frame by frame in turn, so that all hold their buffers at once.
			var f Frame
			for open := len(readers); open > 0; {
				open = 0
				for i, r := range readers {
					if r.Next(&f) == nil {
						got[i] = append(got[i], recOf(&f))
						open++
					}
				}
			}
			for i, r := range readers {
				if r.large != tt.large[i] {
					t.Errorf("reader %d: large buffer %v, want %v", i, r.large, tt.large[i])
				}
				if tt.n >= 0 {
					sameRecs(t, got[i], want)
				} else if n := len(got[i]); n == 0 || !slices.Equal(got[i], want[:n]) {
					t.Errorf("reader %d: %d frames, not the reference's first ones", i, n)
				}
				r.Close()
			}
			if n := largeBufs.Load(); n != 0 {
				t.Errorf("%d large buffers held after Close", n)
			}
		})
	}
	if _, err := Open(junk); err == nil {
		t.Fatal("junk opened")
	}
	if n := largeBufs.Load(); n != 0 {
		t.Errorf("%d large buffers held after a failed open", n)
	}
}
