package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
)

func TestVerdictChange(t *testing.T) {
	// want[old][new], verdicts in the order inconclusive, grants, omits, mixed.
	want := [4][4]Change{
		analyze.Inconclusive: {Unchanged, Changed, Changed, Changed},
		analyze.Grants:       {Undecided, Unchanged, Regressed, Regressed},
		analyze.Omits:        {Changed, Improved, Unchanged, Improved},
		analyze.Mixed:        {Undecided, Improved, Regressed, Unchanged},
	}
	for o := range want {
		for n := range want[o] {
			if got := VerdictChange(analyze.Verdict(o), analyze.Verdict(n)); got != want[o][n] {
				t.Errorf("VerdictChange(%v, %v) = %v, want %v", analyze.Verdict(o), analyze.Verdict(n), got, want[o][n])
			}
		}
	}
}

// srv is a server in a diff test: its address and outcome counts; the
// verdict follows from the counts as in a real report.
func srv(addr string, counts map[analyze.Outcome]int) ServerReport {
	s := ServerReport{Server: addr, Hints: []string{}}
	for o, n := range counts {
		s.Outcomes[o] = n
	}
	s.Verdict = s.Outcomes.Verdict()
	s.Attempts = s.Outcomes.Total()
	return s
}

func rep(servers ...ServerReport) *Report {
	r := &Report{Schema: Schema, Tool: "tfopcap test", Inputs: []InputReport{}, Servers: servers, Attempts: []AttemptReport{}}
	for _, s := range servers {
		r.Totals.Attempts += s.Attempts
	}
	return r
}

func TestDiff(t *testing.T) {
	const a, b, c = "192.0.2.2:8001", "192.0.2.2:8002", "[2001:db8::2]:443"
	grants := map[analyze.Outcome]int{analyze.Granted: 3}
	omits := map[analyze.Outcome]int{analyze.Omitted: 3}
	mixed := map[analyze.Outcome]int{analyze.Granted: 1, analyze.Omitted: 2}
	none := map[analyze.Outcome]int{analyze.Plain: 2}
	tests := []struct {
		name      string
		old, new  *Report
		changes   map[string]Change
		regressed bool
		summary   DiffSummary
	}{
		{name: "grants to omits regresses",
			old: rep(srv(a, grants)), new: rep(srv(a, omits)),
			changes: map[string]Change{a: Regressed}, regressed: true, summary: DiffSummary{Regressed: 1}},
		{name: "grants to mixed regresses",
			old: rep(srv(a, grants)), new: rep(srv(a, mixed)),
			changes: map[string]Change{a: Regressed}, regressed: true, summary: DiffSummary{Regressed: 1}},
		{name: "mixed to omits regresses",
			old: rep(srv(a, mixed)), new: rep(srv(a, omits)),
			changes: map[string]Change{a: Regressed}, regressed: true, summary: DiffSummary{Regressed: 1}},
		{name: "omits to grants improves",
			old: rep(srv(a, omits)), new: rep(srv(a, grants)),
			changes: map[string]Change{a: Improved}, summary: DiffSummary{Improved: 1}},
		{name: "grants to inconclusive is undecided, not a regression",
			old: rep(srv(a, grants)), new: rep(srv(a, none)),
			changes: map[string]Change{a: Undecided}, summary: DiffSummary{Undecided: 1}},
		{name: "omits to inconclusive is a change",
			old: rep(srv(a, omits)), new: rep(srv(a, none)),
			changes: map[string]Change{a: Changed}, summary: DiffSummary{Changed: 1}},
		{name: "same verdict, other counts",
			old: rep(srv(a, grants)), new: rep(srv(a, map[analyze.Outcome]int{analyze.Granted: 5, analyze.Refused: 1})),
			changes: map[string]Change{a: Unchanged}, summary: DiffSummary{Unchanged: 1}},
		{name: "new and vanished servers",
			old: rep(srv(a, grants), srv(b, grants)), new: rep(srv(a, grants), srv(c, omits)),
			changes: map[string]Change{a: Unchanged, b: Vanished, c: New}, summary: DiffSummary{Unchanged: 1, New: 1, Vanished: 1}},
		{name: "one regression among many",
			old: rep(srv(a, omits), srv(b, grants), srv(c, mixed)), new: rep(srv(a, grants), srv(b, omits), srv(c, mixed)),
			changes: map[string]Change{a: Improved, b: Regressed, c: Unchanged}, regressed: true,
			summary: DiffSummary{Regressed: 1, Improved: 1, Unchanged: 1}},
		{name: "addresses match whatever their spelling",
			old: rep(srv("[2001:DB8::2]:443", grants)), new: rep(srv("[2001:db8:0::2]:443", omits)),
			changes: map[string]Change{c: Regressed}, regressed: true, summary: DiffSummary{Regressed: 1}},
		{name: "nil reports",
			old: nil, new: rep(srv(a, grants)),
			changes: map[string]Change{a: New}, summary: DiffSummary{New: 1}},
		{name: "both empty", old: rep(), new: rep(), changes: map[string]Change{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diff(tt.old, tt.new)
			if d.Schema != DiffSchema {
				t.Errorf("schema %q", d.Schema)
			}
			got := map[string]Change{}
			for _, s := range d.Servers {
				if _, dup := got[s.Server]; dup {
					t.Errorf("server %s listed twice", s.Server)
				}
				got[s.Server] = s.Change
			}
			if len(got) != len(tt.changes) {
				t.Errorf("changes = %v, want %v", got, tt.changes)
			}
			for addr, want := range tt.changes {
				if got[addr] != want {
					t.Errorf("%s: %v, want %v", addr, got[addr], want)
				}
			}
			if d.Regressed() != tt.regressed || d.Summary != tt.summary {
				t.Errorf("regressed %v, summary %+v; want %v, %+v", d.Regressed(), d.Summary, tt.regressed, tt.summary)
			}
		})
	}
}

