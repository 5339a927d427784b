package report

import (
	"slices"

	"github.com/tfopcap/tfopcap/analyze"
)

// DiffSeries follows each server through more than two reports, in the
// order given, as when bisecting releases: a server's first bad is the
// first report whose change from the first report fails (a regression, or
// whatever else the caller counts as failing).
type DiffSeries struct {
	Reports []DiffSide     `json:"reports"`
	Servers []SeriesServer `json:"servers"`
}

// SeriesServer is one server through a series.
type SeriesServer struct {
	Server string `json:"server"`
	// Verdicts are its verdict in each report; nil where a report lacks it.
	Verdicts []*analyze.Verdict `json:"verdicts"`
	// FirstBad is the index in Reports of its first bad report; nil when
	// none is.
	FirstBad *int `json:"first_bad"`
	// Change is its change from the first report to the first bad one,
	// or to the last when none is bad.
	Change Change `json:"change"`
}

// Series follows the servers of reports (at least two) through them.
// fail says which changes from the first report make a report bad.
func Series(reports []*Report, fail func(Change) bool) *DiffSeries {
	s := &DiffSeries{Reports: make([]DiffSide, len(reports)), Servers: []SeriesServer{}}
	indexes := make([]map[string]*ServerReport, len(reports))
	var addrs []string
	for i, r := range reports {
		s.Reports[i] = diffSide(r)
		indexes[i] = serversByAddr(r)
		for a := range indexes[i] {
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, compareAddrs)
	for _, a := range slices.Compact(addrs) {
		ss := SeriesServer{Server: a, Verdicts: make([]*analyze.Verdict, len(reports))}
		sides := make([]*ServerSide, len(reports))
		for i, idx := range indexes {
			if sr := idx[a]; sr != nil {
				v := sr.Verdict
				ss.Verdicts[i], sides[i] = &v, serverSide(sr)
			}
		}
		ss.Change = sideChange(sides[0], sides[len(sides)-1])
		for i := 1; i < len(sides); i++ {
			if sides[0] == nil && sides[i] == nil {
				continue // not seen yet: nothing to compare
			}
			if c := sideChange(sides[0], sides[i]); fail(c) {
				bad := i
				ss.FirstBad, ss.Change = &bad, c
				break
			}
		}
		s.Servers = append(s.Servers, ss)
	}
	return s
}

// Bad returns the servers that have a first bad report.
func (s *DiffSeries) Bad() []SeriesServer {
	var out []SeriesServer
	for _, ss := range s.Servers {
		if ss.FirstBad != nil {
			out = append(out, ss)
		}
	}
	return out
}
