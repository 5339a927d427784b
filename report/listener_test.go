package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

func TestAnnotateListeners(t *testing.T) {
	r := &Report{Servers: []ServerReport{{Server: "10.0.0.1:443"}, {Server: "10.0.0.2:80"}, {Server: "other"}}}
	xray := ListenerReport{Address: "0.0.0.0:443", Protocol: "mptcp", Process: []ListenerProcess{{812, "xray"}}}
	r.AnnotateListeners(func(ap netip.AddrPort) (ListenerReport, bool) {
		return xray, ap == netip.MustParseAddrPort("10.0.0.1:443")
	})
	if l := r.Servers[0].Listener; l == nil || l.Protocol != "mptcp" {
		t.Errorf("10.0.0.1:443: listener %+v", l)
	}
	if r.Servers[1].Listener != nil || r.Servers[2].Listener != nil {
		t.Errorf("listeners named where the lookup has none: %+v", r.Servers)
	}
	if got, want := listenerLine(r.Servers[0].Listener), "listener: mptcp 0.0.0.0:443, xray (pid 812)"; got != want {
		t.Errorf("listenerLine = %q, want %q", got, want)
	}
	if got := listenerLine(&ListenerReport{Address: "[::]:80", Protocol: "tcp", UID: 33}); !strings.HasSuffix(got, "uid 33") {
		t.Errorf("listenerLine without a process = %q", got)
	}
	var b bytes.Buffer
	if err := Render(&b, r, "text", RenderOptions{}); err != nil || !strings.Contains(b.String(), "listener: mptcp 0.0.0.0:443, xray (pid 812)") {
		t.Errorf("text report lacks the listener line (err %v):\n%s", err, b.String())
	}
}
