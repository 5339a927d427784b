package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

// TestChangeInHTMLAndPlot: on the real capture of a listener restarted
// without TFO (testdata/captures/change-6.18), the page the browser builds
// names the change with the frames of the JSON report's servers[].change,
// its timeline marks it, and the PNG shows the mark between the last
// green bar and the first red one.
func TestChangeInHTMLAndPlot(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	page, jsonFile, pic := filepath.Join(dir, "change.html"), filepath.Join(dir, "change.json"), filepath.Join(dir, "change.png")
	if code, _, stderr := runCmd("analyze", "-q", "--output", "html="+page, "--output", "json="+jsonFile, "--plot", pic,
		"../../testdata/captures/change-6.18/change.pcap"); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, stderr)
	}
	var r report.Report
	if b, err := os.ReadFile(jsonFile); err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("json report: %v", err)
	}
	var c *report.ChangeReport
	for _, s := range r.Servers {
		if s.Change != nil {
			c = s.Change
		}
	}
	if c == nil || c.Kind != "stopped-granting" || c.Before == nil || c.After == nil {
		t.Fatalf("the JSON report has no stopped-granting change: %+v", c)
	}
	before, after := fmt.Sprintf("%d:%d", c.Before.Input, c.Before.Frame), fmt.Sprintf("%d:%d", c.After.Input, c.After.Frame)

	dom := browser.run(t, "--dump-dom", "file://"+page)
	item := between(t, dom, `<li class="change" data-server="10.77.0.1:8001" data-kind="stopped-granting">`, "</li>")
	if !strings.Contains(item, "last grant (accepted) "+before) || !strings.Contains(item, "first omission (rejected) "+after) {
		t.Errorf("change item %q lacks frames %s and %s", item, before, after)
	}
	svg := between(t, dom, `<figure id="timeline">`, `</figure>`)
	if label := "stopped granting: last grant " + before + ", first omission " + after; !strings.Contains(svg, label) || !strings.Contains(svg, "stroke-dasharray") {
		t.Errorf("the timeline lacks the dashed mark labelled %q", label)
	}

	img := decodePNG(t, pic)
	lastGreen, firstRed := columnsOf(img, plot.Colour(analyze.ClassGrants), plot.Colour(analyze.ClassOmits))
	if lastGreen < 0 || firstRed <= lastGreen {
		t.Fatalf("PNG: last green column %d, first red %d: want green bars before red ones", lastGreen, firstRed)
	}
	if x := darkColumn(img, lastGreen, firstRed); x < 0 {
		t.Errorf("PNG: no dashed mark between the last green bar (x=%d) and the first red one (x=%d)", lastGreen, firstRed)
	}
}

// columnsOf returns the last column holding colour a and the first
// holding colour b, in the picture's top row of plots.
func columnsOf(img image.Image, a, b string) (lastA, firstB int) {
	lastA, firstB = -1, -1
	bounds := img.Bounds()
	top := bounds.Min.Y + bounds.Dy()/2 // the first of two rows
	for x := bounds.Min.X; x < bounds.Max.X; x++ {
		for y := bounds.Min.Y; y < top; y++ {
			switch {
			case near(img, x, y, a):
				lastA = x
			case firstB < 0 && near(img, x, y, b):
				firstB = x
			}
		}
	}
	return lastA, firstB
}

// darkColumn returns a column strictly between x0 and x1 with at least 20
// near-black pixels in the top row of plots (a dashed line), or -1.
func darkColumn(img image.Image, x0, x1 int) int {
	bounds := img.Bounds()
	for x := x0 + 1; x < x1; x++ {
		dark := 0
		for y := bounds.Min.Y; y < bounds.Min.Y+bounds.Dy()/2; y++ {
			if near(img, x, y, "#000000") {
				dark++
			}
		}
		if dark >= 20 {
			return x
		}
	}
	return -1
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

// pixelsNear counts the pixels near colour #rrggbb.
func pixelsNear(img image.Image, hex string) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(img, x, y, hex) {
				n++
			}
		}
	}
	return n
}

// near reports whether the pixel at x, y is within a few levels of colour
// #rrggbb: a browser's colour handling may shift a level.
func near(img image.Image, x, y int, hex string) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	got := [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
	for i := range got {
		want, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if d := got[i] - int(want); d > 3 || d < -3 {
			return false
		}
	}
	return true
}
