//go:build linux && cgo

package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/internal/netnslab"
	"github.com/tfopcap/tfopcap/report"
)

// buildNoCgo builds the command with CGO_ENABLED=0, as the static release
// binaries are: no libpcap in it.
func buildNoCgo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tfopcap-nocgo")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	return bin
}

// TestLiveBackendsAgree captures the same real traffic on one veth at once
// through libpcap, through AF_PACKET and through AF_PACKET in a binary
// built without cgo: the three reports must be the same, counters and
// all, but for the times of incoming packets, which each packet socket
// stamps itself (the veth's receive path leaves them unset).
func TestLiveBackendsAgree(t *testing.T) {
	p := netnslab.NewPair(t)
	bin, nocgo := buildTfopcap(t), buildNoCgo(t)
	tfo, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV4, 8001), FastOpen: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer tfo.Close()
	tfo6, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV6, 8006), FastOpen: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer tfo6.Close()
	plain, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV4, 8002)})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()

	args := []string{"-i", p.ServerIf, "--format", "json", "--reply-timeout", "1s"}
	procs := []*liveProc{
		startLive(t, bin, p.Server, "pcap", append(args, "--capture-backend", "pcap")...),
		startLive(t, bin, p.Server, "afpacket", append(args, "--capture-backend", "afpacket")...),
		startLive(t, nocgo, p.Server, "afpacket without cgo", args...),
	}
	for _, d := range []netnslab.DialConfig{
		{Server: tfo.Addr(), FastOpen: true}, // asks for a cookie
		{Server: tfo.Addr(), FastOpen: true}, // data in the SYN
		{Server: tfo6.Addr(), FastOpen: true},
		{Server: plain.Addr()},
	} {
		if _, err := p.Client.Dial(d); err != nil {
			t.Fatal(err)
		}
	}
	// A closed port: SYN, then the server's RST.
	_, _ = p.Client.Dial(netnslab.DialConfig{Server: netip.AddrPortFrom(p.ServerV4, 8009)})

	var want []byte
	for i, lp := range procs {
		if code := lp.wait(t, os.Interrupt); code != 0 {
			t.Fatalf("%s: exit %d:\n%s", lp.name, code, lp.stderr.String())
		}
		r := lp.report(t)
		if r.Totals.Attempts != 5 || r.Live == nil || r.Live.Dropped != 0 {
			t.Errorf("%s: %d attempts, live %+v; want 5, no drops", lp.name, r.Totals.Attempts, r.Live)
		}
		got := canonical(t, r)
		if i == 0 {
			want = got
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s's report differs from libpcap's:\n%s\nlibpcap:\n%s", lp.name, got, want)
		}
	}
	for _, lp := range procs {
		backend := "afpacket"
		if lp.name == "pcap" {
			backend = "pcap"
		}
		if !strings.Contains(lp.stderr.String(), "buffer 4MiB, "+backend+" (") {
			t.Errorf("%s: the listening line does not name the %s backend:\n%s", lp.name, backend, lp.stderr.String())
		}
	}
}

// canonical is the report as JSON, indented for a readable diff, with
// packet times left out.
func canonical(t *testing.T, r *report.Report) []byte {
	t.Helper()
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	b = packetTimes.ReplaceAll(b, []byte(`"$1": "T"`))
	return replyTimes.ReplaceAll(b, []byte(`"rtt_us": 0`))
}

var (
	packetTimes = regexp.MustCompile(`"(time|first|last)": "[^"]*"`)
	// Each backend stamps packets itself, so the SYN-to-reply time differs
	// by a few microseconds between them.
	replyTimes = regexp.MustCompile(`"rtt_us": [0-9]+`)
)

// importedLibraries lists the shared libraries an ELF binary needs.
func importedLibraries(t *testing.T, bin string) []string {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	return libs
}

// TestLiveNoCgo: a binary built without cgo needs no shared library (no
// libpcap: it runs where none is installed), lists interfaces, says in one
// line that -f and the pcap backend need libpcap, and rejects an unknown
// backend as a usage error.
func TestLiveNoCgo(t *testing.T) {
	p := netnslab.NewPair(t)
	nocgo := buildNoCgo(t)
	if libs := importedLibraries(t, nocgo); len(libs) != 0 {
		t.Errorf("the CGO_ENABLED=0 binary needs shared libraries: %v", libs)
	}
	rows := []struct {
		name string
		args []string
		want string
	}{
		{"filter", []string{"-i", p.ClientIf, "-f", "port 80"}, "filters (-f) and the pcap capture backend need libpcap, and this tfopcap was built without cgo"},
		{"pcap backend", []string{"-i", p.ClientIf, "--capture-backend", "pcap"}, "need libpcap"},
		{"unknown backend", []string{"-i", p.ClientIf, "--capture-backend", "dpdk"}, `invalid argument "dpdk" for "--capture-backend" flag: want one of auto, afpacket, pcap`},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			cmd := p.Client.Command(nocgo, append([]string{"live"}, r.args...)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != exitError {
				t.Fatalf("exit %v, want %d; stderr:\n%s", err, exitError, stderr.String())
			}
			lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], r.want) {
				t.Errorf("stderr %q, want one line with %q", stderr.String(), r.want)
			}
		})
	}
	out, err := p.Client.Run(nocgo, "live", "-D")
	if err != nil || !strings.Contains(out, "."+p.ClientIf+" [Up, Running] "+p.ClientV4.String()+"/24") || !strings.Contains(out, ".any [Up, Running]") {
		t.Errorf("-D without cgo: %v\n%s", err, out)
	}
}
