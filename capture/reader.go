package capture

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
)

// MaxCaptureLength is the largest captured length a record may have, the
// maximum snapshot length of libpcap and Wireshark (262144 bytes). Longer
// records are taken for corruption whatever snapshot length the file
// declares, so a damaged length never turns into a huge allocation or read.
const MaxCaptureLength = 262144

const (
	// readBufSize is the size of the buffer input is read into: large
	// reads, few system calls, small enough to stay in a core's L2 cache
	// while the frames in it are decoded, and to cost little per input
	// when many files are read at once. It grows (up to maxHeldBlock) for
	// a record that does not fit.
	readBufSize = 256 << 10
	// minReadBuf is the smallest buffer, for small files; it grows if a
	// record needs more.
	minReadBuf = 4 << 10
	// maxHeldBlock bounds the pcapng blocks held whole in the buffer
	// (packets, section and interface headers): a packet block has at most
	// MaxCaptureLength bytes of data, the rest is options.
	maxHeldBlock = 1 << 20
	// largeReadBuf is the buffer of a large plain file, and largeFileMin
	// what makes a file large: on the project's machines a read(2) costs
	// several microseconds beyond its copy, and 1 MiB reads took a 1 GB
	// file's read from 98 to 70 ms of CPU (256 KB -> 1 MiB; 2 and 4 MiB
	// gained nothing more). At most maxLargeBufs readers hold one at once,
	// so many files read side by side still cost readBufSize each.
	largeReadBuf = 1 << 20
	largeFileMin = 16 << 20
	maxLargeBufs = 2
	// maxSkippedBlock bounds the blocks skipped unread (name resolution,
	// statistics, decryption secrets, custom...). It is Wireshark's limit
	// for any block; a larger length is taken for corruption.
	maxSkippedBlock = 128 << 20
)

type format uint8

const (
	formatPcap format = iota + 1
	formatPcapng
)

// FileReader reads frames from one capture file. It is not safe for
// concurrent use; see the package documentation for buffer ownership.
type FileReader struct {
	name   string    // as messages show it: DisplayName of the name given
	closer io.Closer // closed by Close; nil when the caller owns the input
	size   int64     // size of a regular file, else 0

	raw *countingReader // the input as given, counting bytes for progress
	src io.Reader       // the (decompressed) capture stream
	gz  *gzip.Reader    // non-nil for gzip input
	pf  *prefetcher     // inflates gzip input in a helper goroutine

	// buf[start:end] holds bytes read from src and not yet consumed;
	// base is the stream offset of buf[0].
	buf        []byte
	start, end int
	base       int64
	srcErr     error // first error from src (io.EOF at the end), sticky
	// large is set while buf is a largeReadBuf buffer (given back at
	// Close, or when the input turns out to be gzip).
	large  bool
	err    error // error Next returned, sticky
	closed bool

	format format
	be     bool // big-endian file or pcapng section

	// pcap
	linkType  uint16
	fracNanos int64 // nanoseconds per unit of the record's fraction field

	// pcapng
	ifaces   []iface // the interfaces of the current section
	section  int     // index of the current section
	sawIface bool    // an interface was described (Info.Snaplen is set)

	number     int // last frame number handed out (or taken by a numbered non-packet record)
	info       Info
	capOverLen int // records whose captured length exceeds the original length
	// unknown counts the pcapng blocks of unknown type skipped, by type,
	// for the first maxUnknownTypes types; unknownOther counts the
	// blocks of further types, so that a file of a million block types
	// makes a few warning lines, not a million.
	unknown      map[uint32]unknownBlocks
	unknownOther unknownBlocks
}

// maxUnknownTypes bounds the unknown pcapng block types told apart.
const maxUnknownTypes = 8

// unknownBlocks counts skipped blocks and where the first was: after frame
// `after` (0: before any frame).
type unknownBlocks struct{ n, after int }

