//go:build linux

package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fakeRing is a TPACKET_V3 ring in ordinary memory, laid out as the
// kernel lays out a full one: blocks of frames, each handed to user
// space, so that ringSource can be read without a socket.
type fakeRing struct {
	src    *ringSource
	frames [][]byte // the frames of every block, in order
}

// ringFrameMac is where a fake frame's bytes start after its
// tpacket3_hdr: TPACKET_ALIGN(sizeof(tpacket3_hdr)) + sizeof(sockaddr_ll),
// aligned up, as the kernel does.
const ringFrameMac = 80

// newFakeRing lays perBlock frames into each of blocks blocks of
// blockSize bytes, frame i of the ring being frame(i), timestamped i µs
// (as a flood of a million packets a second). The ring is mapped memory,
// as the kernel's is, so that closing the source may unmap it.
func newFakeRing(tb testing.TB, blocks, blockSize, perBlock int, frame func(i int) []byte) *fakeRing {
	ring, err := unix.Mmap(-1, 0, blocks*blockSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Munmap(ring) }) // EINVAL if the source did
	r := &fakeRing{src: &ringSource{mode: modeEthernet, snaplen: DefaultSnaplen, fd: -1,
		ring: ring, blockSize: blockSize, blocks: blocks}}
	ne := binary.NativeEndian
	for b := range blocks {
		base := b * blockSize
		off := 48 // after struct tpacket_block_desc
		ne.PutUint32(ring[base+blockNumPkts:], uint32(perBlock))
		ne.PutUint32(ring[base+blockFirstPkt:], uint32(off))
		for range perBlock {
			data := frame(len(r.frames))
			size := (ringFrameMac + len(data) + 15) &^ 15
			if base+off+size > base+blockSize {
				tb.Fatalf("%d frames do not fit a block of %d bytes", perBlock, blockSize)
			}
			h := ring[base+off:]
			ne.PutUint32(h[pktNextOffset:], uint32(size))
			ne.PutUint32(h[pktNsec:], uint32(len(r.frames)*1000))
			ne.PutUint32(h[pktSnaplen:], uint32(len(data)))
			ne.PutUint32(h[pktLen:], uint32(len(data)+100))
			ne.PutUint16(h[pktMac:], ringFrameMac)
			h[pktAddr+sllPkttype] = unix.PACKET_HOST
			copy(h[ringFrameMac:], data)
			r.frames = append(r.frames, data)
			off += size
		}
	}
	r.handOver()
	return r
}

// handOver gives every block to user space, as the kernel does once it
// has filled them.
func (r *fakeRing) handOver() {
	for b := range r.src.blocks {
		atomic.StoreUint32((*uint32)(unsafe.Pointer(&r.src.ring[b*r.src.blockSize+blockStatus])), unix.TP_STATUS_USER)
	}
}

// released reports whether the blocks before block are back with the
// kernel.
func (r *fakeRing) released(block int) bool {
	for b := range block {
		if binary.NativeEndian.Uint32(r.src.ring[b*r.src.blockSize+blockStatus:]) != unix.TP_STATUS_KERNEL {
			return false
		}
	}
	return true
}

func synOfSize(i int) []byte {
	f := bytes.Repeat([]byte{byte(i)}, 60+i%40)
	binary.BigEndian.PutUint32(f, uint32(i))
	return f
}

// TestRingRead: frames come out of the ring in order and intact, across
// blocks, and each block goes back to the kernel once the reader reads
// past its last frame (not before: that frame is lent from the ring).
func TestRingRead(t *testing.T) {
	for _, perBlock := range []int{1, 2, 63, 200} {
		r := newFakeRing(t, 3, 64<<10, perBlock, synOfSize)
		l := &Live{src: r.src, linkType: linkTypeEthernet, snaplen: DefaultSnaplen}
		var f Frame
		for i, want := range r.frames {
			if i == len(r.frames)-1 && !l.Buffered() {
				t.Fatalf("%d a block: frame %d waiting in the ring, Buffered says no", perBlock, i)
			}
			if err := l.Next(&f); err != nil {
				t.Fatalf("%d a block: frame %d: %v", perBlock, i, err)
			}
			if !bytes.Equal(f.Data, want) || f.OrigLen != len(want)+100 || f.Time != int64(i)*1000 || f.Number != i+1 {
				t.Fatalf("%d a block: frame %d: % x (wire %d, time %d, number %d), want % x",
					perBlock, i, f.Data, f.OrigLen, f.Time, f.Number, want)
			}
			if block := i / perBlock; !r.released(block) || r.released(block+1) {
				t.Fatalf("%d a block: at frame %d, blocks before %d should be back with the kernel, and only those",
					perBlock, i, block)
			}
		}
		if r.src.buffered() {
			t.Errorf("%d a block: Buffered after the last frame", perBlock)
		}
	}
}

// TestRingReadSnaplen: a frame the kernel kept longer than the snap
// length comes out truncated to it.
func TestRingReadSnaplen(t *testing.T) {
	r := newFakeRing(t, 1, 256<<10, 200, func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 300) })
	var f Frame
	l := &Live{src: r.src}
	for i := range r.frames {
		if err := l.Next(&f); err != nil {
			t.Fatal(err)
		}
		if len(f.Data) != DefaultSnaplen || f.Data[0] != byte(i) || f.Data[DefaultSnaplen-1] != byte(i) {
			t.Fatalf("frame %d: %d bytes starting %x, want %d of %x", i, len(f.Data), f.Data[0], DefaultSnaplen, byte(i))
		}
	}
}

// TestRingReadAfterClose: a frame lent from the ring stays readable when
// the source is closed meanwhile; the next read returns no frame but
// io.EOF and unmaps the ring, which close left mapped for it.
func TestRingReadAfterClose(t *testing.T) {
	r := newFakeRing(t, 1, 64<<10, 8, synOfSize)
	data, _, _, err := r.src.read()
	if err != nil {
		t.Fatal(err)
	}
	r.src.close()
	if !bytes.Equal(data, r.frames[0]) || r.src.ring == nil {
		t.Fatalf("close unmapped the ring under a lent frame")
	}
	if _, _, _, err := r.src.read(); err != io.EOF {
		t.Errorf("read after close: %v, want io.EOF", err)
	}
	if r.src.ring != nil {
		t.Errorf("the ring is still mapped after the reader saw the close")
	}
}

// TestRingCloseIdle: a source closed while its reader holds no block
// unmaps the ring at once.
func TestRingCloseIdle(t *testing.T) {
	r := newFakeRing(t, 2, 64<<10, 1, synOfSize)
	for range 2 { // into the second block: the first goes back
		if _, _, _, err := r.src.read(); err != nil {
			t.Fatal(err)
		}
	}
	r.src.mu.Lock()
	r.src.releaseBlock() // as nextBlock does before it waits
	r.src.left = 0
	r.src.lent = false
	r.src.mu.Unlock()
	r.src.close()
	if r.src.ring != nil {
		t.Errorf("close left the ring mapped with no block held")
	}
}

// BenchmarkRingNext is Live.Next over a ring the kernel has filled: the
// capture side's cost a frame, without the socket.
func BenchmarkRingNext(b *testing.B) {
	r := newFakeRing(b, 4, 256<<10, 1500, synOfSize)
	l := &Live{src: r.src, linkType: linkTypeEthernet, snaplen: DefaultSnaplen}
	var f Frame
	b.ReportAllocs()
	for b.Loop() {
		if !l.Buffered() {
			r.handOver()
		}
		if err := l.Next(&f); err != nil {
			b.Fatal(err)
		}
	}
}
