package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// afpacketBuilt: this build has the AF_PACKET backend.
const afpacketBuilt = true

// The ring's geometry. A block is what the kernel hands over at once: it
// fills one with frames and passes it to user space when it is full or
// when blockTimeout has passed since its first frame, so one wake-up
// serves a few thousand SYNs at a flood's rate and a quiet link waits at
// most the timeout for its frame.
const (
	ringBlockSize = 256 << 10
	ringMinBlocks = 4
	ringFrameSize = 2048 // TPACKET_V3 frames are variable; the kernel only checks this
)

// Offsets in the ring (linux/if_packet.h). A block starts with struct
// tpacket_block_desc; each frame with struct tpacket3_hdr, then a struct
// sockaddr_ll at TPACKET_ALIGN(sizeof(tpacket3_hdr)).
const (
	blockStatus   = 8  // hdr.bh1.block_status
	blockNumPkts  = 12 // hdr.bh1.num_pkts
	blockFirstPkt = 16 // hdr.bh1.offset_to_first_pkt

	pktNextOffset = 0
	pktSec        = 4
	pktNsec       = 8
	pktSnaplen    = 12
	pktLen        = 16
	pktStatus     = 20
	pktMac        = 24
	pktNet        = 26
	pktVlanTCI    = 32
	pktVlanTPID   = 36
	pktAddr       = 48 // struct sockaddr_ll

	sllProtocol = 2
	sllIfindex  = 4
	sllHatype   = 8
	sllPkttype  = 10
	sllHalen    = 11
	sllAddr     = 12
)

// ringMode is how frames come off the socket.
type ringMode int

const (
	modeEthernet ringMode = iota // SOCK_RAW, Ethernet header (also loopback)
	modeRaw                      // SOCK_RAW, IP directly (tun, ARPHRD_NONE)
	modeCooked                   // SOCK_DGRAM, a Linux cooked v2 header made here
)

// ringSource reads a TPACKET_V3 ring of an AF_PACKET socket: no system
// call while frames are waiting, one poll when the ring is empty.
type ringSource struct {
	mode    ringMode
	loIndex int // the loopback's ifindex: its outgoing copies are skipped
	snaplen int

	mu     sync.Mutex  // guards ring, fd and holding against close
	closed atomic.Bool // set under mu; read also without it
	fd     int
	// file owns fd once the ring is set up, and conn waits on it in the
	// runtime's netpoller: see wait.
	file      *os.File
	conn      syscall.RawConn
	ring      []byte
	blockSize int
	blocks    int

	// the reader's place: the block it is in, what is left of it
	cur      int // block index
	left     int // frames left in it, the one at off included
	off      int // ring offset of the next frame
	received int // counters added up: PACKET_STATISTICS resets on read
	dropped  int

	// holding: the reader is in block cur, taken from the kernel, and
	// may have lent a frame of it; close leaves the ring mapped then,
	// for the reader to unmap at its next read. Set under mu.
	holding bool
	// lent: read returned the frame at off, which the next read steps
	// past. A frame is lent straight from the ring: copying each out
	// (a run of up to 64 at a time, under one lock) was 5.5% of a
	// replay's CPU, most of it memmove.
	lent bool
	// rebuilt holds a frame that cannot be lent as the ring has it: a
	// cooked header or a VLAN tag goes in front.
	rebuilt []byte
}

