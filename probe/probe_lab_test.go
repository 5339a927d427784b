//go:build linux

package probe_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/netnslab"
	"github.com/tfopcap/tfopcap/probe"
)

// TestProbeLab probes real listeners of the running kernel in a pair of
// namespaces, with and without capture.
func TestProbeLab(t *testing.T) {
	if !builtWithLibpcap {
		t.Skip("built without cgo: the probe cannot filter a capture to its own connections")
	}
	p := netnslab.NewPair(t)
	listen := func(port uint16, addr netip.Addr, fastOpen int, mptcp bool) {
		t.Helper()
		srv, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(addr, port), FastOpen: fastOpen, MPTCP: mptcp})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
	}
	listen(8001, p.ServerV4, 16, false) // grants
	listen(8002, p.ServerV4, 0, false)  // no TCP_FASTOPEN: omits
	listen(8003, p.ServerV4, 16, true)  // MPTCP with TFO (Linux >= 6.2 grants)
	listen(8004, p.ServerV4, 0, true)   // MPTCP without TFO
	listen(8001, p.ServerV6, 16, false)
	resetAtOnce(t, p.Server, netip.AddrPortFrom(p.ServerV4, 8005))
	goDefault(t, p.Server, netip.AddrPortFrom(p.ServerV4, 8006))

	tests := []struct {
		target  string
		verdict analyze.Verdict
		mptcp   string
		hint    analyze.FindingID // the first hint; "" none
	}{
		{"192.0.2.1:8001", analyze.Grants, "no", ""},
		{"192.0.2.1:8002", analyze.Omits, "no", analyze.FindNotMPTCP},
		// Linux >= 6.2 grants on MPTCP listeners that set TCP_FASTOPEN.
		{"192.0.2.1:8003", analyze.Grants, "yes", ""},
		// The seed's finding, from one probe: nothing else on the host
		// grants on MPTCP.
		{"192.0.2.1:8004", analyze.Omits, "yes", analyze.FindMPTCPTFOUnsupported},
		{"[2001:db8::1]:8001", analyze.Grants, "no", ""},
		// A server that resets each connection at once still answered
		// each SYN; without packets, a reset that came before MPTCP_INFO
		// was read leaves MPTCP unknown.
		{"192.0.2.1:8005", analyze.Grants, "", ""},
		// Go's default listener is MPTCP (Go >= 1.24); on Linux >= 6.2
		// TCP_FASTOPEN works on it.
		{"192.0.2.1:8006", analyze.Grants, "yes", ""},
	}
	for _, mode := range []probe.CaptureMode{probe.CaptureRequired, probe.CaptureOff} {
		for _, tt := range tests {
			var res *probe.Result
			err := p.Client.Do(func() error {
				var err error
				res, err = probe.Run(context.Background(), probe.Config{Targets: []string{tt.target}, Capture: mode, Timeout: 2 * time.Second})
				return err
			})
			if err != nil {
				t.Fatalf("%s (mode %d): %v", tt.target, mode, err)
			}
			rep := res.Report("test")
			if len(rep.Servers) != 1 {
				t.Fatalf("%s (mode %d): %d servers", tt.target, mode, len(rep.Servers))
			}
			s := rep.Servers[0]
			t.Logf("%s mode %d: %s %v %v %q", tt.target, mode, s.Verdict, s.Outcomes, s.HintIDs, s.Hints)
			var hint analyze.FindingID
			if len(s.HintIDs) > 0 {
				hint = s.HintIDs[0]
			}
			wantMPTCP := tt.mptcp
			if wantMPTCP == "" {
				wantMPTCP = "no"
				if mode == probe.CaptureOff && s.Probe != nil && s.Probe.MPTCP == "unknown" {
					wantMPTCP = "unknown"
				}
			}
			if s.Verdict != tt.verdict || s.Probe == nil || s.Probe.MPTCP != wantMPTCP || hint != tt.hint {
				t.Errorf("%s (mode %d): verdict %s, mptcp %v, hints %v; want %s, %s, %s", tt.target, mode, s.Verdict, s.Probe, s.HintIDs, tt.verdict, wantMPTCP, tt.hint)
			}
			for _, rd := range res.Targets[0].Rounds {
				if rd.Err == nil && (rd.Handshake <= 0 || rd.Handshake > 2*time.Second) {
					t.Errorf("%s round %s: handshake took %v", tt.target, rd.Round, rd.Handshake)
				}
			}
			wantMethod := map[probe.CaptureMode]string{probe.CaptureRequired: "capture", probe.CaptureOff: "tcp_info"}[mode]
			if s.Probe != nil && s.Probe.Method != wantMethod {
				t.Errorf("%s: method %s, want %s", tt.target, s.Probe.Method, wantMethod)
			}
			for _, h := range s.Hints {
				if mode == probe.CaptureOff && strings.Contains(h, "frame ") {
					t.Errorf("%s: without a capture a hint names a frame: %s", tt.target, h)
				}
			}
		}
	}

	// Probed together, a plain listener that grants proves the host's
	// sysctl; without a capture the finding cites its round, not a frame.
	for _, mode := range []probe.CaptureMode{probe.CaptureRequired, probe.CaptureOff} {
		var res *probe.Result
		err := p.Client.Do(func() error {
			var err error
			res, err = probe.Run(context.Background(), probe.Config{Targets: []string{"192.0.2.1:8001", "192.0.2.1:8004"}, Capture: mode})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		rep := res.Report("test")
		var hints []string
		for _, s := range rep.Servers {
			if s.Server == "192.0.2.1:8004" {
				hints = s.Hints
			}
		}
		want := "192.0.2.1:8001 grants cookies on plain TCP (frame 0:"
		if mode == probe.CaptureOff {
			want = "192.0.2.1:8001 grants cookies on plain TCP (the answer to the request round to 192.0.2.1:8001, by the kernel's account)"
		}
		if len(hints) == 0 || !strings.Contains(hints[0], want) {
			t.Errorf("mode %d: 8004's hints %q do not say %q", mode, hints, want)
		}
	}

	// A client that cannot open MPTCP sockets still probes; the MPTCP
	// question stays open, and a note says why.
	if err := p.Client.Sysctl("net.mptcp.enabled", "0"); err != nil {
		t.Fatal(err)
	}
	var res *probe.Result
	err := p.Client.Do(func() error {
		var err error
		res, err = probe.Run(context.Background(), probe.Config{Targets: []string{"192.0.2.1:8004"}})
		return err
	})
	if err != nil {
		t.Fatalf("MPTCP off on the client: %v", err)
	}
	if tr := res.Targets[0]; tr.MPTCP != "unknown" || len(tr.Notes) == 0 || !strings.Contains(tr.Notes[0], "cannot open MPTCP sockets") {
		t.Errorf("MPTCP off on the client: mptcp %s, notes %q", tr.MPTCP, tr.Notes)
	}
	if err := p.Client.Sysctl("net.mptcp.enabled", "1"); err != nil {
		t.Fatal(err)
	}

	err = p.Client.Do(func() error {
		_, err := probe.Run(context.Background(), probe.Config{Targets: []string{"192.0.2.1:9"}})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("closed port: %v", err)
	}
}

// goDefault listens on addr as Go servers do by default (a zero
// ListenConfig, MPTCP since Go 1.24) and sets TCP_FASTOPEN in Control, as
// Xray-core does; it accepts and closes connections.
func goDefault(t *testing.T, ns netnslab.Netns, addr netip.AddrPort) {
	t.Helper()
	var ln net.Listener
	err := ns.Do(func() error {
		lc := net.ListenConfig{Control: setFastOpen}
		var err error
		ln, err = lc.Listen(context.Background(), "tcp", addr.String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

func setFastOpen(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_TCP, unix.TCP_FASTOPEN, 16) }); err != nil {
		return err
	}
	return serr
}

// resetAtOnce listens on addr with TCP_FASTOPEN, plain TCP, and resets
// every connection as soon as it is accepted (SO_LINGER 0).
func resetAtOnce(t *testing.T, ns netnslab.Netns, addr netip.AddrPort) {
	t.Helper()
	var ln net.Listener
	err := ns.Do(func() error {
		lc := net.ListenConfig{Control: setFastOpen}
		lc.SetMultipathTCP(false)
		var err error
		ln, err = lc.Listen(context.Background(), "tcp", addr.String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
}
