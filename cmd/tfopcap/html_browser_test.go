package main

import (
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/report"
	"github.com/tfopcap/tfopcap/report/plot"
)

// TestHTMLInChromium renders --output html in a real browser, Debian's
// headless Chromium (.ci/run installs it), and checks what the browser
// made of the page: the DOM it built (server rows, finding IDs, one bar
// per attempt in the inline SVG, the attempt rows) against the JSON report
// of the same pass, and a screenshot that shows the outcome colours.
func TestHTMLInChromium(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	page, jsonFile := filepath.Join(dir, "seed.html"), filepath.Join(dir, "seed.json")
	if code, _, stderr := runCmd("analyze", "-q", "--output", "html="+page, "--output", "json="+jsonFile,
		"../../testdata/captures/seed-6.1/seed.pcapng"); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, stderr)
	}
	var r report.Report
	if b, err := os.ReadFile(jsonFile); err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("json report: %v", err)
	}

	dom := browser.run(t, "--dump-dom", "file://"+page)
	rows := regexp.MustCompile(`<tr class="server" data-server="([^"]+)" data-verdict="([a-z]+)"`).FindAllStringSubmatch(dom, -1)
	if len(rows) != len(r.Servers) {
		t.Fatalf("the browser sees %d server rows, the report has %d servers", len(rows), len(r.Servers))
	}
	wantIDs := map[string]bool{}
	for i, s := range r.Servers {
		if rows[i][1] != s.Server || rows[i][2] != s.Verdict.String() {
			t.Errorf("row %d: %s %s, want %s %s", i, rows[i][1], rows[i][2], s.Server, s.Verdict)
		}
		for _, id := range s.HintIDs {
			wantIDs[string(id)] = true
		}
	}
	for id := range wantIDs {
		if !strings.Contains(dom, `<li class="finding" data-id="`+id+`">`) {
			t.Errorf("finding %s is not in the page", id)
		}
	}
	// seed.pcapng's attempts are further apart than a bar is wide: one
	// bar per TFO attempt, in the colour of its outcome.
	svg := strings.ToLower(between(t, dom, `<figure id="timeline">`, `</figure>`))
	for class, want := range map[analyze.Class]int{
		analyze.ClassGrants: r.Totals.Outcomes[analyze.Granted] + r.Totals.Outcomes[analyze.Accepted] + r.Totals.Outcomes[analyze.Renewed],
		analyze.ClassOmits:  r.Totals.Outcomes[analyze.Omitted] + r.Totals.Outcomes[analyze.Rejected],
	} {
		if got := strings.Count(svg, "fill:"+plot.Colour(class)); got != want || want == 0 {
			t.Errorf("%s: %d bars in the browser's SVG, want %d", class, got, want)
		}
	}
	if got := strings.Count(dom, `<tr class="attempt"`); got != len(r.Attempts) {
		t.Errorf("%d attempt rows, want %d", got, len(r.Attempts))
	}

	shot := filepath.Join(dir, "shot.png")
	browser.run(t, "--screenshot="+shot, "--window-size=1280,2600", "file://"+page)
	img := decodePNG(t, shot)
	for _, class := range []analyze.Class{analyze.ClassGrants, analyze.ClassOmits} {
		if n := pixelsNear(img, plot.Colour(class)); n < 500 {
			t.Errorf("the screenshot has %d pixels of %s (%s): the timeline did not render", n, plot.Colour(class), class)
		}
	}
}

// browser is a headless Chromium that touches nothing but its own
// profile and the file it is given.
type browser struct{ path string }

func chromium(t *testing.T) browser {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return browser{p}
		}
	}
	t.Skip("chromium not installed (apt-get install chromium): cannot check the HTML report in a browser")
	return browser{}
}

func (b browser) run(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, b.path, append(flags, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

func between(t *testing.T, s, start, end string) string {
	t.Helper()
	_, rest, ok := strings.Cut(s, start)
	inner, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("the page has no %s...%s", start, end)
	}
	return inner
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// pixelsNear counts the pixels within a few levels of colour #rrggbb: a
// browser's colour handling may shift a level.
func pixelsNear(img image.Image, hex string) int {
	var want [3]int
	for i := range want {
		var v int
		for _, c := range hex[1+2*i : 3+2*i] {
			v = v*16 + strings.IndexRune("0123456789abcdef", c)
		}
		want[i] = v
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			got := [3]int{int(r >> 8), int(g >> 8), int(bl >> 8)}
			near := true
			for i := range got {
				if d := got[i] - want[i]; d > 3 || d < -3 {
					near = false
				}
			}
			if near {
				n++
			}
		}
	}
	return n
}
