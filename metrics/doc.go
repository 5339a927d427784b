// Package metrics exports what tfopcap judges to Prometheus, for fleets
// where nobody reads a report per host. It is the only package that
// imports client_golang.
//
//	live.go     Live: the collector of a running capture, fed by the
//	            engine's hooks (OnAttempt per judged attempt, OnTick for
//	            capture health and findings), read by scrapes
//	window.go   the sliding window behind tfopcap_server_verdict
//	probe.go    ProbeHandler: /probe?target=host:port in the
//	            blackbox-exporter style, a fresh registry per probe
//	serve.go    Server: the HTTP endpoint, and the registry every
//	            endpoint starts from (build info, Go and process metrics)
//
// Every metric, its labels and the bound on their cardinality are in
// docs/metrics.md; deploy/ holds alerting rules and a dashboard that use
// only these names (a test checks it).
//
// # Cardinality
//
// Series are built at scrape time from a bounded table (the Collector
// pattern of client_golang), never from *Vec values that live forever:
// at most MaxServers servers get a server label of their own, in the order
// they are first seen with a TFO attempt (as the report lists them);
// later ones are summed under server="other". Attempts to servers that
// have not used TFO are summed in a gauge, tfopcap_unlisted_attempts,
// until a server's first TFO attempt moves them into its counters, as
// the report moves them into its row.
//
// # Concurrency and allocation
//
// Live's Attempt and Tick are called from the engine's goroutine, Collect
// from scrapes: one mutex guards the counts. Attempt allocates nothing
// once a server has its series.
package metrics
