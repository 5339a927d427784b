package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// The pcapng format (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng):
// a sequence of blocks, each type(4) length(4) body length(4), the length
// counting the whole block and repeated at its end. A Section Header Block
// starts each section and sets its byte order; Interface Description Blocks
// number the section's interfaces from 0 and give each a link type and a
// timestamp resolution and offset; packets come in Enhanced, Simple or
// (obsolete) Packet Blocks.

const (
	blockSHB           = 0x0A0D0D0A // palindromic: the same in either byte order
	blockIDB           = 0x00000001
	blockPB            = 0x00000002 // obsolete Packet Block
	blockSPB           = 0x00000003
	blockNRB           = 0x00000004
	blockISB           = 0x00000005
	blockEPB           = 0x00000006
	blockIRIG          = 0x00000007
	blockARINC         = 0x00000008
	blockJournal       = 0x00000009 // systemd Journal Export Block
	blockDSB           = 0x0000000A
	blockCustom        = 0x00000BAD
	blockCustomNoCopy  = 0x40000BAD
	blockSysdigEvent   = 0x00000204
	blockSysdigEventV2 = 0x00000216
	blockSysdigEventV3 = 0x00000221 // sysdig event v2 "large"

	byteOrderMagic = 0x1A2B3C4D

	optEndOfOpt  = 0
	optTSResol   = 9
	optTSOffset  = 14
	shbMinLen    = 28
	idbMinLen    = 20
	epbMinLen    = 32 // also the obsolete Packet Block
	spbMinLen    = 16
	blockMinLen  = 12
	blockHdrLen  = 8
	epbHeaderLen = 28 // block header and fixed fields before the data
)

// iface is what the reader keeps of an Interface Description Block.
type iface struct {
	linkType uint16
	snaplen  uint32
	binary   bool   // resolution is 2^-exp seconds, else 10^-exp
	exp      uint8  // resolution exponent
	scale    uint64 // decimal: 10^(9-exp) when exp <= 9, else 10^(exp-9)
	offset   int64  // if_tsoffset, seconds added to every timestamp
}

// nanos converts a packet timestamp in the interface's units to
// nanoseconds since the epoch, truncating finer resolutions as Wireshark
// does.
func (i *iface) nanos(ts uint64) int64 {
	var ns int64
	switch {
	case !i.binary && i.exp <= 9:
		ns = int64(ts * i.scale)
	case !i.binary:
		ns = int64(ts / i.scale)
	default:
		sec := ts >> i.exp
		frac := ts & (1<<i.exp - 1)
		hi, lo := bits.Mul64(frac, 1e9)
		ns = int64(sec)*1e9 + int64(hi<<(64-i.exp)|lo>>i.exp)
	}
	return ns + i.offset*1e9
}

// numberedRecord reports whether Wireshark (4.0) gives a block of this
// non-packet type a frame number of its own.
func numberedRecord(typ uint32) bool {
	switch typ {
	case blockJournal, blockCustom, blockCustomNoCopy,
		blockSysdigEvent, blockSysdigEventV2, blockSysdigEventV3:
		return true
	}
	return false
}

// knownBlock reports whether a non-packet block type is one the format
// defines, so skipping it is not worth a warning.
func knownBlock(typ uint32) bool {
	switch typ {
	case blockNRB, blockISB, blockIRIG, blockARINC, blockDSB, 0x101, 0x102:
		return true
	}
	return numberedRecord(typ) || typ&^0xFF == 0x200 // sysdig's block types
}

