package capture

import (
	"golang.org/x/net/bpf"
)

// synRSTProgram is LiveFilter's SYN/RST filter as a classic BPF program,
// for a kernel socket filter without libpcap's compiler. It accepts what
// filterSYNRST does, keeping snaplen bytes:
//
//   - IPv4 carrying TCP, not a later fragment, with SYN or RST set in the
//     header the IHL points to;
//   - IPv6 whose Next Header is TCP, with SYN or RST set in the TCP header
//     right after the fixed header.
//
// With ethernet the program reads the EtherType at offset 12 and also
// takes the packet behind one in-band 802.1Q, 802.1ad or 0x9100 tag (a tag the
// driver took off is invisible to the filter, which then sees the inner
// packet as untagged). Otherwise the packet starts at the IP header and
// the program asks the kernel for its protocol (SKF_AD_PROTOCOL), as for
// SOCK_DGRAM sockets and raw IP interfaces.
func synRSTProgram(ethernet bool, snaplen int) ([]bpf.RawInstruction, error) {
	var a assembler
	if ethernet {
		a.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
		a.jumpEq(etherTypeIPv4, "ip4-14", "")
		a.jumpEq(etherTypeIPv6, "ip6-14", "")
		a.jumpEq(etherTypeVLAN, "vlan", "")
		a.jumpEq(etherTypeQinQ, "vlan", "")
		a.jumpEq(etherTypeQinQOld, "vlan", "reject")
		a.label("vlan")
		a.emit(bpf.LoadAbsolute{Off: 16, Size: 2})
		a.jumpEq(etherTypeIPv4, "ip4-18", "")
		a.jumpEq(etherTypeIPv6, "ip6-18", "reject")
		a.ipv4("ip4-14", 14)
		a.ipv6("ip6-14", 14)
		a.ipv4("ip4-18", 18)
		a.ipv6("ip6-18", 18)
	} else {
		a.emit(bpf.LoadExtension{Num: bpf.ExtProto})
		a.jumpEq(etherTypeIPv4, "ip4-0", "")
		a.jumpEq(etherTypeIPv6, "ip6-0", "reject")
		a.ipv4("ip4-0", 0)
		a.ipv6("ip6-0", 0)
	}
	a.label("accept")
	a.emit(bpf.RetConstant{Val: uint32(snaplen)})
	a.label("reject")
	a.emit(bpf.RetConstant{Val: 0})
	return a.assemble()
}

const (
	linkTypeRaw  = 101 // LINKTYPE_RAW
	linkTypeSLL2 = 276 // LINKTYPE_LINUX_SLL2
	sll2Len      = 20  // the Linux cooked v2 header
)

const (
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86dd
	etherTypeVLAN = 0x8100
	etherTypeQinQ = 0x88a8
	// etherTypeQinQOld is the pre-802.1ad QinQ tag, which libpcap's vlan
	// keyword takes too.
	etherTypeQinQOld = 0x9100

	ipProtoTCP  = 6
	tcpSYNorRST = 0x06 // in byte 13 of the TCP header
)

// ipv4 tests the IPv4 packet at off.
func (a *assembler) ipv4(name string, off uint32) {
	a.label(name)
	a.emit(bpf.LoadAbsolute{Off: off + 9, Size: 1})
	a.jumpEq(ipProtoTCP, "", "reject")
	a.emit(bpf.LoadAbsolute{Off: off + 6, Size: 2})
	a.jumpSet(0x1fff, "reject", "") // fragment offset: not the first fragment
	a.emit(bpf.LoadMemShift{Off: off})
	a.emit(bpf.LoadIndirect{Off: off + 13, Size: 1})
	a.jumpSet(tcpSYNorRST, "accept", "reject")
}

// ipv6 tests the IPv6 packet at off.
func (a *assembler) ipv6(name string, off uint32) {
	a.label(name)
	a.emit(bpf.LoadAbsolute{Off: off + 6, Size: 1})
	a.jumpEq(ipProtoTCP, "", "reject")
	a.emit(bpf.LoadAbsolute{Off: off + 40 + 13, Size: 1})
	a.jumpSet(tcpSYNorRST, "accept", "reject")
}

// assembler builds a BPF program with forward jumps to labels; "" is the
// next instruction.
type assembler struct {
	ins    []bpf.Instruction
	labels map[string]int
	jumps  []pendingJump
}

type pendingJump struct {
	at          int
	cond        bpf.JumpTest
	val         uint32
	ifTrue, els string
}

func (a *assembler) emit(i bpf.Instruction) { a.ins = append(a.ins, i) }

func (a *assembler) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.ins)
}

func (a *assembler) jumpEq(val uint32, ifTrue, els string) {
	a.jump(bpf.JumpEqual, val, ifTrue, els)
}

func (a *assembler) jumpSet(mask uint32, ifTrue, els string) {
	a.jump(bpf.JumpBitsSet, mask, ifTrue, els)
}

func (a *assembler) jump(cond bpf.JumpTest, val uint32, ifTrue, els string) {
	a.jumps = append(a.jumps, pendingJump{len(a.ins), cond, val, ifTrue, els})
	a.emit(nil) // filled in by assemble
}

func (a *assembler) assemble() ([]bpf.RawInstruction, error) {
	for _, j := range a.jumps {
		t, err := a.skip(j.at, j.ifTrue)
		if err != nil {
			return nil, err
		}
		f, err := a.skip(j.at, j.els)
		if err != nil {
			return nil, err
		}
		a.ins[j.at] = bpf.JumpIf{Cond: j.cond, Val: j.val, SkipTrue: t, SkipFalse: f}
	}
	return bpf.Assemble(a.ins)
}

// skip is how many instructions a jump at from skips to reach label.
func (a *assembler) skip(from int, label string) (uint8, error) {
	if label == "" {
		return 0, nil
	}
	to, ok := a.labels[label]
	if !ok || to <= from || to-from-1 > 255 {
		return 0, &bpfLabelError{label}
	}
	return uint8(to - from - 1), nil
}

type bpfLabelError struct{ label string }

func (e *bpfLabelError) Error() string { return "BPF program: bad jump to " + e.label }
