package check

import (
	"bytes"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/host/selfprobe"
	"github.com/tfopcap/tfopcap/host/sockdiag"
	"github.com/tfopcap/tfopcap/host/sysinfo"
	"github.com/tfopcap/tfopcap/internal/schematest"
)

func host(release string, fastopen int) sysinfo.Host {
	return sysinfo.Host{Release: release, TCPFastOpen: sysinfo.Sysctl{Value: fastopen, Known: true}}
}

func probe(tfo analyze.TFOState, mptcp string) *selfprobe.Result {
	return &selfprobe.Result{Reply: selfprobe.ReplySYNACK, TFO: tfo, MPTCP: mptcp, Method: selfprobe.MethodRawSYN}
}

func TestJudge(t *testing.T) {
	const mpc = "MP_CAPABLE v1"
	for _, tc := range []struct {
		name  string
		f     Facts
		state string
		ids   []analyze.FindingID
	}{
		// The seed: Linux 6.1, MPTCP listener. Certain with or without a probe.
		{"seed, probed", Facts{Protocol: sockdiag.MPTCP, Host: host("6.1.0-27-cloud-amd64", 3), Probe: probe(analyze.TFONone, mpc)},
			TFODisabled, []analyze.FindingID{analyze.FindMPTCPTFOUnsupported}},
		{"seed, no probe", Facts{Protocol: sockdiag.MPTCP, Host: host("6.1.0-27-cloud-amd64", 3)},
			TFODisabled, []analyze.FindingID{analyze.FindMPTCPTFOUnsupported}},
		{"seed kernel, server bit off: MPTCP still the first cause", Facts{Protocol: sockdiag.MPTCP, Host: host("5.15.0", 1)},
			TFODisabled, []analyze.FindingID{analyze.FindMPTCPTFOUnsupported}},
		// A cookie from an MPTCP listener on 6.1 would contradict the rule: no finding is made up.
		{"6.1 MPTCP granting", Facts{Protocol: sockdiag.MPTCP, Host: host("6.1.0", 3), Probe: probe(analyze.TFOCookie, mpc)},
			TFOEnabled, nil},
		{"6.1 plain TCP granting", Facts{Protocol: sockdiag.TCP, Host: host("6.1.0", 3), Probe: probe(analyze.TFOCookie, "")},
			TFOEnabled, nil},
		{"6.2 MPTCP without TCP_FASTOPEN", Facts{Protocol: sockdiag.MPTCP, Host: host("6.2.0", 3), Probe: probe(analyze.TFONone, mpc)},
			TFODisabled, []analyze.FindingID{analyze.FindListenerNoTFO}},
		{"6.18 MPTCP granting", Facts{Protocol: sockdiag.MPTCP, Host: host("6.18.44", 3), Probe: probe(analyze.TFOCookie, mpc)},
			TFOEnabled, nil},
		{"plain TCP without TCP_FASTOPEN", Facts{Protocol: sockdiag.TCP, Host: host("6.18.44", 3), Probe: probe(analyze.TFONone, "")},
			TFODisabled, []analyze.FindingID{analyze.FindListenerNoTFO, analyze.FindNotMPTCP}},
		{"server bit off", Facts{Protocol: sockdiag.TCP, Host: host("6.18.44", 1), Probe: probe(analyze.TFONone, "")},
			TFODisabled, []analyze.FindingID{analyze.FindOtherCauses}},
		{"plain TCP, no probe", Facts{Protocol: sockdiag.TCP, Host: host("6.18.44", 3)}, TFOUnknown, nil},
		{"MPTCP on 6.18, no probe", Facts{Protocol: sockdiag.MPTCP, Host: host("6.18.44", 3)}, TFOUnknown, nil},
		{"refused", Facts{Protocol: sockdiag.TCP, Host: host("6.18.44", 3), Probe: &selfprobe.Result{Reply: selfprobe.ReplyRST}}, TFOUnknown, nil},
		{"unreadable kernel release", Facts{Protocol: sockdiag.MPTCP, Host: host("", 3), Probe: probe(analyze.TFONone, mpc)},
			TFODisabled, []analyze.FindingID{analyze.FindListenerNoTFO}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Who, tc.f.Addr = "xray (pid 812)", "0.0.0.0:443"
			state, fs := Judge(tc.f)
			var ids []analyze.FindingID
			for _, f := range fs {
				ids = append(ids, f.ID)
				if f.Text == "" {
					t.Errorf("%s has no text", f.ID)
				}
			}
			if state != tc.state || !slices.Equal(ids, tc.ids) {
				t.Errorf("Judge = %s %v, want %s %v", state, ids, tc.state, tc.ids)
			}
		})
	}
}

// TestSeedFindingText: the sentence the issue asks for, with the process,
// the address, the kernel and both fixes.
func TestSeedFindingText(t *testing.T) {
	_, fs := Judge(Facts{Who: "xray (pid 812)", Addr: "0.0.0.0:443", Protocol: sockdiag.MPTCP,
		Host: host("6.1.0-27-cloud-amd64", 3), Probe: probe(analyze.TFONone, "MP_CAPABLE v1")})
	text := fs[0].Text
	for _, want := range []string{"xray (pid 812) listens MPTCP on 0.0.0.0:443", "the kernel is 6.1 < 6.2",
		"TCP_FASTOPEN cannot be set on MPTCP sockets", "GODEBUG=multipathtcp=0", "net.mptcp.enabled=0", "MP_CAPABLE v1"} {
		if !strings.Contains(text, want) {
			t.Errorf("finding lacks %q:\n%s", want, text)
		}
	}
}