func (r *FileReader) unknownBlock(typ uint32) {
	if r.unknown == nil {
		r.unknown = make(map[uint32]unknownBlocks)
	}
	u, ok := r.unknown[typ]
	switch {
	case ok || len(r.unknown) < maxUnknownTypes:
		if !ok {
			u.after = r.number
		}
		u.n++
		r.unknown[typ] = u
	default:
		if r.unknownOther.n == 0 {
			r.unknownOther.after = r.number
		}
		r.unknownOther.n++
	}
}

// Open opens a capture file; "-" is standard input (named "stdin" in
// messages). The format is detected from the first bytes, never from the
// name: pcap (microsecond or nanosecond, either byte order), pcapng, or
// either of them gzip-compressed. Errors are one line naming the file and
// what is wrong, e.g. "x.txt: not a capture file (starts with 48 65 6c 6c)".
func Open(name string) (*FileReader, error) { return openFile(name, readBufSize) }

// FirstTime opens name, reads its first record and closes it again, with
// a small buffer: the cheap way to order hundreds of files by time before
// reading any. It returns the errors Open would; ok is false when no
// record could be read (the file has none, or its first is damaged).
// info is what the file said of itself up to that record (its format and,
// for pcap, its one link type).
func FirstTime(name string) (first int64, ok bool, info Info, err error) {
	r, err := openFile(name, minReadBuf)
	if err != nil {
		return 0, false, Info{}, err
	}
	defer r.Close()
	var f Frame
	if r.Next(&f) != nil {
		return 0, false, r.Info(), nil
	}
	return f.Time, true, r.Info(), nil
}

// openFile opens name with a read buffer of at most bufSize bytes to
// start with.
func openFile(name string, bufSize int) (*FileReader, error) {
	if name == "-" {
		return newFileReader("stdin", os.Stdin, nil, 0)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, openError(name, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, openError(name, err)
	}
	if st.IsDir() {
		f.Close()
		return nil, &fileError{DisplayName(name) + ": is a directory", syscall.EISDIR}
	}
	var size int64
	if st.Mode().IsRegular() {
		size = st.Size()
	}
	r, err := newFileReaderSize(name, f, f, size, bufSize)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// OpenError is how every command words a file it cannot open: one line
// naming the file ("x.pcap: no such file"), wrapping err.
func OpenError(name string, err error) error { return openError(name, err) }

// openError turns an error from os.Open into one line naming the file.
// It wraps the underlying error, so errors.Is(err, fs.ErrNotExist) holds.
func openError(name string, err error) error {
	name = DisplayName(name)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &fileError{name + ": no such file", err}
	case errors.Is(err, fs.ErrPermission):
		return &fileError{name + ": permission denied", err}
	}
	return &fileError{fmt.Sprintf("%s: %v", name, err), err}
}

// NewFileReader reads a capture from r, calling it name in messages. It
// reads the file header before returning. Close does not close r. When r
// knows its length (a *bytes.Reader, say), Size reports it.
func NewFileReader(name string, r io.Reader) (*FileReader, error) {
	var size int64
	if l, ok := r.(interface{ Len() int }); ok {
		size = int64(l.Len())
	}
	return newFileReader(name, r, nil, size)
}

func newFileReader(name string, src io.Reader, closer io.Closer, size int64) (*FileReader, error) {
	return newFileReaderSize(name, src, closer, size, readBufSize)
}

func newFileReaderSize(name string, src io.Reader, closer io.Closer, size int64, bufSize int) (*FileReader, error) {
	r := &FileReader{name: DisplayName(name), closer: closer, size: size}
	r.info.Name = name
	r.raw = &countingReader{r: src}
	r.src = r.raw
	if size > 0 && int64(bufSize) > size {
		bufSize = max(int(size), minReadBuf)
	}
	if size >= largeFileMin && bufSize == readBufSize {
		r.buf, r.large = largeBuf()
	}
	if r.buf == nil {
		r.buf = readBuf(bufSize)
	}
	if err := r.detect(); err != nil {
		r.stopPrefetch()
		r.putBuf()
		return nil, err
	}
	return r, nil
}

// detect reads the magic number and the file header.
func (r *FileReader) detect() error {
	if !r.fill(4) {
		if err := r.hardErr(); err != nil {
			return err
		}
		head := r.buf[r.start:r.end]
		switch {
		case len(head) == 0:
			return &fileError{r.name + ": empty file (not a capture file)", ErrNotCapture}
		case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
			return &fileError{fmt.Sprintf("%s: gzip header cut short (%d bytes)", r.name, len(head)), ErrTruncated}
		}
		return &fileError{fmt.Sprintf("%s: not a capture file (only %d bytes: % x)", r.name, len(head), head), ErrNotCapture}
	}
	if b := r.buf[r.start:]; b[0] == 0x1f && b[1] == 0x8b {
		if err := r.startGzip(); err != nil {
			return err
		}
		if !r.fill(4) {
			if err := r.hardErr(); err != nil {
				return err
			}
			if r.srcErr == io.ErrUnexpectedEOF {
				return &fileError{r.name + ": gzip stream cut short before the capture header", ErrTruncated}
			}
			head := r.buf[r.start:r.end]
			return &fileError{fmt.Sprintf("%s: not a capture file (gzip-compressed, %d bytes: % x)", r.name, len(head), head), ErrNotCapture}
		}
	}
	b := r.buf[r.start : r.start+4]
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		return r.readPcapHeader(false, 1000)
	case 0xd4c3b2a1:
		return r.readPcapHeader(true, 1000)
	case 0xa1b23c4d:
		return r.readPcapHeader(false, 1)
	case 0x4d3cb2a1:
		return r.readPcapHeader(true, 1)
	case blockSHB:
		r.format = formatPcapng
		r.info.Format = "pcapng"
		return r.readSectionHeader(true)
	}
	what := "starts with"
	if r.gz != nil {
		what = "gzip-compressed, starts with"
	}
	return &fileError{fmt.Sprintf("%s: not a capture file (%s % x)", r.name, what, b), ErrNotCapture}
}

