package report

import (
	"fmt"
	"net/netip"
	"strings"
)

// ListenerReport is what the server host itself says about a server
// address: the listener behind it, when tfopcap runs on that host.
type ListenerReport struct {
	// Address is the listener's bound address: the server's own, or a
	// wildcard (0.0.0.0:PORT, [::]:PORT) that covers it.
	Address  string            `json:"address"`
	Protocol string            `json:"protocol"` // "tcp" or "mptcp"
	UID      uint32            `json:"uid"`
	Process  []ListenerProcess `json:"processes"`
}

// ListenerProcess is one process that holds a listener.
type ListenerProcess struct {
	PID  int    `json:"pid"`
	Name string `json:"name"`
}

// ListenerLookup finds the local listener behind a server address; ok is
// false when the address is not this host's or nothing listens there.
type ListenerLookup func(server netip.AddrPort) (l ListenerReport, ok bool)

// AnnotateListeners fills servers[].listener for the servers lookup knows.
// It runs once at report time, never per packet.
func (r *Report) AnnotateListeners(lookup ListenerLookup) {
	for i := range r.Servers {
		s := &r.Servers[i]
		ap, err := netip.ParseAddrPort(s.Server)
		if err != nil { // the "other" row
			continue
		}
		if l, ok := lookup(ap); ok {
			s.Listener = &l
		}
	}
}

// listenerLine describes a server's listener for the text reports:
// "listener: mptcp 0.0.0.0:443, xray (pid 812)".
func listenerLine(l *ListenerReport) string {
	who := []string{}
	for _, p := range l.Process {
		who = append(who, fmt.Sprintf("%s (pid %d)", p.Name, p.PID))
	}
	if len(who) == 0 {
		who = append(who, fmt.Sprintf("uid %d", l.UID))
	}
	return fmt.Sprintf("listener: %s %s, %s", l.Protocol, l.Address, strings.Join(who, ", "))
}
