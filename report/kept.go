package report

import (
	"sync"

	"github.com/tfopcap/tfopcap/analyze"
)

// KeptFormatter renders the attempts a collector keeps while the tracker
// still runs: each chunk, once complete (analyze.Collector.OnKept), on a
// goroutine of its own. The kept set of a long capture is complete long
// before its end (10000 attempts of the real handshake capture's 60000),
// and the tracker keeps one core busy while the stage leaves the other
// half idle, so the 29 M instructions of rendering them leave the serial
// tail after the last packet (Build and the JSON: median 16.9 -> 12.4 ms
// under load). The price is memory: rendered attempts take 470 bytes
// where kept ones take 360, and they are live while the tracker's tables
// peak (heap at the end of tracking 19 -> 21 MB, peak RSS 41.0 -> 45.1
// MB). What each chunk renders to depends on its attempts only, so the
// report is the same on any number of cores.
type KeptFormatter struct {
	coll   *analyze.Collector
	chunks []*formattedChunk // in the order the collector handed them
	wg     sync.WaitGroup
}

type formattedChunk struct{ reports []AttemptReport }

// FormatKept has c's kept attempts rendered as they complete; build the
// report with the result's Build. Call it before c's first attempt.
func FormatKept(c *analyze.Collector) *KeptFormatter {
	f := &KeptFormatter{coll: c}
	c.OnKept(f.add)
	return f
}

func (f *KeptFormatter) add(chunk []analyze.Attempt) {
	fc := new(formattedChunk)
	f.chunks = append(f.chunks, fc)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		fc.reports = attemptReports([][]analyze.Attempt{chunk})
		f.coll.RecycleKept(chunk)
	}()
}

// Build is report.Build with the attempts f rendered. Call it once, after
// the collector's Summary (which hands f the last chunk).
func (f *KeptFormatter) Build(tool string, inputs []InputReport, sum *analyze.Summary) *Report {
	f.wg.Wait()
	n := 0
	for _, fc := range f.chunks {
		n += len(fc.reports)
	}
	reports := make([]AttemptReport, 0, n)
	for _, fc := range f.chunks {
		reports = append(reports, fc.reports...)
	}
	f.chunks = nil
	return build(tool, inputs, sum, reports)
}
