// Command tfolab is the lab's TFO server and client. It exists to produce
// real-kernel captures for tfopcap and to be driven from tests later.
//
//	tfolab serve -listen SPEC [-listen SPEC ...] [-manifest FILE] [-duration D]
//	tfolab dial  -addr IP:PORT [-sock tcp|mptcp] [-tfo none|connect|sendto]
//	             [-data STR] [-timeout D] [-scenario NAME] [-expect OUTCOME]
//	             [-manifest FILE]
//	tfolab flood -addr IP:PORT[,IP:PORT...] [-count N] [-parallel P] [-data STR]
//	             [-timeout D] [-deadline D] [-manifest FILE]
//
// A listener SPEC is comma-separated key=value pairs:
//
//	addr=IP:PORT      address to listen on (required)
//	mptcp=default     net.ListenConfig zero value: MPTCP under go >= 1.24 (Go's default)
//	mptcp=off         lc.SetMultipathTCP(false): plain TCP
//	mptcp=on          lc.SetMultipathTCP(true): explicit MPTCP
//	tfo=N             set TCP_FASTOPEN=N in ListenConfig.Control (0: never call setsockopt)
//	ctlerr=log        Control logs a setsockopt error and returns nil (what Xray-core does)
//	ctlerr=return     Control returns the error (Go then retries MPTCP listeners as plain TCP)
//	name=NAME         free-form label copied to the manifest
//
// serve prints one JSON object per listener (and per Control call) to the
// manifest file (JSON lines), logs like a proxy would on stderr, prints
// "READY" on stdout once every listener is up, answers each connection with
// "ok\n" after reading what the client sent, and exits after -duration or on
// SIGTERM/SIGINT.
//
// dial makes exactly one connection attempt and appends one JSON object to
// the manifest describing what it did (scenario, expected outcome, client and
// server address, socket kind, TFO method, data length) and what the kernel
// said afterwards (errors, TCP_INFO: SYN data acked, fastopen_client_fail).
// Exit status is 0 even when the connection fails (a refused or unanswered
// attempt is a valid scenario); it is 2 on usage errors.
//
// flood makes many TFO connections (tens of thousands, for the benchmark's
// handshake-heavy capture) and prints one summary line.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const ipprotoMPTCP = 262

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2:])
	case "dial":
		dial(os.Args[2:])
	case "flood":
		flood(os.Args[2:])
	case "version":
		fmt.Println(runtime.Version(), kernelRelease())
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: tfolab serve -listen SPEC... | tfolab dial -addr IP:PORT ... | tfolab flood -addr IP:PORT,... -count N | tfolab version")
	os.Exit(2)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// jsonl appends JSON lines to a file (or stdout for "-"), safe for
// concurrent use.
type jsonl struct {
	mu sync.Mutex
	w  io.Writer
}

func openJSONL(path string) *jsonl {
	if path == "" {
		return &jsonl{w: io.Discard}
	}
	if path == "-" {
		return &jsonl{w: os.Stdout}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tfolab:", err)
		os.Exit(1)
	}
	return &jsonl{w: f}
}

func (j *jsonl) put(v any) {
	b, _ := json.Marshal(v)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.w.Write(append(b, '\n'))
}

// errText is the kernel's error text ("protocol not available"), plus the
// errno name so readers need not guess.
func errText(err error) string {
	if err == nil {
		return ""
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return fmt.Sprintf("%s (%s)", en.Error(), unix.ErrnoName(en))
	}
	return err.Error()
}

// ---------------------------------------------------------------- serve

type listenSpec struct {
	Name   string `json:"name,omitempty"`
	Addr   string `json:"addr"`
	MPTCP  string `json:"mptcp_mode"` // default | off | on
	TFO    int    `json:"tfo_qlen"`   // 0: setsockopt not called
	CtlErr string `json:"ctlerr"`     // log | return
}

func parseSpec(s string) (listenSpec, error) {
	sp := listenSpec{MPTCP: "default", CtlErr: "log"}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return sp, fmt.Errorf("bad listener spec item %q", kv)
		}
		switch k {
		case "addr":
			sp.Addr = v
		case "mptcp":
			if v != "default" && v != "off" && v != "on" {
				return sp, fmt.Errorf("mptcp must be default, off or on")
			}
			sp.MPTCP = v
		case "tfo":
			n, err := strconv.Atoi(v)
			if err != nil {
				return sp, err
			}
			sp.TFO = n
		case "ctlerr":
			if v != "log" && v != "return" {
				return sp, fmt.Errorf("ctlerr must be log or return")
			}
			sp.CtlErr = v
		case "name":
			sp.Name = v
		default:
			return sp, fmt.Errorf("unknown listener spec key %q", k)
		}
	}
	if sp.Addr == "" {
		return sp, fmt.Errorf("listener spec needs addr=")
	}
	return sp, nil
}

