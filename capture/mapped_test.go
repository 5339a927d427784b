package capture

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"runtime/debug"
	"testing"
)

// manyRecords returns a pcap of n records of size bytes of data each, whose
// bytes and times differ, in byte order bo.
func manyRecords(bo byteOrder, n, size int) []byte {
	var recs [][]byte
	for i := range n {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(i*7 + j)
		}
		recs = append(recs, pcapRecord(bo, uint32(1_700_000_000+i), uint32(i%1_000_000), uint32(size), uint32(size+10), data))
	}
	return pcapFile(bo, 0xa1b2c3d4, 65535, 1, recs...)
}

// manyBlocks returns a pcapng of n enhanced packet blocks.
func manyBlocks(n, size int) []byte {
	g := (&ng{bo: binary.LittleEndian}).shb().idb(1, 65535)
	for i := range n {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(i + j*3)
		}
		g.epb(0, 1_700_000_000_000_000+uint64(i)*1000, size, data)
	}
	return g.buf
}

// openMapped opens path with OpenMapped, which must map it, and closes
// it when the test ends.
func openMapped(t *testing.T, path string) *FileReader {
	t.Helper()
	r, err := OpenMapped(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if !r.Mapped() {
		t.Fatal("not mapped")
	}
	return r
}

type readResult struct {
	recs      []rec
	err       string
	info      Info
	bytesRead int64
}

func readAllOf(t *testing.T, r *FileReader) readResult {
	t.Helper()
	recs, err := readRecs(r)
	res := readResult{recs: recs, info: r.Info(), bytesRead: r.BytesRead()}
	if err != nil {
		res.err = err.Error()
	}
	return res
}

// TestOpenMappedReadsAsOpen: a mapped file reads the same frames, info,
// errors and byte counts as one read into the buffer, whatever its
// format; files it must not map (small, gzip) are read as Open reads them.
func TestOpenMappedReadsAsOpen(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	whole := manyRecords(le, 3000, 700)
	cut := whole[:len(whole)-300] // the last record cut short
	tests := []struct {
		name   string
		data   []byte
		mapped bool
	}{
		{"pcap.pcap", whole, true},
		{"pcap-big-endian.pcap", manyRecords(be, 2000, 1000), true},
		{"pcap-cut.pcap", cut, true},
		{"pcapng.pcapng", manyBlocks(2500, 600), true},
		{"small.pcap", manyRecords(le, 100, 700), false},
		{"pcap.pcap.gz", gzipBytes(t, whole), false},
		// A record straddles every dropStep boundary somewhere.
		{"odd-records.pcap", manyRecords(le, 4000, 1499), true},
		// Records of no bytes make the reader ask the file's size.
		{"empty-records.pcap", manyRecords(le, 70000, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTemp(t, tt.name, tt.data)
			if tt.mapped && len(tt.data) < mapMin {
				t.Fatalf("%d bytes: too small to be mapped", len(tt.data))
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			want := readAllOf(t, r)
			r.Close()
			m, err := OpenMapped(path)
			if err != nil {
				t.Fatal(err)
			}
			if m.Mapped() != tt.mapped {
				t.Errorf("Mapped %v, want %v", m.Mapped(), tt.mapped)
			}
			got := readAllOf(t, m)
			if m.Mapped() {
				t.Error("still mapped once read to its end")
			}
			if err := m.Close(); err != nil {
				t.Error(err)
			}
			sameRecs(t, got.recs, want.recs)
			if got.err != want.err {
				t.Errorf("ended with %q, want %q", got.err, want.err)
			}
			if got.bytesRead != want.bytesRead {
				t.Errorf("BytesRead %d, want %d", got.bytesRead, want.bytesRead)
			}
			if got.info.Packets != want.info.Packets || got.info.Format != want.info.Format || got.info.Last != want.info.Last {
				t.Errorf("info %+v, want %+v", got.info, want.info)
			}
		})
	}
}

// TestOpenMappedPublicCaptures reads the real captures large enough to be
// mapped both ways.
func TestOpenMappedPublicCaptures(t *testing.T) {
	dir := publicDir(t)
	for _, c := range publicCaptures {
		path := dir + "/" + c.name
		if st, err := os.Stat(path); err != nil || st.Size() < mapMin {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			r := openMapped(t, path)
			recs, err := readRecs(r)
			if err != io.EOF || len(recs) != c.packets {
				t.Fatalf("%d frames, ended with %v; want %d and EOF", len(recs), err, c.packets)
			}
			sameAsTshark(t, recs, tsharkRecs(t, path))
		})
	}
}

// TestOpenMappedFileGrows: records appended after the file was opened
// are read, as Open reads them, from the end of the mapping on.
func TestOpenMappedFileGrows(t *testing.T) {
	first := manyRecords(binary.LittleEndian, 2000, 700)
	path := writeTemp(t, "growing.pcap", first)
	r := openMapped(t, path)
	more := manyRecords(binary.LittleEndian, 2100, 700)[len(first):] // 100 more records
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(more); err != nil {
		t.Fatal(err)
	}
	f.Close()
	recs, err := readRecs(r)
	if err != io.EOF || len(recs) != 2100 {
		t.Fatalf("%d frames, ended with %v; want 2100 and EOF", len(recs), err)
	}
	if n := r.BytesRead(); n != int64(len(first)+len(more)) {
		t.Errorf("BytesRead %d, want %d", n, len(first)+len(more))
	}
}

// TestOpenMappedCutShort: a file another program truncates while it is
// mapped faults where it no longer is (SIGBUS); on a guarded goroutine,
// Fault turns that into a truncation error, and the frames before the
// cut are the file's. A cut in mid-page leaves zeros to the page's end,
// which must end the reading too, not read as a page of empty records.
func TestOpenMappedCutShort(t *testing.T) {
	const records, size = 4000, 1000
	tests := []struct {
		name  string
		data  []byte
		cutAt int
	}{
		{"pcap, page boundary", manyRecords(binary.LittleEndian, records, size), 2 << 20},
		{"pcap, mid-page", manyRecords(binary.LittleEndian, records, size), 2<<20 + 100},
		{"pcap, mid-page, big-endian", manyRecords(binary.BigEndian, records, size), 2<<20 + 2000},
		{"pcapng, page boundary", manyBlocks(records, size), 2 << 20},
		{"pcapng, mid-page", manyBlocks(records, size), 2<<20 + 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, _ := mustReadAll(t, "want", tt.data)
			// whole: the records that end before the cut.
			whole := 0
			for i := range want {
				end := int64(len(tt.data))
				if i+1 < len(want) {
					end = want[i+1].Offset
				}
				if end <= int64(tt.cutAt) {
					whole++
				}
			}
			path := writeTemp(t, "cut.pcap", tt.data)
			r := openMapped(t, path)
			var f Frame
			for range 10 {
				if err := r.Next(&f); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Truncate(path, int64(tt.cutAt)); err != nil {
				t.Fatal(err)
			}
			recs, err := readGuarded(r)
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("ended with %v, want ErrTruncated", err)
			}
			t.Logf("%v", err)
			// The frame the cut goes through may come, with zeros past
			// the cut; no other.
			if got := 10 + len(recs); got != whole && (got != whole+1 || tt.cutAt%4096 == 0) {
				t.Errorf("%d frames read, want the %d whole before the cut", got, whole)
			}
			sameRecs(t, recs[:min(len(recs), whole-10)], want[10:whole])
			if err := r.Next(&f); !errors.Is(err, ErrTruncated) {
				t.Errorf("Next after the fault: %v, want the same error", err)
			}
		})
	}
}

// readGuarded reads r to its end as the engine's stage does: faults in
// the mapping become panics, which Fault turns into an error.
func readGuarded(r *FileReader) (recs []rec, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			if err = r.Fault(p); err == nil {
				panic(p)
			}
		}
	}()
	var f Frame
	for {
		if err := r.Next(&f); err != nil {
			return recs, err
		}
		// Like a decoder, read every byte of the frame.
		sum := 0
		for _, c := range f.Data {
			sum += int(c)
		}
		recs = append(recs, recOf(&f))
	}
}

// TestFaultClaimsOnlyMappingFaults: Fault leaves alone what is no memory
// fault in the mapping.
func TestFaultClaimsOnlyMappingFaults(t *testing.T) {
	path := writeTemp(t, "m.pcap", manyRecords(binary.LittleEndian, 2000, 1000))
	r := openMapped(t, path)
	// Not a fault in the mapping: not Fault's.
	if r.Fault(errors.New("something else")) != nil {
		t.Error("Fault claimed a panic that is no memory fault")
	}
}
