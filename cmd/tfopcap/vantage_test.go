package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
)

// TestVantageFindings reads the router lab (testdata/lab/run-path) the
// three ways it was captured and checks that every one finds what the
// router did, where it did it: option-stripped on the ports whose SYNs
// lost option 34 (with and without NAT), reply-lost on the port whose
// SYN-ACKs were dropped, and nothing on the others. A server that was
// never asked gets no MPTCP or listener blame.
func TestVantageFindings(t *testing.T) {
	checkVantageFindings(t, filepath.Join("..", "..", "testdata", "captures", "path-6.18"))
}

// TestRouterLabLive runs testdata/lab/run-path on the running kernel into
// a temporary directory, then checks its fresh captures as the committed
// ones are checked: nft's option removal, the dropped SYN-ACKs and the
// NAT must show the same way on every kernel this runs on. About 10 s;
// root and the lab's tools (tcpdump, dumpcap, nft, tshark, jq) needed.
func TestRouterLabLive(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	for _, tool := range []string{"tcpdump", "dumpcap", "nft", "tshark", "jq", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dir := t.TempDir()
	cmd := exec.Command(filepath.Join("..", "..", "testdata", "lab", "run-path"), dir)
	// A prefix of this process's own: helpers running at once never share
	// namespaces.
	cmd.Env = append(os.Environ(), fmt.Sprintf("PATH_PREFIX=tp%d", os.Getpid()%100000))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("run-path: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m labManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, set := range append(m.ReadTogether, []string{"path-router-any.pcap"}, []string{"path-router.pcapng"}) {
		var files []string
		for _, f := range set {
			files = append(files, filepath.Join(dir, f))
		}
		checkLabReport(t, analyzeJSON(t, files...), &m)
	}
	checkVantageFindings(t, dir)
}

// checkVantageFindings checks the findings of a run-path directory.
func checkVantageFindings(t *testing.T, dir string) {
	t.Helper()
	want := map[string][]analyze.FindingID{
		"10.78.2.2:8101": {},
		"10.78.2.2:8102": {analyze.FindOptionStripped},
		"10.78.2.2:8103": {analyze.FindReplyLost},
		"10.78.2.2:8104": {},
		"10.78.2.2:8105": {analyze.FindOptionStripped},
		"10.78.2.2:8106": {analyze.FindMPTCPUnseen, analyze.FindOtherCauses},
	}
	blame := []analyze.FindingID{analyze.FindMPTCPTFOUnsupported, analyze.FindListenerNoTFO, analyze.FindMPTCPUnseen, analyze.FindOtherCauses}
	for _, files := range [][]string{
		{"path-client-side.pcap", "path-server-side.pcap"},
		{"path-server-side.pcap", "path-client-side.pcap"}, // input order does not matter
		{"path-router-any.pcap"},
		{"path-router.pcapng"},
	} {
		var args []string
		for _, f := range files {
			args = append(args, filepath.Join(dir, f))
		}
		t.Run(files[0], func(t *testing.T) {
			r := analyzeJSON(t, args...)
			for _, s := range r.Servers {
				w, ok := want[s.Server]
				if !ok {
					t.Errorf("unexpected server %s", s.Server)
					continue
				}
				if !slices.Equal(s.HintIDs, w) {
					t.Errorf("%s: hint IDs %v, want %v", s.Server, s.HintIDs, w)
				}
				if s.Outcomes[analyze.Stripped] > 0 {
					if s.Verdict != analyze.Inconclusive || slices.ContainsFunc(s.HintIDs, func(id analyze.FindingID) bool { return slices.Contains(blame, id) }) {
						t.Errorf("%s: never asked, yet %s with %v", s.Server, s.Verdict, s.HintIDs)
					}
				}
			}
			for _, a := range r.Attempts {
				if (a.Outcome == analyze.Stripped) != (a.SYN.Stripped != nil) {
					t.Errorf("%s > %s: outcome %s, stripped copy %+v", a.Client, a.Server, a.Outcome, a.SYN.Stripped)
				}
				if a.SYN.Stripped != nil && a.SYN.Stripped.TFO != "none" {
					t.Errorf("%s > %s: the stripped copy has TFO %s", a.Client, a.Server, a.SYN.Stripped.TFO)
				}
				if len(a.SYN.Seen) < 2 {
					t.Errorf("%s > %s: SYN seen %d time(s); both sides of the router see every SYN", a.Client, a.Server, len(a.SYN.Seen))
				}
			}
		})
	}
}

// TestVantageCookedV1 reads the router lab's -i any capture rewritten as
// Linux cooked v1, which tcpdump -i any writes with libpcap < 1.10 (Ubuntu
// 20.04, RHEL 8): v1 frames name no interface, only whether the host sent
// them, so the two copies of a forwarded SYN differ only in direction.
// Read as one vantage point, the router's option removal made 8102 omit
// and the NAT's copies counted twice.
func TestVantageCookedV1(t *testing.T) {
	lab, err := filepath.Abs(filepath.Join("..", "..", "testdata", "captures", "path-6.18"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"path-client-side.pcap", "path-server-side.pcap", "path-router.pcapng"} {
		if err := os.Symlink(filepath.Join(lab, f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	any := filepath.Join(dir, "path-router-any.pcap")
	writeCookedV1(t, filepath.Join(lab, "path-router-any.pcap"), any)
	b, err := os.ReadFile(filepath.Join(lab, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m labManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	checkLabReport(t, analyzeJSON(t, any), &m)
	checkVantageFindings(t, dir)
}

// writeCookedV1 rewrites a little-endian LINUX_SLL2 pcap as LINUX_SLL: the
// same frames with v1's 16-byte header (packet type, ARPHRD type, address
// length, address, protocol) in place of v2's 20.
func writeCookedV1(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if len(b) < 24 || le.Uint32(b) != 0xa1b2c3d4 || le.Uint32(b[20:]) != analyze.LinkSLL2 {
		t.Fatalf("%s: not a little-endian microsecond SLL2 pcap", from)
	}
	out := append([]byte(nil), b[:24]...)
	le.PutUint32(out[20:], analyze.LinkSLL)
	for p := 24; p+16 <= len(b); {
		incl := int(le.Uint32(b[p+8:]))
		rec, frame := b[p:p+16], b[p+16:p+16+incl]
		if incl < 20 {
			t.Fatalf("%s: frame at offset %d shorter than its SLL2 header", from, p)
		}
		hdr := make([]byte, 16)
		copy(hdr, rec)
		le.PutUint32(hdr[8:], uint32(incl-4))
		le.PutUint32(hdr[12:], le.Uint32(rec[12:])-4)
		v1 := make([]byte, 16, incl-4)
		binary.BigEndian.PutUint16(v1[0:], uint16(frame[10])) // packet type
		copy(v1[2:4], frame[8:10])                            // ARPHRD type
		binary.BigEndian.PutUint16(v1[4:], uint16(frame[11])) // address length
		copy(v1[6:14], frame[12:20])
		copy(v1[14:16], frame[0:2]) // protocol
		out = append(append(append(out, hdr...), v1...), frame[20:]...)
		p += 16 + incl
	}
	if err := os.WriteFile(to, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