// openAFPacket opens cfg.Interface through an AF_PACKET socket with a
// TPACKET_V3 receive ring and, as a classic BPF program, the SYN/RST
// filter (or, with -f, LiveFilter's expression compiled by libpcap).
func openAFPacket(cfg LiveConfig) (*Live, error) {
	name := cfg.Interface
	ifindex, mode, err := ringModeOf(name)
	if err != nil {
		return nil, err
	}
	linkType := uint16(linkTypeEthernet)
	switch mode {
	case modeRaw:
		linkType = linkTypeRaw
	case modeCooked:
		linkType = linkTypeSLL2
	}
	prog, err := ringProgram(mode, linkType, cfg)
	if err != nil {
		return nil, err
	}
	sockType := unix.SOCK_RAW
	if mode == modeCooked {
		sockType = unix.SOCK_DGRAM
	}
	// Protocol 0 receives nothing until bind, so no packet gets in before
	// the filter is attached.
	fd, err := unix.Socket(unix.AF_PACKET, sockType|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("%s: %w: %s", name, ErrPermission, permissionHint())
		}
		return nil, fmt.Errorf("%s: cannot capture: socket: %v", name, err)
	}
	s := &ringSource{fd: fd, mode: mode, snaplen: cfg.Snaplen, loIndex: loopbackIndex()}
	if err := s.setup(ifindex, cfg, prog); err != nil {
		s.close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// Non-blocking, so os.NewFile puts it in the netpoller.
	s.file = os.NewFile(uintptr(fd), name)
	if s.conn, err = s.file.SyscallConn(); err != nil {
		s.close()
		return nil, fmt.Errorf("%s: cannot capture: %v", name, err)
	}
	return &Live{src: s, name: name, linkType: linkType, snaplen: cfg.Snaplen,
		filter: LiveFilter(linkType, cfg.Filter)}, nil
}

// ringProgram is the kernel filter for the socket: synRSTProgram, or with
// -f the whole LiveFilter expression compiled by libpcap, which cannot be
// done for a cooked socket (see errRingCannotFilter).
func ringProgram(mode ringMode, linkType uint16, cfg LiveConfig) ([]unix.SockFilter, error) {
	var raw []bpf.RawInstruction
	var err error
	switch {
	case cfg.Filter == "":
		if raw, err = synRSTProgram(mode == modeEthernet, cfg.Snaplen); err != nil {
			return nil, fmt.Errorf("%s: kernel filter: %v", cfg.Interface, err)
		}
	case mode == modeCooked:
		return nil, fmt.Errorf("%s: %w", cfg.Interface, errRingCannotFilter)
	default:
		if raw, err = compileRingFilter(linkType, cfg.Snaplen, LiveFilter(linkType, cfg.Filter)); err != nil {
			return nil, fmt.Errorf("filter %q: %v", cfg.Filter, err)
		}
	}
	prog := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		prog[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return prog, nil
}

// ringModeOf returns the interface's index and how to read it: Ethernet
// and loopback as they are, raw IP interfaces as raw IP, everything else
// (and "any") cooked, as libpcap does.
func ringModeOf(name string) (int, ringMode, error) {
	if name == "any" {
		return 0, modeCooked, nil
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", name, ErrNoSuchInterface)
	}
	hatype, err := hardwareType(name)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: cannot capture: %v", name, err)
	}
	switch hatype {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return ifc.Index, modeEthernet, nil
	case unix.ARPHRD_NONE, unix.ARPHRD_RAWIP:
		return ifc.Index, modeRaw, nil
	}
	return ifc.Index, modeCooked, nil
}

// hardwareType is the interface's ARPHRD_ type (SIOCGIFHWADDR).
func hardwareType(name string) (uint16, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, fmt.Errorf("SIOCGIFHWADDR: %v", err)
	}
	return ifr.Uint16(), nil // sa_family of ifr_hwaddr
}

// loopbackIndex is the ifindex of the loopback interface, 0 if none.
func loopbackIndex() int {
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 {
			return ifc.Index
		}
	}
	return 0
}

