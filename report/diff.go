package report

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/tfopcap/tfopcap/analyze"
)

// DiffSchema names the JSON form of a DiffReport; it changes on the same
// terms as Schema.
const DiffSchema = "tfopcap.diff/v1"

// Change says how a server's verdict moved between two reports.
type Change uint8

const (
	Unchanged Change = iota // same verdict (its outcome counts may differ)
	Regressed               // grants -> omits or mixed, or mixed -> omits
	Improved                // the reverse of a regression
	Changed                 // from or to inconclusive: neither better nor worse
	New                     // only in the new report
	Vanished                // only in the old report
	// Undecided: grants or mixed -> inconclusive. The new report no longer
	// shows TFO working (its clients stopped asking, a filter, no reply):
	// not a regression, not proof that nothing broke.
	Undecided
	numChanges
)

var changeNames = [numChanges]string{"unchanged", "regressed", "improved", "changed", "new", "vanished", "undecided"}

// ParseChange returns the change named s.
func ParseChange(s string) (Change, bool) {
	var c Change
	return c, c.UnmarshalText([]byte(s)) == nil
}

func (c Change) String() string {
	if c < numChanges {
		return changeNames[c]
	}
	return fmt.Sprintf("unknown(%d)", uint8(c))
}

// MarshalText makes changes JSON strings.
func (c Change) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a change name.
func (c *Change) UnmarshalText(b []byte) error {
	for i, n := range changeNames {
		if n == string(b) {
			*c = Change(i)
			return nil
		}
	}
	return fmt.Errorf("unknown change %q", b)
}

// verdictRank orders the deciding verdicts from worst to best; a move
// towards grants improves, a move away regresses. Inconclusive has no rank.
func verdictRank(v analyze.Verdict) (int, bool) {
	switch v {
	case analyze.Omits:
		return 0, true
	case analyze.Mixed:
		return 1, true
	case analyze.Grants:
		return 2, true
	}
	return 0, false
}

// VerdictChange classifies a server's move from verdict old to verdict new.
func VerdictChange(old, new analyze.Verdict) Change {
	if old == new {
		return Unchanged
	}
	if new == analyze.Inconclusive && (old == analyze.Grants || old == analyze.Mixed) {
		return Undecided
	}
	ro, okOld := verdictRank(old)
	rn, okNew := verdictRank(new)
	switch {
	case !okOld || !okNew:
		return Changed
	case rn < ro:
		return Regressed
	}
	return Improved
}

// DiffReport compares two reports server by server, matching servers by
// address. Its JSON form (schema DiffSchema) is a contract like Report's.
type DiffReport struct {
	Schema string `json:"schema"`
	// Tool is the tfopcap that made the diff; Diff leaves it to the caller.
	Tool    string       `json:"tool"`
	Old     DiffSide     `json:"old"`
	New     DiffSide     `json:"new"`
	Summary DiffSummary  `json:"summary"`
	Servers []ServerDiff `json:"servers"`
	// Series follows the servers through every report when there were
	// more than two (old is the first, new the last); nil otherwise.
	Series *DiffSeries `json:"series,omitempty"`
}

// DiffSide describes one of the two reports.
type DiffSide struct {
	// Name is where the report was read from; Diff leaves it to the caller.
	Name string `json:"name"`
	// Tool is the tfopcap that made the report.
	Tool string `json:"tool"`
	// Inputs names the report's captures.
	Inputs   []string `json:"inputs"`
	Servers  int      `json:"servers"`
	Attempts int      `json:"attempts"`
}

