package report

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/scenario"
)

// TestFormatKept: attempts rendered as the collector completes their
// chunks make the report Build makes of Summary.Kept, whatever the cap
// (none, within one chunk, on a chunk's edge, beyond the attempts).
func TestFormatKept(t *testing.T) {
	var lab []scenario.Scenario
	for len(lab)*6 < 3000 { // six attempts a scenario
		for _, sc := range scenario.Lab {
			sc.Server = strings.Replace(sc.Server, "8", strconv.Itoa(len(lab)%10), 1)
			lab = append(lab, sc)
		}
	}
	for _, max := range []int{-1, 100, 1024, 2048, 2500, 100000} {
		plain, handing := analyze.NewCollector(max), analyze.NewCollector(max)
		kept := FormatKept(handing)
		scenario.Run(plain, lab...)
		scenario.Run(handing, lab...)
		want := Build("tfopcap test", nil, plain.Summary())
		got := kept.Build("tfopcap test", nil, handing.Summary())
		if len(want.Attempts) == 0 && max > 0 {
			t.Fatalf("max %d: no attempts kept: the test tests nothing", max)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("max %d: the report from FormatKept (%d attempts) differs from Build's (%d)", max, len(got.Attempts), len(want.Attempts))
		}
	}
}
