package synth

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
)

func small(t *testing.T, profile string) Config {
	t.Helper()
	cfg, ok := Profile(profile)
	if !ok {
		t.Fatalf("no profile %q", profile)
	}
	cfg.Size = 2 << 20
	return cfg
}

func TestDeterministic(t *testing.T) {
	for _, p := range []string{"bulk", "handshake"} {
		var a, b bytes.Buffer
		ea, err := Generate(&a, small(t, p))
		if err != nil {
			t.Fatal(err)
		}
		eb, err := Generate(&b, small(t, p))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) || ea.Attempts != eb.Attempts {
			t.Errorf("%s: two runs with one seed differ", p)
		}
		if int64(a.Len()) != ea.Bytes {
			t.Errorf("%s: expectation says %d bytes, wrote %d", p, ea.Bytes, a.Len())
		}
	}
}

// TestFramesDecode reads a capture back with tfopcap's own reader and
// decoder: every frame is TCP, and the SYN/RST count is the expectation's.
func TestFramesDecode(t *testing.T) {
	var buf bytes.Buffer
	cfg := small(t, "handshake")
	cfg.MPTCP, cfg.V6 = 0.3, 0.3
	exp, err := Generate(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := capture.NewFileReader("synth", &buf)
	if err != nil {
		t.Fatal(err)
	}
	var f capture.Frame
	var seg analyze.Segment
	var packets, syns, tfo int64
	for {
		err := r.Next(&f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		packets++
		if st := analyze.Decode(f.LinkType, f.Data, f.OrigLen, &seg); st != analyze.DecodedTCP {
			t.Fatalf("frame %d: %v", f.Number, st)
		}
		if seg.Flags&(analyze.FlagSYN|analyze.FlagRST) != 0 {
			syns++
			if seg.Options.Stop != analyze.WalkEnd {
				t.Fatalf("frame %d: option walk stopped: %v", f.Number, seg.Options.Stop)
			}
			if seg.IsSYN() && seg.Options.TFO.State != analyze.TFONone {
				tfo++
			}
		}
	}
	if packets != exp.Packets || syns != exp.SYNs {
		t.Errorf("read %d packets, %d SYN/RST; expectation says %d, %d", packets, syns, exp.Packets, exp.SYNs)
	}
	if tfo < int64(exp.TFO) {
		t.Errorf("%d SYNs with TFO, fewer than the %d TFO attempts", tfo, exp.TFO)
	}
}

func TestParseMix(t *testing.T) {
	for _, bad := range []string{"", "plain", "bogus=1", "plain=-1", "plain=0", "plain=x"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
	if _, err := ParseMix("plain=1,granted=2.5"); err != nil {
		t.Error(err)
	}
}