// readSectionHeader reads a Section Header Block at the current position:
// at the start of the file (atOpen) or in the middle, where it starts a new
// section with its own byte order and interfaces.
func (r *FileReader) readSectionHeader(atOpen bool) error {
	off := r.pos()
	cutShort := func(need int) error {
		if err := r.hardErr(); err != nil {
			return err
		}
		if atOpen {
			return &fileError{fmt.Sprintf("%s: pcapng section header cut short (%d of %d bytes)", r.name, r.end-r.start, need), ErrTruncated}
		}
		return r.endErr(need, "section header block")
	}
	if !r.fill(blockMinLen) {
		return cutShort(shbMinLen)
	}
	b := r.buf[r.start:]
	switch bom := b[8:12]; {
	case binary.LittleEndian.Uint32(bom) == byteOrderMagic:
		r.be = false
	case binary.BigEndian.Uint32(bom) == byteOrderMagic:
		r.be = true
	default:
		return r.formatErr(off, "pcapng section header without byte-order magic (found % x)", bom)
	}
	blen := r.u32(b[4:8])
	if blen < shbMinLen || blen%4 != 0 || blen > maxHeldBlock {
		return r.formatErr(off, "pcapng section header block length %d is impossible", blen)
	}
	if !r.fill(int(blen)) {
		return cutShort(int(blen))
	}
	b = r.buf[r.start : r.start+int(blen)]
	if err := r.checkTrailer(off, b); err != nil {
		return err
	}
	if major, minor := r.u16(b[12:14]), r.u16(b[14:16]); major != 1 {
		return r.formatErr(off, "unsupported pcapng version %d.%d", major, minor)
	}
	if !atOpen {
		r.section++
	}
	r.ifaces = r.ifaces[:0] // a section numbers its interfaces from 0
	r.start += int(blen)
	return nil
}

// checkTrailer checks that a block held whole in b ends with its length.
func (r *FileReader) checkTrailer(off int64, b []byte) error {
	if tail := r.u32(b[len(b)-4:]); tail != uint32(len(b)) {
		return r.formatErr(off, "pcapng block of type 0x%08x: length %d at its start, %d at its end", r.u32(b[0:4]), len(b), tail)
	}
	return nil
}

// readInterface reads an Interface Description Block held whole in b.
func (r *FileReader) readInterface(off int64, b []byte) error {
	if len(b) < idbMinLen {
		return r.formatErr(off, "pcapng interface block of %d bytes is too short", len(b))
	}
	in := iface{linkType: r.u16(b[8:10]), snaplen: r.u32(b[12:16])}
	resol := uint8(6) // microseconds unless if_tsresol says otherwise
	opts := b[16 : len(b)-4]
	for len(opts) >= 4 {
		code, olen := r.u16(opts[0:2]), int(r.u16(opts[2:4]))
		if code == optEndOfOpt {
			break
		}
		if 4+olen > len(opts) {
			return r.formatErr(off, "pcapng interface block option %d of %d bytes runs past the block", code, olen)
		}
		v := opts[4 : 4+olen]
		switch {
		case code == optTSResol && olen >= 1:
			resol = v[0]
		case code == optTSOffset && olen >= 8:
			in.offset = int64(r.u64(v))
		}
		opts = opts[min(4+(olen+3)&^3, len(opts)):]
	}
	in.binary = resol&0x80 != 0
	in.exp = resol & 0x7f
	switch {
	case in.binary && in.exp > 63, !in.binary && in.exp > 19:
		return r.formatErr(off, "pcapng interface %d has an impossible timestamp resolution (if_tsresol 0x%02x)", len(r.ifaces), resol)
	case !in.binary && in.exp <= 9:
		in.scale = pow10(9 - in.exp)
	case !in.binary:
		in.scale = pow10(in.exp - 9)
	}
	if !r.sawIface {
		r.sawIface = true
		r.info.Snaplen = int(in.snaplen)
	}
	r.ifaces = append(r.ifaces, in)
	r.addLinkType(in.linkType)
	return nil
}

func pow10(n uint8) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// sectionIface checks that the current section described the interface a
// packet block names.
func (r *FileReader) sectionIface(off int64, id uint32) (int, error) {
	if n := len(r.ifaces); uint64(id) >= uint64(n) {
		return 0, r.formatErr(off, "packet on interface %d, but its section describes %d interfaces", id, n)
	}
	return int(id), nil
}

