// Package sysinfo reads what a server host's kernel says about TCP Fast
// Open: its release, the sysctls that gate TFO and MPTCP, and the TFO
// counters of /proc/net/netstat. Every path is under a root given by the
// caller ("/proc" normally, a directory of fixtures in tests). It never
// returns the TFO key itself, only whether one is readable.
package sysinfo

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Sysctl is one integer sysctl; valid iff Known.
type Sysctl struct {
	Value int
	Known bool
}

// Host is what one read of the kernel's files shows.
type Host struct {
	Release string // uname -r, e.g. "6.1.0-27-cloud-amd64"
	// TCPFastOpen is net.ipv4.tcp_fastopen: bit 0x1 client, 0x2 server.
	TCPFastOpen Sysctl
	// MPTCPEnabled is net.mptcp.enabled; unknown without MPTCP support.
	MPTCPEnabled Sysctl
	// Key says whether net.ipv4.tcp_fastopen_key is set; the key itself is
	// read only to tell zeros from a key, and never kept.
	Key KeyState
	// BlackholeTimeout is net.ipv4.tcp_fastopen_blackhole_timeout_sec.
	BlackholeTimeout Sysctl
	Counters         Counters
}

// KeyState is what tfopcap may say of the TFO key.
type KeyState string

const (
	KeySet        KeyState = "set"        // a key: configured, or made by the kernel when TFO was first enabled here
	KeyUnset      KeyState = "unset"      // all zeros: nothing enabled TFO in this namespace yet
	KeyUnreadable KeyState = "unreadable" // reading it needs root
)

// readKeyState reads the key file only to tell a key from zeros, and
// clears its buffer before returning.
func readKeyState(path string) KeyState {
	b, err := os.ReadFile(path)
	defer clear(b)
	if err != nil || len(b) == 0 {
		return KeyUnreadable
	}
	for _, c := range b {
		if c != '0' && c != '-' && c != ',' && c != '\n' {
			return KeySet
		}
	}
	return KeyUnset
}

// Counters are TcpExt counters by name without the prefix
// ("TCPFastOpenPassive"); nil when /proc/net/netstat could not be read.
type Counters map[string]uint64

// TFOCounters are the TcpExt counters that concern TFO, in display order.
var TFOCounters = []string{
	"TCPFastOpenPassive", "TCPFastOpenPassiveFail", "TCPFastOpenCookieReqd",
	"TCPFastOpenListenOverflow", "TCPFastOpenPassiveAltKey",
	"TCPFastOpenActive", "TCPFastOpenActiveFail", "TCPFastOpenBlackhole",
}

// Read reads the host's facts under procRoot.
func Read(procRoot string) Host {
	h := Host{
		Release:          readTrim(filepath.Join(procRoot, "sys/kernel/osrelease")),
		TCPFastOpen:      readInt(filepath.Join(procRoot, "sys/net/ipv4/tcp_fastopen")),
		MPTCPEnabled:     readInt(filepath.Join(procRoot, "sys/net/mptcp/enabled")),
		BlackholeTimeout: readInt(filepath.Join(procRoot, "sys/net/ipv4/tcp_fastopen_blackhole_timeout_sec")),
	}
	h.Key = readKeyState(filepath.Join(procRoot, "sys/net/ipv4/tcp_fastopen_key"))
	h.Counters, _ = ReadCounters(procRoot)
	return h
}

// ReadCounters reads the TcpExt counters of procRoot/net/netstat.
func ReadCounters(procRoot string) (Counters, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, "net/netstat"))
	if err != nil {
		return nil, err
	}
	return ParseNetstat(b, "TcpExt")
}

// ParseNetstat reads the counters of one prefix from /proc/net/netstat,
// whose lines come in pairs: "TcpExt: Name1 Name2 ..." then
// "TcpExt: 1 2 ...". Names are matched, never positions: kernels add
// counters.
func ParseNetstat(b []byte, prefix string) (Counters, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var names []string
	for sc.Scan() {
		head, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || head != prefix {
			continue
		}
		fields := strings.Fields(rest)
		if names == nil {
			names = fields
			continue
		}
		if len(fields) != len(names) {
			return nil, fmt.Errorf("netstat: %s has %d names and %d values", prefix, len(names), len(fields))
		}
		c := make(Counters, len(names))
		for i, f := range fields {
			v, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("netstat: %s %s: %q is not a counter", prefix, names[i], f)
			}
			c[names[i]] = v
		}
		return c, nil
	}
	return nil, fmt.Errorf("netstat: no %s lines", prefix)
}

// Delta is after - before for each counter both hold (counters only
// grow; a wrapped one reads as 0).
func Delta(before, after Counters) Counters {
	if before == nil || after == nil {
		return nil
	}
	d := make(Counters, len(after))
	for k, a := range after {
		if b, ok := before[k]; ok && a >= b {
			d[k] = a - b
		}
	}
	return d
}

// ServerBit reports whether net.ipv4.tcp_fastopen lets listeners do TFO
// (0x2); valid iff TCPFastOpen.Known.
func (h Host) ServerBit() bool { return h.TCPFastOpen.Value&0x2 != 0 }

// Version is a kernel release's major and minor numbers: "6.1.0-27-amd64"
// -> 6, 1. ok is false when the release does not start with them.
func Version(release string) (major, minor int, ok bool) {
	maj, rest, found := strings.Cut(release, ".")
	if !found {
		return 0, 0, false
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(rest[:end])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return a, b, true
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func readInt(path string) Sysctl {
	v, err := strconv.Atoi(readTrim(path))
	if err != nil {
		return Sysctl{}
	}
	return Sysctl{Value: v, Known: true}
}
