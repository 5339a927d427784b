//go:build cgo

package capture

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"runtime/debug"
	"testing"

	"github.com/tfopcap/tfopcap/internal/netnslab"
)

// TestLiveCloseWhileDecoding is a second Ctrl-C in live: Close from another
// goroutine while the frame Next returned is still being decoded. The
// frame must stay readable and unchanged until the next call to Next
// (libpcap frees its ring on close, so a frame that points into the ring
// faults), and that call must end the capture.
func TestLiveCloseWhileDecoding(t *testing.T) {
	p := netnslab.NewPair(t)
	srv, err := p.Server.Listen(netnslab.ServerConfig{Addr: netip.AddrPortFrom(p.ServerV4, 8001)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l := openIn(t, p.Server, LiveConfig{Interface: p.ServerIf})
	if _, err := p.Client.Dial(netnslab.DialConfig{Server: srv.Addr()}); err != nil {
		t.Fatal(err)
	}
	var f Frame
	if err := l.Next(&f); err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(f.Data)
	closed := make(chan struct{})
	go func() { l.Close(); close(closed) }()
	<-closed

	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("reading the frame after Close: %v", r)
			}
		}()
		if !bytes.Equal(f.Data, want) {
			t.Errorf("frame changed under the decoder after Close")
		}
	}()
	if err := l.Next(&f); !errors.Is(err, io.EOF) {
		t.Errorf("Next after Close: %v, want io.EOF", err)
	}
}
