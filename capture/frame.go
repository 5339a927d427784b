package capture

// Frame is one captured packet. Data aliases the reader's internal buffer and
// is valid only until the next call to Next on the same reader (copy what you
// keep, for instance with Clone).
type Frame struct {
	Data     []byte // captured bytes; len(Data) <= OrigLen normally
	OrigLen  int    // length on the wire
	Time     int64  // nanoseconds since the Unix epoch; 0 for a pcapng Simple Packet Block, which has no time
	LinkType uint16 // LINKTYPE_* number (pcap header / pcapng IDB), FCS bits stripped
	// Number is the 1-based frame number within its file as Wireshark counts
	// it. Wireshark also numbers a few pcapng records that are not packets
	// (systemd journal entries, custom blocks, sysdig events); Next skips
	// those but counts them, so Numbers may have gaps and still match what
	// Wireshark shows for the same packet.
	Number int
	// Interface is the pcapng interface index within the frame's section,
	// as the file and Wireshark's frame.interface_id number it (0 for pcap).
	Interface int
	// Section is the 0-based pcapng section the frame is in (0 for pcap);
	// files made by concatenating pcapng files have several, each with its
	// own interfaces. Wireshark's frame.section_number is Section+1.
	// (Section, Interface) identifies an interface within a file.
	Section int
	Offset  int64 // byte offset of the record within the (decompressed) file, for messages
}

// OwnedFrame is a Frame whose Data belongs to it rather than to a reader's
// buffer; it stays valid for as long as it is kept. Make one with Clone.
type OwnedFrame struct {
	Frame
}

// Clone returns a copy of f whose Data is a fresh copy of f.Data, safe to
// keep after the reader moves on.
func (f *Frame) Clone() OwnedFrame {
	c := *f
	c.Data = append([]byte(nil), f.Data...)
	return OwnedFrame{c}
}

// Info describes a capture file as far as it has been read. Packets, First,
// Last and Warnings grow as Next is called; the rest is known after Open
// (for pcapng, LinkTypes grows as interface blocks are read).
type Info struct {
	Name       string   // file name as given to Open ("stdin" for "-")
	Format     string   // "pcap", "pcap-ns" or "pcapng"
	Compressed bool     // the file is gzip-compressed
	LinkTypes  []uint16 // link types of the file (pcap) or of its interfaces (pcapng), in the order first seen
	Snaplen    int      // snapshot length from the pcap header or the first pcapng interface (0: none given)
	Packets    int      // packets returned by Next so far
	// First and Last are the earliest and the latest packet time seen so
	// far in nanoseconds since the Unix epoch, as capinfos reports them
	// (a file need not be in time order). Both are 0 while HasTimes is false.
	First, Last int64
	HasTimes    bool     // some packet had a timestamp (Simple Packet Blocks have none)
	Warnings    []string // oddities that did not stop reading, one line each
}
