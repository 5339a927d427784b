package main

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/internal/netnslab"
)

// TestLiveChange restarts a TFO listener without TFO while tfopcap live
// watches, and checks that live says so while it runs, before the report:
// the regression as it happens.
func TestLiveChange(t *testing.T) {
	netnslab.Require(t)
	p := netnslab.NewPair(t)
	bin := buildTfopcap(t)
	server := netip.AddrPortFrom(p.ServerV4, 8001)
	listen := func(fastOpen int) interface{ Close() error } {
		ln, err := p.Server.Listen(netnslab.ServerConfig{Addr: server, FastOpen: fastOpen})
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	lp := startLive(t, bin, p.Client, "client veth", "-i", p.ClientIf, "--format", "json")
	dial := func(n int) {
		for range n {
			if _, err := p.Client.Dial(netnslab.DialConfig{Server: server, FastOpen: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ln := listen(16)
	dial(3) // a cookie request granted, then cookies with data accepted
	ln.Close()
	ln = listen(0)
	defer ln.Close()
	dial(3) // cookies with data rejected

	want := "tfopcap: change: " + server.String() + " stopped granting: last grant (accepted)"
	deadline := time.Now().Add(10 * time.Second) // answered attempts are judged 3 s after their reply
	for !strings.Contains(lp.stderr.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q on stderr 10 s after the change:\n%s", want, lp.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if lp.stdout.String() != "" {
		t.Errorf("the change came after the report, not as it happened")
	}
	if code := lp.wait(t, os.Interrupt); code != 0 {
		t.Fatalf("exit %d after SIGINT:\n%s", code, lp.stderr.String())
	}
	r := lp.report(t)
	s := serverOf(t, r, server.String())
	if s.Change == nil || s.Change.Kind != "stopped-granting" || s.Change.After == nil || s.Change.After.Outcome.String() != "rejected" {
		t.Errorf("report change %+v", s.Change)
	}
	if c := s.Change; c != nil && c.Before != nil && c.After != nil {
		frames := fmt.Sprintf("last grant (accepted) 0:%d (SYN 0:%d) at %s, first omission (rejected) 0:%d (SYN 0:%d)",
			c.Before.Frame, c.Before.SYNFrame, c.Before.Time, c.After.Frame, c.After.SYNFrame)
		if !strings.Contains(lp.stderr.String(), frames) {
			t.Errorf("live told the change with other frames than its report (%s):\n%s", frames, lp.stderr.String())
		}
	}
	if n := strings.Count(lp.stderr.String(), "tfopcap: change:"); n != 1 {
		t.Errorf("%d change lines, want 1:\n%s", n, lp.stderr.String())
	}
}
