// Package capture is tfopcap's I/O layer: it turns capture files into
// frames and frames back into capture files. It knows file formats (pcap in
// microsecond and nanosecond resolution, pcapng, either of them
// gzip-compressed, in either byte order), offline BPF filtering and writing
// evidence pcaps. It knows nothing about TCP, TFO or any other protocol:
// decoding is package analyze's job, and a frame of a link type nobody can
// decode is still a frame here.
//
// # Reading
//
// Open (or NewFileReader for any io.Reader) detects the format from the
// first bytes, never from the file name. Next fills a caller-owned Frame with
// the next packet:
//
//	r, err := capture.Open(name)
//	if err != nil {
//		return err // one line: "x.txt: not a capture file (starts with 48 65 6c 6c)"
//	}
//	defer r.Close()
//	var f capture.Frame
//	for {
//		err := r.Next(&f)
//		if err == io.EOF {
//			break
//		}
//		if errors.Is(err, capture.ErrTruncated) {
//			// keep what was read, warn
//			break
//		}
//		if err != nil {
//			return err // *FormatError or an I/O error
//		}
//		use(&f)
//	}
//
// Damaged input is an error, never a panic and never an allocation sized by
// a number read from the file: records are bounded (MaxCaptureLength), and
// pcapng blocks are checked against their trailing length.
//
// # Buffer ownership
//
// A FileReader reads its input in large chunks into one buffer it owns and
// hands out frames whose Data slices point into that buffer; nothing is
// copied and nothing is allocated per packet. Frame.Data is therefore valid
// only until the next call to Next on the same reader. Callers copy what they
// keep, either the few bytes they need or the whole frame with Frame.Clone.
// The capacity of Data is clipped to its length, so appending to it never
// overwrites the reader's buffer.
//
// # Live capture
//
// OpenLive captures from an interface (or "any") through a TPACKET_V3
// ring of an AF_PACKET socket (Linux, pure Go) or through libpcap
// (LiveConfig.Backend; libpcap for the -f expressions AF_PACKET cannot
// run, see ringFilters), with a kernel BPF
// filter, built by LiveFilter (and, for AF_PACKET, assembled by
// synRSTProgram to match the same packets), that lets only TCP segments with
// SYN or RST set into user space, over IPv4 and IPv6, 802.1Q-tagged or not:
// the one place this package knows a TCP flag, because filtering in the
// kernel is what keeps a busy interface cheap to watch. Live.Next has the
// FileReader's contract (Frame.Data valid until the next call; io.EOF at
// the end; Data is copied out of the kernel's ring, so that a Close from
// another goroutine cannot free it under a decoder), Stop ends the capture
// after draining what the kernel holds,
// SaveTo tees the frames into a pcap, and Stats returns the kernel's
// counters.
// Errors for the operator's usual mistakes wrap ErrPermission,
// ErrNoSuchInterface and ErrInterfaceDown.
//
// # Concurrency
//
// A FileReader, a Filter and a PcapWriter are not safe for concurrent use:
// each belongs to one goroutine at a time. Different readers (for instance
// one per input file) may run in different goroutines. A gzip-compressed
// input is inflated by a helper goroutine that the reader starts and Close
// stops; it is invisible to callers. A Live is read by one goroutine; its
// Stop, Stats and Close may be called from any.
package capture