// DiffSummary counts servers by change.
type DiffSummary struct {
	Regressed int `json:"regressed"`
	Improved  int `json:"improved"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	New       int `json:"new"`
	Vanished  int `json:"vanished"`
	Undecided int `json:"undecided"`
}

// count adds one server's change.
func (s *DiffSummary) count(c Change) {
	switch c {
	case Regressed:
		s.Regressed++
	case Improved:
		s.Improved++
	case Changed:
		s.Changed++
	case New:
		s.New++
	case Vanished:
		s.Vanished++
	case Undecided:
		s.Undecided++
	default:
		s.Unchanged++
	}
}

// ServerDiff is one server's change.
type ServerDiff struct {
	Server string `json:"server"`
	Change Change `json:"change"`
	// Old is the server in the old report; nil when New.
	Old *ServerSide `json:"old"`
	// New is the server in the new report; nil when Vanished.
	New *ServerSide `json:"new"`
	// Inconclusive lists the outcomes whose counts differ, in report order.
	Outcomes []OutcomeChange `json:"outcomes"`
}

// ServerSide is what one report says of a server.
type ServerSide struct {
	Verdict  analyze.Verdict       `json:"verdict"`
	Attempts int                   `json:"attempts"`
	Outcomes analyze.OutcomeCounts `json:"outcomes"`
	MPTCP    MPTCPCounts           `json:"mptcp"`
	Hints    []string              `json:"hints"`
	// HintIDs are the stable IDs of Hints, in the same order.
	HintIDs []analyze.FindingID `json:"hint_ids"`
	// Change is when the server's outcomes changed within that report;
	// absent when they did not.
	Change *ChangeReport `json:"change,omitempty"`
}

// OutcomeChange is one outcome's count in the old and the new report.
type OutcomeChange struct {
	Outcome analyze.Outcome `json:"outcome"`
	Old     int             `json:"old"`
	New     int             `json:"new"`
}

// Regressed reports whether any server regressed.
func (d *DiffReport) Regressed() bool { return d.Summary.Regressed > 0 }

// Diff compares old with new. Servers are matched by address; a server
// listed twice in one report counts once, as first listed. Either report
// may be nil, which reads as a report without servers.
func Diff(old, new *Report) *DiffReport {
	d := &DiffReport{
		Schema:  DiffSchema,
		Old:     diffSide(old),
		New:     diffSide(new),
		Servers: []ServerDiff{},
	}
	olds, news := serversByAddr(old), serversByAddr(new)
	addrs := make([]string, 0, len(olds)+len(news))
	for a := range olds {
		addrs = append(addrs, a)
	}
	for a := range news {
		if _, ok := olds[a]; !ok {
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, compareAddrs)
	for _, a := range addrs {
		sd := ServerDiff{Server: a, Outcomes: []OutcomeChange{}}
		var oc, nc analyze.OutcomeCounts
		if s := olds[a]; s != nil {
			sd.Old = serverSide(s)
			oc = s.Outcomes
		}
		if s := news[a]; s != nil {
			sd.New = serverSide(s)
			nc = s.Outcomes
		}
		sd.Change = sideChange(sd.Old, sd.New)
		d.Summary.count(sd.Change)
		for i := range oc {
			if oc[i] != nc[i] {
				sd.Outcomes = append(sd.Outcomes, OutcomeChange{Outcome: analyze.Outcome(i), Old: oc[i], New: nc[i]})
			}
		}
		d.Servers = append(d.Servers, sd)
	}
	return d
}

// sideChange classifies a server's move between two reports; a nil side
// lacks it.
func sideChange(old, new *ServerSide) Change {
	switch {
	case old == nil:
		return New
	case new == nil:
		return Vanished
	}
	return VerdictChange(old.Verdict, new.Verdict)
}

// Failing returns the servers whose change fail says fails the diff: a
// regression always, by the caller's choice also undecided, vanished...
func (d *DiffReport) Failing(fail func(Change) bool) []ServerDiff {
	var out []ServerDiff
	for _, sd := range d.Servers {
		if fail(sd.Change) {
			out = append(out, sd)
		}
	}
	return out
}

func diffSide(r *Report) DiffSide {
	s := DiffSide{Inputs: []string{}}
	if r == nil {
		return s
	}
	s.Tool = r.Tool
	s.Servers = len(r.Servers)
	s.Attempts = r.Totals.Attempts
	for _, in := range r.Inputs {
		s.Inputs = append(s.Inputs, in.Name)
	}
	return s
}

func serverSide(s *ServerReport) *ServerSide {
	side := &ServerSide{
		Verdict:  s.Verdict,
		Attempts: s.Attempts,
		Outcomes: s.Outcomes,
		MPTCP:    s.MPTCP,
		Hints:    slices.Clone(s.Hints),
		HintIDs:  slices.Clone(s.HintIDs),
		Change:   s.Change,
	}
	if side.Hints == nil {
		side.Hints = []string{}
	}
	if side.HintIDs == nil {
		side.HintIDs = []analyze.FindingID{}
	}
	return side
}

// serversByAddr indexes r's servers by canonical address, so that
// "[2001:DB8::1]:443" in one report matches "[2001:db8::1]:443" in the other.
func serversByAddr(r *Report) map[string]*ServerReport {
	m := make(map[string]*ServerReport)
	if r == nil {
		return m
	}
	for i := range r.Servers {
		s := &r.Servers[i]
		key := canonicalAddr(s.Server)
		if _, dup := m[key]; !dup {
			m[key] = s
		}
	}
	return m
}

// canonicalAddr is s as analyze.FormatAddr writes it, or s itself when it is not
// an ip:port.
func canonicalAddr(s string) string {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return analyze.FormatAddr(ap)
	}
	return s
}

// compareAddrs orders ip:port strings as addresses (IPv4 before IPv6, then
// by port); strings that are not addresses sort after them, as text.
func compareAddrs(a, b string) int {
	pa, errA := netip.ParseAddrPort(a)
	pb, errB := netip.ParseAddrPort(b)
	switch {
	case errA == nil && errB == nil:
		return cmp.Or(pa.Compare(pb), cmp.Compare(a, b))
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return cmp.Compare(a, b)
}
