//go:build cgo

package capture

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcap"
)

// filterSnaplen is the snapshot length filters are compiled for.
const filterSnaplen = 262144

// Filter is an offline BPF filter in tcpdump syntax, compiled by libpcap
// once for each link type it meets. The zero value is not usable; make one
// with NewFilter. A Filter is not safe for concurrent use.
type Filter struct {
	expr  string
	progs map[uint16]compiled

	// the last link type used, so a run of frames of one type skips the map
	lastType uint16
	last     compiled
	haveLast bool
}

type compiled struct {
	bpf   *pcap.BPF
	never bool // the expression rejects every frame of this link type
	err   error
}

// NewFilter returns a filter for the tcpdump-syntax expression expr. The
// expression is compiled lazily, for each link type as frames of it
// arrive; call Compile to check it up front.
func NewFilter(expr string) *Filter {
	return &Filter{expr: expr, progs: make(map[uint16]compiled)}
}

// String returns the filter expression.
func (f *Filter) String() string { return f.expr }

// Compile compiles the filter for frames of linkType and returns the
// error, naming the expression and libpcap's message, if it cannot be.
// The result is kept for Match.
func (f *Filter) Compile(linkType uint16) error {
	return f.program(linkType).err
}

// Match reports whether f matches the frame. It fails when the expression
// cannot be compiled for the frame's link type (a syntax error, or a link
// type libpcap does not know); the same error is returned for every frame
// of that type. An expression that can match no frame of a link type
// ("ip6" on raw IPv4) matches none, without error. Matching allocates
// nothing.
func (f *Filter) Match(fr *Frame) (bool, error) {
	c := f.last
	if !f.haveLast || f.lastType != fr.LinkType {
		c = f.program(fr.LinkType)
		f.last, f.lastType, f.haveLast = c, fr.LinkType, true
	}
	if c.err != nil || c.never {
		return false, c.err
	}
	ci := gopacket.CaptureInfo{
		Timestamp:     time.Unix(0, fr.Time),
		CaptureLength: len(fr.Data),
		Length:        max(fr.OrigLen, len(fr.Data)),
	}
	return c.bpf.Matches(ci, fr.Data), nil
}

func (f *Filter) program(linkType uint16) compiled {
	if c, ok := f.progs[linkType]; ok {
		return c
	}
	var c compiled
	c.bpf, c.err = compileOffline(linkType, f.expr)
	switch {
	case c.err != nil && strings.Contains(c.err.Error(), "expression rejects all packets"):
		// "ip6" on raw IPv4 frames: libpcap refuses to compile a filter
		// that can match nothing, but with several link types in a file
		// that is an answer, not a mistake.
		c.err, c.never = nil, true
	case c.err != nil:
		c.err = fmt.Errorf("filter %q for link type %d: %v", f.expr, linkType, c.err)
	}
	f.progs[linkType] = c
	return c
}

// compileOffline compiles expr as tcpdump -r does for a file of linkType:
// libpcap reads a pcap header for it (through a pipe, so nothing touches
// the disk). A handle from pcap_open_dead would not do: libpcap compiles
// for a live capture then, which differs for some link types (on
// DLT_NULL, "ip6" checks only this host's AF_INET6, not the BSD values a
// file may hold), and it wants a DLT_ number where files hold LINKTYPE_
// numbers (LINKTYPE_RAW 101 is DLT_RAW 12 on Linux, 14 on OpenBSD).
func compileOffline(linkType uint16, expr string) (*pcap.BPF, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	hdr := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	hdr = binary.LittleEndian.AppendUint16(hdr, 2)
	hdr = binary.LittleEndian.AppendUint16(hdr, 4)
	hdr = binary.LittleEndian.AppendUint64(hdr, 0) // time zone, sigfigs
	hdr = binary.LittleEndian.AppendUint32(hdr, filterSnaplen)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(linkType))
	_, err = pw.Write(hdr)
	pw.Close()
	if err != nil {
		return nil, err
	}
	h, err := pcap.OpenOfflineFile(pr)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return h.NewBPF(expr)
}
