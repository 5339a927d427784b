// Package netnslab builds throw-away network labs for tests that need a real
// Linux kernel on both ends of a TCP connection: two network namespaces, a
// server and a client, joined by a veth pair with IPv4 and IPv6 addresses,
// and Go helpers that make real TCP Fast Open traffic between them.
//
// Nothing here touches the host's own network: every address lives inside
// namespaces the test created, and every namespace is deleted when the test
// ends (t.Cleanup), passed or failed. Namespaces left behind by a test
// binary that was killed are swept by the next NewPair.
//
// # Requirements
//
// Linux, the `ip` command (iproute2), and the privileges to create
// namespaces and enter them: CAP_SYS_ADMIN and CAP_NET_ADMIN, in practice
// root. Require (called by NewPair) skips the test with the reason when
// they are missing. Under CI (CI is set) or with NETNSLAB_REQUIRE=1 it
// fails the test instead, so a CI run cannot pass by skipping the lab;
// NETNSLAB_REQUIRE=0 lets it skip there too.
//
// # The topology
//
//	namespace Server.Name            namespace Client.Name
//	veth-srv 192.0.2.1/24   <---->   veth-cli 192.0.2.2/24
//	         2001:db8::1/64                   2001:db8::2/64
//	         02:00:00:00:00:01                02:00:00:00:00:02
//
// The addresses are documentation ranges (RFC 5737, RFC 3849), the same in
// every pair: namespaces are separate, so pairs built at once do not clash.
// Neighbour entries are permanent (no ARP or neighbour discovery in
// captures), IPv6 duplicate address detection and router solicitations are
// off, and both namespaces get net.ipv4.tcp_fastopen=3 (client and server
// TFO enabled; the key is per namespace).
//
// # Running things inside
//
// Netns.Command runs a program inside a namespace through `ip netns exec`
// (which execs it: the pid is the program's, signals reach it). Netns.Do
// runs a Go function in this process on an OS thread switched into the
// namespace: sockets created there (listeners, dialled connections, libpcap
// handles) stay in that namespace for their whole life, whichever thread
// uses them later.
//
//	p := netnslab.NewPair(t)
//	srv, err := p.Server.Listen(netnslab.ServerConfig{
//		Addr: netip.AddrPortFrom(p.ServerV4, 8001), FastOpen: 16})
//	...
//	res, err := p.Client.Dial(netnslab.DialConfig{Server: srv.Addr(), FastOpen: true})
//
// # TFO traffic
//
// Listen opens a listener that sets TCP_FASTOPEN (or not) in
// ListenConfig.Control and is explicitly plain TCP or MPTCP; it answers each
// connection's first line with "ok\n" and closes. Dial makes one
// connection, with TCP_FASTOPEN_CONNECT when asked (so a cached cookie puts
// the data in the SYN, and no cookie makes the SYN a cookie request), sends
// one line, reads the answer to the end and reports what TCP_INFO says about
// SYN data. Netns.FlushTCPMetrics forgets the client's cached cookies.
//
// # Concurrency
//
// A Pair and its Netns values may be used from several goroutines: each Do
// runs on its own locked thread.
package netnslab
