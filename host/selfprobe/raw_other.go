//go:build !linux

package selfprobe

import (
	"net/netip"
	"time"
)

// Probe returns ErrUnsupported: raw TCP sockets are Linux's here.
func Probe(target netip.AddrPort, timeout time.Duration) (*Result, error) {
	return nil, ErrUnsupported
}