// TestRenderFormats renders one report in every format; the JSON must
// match docs/check.schema.json.
func TestRenderFormats(t *testing.T) {
	three := 3
	r := &Report{Schema: Schema, Tool: "tfopcap test", Warnings: []string{warnNoRaw},
		Host: HostReport{Kernel: "6.1.0", TCPFastOpen: &three, ServerBit: true, TFOKey: "unreadable",
			Counters: map[string]uint64{"TCPFastOpenPassive": 1}, Delta: map[string]uint64{"TCPFastOpenPassive": 0}, IntervalSeconds: 1},
		Listeners: []ListenerReport{
			{Address: "10.77.0.1:8001", Protocol: "mptcp", Processes: []ProcessReport{{812, "xray"}}, TFO: TFODisabled,
				Probe:    &ProbeReport{Method: "raw-syn", Target: "10.77.0.1:8001", Reply: "syn-ack", TFO: "none", MPTCP: "MP_CAPABLE v1", RTTMillis: 0.1},
				Findings: []FindingReport{{analyze.FindMPTCPTFOUnsupported, "text"}}},
			{Address: "[::]:80", Protocol: "tcp", UID: 33, Processes: []ProcessReport{}, TFO: TFOUnknown, ProbeError: noRawError, Findings: []FindingReport{}},
		}}
	for _, format := range []string{"text", "markdown", "json"} {
		var b bytes.Buffer
		if err := Render(&b, r, format); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{"10.77.0.1:8001", "mptcp-tfo-unsupported", "uid 33"} {
			if format != "json" && !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", format, want, out)
			}
		}
		if format == "json" {
			schematest.ValidateCheck(t, b.Bytes())
		}
		if format == "markdown" {
			checkMarkdownTable(t, out, 1+len(r.Listeners))
		}
	}
}

// checkMarkdownTable renders md with pandoc (GitHub-flavoured) and wants
// one table of rows rows, header included; without pandoc it checks
// nothing.
func checkMarkdownTable(t *testing.T, md string, rows int) {
	t.Helper()
	pandoc, err := exec.LookPath("pandoc")
	if err != nil {
		t.Log("pandoc not installed: the markdown table is not rendered")
		return
	}
	cmd := exec.Command(pandoc, "--from", "gfm", "--to", "html", "--wrap=none")
	cmd.Stdin = strings.NewReader(md)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pandoc: %v", err)
	}
	tables := regexp.MustCompile(`(?s)<table>.*?</table>`).FindAllString(string(out), -1)
	if len(tables) != 1 || len(regexp.MustCompile(`<tr[ >]`).FindAllString(tables[0], -1)) != rows {
		t.Errorf("markdown renders as %d table(s), want one of %d rows:\n%s", len(tables), rows, out)
	}
}

// TestListenerNoTFOFirewall: on Linux 6.18, nft rules in the listener's
// namespace (reset tcp option fastopen on its SYNs in input, or on its
// SYN-ACKs in output) made check call listeners with TCP_FASTOPEN=16
// "TFO disabled". The self-probe cannot tell that from a listener
// without TFO, so the finding must name the host's own firewall.
func TestListenerNoTFOFirewall(t *testing.T) {
	_, fs := Judge(Facts{Who: "tfolab (pid 10669)", Addr: "10.88.0.1:8087", Protocol: sockdiag.TCP,
		Host: host("6.18.44", 3), Probe: probe(analyze.TFONone, "")})
	if len(fs) == 0 || fs[0].ID != analyze.FindListenerNoTFO || !strings.Contains(fs[0].Text, "firewall rule of this host strips option 34") {
		t.Errorf("findings %v do not name this host's firewall", fs)
	}
}

// TestRenderNoAnswer: a self-probe whose SYN nft dropped (Linux 6.18, a
// listener of tfolab behind "tcp dport 8091 drop") printed "probe:
// 10.88.0.1:8091 -> none" in text and markdown, hiding why; the reason
// must show in every format.
func TestRenderNoAnswer(t *testing.T) {
	target := netip.MustParseAddrPort("10.88.0.1:8091")
	r := &Report{Schema: Schema, Tool: "tfopcap test", Listeners: []ListenerReport{{
		Address: target.String(), Protocol: "tcp", Processes: []ProcessReport{{10669, "tfolab"}}, TFO: TFOUnknown,
		Probe:      &ProbeReport{Method: "raw-syn", Target: target.String(), Reply: "none", TFO: "none"},
		ProbeError: noAnswer(target, time.Second), Findings: []FindingReport{}}}}
	for _, format := range []string{"text", "markdown", "json"} {
		var b bytes.Buffer
		if err := Render(&b, r, format); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "no answer from 10.88.0.1:8091 within 1s: a firewall rule of this host") {
			t.Errorf("%s does not say why the probe got no answer:\n%s", format, b.String())
		}
	}
}