// setup attaches the filter, maps the ring and binds the socket, which
// starts the capture.
func (s *ringSource) setup(ifindex int, cfg LiveConfig, prog []unix.SockFilter) error {
	if err := unix.SetsockoptSockFprog(s.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}); err != nil {
		return fmt.Errorf("cannot attach the kernel filter: %v", err)
	}
	if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fmt.Errorf("cannot capture: TPACKET_V3: %v", err)
	}
	s.blockSize, s.blocks = ringGeometry(cfg.BufferSize, s.snaplen)
	req := unix.TpacketReq3{
		Block_size:     uint32(s.blockSize),
		Block_nr:       uint32(s.blocks),
		Frame_size:     ringFrameSize,
		Frame_nr:       uint32(s.blocks * (s.blockSize / ringFrameSize)),
		Retire_blk_tov: uint32(blockTimeout.Milliseconds()),
	}
	if err := unix.SetsockoptTpacketReq3(s.fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fmt.Errorf("cannot set up a capture ring of %s: %v (try a smaller --buffer-size)",
			formatBytes(s.blockSize*s.blocks), err)
	}
	ring, err := unix.Mmap(s.fd, 0, s.blockSize*s.blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("cannot map the capture ring: %v", err)
	}
	s.ring = ring
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}
	if err := unix.Bind(s.fd, sa); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return ErrNoSuchInterface
		}
		return fmt.Errorf("cannot capture: bind: %v", err)
	}
	if cfg.Promisc && ifindex != 0 {
		mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(s.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fmt.Errorf("cannot enter promiscuous mode: %v", err)
		}
	}
	return nil
}

// ringGeometry splits a buffer of size bytes into blocks: ringBlockSize
// each, or fewer bytes for small buffers, which still get ringMinBlocks
// (the kernel fills one while the reader empties another), each a power of
// two of pages. A block holds at least one frame of snaplen bytes with its
// headers: the kernel truncates frames that do not fit.
func ringGeometry(size, snaplen int) (blockSize, blocks int) {
	blockSize = ringBlockSize
	for blockSize > unix.Getpagesize() && blockSize*ringMinBlocks > size && blockSize/2 >= snaplen+ringFrameOverhead {
		blockSize /= 2
	}
	for blockSize < snaplen+ringFrameOverhead {
		blockSize *= 2
	}
	return blockSize, max(ringMinBlocks, size/blockSize)
}

// ringFrameOverhead bounds what a block spends on its header and a frame's
// headers besides the frame's bytes (block descriptor 48, tpacket3_hdr and
// sockaddr_ll 68, alignment).
const ringFrameOverhead = 256

func formatBytes(n int) string { return fmt.Sprintf("%d KiB", n>>10) }

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// read returns the next frame of the ring: the ring's own bytes, valid
// until the next read, also if close runs meanwhile (it leaves the ring
// mapped while the reader holds a block). A block goes back to the
// kernel when the reader reads past its last frame.
func (s *ringSource) read() ([]byte, int, int64, error) {
	if s.lent {
		s.lent = false
		s.step()
	}
	if s.left == 0 || s.closed.Load() {
		if err := s.nextBlock(); err != nil {
			return nil, 0, 0, err
		}
	}
	data, wireLen, t := s.frame(s.ring[s.off:])
	s.lent = true
	return data, wireLen, t, nil
}

// nextBlock hands the block read to the end back to the kernel and
// waits for the next one to hold, or unmaps the ring once closed.
func (s *ringSource) nextBlock() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.closed.Load() {
			s.holding = false
			s.unmap()
			return io.EOF
		}
		if s.holding && s.left == 0 {
			s.releaseBlock()
		}
		if s.left > 0 {
			return nil
		}
		if s.enterBlock() {
			continue
		}
		if err := s.wait(s.cur, liveReadTimeout); err != nil {
			return err
		}
	}
}

