package capture

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// bigSize is about how large the synthetic captures for benchmarks are.
const bigSize = 32 << 20

var (
	bigOnce            sync.Once
	bigPcap, bigNg     []byte
	bigPcapGz, bigNgGz []byte
)

// bigCaptures builds the benchmarks' captures once.
func bigCaptures(tb testing.TB) {
	tb.Helper()
	bigOnce.Do(func() {
		bigPcap, bigNg = repeated(tb, bigSize)
		bigPcapGz, bigNgGz = gzipFast(tb, bigPcap), gzipFast(tb, bigNg)
	})
}

// repeated builds large captures of at least size bytes from real ones:
// the records of the PATHspider measurement repeated after one pcap header
// (1741 packets of mixed sizes per copy), and the pymptcpanalyzer pcapng
// repeated whole, which makes one section per copy.
func repeated(tb testing.TB, size int) (pcap, pcapng []byte) {
	src := readFile(tb, publicFile(tb, "pathspider_tfo-measurement-exp254.pcap"))
	ng := readFile(tb, publicFile(tb, "pymptcpanalyzer_client_2-pcapng-sll.pcap"))
	pcap = append([]byte(nil), src[:24]...)
	for len(pcap) < size {
		pcap = append(pcap, src[24:]...)
	}
	for len(pcapng) < size {
		pcapng = append(pcapng, ng...)
	}
	return pcap, pcapng
}

func gzipFast(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if _, err := zw.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// TestNextAllocs asserts that Next allocates nothing in steady state.
// testing.AllocsPerRun rounds down to whole allocations per run, which
// would hide one allocation every few frames, so the total is counted.
// Plain files must make none at all. Through gzip, compress/flate
// allocates Huffman link tables for the dynamic blocks it inflates (a few
// per block of compressed input, whatever the packets), which the loose
// bound allows; TestPrefetcherAllocs shows the hand-over between
// goroutines adds none.
func TestNextAllocs(t *testing.T) {
	const frames = 2500                // read twice: warm-up and count
	pcap, pcapng := repeated(t, 4<<20) // 11,000 and 5,700 frames
	for _, c := range []struct {
		name string
		data []byte
		max  uint64
	}{
		{"pcap", pcap, 0},
		{"pcapng", pcapng, 0},
		{"pcap.gz", gzipBytes(t, pcap), frames / 2},
		{"pcapng.gz", gzipBytes(t, pcapng), frames / 2},
	} {
		r, err := NewFileReader(c.name, bytes.NewReader(c.data))
		if err != nil {
			t.Fatal(err)
		}
		var f Frame
		allocs := countAllocs(t, frames, func() {
			if err := r.Next(&f); err != nil {
				t.Fatal(err)
			}
		})
		r.Close()
		if allocs > c.max {
			t.Errorf("%s: %d allocations in %d calls of Next, want at most %d", c.name, allocs, frames, c.max)
		}
		t.Logf("%s: %d allocations in %d calls of Next", c.name, allocs, frames)
	}
}

// TestPrefetcherAllocs reads through the prefetching goroutine from a
// source that allocates nothing: the channel hand-over must not either.
func TestPrefetcherAllocs(t *testing.T) {
	data := make([]byte, 64<<20)
	p := newPrefetcher(bytes.NewReader(data))
	defer p.stop()
	buf := make([]byte, 100<<10)
	total := 0
	allocs := countAllocs(t, 300, func() {
		n, err := p.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	})
	if allocs != 0 {
		t.Errorf("%d allocations reading %d bytes through the prefetcher", allocs, total)
	}
}

// countAllocs returns the number of heap allocations n calls of f make,
// in all goroutines, after n calls to warm up, all on one P as
// testing.AllocsPerRun does.
func countAllocs(t testing.TB, n int, f func()) uint64 {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for range n {
		f()
	}
	// Finish any collection first: a collection empties the runtime's
	// sudog caches, and the next blocking channel operations allocate
	// new ones, which is no cost of f's.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		f()
	}
	runtime.ReadMemStats(&after)
	if gcs := after.NumGC - before.NumGC; gcs > 0 {
		t.Logf("%d collections while counting", gcs)
	}
	return after.Mallocs - before.Mallocs
}

// benchRead reads a whole capture per iteration and reports throughput on
// the decompressed bytes and the cost per packet.
func benchRead(b *testing.B, size int, open func() (*FileReader, error)) {
	b.ReportAllocs()
	b.SetBytes(int64(size))
	packets := 0
	var f Frame
	for b.Loop() {
		r, err := open()
		if err != nil {
			b.Fatal(err)
		}
		for {
			err := r.Next(&f)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			packets++
		}
		r.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
	b.ReportMetric(float64(packets)/float64(b.N), "packets/op")
}

func BenchmarkRead(b *testing.B) {
	bigCaptures(b)
	dir := b.TempDir()
	files := map[string][]byte{"big.pcap": bigPcap, "big.pcapng": bigNg, "big.pcap.gz": bigPcapGz}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	mem := func(data []byte) func() (*FileReader, error) {
		return func() (*FileReader, error) { return NewFileReader("mem", bytes.NewReader(data)) }
	}
	file := func(name string) func() (*FileReader, error) {
		return func() (*FileReader, error) { return Open(filepath.Join(dir, name)) }
	}
	b.Run("pcap/memory", func(b *testing.B) { benchRead(b, len(bigPcap), mem(bigPcap)) })
	b.Run("pcap/file", func(b *testing.B) { benchRead(b, len(bigPcap), file("big.pcap")) })
	b.Run("pcapng/memory", func(b *testing.B) { benchRead(b, len(bigNg), mem(bigNg)) })
	b.Run("pcapng/file", func(b *testing.B) { benchRead(b, len(bigNg), file("big.pcapng")) })
	b.Run("pcap.gz/memory", func(b *testing.B) { benchRead(b, len(bigPcap), mem(bigPcapGz)) })
	b.Run("pcap.gz/file", func(b *testing.B) { benchRead(b, len(bigPcap), file("big.pcap.gz")) })
	b.Run("pcapng.gz/memory", func(b *testing.B) { benchRead(b, len(bigNg), mem(bigNgGz)) })
}

// BenchmarkPcapgo reads the same pcap with gopacket's pcapgo in its
// zero-copy mode, for reference.
func BenchmarkPcapgo(b *testing.B) {
	bigCaptures(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(bigPcap)))
	for b.Loop() {
		r, err := pcapgo.NewReader(bytes.NewReader(bigPcap))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, _, err := r.ZeroCopyReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkFilterMatch(b *testing.B) {
	data := readFile(b, publicFile(b, "pathspider_tfo-measurement-exp254.pcap"))
	var frames []OwnedFrame
	r, err := NewFileReader("f", bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	var f Frame
	for r.Next(&f) == nil {
		frames = append(frames, f.Clone())
	}
	flt := NewFilter("tcp[tcpflags] & tcp-syn != 0")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := flt.Match(&frames[i%len(frames)].Frame); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