// startGzip switches src to the inflated stream. The bytes already read
// are put back in front of the rest of the input.
func (r *FileReader) startGzip() error {
	head := bytes.NewReader(slices.Clone(r.buf[r.start:r.end]))
	compressed := bufio.NewReaderSize(io.MultiReader(head, r.raw), 256<<10)
	gz, err := gzip.NewReader(compressed)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return &fileError{r.name + ": gzip header cut short", ErrTruncated}
		}
		return &FormatError{File: r.info.Name, Msg: "corrupt gzip data: " + err.Error()}
	}
	r.gz = gz
	r.pf = newPrefetcher(gz)
	r.src = r.pf
	r.info.Compressed = true
	r.start, r.end, r.base, r.srcErr = 0, 0, 0, nil
	if r.large || len(r.buf) < readBufSize {
		// The prefetcher's chunks are what is read; a large buffer
		// would only hold a place another file could use.
		r.putBuf()
		r.buf = readBuf(readBufSize)
	}
	return nil
}

// Next fills f with the next packet. It returns io.EOF at a clean end. A
// record cut short returns an error wrapping ErrTruncated that says the
// byte offset; corrupt structure returns a *FormatError. After an error,
// Next returns the same error again. f.Data is valid until the next call.
func (r *FileReader) Next(f *Frame) error {
	if r.err != nil {
		return r.err
	}
	var err error
	if r.format == formatPcap {
		err = r.nextPcap(f)
	} else {
		err = r.nextPcapng(f)
	}
	if err != nil {
		r.err = err
	}
	return err
}

// count numbers a packet and updates the running summary.
func (r *FileReader) count(f *Frame, hasTime bool) {
	r.number++
	f.Number = r.number
	r.info.Packets++
	if len(f.Data) > f.OrigLen {
		r.capOverLen++
	}
	if !hasTime {
		return
	}
	if !r.info.HasTimes {
		r.info.HasTimes = true
		r.info.First, r.info.Last = f.Time, f.Time
		return
	}
	if f.Time < r.info.First {
		r.info.First = f.Time
	}
	if f.Time > r.info.Last {
		r.info.Last = f.Time
	}
}

