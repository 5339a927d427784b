package probe

import (
	"regexp"
	"strconv"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/engine"
	"github.com/tfopcap/tfopcap/report"
)

// Report builds the usual report from the probe's attempts, with each
// probed server's servers[].probe section. tool names the program.
func (r *Result) Report(tool string) *report.Report {
	var inputs []report.InputReport
	if r.Engine != nil {
		for _, src := range r.Engine.Sources {
			inputs = append(inputs, inputReport(src))
		}
	}
	rep := report.Build(tool, inputs, r.Summary)
	rep.Warnings = append(rep.Warnings, r.Warnings...)
	if r.Engine != nil {
		rep.Warnings = append(rep.Warnings, r.Engine.Warnings...)
		rep.Warnings = append(rep.Warnings, r.Engine.EvidenceWarnings...)
	}
	r.nameRounds(rep)
	for i := range r.Targets {
		t := &r.Targets[i]
		row := serverRow(rep, t.Server.String())
		if row == nil {
			rep.Warnings = append(rep.Warnings, t.Target+": no attempt of the probe was judged: the report holds no verdict for it")
			continue
		}
		row.Probe = t.report(r.Method)
	}
	return rep
}

func serverRow(rep *report.Report, server string) *report.ServerReport {
	for i := range rep.Servers {
		if rep.Servers[i].Server == server {
			return &rep.Servers[i]
		}
	}
	return nil
}

func (t *TargetResult) report(m Method) *report.ProbeReport {
	p := &report.ProbeReport{Target: t.Target, MPTCP: t.MPTCP, Method: string(m), Rounds: []report.ProbeRoundReport{}, Notes: []string{}}
	p.Notes = append(p.Notes, t.Notes...)
	for _, r := range t.Rounds {
		rr := report.ProbeRoundReport{Round: string(r.Round), Cache: r.Cache, MPTCP: r.MPTCP,
			Kernel: report.ProbeKernelReport{SYNData: r.Kernel.SYNData, SYNDataAcked: r.Kernel.SYNDataAcked,
				FastopenClientFail: r.Kernel.FastopenClientFail}}
		if rr.Kernel.FastopenClientFail == "" {
			rr.Kernel.FastopenClientFail = "unknown"
		}
		if r.Client.IsValid() && r.Client.Port() != 0 {
			rr.Client = r.Client.String()
		}
		if r.Kernel.CookieKnown {
			v := r.Kernel.CookieAfter
			rr.Kernel.CookieAfter = &v
		}
		if r.Judged {
			rr.Outcome = r.Outcome.String()
		}
		if r.Err != nil {
			rr.Error = r.Err.Error()
		}
		p.Rounds = append(p.Rounds, rr)
	}
	return p
}

// inputReport describes the capture as analyze describes an input.
func inputReport(src engine.SourceResult) report.InputReport {
	info := src.Info
	in := report.InputReport{Name: info.Name, Format: info.Format, LinkTypes: []string{}, Packets: info.Packets, Warnings: []string{}}
	for _, lt := range info.LinkTypes {
		in.LinkTypes = append(in.LinkTypes, analyze.LinkTypeName(lt))
	}
	if info.Packets > 0 {
		in.First, in.Last = report.FormatTime(info.First), report.FormatTime(info.Last)
	}
	in.Warnings = append(in.Warnings, info.Warnings...)
	if src.Err != nil {
		in.Warnings = append(in.Warnings, src.Err.Error())
	}
	if src.Stats != nil {
		in.Warnings = append(in.Warnings, src.Stats.Warnings()...)
	}
	return in
}

// framePattern is how findings name a frame: "frame INPUT:FRAME".
var framePattern = regexp.MustCompile(`frame 0:([0-9]+)`)

// nameRounds rewrites, without a capture, the frames findings cite into
// the rounds they stand for: there are no frames to look up.
func (r *Result) nameRounds(rep *report.Report) {
	if len(r.frameLabels) == 0 {
		return
	}
	name := func(s string) string {
		return framePattern.ReplaceAllStringFunc(s, func(m string) string {
			n, err := strconv.Atoi(m[len("frame 0:"):])
			if err != nil || n < 1 || n > len(r.frameLabels) {
				return m
			}
			return r.frameLabels[n-1]
		})
	}
	for i := range rep.Servers {
		for j, h := range rep.Servers[i].Hints {
			rep.Servers[i].Hints[j] = name(h)
		}
	}
	for i := range rep.Findings {
		rep.Findings[i].Text = name(rep.Findings[i].Text)
	}
}
