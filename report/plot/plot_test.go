package plot

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
)

// rows are two servers over ten seconds: one that grants for five seconds
// and then omits, and one that never asks for a cookie that decides.
func rows() []Row {
	start := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC).UnixNano()
	var changing, other analyze.Timeline
	for s := range 10 {
		class := analyze.ClassGrants
		if s >= 5 {
			class = analyze.ClassOmits
		}
		changing.Add(start+int64(s)*int64(time.Second), class)
	}
	other.Add(start+int64(3*time.Second), analyze.ClassOther)
	return []Row{
		{Title: "192.0.2.2:80 mixed", Timeline: changing, Marks: []Mark{{At: start + int64(4500*time.Millisecond), Label: "first omission"}}},
		{Title: "192.0.2.3:80 inconclusive", Timeline: other},
	}
}

func TestWritePNG(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "png", "caption", rows()); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 300 {
		t.Errorf("picture is %dx%d: too small to read in an issue", b.Dx(), b.Dy())
	}
	seen := coloursIn(img)
	for class := range analyze.NumClasses {
		k := classColours[class]
		if n := seen[[4]uint8{k.R, k.G, k.B, k.A}]; n < 50 {
			t.Errorf("%s bars: %d pixels of %s, want a visible bar", class, n, Colour(class))
		}
	}
}

// coloursIn counts the pixels of each opaque colour.
func coloursIn(img image.Image) map[[4]uint8]int {
	seen := map[[4]uint8]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}]++
		}
	}
	return seen
}

func TestWriteSVG(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "svg", "caption <&>", rows()); err != nil {
		t.Fatal(err)
	}
	svg := strings.ToLower(buf.String())
	// The changing server's bars: ten seconds in 64 buckets are ten bars,
	// five of each colour; the other server has one.
	for class, want := range map[analyze.Class]int{analyze.ClassGrants: 5, analyze.ClassOmits: 5, analyze.ClassOther: 1} {
		if got := strings.Count(svg, "fill:"+Colour(class)); got != want {
			t.Errorf("%s: %d bars, want %d", class, got, want)
		}
	}
	if !strings.Contains(svg, "first omission") || !strings.Contains(svg, "stroke-dasharray") {
		t.Error("the change mark (a dashed line and its label) is missing")
	}
	if !strings.Contains(svg, "caption &lt;&amp;&gt;") {
		t.Error("caption text is not escaped")
	}
}

func TestWriteEmptyAndUnknown(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "svg", "nothing", nil); err != nil || !strings.Contains(buf.String(), "no TFO attempt") {
		t.Errorf("empty picture: %v", err)
	}
	if err := Write(&buf, "gif", "x", rows()); err == nil || !strings.Contains(err.Error(), "png or svg") {
		t.Errorf("gif: %v, want an error naming png and svg", err)
	}
}

func TestIntegerTicks(t *testing.T) {
	for _, tt := range []struct {
		hi   float64
		want string
	}{
		{1, "0 1"},
		{1.3, "0 1"}, // headroom for a change label
		{4, "0 1 2 3 4"},
		{7, "0 2 4 6"},
		{23, "0 5 10 15 20"},
		{130, "0 50 100"},
		{1e6, "0 200000 400000 600000 800000 1000000"},
	} {
		var got []string
		for _, tick := range (integerTicks{}).Ticks(0, tt.hi) {
			got = append(got, tick.label)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("ticks to %v: %v, want %s", tt.hi, got, tt.want)
		}
	}
}

// TestWriteHostileTimes: a capture whose clock jumps (a frame stamped
// 1970 among 2026 ones, one before the epoch) still draws, in wide bars.
func TestWriteHostileTimes(t *testing.T) {
	var tl analyze.Timeline
	for _, ns := range []int64{0, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano(), -int64(time.Second), 1<<62 + 12345} {
		tl.Add(ns, analyze.ClassOmits)
	}
	if tl.Total() != 4 {
		t.Fatalf("total %d, want 4", tl.Total())
	}
	for _, format := range []string{"png", "svg"} {
		var buf bytes.Buffer
		if err := Write(&buf, format, "clock jumps", []Row{{Title: "x", Timeline: tl, Marks: []Mark{{At: 1, Label: "m"}}}}); err != nil || buf.Len() == 0 {
			t.Errorf("%s: %v", format, err)
		}
	}
}

func TestSecondsTicks(t *testing.T) {
	all := func([]string) bool { return true }
	for _, tt := range []struct {
		hi         float64
		fits       func([]string) bool
		want       string // the labels
		wantMinors int
	}{
		{1.68, all, "0.0 0.2 0.4 0.6 0.8 1.0 1.2 1.4 1.6", 8}, // change-6.18: halves of 0.2
		{10, all, "0 2 4 6 8 10", 5},                          // 0..10 by 1 are eleven labels
		{0.0005, all, "0.0000 0.0001 0.0002 0.0003 0.0004 0.0005", 20},
		{4.6e9, all, "0 500000000 1000000000 1500000000 2000000000 2500000000 3000000000 3500000000 4000000000 4500000000", 37},
		{1.68, func(l []string) bool { return len(l) <= 3 }, "0 1", 7}, // wide labels: fewer of them
		{0, all, "", 0},
	} {
		var labels []string
		minors := 0
		for _, tick := range secondsTicks(tt.hi, tt.fits) {
			if tick.label == "" {
				minors++
			} else {
				labels = append(labels, tick.label)
			}
		}
		if strings.Join(labels, " ") != tt.want || minors != tt.wantMinors {
			t.Errorf("ticks to %v: %v and %d minor, want %s and %d", tt.hi, labels, minors, tt.want, tt.wantMinors)
		}
	}
}

func TestThreeDigits(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		want string
	}{
		{33554432, "33.6ms"},
		{1 << 30, "1.07s"},
		{1 << 9, "512ns"},
		{1 << 10, "1.02µs"},
		{64 * time.Second, "1m4s"},
	} {
		if got := threeDigits(c.in).String(); got != c.want {
			t.Errorf("threeDigits(%d) = %s, want %s", int64(c.in), got, c.want)
		}
	}
}
