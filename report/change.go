package report

import (
	"fmt"

	"github.com/tfopcap/tfopcap/analyze"
)

// changeSentence says when a server's outcomes changed, for the text and
// markdown reports: "stopped granting: last grant 0:12 (SYN 0:11) at
// 2026-12-01T23:00:01.5Z, first omission 0:20 (SYN 0:19) at ...".
// Frames are input:frame of the reply that decided, as in the attempt list.
func changeSentence(c *ChangeReport) string {
	var s string
	switch c.Kind {
	case analyze.StoppedGranting.String():
		s = "stopped granting"
	case analyze.StartedGranting.String():
		s = "started granting (a fix?)"
	default:
		about := ""
		if c.Inexact {
			about = "about "
		}
		s = fmt.Sprintf("grants and omissions interleave, %s%d switches (several backends behind one address?)", about, c.Switches)
		if c.Before == nil || c.After == nil {
			return s
		}
		s += "; first switch"
	}
	return s + ": " + decisionText("last", c.Before) + ", " + decisionText("first", c.After)
}

// decisionText is "last grant 0:12 (SYN 0:11) at TIME", naming the
// outcome when it is not the plain grant or omission.
func decisionText(which string, d *DecisionReport) string {
	if d == nil {
		return which + " unknown"
	}
	what := "omission"
	if d.Outcome.Grants() {
		what = "grant"
	}
	if d.Outcome != analyze.Granted && d.Outcome != analyze.Omitted {
		what += " (" + d.Outcome.String() + ")"
	}
	return fmt.Sprintf("%s %s %d:%d (SYN %d:%d) at %s", which, what, d.Input, d.Frame, d.SYNInput, d.SYNFrame, d.Time)
}
