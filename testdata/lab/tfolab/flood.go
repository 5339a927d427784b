package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// floodRecord is what flood prints once done: how many connections it
// made and what the kernel said of them, so a benchmark can tell a
// capture of N handshakes from one where most failed.
type floodRecord struct {
	Type         string   `json:"type"` // "flood"
	Servers      []string `json:"servers"`
	Connections  int64    `json:"connections"`
	Connected    int64    `json:"connected"`
	SynDataAcked int64    `json:"syn_data_acked"`
	Failed       int64    `json:"failed"`
	FirstError   string   `json:"first_error,omitempty"`
	ElapsedMS    int64    `json:"elapsed_ms"`
	Kernel       string   `json:"kernel"`
}

// flood makes -count TFO connections (TCP_FASTOPEN_CONNECT), -parallel at a
// time, spread over the -addr servers in turn: each sends -data, reads the
// reply to the end and closes. The first connection to a server that grants
// cookies asks for one; the kernel's cookie cache then puts the data of the
// following ones in their SYNs, as a busy TFO client does. It stops early
// after -deadline, whatever is left.
func flood(args []string) {
	fs := flag.NewFlagSet("flood", flag.ExitOnError)
	addrs := fs.String("addr", "", "servers IP:PORT, comma-separated ([v6]:port)")
	count := fs.Int("count", 10000, "connections in all")
	parallel := fs.Int("parallel", 16, "connections at once")
	data := fs.String("data", strings.Repeat("x", 200), "bytes each connection sends")
	timeout := fs.Duration("timeout", 3*time.Second, "SO_SNDTIMEO/SO_RCVTIMEO of each connection")
	deadline := fs.Duration("deadline", 5*time.Minute, "stop starting connections after this long")
	manifest := fs.String("manifest", "-", "append the summary line here (- for stdout)")
	fs.Parse(args)
	var servers []netip.AddrPort
	for _, a := range strings.Split(*addrs, ",") {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tfolab flood: bad -addr", a)
			os.Exit(2)
		}
		servers = append(servers, ap)
	}
	if *count <= 0 || *parallel <= 0 {
		fmt.Fprintln(os.Stderr, "tfolab flood: -count and -parallel must be positive")
		os.Exit(2)
	}
	rec := floodRecord{Type: "flood", Kernel: kernelRelease()}
	for _, s := range servers {
		rec.Servers = append(rec.Servers, s.String())
	}
	t0 := time.Now()
	stopAt := t0.Add(*deadline)
	var next atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	for w := 0; w < *parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1) - 1
				if n >= int64(*count) || time.Now().After(stopAt) {
					return
				}
				atomic.AddInt64(&rec.Connections, 1)
				acked, err := tfoRoundTrip(servers[n%int64(len(servers))], []byte(*data), *timeout)
				switch {
				case err != nil:
					atomic.AddInt64(&rec.Failed, 1)
					firstErr.Do(func() { rec.FirstError = errText(err) })
				case acked:
					atomic.AddInt64(&rec.SynDataAcked, 1)
					fallthrough
				default:
					atomic.AddInt64(&rec.Connected, 1)
				}
			}
		}()
	}
	wg.Wait()
	rec.ElapsedMS = time.Since(t0).Milliseconds()
	openJSONL(*manifest).put(rec)
}

// tfoRoundTrip makes one TFO connection to ap: it sends payload, reads
// the reply until the server closes, and reports whether the SYN's data
// was acknowledged (TCPI_OPT_SYN_DATA).
func tfoRoundTrip(ap netip.AddrPort, payload []byte, timeout time.Duration) (bool, error) {
	domain := unix.AF_INET
	if ap.Addr().Is6() {
		domain = unix.AF_INET6
	}
	fd, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	if err := unix.SetsockoptInt(fd, unix.SOL_TCP, unix.TCP_FASTOPEN_CONNECT, 1); err != nil {
		return false, fmt.Errorf("TCP_FASTOPEN_CONNECT: %w", err)
	}
	// Go's preemption signals interrupt blocking calls: a connect goes on
	// in the kernel (the write below waits for it), the rest are retried.
	if err := unix.Connect(fd, sockaddr(ap)); err != nil && err != unix.EINTR {
		return false, err
	}
	if err := retryEINTR(func() (err error) { _, err = unix.Write(fd, payload); return }); err != nil {
		return false, err
	}
	var buf [512]byte
	for {
		var n int
		if err := retryEINTR(func() (err error) { n, err = unix.Read(fd, buf[:]); return }); err != nil {
			return false, err
		}
		if n == 0 {
			break
		}
	}
	ti, err := getTCPInfo(fd)
	if err != nil {
		return false, err
	}
	return ti.SynDataAcked, nil
}

// retryEINTR calls f again while a signal interrupts it.
func retryEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}
