package report

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
)

// TestPlotRowsTopN: the picture shows the servers with the most TFO
// attempts, most first, and says how many it leaves out.
func TestPlotRowsTopN(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	r := &Report{}
	for i := range PlotServers + 3 {
		s := ServerReport{Server: fmt.Sprintf("192.0.2.%d:80", i+1), Verdict: analyze.Omits}
		for k := range i { // server i has i attempts: the first has none to draw
			s.Timeline.Add(start+int64(k)*int64(time.Second), analyze.ClassOmits)
		}
		s.Outcomes[analyze.Omitted] = i
		r.Servers = append(r.Servers, s)
	}
	caption, rows := plotRows(r)
	if len(rows) != PlotServers {
		t.Fatalf("%d rows, want %d", len(rows), PlotServers)
	}
	if want := fmt.Sprintf("the %d of %d servers", PlotServers, PlotServers+2); !strings.Contains(caption, want) {
		t.Errorf("caption %q does not say %q", caption, want)
	}
	if !strings.HasPrefix(rows[0].Title, "192.0.2.11:80 omits: grants 0, omits 10") {
		t.Errorf("first row %q, want the server with the most attempts", rows[0].Title)
	}
	if last := rows[len(rows)-1].Title; !strings.HasPrefix(last, "192.0.2.4:80 ") {
		t.Errorf("last row %q, want 192.0.2.4:80", last)
	}
}

// TestChangeMarks: the change point is drawn halfway between the SYNs on
// either side of the first switch, labelled with the deciding replies.
func TestChangeMarks(t *testing.T) {
	before := &DecisionReport{Outcome: analyze.Accepted, Input: 0, Frame: 52, SYNFrame: 51, SYNTime: "2026-12-01T23:05:22.611671Z"}
	after := &DecisionReport{Outcome: analyze.Rejected, Input: 1, Frame: 62, SYNInput: 1, SYNFrame: 61, SYNTime: "2026-12-01T23:05:22.859671Z"}
	tests := []struct {
		change *ChangeReport
		want   string // the label; "" for no mark
	}{
		{nil, ""},
		{&ChangeReport{Kind: "stopped-granting", Switches: 1, Before: before, After: after}, "stopped granting: last grant 0:52, first omission 1:62"},
		{&ChangeReport{Kind: "started-granting", Switches: 1, Before: after, After: before}, "started granting: last omission 1:62, first grant 0:52"},
		{&ChangeReport{Kind: "interleaved", Switches: 5, Before: before, After: after}, "first of 5 switches: last grant 0:52, first omission 1:62"},
		{&ChangeReport{Kind: "interleaved", Switches: 5}, ""}, // the first switch unknown
	}
	for _, tt := range tests {
		marks := changeMarks(&ServerReport{Change: tt.change})
		if tt.want == "" {
			if len(marks) != 0 {
				t.Errorf("%+v: marks %v, want none", tt.change, marks)
			}
			continue
		}
		if len(marks) != 1 || marks[0].Label != tt.want {
			t.Errorf("marks %+v, want one labelled %q", marks, tt.want)
			continue
		}
		if mid := time.Date(2026, 12, 1, 23, 5, 22, 735671000, time.UTC).UnixNano(); marks[0].At != mid {
			t.Errorf("mark at %v, want %v", time.Unix(0, marks[0].At).UTC(), time.Unix(0, mid).UTC())
		}
	}
}
