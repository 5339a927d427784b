// Package check answers, on a server host, why a listener does or does not
// grant TFO cookies: it lists the TCP and MPTCP listeners (host/sockdiag),
// names the processes holding them (host/procs), reads the kernel's TFO
// settings and counters (host/sysinfo), asks each listener itself with a
// self-probe (host/selfprobe), and judges every listener with the finding
// IDs of package analyze, now from facts rather than from packets.
//
// Judge is pure (facts in, findings out) and holds the rules; Run gathers
// the facts; the Report is the JSON contract tfopcap.check/v1
// (docs/check.md, docs/check.schema.json), and Render writes it as text,
// markdown or JSON.
package check