// Info describes the file as far as it has been read.
func (r *FileReader) Info() Info {
	in := r.info
	in.LinkTypes = slices.Clone(r.info.LinkTypes)
	in.Warnings = nil
	if r.capOverLen > 0 {
		in.Warnings = append(in.Warnings, fmt.Sprintf("%d records have more captured bytes than their original length", r.capOverLen))
	}
	types := make([]uint32, 0, len(r.unknown))
	for t := range r.unknown {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		u := r.unknown[t]
		in.Warnings = append(in.Warnings, fmt.Sprintf("skipped %d pcapng blocks of unknown type 0x%08x (first after frame %d)", u.n, t, u.after))
	}
	if u := r.unknownOther; u.n > 0 {
		in.Warnings = append(in.Warnings, fmt.Sprintf("skipped %d more pcapng blocks of other unknown types (first after frame %d)", u.n, u.after))
	}
	return in
}

// Size returns the size of the input in bytes when it is known, as for a
// regular file (compressed size for gzip input), else 0. With BytesRead it drives a
// progress bar.
func (r *FileReader) Size() int64 { return r.size }

// BytesRead returns how many bytes of the input (compressed bytes for gzip
// input) have been read so far. It reads ahead of Next by up to a few MiB.
func (r *FileReader) BytesRead() int64 { return r.raw.n.Load() }

// Close releases the reader and closes the file Open opened. Frames'
// Data must not be used after Close. Next after Close returns an error.
// For gzip input Close also stops the inflating goroutine; reading
// standard input or a reader given to NewFileReader, which Close leaves
// open, that goroutine exits once its pending Read returns.
func (r *FileReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.err = &fileError{r.name + ": reader closed", fs.ErrClosed}
	if r.pf != nil {
		r.pf.stop()
	}
	var err error
	if r.closer != nil {
		err = r.closer.Close()
		if r.pf != nil {
			// The inflating goroutine fails its next read of the closed
			// file and exits; wait, so none outlives Close. (Input passed
			// to NewFileReader is the caller's to close.) Then its
			// buffers can serve the next reader: 300 gzip rotations
			// otherwise leave 1.5 MB of garbage each.
			<-r.pf.exited
			r.pf.recycle()
		}
	}
	r.putBuf()
	r.buf = nil
	return err
}

// putBuf gives buf back to its pool.
func (r *FileReader) putBuf() {
	switch {
	case r.large:
		r.large = false
		b := r.buf[:cap(r.buf)]
		largePool.Put(&b)
		largeBufs.Add(-1)
	case cap(r.buf) == readBufSize:
		b := r.buf[:readBufSize]
		bufPool.Put(&b)
	}
}

// largeBuf returns a largeReadBuf buffer, and true, when fewer than
// maxLargeBufs readers hold one; else nil and false.
func largeBuf() ([]byte, bool) {
	if largeBufs.Add(1) > maxLargeBufs {
		largeBufs.Add(-1)
		return nil, false
	}
	if b, ok := largePool.Get().(*[]byte); ok {
		return *b, true
	}
	return make([]byte, largeReadBuf), true
}

// bufPool recycles the read buffers of closed readers: a run over hundreds
// of rotation files then allocates two or three instead of one per file
// (300 files: 75 MB less garbage, 44 -> 32 MB peak RSS).
var bufPool sync.Pool // of *[]byte, readBufSize long

// largePool recycles largeReadBuf buffers; largeBufs counts those held.
var (
	largePool sync.Pool
	largeBufs atomic.Int32
)

// readBuf returns a buffer of n bytes, from the pool when one is there and
// n is not larger than the usual size. Its contents are garbage. A new
// one for a file smaller than readBufSize gets the usual capacity all the
// same, so that Close can pool it: sized to the file, each of 3000
// rotations of 180 KB was a new buffer (540 MB of garbage, peak RSS 74
// MB). Only buffers of minReadBuf (FirstTime, tiny files) stay small.
func readBuf(n int) []byte {
	if n <= readBufSize {
		if b, ok := bufPool.Get().(*[]byte); ok {
			return (*b)[:n]
		}
		if n > minReadBuf {
			return make([]byte, n, readBufSize)
		}
	}
	return make([]byte, n)
}

