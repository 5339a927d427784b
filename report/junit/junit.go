// Package junit writes a report as JUnit XML, which GitLab, Jenkins and
// GitHub Actions show as test results: one test suite for the capture,
// one test case per server, failing where --fail-on matches its verdict,
// with the server's findings as the message. The XML comes from
// github.com/jstemmer/go-junit-report/v2/junit, not from hand-written
// tags.
package junit

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/report"
)

// Classname groups the test cases: CI tools show it beside each server.
const Classname = "tfopcap.server"

// Write writes r as JUnit XML to w. failOn are the verdicts that fail a
// server's case; gate are the reasons the report cannot be judged at all
// (analyze's gate warnings), which fail one case of their own under
// --fail-on, as they fail the run.
func Write(w io.Writer, r *report.Report, failOn []analyze.Verdict, gate []string) error {
	suite := junit.Testsuite{Name: suiteName(r), Time: "0"}
	for i := range r.Servers {
		suite.AddTestcase(serverCase(&r.Servers[i], failOn))
	}
	if u := r.UnlistedServers; u != nil && u.Servers > 0 {
		suite.AddTestcase(unlistedCase(u, failOn))
	}
	if len(failOn) > 0 && len(gate) > 0 {
		suite.AddTestcase(junit.Testcase{Name: "capture", Classname: "tfopcap.capture",
			Failure: &junit.Result{Message: "--fail-on cannot pass: " + gate[0], Type: "gate", Data: strings.Join(gate, "\n")}})
	}
	if out := systemOut(r); out != "" {
		suite.SystemOut = &junit.Output{Data: out}
	}
	var suites junit.Testsuites
	suites.AddSuite(suite)
	return suites.WriteXML(w)
}

// suiteName names the capture by its inputs: "tfopcap seed.pcap".
func suiteName(r *report.Report) string {
	names := make([]string, len(r.Inputs))
	for i, in := range r.Inputs {
		names[i] = in.Name
	}
	return strings.TrimSpace("tfopcap " + strings.Join(names, " "))
}

// serverCase is one server: failing when its verdict is in failOn.
func serverCase(s *report.ServerReport, failOn []analyze.Verdict) junit.Testcase {
	tc := junit.Testcase{Name: s.Server, Classname: Classname}
	if !slices.Contains(failOn, s.Verdict) {
		tc.SystemOut = &junit.Output{Data: verdictLine(s) + changeLine(s)}
		return tc
	}
	msg := verdictLine(s) + changeLine(s)
	if len(s.HintIDs) > 0 {
		ids := make([]string, len(s.HintIDs))
		for i, id := range s.HintIDs {
			ids[i] = string(id)
		}
		msg += "; findings: " + strings.Join(ids, ", ")
	}
	var data strings.Builder
	for i, h := range s.Hints {
		fmt.Fprintf(&data, "[%s] %s\n", s.HintIDs[i], h)
	}
	tc.Failure = &junit.Result{Message: msg, Type: s.Verdict.String(), Data: data.String()}
	return tc
}

// changeLine is "; stopped granting: last grant 0:12 ...", or empty
// when the server's outcomes did not change.
func changeLine(s *report.ServerReport) string {
	if s.Change == nil {
		return ""
	}
	return "; " + report.ChangeLine(s.Change)
}

// verdictLine says what a server did: "verdict omits: omitted 4, rejected 2".
func verdictLine(s *report.ServerReport) string {
	return fmt.Sprintf("verdict %s: %s", s.Verdict, outcomeList(&s.Outcomes))
}

func outcomeList(c *analyze.OutcomeCounts) string {
	var parts []string
	for o, n := range c {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", analyze.Outcome(o), n))
		}
	}
	if len(parts) == 0 {
		return "no attempt"
	}
	return strings.Join(parts, ", ")
}

// unlistedCase stands for the servers without TFO attempts: inconclusive,
// so a gate on that verdict fails them, as --fail-on does.
func unlistedCase(u *report.UnlistedServers, failOn []analyze.Verdict) junit.Testcase {
	tc := junit.Testcase{Name: fmt.Sprintf("%d unlisted server(s)", u.Servers), Classname: Classname}
	line := fmt.Sprintf("verdict inconclusive: %d server(s) without any TFO attempt, %d attempts", u.Servers, u.Attempts)
	if slices.Contains(failOn, analyze.Inconclusive) {
		tc.Failure = &junit.Result{Message: line, Type: analyze.Inconclusive.String()}
	} else {
		tc.SystemOut = &junit.Output{Data: line}
	}
	return tc
}

// systemOut holds what concerns the whole capture: its findings and
// warnings.
func systemOut(r *report.Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "[%s] %s\n", f.ID, f.Text)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}
