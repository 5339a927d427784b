package report

import (
	"cmp"
	"reflect"
	"slices"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/scenario"
)

// cloningSink hands each attempt to a collector and keeps a clone of it.
type cloningSink struct {
	*analyze.Collector
	clones []analyze.Attempt
}

func (s *cloningSink) Attempt(a *analyze.Attempt) {
	s.Collector.Attempt(a)
	if a.Counted() {
		s.clones = append(s.clones, a.Clone())
	}
}

// TestAttemptReportsFromKept renders the collector's compact copies of
// the lab's attempts (every outcome, copies at two vantage points, plain
// retries) as the attempts themselves render, in the order of their SYNs.
func TestAttemptReportsFromKept(t *testing.T) {
	sink := &cloningSink{Collector: analyze.NewCollector(0)}
	scenario.Run(sink, scenario.Lab...)
	got := attemptReports(sink.Summary().Kept)
	if len(got) != len(sink.clones) || len(got) == 0 {
		t.Fatalf("%d attempt reports from %d attempts", len(got), len(sink.clones))
	}
	slices.SortStableFunc(sink.clones, func(a, b analyze.Attempt) int {
		return cmp.Or(cmp.Compare(a.SYN.Time, b.SYN.Time), cmp.Compare(a.SYN.Input, b.SYN.Input), cmp.Compare(a.SYN.Frame, b.SYN.Frame))
	})
	for i := range sink.clones {
		if want := NewAttemptReport(&sink.clones[i]); !reflect.DeepEqual(got[i], want) {
			t.Errorf("attempt %d renders from its kept copy as\n%+v\nwant\n%+v", i, got[i], want)
		}
	}
}
