package capture

import (
	"fmt"
	"io"
	"os"
	"unsafe"
)

// A large capture file is read from a read-only shared mapping of it
// rather than copied into the reader's buffer: frames point into the
// page cache. On the 1 GB bulk capture the copy was a third of the
// stage's time (medians of 15 runs: read 194 ms, mapped 168); the pages
// behind the reader are unmapped every dropStep bytes, so that the
// mapping keeps about as much resident as the read buffer did (the
// kernel maps a large folio, up to 1 MB, ahead: with 1 MiB steps the
// real handshake capture peaked 1 MB higher, for 158 ms on bulk).
const (
	// mapMin is the smallest file mapped: below it one read(2) is cheaper
	// than mmap and munmap (rotation files of a few hundred KB).
	mapMin = 1 << 20
	// dropStep is how often the pages already read are unmapped.
	dropStep = 256 << 10
)

// OpenMapped is Open for a reader on a goroutine that turns memory faults
// into panics (debug.SetPanicOnFault) and hands what it recovers to
// Fault: a regular, uncompressed file of at least 1 MiB is then read from
// a mapping. Another program that truncates the file while it is read
// makes the next access beyond its new end fault (SIGBUS); without that
// guard the process would die.
func OpenMapped(name string) (*FileReader, error) { return openFile(name, readBufSize, true) }

// openMapping reads f, a regular file of size bytes opened by openFile,
// from a mapping; ok is false, and f untouched, when it cannot be mapped
// (a file system without mmap, a 32-bit address space), for openFile to
// read it into a buffer instead.
func openMapping(name string, f *os.File, size int64) (r *FileReader, ok bool, err error) {
	data, err := mapFile(f, size)
	if err != nil {
		return nil, false, nil
	}
	// Reading goes on from the end of the mapping if the file grows.
	if _, err := f.Seek(int64(len(data)), io.SeekStart); err != nil {
		unmapFile(data)
		return nil, false, nil
	}
	r = &FileReader{name: DisplayName(name), closer: f, size: size}
	r.info.Name = name
	r.raw = &countingReader{r: f}
	r.src = r.raw
	r.buf, r.end, r.mapping = data, len(data), data
	if err := r.detect(); err != nil {
		r.unmap()
		return nil, true, err
	}
	return r, true, nil
}

// gzipped reports whether f starts with gzip's magic number, which
// OpenMapped leaves to Open: the inflated stream is copied anyway.
func gzipped(f *os.File) bool {
	var b [2]byte
	n, _ := f.ReadAt(b[:], 0)
	return n == 2 && b[0] == 0x1f && b[1] == 0x8b
}

// Mapped reports whether r reads its file from a mapping, and so must be
// read on a goroutine guarded as OpenMapped says.
func (r *FileReader) Mapped() bool { return r.mapping != nil }

// Fault returns the error for p, a value recovered from a panic on the
// goroutine reading r, when p is a memory fault in r's mapping: the file
// was cut short while it was read. It returns nil for anything else,
// which the caller should panic with again. After a fault, r reads no
// more: Next returns the error.
func (r *FileReader) Fault(p any) error {
	fault, ok := p.(interface{ Addr() uintptr })
	if !ok || r.mapping == nil {
		return nil
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(r.mapping)))
	if a := fault.Addr(); a < start || a-start >= uintptr(len(r.mapping)) {
		return nil
	}
	now := "a smaller size"
	if size, ok := r.fileSize(); ok {
		now = fmt.Sprintf("%d bytes", size)
	}
	return r.cutErr(now)
}

// cutErr ends the reading of a mapped file found cut short to now.
func (r *FileReader) cutErr(now string) error {
	err := &fileError{fmt.Sprintf("%s: cut short to %s while it was read (it had %d bytes)", r.name, now, len(r.mapping)), ErrTruncated}
	r.err = err
	return err
}

// cutShort returns the error for a mapped file now shorter than its
// mapping, or nil. Past the new end, the rest of the last page reads as
// zeros instead of faulting, and zeros read as records of no bytes
// (pcap) or blocks of no length (pcapng): where the reader meets either,
// it asks the file's size, so that a cut in mid-page ends the reading
// there as a fault does, not after a page of empty frames. At most the
// frame the cut goes through is returned with zeros past the cut.
func (r *FileReader) cutShort() error {
	if r.mapping == nil {
		return nil
	}
	if size, ok := r.fileSize(); ok && size < int64(len(r.mapping)) {
		return r.cutErr(fmt.Sprintf("%d bytes", size))
	}
	return nil
}

// emptyRecord is cutShort for a pcap record of no bytes at r.start,
// asked once a page: a file of nothing but empty records would otherwise
// cost a stat each 16 bytes.
func (r *FileReader) emptyRecord() error {
	page := r.start/os.Getpagesize() + 1
	if page == r.sizedPage {
		return nil
	}
	r.sizedPage = page
	return r.cutShort()
}

// fileSize is the size of r's file now.
func (r *FileReader) fileSize() (int64, bool) {
	f, ok := r.closer.(*os.File)
	if !ok {
		return 0, false
	}
	st, err := f.Stat()
	if err != nil {
		return 0, false
	}
	return st.Size(), true
}

// touchAhead reads two cache lines at the start of b, the next record's
// header and the headers its frame begins with, and two a kilobyte on
// (the record after, on a bulk capture), so that they load while the
// frame just read is decoded. A mapped file comes from memory, not from
// a buffer the kernel's copy has just left in the cache, and decoding
// waited for each record's lines: bulk capture, medians of 15 runs,
// 169 -> 139 ms (the next record alone: 155). The sum only keeps the
// loads from being dropped.
//
// The lines ahead may lie past the end of a file cut short meanwhile:
// that fault is recovered here, and ends the touching, so that every
// whole record before the cut is still read, and the fault that ends the
// reading comes where a record is cut.
func (r *FileReader) touchAhead(b []byte) {
	if len(b) < touchSpan || r.touchFault {
		return
	}
	defer r.recoverTouch()
	r.touched += b[0] + b[63] + b[touchSpan-64] + b[touchSpan-1]
}

func (r *FileReader) recoverTouch() {
	if recover() != nil {
		r.touchFault = true
	}
}

const touchSpan = 1024 + 64

// dropRead unmaps the pages of the mapping before the next unread byte,
// in steps of dropStep, and counts them read for BytesRead.
func (r *FileReader) dropRead() {
	to := r.start &^ (dropStep - 1)
	dropPages(r.mapping[r.dropped:to])
	r.dropped = to
	r.raw.n.Store(int64(r.start))
}

// leaveMapping goes on reading the file into a buffer, from the end of
// the mapping: at its end, where a record may be cut short or the file
// may have grown since it was opened. The unread tail is copied first.
func (r *FileReader) leaveMapping(need int) {
	tail := r.buf[r.start:r.end]
	buf := readBuf(max(readBufSize, need))
	r.end = copy(buf, tail)
	r.base += int64(r.start)
	r.start = 0
	r.buf = buf
	r.raw.n.Store(int64(len(r.mapping)))
	r.unmap()
}

func (r *FileReader) unmap() {
	if r.mapping != nil {
		unmapFile(r.mapping)
		r.mapping, r.dropped = nil, 0
	}
}
