package report

import (
	"bytes"
	"cmp"
	_ "embed"
	"html/template"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/report/plot"
)

// The page is one self-contained file: inline CSS, the timeline as inline
// SVG, no script and no URL it would fetch. html/template escapes
// everything that comes from the capture.
//
//go:embed render_html.tmpl
var htmlSource string

// htmlPage parses the page on first use, not at start-up: every run of
// tfopcap would pay 1000 allocations and 0.3-0.5 ms for it otherwise.
var htmlPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{
		"outcomes": func(c analyze.OutcomeCounts) string { return outcomeSummary(&c) },
		"mptcp":    mptcpSummary,
		"attempt":  func(a AttemptReport) string { return attemptLine(&a) },
		"colour":   func(c analyze.Class) template.CSS { return template.CSS(plot.Colour(c)) },
		"class":    func(o analyze.Outcome) string { return analyze.ClassOf(o).String() },
		"change":   changeSentence,
	}).Parse(htmlSource))
})

// htmlData is what the template shows.
type htmlData struct {
	*Report
	Hints    []htmlHint
	Changes  []ServerReport // the servers whose outcomes changed
	Timeline template.HTML
	Classes  []analyze.Class
	// Grants and Omits colour the verdicts as the bars.
	Grants, Omits analyze.Class
}

// htmlHint is a server finding with every server it concerns, shown once.
type htmlHint struct {
	ID      analyze.FindingID
	Text    string
	Servers []string
}

func renderHTML(w io.Writer, r *Report) error {
	var svg bytes.Buffer
	if err := WritePlot(&svg, r, "svg"); err != nil {
		return err
	}
	var changed []ServerReport
	for _, s := range r.Servers {
		if s.Change != nil {
			changed = append(changed, s)
		}
	}
	data := htmlData{Report: r, Hints: serverHints(r), Changes: changed,
		Timeline: template.HTML(inlineSVG(svg.String())), // drawn by us; its text is escaped by vgsvg
		Classes:  []analyze.Class{analyze.ClassGrants, analyze.ClassOmits, analyze.ClassOther},
		Grants:   analyze.ClassGrants, Omits: analyze.ClassOmits}
	return htmlPage().Execute(w, data)
}

// inlineSVG drops the XML prolog and comment that start a standalone SVG
// file: inside HTML the <svg> element stands alone.
func inlineSVG(doc string) string {
	if i := strings.Index(doc, "<svg"); i >= 0 {
		return doc[i:]
	}
	return doc
}

// serverHints gathers the server findings as the text report does: each
// once, with its servers, causes of failure first.
func serverHints(r *Report) []htmlHint {
	var hints []htmlHint
	index := map[[2]string]int{}
	for _, s := range r.Servers {
		for i, text := range s.Hints {
			var id analyze.FindingID
			if i < len(s.HintIDs) {
				id = s.HintIDs[i]
			}
			key := [2]string{string(id), text}
			k, ok := index[key]
			if !ok {
				k = len(hints)
				index[key] = k
				hints = append(hints, htmlHint{ID: id, Text: text})
			}
			hints[k].Servers = append(hints[k].Servers, s.Server+" ("+s.Verdict.String()+")")
		}
	}
	slices.SortStableFunc(hints, func(a, b htmlHint) int { return cmp.Compare(a.ID.Rank(), b.ID.Rank()) })
	return hints
}