func (r *FileReader) stopPrefetch() {
	if r.pf != nil {
		r.pf.stop()
	}
}

// pos is the stream offset of the next unread byte.
func (r *FileReader) pos() int64 { return r.base + int64(r.start) }

// fill makes at least n unread bytes available in buf[start:end] and
// reports whether it could; if not, srcErr says why.
func (r *FileReader) fill(n int) bool {
	if r.end-r.start >= n {
		return true
	}
	return r.fillSlow(n)
}

func (r *FileReader) fillSlow(n int) bool {
	if r.start > 0 {
		// Move the unread tail (part of one record) to the front so the
		// read below gets the whole rest of the buffer.
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.base += int64(r.start)
		r.start = 0
	}
	if n > len(r.buf) {
		// Callers bound n (maxHeldBlock), so this grows a small
		// buffer at most to about 1 MiB.
		nb := make([]byte, max(n, min(2*len(r.buf), maxHeldBlock)))
		copy(nb, r.buf[:r.end])
		r.putBuf()
		r.buf = nb
	}
	for empty := 0; r.end < n && r.srcErr == nil; {
		m, err := r.src.Read(r.buf[r.end:])
		r.end += m
		switch {
		case err != nil:
			r.srcErr = err
		case m == 0:
			if empty++; empty >= 100 {
				r.srcErr = io.ErrNoProgress
			}
		}
	}
	return r.end >= n
}

// skip consumes n bytes, reading through any not yet in the buffer, and
// reports whether the input had them.
func (r *FileReader) skip(n int64) bool {
	for {
		avail := int64(r.end - r.start)
		if avail >= n {
			r.start += int(n)
			return true
		}
		n -= avail
		r.base += int64(r.end)
		r.start, r.end = 0, 0
		if r.srcErr != nil {
			return false
		}
		m, err := r.src.Read(r.buf)
		r.end = m
		if err != nil {
			r.srcErr = err
		}
	}
}

// hardErr returns the error for a failed read that is not the input
// ending, or nil when the input merely ended (cleanly or not).
func (r *FileReader) hardErr() error {
	err := r.srcErr
	if err == nil || err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil
	}
	off := r.base + int64(r.end)
	var corrupt flate.CorruptInputError
	if r.gz != nil && (errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.As(err, &corrupt)) {
		return &FormatError{File: r.info.Name, Offset: off, Msg: "corrupt gzip data: " + err.Error()}
	}
	return &fileError{fmt.Sprintf("%s: read error at byte %d: %v", r.name, off, err), err}
}

// endErr explains why fill(need) failed for a record described by what:
// io.EOF at a clean end between records, else a read error or a
// truncation.
func (r *FileReader) endErr(need int, what string) error {
	if err := r.hardErr(); err != nil {
		return err
	}
	have := r.end - r.start
	if have == 0 && r.srcErr == io.EOF {
		return io.EOF
	}
	msg := fmt.Sprintf("%s: %v at byte %d: %s has %d of %d bytes", r.name, ErrTruncated, r.pos(), what, have, need)
	if r.srcErr == io.ErrUnexpectedEOF && r.gz != nil {
		msg += " (gzip stream ends early)"
	}
	return &fileError{msg, ErrTruncated}
}

func (r *FileReader) formatErr(off int64, format string, args ...any) error {
	return &FormatError{File: r.info.Name, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (r *FileReader) addLinkType(lt uint16) {
	if !slices.Contains(r.info.LinkTypes, lt) {
		r.info.LinkTypes = append(r.info.LinkTypes, lt)
	}
}

func (r *FileReader) u16(b []byte) uint16 {
	if r.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *FileReader) u32(b []byte) uint32 {
	if r.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *FileReader) u64(b []byte) uint64 {
	if r.be {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// countingReader counts the bytes read through it. The count is read by
// BytesRead while a prefetching goroutine may be adding to it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