func TestDiffOutcomeChanges(t *testing.T) {
	d := Diff(rep(srv("192.0.2.2:1", map[analyze.Outcome]int{analyze.Granted: 6, analyze.Plain: 1})),
		rep(srv("192.0.2.2:1", map[analyze.Outcome]int{analyze.Omitted: 6, analyze.Plain: 1})))
	want := []OutcomeChange{{analyze.Granted, 6, 0}, {analyze.Omitted, 0, 6}}
	if got := d.Servers[0].Outcomes; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("outcome changes = %+v, want %+v", got, want)
	}
	// A new server's counts all changed from nothing.
	d = Diff(rep(), rep(srv("192.0.2.2:1", map[analyze.Outcome]int{analyze.Granted: 2})))
	if got := d.Servers[0].Outcomes; len(got) != 1 || got[0] != (OutcomeChange{analyze.Granted, 0, 2}) {
		t.Errorf("new server's outcome changes = %+v", got)
	}
}

func TestDiffOrder(t *testing.T) {
	d := Diff(rep(srv("[::1]:80", nil), srv("not an address", nil), srv("192.0.2.10:80", nil)),
		rep(srv("192.0.2.9:443", nil), srv("192.0.2.9:80", nil)))
	var got []string
	for _, s := range d.Servers {
		got = append(got, s.Server)
	}
	want := "192.0.2.9:80 192.0.2.9:443 192.0.2.10:80 [::1]:80 not an address"
	if strings.Join(got, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(got, " "), want)
	}
}

// TestDiffJSON checks the diff's JSON contract: its schema string, the
// change and verdict names, null for the missing side, and that it reads
// back.
func TestDiffJSON(t *testing.T) {
	d := Diff(rep(srv("192.0.2.2:1", map[analyze.Outcome]int{analyze.Granted: 1})), rep(srv("192.0.2.2:2", map[analyze.Outcome]int{analyze.Omitted: 1})))
	var b bytes.Buffer
	if err := RenderDiff(&b, d, "json"); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["schema"] != "tfopcap.diff/v1" {
		t.Errorf("schema %v", m["schema"])
	}
	s0 := m["servers"].([]any)[0].(map[string]any)
	if s0["change"] != "vanished" || s0["new"] != nil || s0["old"].(map[string]any)["verdict"] != "grants" {
		t.Errorf("servers[0] = %v", s0)
	}
	var back DiffReport
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("diff JSON does not read back: %v", err)
	}
	if back.Servers[1].Change != New || back.Summary != d.Summary {
		t.Errorf("read back %+v", back)
	}
}

func TestRenderDiffHostile(t *testing.T) {
	old := rep(srv("192.0.2.2:1", map[analyze.Outcome]int{analyze.Granted: 1}))
	old.Inputs = []InputReport{{Name: "a|b`c\n<script>.pcap"}}
	new := rep(srv("192.0.2.2:1", map[analyze.Outcome]int{analyze.Omitted: 1}))
	new.Servers[0].Hints = []string{"line\none | two \x1b[31mred"}
	new.Tool = "tfopcap\x1b]0;pwned\x07"
	d := Diff(old, new)
	d.Old.Name, d.New.Name = "old.json", "new.json"
	var text, md bytes.Buffer
	if err := RenderDiff(&text, d, "text"); err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(text.Bytes(), "\x1b\x07") {
		t.Errorf("text output passes control characters through:\n%q", text.String())
	}
	if err := RenderDiff(&md, d, "markdown"); err != nil {
		t.Fatal(err)
	}
	checkMarkdownTables(t, md.String(), 2)
	if strings.Contains(md.String(), "<script>") {
		t.Errorf("markdown passes raw HTML through:\n%s", md.String())
	}
	if err := RenderDiff(&text, d, "yaml"); err == nil {
		t.Error("RenderDiff accepted format yaml")
	}
}