type controlCall struct {
	Network    string `json:"network"`
	Address    string `json:"address"`
	Protocol   int    `json:"so_protocol"`
	MPTCP      bool   `json:"mptcp"`
	SetTFO     bool   `json:"setsockopt_called"`
	Result     string `json:"setsockopt_result,omitempty"` // ok | error
	Error      string `json:"setsockopt_error,omitempty"`
	ReturnedIt bool   `json:"error_returned_from_control,omitempty"`
}

type listenerRecord struct {
	Type     string        `json:"type"` // "listener"
	Spec     listenSpec    `json:"spec"`
	Port     int           `json:"port"`
	Family   string        `json:"family"`
	Kernel   string        `json:"kernel"`
	Go       string        `json:"go"`
	Controls []controlCall `json:"control_calls"`
	// What the listening socket finally is.
	Listening  bool   `json:"listening"`
	ListenErr  string `json:"listen_error,omitempty"`
	Protocol   int    `json:"so_protocol,omitempty"`
	MPTCP      bool   `json:"mptcp"`
	TFOReadQ   *int   `json:"tcp_fastopen_getsockopt,omitempty"`
	TFOResult  string `json:"tcp_fastopen_result"` // ok | error | not-set
	TFOError   string `json:"tcp_fastopen_error,omitempty"`
	GrantsTFO  bool   `json:"expect_grants"` // TCP_FASTOPEN took effect on the final socket
	LoggedLine string `json:"logged,omitempty"`
}

func serve(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	var specs multiFlag
	fs.Var(&specs, "listen", "listener spec (repeatable), see package doc")
	manifest := fs.String("manifest", "", "append JSON lines describing listeners here (- for stdout)")
	duration := fs.Duration("duration", 10*time.Minute, "exit after this long")
	fs.Parse(args)
	if len(specs) == 0 {
		usage()
	}
	out := openJSONL(*manifest)
	kernel := kernelRelease()
	var lns []net.Listener
	for _, s := range specs {
		sp, err := parseSpec(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tfolab serve:", err)
			os.Exit(2)
		}
		rec := listenerRecord{Type: "listener", Spec: sp, Kernel: kernel, Go: runtime.Version()}
		ap, err := netip.ParseAddrPort(sp.Addr)
		if err == nil {
			rec.Port = int(ap.Port())
			rec.Family = "ipv4"
			if ap.Addr().Is6() && !ap.Addr().Is4In6() {
				rec.Family = "ipv6"
			}
		}
		var lc net.ListenConfig // zero value: Go's default (MPTCP since go 1.24)
		switch sp.MPTCP {
		case "off":
			lc.SetMultipathTCP(false)
		case "on":
			lc.SetMultipathTCP(true)
		}
		var calls []controlCall
		lc.Control = func(network, address string, c syscall.RawConn) error {
			cc := controlCall{Network: network, Address: address}
			var serr error
			c.Control(func(fd uintptr) {
				cc.Protocol, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PROTOCOL)
				cc.MPTCP = cc.Protocol == ipprotoMPTCP
				if sp.TFO > 0 {
					cc.SetTFO = true
					serr = unix.SetsockoptInt(int(fd), unix.SOL_TCP, unix.TCP_FASTOPEN, sp.TFO)
				}
			})
			if cc.SetTFO {
				if serr != nil {
					cc.Result, cc.Error = "error", errText(serr)
					// Xray-core: errors.New("failed to set TCP_FASTOPEN=", tfo).Base(err), logged, not returned.
					line := fmt.Sprintf("[Warning] transport/internet: failed to set TCP_FASTOPEN=%d > %v", sp.TFO, serr)
					rec.LoggedLine = line
					fmt.Fprintf(os.Stderr, "tfolab serve %s (%s, so_protocol=%d): %s\n", sp.Addr, network, cc.Protocol, line)
				} else {
					cc.Result = "ok"
				}
			}
			if serr != nil && sp.CtlErr == "return" {
				cc.ReturnedIt = true
				calls = append(calls, cc)
				return serr
			}
			calls = append(calls, cc)
			return nil
		}
		ln, err := lc.Listen(context.Background(), "tcp", sp.Addr)
		rec.Controls = calls
		if err != nil {
			rec.ListenErr = errText(err)
			fmt.Fprintf(os.Stderr, "tfolab serve %s: listen: %v\n", sp.Addr, err)
			out.put(rec)
			continue
		}
		rec.Listening = true
		if sc, ok := ln.(syscall.Conn); ok {
			if rc, err := sc.SyscallConn(); err == nil {
				rc.Control(func(fd uintptr) {
					rec.Protocol, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PROTOCOL)
					if v, err := unix.GetsockoptInt(int(fd), unix.SOL_TCP, unix.TCP_FASTOPEN); err == nil {
						rec.TFOReadQ = &v
					}
				})
			}
		}
		rec.MPTCP = rec.Protocol == ipprotoMPTCP
		rec.TFOResult = "not-set"
		if n := len(calls); n > 0 && calls[n-1].SetTFO {
			rec.TFOResult, rec.TFOError = calls[n-1].Result, calls[n-1].Error
		}
		rec.GrantsTFO = rec.TFOResult == "ok"
		fmt.Fprintf(os.Stderr, "tfolab serve: listening %s mptcp=%v tcp_fastopen=%s %s\n", sp.Addr, rec.MPTCP, rec.TFOResult, rec.TFOError)
		out.put(rec)
		lns = append(lns, ln)
		go acceptLoop(ln)
	}
	fmt.Println("READY")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-sig:
	case <-time.After(*duration):
	}
	for _, ln := range lns {
		ln.Close()
	}
}

