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
		g.epb(0, uint64(1_700_000_000_000_000+i*1000), size, data)
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
// cut are the file's.
func TestOpenMappedCutShort(t *testing.T) {
	const records, size = 4000, 1000
	data := manyRecords(binary.LittleEndian, records, size)
	want, _ := mustReadAll(t, "want", data)
	path := writeTemp(t, "cut.pcap", data)
	r := openMapped(t, path)
	var f Frame
	for range 10 {
		if err := r.Next(&f); err != nil {
			t.Fatal(err)
		}
	}
	// At a page boundary, so that no page holds zeros past the new end.
	const cutAt = 2 << 20
	if err := os.Truncate(path, cutAt); err != nil {
		t.Fatal(err)
	}
	whole := (cutAt - pcapHeaderLen) / (pcapRecordLen + size)

	var recs []rec
	err := func() (err error) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if p := recover(); p != nil {
				if err = r.Fault(p); err == nil {
					panic(p)
				}
			}
		}()
		for {
			if err := r.Next(&f); err != nil {
				return err
			}
			// Like a decoder, read every byte of the frame.
			sum := 0
			for _, c := range f.Data {
				sum += int(c)
			}
			recs = append(recs, recOf(&f))
		}
	}()
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("ended with %v, want ErrTruncated", err)
	}
	t.Logf("%v", err)
	if got := 10 + len(recs); got != whole {
		t.Errorf("%d frames read, want the %d whole before the cut", got, whole)
	}
	sameRecs(t, recs, want[10:min(whole, len(want))])
	if err := r.Next(&f); !errors.Is(err, ErrTruncated) {
		t.Errorf("Next after the fault: %v, want the same error", err)
	}
	// Not a fault in the mapping: not Fault's.
	if r.Fault(errors.New("something else")) != nil {
		t.Error("Fault claimed a panic that is no memory fault")
	}
}
