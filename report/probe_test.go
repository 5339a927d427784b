package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/internal/scenario"
)

// probedReport is a report whose one server carries a probe section, as
// tfopcap probe makes it.
func probedReport(t *testing.T, method string) *Report {
	t.Helper()
	r := synthReport(t, 0, scenario.Scenario{Server: "10.77.0.1:8001", Outcomes: []string{"omitted", "omitted"}})
	no := false
	r.Servers[0].Probe = &ProbeReport{Target: "seed.example:8001", MPTCP: "yes", Method: method, Notes: []string{"the kernel held a cookie"},
		Rounds: []ProbeRoundReport{
			{Round: "request", Client: "10.77.0.2:40000", Cache: "cleared", Outcome: "omitted",
				Kernel: ProbeKernelReport{FastopenClientFail: "cookie_unavailable", CookieAfter: &no}},
			{Round: "mptcp", Client: "10.77.0.2:40001", Cache: "empty", Outcome: "omitted", MPTCP: "yes",
				Kernel: ProbeKernelReport{FastopenClientFail: "unknown"}},
			{Round: "data", Cache: "unknown", Error: "connection refused (closed port)", Kernel: ProbeKernelReport{FastopenClientFail: "unknown"}},
		}}
	return r
}

func TestRenderProbe(t *testing.T) {
	for _, method := range []string{"capture", "tcp_info"} {
		r := probedReport(t, method)
		var js bytes.Buffer
		if err := WriteJSON(&js, r); err != nil {
			t.Fatal(err)
		}
		validateReport(t, js.Bytes())
		back, err := ReadReport(bytes.NewReader(js.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if p := back.Servers[0].Probe; p == nil || p.MPTCP != "yes" || len(p.Rounds) != 3 || *p.Rounds[0].Kernel.CookieAfter {
			t.Errorf("%s: probe section read back as %+v", method, p)
		}
		for _, format := range []string{"text", "markdown"} {
			var out bytes.Buffer
			if err := Render(&out, r, format, RenderOptions{}); err != nil {
				t.Fatal(err)
			}
			s := out.String()
			for _, want := range []string{"10.77.0.1:8001 (seed.example:8001)", "MPTCP listener", "connection refused (closed port)", "the kernel held a cookie", "cookie_unavailable"} {
				if format == "markdown" {
					want = mdText(want)
				}
				if !strings.Contains(s, want) {
					t.Errorf("%s %s: no %q in\n%s", method, format, want, s)
				}
			}
			if method == "tcp_info" && !strings.Contains(s, "kernel's account") {
				t.Errorf("%s %s: does not say where the evidence came from:\n%s", method, format, s)
			}
			if format == "markdown" {
				// The rounds render as a table of their own.
				if html := pandocHTML(t, s); !strings.Contains(html, "<th>cache before</th>") || !strings.Contains(html, "<td>request</td>") {
					t.Errorf("the probe rounds do not render as a table:\n%s", html)
				}
			}
		}
	}
}