func acceptLoop(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go func(c net.Conn) {
			defer c.Close()
			// Data sent in the SYN is already queued; otherwise wait briefly.
			c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			buf := make([]byte, 512)
			c.Read(buf)
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write([]byte("ok\n"))
		}(c)
	}
}

// ---------------------------------------------------------------- dial

type attemptRecord struct {
	Type     string `json:"type"` // "attempt"
	Scenario string `json:"scenario"`
	Expect   string `json:"expect"`
	Note     string `json:"note,omitempty"`
	Family   string `json:"family"`
	Client   string `json:"client"` // ip:port, [ip]:port for IPv6
	Server   string `json:"server"`
	Sock     string `json:"sock"` // tcp | mptcp
	TFO      string `json:"tfo"`  // none | connect | sendto
	DataLen  int    `json:"data_len"`
	Start    string `json:"start"`
	Kernel   string `json:"kernel"`
	// What the kernel said.
	SocketErr  string `json:"socket_error,omitempty"`
	SockoptErr string `json:"sockopt_error,omitempty"`
	ConnectErr string `json:"connect_error,omitempty"`
	WriteErr   string `json:"write_error,omitempty"`
	Reply      string `json:"reply,omitempty"`
	ReadErr    string `json:"read_error,omitempty"`
	Connected  bool   `json:"connected"`
	TCPInfo    *tinfo `json:"tcp_info,omitempty"`
	ElapsedMS  int64  `json:"elapsed_ms"`
}

type tinfo struct {
	State           int    `json:"state"`
	Options         int    `json:"options"`
	SynDataAcked    bool   `json:"syn_data_acked"` // TCPI_OPT_SYN_DATA
	FastopenFail    int    `json:"fastopen_client_fail"`
	FastopenFailStr string `json:"fastopen_client_fail_name"`
	TotalRetrans    uint32 `json:"total_retrans"`
}

var tfoFailNames = []string{"TFO_STATUS_UNSPEC", "TFO_COOKIE_UNAVAILABLE", "TFO_DATA_NOT_ACKED", "TFO_SYN_RETRANSMITTED"}

func getTCPInfo(fd int) (*tinfo, error) {
	var buf [232]byte
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return nil, e
	}
	if l < 104 {
		return nil, fmt.Errorf("short tcp_info (%d bytes)", l)
	}
	t := &tinfo{State: int(buf[0]), Options: int(buf[5])}
	t.SynDataAcked = buf[5]&0x20 != 0 // TCPI_OPT_SYN_DATA
	t.FastopenFail = int(buf[7]>>1) & 3
	t.FastopenFailStr = tfoFailNames[t.FastopenFail]
	// tcpi_total_retrans is the 26th u32 after the 8 leading bytes.
	t.TotalRetrans = *(*uint32)(unsafe.Pointer(&buf[8+25*4]))
	return t, nil
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
	}
	return ""
}

// sourceFor asks the routing table which source address a connection to ap
// would use (a connected UDP socket sends nothing), so that the attempt can
// bind it and know its client ip:port even when the connection fails.
func sourceFor(domain int, ap netip.AddrPort) (unix.Sockaddr, bool) {
	fd, err := unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, sockaddr(ap)); err != nil {
		return nil, false
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil, false
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &unix.SockaddrInet4{Addr: a.Addr}, true
	case *unix.SockaddrInet6:
		return &unix.SockaddrInet6{Addr: a.Addr, ZoneId: a.ZoneId}, true
	}
	return nil, false
}

