package main

import (
	"net/netip"

	"github.com/tfopcap/tfopcap/check"
	"github.com/tfopcap/tfopcap/report"
)

// annotateListeners names the local listener behind each server address
// of r, when tfopcap runs on that server host (--no-listeners turns it
// off). Where sock_diag cannot be read (not Linux) the report is left as
// it is: the annotation is a courtesy, never a reason to fail.
func annotateListeners(r *report.Report) {
	var servers []netip.AddrPort
	for _, s := range r.Servers {
		if ap, err := netip.ParseAddrPort(s.Server); err == nil { // not "other"
			servers = append(servers, ap)
		}
	}
	if len(servers) == 0 {
		// Nothing to name, so no netlink dump of the host's addresses
		// either: a socket and six system calls, 60-100 us the first
		// time in a process (net.InterfaceAddrs timed alone).
		return
	}
	local, err := check.LocalListeners("", servers)
	if err != nil {
		return
	}
	r.AnnotateListeners(func(server netip.AddrPort) (report.ListenerReport, bool) {
		l, owners, ok := local.Find(server)
		if !ok {
			return report.ListenerReport{}, false
		}
		lr := report.ListenerReport{Address: l.Addr.String(), Protocol: l.Protocol.String(), UID: l.UID, Process: []report.ListenerProcess{}}
		for _, p := range owners {
			lr.Process = append(lr.Process, report.ListenerProcess{PID: p.PID, Name: p.Name})
		}
		return lr, true
	})
}