// FuzzDiff diffs two fuzzed reports and renders the diff in every format.
// The reports are decoded leniently (plain encoding/json, not ReadReport),
// so Diff also meets what ReadReport refuses: duplicate and malformed
// addresses, unknown verdicts, negative counts.
func FuzzDiff(f *testing.F) {
	lab := reportJSON(f, synthReport(f, 0, labScenarios...))
	other := reportJSON(f, synthReport(f, 0, labScenarios[1], labScenarios[3]))
	seeds := [][2]string{
		// two real reports
		{string(lab), string(other)},
		// the same report on both sides
		{string(lab), string(lab)},
		// empty objects
		{`{}`, `{}`},
		// a server listed twice, once misspelt
		{withServers(`[{"server":"192.0.2.2:1","verdict":"grants"},{"server":"192.0.2.2:01","verdict":"omits"}]`), minimalReport},
		// addresses that are no addresses, and markdown in them
		{withServers(`[{"server":"|` + "`" + `x"},{"server":""}]`), withServers(`[{"server":"<b>"}]`)},
		// negative and huge counts
		{withServers(`[{"server":"[::1]:1","attempts":-3,"outcomes":{"granted":-1}}]`), withServers(`[{"server":"[::1]:1","attempts":9223372036854775807,"outcomes":{"omitted":9223372036854775807}}]`)},
		// not JSON at all
		{"\x00", "{"},
	}
	for _, s := range seeds {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var old, new Report
		if json.Unmarshal(a, &old) != nil {
			return
		}
		if json.Unmarshal(b, &new) != nil {
			return
		}
		d := Diff(&old, &new)
		if n := d.Summary.Regressed + d.Summary.Improved + d.Summary.Changed + d.Summary.Unchanged + d.Summary.New + d.Summary.Vanished; n != len(d.Servers) {
			t.Fatalf("summary counts %d servers, diff lists %d", n, len(d.Servers))
		}
		seen := map[string]bool{}
		for _, s := range d.Servers {
			if seen[s.Server] {
				t.Fatalf("server %q listed twice", s.Server)
			}
			seen[s.Server] = true
			if (s.Old == nil) != (s.Change == New) || (s.New == nil) != (s.Change == Vanished) {
				t.Fatalf("server %q: change %v with old %v, new %v", s.Server, s.Change, s.Old, s.New)
			}
		}
		for _, format := range []string{"text", "json", "markdown"} {
			var out bytes.Buffer
			if err := RenderDiff(&out, d, format); err != nil {
				t.Fatalf("RenderDiff %s: %v", format, err)
			}
			if format == "markdown" {
				checkMarkdownTables(t, out.String(), -1)
			}
		}
	})
}

func TestSeries(t *testing.T) {
	const a = "192.0.2.2:8001"
	grants := srv(a, map[analyze.Outcome]int{analyze.Granted: 3})
	omits := srv(a, map[analyze.Outcome]int{analyze.Omitted: 3})
	none := srv(a, map[analyze.Outcome]int{analyze.Plain: 3})
	regressed := func(c Change) bool { return c == Regressed }
	strict := func(c Change) bool { return c == Regressed || c == Undecided || c == Vanished }
	tests := []struct {
		name     string
		reports  []*Report
		fail     func(Change) bool
		firstBad int // -1: none
		change   Change
	}{
		{"bad from the third", []*Report{rep(grants), rep(grants), rep(omits), rep(omits)}, regressed, 2, Regressed},
		{"bad, fixed, bad again: the first counts", []*Report{rep(grants), rep(omits), rep(grants), rep(omits)}, regressed, 1, Regressed},
		{"never bad", []*Report{rep(omits), rep(grants), rep(grants)}, regressed, -1, Improved},
		{"undecided is bad only when asked", []*Report{rep(grants), rep(none), rep(grants)}, regressed, -1, Unchanged},
		{"undecided when asked", []*Report{rep(grants), rep(none), rep(grants)}, strict, 1, Undecided},
		{"vanished when asked", []*Report{rep(grants), rep(grants), rep()}, strict, 2, Vanished},
		{"new servers are not compared until seen", []*Report{rep(), rep(), rep(grants)}, strict, -1, New},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Series(tt.reports, tt.fail)
			if len(s.Reports) != len(tt.reports) || len(s.Servers) != 1 {
				t.Fatalf("%d reports, servers %+v", len(s.Reports), s.Servers)
			}
			ss := s.Servers[0]
			got := -1
			if ss.FirstBad != nil {
				got = *ss.FirstBad
			}
			if got != tt.firstBad || ss.Change != tt.change {
				t.Errorf("first bad %d (%s), want %d (%s)", got, ss.Change, tt.firstBad, tt.change)
			}
			if len(s.Bad()) != map[bool]int{true: 1, false: 0}[tt.firstBad >= 0] {
				t.Errorf("Bad() = %v", s.Bad())
			}
		})
	}
}
