// Package probe asks servers for TFO cookies and judges its own handshakes
// with the engine: `tfopcap probe HOST:PORT...`, and the library that a
// blackbox-style exporter can call.
//
//	res, err := probe.Run(ctx, probe.Config{Targets: []string{"example.org:443"}})
//	rep := res.Report("tfopcap v0.1.0") // the usual report, servers[].probe filled
//
// Each target gets the rounds of Config.Rounds, one connection each, in
// order: RoundRequest (a cookie request on a fresh cache: the kernel's
// tcp_metrics entry for the server is deleted first when the process has
// CAP_NET_ADMIN), RoundData (the cookie with data), RoundMPTCP (an MPTCP
// socket asking for a cookie: only an MPTCP client sees an MP_CAPABLE
// SYN-ACK, which separates the seed's cause from a listener without TFO).
// SYNs are sent by sendmsg(MSG_FASTOPEN).
//
// Evidence. Every socket is bound before the first SYN, so the capture
// (libpcap on the route's interface, "any" when targets differ) is
// filtered to exactly the probe's 5-tuples and fed to engine.Live: the
// same tracker, outcomes, verdicts and findings as analyze. Without
// capture privileges (CAP_NET_RAW) the probe still runs and infers each
// round from the kernel's account (TCP_INFO's TCPI_OPT_SYN_DATA and
// tcpi_fastopen_client_fail, the tcp_metrics cookie cache, MPTCP_INFO),
// and says so: Result.Method is MethodTCPInfo.
//
// Files: probe.go (the API), probe_linux.go (rounds, capture, engine),
// conn_linux.go (sockets, TCP_INFO, MPTCP_INFO), netlink_linux.go (route
// lookup, tcp_metrics), result_linux.go (outcomes per round), report.go
// (Result to report.Report), probe_other.go (ErrNotLinux elsewhere).
//
// Concurrency: Run may be called from several goroutines at once, but
// probes of one server then share the kernel's cookie cache and disturb
// each other's rounds.
package probe
