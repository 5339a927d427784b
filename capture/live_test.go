//go:build cgo && linux

package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/sys/unix"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/netnslab"
)

// testBackend is the capture backend openIn asks for when the config
// names none; TestLivePcap sets it to rerun the tests through libpcap.
var testBackend = BackendAuto

// TestLivePcap reruns the live tests through libpcap (the others run
// through the default, AF_PACKET): both backends must pass the same
// tests.
func TestLivePcap(t *testing.T) {
	testBackend = BackendPcap
	defer func() { testBackend = BackendAuto }()
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"Veth", TestLiveVeth}, {"Any", TestLiveAny}, {"VLAN", TestLiveVLAN},
		{"Errors", TestLiveErrors}, {"Drops", TestLiveDrops}, {"CloseWhileDecoding", TestLiveCloseWhileDecoding},
		{"Loopback", TestLiveLoopback}, {"Gone", TestLiveInterfaceGone}, {"NextAllocs", TestLiveNextAllocs},
		{"Tun", TestLiveTun}, {"UserFilter", TestLiveUserFilter}, {"Await", TestLiveAwait},
	} {
		t.Run(tc.name, tc.test)
	}
}

// openIn opens a live capture from inside a namespace (the packet socket
// then belongs to it) and closes it when the test ends.
func openIn(t *testing.T, ns netnslab.Netns, cfg LiveConfig) *Live {
	t.Helper()
	if cfg.Backend == "" {
		cfg.Backend = testBackend
	}
	var l *Live
	err := ns.Do(func() error {
		var err error
		l, err = OpenLive(cfg)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// liveSeg is what a test checks of a captured frame.
type liveSeg struct {
	flags    uint8
	src, dst netip.AddrPort
	vlan     bool
}

// collect reads frames until Next ends, in the background; the returned
// function stops the capture and returns what was read.
func collect(t *testing.T, l *Live) func() ([]liveSeg, error) {
	type result struct {
		segs []liveSeg
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		var f Frame
		var seg analyze.Segment
		for {
			if err := l.Next(&f); err != nil {
				if !errors.Is(err, io.EOF) {
					r.err = err
				}
				done <- r
				return
			}
			if st := analyze.Decode(f.LinkType, f.Data, f.OrigLen, &seg); st != analyze.DecodedTCP {
				r.err = fmt.Errorf("frame %d: %v", f.Number, st)
				continue
			}
			vlan := f.LinkType == linkTypeEthernet && len(f.Data) > 14 && f.Data[12] == 0x81 && f.Data[13] == 0x00
			r.segs = append(r.segs, liveSeg{seg.Flags, seg.Src, seg.Dst, vlan})
		}
	}()
	return func() ([]liveSeg, error) {
		time.Sleep(150 * time.Millisecond)
		l.Stop()
		select {
		case r := <-done:
			return r.segs, r.err
		case <-time.After(5 * time.Second):
			t.Fatal("Next did not end after Stop")
			return nil, nil
		}
	}
}

func flagNames(s []liveSeg) string {
	var b strings.Builder
	for _, x := range s {
		switch {
		case x.flags&(analyze.FlagSYN|analyze.FlagACK) == analyze.FlagSYN:
			b.WriteString("S ")
		case x.flags&(analyze.FlagSYN|analyze.FlagACK) == analyze.FlagSYN|analyze.FlagACK:
			b.WriteString("SA ")
		case x.flags&analyze.FlagRST != 0:
			b.WriteString("R ")
		default:
			b.WriteString("other ")
		}
	}
	return strings.TrimSpace(b.String())
}

// TestLiveVeth captures real TFO connections on a veth in a namespace:
// only SYN and SYN-ACK cross the kernel filter (the data, ACKs and FINs
// of each connection stay behind), IPv4 and IPv6 alike; Stop drains and
// ends; the counters agree; the saved pcap holds the same frames.
func TestLiveVeth(t *testing.T) {
	p := netnslab.NewPair(t)
	srv4, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV4, 8001), FastOpen: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer srv4.Close()
	srv6, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV6, 8006), FastOpen: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer srv6.Close()

	l := openIn(t, p.Client, LiveConfig{Interface: p.ClientIf, Promisc: true})
	if l.LinkType() != linkTypeEthernet || l.Snaplen() != DefaultSnaplen {
		t.Fatalf("link type %d snaplen %d", l.LinkType(), l.Snaplen())
	}
	var saved bytes.Buffer
	if err := l.SaveTo(&saved); err != nil {
		t.Fatal(err)
	}
	stop := collect(t, l)
	for _, s := range []*netnslab.Server{srv4, srv4, srv6} {
		if _, err := p.Client.Dial(netnslab.DialConfig{Server: s.Addr(), FastOpen: true}); err != nil {
			t.Fatal(err)
		}
	}
	segs, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := flagNames(segs), "S SA S SA S SA"; got != want {
		t.Errorf("captured %q, want %q", got, want)
	}
	for i, s := range segs {
		server := s.dst
		if i%2 == 1 {
			server = s.src
		}
		if want := []netip.AddrPort{srv4.Addr(), srv4.Addr(), srv6.Addr()}[i/2]; server != want {
			t.Errorf("segment %d: server %s, want %s", i, server, want)
		}
	}
	st := l.Stats()
	if st.Captured != len(segs) || st.Received != len(segs) || st.Dropped != 0 {
		t.Errorf("stats %+v, captured %d", st, len(segs))
	}
	info := l.Info()
	if info.Packets != len(segs) || info.Format != "live" || info.Name != p.ClientIf || info.First == 0 || info.Last < info.First {
		t.Errorf("info %+v", info)
	}

	// The saved pcap reads back as the same frames.
	r, err := NewFileReader("saved", bytes.NewReader(saved.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var f Frame
	n := 0
	for r.Next(&f) == nil {
		n++
	}
	if ri := r.Info(); n != len(segs) || ri.Snaplen != DefaultSnaplen || ri.LinkTypes[0] != linkTypeEthernet {
		t.Errorf("saved pcap: %d frames, info %+v", n, ri)
	}
}

// TestLiveAny captures on "any", which libpcap delivers as Linux cooked
// v2 frames.
func TestLiveAny(t *testing.T) {
	p := netnslab.NewPair(t)
	srv, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV6, 8100), FastOpen: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l := openIn(t, p.Client, LiveConfig{Interface: "any", Promisc: true})
	if l.LinkType() != 276 {
		t.Errorf("any: link type %d, want LINUX_SLL2 (276)", l.LinkType())
	}
	stop := collect(t, l)
	if _, err := p.Client.Dial(netnslab.DialConfig{Server: srv.Addr(), FastOpen: true}); err != nil {
		t.Fatal(err)
	}
	segs, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	if got := flagNames(segs); got != "S SA" {
		t.Errorf("any: %q, want %q", got, "S SA")
	}
}

// TestLiveAwait: through AF_PACKET, Await waits out its time on a quiet
// link and returns once a SYN is there, which Next then returns without
// waiting; libpcap cannot wait so, and says so at once.
func TestLiveAwait(t *testing.T) {
	p := netnslab.NewPair(t)
	srv, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV4, 8200)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l := openIn(t, p.Client, LiveConfig{Interface: p.ClientIf})
	if want := l.Backend() == BackendAFPacket; l.Awaits() != want {
		t.Fatalf("%s: Awaits %v, want %v", l.Backend(), l.Awaits(), want)
	}
	start := time.Now()
	if got := l.Await(50 * time.Millisecond); got != !l.Awaits() {
		t.Fatalf("%s: Await on a quiet link: %v", l.Backend(), got)
	}
	if !l.Awaits() {
		return
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > time.Second {
		t.Errorf("Await(50ms) on a quiet link took %v", d)
	}
	if _, err := p.Client.Dial(netnslab.DialConfig{Server: srv.Addr()}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !l.Await(100*time.Millisecond) && time.Now().Before(deadline) {
	}
	if !l.Buffered() {
		t.Fatal("Await returned with no frame waiting")
	}
	var f Frame
	var seg analyze.Segment
	if err := l.Next(&f); err != nil {
		t.Fatal(err)
	}
	analyze.Decode(f.LinkType, f.Data, f.OrigLen, &seg)
	if got := flagNames([]liveSeg{{flags: seg.Flags}}); got != "S" {
		t.Errorf("first frame after Await: %q, want a SYN", got)
	}
}

// TestLiveLoopback captures a connection over lo, where the kernel shows
// each packet twice (going out and coming in): each must come once, as
// Ethernet, and Received counts both copies.
func TestLiveLoopback(t *testing.T) {
	p := netnslab.NewPair(t)
	srv, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.MustParseAddrPort("127.0.0.1:8100"), FastOpen: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l := openIn(t, p.Server, LiveConfig{Interface: "lo"})
	if l.LinkType() != linkTypeEthernet {
		t.Errorf("lo: link type %d, want EN10MB", l.LinkType())
	}
	stop := collect(t, l)
	if _, err := p.Server.Dial(netnslab.DialConfig{Server: srv.Addr(), FastOpen: true}); err != nil {
		t.Fatal(err)
	}
	_, _ = p.Server.Dial(netnslab.DialConfig{Server: netip.MustParseAddrPort("127.0.0.1:8101")}) // refused
	segs, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	if got := flagNames(segs); got != "S SA S R" {
		t.Errorf("lo: %q, want %q", got, "S SA S R")
	}
	if st := l.Stats(); st.Received != 2*st.Captured || st.Captured != 4 {
		t.Errorf("lo: stats %+v, want 4 captured of 8 received", st)
	}
}

// TestLiveUserFilter: -f narrows the capture on either backend. auto
// runs it through AF_PACKET, but for the filters only libpcap's live
// handle gets right (an encapsulation, a cooked interface), which it
// hands to libpcap.
func TestLiveUserFilter(t *testing.T) {
	p := netnslab.NewPair(t)
	var srvs []*netnslab.Server
	for _, port := range []uint16{8001, 8002} {
		srv, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV4, port)})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		srvs = append(srvs, srv)
	}
	want := func(auto string) string {
		if testBackend == BackendPcap {
			return BackendPcap
		}
		return auto
	}
	for _, tc := range []struct {
		iface, filter, backend string
		flags                  string // of the segments to port 8001
		afpacketOnly           bool
	}{
		{p.ClientIf, "tcp port 8001", want(BackendAFPacket), "S SA", false},
		{p.ClientIf, "vlan", BackendPcap, "", false}, // the traffic is untagged
		{"any", "tcp port 8001", BackendPcap, "S SA", false},
		// libpcap compiles outbound to a load of the packet type
		// (SKF_AD_PKTTYPE), which the ring's socket has too. (libpcap's
		// own capture missed the SYN here, hence no pcap run.)
		{p.ClientIf, "outbound and tcp port 8001", BackendAFPacket, "S", true},
	} {
		if tc.afpacketOnly && testBackend == BackendPcap {
			continue
		}
		l := openIn(t, p.Client, LiveConfig{Interface: tc.iface, Filter: tc.filter})
		if l.Backend() != tc.backend {
			t.Errorf("-i %s -f %q: backend %s, want %s", tc.iface, tc.filter, l.Backend(), tc.backend)
		}
		stop := collect(t, l)
		for _, srv := range srvs {
			if _, err := p.Client.Dial(netnslab.DialConfig{Server: srv.Addr()}); err != nil {
				t.Fatal(err)
			}
		}
		segs, err := stop()
		if err != nil {
			t.Fatal(err)
		}
		if got := flagNames(segs); got != tc.flags || (len(segs) > 0 && segs[0].dst.Port() != 8001) {
			t.Errorf("-i %s -f %q: %q %v, want %q to port 8001", tc.iface, tc.filter, got, segs, tc.flags)
		}
		l.Close()
	}
	if testBackend == BackendAuto {
		err := p.Client.Do(func() error {
			_, err := OpenLive(LiveConfig{Interface: "any", Filter: "port 1", Backend: BackendAFPacket})
			return err
		})
		if !errors.Is(err, errRingCannotFilter) {
			t.Errorf("afpacket, -i any -f: %v, want %v", err, errRingCannotFilter)
		}
	}
}

