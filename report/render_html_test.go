package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
)

// hostileReport carries markup in every string a capture or a command
// line can put into a report.
func hostileReport() *Report {
	s := ServerReport{Server: "192.0.2.2:80", Verdict: analyze.Omits, Attempts: 1,
		Hints: []string{"<script>alert(1)</script>"}, HintIDs: []analyze.FindingID{analyze.FindOtherCauses}}
	s.Outcomes[analyze.Omitted] = 1
	s.Timeline.Add(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano(), analyze.ClassOmits)
	return &Report{
		Tool:     "tfopcap test",
		Inputs:   []InputReport{{Name: `"><img src=x onerror=alert(1)>.pcap`, Format: "pcap", Warnings: []string{"<b>cut</b>"}}},
		Servers:  []ServerReport{s},
		Findings: []FindingReport{{ID: analyze.FindNoTFOClients, Text: "a & b < c"}},
		Warnings: []string{"<iframe>"},
	}
}

func TestHTMLEscapesAndFetchesNothing(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, hostileReport(), "html", RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, raw := range []string{"<script>", "<img", "<b>cut", "<iframe>"} {
		if strings.Contains(page, raw) {
			t.Errorf("page holds unescaped %q", raw)
		}
	}
	for _, escaped := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "a &amp; b &lt; c", "&lt;iframe&gt;"} {
		if !strings.Contains(page, escaped) {
			t.Errorf("page lacks %q", escaped)
		}
	}
	// Self-contained: no attribute that loads anything, no URL but the
	// SVG namespaces.
	if m := regexp.MustCompile(`(?i)<[^>]*\s(src|href|xlink:href)\s*=|@import|url\(`).FindString(page); m != "" {
		t.Errorf("page loads something: %q", m)
	}
	urls := regexp.MustCompile(`https?://[^"' )]+`).FindAllString(page, -1)
	for _, u := range urls {
		if u != "http://www.w3.org/2000/svg" && u != "http://www.w3.org/1999/xlink" {
			t.Errorf("page names URL %s", u)
		}
	}
	if strings.Count(page, "<svg") != 1 || strings.Contains(page, "<?xml") {
		t.Error("want one inline <svg> without an XML prolog")
	}
}