func (r *FileReader) nextPcapng(f *Frame) error {
	if r.nextEPB(f) {
		return nil
	}
	for {
		if !r.fill(blockHdrLen) {
			return r.endErr(blockHdrLen, "block header")
		}
		off := r.pos()
		b := r.buf[r.start:]
		typ := r.u32(b[0:4])
		if typ == blockSHB {
			if err := r.readSectionHeader(false); err != nil {
				return err
			}
			continue
		}
		blen := r.u32(b[4:8])
		if blen < blockMinLen || blen%4 != 0 {
			return r.formatErr(off, "pcapng block of type 0x%08x has impossible length %d", typ, blen)
		}
		switch typ {
		case blockEPB, blockPB, blockSPB, blockIDB:
		default:
			if err := r.skipBlock(off, typ, blen); err != nil {
				return err
			}
			continue
		}
		if blen > maxHeldBlock {
			return r.formatErr(off, "pcapng block of type 0x%08x has length %d, more than a packet or interface block can need", typ, blen)
		}
		if !r.fill(int(blen)) {
			return r.endErr(int(blen), blockName(typ))
		}
		b = r.buf[r.start : r.start+int(blen)]
		if err := r.checkTrailer(off, b); err != nil {
			return err
		}
		if typ == blockIDB {
			if err := r.readInterface(off, b); err != nil {
				return err
			}
			r.start += int(blen)
			continue
		}
		if err := r.packetBlock(f, off, typ, b); err != nil {
			return err
		}
		r.start += int(blen)
		return nil
	}
}

// nextEPB takes the next block when it is a sound Enhanced Packet Block
// whole in the buffer, as nearly every block of a capture is, with the
// byte order tested once and no calls; it reports false for anything
// else, which the block loop then reads and words errors for. Callgrind,
// the first 100k records of the bulk capture as pcapng: 326 -> 206
// instructions a block in Next, nextPcapng and packetBlock.
func (r *FileReader) nextEPB(f *Frame) bool {
	b := r.buf[r.start:r.end]
	if len(b) < epbMinLen {
		return false
	}
	h := (*[epbHeaderLen]byte)(b)
	var typ, blen, id, tsHigh, tsLow, caplen, origlen uint32
	if r.be {
		be := binary.BigEndian
		typ, blen, id = be.Uint32(h[0:4]), be.Uint32(h[4:8]), be.Uint32(h[8:12])
		tsHigh, tsLow = be.Uint32(h[12:16]), be.Uint32(h[16:20])
		caplen, origlen = be.Uint32(h[20:24]), be.Uint32(h[24:28])
	} else {
		le := binary.LittleEndian
		typ, blen, id = le.Uint32(h[0:4]), le.Uint32(h[4:8]), le.Uint32(h[8:12])
		tsHigh, tsLow = le.Uint32(h[12:16]), le.Uint32(h[16:20])
		caplen, origlen = le.Uint32(h[20:24]), le.Uint32(h[24:28])
	}
	// The block is whole, its length sound and repeated at its end, the
	// data fits in it, and the interface is one the section described.
	if typ != blockEPB || blen < epbMinLen || blen%4 != 0 || blen > uint32(len(b)) ||
		caplen > MaxCaptureLength || epbHeaderLen+(caplen+3)&^3+4 > blen ||
		uint64(id) >= uint64(len(r.ifaces)) || r.u32(b[blen-4:blen]) != blen {
		return false
	}
	ifc := &r.ifaces[id]
	end := epbHeaderLen + int(caplen)
	f.Data = b[epbHeaderLen:end:end]
	f.OrigLen = int(origlen)
	f.Time = ifc.nanos(uint64(tsHigh)<<32 | uint64(tsLow))
	f.LinkType = ifc.linkType
	f.Interface = int(id)
	f.Section = r.section
	f.Offset = r.pos()
	r.start += int(blen)
	r.count(f, true)
	return true
}

