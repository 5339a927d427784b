package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/report/plot"
)

// PlotServers is how many servers the timeline picture shows: those with
// the most TFO attempts. More rows would not read at a glance.
const PlotServers = 8

// WritePlot draws the timeline picture of r in format "png" or "svg".
func WritePlot(w io.Writer, r *Report, format string) error {
	caption, rows := plotRows(r)
	return plot.Write(w, format, caption, rows)
}

// plotRows picks the servers to draw, the most TFO attempts first (ties
// by address, as the report lists them), and says in the caption how many
// it leaves out.
func plotRows(r *Report) (string, []plot.Row) {
	var drawn []*ServerReport
	for i := range r.Servers {
		if r.Servers[i].Timeline.Total() > 0 {
			drawn = append(drawn, &r.Servers[i])
		}
	}
	slices.SortStableFunc(drawn, func(a, b *ServerReport) int {
		return cmp.Compare(b.Timeline.Total(), a.Timeline.Total())
	})
	caption := "TFO attempts over time, per server"
	if len(drawn) > PlotServers {
		caption = fmt.Sprintf("TFO attempts over time: the %d of %d servers with the most", PlotServers, len(drawn))
		drawn = drawn[:PlotServers]
	}
	caption += " (green grants, red omits, grey other)"
	rows := make([]plot.Row, len(drawn))
	for i, s := range drawn {
		rows[i] = plot.Row{Title: plotTitle(s), Timeline: s.Timeline, Marks: changeMarks(s)}
	}
	return caption, rows
}

// plotTitle heads a server's row with the counts its bars add up to:
// "192.0.2.2:8001 mixed: 5 grants, 7 omits, 1 other".
func plotTitle(s *ServerReport) string {
	var n [analyze.NumClasses]int
	for _, bucket := range s.Timeline.Counts {
		for c, count := range bucket {
			n[c] += int(count)
		}
	}
	name := s.Server
	if s.Aggregated > 0 {
		name = fmt.Sprintf("%s (%d servers)", s.Server, s.Aggregated)
	}
	return fmt.Sprintf("%s %s: %d grants, %d omits, %d other", name, s.Verdict, n[analyze.ClassGrants], n[analyze.ClassOmits], n[analyze.ClassOther])
}

// changeMarks are the moments a server's row marks: where its outcomes
// changed (servers[].change).
func changeMarks(s *ServerReport) []plot.Mark {
	return nil // the hook for servers[].change (issue 16a)
}