// TestLiveTun captures on a tun device, which carries bare IP packets:
// the frames are RAW, and the SYN sent through it is seen.
func TestLiveTun(t *testing.T) {
	p := netnslab.NewPair(t)
	var tun *os.File
	if err := p.Client.Do(func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		tun = os.NewFile(uintptr(fd), "tun")
		ifr, err := unix.NewIfreq("lvtun0")
		if err != nil {
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		return unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
	}); err != nil {
		t.Skipf("no tun device: %v", err)
	}
	defer tun.Close() // the device goes with its last descriptor
	for _, args := range [][]string{{"addr", "add", "198.51.100.1/24", "dev", "lvtun0"}, {"link", "set", "lvtun0", "up"}} {
		if _, err := p.Client.Run("ip", args...); err != nil {
			t.Fatal(err)
		}
	}
	l := openIn(t, p.Client, LiveConfig{Interface: "lvtun0"})
	if l.LinkType() != linkTypeRaw {
		t.Errorf("tun: link type %d, want RAW (101)", l.LinkType())
	}
	stop := collect(t, l)
	// Nobody answers on the other side of the tun: the dial times out.
	_, _ = p.Client.Dial(netnslab.DialConfig{Server: netip.MustParseAddrPort("198.51.100.7:80"), Timeout: 100 * time.Millisecond})
	segs, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) == 0 || flagNames(segs[:1]) != "S" || segs[0].dst.String() != "198.51.100.7:80" {
		t.Errorf("tun: %q %v, want the SYN to 198.51.100.7:80", flagNames(segs), segs)
	}
}