// packetBlock fills f from an EPB, SPB or PB held whole in b.
func (r *FileReader) packetBlock(f *Frame, off int64, typ uint32, b []byte) error {
	var (
		ifc             int
		caplen, origlen uint32
		hasTime         = true
		data            = epbHeaderLen
		err             error
	)
	switch typ {
	case blockEPB, blockPB:
		if len(b) < epbMinLen {
			return r.formatErr(off, "%s of %d bytes is too short", blockName(typ), len(b))
		}
		id := r.u32(b[8:12])
		if typ == blockPB {
			id = uint32(r.u16(b[8:10])) // then a 16-bit drop count
		}
		if ifc, err = r.sectionIface(off, id); err != nil {
			return err
		}
		caplen, origlen = r.u32(b[20:24]), r.u32(b[24:28])
		if caplen > MaxCaptureLength {
			return r.formatErr(off, "%s of frame %d claims %d captured bytes, more than the %d any capture holds", blockName(typ), r.number+1, caplen, MaxCaptureLength)
		}
		if epbHeaderLen+(caplen+3)&^3+4 > uint32(len(b)) {
			return r.formatErr(off, "%s of frame %d claims %d captured bytes, which do not fit its %d-byte block", blockName(typ), r.number+1, caplen, len(b))
		}
		f.Time = r.ifaces[ifc].nanos(uint64(r.u32(b[12:16]))<<32 | uint64(r.u32(b[16:20])))
	case blockSPB:
		if len(b) < spbMinLen {
			return r.formatErr(off, "simple packet block of %d bytes is too short", len(b))
		}
		if ifc, err = r.sectionIface(off, 0); err != nil {
			return err
		}
		// A simple packet block holds the packet truncated to the
		// interface's snapshot length, and no time.
		origlen = r.u32(b[8:12])
		caplen = min(origlen, uint32(len(b)-spbMinLen))
		if s := r.ifaces[ifc].snaplen; s != 0 {
			caplen = min(caplen, s)
		}
		if caplen > MaxCaptureLength {
			return r.formatErr(off, "simple packet block of frame %d holds %d bytes, more than the %d any capture holds", r.number+1, caplen, MaxCaptureLength)
		}
		data = 12
		hasTime = false
		f.Time = 0
	}
	end := data + int(caplen)
	f.Data = b[data:end:end]
	f.OrigLen = int(origlen)
	f.LinkType = r.ifaces[ifc].linkType
	f.Interface = ifc
	f.Section = r.section
	f.Offset = off
	r.count(f, hasTime)
	return nil
}

// skipBlock passes over a block that holds no packet, checking its
// trailing length, and numbers it if Wireshark would.
func (r *FileReader) skipBlock(off int64, typ, blen uint32) error {
	if blen > maxSkippedBlock {
		return r.formatErr(off, "pcapng block of type 0x%08x has length %d, more than any block can need", typ, blen)
	}
	if !r.skip(int64(blen) - 4) {
		return r.endErrAt(off, int64(blen), fmt.Sprintf("block of type 0x%08x", typ))
	}
	if !r.fill(4) {
		return r.endErrAt(off, int64(blen), fmt.Sprintf("block of type 0x%08x", typ))
	}
	if tail := r.u32(r.buf[r.start:]); tail != blen {
		return r.formatErr(off, "pcapng block of type 0x%08x: length %d at its start, %d at its end", typ, blen, tail)
	}
	r.start += 4
	switch {
	case numberedRecord(typ):
		r.number++
	case !knownBlock(typ):
		r.unknownBlock(typ)
	}
	return nil
}

// endErrAt reports a block starting at off that the input ends inside.
func (r *FileReader) endErrAt(off, blen int64, what string) error {
	if err := r.hardErr(); err != nil {
		return err
	}
	have := r.base + int64(r.end) - off
	msg := fmt.Sprintf("%s: %v at byte %d: %s has %d of %d bytes", r.name, ErrTruncated, off, what, have, blen)
	if r.gz != nil && r.srcErr == io.ErrUnexpectedEOF {
		msg += " (gzip stream ends early)"
	}
	return &fileError{msg, ErrTruncated}
}

func blockName(typ uint32) string {
	switch typ {
	case blockEPB:
		return "enhanced packet block"
	case blockSPB:
		return "simple packet block"
	case blockPB:
		return "packet block"
	case blockIDB:
		return "interface block"
	}
	return fmt.Sprintf("block of type 0x%08x", typ)
}
