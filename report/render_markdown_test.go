package report

import (
	"bytes"
	"html"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/internal/scenario"
)

// markdownTables finds the GFM tables in md and returns each one's body row
// count, failing t when a row's cell count differs from its header's (a
// stray pipe or line break in a cell does that). Cells split at pipes not
// escaped by a backslash, code spans included, as GitHub splits them.
func markdownTables(t testing.TB, md string) []int {
	t.Helper()
	var tables []int
	lines := strings.Split(md, "\n")
	for i := 0; i+1 < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "|") || !strings.HasPrefix(lines[i+1], "|-") && !strings.HasPrefix(lines[i+1], "|:") && !strings.HasPrefix(lines[i+1], "|---:") {
			continue
		}
		want := cells(lines[i])
		if got := cells(lines[i+1]); got != want {
			t.Errorf("table at line %d: delimiter row has %d cells, header %d", i+1, got, want)
		}
		rows := 0
		for i += 2; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
			if got := cells(lines[i]); got != want {
				t.Errorf("table row at line %d has %d cells, header %d:\n%s", i+1, got, want, lines[i])
			}
			rows++
		}
		tables = append(tables, rows)
	}
	return tables
}

// cells counts the cells of a table row that starts and ends with a pipe.
func cells(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}

// checkMarkdownTables checks every table's shape and, when want >= 0, that
// md has want tables.
func checkMarkdownTables(t testing.TB, md string, want int) {
	t.Helper()
	if got := markdownTables(t, md); want >= 0 && len(got) != want {
		t.Errorf("%d tables, want %d:\n%s", len(got), want, md)
	}
}

// pandocHTML renders GitHub-flavoured markdown to HTML with pandoc, or
// skips the test when pandoc is not installed (apt-get install pandoc).
func pandocHTML(t *testing.T, md string) string {
	t.Helper()
	path, err := exec.LookPath("pandoc")
	if err != nil {
		t.Skip("pandoc not installed: cannot check that the markdown renders")
	}
	cmd := exec.Command(path, "--from", "gfm", "--to", "html", "--wrap=none")
	cmd.Stdin = strings.NewReader(md)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pandoc: %v", err)
	}
	return string(out)
}

var (
	tableRE = regexp.MustCompile(`(?s)<table>.*?</table>`)
	rowRE   = regexp.MustCompile(`<tr[ >]`)
	tagRE   = regexp.MustCompile(`<[^>]*>`)
)

// htmlTables returns the row count (header included) of each table in h.
func htmlTables(h string) []int {
	var rows []int
	for _, tbl := range tableRE.FindAllString(h, -1) {
		rows = append(rows, len(rowRE.FindAllString(tbl, -1)))
	}
	return rows
}

// htmlText is h's text without tags, unescaped.
func htmlText(h string) string { return html.UnescapeString(tagRE.ReplaceAllString(h, "")) }

// markdownLab is the lab report with a hostile input name and warning.
func markdownLab(t testing.TB, opts RenderOptions) (*Report, string) {
	t.Helper()
	r := synthReport(t, 0, labScenarios...)
	r.Inputs[0].Name = "run|1 `x` <b>*bold*</b>.pcap"
	r.Inputs[0].Warnings = []string{"3 packet(s) of | unsupported\nlink type skipped"}
	var b bytes.Buffer
	if err := Render(&b, r, "markdown", opts); err != nil {
		t.Fatal(err)
	}
	return r, b.String()
}

func TestRenderMarkdownTables(t *testing.T) {
	_, md := markdownLab(t, RenderOptions{})
	// inputs 1, servers 4; evidence: 8002 omits 6+1 -> first 5; 8003 mixed:
	// 2 omitting + the first granting.
	want := []int{1, 4, 5, 3}
	if got := markdownTables(t, md); !equalInts(got, want) {
		t.Errorf("table body rows %v, want %v:\n%s", got, want, md)
	}
	for _, s := range []string{
		"### TCP Fast Open report (tfopcap test)",
		"#### `192.0.2.2:8002` omits",
		"Evidence (input:frame, numbered from 1 as in Wireshark): the first 5 of 7 attempts that omitted or were rejected.",
		"#### `192.0.2.2:8003` mixed",
		"all 2 attempts that omitted or were rejected, and the first of 2 that were granted, accepted or renewed.",
		"| 0:23 | 16:00:55.000000 | `192.0.2.1:40200` | `192.0.2.2:8003` | request (kind 34) | 0:24 | 1.000 ms | syn-ack cookie 0102030405060708 | granted |",
		"| 0:29 | 16:01:10.000000 | `192.0.2.1:40203` | `192.0.2.2:8003` | cookie 0102030405060708 (kind 34), data 11 | 0:30 | 1.000 ms | syn-ack no-TFO | rejected |",
		"| 2025-11-24T16:00:00Z | 2025-11-24T16:01:56.001Z | 1m56.001s |",
		// A granting server gets a section only for its hints.
		"#### `192.0.2.2:8001` grants\n\n- [kind-alternation] Clients alternated TFO option kinds 34 and 254",
	} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, md)
		}
	}

	_, all := markdownLab(t, RenderOptions{Attempts: true})
	if got := markdownTables(t, all); len(got) != 5 || got[4] != 22 {
		t.Errorf("with --attempts: table rows %v, want a last table of 22 attempts (the truncated one is left out)", got)
	}
}

