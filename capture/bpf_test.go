//go:build cgo

package capture

import (
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	xbpf "golang.org/x/net/bpf"
)

// publicFrame returns frame number n (1-based) of a public capture.
func publicFrame(t *testing.T, name string, n int) Frame {
	t.Helper()
	r, err := Open(publicFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var f Frame
	for {
		if err := r.Next(&f); err != nil {
			if err == io.EOF {
				t.Fatalf("%s has no frame %d", name, n)
			}
			t.Fatal(err)
		}
		if f.Number == n {
			return f.Clone().Frame
		}
	}
}

// withVLAN inserts an 802.1Q tag (VLAN 100) after an Ethernet frame's MAC
// addresses, as tcprewrite --enet-vlan=add does.
func withVLAN(f Frame) Frame {
	if f.LinkType != linkTypeEthernet {
		panic("withVLAN: not Ethernet")
	}
	d := make([]byte, 0, len(f.Data)+4)
	d = append(d, f.Data[:12]...)
	d = append(d, 0x81, 0x00, 0x00, 100)
	d = append(d, f.Data[12:]...)
	f.Data, f.OrigLen = d, f.OrigLen+4
	return f
}

// asSLL2 re-frames an Ethernet frame as Linux cooked v2 (what -i any
// delivers): a 20-byte header with the EtherType up front.
func asSLL2(f Frame) Frame {
	if f.LinkType != linkTypeEthernet {
		panic("asSLL2: not Ethernet")
	}
	h := make([]byte, 20)
	copy(h[0:2], f.Data[12:14])            // protocol
	binary.BigEndian.PutUint32(h[4:8], 2)  // interface index
	binary.BigEndian.PutUint16(h[8:10], 1) // ARPHRD_ETHER
	h[10] = 0                              // to us
	h[11] = 6                              // address length
	copy(h[12:18], f.Data[6:12])           // source MAC
	d := append(h, f.Data[14:]...)
	f.Data, f.OrigLen, f.LinkType = d, f.OrigLen+6, 276
	return f
}

// TestLiveFilter compiles the kernel filter for Ethernet and Linux cooked
// v2 as libpcap does for a live capture and runs it on real frames: SYNs,
// SYN-ACKs and RSTs pass over IPv4 and IPv6, tagged or not; data
// segments, pure ACKs, FINs and non-TCP frames do not.
func TestLiveFilter(t *testing.T) {
	const (
		v4     = "pathspider_tfo-cookie-request-exp254.pcap"   // 1 SYN, 2 SYN-ACK, 3 data, 4 FIN, 5 ACK, 7 RST
		v6     = "pathspider_tfo-data-on-syn-exp254-ipv6.pcap" // 1 SYN with data, 2 SYN-ACK, 3 ACK, 6 data
		rstack = "tcpdump_mptcp-fclose.pcap"                   // 11 RST-ACK
		sll2   = "ptcpdump_tfo-mptcp-sll2.pcap"                // 1 SYN, 2 SYN-ACK, 3 ACK, 4 data
		sll2b  = "mptcproxy_mptcp-join-sll2.pcap"              // 1 ICMPv6, 11 ARP, 13 SYN, 16 data
		ipOpts = "tcpdump_tfo-exp254-syndata.pcap"             // 13 SYN with data
	)
	type row struct {
		name  string
		frame Frame
		want  bool
	}
	eth := func(file string, n int) Frame { return publicFrame(t, file, n) }
	rows := []row{
		{"IPv4 SYN", eth(v4, 1), true},
		{"IPv4 SYN-ACK", eth(v4, 2), true},
		{"IPv4 data", eth(v4, 3), false},
		{"IPv4 FIN", eth(v4, 4), false},
		{"IPv4 ACK", eth(v4, 5), false},
		{"IPv4 RST", eth(v4, 7), true},
		{"IPv4 RST-ACK", eth(rstack, 11), true},
		{"IPv4 SYN with data", eth(ipOpts, 13), true},
		{"IPv6 SYN with data", eth(v6, 1), true},
		{"IPv6 SYN-ACK", eth(v6, 2), true},
		{"IPv6 ACK", eth(v6, 3), false},
		{"IPv6 data", eth(v6, 6), false},
		{"VLAN IPv4 SYN", withVLAN(eth(v4, 1)), true},
		{"VLAN IPv4 SYN-ACK", withVLAN(eth(v4, 2)), true},
		{"VLAN IPv4 data", withVLAN(eth(v4, 3)), false},
		{"VLAN IPv4 RST", withVLAN(eth(v4, 7)), true},
		{"VLAN IPv6 SYN", withVLAN(eth(v6, 1)), true},
		{"VLAN IPv6 data", withVLAN(eth(v6, 6)), false},
		{"SLL2 IPv4 SYN", eth(sll2, 1), true},
		{"SLL2 IPv4 SYN-ACK", eth(sll2, 2), true},
		{"SLL2 IPv4 ACK", eth(sll2, 3), false},
		{"SLL2 IPv4 data", eth(sll2, 4), false},
		{"SLL2 ICMPv6", eth(sll2b, 1), false},
		{"SLL2 ARP", eth(sll2b, 11), false},
		{"SLL2 IPv4 SYN (2)", eth(sll2b, 13), true},
		{"SLL2 IPv4 data (2)", eth(sll2b, 16), false},
		{"SLL2 IPv6 SYN (re-framed)", asSLL2(eth(v6, 1)), true},
		{"SLL2 IPv6 data (re-framed)", asSLL2(eth(v6, 6)), false},
		{"IPv4 SYN, later fragment", laterFragment(eth(v4, 1)), false},
		{"802.1ad IPv4 SYN", withTag(eth(v4, 1), 0x88a8), true},
		{"802.1ad IPv4 data", withTag(eth(v4, 3), 0x88a8), false},
		{"0x9100 IPv6 SYN", withTag(eth(v6, 1), 0x9100), true},
	}
	progs := map[uint16]*pcap.BPF{}
	for _, lt := range []uint16{linkTypeEthernet, 276} {
		expr := LiveFilter(lt, "")
		bpf, err := pcap.NewBPF(layers.LinkType(lt), DefaultSnaplen, expr)
		if err != nil {
			t.Fatalf("link type %d: %q: %v", lt, expr, err)
		}
		progs[lt] = bpf
	}
	for _, r := range rows {
		bpf := progs[r.frame.LinkType]
		if bpf == nil {
			t.Fatalf("%s: link type %d not compiled", r.name, r.frame.LinkType)
		}
		// The kernel sees at most the snap length.
		data := r.frame.Data[:min(len(r.frame.Data), DefaultSnaplen)]
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, r.frame.Time), CaptureLength: len(data), Length: r.frame.OrigLen}
		if got := bpf.Matches(ci, data); got != r.want {
			t.Errorf("%s (link type %d): match = %v, want %v", r.name, r.frame.LinkType, got, r.want)
		}
		if got := matchesSynRSTProgram(t, r.frame, DefaultSnaplen); got != r.want {
			t.Errorf("%s (link type %d): AF_PACKET program match = %v, want %v", r.name, r.frame.LinkType, got, r.want)
		}
	}
}

