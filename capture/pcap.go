package capture

import (
	"encoding/binary"
	"fmt"
)

// The pcap format (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap):
// a 24-byte file header, then records of a 16-byte header (seconds,
// fraction, captured length, original length) and the captured bytes. The
// magic number gives the byte order and whether the fraction counts
// microseconds or nanoseconds.

const (
	pcapHeaderLen = 24
	pcapRecordLen = 16
)

// readPcapHeader reads the file header; be and fracNanos come from the
// magic number.
func (r *FileReader) readPcapHeader(be bool, fracNanos int64) error {
	r.format = formatPcap
	r.be = be
	r.fracNanos = fracNanos
	r.info.Format = "pcap"
	if fracNanos == 1 {
		r.info.Format = "pcap-ns"
	}
	if !r.fill(pcapHeaderLen) {
		if err := r.hardErr(); err != nil {
			return err
		}
		return &fileError{fmt.Sprintf("%s: pcap header cut short (%d of %d bytes)", r.name, r.end-r.start, pcapHeaderLen), ErrTruncated}
	}
	h := r.buf[r.start : r.start+pcapHeaderLen]
	major, minor := r.u16(h[4:6]), r.u16(h[6:8])
	if major != 2 {
		return r.formatErr(0, "unsupported pcap version %d.%d", major, minor)
	}
	r.info.Snaplen = int(r.u32(h[16:20]))
	// The upper bits of the link type field carry FCS information.
	r.linkType = uint16(r.u32(h[20:24]))
	r.addLinkType(r.linkType)
	r.start += pcapHeaderLen
	return nil
}

// nextPcap reads the next record. The record is taken straight from the
// buffer when it is whole there, as all but one in each 256 KB read are;
// nextPcapSlow reads more first, or says why it cannot. Filling the frame
// and counting it inline, with count's tests for pcapng left out (every
// pcap record has a time): callgrind, 100k records of the bulk capture,
// 131 -> 107 instructions a record in Next and nextPcap.
func (r *FileReader) nextPcap(f *Frame) error {
	b := r.buf[r.start:r.end]
	if len(b) < pcapRecordLen {
		return r.nextPcapSlow(f)
	}
	sec, frac, caplen, origlen := r.recordHeader((*[pcapRecordLen]byte)(b))
	n := pcapRecordLen + int(caplen)
	if caplen > MaxCaptureLength || n > len(b) {
		return r.nextPcapSlow(f)
	}
	t := int64(sec)*1e9 + int64(frac)*r.fracNanos
	f.Data = b[pcapRecordLen:n:n]
	f.OrigLen = int(origlen)
	f.Time = t
	f.LinkType = r.linkType
	f.Interface = 0
	f.Section = 0
	f.Offset = r.base + int64(r.start)
	r.start += n
	r.number++
	f.Number = r.number
	r.info.Packets++
	if caplen > origlen {
		r.capOverLen++
	}
	switch {
	case !r.info.HasTimes:
		r.info.HasTimes = true
		r.info.First, r.info.Last = t, t
	case t < r.info.First:
		r.info.First = t
	case t > r.info.Last:
		r.info.Last = t
	}
	return nil
}

// nextPcapSlow reads until the buffer holds the next record whole, for
// nextPcap to take, or returns the error that prevents it.
func (r *FileReader) nextPcapSlow(f *Frame) error {
	if !r.fill(pcapRecordLen) {
		return r.endErr(pcapRecordLen, "record header")
	}
	_, _, caplen, _ := r.recordHeader((*[pcapRecordLen]byte)(r.buf[r.start:]))
	if caplen > MaxCaptureLength {
		return r.formatErr(r.pos(), "record of frame %d claims %d captured bytes, more than the %d any capture holds", r.number+1, caplen, MaxCaptureLength)
	}
	n := pcapRecordLen + int(caplen)
	if !r.fill(n) {
		return r.endErr(n, fmt.Sprintf("record of frame %d", r.number+1))
	}
	return r.nextPcap(f) // whole in the buffer now: no second call here
}

// recordHeader reads the four fields of a record header in the file's
// byte order: one test of the order instead of four, and no bounds
// checks (callgrind, the 540k records of the real handshake capture:
// 67.0 -> 60.6 M instructions in nextPcap).
func (r *FileReader) recordHeader(h *[pcapRecordLen]byte) (sec, frac, caplen, origlen uint32) {
	if r.be {
		be := binary.BigEndian
		return be.Uint32(h[0:4]), be.Uint32(h[4:8]), be.Uint32(h[8:12]), be.Uint32(h[12:16])
	}
	le := binary.LittleEndian
	return le.Uint32(h[0:4]), le.Uint32(h[4:8]), le.Uint32(h[8:12]), le.Uint32(h[12:16])
}
