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
	if !strings.HasPrefix(rows[0].Title, "192.0.2.11:80 omits: 0 grants, 10 omits") {
		t.Errorf("first row %q, want the server with the most attempts", rows[0].Title)
	}
	if last := rows[len(rows)-1].Title; !strings.HasPrefix(last, "192.0.2.4:80 ") {
		t.Errorf("last row %q, want 192.0.2.4:80", last)
	}
}
