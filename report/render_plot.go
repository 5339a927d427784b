package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

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
// "192.0.2.2:8001 mixed: grants 5, omits 7, other 1" (a count after each
// class, so that one attempt reads as well as many).
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
	return fmt.Sprintf("%s %s: grants %d, omits %d, other %d", name, s.Verdict, n[analyze.ClassGrants], n[analyze.ClassOmits], n[analyze.ClassOther])
}

// changeMarks mark where a server's outcomes changed (servers[].change):
// a line halfway between the SYNs of the last attempt before the first
// switch and the first after it (the bars count SYN times, and the change
// happened somewhere between), labelled with the replies that decided.
func changeMarks(s *ServerReport) []plot.Mark {
	c := s.Change
	if c == nil || c.Before == nil || c.After == nil {
		return nil
	}
	before, err1 := time.Parse(time.RFC3339Nano, c.Before.SYNTime)
	after, err2 := time.Parse(time.RFC3339Nano, c.After.SYNTime)
	if err1 != nil || err2 != nil {
		return nil
	}
	at := before.Add(after.Sub(before) / 2)
	label := strings.ReplaceAll(c.Kind, "-", " ")
	if c.Kind == analyze.Interleaved.String() {
		label = fmt.Sprintf("first of %d switches", c.Switches)
	}
	label += fmt.Sprintf(": %s %d:%d, %s %d:%d", decisionWord("last", c.Before), c.Before.Input, c.Before.Frame,
		decisionWord("first", c.After), c.After.Input, c.After.Frame)
	return []plot.Mark{{At: at.UnixNano(), Label: label}}
}

// decisionWord is "last grant" or "first omission".
func decisionWord(which string, d *DecisionReport) string {
	if d.Outcome.Grants() {
		return which + " grant"
	}
	return which + " omission"
}
