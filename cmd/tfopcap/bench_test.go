package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tfopcap/tfopcap/internal/synth"
)

// BenchmarkAnalyze runs 'tfopcap analyze --format json' end to end on
// synthetic captures of both benchmark profiles (bench/README.md), written
// once to a temporary directory.
func BenchmarkAnalyze(b *testing.B) {
	for _, p := range []struct {
		profile string
		size    int64
	}{{"bulk", 256 << 20}, {"handshake", 64 << 20}} {
		b.Run(p.profile, func(b *testing.B) {
			cfg, _ := synth.Profile(p.profile)
			cfg.Size = p.size
			path := filepath.Join(b.TempDir(), p.profile+".pcap")
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			exp, err := synth.Generate(f, cfg)
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
			check := func(out []byte) {
				var rep synth.Report
				if err := json.Unmarshal(out, &rep); err != nil {
					b.Fatal(err)
				}
				if d := exp.Check(&rep); len(d) > 0 {
					b.Fatalf("report differs from the generator's expectation: %v", d)
				}
			}
			var out capBuffer
			if code := run([]string{"analyze", "--format", "json", path}, streams{stdout: &out, stderr: os.Stderr}); code != 0 {
				b.Fatalf("exit %d", code)
			}
			check(out.b)
			b.SetBytes(exp.Bytes)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				run([]string{"analyze", "--format", "json", path}, streams{stdout: io.Discard, stderr: os.Stderr})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*exp.Packets), "ns/packet")
		})
	}
}

type capBuffer struct{ b []byte }

func (c *capBuffer) Write(p []byte) (int, error) { c.b = append(c.b, p...); return len(p), nil }
