package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/report"
)

// damage returns n damaged variants of a real capture, made reproducibly:
// cut short anywhere, bytes flipped in headers, record lengths made absurd,
// blocks duplicated or dropped, gzip cut short.
func damage(orig []byte, n int, seed uint64) map[string][]byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := map[string][]byte{}
	for i := 0; len(out) < n; i++ {
		b := bytes.Clone(orig)
		var name string
		switch i % 6 {
		case 0: // cut anywhere
			k := rng.IntN(len(b))
			name, b = "cut-"+strconv.Itoa(k), b[:k]
		case 1: // flip a few bytes in the first 200 (file and first record headers)
			for j := 0; j < 1+rng.IntN(4); j++ {
				b[rng.IntN(min(200, len(b)))] ^= byte(1 + rng.IntN(255))
			}
			name = "flip-head-" + strconv.Itoa(i)
		case 2: // flip bytes anywhere: lengths inside the file
			for j := 0; j < 1+rng.IntN(16); j++ {
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			}
			name = "flip-" + strconv.Itoa(i)
		case 3: // write 0xff over 4 aligned bytes: an absurd length somewhere
			k := rng.IntN(len(b)/4) * 4
			copy(b[k:], []byte{0xff, 0xff, 0xff, 0x7f})
			name = "absurd-" + strconv.Itoa(k)
		case 4: // drop or repeat a slice of the middle
			k, m := rng.IntN(len(b)), rng.IntN(64)+1
			if rng.IntN(2) == 0 && k+m < len(b) {
				b = append(b[:k:k], b[k+m:]...)
				name = "drop-" + strconv.Itoa(k)
			} else {
				b = append(b[:k:k], append(bytes.Clone(orig[k:min(k+m, len(orig))]), orig[k:]...)...)
				name = "repeat-" + strconv.Itoa(k)
			}
		case 5: // gzip, cut short
			var z bytes.Buffer
			w := gzip.NewWriter(&z)
			w.Write(b)
			w.Close()
			k := rng.IntN(z.Len())
			name, b = "gzip-cut-"+strconv.Itoa(k), z.Bytes()[:k]
		}
		out[name] = b
	}
	return out
}

// TestHostileCaptures feeds hundreds of damaged variants of real captures
// through the whole analyze command: each must end in a report (exit 0,
// JSON that parses, its warnings on stderr too) or a one-line error naming
// the file (exit 2), never a panic or a hang.
func TestHostileCaptures(t *testing.T) {
	sources, _ := filepath.Glob("../../testdata/captures/*/*.pcap*")
	pub, _ := filepath.Glob(filepath.Join(publicDir, "*.pcap*"))
	for _, p := range pub {
		if fi, err := os.Stat(p); err == nil && fi.Size() < 100_000 {
			sources = append(sources, p)
		}
	}
	if len(sources) == 0 {
		t.Fatal("no captures to damage")
	}
	dir := t.TempDir()
	variants := 0
	for si, src := range sources {
		orig, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		for name, b := range damage(orig, 36, uint64(si)) {
			variants++
			file := filepath.Join(dir, filepath.Base(src)+"."+name)
			if err := os.WriteFile(file, b, 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run([]string{"analyze", "--format", "json", file}, streams{strings.NewReader(""), &stdout, &stderr})
			switch code {
			case exitOK:
				var r report.Report
				if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
					t.Errorf("%s: exit 0 but the report is not JSON: %v", file, err)
				}
				// A cut or damaged capture says so on stderr too: a
				// person piping the JSON away must still see it.
				for _, in := range r.Inputs {
					for _, w := range in.Warnings {
						if !strings.Contains(stderr.String(), w) {
							t.Errorf("%s: warning %q is in the report but not on stderr", file, w)
						}
					}
				}
			case exitError:
				msg := stderr.String()
				if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, filepath.Base(file)) {
					t.Errorf("%s: want one line naming the file, got %q", file, msg)
				}
			default:
				t.Errorf("%s: exit %d", file, code)
			}
		}
	}
	if variants < 300 {
		t.Errorf("only %d variants", variants)
	}
	t.Logf("%d damaged variants of %d captures", variants, len(sources))
}

// TestSnaplenCut checks a capture whose snap length cuts SYNs inside their
// TCP options: attempts that cannot be judged are left out and counted,
// with a hint, never judged from half the options.
func TestSnaplenCut(t *testing.T) {
	editcap, err := exec.LookPath("editcap")
	if err != nil {
		t.Skip("editcap not installed (apt-get install tshark)")
	}
	src := "../../testdata/captures/host-6.18/host-eth.pcap"
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	// 14 Ethernet + 20 IPv4 + 20 TCP + 10 bytes of options.
	if out, err := exec.Command(editcap, "-s", "64", src, cut).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v: %s", err, out)
	}
	r := analyzeJSON(t, cut)
	truncated := 0
	for _, s := range r.Servers {
		truncated += s.Truncated
		if s.Truncated > 0 && !strings.Contains(strings.Join(s.Hints, " "), "snaplen cut") {
			t.Errorf("%s: %d truncated attempts but no hint: %v", s.Server, s.Truncated, s.Hints)
		}
		if s.Outcomes[analyze.Granted]+s.Outcomes[analyze.Omitted] > 0 {
			t.Errorf("%s: judged attempts from cut options: %v", s.Server, s.Outcomes)
		}
	}
	full := analyzeJSON(t, src)
	// IPv4 attempts are cut; IPv6 ones (40-byte header) lose even the flags
	// and are skipped with a warning; refused and unanswered stay judged.
	if truncated == 0 {
		t.Errorf("no attempt counted as truncated; full capture has %d attempts", full.Totals.Attempts)
	}
}
