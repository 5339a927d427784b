package netnslab

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tfopcap/tfopcap/internal/caps"
)

// Netns is a named network namespace (an entry in /run/netns, as `ip netns`
// makes them).
type Netns struct {
	Name string
}

// netnsDir is where `ip netns` keeps its namespaces.
const netnsDir = "/run/netns"

// Command returns a command that runs name with args inside the namespace
// (`ip netns exec NS name args...`). ip execs the program, so the process
// is the program itself: signal it directly.
func (n Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Run runs name with args inside the namespace and returns its combined
// output; the error quotes that output.
func (n Netns) Run(name string, args ...string) (string, error) {
	out, err := n.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("netns %s: %s %s: %v: %s", n.Name, name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// Sysctl sets a sysctl inside the namespace (sysctl -w key=value).
func (n Netns) Sysctl(key, value string) error {
	_, err := n.Run("sysctl", "-qw", key+"="+value)
	return err
}

// FlushTCPMetrics empties the namespace's TCP metrics cache, where Linux
// keeps TFO cookies per destination address: the next TFO connect from
// here asks for a cookie again.
func (n Netns) FlushTCPMetrics() error {
	_, err := n.Run("ip", "tcp_metrics", "flush", "all")
	return err
}

// Do runs fn on an OS thread switched into the namespace and waits for it.
// Sockets fn creates belong to the namespace for good. fn must not start
// goroutines that expect to be inside it: they run on other threads.
func (n Netns) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		// The thread stays locked if it cannot be switched back, and the
		// runtime then discards it when this goroutine exits.
		runtime.LockOSThread()
		errc <- n.do(fn)
	}()
	return <-errc
}

func (n Netns) do(fn func() error) error {
	origin, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return fmt.Errorf("netns: %v", err)
	}
	defer origin.Close()
	target, err := os.Open(filepath.Join(netnsDir, n.Name))
	if err != nil {
		return fmt.Errorf("netns %s: %v", n.Name, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("netns %s: setns: %v", n.Name, err)
	}
	ferr := fn()
	if err := unix.Setns(int(origin.Fd()), unix.CLONE_NEWNET); err == nil {
		runtime.UnlockOSThread()
	}
	return ferr
}

// Pair is two namespaces joined by a veth link; see the package comment
// for the topology.
type Pair struct {
	Server, Client     Netns
	ServerIf, ClientIf string // veth ends inside Server and Client
	ServerV4, ClientV4 netip.Addr
	ServerV6, ClientV6 netip.Addr
	ServerMAC          string
	ClientMAC          string
}

// The topology's fixed names and addresses.
const (
	ServerIf  = "veth-srv"
	ClientIf  = "veth-cli"
	ServerMAC = "02:00:00:00:00:01"
	ClientMAC = "02:00:00:00:00:02"
)

var (
	ServerV4 = netip.MustParseAddr("192.0.2.1")
	ClientV4 = netip.MustParseAddr("192.0.2.2")
	ServerV6 = netip.MustParseAddr("2001:db8::1")
	ClientV6 = netip.MustParseAddr("2001:db8::2")
)

// namePrefix starts every namespace this package makes; the pid that
// follows lets a later run sweep namespaces of a killed test binary.
const namePrefix = "netnslab-"

var seq atomic.Int64

// NewPair builds a pair of namespaces (calling Require first) and deletes
// them when the test ends. It fails the test if the lab cannot be built.
func NewPair(t testing.TB) *Pair {
	t.Helper()
	Require(t)
	sweepStale()
	id := fmt.Sprintf("%s%d-%d", namePrefix, os.Getpid(), seq.Add(1))
	p := &Pair{
		Server: Netns{id + "-srv"}, Client: Netns{id + "-cli"},
		ServerIf: ServerIf, ClientIf: ClientIf,
		ServerV4: ServerV4, ClientV4: ClientV4, ServerV6: ServerV6, ClientV6: ClientV6,
		ServerMAC: ServerMAC, ClientMAC: ClientMAC,
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("netnslab: %v", err)
		}
	})
	if err := p.build(); err != nil {
		t.Fatalf("netnslab: %v", err)
	}
	return p
}

