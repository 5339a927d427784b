package sysinfo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		release      string
		major, minor int
		ok           bool
	}{
		{"6.1.0-27-cloud-amd64", 6, 1, true},
		{"6.18.44-fc-v1045", 6, 18, true},
		{"5.10", 5, 10, true},
		{"6.2-rc1", 6, 2, true},
		{"", 0, 0, false},
		{"linux", 0, 0, false},
		{"6.x", 0, 0, false},
	} {
		maj, min, ok := Version(tc.release)
		if maj != tc.major || min != tc.minor || ok != tc.ok {
			t.Errorf("Version(%q) = %d, %d, %v; want %d, %d, %v", tc.release, maj, min, ok, tc.major, tc.minor, tc.ok)
		}
	}
}

const netstat = `TcpExt: SyncookiesSent TCPFastOpenPassive TCPFastOpenCookieReqd
TcpExt: 0 12 30
IpExt: InNoRoutes
IpExt: 4
`

func TestParseNetstat(t *testing.T) {
	c, err := ParseNetstat([]byte(netstat), "TcpExt")
	if err != nil || c["TCPFastOpenPassive"] != 12 || c["TCPFastOpenCookieReqd"] != 30 {
		t.Fatalf("ParseNetstat = %v, %v", c, err)
	}
	for name, bad := range map[string]string{
		"fewer values": "TcpExt: A B\nTcpExt: 1\n",
		"not a number": "TcpExt: A\nTcpExt: x\n",
		"no TcpExt":    "IpExt: A\nIpExt: 1\n",
	} {
		if _, err := ParseNetstat([]byte(bad), "TcpExt"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDelta(t *testing.T) {
	d := Delta(Counters{"A": 1, "B": 5}, Counters{"A": 4, "B": 2, "C": 9})
	if d["A"] != 3 || d["B"] != 0 || d["C"] != 0 {
		t.Errorf("Delta = %v", d)
	}
	if Delta(nil, Counters{}) != nil {
		t.Error("Delta without a first sample is not nil")
	}
}

// TestRead reads a fixture tree laid out as /proc is, and never keeps the key.
func TestRead(t *testing.T) {
	root := t.TempDir()
	for path, body := range map[string]string{
		"sys/kernel/osrelease":          "6.1.0-27-cloud-amd64\n",
		"sys/net/ipv4/tcp_fastopen":     "3\n",
		"sys/net/mptcp/enabled":         "1\n",
		"sys/net/ipv4/tcp_fastopen_key": "00000000-00000000-00000000-00000000\n",
		"net/netstat":                   netstat,
	} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h := Read(root)
	if h.Release != "6.1.0-27-cloud-amd64" || !h.ServerBit() || h.MPTCPEnabled.Value != 1 || h.Key != KeyUnset {
		t.Errorf("Read = %+v", h)
	}
	if err := os.WriteFile(filepath.Join(root, "sys/net/ipv4/tcp_fastopen_key"), []byte("0123abcd-00000000-00000000-00000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if k := Read(root).Key; k != KeySet {
		t.Errorf("a key reads as %q", k)
	}
	if k := readKeyState(filepath.Join(root, "missing")); k != KeyUnreadable {
		t.Errorf("a missing key file reads as %q", k)
	}
	if h.BlackholeTimeout.Known {
		t.Error("a missing sysctl reads as known")
	}
	if h.Counters["TCPFastOpenPassive"] != 12 {
		t.Errorf("counters = %v", h.Counters)
	}
}