// TestLiveInterfaceGone deletes the interface under a capture: Next must
// end with one line that says so, not hang or report an empty capture.
func TestLiveInterfaceGone(t *testing.T) {
	p := netnslab.NewPair(t)
	if _, err := p.Client.Run("ip", "link", "add", "gone0", "type", "veth", "peer", "name", "gone1"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Client.Run("ip", "link", "set", "gone0", "up"); err != nil {
		t.Fatal(err)
	}
	l := openIn(t, p.Client, LiveConfig{Interface: "gone0"})
	done := make(chan error, 1)
	go func() {
		var f Frame
		for {
			if err := l.Next(&f); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	if _, err := p.Client.Run("ip", "link", "del", "gone0"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == io.EOF || !strings.Contains(err.Error(), "gone0: read: ") || !strings.Contains(err.Error(), "disappeared") {
			t.Errorf("Next after the interface went: %v, want an error saying it disappeared", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Next still waiting 3s after the interface went")
	}
}

// TestLiveVLAN sends 802.1Q-tagged copies of a real connection's frames
// (all of them: SYN, SYN-ACK, ACKs, data, FINs) from the client's veth
// end. On the sending side the tag is in the frame; on the receiving side
// the kernel moves it out of band before the filter runs. Either way only
// the SYN and the SYN-ACK may pass.
func TestLiveVLAN(t *testing.T) {
	p := netnslab.NewPair(t)
	srv, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV4, 8100), FastOpen: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	// Record one connection whole, with no filter.
	var rec *pcap.Handle
	if err := p.Client.Do(func() (err error) {
		rec, err = pcap.OpenLive(p.ClientIf, 256, false, 50*time.Millisecond)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Client.Dial(netnslab.DialConfig{Server: srv.Addr()}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	var frames [][]byte
	for {
		data, _, err := rec.ReadPacketData()
		if err != nil {
			break
		}
		frames = append(frames, data)
	}
	rec.Close()
	if len(frames) < 6 {
		t.Fatalf("recorded %d frames of a connection, want its SYN, SYN-ACK, ACK, data and FINs", len(frames))
	}

	onSrv := openIn(t, p.Server, LiveConfig{Interface: p.ServerIf})
	onCli := openIn(t, p.Client, LiveConfig{Interface: p.ClientIf})
	stopSrv, stopCli := collect(t, onSrv), collect(t, onCli)
	var inject *pcap.Handle
	if err := p.Client.Do(func() (err error) {
		inject, err = pcap.OpenLive(p.ClientIf, 256, false, pcap.BlockForever)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer inject.Close()
	for _, fr := range frames {
		tagged := withVLAN(Frame{Data: fr, OrigLen: len(fr), LinkType: linkTypeEthernet}).Data
		copy(tagged[0:6], mac(p.ServerMAC)) // all towards the server end
		copy(tagged[6:12], mac(p.ClientMAC))
		if err := inject.WritePacketData(tagged); err != nil {
			t.Fatal(err)
		}
	}
	srvSegs, err := stopSrv()
	if err != nil {
		t.Fatal(err)
	}
	cliSegs, err := stopCli()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		segs []liveSeg
	}{{"receiving end", srvSegs}, {"sending end", cliSegs}} {
		if got := flagNames(c.segs); got != "S SA" {
			t.Errorf("%s: %q of %d tagged frames passed, want %q", c.name, got, len(frames), "S SA")
		}
		for i, s := range c.segs {
			if !s.vlan {
				t.Errorf("%s: frame %d has no 802.1Q tag (libpcap puts it back)", c.name, i+1)
			}
		}
	}
}

func mac(s string) []byte {
	hw, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return hw
}

// TestLiveErrors: the mistakes an operator makes get one clear line.
func TestLiveErrors(t *testing.T) {
	p := netnslab.NewPair(t)
	if _, err := p.Client.Run("ip", "link", "add", "down0", "type", "veth", "peer", "name", "down1"); err != nil {
		t.Fatal(err)
	}
	try := func(name string) error {
		return p.Client.Do(func() error {
			l, err := OpenLive(LiveConfig{Interface: name, Backend: testBackend})
			if err == nil {
				l.Close()
			}
			return err
		})
	}
	err := try("nosuch0")
	if !errors.Is(err, ErrNoSuchInterface) || !strings.Contains(err.Error(), p.ClientIf) || !strings.Contains(err.Error(), "any") {
		t.Errorf("no such interface: %v", err)
	}
	err = try("down0")
	if !errors.Is(err, ErrInterfaceDown) || !strings.Contains(err.Error(), "ip link set dev down0 up") {
		t.Errorf("down: %v", err)
	}
	err = p.Client.Do(func() error {
		_, err := OpenLive(LiveConfig{Interface: p.ClientIf, Filter: "port"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), `filter "port"`) {
		t.Errorf("bad filter: %v", err)
	}
	var ifs []Interface
	if err := p.Client.Do(func() (err error) { ifs, err = Interfaces(); return }); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, ifc := range ifs {
		if ifc.Name == p.ClientIf {
			found = true
			want := []netip.Prefix{netip.PrefixFrom(p.ClientV4, 24), netip.PrefixFrom(p.ClientV6, 64)}
			if !ifc.Up || !ifc.Running || len(ifc.Addrs) < 2 || ifc.Addrs[0] != want[0] || ifc.Addrs[1] != want[1] {
				t.Errorf("%+v, want up, running, %v", ifc, want)
			}
		}
		if ifc.Name == "down0" && ifc.Up {
			t.Errorf("down0 listed as up")
		}
	}
	if !found {
		t.Errorf("%s not in %+v", p.ClientIf, ifs)
	}
}

// TestLiveDrops fills a small kernel ring before reading it: the kernel
// must count the drops and Stats must report them.
func TestLiveDrops(t *testing.T) {
	p := netnslab.NewPair(t)
	srv, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV4, 8001)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const sent = 3000
	syn := recordSYN(t, p, srv)
	l := openIn(t, p.Server, LiveConfig{Interface: p.ServerIf, BufferSize: 64 << 10})
	inject(t, p, syn, sent)
	stop := collect(t, l)
	segs, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	st := l.Stats()
	t.Logf("sent %d, captured %d, stats %+v", sent, len(segs), st)
	if st.Received != sent || st.Dropped == 0 || st.Captured+st.Dropped != sent || st.Captured != len(segs) {
		t.Errorf("stats %+v after %d SYNs into a 64 KiB ring read late (captured %d): want all received, some dropped, the rest captured", st, sent, len(segs))
	}
}

// recordSYN returns a real SYN to srv as the client's veth sends it,
// readdressed to a MAC nobody has, so that the server's stack ignores it
// (no RSTs) while a capture on its veth still sees it.
func recordSYN(t *testing.T, p *netnslab.Pair, srv *netnslab.Server) []byte {
	t.Helper()
	rec := openIn(t, p.Client, LiveConfig{Interface: p.ClientIf})
	if _, err := p.Client.Dial(netnslab.DialConfig{Server: srv.Addr()}); err != nil {
		t.Fatal(err)
	}
	var f Frame
	if err := rec.Next(&f); err != nil {
		t.Fatal(err)
	}
	syn := f.Clone().Data
	rec.Close()
	copy(syn[0:6], mac("02:00:00:00:00:99"))
	return syn
}

// inject sends frame n times from the client's veth.
func inject(t *testing.T, p *netnslab.Pair, frame []byte, n int) {
	t.Helper()
	var h *pcap.Handle
	if err := p.Client.Do(func() (err error) {
		h, err = pcap.OpenLive(p.ClientIf, 256, false, pcap.BlockForever)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for range n {
		if err := h.WritePacketData(frame); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLiveNextAllocs: reading frames the kernel holds allocates nothing.
func TestLiveNextAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	p := netnslab.NewPair(t)
	srv, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV4, 8001)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	syn := recordSYN(t, p, srv)
	l := openIn(t, p.Server, LiveConfig{Interface: p.ServerIf})
	inject(t, p, syn, 600)
	var f Frame
	allocs := testing.AllocsPerRun(500, func() {
		if err := l.Next(&f); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%s: Next allocates %.1f times a frame, want 0", l.Backend(), allocs)
	}
}
