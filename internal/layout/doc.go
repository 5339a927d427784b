// Package layout holds the test that keeps imports between tfopcap's
// packages in the direction data flows:
//
//	capture (sources) -> engine -> cmd/tfopcap
//	analyze ----------> engine
//	analyze -> report -> cmd/tfopcap
//	host/* (sockdiag, procs, sysinfo, selfprobe) -> check -> cmd/tfopcap
//	engine, report -> metrics -> cmd/tfopcap
//
// capture and analyze know nothing of each other or of what uses them;
// report presents what analyze judged and knows no source; engine drives
// the sources and the tracker and knows no report. metrics exports what
// they judged to Prometheus, and is the only package that imports
// client_golang directly.
package layout