// buffered reports whether a frame is waiting, in the block held or in
// the ring. Called by the reader's goroutine, which owns left and lent:
// only a look at the next block needs the lock.
func (s *ringSource) buffered() bool {
	if s.left > 1 || s.left == 1 && !s.lent {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed.Load() && s.blockReady(s.nextBlockIndex())
}

// nextBlockIndex is the block the reader takes next; s.mu is held.
func (s *ringSource) nextBlockIndex() int {
	if s.holding {
		return (s.cur + 1) % s.blocks
	}
	return s.cur
}

// await waits up to d for a frame and reports whether one is waiting,
// or whether read has something else to say (the capture closed, the
// socket failed).
func (s *ringSource) await(d time.Duration) bool {
	if s.buffered() {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.wait(s.nextBlockIndex(), d)
	return !errors.Is(err, errTimeout)
}

// status is block's block_status word, shared with the kernel.
func (s *ringSource) status(block int) *uint32 {
	return (*uint32)(unsafe.Pointer(&s.ring[block*s.blockSize+blockStatus]))
}

func (s *ringSource) blockReady(block int) bool {
	return atomic.LoadUint32(s.status(block))&unix.TP_STATUS_USER != 0
}

// enterBlock takes the current block if the kernel has handed it over;
// s.mu is held.
func (s *ringSource) enterBlock() bool {
	if !s.blockReady(s.cur) {
		return false
	}
	base := s.cur * s.blockSize
	s.holding = true
	s.left = int(binary.NativeEndian.Uint32(s.ring[base+blockNumPkts:]))
	s.off = base + int(binary.NativeEndian.Uint32(s.ring[base+blockFirstPkt:]))
	if s.left > 0 && s.loopbackEcho(s.ring[s.off:]) {
		s.step()
	}
	return true
}

// releaseBlock hands the current block back to the kernel and moves on;
// s.mu is held.
func (s *ringSource) releaseBlock() {
	atomic.StoreUint32(s.status(s.cur), unix.TP_STATUS_KERNEL)
	s.cur = (s.cur + 1) % s.blocks
	s.holding = false
}

// step moves past the frame at s.off and past the loopback's outgoing
// copies after it, which the incoming copies repeat (libpcap skips them
// too), so that left counts frames read will return.
func (s *ringSource) step() {
	for {
		s.off += int(binary.NativeEndian.Uint32(s.ring[s.off+pktNextOffset:]))
		if s.left--; s.left == 0 || !s.loopbackEcho(s.ring[s.off:]) {
			return
		}
	}
}

// loopbackEcho reports whether the frame whose tpacket3_hdr starts h is
// the loopback's outgoing copy.
func (s *ringSource) loopbackEcho(h []byte) bool {
	addr := h[pktAddr:]
	return s.loIndex != 0 && addr[sllPkttype] == unix.PACKET_OUTGOING &&
		int(binary.NativeEndian.Uint32(addr[sllIfindex:])) == s.loIndex
}

// frame returns the frame whose tpacket3_hdr starts h, at most snaplen
// bytes of it: in the ring, or rebuilt when a cooked header or a VLAN
// tag the kernel took off goes in front.
func (s *ringSource) frame(h []byte) ([]byte, int, int64) {
	ne := binary.NativeEndian
	addr := h[pktAddr:]
	start := int(ne.Uint16(h[pktMac:]))
	if s.mode == modeCooked {
		start = int(ne.Uint16(h[pktNet:]))
	}
	data := h[start : start+int(ne.Uint32(h[pktSnaplen:]))]
	wireLen := int(ne.Uint32(h[pktLen:]))
	t := int64(ne.Uint32(h[pktSec:]))*1e9 + int64(ne.Uint32(h[pktNsec:]))
	switch {
	case s.mode == modeCooked:
		s.rebuilt = append(appendSLL2(s.rebuilt[:0], addr), data...)
		data, wireLen = s.rebuilt, wireLen+sll2Len
	case s.mode == modeEthernet && vlanStripped(h) && len(data) >= 12:
		// The kernel took the 802.1Q tag off (VLAN offload); put it back
		// where the frame had it, as libpcap does.
		b := append(s.rebuilt[:0], data[:12]...)
		b = binary.BigEndian.AppendUint16(b, vlanTPID(h))
		b = binary.BigEndian.AppendUint16(b, uint16(ne.Uint32(h[pktVlanTCI:])))
		s.rebuilt = append(b, data[12:]...)
		data, wireLen = s.rebuilt, wireLen+4
	}
	return data[:min(len(data), s.snaplen)], wireLen, t
}

func vlanStripped(h []byte) bool {
	return binary.NativeEndian.Uint32(h[pktStatus:])&unix.TP_STATUS_VLAN_VALID != 0
}

func vlanTPID(h []byte) uint16 {
	if binary.NativeEndian.Uint32(h[pktStatus:])&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
		return binary.NativeEndian.Uint16(h[pktVlanTPID:])
	}
	return 0x8100
}

// appendSLL2 appends a Linux cooked v2 header made from the frame's
// sockaddr_ll (whose protocol is already in network order).
func appendSLL2(buf, addr []byte) []byte {
	ne := binary.NativeEndian
	buf = append(buf, addr[sllProtocol], addr[sllProtocol+1], 0, 0)
	buf = binary.BigEndian.AppendUint32(buf, ne.Uint32(addr[sllIfindex:]))
	buf = binary.BigEndian.AppendUint16(buf, ne.Uint16(addr[sllHatype:]))
	buf = append(buf, addr[sllPkttype], addr[sllHalen])
	return append(buf, addr[sllAddr:sllAddr+8]...)
}

// wait sleeps until the kernel hands over block, for at most d; s.mu is
// released meanwhile, so that close can run.
//
// It parks the goroutine in the runtime's netpoller rather than blocking
// a thread in poll(2): while the tracker kept the other P busy, the
// runtime's monitor took the P of the thread in poll every time (after
// 20 µs), handed it to a fresh thread and then woke every 20 µs for the
// next millisecond: 4500 of the capture's 6400 context switches and 6-7%
// of its CPU on the bench/live.sh replay.
func (s *ringSource) wait(block int, d time.Duration) error {
	s.mu.Unlock()
	defer s.mu.Lock()
	if err := s.file.SetReadDeadline(time.Now().Add(d)); err != nil {
		return io.EOF // closed
	}
	var sockErr error
	woken := false
	err := s.conn.Read(func(uintptr) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case s.closed.Load() || s.blockReady(block):
			return true
		case woken:
			// No block, yet the socket was ready: an error (the
			// interface went down), or a spurious wake-up.
			sockErr = s.socketError()
			return sockErr != nil
		}
		woken = true
		return false
	})
	switch {
	case s.closed.Load():
		return io.EOF
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errTimeout
	case err != nil:
		return fmt.Errorf("poll: %v", err)
	}
	return sockErr
}

