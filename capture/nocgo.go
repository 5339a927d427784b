//go:build !cgo

package capture

import (
	"net"
	"net/netip"
	"runtime"

	"golang.org/x/net/bpf"
)

// pcapBuilt: this build has no libpcap backend.
const pcapBuilt = false

func openPcap(LiveConfig) (*Live, error) { return nil, errNoLibpcap }

func compileRingFilter(uint16, int, string) ([]bpf.RawInstruction, error) {
	return nil, errFilterNeedsLibpcap
}

// Interfaces lists the interfaces of this network namespace, in the
// kernel's order, and "any" on Linux (libpcap, absent here, would list
// what tcpdump -D does).
func Interfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(ifs)+1)
	for _, ifc := range ifs {
		i := Interface{
			Name:     ifc.Name,
			Up:       ifc.Flags&net.FlagUp != 0,
			Running:  ifc.Flags&net.FlagRunning != 0,
			Loopback: ifc.Flags&net.FlagLoopback != 0,
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if p, err := netip.ParsePrefix(n.String()); err == nil {
					i.Addrs = append(i.Addrs, p)
				}
			}
		}
		out = append(out, i)
	}
	if runtime.GOOS == "linux" {
		out = append(out, Interface{Name: "any", Description: "Pseudo-device that captures on all interfaces", Up: true, Running: true})
	}
	return out, nil
}

// Filter is a tcpdump-syntax filter, absent from builds without cgo.
type Filter struct{ expr string }

// NewFilter returns a filter that fails to compile: filters need libpcap.
func NewFilter(expr string) *Filter { return &Filter{expr} }

func (f *Filter) String() string             { return f.expr }
func (f *Filter) Compile(uint16) error       { return errNoLibpcap }
func (f *Filter) Match(*Frame) (bool, error) { return false, errNoLibpcap }
