package analyze

// When a server changes: the deciding attempts (those that grant, accept
// or renew a cookie, and those that omit or reject one) are put in the
// order of their replies on the merged timeline, and grouped into runs of
// one kind. One switch between runs is a change (a listener restarted
// without TFO, or a fix); more are "interleaved" (several backends behind
// one address). docs/report.md states the rule.
//
// The state is a few runs per server, updated as attempts are judged, so
// that it is exact however many attempts a report keeps in detail. The
// tracker judges a sweep's attempts in deadline order, which for answered
// ones is reply order, yet not always (a sink may be fed by another
// source, a clock steps), so a decision may land before, between or
// inside runs; it never needs the attempts themselves.

// ChangeKind says how a server's deciding outcomes changed over the capture.
type ChangeKind uint8

const (
	NoChange        ChangeKind = iota
	StoppedGranting            // grants, then omissions only: the regression
	StartedGranting            // omissions, then grants only: a fix
	Interleaved                // grants and omissions alternate more than once
)

var changeNames = [...]string{"none", "stopped-granting", "started-granting", "interleaved"}

func (k ChangeKind) String() string {
	if int(k) < len(changeNames) {
		return changeNames[k]
	}
	return "unknown"
}

// Decision is one deciding attempt: its outcome, and where its SYN and
// the reply that decided it were captured. Valid iff Reply.Frame != 0.
type Decision struct {
	Outcome    Outcome
	SYN, Reply PacketRef
}

// Change is when a server's outcomes changed.
type Change struct {
	Kind ChangeKind
	// Switches counts the times the deciding outcomes went from one kind
	// to the other: 1 for a change, 2 or more when interleaved.
	Switches int
	// Inexact: Switches may be off by a few, because attempts were judged
	// out of order among interleaved runs whose ends were not kept.
	Inexact bool
	// Before is the last deciding attempt before the first switch, After
	// the first after it: for StoppedGranting the last grant and the first
	// omission. Either may be invalid when interleaved (see changeLog.add).
	Before, After Decision
}

// runKind is what a run of decisions holds.
type runKind uint8

const (
	runGrants runKind = iota
	runOmits
	// runGap stands for runs dropped to bound memory: it starts and ends
	// with runs of the kinds its neighbours are not.
	runGap
)

// changeRun is consecutive decisions of one kind, first to last. An end
// marked unsure is not a decision of the run but a bound on it (see
// addAfter): it orders the run, and is not reported.
type changeRun struct {
	kind                    runKind
	first, last             Decision
	firstUnsure, lastUnsure bool
}

// maxChangeRuns bounds the runs a server keeps: the first two (the first
// switch) and the latest; the ones between collapse into a gap.
const maxChangeRuns = 16

// changeLog is one server's runs in reply order. Its zero value is empty.
type changeLog struct {
	runs     []changeRun
	switches int
	inexact  bool
}

// decided reports whether o decides anything, and which kind it is.
func decided(o Outcome) (runKind, bool) {
	switch {
	case o.Grants():
		return runGrants, true
	case o.Omits():
		return runOmits, true
	}
	return 0, false
}

// add files a judged attempt and returns the switches it made (0, 1, or 2
// when it splits a run). It allocates only when a run starts.
func (l *changeLog) add(a *Attempt) int {
	kind, ok := decided(a.Outcome)
	if !ok || a.Reply.Frame == 0 {
		return 0
	}
	d := Decision{Outcome: a.Outcome, SYN: a.SYN.PacketRef, Reply: a.Reply.PacketRef}
	if l.extendsLast(kind, &d) {
		return 0
	}
	before := l.switches
	i := len(l.runs) - 1 // the last run that starts no later than d
	for i >= 0 && refBefore(d.Reply, l.runs[i].first.Reply) {
		i--
	}
	switch {
	case i < 0 && len(l.runs) > 0 && l.runs[0].kind == kind:
		l.runs[0].first = d
	case i < 0:
		l.insert(0, changeRun{kind: kind, first: d, last: d})
	default:
		l.addAfter(i, kind, d)
	}
	if len(l.runs) > maxChangeRuns {
		l.collapse()
	}
	return l.switches - before
}

// extendsLast files d, of the given kind, if it simply comes after the
// last run, of the same kind and with sure ends: what nearly every
// decision does, as attempts are judged in about reply order. It is the
// path add and addAfter would take, without their search (half the cost
// of a decision).
func (l *changeLog) extendsLast(kind runKind, d *Decision) bool {
	if len(l.runs) == 0 {
		return false
	}
	r := &l.runs[len(l.runs)-1]
	if r.kind != kind || r.firstUnsure || r.lastUnsure || !refBefore(r.last.Reply, d.Reply) || refBefore(d.Reply, r.first.Reply) {
		return false
	}
	r.last = *d
	return true
}

// addAfter files d, of the given kind, in run i or after it.
func (l *changeLog) addAfter(i int, kind runKind, d Decision) {
	r := &l.runs[i]
	inside := !refBefore(r.last.Reply, d.Reply)
	if r.firstUnsure || r.lastUnsure || i+1 < len(l.runs) && l.runs[i+1].firstUnsure {
		l.inexact = true // d may belong on the other side of a bound
	}
	switch {
	case r.kind == kind:
		if !inside {
			r.last = d
		}
	case r.kind == runGap && inside:
		l.inexact = true // among dropped runs: a switch or none
	case r.kind == runGap:
		// Between the gap and the next run: it extends that run, or the
		// gap's own last (dropped) run; no switch either way.
		if next := &l.runs[i+1]; next.kind == kind {
			next.first = d
		} else {
			r.last = d
		}
	case !inside && i+1 < len(l.runs):
		next := &l.runs[i+1]
		next.first = d // of kind, or a gap whose first run is of kind
	case !inside:
		l.insert(i+1, changeRun{kind: kind, first: d, last: d})
	default:
		// Inside a run of the other kind: it splits in two around d, two
		// switches. The decisions next to d are not kept, so d bounds the
		// halves' inner ends.
		right := changeRun{kind: r.kind, first: d, last: r.last, firstUnsure: true, lastUnsure: r.lastUnsure}
		r.last, r.lastUnsure = d, true
		l.insert(i+1, changeRun{kind: kind, first: d, last: d})
		l.insert(i+2, right)
	}
}

// insert puts run at index i; a new run adds a switch.
func (l *changeLog) insert(i int, run changeRun) {
	l.runs = append(l.runs, changeRun{})
	copy(l.runs[i+1:], l.runs[i:])
	l.runs[i] = run
	if len(l.runs) > 1 {
		l.switches++
	}
}

// collapse merges the runs between the first two and the last two into
// one gap.
func (l *changeLog) collapse() {
	n := len(l.runs)
	gap := changeRun{kind: runGap, first: l.runs[2].first, last: l.runs[n-3].last}
	l.runs = append(append(l.runs[:2], gap), l.runs[n-2:]...)
}

// change returns the change the runs show, or nil when there was none.
func (l *changeLog) change() *Change {
	if len(l.runs) < 2 {
		return nil
	}
	c := &Change{Kind: Interleaved, Switches: l.switches, Inexact: l.inexact}
	if first, second := &l.runs[0], &l.runs[1]; !first.lastUnsure && !second.firstUnsure {
		c.Before, c.After = first.last, second.first
	}
	if l.switches == 1 {
		c.Kind = StoppedGranting
		if l.runs[0].kind == runOmits {
			c.Kind = StartedGranting
		}
	}
	return c
}