func (p *Pair) build() error {
	for _, ns := range []Netns{p.Server, p.Client} {
		if err := ip("netns", "add", ns.Name); err != nil {
			return err
		}
	}
	if err := ip("link", "add", p.ServerIf, "netns", p.Server.Name, "address", p.ServerMAC, "type", "veth",
		"peer", "name", p.ClientIf, "netns", p.Client.Name, "address", p.ClientMAC); err != nil {
		return err
	}
	sysctls := [][2]string{
		{"net.ipv4.tcp_fastopen", "3"},
		{"net.ipv6.conf.all.accept_dad", "0"},
		{"net.ipv6.conf.default.accept_dad", "0"},
		{"net.ipv6.conf.all.router_solicitations", "0"},
		{"net.ipv6.conf.default.router_solicitations", "0"},
	}
	ends := []struct {
		ns           Netns
		ifc          string
		v4, v6       netip.Addr
		peerV4       netip.Addr
		peerV6       netip.Addr
		peerMAC      string
		prefix4, pf6 int
	}{
		{p.Server, p.ServerIf, p.ServerV4, p.ServerV6, p.ClientV4, p.ClientV6, p.ClientMAC, 24, 64},
		{p.Client, p.ClientIf, p.ClientV4, p.ClientV6, p.ServerV4, p.ServerV6, p.ServerMAC, 24, 64},
	}
	for _, e := range ends {
		for _, kv := range sysctls {
			if err := e.ns.Sysctl(kv[0], kv[1]); err != nil {
				return err
			}
		}
		n := e.ns.Name
		steps := [][]string{
			{"-n", n, "link", "set", "lo", "up"},
			{"-n", n, "addr", "add", fmt.Sprintf("%s/%d", e.v4, e.prefix4), "dev", e.ifc},
			{"-n", n, "-6", "addr", "add", fmt.Sprintf("%s/%d", e.v6, e.pf6), "dev", e.ifc, "nodad"},
			{"-n", n, "link", "set", e.ifc, "up"},
			{"-n", n, "neigh", "replace", e.peerV4.String(), "lladdr", e.peerMAC, "dev", e.ifc, "nud", "permanent"},
			{"-n", n, "-6", "neigh", "replace", e.peerV6.String(), "lladdr", e.peerMAC, "dev", e.ifc, "nud", "permanent"},
		}
		for _, s := range steps {
			if err := ip(s...); err != nil {
				return err
			}
		}
	}
	// A veth end reports carrier once both ends are up; wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for _, e := range ends {
		for {
			out, err := exec.Command("ip", "-n", e.ns.Name, "-o", "link", "show", "dev", e.ifc).CombinedOutput()
			if err == nil && strings.Contains(string(out), "LOWER_UP") {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s in %s did not come up: %s", e.ifc, e.ns.Name, bytes.TrimSpace(out))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// Close kills what still runs in the pair's namespaces and deletes them.
// NewPair arranges for it; calling it again is harmless.
func (p *Pair) Close() error {
	var errs []error
	for _, ns := range []Netns{p.Client, p.Server} {
		if err := deleteNetns(ns.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func deleteNetns(name string) error {
	if _, err := os.Stat(filepath.Join(netnsDir, name)); err != nil {
		return nil
	}
	if out, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
	}
	return ip("netns", "del", name)
}

// sweepStale deletes namespaces this package made in processes that are
// gone (a test binary killed before its cleanups ran).
func sweepStale() {
	entries, err := os.ReadDir(netnsDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), namePrefix)
		if !ok {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue
		}
		deleteNetns(e.Name())
	}
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

var (
	probeOnce   sync.Once
	probeReason string // why labs cannot be built here; "" if they can
)

// Available reports whether labs can be built here and, if not, why. It
// checks the platform, `ip`, the capabilities, and once per process that a
// namespace can really be made and entered.
func Available() (ok bool, reason string) {
	probeOnce.Do(func() { probeReason = probe() })
	return probeReason == "", probeReason
}

func probe() string {
	if runtime.GOOS != "linux" {
		return "network namespaces need Linux"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "the ip command (iproute2) is not installed"
	}
	if has, _ := caps.Has(caps.NetAdmin, caps.SysAdmin); !has {
		return "needs CAP_NET_ADMIN and CAP_SYS_ADMIN to create and enter network namespaces (run the tests as root)"
	}
	name := fmt.Sprintf("%s%d-probe", namePrefix, os.Getpid())
	if err := ip("netns", "add", name); err != nil {
		return fmt.Sprintf("cannot create a network namespace: %v", err)
	}
	defer deleteNetns(name)
	if err := (Netns{name}).Do(func() error { return nil }); err != nil {
		return fmt.Sprintf("cannot enter a network namespace: %v", err)
	}
	return ""
}

// Require skips the test when labs cannot be built here, saying why. When
// the lab is required (NETNSLAB_REQUIRE=1, or CI set and NETNSLAB_REQUIRE
// not 0) it fails the test instead.
func Require(t testing.TB) {
	t.Helper()
	ok, reason := Available()
	if ok {
		return
	}
	if required() {
		t.Fatalf("netnslab: %s (required here: CI or NETNSLAB_REQUIRE=1)", reason)
	}
	t.Skipf("netnslab: %s", reason)
}

func required() bool {
	switch os.Getenv("NETNSLAB_REQUIRE") {
	case "1":
		return true
	case "0":
		return false
	}
	return os.Getenv("CI") != ""
}
