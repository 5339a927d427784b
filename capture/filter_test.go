//go:build cgo

package capture

import (
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// matchNumbers returns the numbers of the frames of path that f matches.
func matchNumbers(t testing.TB, f *Filter, path string) []int {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var nums []int
	var fr Frame
	for {
		err := r.Next(&fr)
		if err == io.EOF {
			return nums
		}
		if err != nil {
			t.Fatal(err)
		}
		ok, err := f.Match(&fr)
		if err != nil {
			t.Fatalf("frame %d: %v", fr.Number, err)
		}
		if ok {
			nums = append(nums, fr.Number)
		}
	}
}

// tcpdumpMatches returns the frames that tcpdump (libpcap's own reader
// and filter) selects with expr, as it writes them to a file. tcpdump fails
// on an expression that rejects every packet of the file's link type;
// that selects nothing.
func tcpdumpMatches(t testing.TB, path, expr string) []rec {
	t.Helper()
	tcpdump := needTool(t, "tcpdump")
	out := filepath.Join(t.TempDir(), "matched.pcap")
	msg, err := exec.Command(tcpdump, "--time-stamp-precision=nano", "-n", "-r", path, "-w", out, expr).CombinedOutput()
	if err != nil {
		if strings.Contains(string(msg), "expression rejects all packets") {
			return nil
		}
		t.Fatalf("tcpdump -r %s %q: %v\n%s", path, expr, err, msg)
	}
	recs, _ := mustReadAll(t, out, readFile(t, out))
	return recs
}

// TestFilterMatchesTcpdump runs filters over every public capture (all
// the link types among them, pcap and pcapng) and requires the frames
// tcpdump selects.
func TestFilterMatchesTcpdump(t *testing.T) {
	needTool(t, "tcpdump")
	for _, expr := range []string{
		"tcp[tcpflags] & tcp-syn != 0",
		"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
		"ip6 and tcp",
		"tcp port 80 or tcp port 53",
	} {
		total := 0
		for _, c := range publicCaptures {
			path := publicFile(t, c.name)
			got := matchNumbers(t, NewFilter(expr), path)
			want := tcpdumpMatches(t, path, expr)
			// Same frames, told apart by time, lengths and an MD5 of
			// their bytes: then their numbers are the ones tshark gives
			// them (TestPublicCaptures).
			all, info := mustReadAll(t, path, readFile(t, path))
			var sel []rec
			for _, n := range got {
				sel = append(sel, all[n-1])
			}
			if !sameMatches(sel, want, info.Snaplen) {
				t.Errorf("%s %q: frames %v; tcpdump selects %d frames\n%v\n%v", c.name, expr, got, len(want), sel, want)
			}
			total += len(got)
		}
		if total == 0 {
			t.Errorf("%q matched nothing anywhere: the comparison proves little", expr)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	bad := "tcp[tcpflags] & tcp-bogus != 0"
	f := NewFilter(bad)
	err := f.Compile(1)
	if err == nil || !strings.Contains(err.Error(), `filter "`+bad+`"`) || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("bad expression: %v", err)
	}
	if _, err2 := f.Match(&Frame{LinkType: 1, Data: make([]byte, 60), OrigLen: 60}); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("Match: %v, want %v", err2, err)
	}

	// A link type libpcap cannot filter fails for its frames only.
	f = NewFilter("tcp")
	if _, err := f.Match(&Frame{LinkType: 65000}); err == nil || !strings.Contains(err.Error(), "link type 65000") {
		t.Errorf("unknown link type: %v", err)
	}
	if _, err := f.Match(&Frame{LinkType: 1, Data: make([]byte, 14)}); err != nil {
		t.Errorf("Ethernet after an unknown link type: %v", err)
	}
	// An expression that rejects every frame of a link type matches none
	// of them; it is not an error (tcpdump refuses such a file).
	f6 := NewFilter("ip6 and tcp")
	if ok, err := f6.Match(&Frame{LinkType: 228, Data: make([]byte, 40)}); ok || err != nil {
		t.Errorf("ip6 on raw IPv4: %v %v", ok, err)
	}
	if f.String() != "tcp" {
		t.Errorf("String %q", f.String())
	}
	// Frames with no bytes at all are matched, not indexed.
	if ok, err := f.Match(&Frame{LinkType: 1}); ok || err != nil {
		t.Errorf("empty frame: %v %v", ok, err)
	}
}

// TestFilterAllocs checks that matching allocates nothing per frame, with
// the link type changing between frames too.
func TestFilterAllocs(t *testing.T) {
	data := readFile(t, publicFile(t, "tcpdump_tfo-exp254-syndata.pcap"))
	r, err := NewFileReader("f", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var a Frame
	if err := r.Next(&a); err != nil {
		t.Fatal(err)
	}
	b := a
	b.LinkType = 113
	f := NewFilter("tcp[tcpflags] & tcp-syn != 0")
	frames := []*Frame{&a, &b}
	i := 0
	f.Match(&a)
	f.Match(&b)
	allocs := countAllocs(t, 1000, func() {
		if _, err := f.Match(frames[i%2]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("%d allocations in 1000 matches", allocs)
	}
}

// sameMatches compares frames by what tcpdump -w keeps of them. libpcap
// cuts a record longer than the file's snapshot length down to it, where
// Wireshark and this package keep every byte the file holds
// (tcpdump_mptcp-dss-oobr-malformed.pcap has a 74-byte record under a
// snapshot length of 73); such frames are compared without their bytes.
func sameMatches(got, want []rec, snaplen int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.CapLen != w.CapLen && g.CapLen > snaplen && w.CapLen == snaplen {
			g.CapLen, g.MD5 = w.CapLen, w.MD5
		}
		if g.Time != w.Time || g.MD5 != w.MD5 || g.OrigLen != w.OrigLen || g.CapLen != w.CapLen || g.LinkType != w.LinkType {
			return false
		}
	}
	return true
}
