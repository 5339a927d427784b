package netnslab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ServerConfig describes a listener.
type ServerConfig struct {
	Addr netip.AddrPort
	// FastOpen is the TCP_FASTOPEN queue length set on the listening
	// socket in ListenConfig.Control; 0 leaves the option unset, and the
	// server then answers cookie requests without a cookie.
	FastOpen int
	// MPTCP makes the listener MPTCP (ListenConfig.SetMultipathTCP(true));
	// otherwise it is explicitly plain TCP, whatever Go's default.
	MPTCP bool
}

// Server is a listener started by Listen. It answers each connection's
// first line with "ok\n" and closes the connection.
type Server struct {
	ln net.Listener
	wg sync.WaitGroup
}

// Listen starts a server inside the namespace. Close it (or let the
// namespace go) when done.
func (n Netns) Listen(cfg ServerConfig) (*Server, error) {
	s := &Server{}
	var lc net.ListenConfig
	lc.SetMultipathTCP(cfg.MPTCP)
	lc.Control = func(network, address string, c syscall.RawConn) error {
		if cfg.FastOpen == 0 {
			return nil
		}
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_TCP, unix.TCP_FASTOPEN, cfg.FastOpen)
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("setsockopt TCP_FASTOPEN=%d: %w", cfg.FastOpen, serr)
		}
		return nil
	}
	err := n.Do(func() error {
		ln, err := lc.Listen(context.Background(), "tcp", cfg.Addr.String())
		s.ln = ln
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns %s: listen %s: %w", n.Name, cfg.Addr, err)
	}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() netip.AddrPort {
	return s.ln.Addr().(*net.TCPAddr).AddrPort()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			// Read the client's line (in the SYN with TFO), so that closing
			// leaves nothing unread: unread data would make the close a RST.
			if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
				return
			}
			c.Write([]byte("ok\n"))
		}()
	}
}

// Close stops the server and waits for its connections to finish.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

// DialConfig describes one client connection.
type DialConfig struct {
	Server netip.AddrPort
	// FastOpen sets TCP_FASTOPEN_CONNECT: with a cookie cached for the
	// server's address the data rides in the SYN, without one the SYN
	// asks for a cookie and the data follows the handshake.
	FastOpen bool
	// MPTCP dials an MPTCP socket (Dialer.SetMultipathTCP(true)).
	MPTCP bool
	// Data is sent once connected; it must end with a newline, which is
	// what the server waits for. Empty means "hello tfo\n".
	Data []byte
	// Timeout bounds the whole exchange; 0 means 5 s.
	Timeout time.Duration
}

// DialResult says what happened.
type DialResult struct {
	Client netip.AddrPort // the client's address and port
	Reply  string         // what the server answered ("ok\n")
	// SYNDataAcked is TCP_INFO's TCPI_OPT_SYN_DATA: the server
	// acknowledged data sent in the SYN.
	SYNDataAcked bool
	// MPTCP reports whether the connection really is MPTCP (Go falls
	// back to TCP when the server does not do it).
	MPTCP bool
}

// tcpiOptSYNData is TCPI_OPT_SYN_DATA (linux/tcp.h).
const tcpiOptSYNData = 0x20

// Dial makes one connection from inside the namespace: connect, send
// Data, read the answer to its end, close.
func (n Netns) Dial(cfg DialConfig) (DialResult, error) {
	var res DialResult
	if len(cfg.Data) == 0 {
		cfg.Data = []byte("hello tfo\n")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	d := net.Dialer{Timeout: cfg.Timeout}
	d.SetMultipathTCP(cfg.MPTCP)
	if cfg.FastOpen {
		d.Control = func(network, address string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_TCP, unix.TCP_FASTOPEN_CONNECT, 1)
			}); err != nil {
				return err
			}
			if serr != nil {
				return fmt.Errorf("setsockopt TCP_FASTOPEN_CONNECT: %w", serr)
			}
			return nil
		}
	}
	var conn net.Conn
	err := n.Do(func() error {
		var err error
		conn, err = d.Dial("tcp", cfg.Server.String())
		return err
	})
	if err != nil {
		return res, fmt.Errorf("netns %s: dial %s: %w", n.Name, cfg.Server, err)
	}
	defer conn.Close()
	tc := conn.(*net.TCPConn)
	tc.SetDeadline(time.Now().Add(cfg.Timeout))
	// With TCP_FASTOPEN_CONNECT and a cookie, this write sends the SYN.
	if _, err := tc.Write(cfg.Data); err != nil {
		return res, fmt.Errorf("netns %s: write to %s: %w", n.Name, cfg.Server, err)
	}
	reply, err := io.ReadAll(tc)
	res.Reply = string(reply)
	res.Client = tc.LocalAddr().(*net.TCPAddr).AddrPort()
	res.MPTCP, _ = tc.MultipathTCP()
	if rc, err := tc.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			if ti, err := unix.GetsockoptTCPInfo(int(fd), unix.SOL_TCP, unix.TCP_INFO); err == nil {
				res.SYNDataAcked = ti.Options&tcpiOptSYNData != 0
			}
		})
	}
	if err != nil {
		return res, fmt.Errorf("netns %s: read from %s: %w", n.Name, cfg.Server, err)
	}
	return res, nil
}