// matchesSynRSTProgram runs the AF_PACKET backend's hand-assembled filter
// on f as the kernel would: Ethernet frames whole, cooked frames from the
// IP header on with the protocol (SKF_AD_PROTOCOL, which the Go VM lacks)
// loaded from the SLL2 header instead.
func matchesSynRSTProgram(t testing.TB, f Frame, snaplen int) bool {
	t.Helper()
	ethernet := f.LinkType == linkTypeEthernet
	raw, err := synRSTProgram(ethernet, DefaultSnaplen)
	if err != nil {
		t.Fatal(err)
	}
	prog, ok := xbpf.Disassemble(raw)
	if !ok {
		t.Fatal("synRSTProgram: cannot disassemble")
	}
	data := f.Data
	if !ethernet {
		prog[0] = xbpf.LoadConstant{Dst: xbpf.RegA, Val: uint32(binary.BigEndian.Uint16(data[0:2]))}
		data = data[sll2Len:]
	}
	vm, err := xbpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	n, err := vm.Run(data[:min(len(data), snaplen)])
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// laterFragment makes an Ethernet IPv4 frame a non-first fragment.
func laterFragment(f Frame) Frame {
	f.Data = append([]byte(nil), f.Data...)
	binary.BigEndian.PutUint16(f.Data[14+6:], 0x0010)
	return f
}

// withTag is withVLAN with another tag protocol (802.1ad: 0x88a8).
func withTag(f Frame, tpid uint16) Frame {
	f = withVLAN(f)
	binary.BigEndian.PutUint16(f.Data[12:], tpid)
	return f
}

// TestLiveFilterUser checks that -f is ANDed with the SYN filter on both
// sides of the VLAN alternative, and that an expression naming its own
// encapsulation is not repeated.
func TestLiveFilterUser(t *testing.T) {
	const v4 = "pathspider_tfo-cookie-request-exp254.pcap" // 46.101.202.242 -> 172.217.23.3:80
	syn := publicFrame(t, v4, 1)
	data := publicFrame(t, v4, 3)
	rows := []struct {
		user  string
		frame Frame
		want  bool
	}{
		{"host 172.217.23.3", syn, true},
		{"host 172.217.23.3", withVLAN(syn), true},
		{"host 172.217.23.3", data, false},
		{"host 192.0.2.1", syn, false},
		{"host 192.0.2.1", withVLAN(syn), false},
		{"tcp port 80", syn, true},
		{"tcp port 80", withVLAN(syn), true},
		{"tcp port 443", withVLAN(syn), false},
		{"vlan 100", withVLAN(syn), true},
		{"vlan 100", syn, false},
		{"vlan 200", withVLAN(syn), false},
		{"vlan 100 and host 172.217.23.3", withVLAN(syn), true},
		{"vlan 100", withVLAN(data), false},
	}
	for _, r := range rows {
		expr := LiveFilter(linkTypeEthernet, r.user)
		bpf, err := pcap.NewBPF(layers.LinkTypeEthernet, DefaultSnaplen, expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		ci := gopacket.CaptureInfo{CaptureLength: len(r.frame.Data), Length: r.frame.OrigLen}
		if got := bpf.Matches(ci, r.frame.Data); got != r.want {
			t.Errorf("-f %q on %d bytes: match = %v, want %v (filter %s)", r.user, len(r.frame.Data), got, r.want, expr)
		}
	}
	if got := LiveFilter(276, "port 80"); !strings.HasPrefix(got, "(port 80) and (") || strings.Contains(got, "vlan") {
		t.Errorf("SLL2 filter with -f: %s", got)
	}
	if _, err := pcap.NewBPF(layers.LinkTypeEthernet, DefaultSnaplen, LiveFilter(linkTypeEthernet, "port")); err == nil {
		t.Error("a bad -f expression compiled")
	}
}

// FuzzSynRSTProgram: on any Ethernet frame, the AF_PACKET backend's
// hand-assembled filter and libpcap's compiled LiveFilter agree.
func FuzzSynRSTProgram(f *testing.F) {
	for _, flags := range []byte{0x02, 0x12, 0x04, 0x10} {
		v4 := seedFrame(0x0800, 20, flags)
		v4[14+9] = 6
		v6 := seedFrame(0x86dd, 40, flags)
		v6[14+6] = 6
		for _, fr := range []Frame{{Data: v4, LinkType: linkTypeEthernet}, {Data: v6, LinkType: linkTypeEthernet}} {
			f.Add(fr.Data)
			f.Add(withVLAN(fr).Data)
		}
	}
	want, err := pcap.NewBPF(layers.LinkTypeEthernet, DefaultSnaplen, LiveFilter(linkTypeEthernet, ""))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		ci := gopacket.CaptureInfo{CaptureLength: len(data), Length: len(data)}
		fr := Frame{Data: data, OrigLen: len(data), LinkType: linkTypeEthernet}
		if got, w := matchesSynRSTProgram(t, fr, len(data)), want.Matches(ci, data); got != w {
			t.Errorf("% x: AF_PACKET program %v, libpcap %v", data, got, w)
		}
	})
}

// seedFrame is an Ethernet frame of etherType with an IP header of ipLen
// bytes (IPv4 with IHL 5, or IPv6 as the version nibble says) and a TCP
// header with flags.
func seedFrame(etherType uint16, ipLen int, flags byte) []byte {
	b := make([]byte, 14+ipLen+20)
	binary.BigEndian.PutUint16(b[12:], etherType)
	b[14] = 0x45
	if ipLen == 40 {
		b[14] = 0x60
	}
	b[14+ipLen+12] = 0x50
	b[14+ipLen+13] = flags
	return b
}