// socketError is the error the socket reports, if any; s.mu is held.
func (s *ringSource) socketError() error {
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 0); err != nil || n == 0 || fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) == 0 {
		return nil
	}
	soErr, _ := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if soErr == int(unix.ENETDOWN) {
		return errors.New("the interface went down or disappeared")
	}
	return fmt.Errorf("socket error: %v", unix.Errno(soErr))
}

// counters reads PACKET_STATISTICS, which the kernel resets at each read,
// and adds it up. tp_packets counts the dropped packets too.
func (s *ringSource) counters() (LiveStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return LiveStats{Received: s.received, Dropped: s.dropped}, nil
	}
	st, err := unix.GetsockoptTpacketStatsV3(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return LiveStats{}, err
	}
	s.received += int(st.Packets)
	s.dropped += int(st.Drops)
	return LiveStats{Received: s.received, Dropped: s.dropped}, nil
}

// close closes the socket and unmaps the ring, or leaves that to the
// reader if it holds a block, whose frame it may be decoding. A read
// waiting for a block returns io.EOF at once.
func (s *ringSource) close() {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return
	}
	s.closed.Store(true)
	s.mu.Unlock()
	// Without s.mu, which a waiting read takes to look at the ring:
	// closing the file wakes it and waits for it to leave the poller.
	if s.file != nil {
		s.file.Close()
	} else {
		unix.Close(s.fd)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.holding {
		s.unmap()
	}
}

// unmap unmaps the ring once; s.mu is held.
func (s *ringSource) unmap() {
	if s.ring != nil {
		unix.Munmap(s.ring)
		s.ring = nil
	}
}