func dial(args []string) {
	fs := flag.NewFlagSet("dial", flag.ExitOnError)
	addr := fs.String("addr", "", "server IP:PORT ([v6]:port)")
	sock := fs.String("sock", "tcp", "tcp | mptcp (socket(..., IPPROTO_MPTCP))")
	tfo := fs.String("tfo", "connect", "none | connect (TCP_FASTOPEN_CONNECT) | sendto (sendto MSG_FASTOPEN)")
	data := fs.String("data", "hello tfo\n", "bytes to send (empty: send nothing)")
	timeout := fs.Duration("timeout", 3*time.Second, "SO_SNDTIMEO/SO_RCVTIMEO: bounds connect, write and read")
	scenario := fs.String("scenario", "", "scenario name for the manifest")
	expect := fs.String("expect", "", "expected tfopcap outcome of this attempt")
	note := fs.String("note", "", "free text for the manifest")
	manifest := fs.String("manifest", "-", "append one JSON line here (- for stdout)")
	fs.Parse(args)
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || (*sock != "tcp" && *sock != "mptcp") || (*tfo != "none" && *tfo != "connect" && *tfo != "sendto") {
		fmt.Fprintln(os.Stderr, "tfolab dial: bad -addr, -sock or -tfo")
		os.Exit(2)
	}
	out := openJSONL(*manifest)
	rec := attemptRecord{Type: "attempt", Scenario: *scenario, Expect: *expect, Note: *note,
		Server: ap.String(), Sock: *sock, TFO: *tfo, DataLen: len(*data),
		Start: time.Now().UTC().Format(time.RFC3339Nano), Kernel: kernelRelease(), Family: "ipv4"}
	t0 := time.Now()
	defer func() {
		rec.ElapsedMS = time.Since(t0).Milliseconds()
		out.put(rec)
	}()
	domain := unix.AF_INET
	if ap.Addr().Is6() {
		domain, rec.Family = unix.AF_INET6, "ipv6"
	}
	proto := unix.IPPROTO_TCP
	if *sock == "mptcp" {
		proto = ipprotoMPTCP
	}
	fd, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		rec.SocketErr = errText(err)
		return
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	// Bind to an ephemeral port first so the manifest knows the client
	// address even when the attempt fails.
	var local unix.Sockaddr = &unix.SockaddrInet4{}
	if domain == unix.AF_INET6 {
		local = &unix.SockaddrInet6{}
	}
	if src, ok := sourceFor(domain, ap); ok {
		local = src
	}
	unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_BIND_ADDRESS_NO_PORT, 0)
	if err := unix.Bind(fd, local); err == nil {
		if sa, err := unix.Getsockname(fd); err == nil {
			rec.Client = sockaddrString(sa)
		}
	}
	sa := sockaddr(ap)
	payload := []byte(*data)
	sent := false
	switch *tfo {
	case "connect":
		if err := unix.SetsockoptInt(fd, unix.SOL_TCP, unix.TCP_FASTOPEN_CONNECT, 1); err != nil {
			rec.SockoptErr = "TCP_FASTOPEN_CONNECT: " + errText(err)
		}
		fallthrough
	case "none":
		if err := unix.Connect(fd, sa); err != nil {
			rec.ConnectErr = errText(err)
			return
		}
	case "sendto":
		// sendto with MSG_FASTOPEN connects; with a cached cookie the data
		// rides in the SYN, without one the SYN carries a cookie request.
		// An empty payload sends a SYN with the cookie but no data.
		if err := unix.Sendto(fd, payload, unix.MSG_FASTOPEN, sa); err != nil {
			rec.ConnectErr = errText(err)
			return
		}
		sent = true
	}
	if !sent && len(payload) > 0 {
		if _, err := unix.Write(fd, payload); err != nil {
			rec.WriteErr = errText(err)
		}
	}
	buf := make([]byte, 64)
	var reply []byte
	for {
		n, err := unix.Read(fd, buf)
		if n > 0 {
			reply = append(reply, buf[:n]...)
		}
		if err != nil {
			rec.ReadErr = errText(err)
			break
		}
		if n <= 0 || len(reply) >= 64 {
			break
		}
	}
	rec.Reply = string(reply)
	if sa, err := unix.Getsockname(fd); err == nil && !strings.HasPrefix(sockaddrString(sa), "0.0.0.0:") && !strings.HasPrefix(sockaddrString(sa), "[::]:") {
		rec.Client = sockaddrString(sa)
	}
	if ti, err := getTCPInfo(fd); err == nil {
		rec.TCPInfo = ti
		rec.Connected = ti.State == 1 || len(reply) > 0 || ti.State == 8 || ti.State == 7 || ti.State == 11
	} else {
		rec.Connected = len(reply) > 0
	}
}