// TestRenderMarkdownPandoc renders the markdown as GitHub would (pandoc's
// gfm reader) and checks the HTML: the tables are tables with the right
// rows, and hostile text in cells shows as itself.
func TestRenderMarkdownPandoc(t *testing.T) {
	_, md := markdownLab(t, RenderOptions{Attempts: true})
	h := pandocHTML(t, md)
	// Header row + body rows: inputs 1, servers 4, evidence 5 and 3, all 22.
	want := []int{2, 5, 6, 4, 23}
	if got := htmlTables(h); !equalInts(got, want) {
		t.Errorf("HTML tables have %v rows, want %v:\n%s", got, want, h)
	}
	text := htmlText(h)
	for _, s := range []string{
		"run|1 `x` <b>*bold*</b>.pcap",
		"3 packet(s) of | unsupported link type skipped",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("rendered text lacks %q:\n%s", s, text)
		}
	}
	if strings.Contains(h, "<b>") || strings.Contains(h, "<em>bold") {
		t.Errorf("markup in an input name was rendered:\n%s", h)
	}
	if !strings.Contains(h, "<code>ss -Mlt</code>") && !strings.Contains(h, "MPTCP (kind 30)") {
		t.Errorf("hints lost:\n%s", h)
	}
}

func TestRenderDiffMarkdownPandoc(t *testing.T) {
	old := synthReport(t, 0, labScenarios...)
	new := synthReport(t, 0,
		scenario.Scenario{Server: "192.0.2.2:8001", Outcomes: []string{"omitted-mptcp", "omitted-mptcp"}},
		labScenarios[1], labScenarios[2],
		scenario.Scenario{Server: "192.0.2.2:9000", Outcomes: []string{"granted"}})
	d := Diff(old, new)
	d.Tool, d.Old.Name, d.New.Name = "tfopcap test", "old|`1`.json", "new.json"
	var b bytes.Buffer
	if err := RenderDiff(&b, d, "markdown"); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if got := markdownTables(t, md); !equalInts(got, []int{2, 5}) {
		t.Errorf("table body rows %v, want [2 5]:\n%s", got, md)
	}
	h := pandocHTML(t, md)
	if got := htmlTables(h); !equalInts(got, []int{3, 6}) {
		t.Errorf("HTML tables have %v rows, want [3 6]:\n%s", got, h)
	}
	text := htmlText(h)
	for _, s := range []string{"old|`1`.json", "grants → omits", "regressed", "granted 3 → 0, omitted 0 → 2, accepted 1 → 0", "- → 2/2"} {
		if !strings.Contains(text, s) {
			t.Errorf("rendered diff lacks %q:\n%s", s, text)
		}
	}
}

func TestMarkdownEscape(t *testing.T) {
	tests := []struct{ fn, in, want string }{
		{"text", "a|b", `a\|b`},
		{"text", "x`y`", "x\\`y\\`"},
		{"text", "<b>&amp;", `\<b\>\&amp;`},
		{"text", "a\r\nb\nc", "a b c"},
		{"text", `back\slash`, `back\\slash`},
		{"code", "192.0.2.1:80", "`192.0.2.1:80`"},
		{"code", "a|b", "`a\\|b`"},
		{"code", "a`b", "``a`b``"},
		{"code", "`a", "`` `a ``"},
		{"code", `a\|b`, `a\\\|b`},
		{"code", "", "-"},
	}
	for _, tt := range tests {
		f := mdText
		if tt.fn == "code" {
			f = mdCode
		}
		if got := f(tt.in); got != tt.want {
			t.Errorf("md%s(%q) = %q, want %q", tt.fn, tt.in, got, tt.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPathText checks the path line of attempts seen at several places,
// and that attempts seen at one place get none.
func TestPathText(t *testing.T) {
	at := func(input, ifindex, frame, send int, tfo string) SightingReport {
		return SightingReport{Input: input, IfIndex: ifindex, Frame: frame, Send: send, TFO: tfo}
	}
	for _, tc := range []struct {
		name string
		a    AttemptReport
		want string
	}{
		{"seen once", AttemptReport{SYN: SYNReport{Frame: 1, TFO: "request"}, Reply: &ReplyReport{Frame: 2, Kind: "syn-ack"}}, ""},
		{"retransmitted at one place", AttemptReport{SYN: SYNReport{Frame: 1, TFO: "request",
			Seen: []SightingReport{at(0, 0, 1, 0, "request"), at(0, 0, 5, 1, "none")}}}, ""},
		{"stripped between two interfaces", AttemptReport{
			SYN:   SYNReport{Frame: 1, TFO: "request", Seen: []SightingReport{at(0, 2, 1, 0, "request"), at(0, 3, 2, 0, "none")}},
			Reply: &ReplyReport{Frame: 3, Kind: "syn-ack", TFO: "none", Seen: []SightingReport{at(0, 3, 3, 0, "none"), at(0, 2, 4, 0, "none")}}},
			"path: SYN 0:1 (ifindex 2), 0:2 (ifindex 3) no-TFO | SYN-ACK 0:3 (ifindex 3), 0:4 (ifindex 2)"},
		{"syn once, reply in two files, behind a nat", AttemptReport{Input: 1, SYN: SYNReport{Frame: 7, TFO: "cookie"},
			Reply:     &ReplyReport{Frame: 3, Kind: "syn-ack", TFO: "none", Seen: []SightingReport{at(0, 0, 3, 0, "none"), at(1, 0, 9, 0, "none")}},
			Rewritten: &RewrittenReport{Client: "198.51.100.1:20000", Server: "192.0.2.2:80"}},
			"path: SYN 1:7 | SYN-ACK 0:3, 1:9 | NAT: also seen as 198.51.100.1:20000 > 192.0.2.2:80"},
	} {
		if got := pathText(&tc.a); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
