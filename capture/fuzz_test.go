package capture

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedFile returns a public capture for seeding, or nil when this
// checkout has none (the synthetic seeds still run).
func seedFile(name string) []byte {
	b, _ := os.ReadFile(filepath.Join("..", "..", "shared", "captures", "public", name))
	return b
}

func prefix(b []byte, n int) []byte { return b[:min(n, len(b))] }

func FuzzReadPcap(f *testing.F) {
	le, be := binary.LittleEndian, binary.BigEndian
	pkt := bytes.Repeat([]byte{0x45}, 60)
	small := seedFile("tcpdump_tfo-exp254-syndata.pcap")
	seeds := [][]byte{
		prefix(small, 200), // microsecond LE, cut inside the second record
		small,              // a whole Ethernet capture, clean end
		seedFile("tcpdump_tcp-handshake-nsec-sll.pcap"),                                     // nanosecond magic
		seedFile("tcpdump_mptcp-dss-oobr-malformed.pcap"),                                   // record longer than the snapshot length
		prefix(seedFile("pymptcpanalyzer_iperf-mptcp-ppp.pcap"), 600),                       // times at the epoch, PPP
		pcapFile(be, 0xa1b2c3d4, 65535, 1, pcapRecord(be, 1, 2, 60, 60, pkt)),               // big-endian records
		pcapFile(le, 0xa1b2c3d4, 65535, 1),                                                  // header only: clean EOF
		pcapFile(le, 0xa1b2c3d4, 65535, 1)[:23],                                             // header one byte short
		pcapFile(le, 0xa1b2c3d4, 0xffffffff, 1, pcapRecord(le, 1, 2, 60, 60, pkt)),          // absurd snaplen
		pcapFile(le, 0xa1b2c3d4, 65535, 1, pcapRecord(le, 1, 2, 0xffffffff, 60, pkt)),       // absurd captured length
		pcapFile(le, 0xa1b2c3d4, 65535, 1, pcapRecord(le, 1, 2, MaxCaptureLength, 60, pkt)), // at the bound, cut short
		pcapFile(le, 0xa1b2c3d4, 65535, 1, pcapRecord(le, 1, 2, 60, 20, pkt)),               // captured > original length
		pcapFile(le, 0xa1b2c3d4, 65535, 1, pcapRecord(le, 1, 2, 0, 0, nil)),                 // empty record
		pcapFile(le, 0xa1b2cd34, 65535, 1, pcapRecord(le, 1, 2, 60, 60, pkt)),               // modified-pcap magic: refused
		pcapFile(le, 0xa1b23c4d, 65535, 1, pcapRecord(le, 1, 2e9, 60, 60, pkt)),             // fraction beyond a second
		append(pcapFile(le, 0xa1b2c3d4, 65535, 1)[:4], 3, 0, 4, 0),                          // version 3.4
		gzipBytes(f, prefix(small, 300)),                                                    // gzip of a cut capture
		gzipBytes(f, small)[:50],                                                            // gzip stream cut short
		{0x1f, 0x8b},                                                                        // gzip magic alone
		[]byte("Hello, world\n"),                                                            // text
		nil,                                                                                 // empty
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(fuzzRead)
}

func FuzzReadPcapng(f *testing.F) {
	le, be := binary.LittleEndian, binary.BigEndian
	pkt := bytes.Repeat([]byte{0xab}, 60)
	multi := seedFile("ptcpdump_tcp-multi-idb-comments.pcapng")
	var swapped []byte
	if multi != nil {
		swapped = swapPcapng(f, multi)
	}
	two := func(bo byteOrder) *ng { return (&ng{bo: bo}).shb().idb(1, 0).idb(113, 128) }
	seeds := [][]byte{
		prefix(multi, 1000),   // two interfaces, EPBs with comment options, cut inside a block
		prefix(swapped, 1000), // the same in big-endian
		prefix(seedFile("pymptcpanalyzer_client_2-pcapng-sll.pcap"), 2000),     // SHB options, if_tsresol 9
		two(le).epb(1, 1, 60, pkt).epb(0, 2, 60, pkt).buf,                      // packets on both interfaces
		concat(two(le).epb(0, 1, 60, pkt).buf, two(be).epb(1, 2, 60, pkt).buf), // second section in the other byte order
		(&ng{bo: le}).shb().buf,                              // no interfaces: clean EOF
		(&ng{bo: le}).shb().idb(1, 0).epb(3, 1, 60, pkt).buf, // packet on an undescribed interface
		(&ng{bo: le}).shb().spb(60, pkt).buf,                 // simple packet before any interface
		(&ng{bo: le}).shb().idb(1, 32).spb(60, pkt).buf,      // simple packet cut to the snapshot length
		(&ng{bo: be}).shb().idb(1, 0).pb(0, 1, 60, pkt).buf,  // obsolete packet block
		two(le).block(blockJournal, []byte("MESSAGE=x\n")).block(blockCustom, []byte{1, 2, 3, 4}).epb(0, 1, 60, pkt).buf,                                                        // numbered non-packet records
		two(le).block(0x12345678, nil).epb(0, 1, 60, pkt).buf,                                                                                                                   // unknown block: skipped, warned
		(&ng{bo: le}).shb().idb(1, 0, (&ng{bo: le}).opt(optTSResol, []byte{0x94}), (&ng{bo: le}).opt(optTSOffset, le.AppendUint64(nil, 1<<63))).epb(0, ^uint64(0), 60, pkt).buf, // binary resolution, huge offset and time
		(&ng{bo: le}).shb().idb(1, 0, (&ng{bo: le}).opt(optTSResol, []byte{0xff})).buf,                                                                                          // impossible resolution
		(&ng{bo: le}).shb().block(blockIDB, []byte{1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 200, 0}).buf,                                                                                   // option runs past its block
		concat((&ng{bo: le}).shb().idb(1, 0).buf, le.AppendUint32(nil, blockEPB), le.AppendUint32(nil, 0xfffffffc)),                                                             // absurd block length
		concat((&ng{bo: le}).shb().idb(1, 0).buf, le.AppendUint32(nil, 0x99), le.AppendUint32(nil, 0x7ffffffc)),                                                                 // large unknown block, cut short
		func() []byte { b := two(le).epb(0, 1, 60, pkt).buf; le.PutUint32(b[len(b)-4:], 64); return b }(),                                                                       // trailing length differs
		func() []byte { b := two(le).epb(0, 1, 60, pkt).buf; le.PutUint32(b[len(b)-72:], 61); return b }(),                                                                      // captured length past the block
		(&ng{bo: le}).shb().buf[:20],                                         // section header cut short
		func() []byte { b := (&ng{bo: le}).shb().buf; b[8] = 0; return b }(), // no byte-order magic
		gzipBytes(f, two(be).epb(0, 1, 60, pkt).buf),                         // gzip of pcapng
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(fuzzRead)
}

// fuzzRead reads data to its end and checks what the package promises of
// any input: no panic, bounded frames, increasing numbers and offsets,
// one-line errors of the documented kinds naming the file.
func fuzzRead(t *testing.T, data []byte) {
	r, err := NewFileReader("fuzz", bytes.NewReader(data))
	if err != nil {
		checkFuzzErr(t, err)
		return
	}
	defer r.Close()
	var f Frame
	lastNum, lastOff := 0, int64(-1)
	for n := 0; ; n++ {
		err := r.Next(&f)
		if err != nil {
			if err.Error() != "EOF" {
				checkFuzzErr(t, err)
			}
			if info := r.Info(); info.Packets != n {
				t.Fatalf("Info.Packets %d after %d frames", info.Packets, n)
			}
			return
		}
		switch {
		case len(f.Data) > MaxCaptureLength:
			t.Fatalf("frame %d holds %d bytes", f.Number, len(f.Data))
		case cap(f.Data) != len(f.Data):
			t.Fatalf("frame %d: Data not clipped", f.Number)
		case f.Number <= lastNum:
			t.Fatalf("frame number %d after %d", f.Number, lastNum)
		case f.Offset <= lastOff:
			t.Fatalf("frame offset %d after %d", f.Offset, lastOff)
		case !r.Info().Compressed && f.Offset+int64(len(f.Data)) > int64(len(data)):
			t.Fatalf("frame at %d with %d bytes past the end of %d", f.Offset, len(f.Data), len(data))
		}
		lastNum, lastOff = f.Number, f.Offset
	}
}

func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	checkErrKind(t, "fuzz", err)
	if msg := err.Error(); !strings.HasPrefix(msg, "fuzz: ") || strings.Contains(msg, "\n") {
		t.Fatalf("error %q: want one line starting with the file name", msg)
	}
}
