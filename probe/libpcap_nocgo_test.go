//go:build !cgo

package probe_test

// builtWithLibpcap says whether this build links libpcap: without cgo,
// the probe cannot filter a capture to its 5-tuples and reads the
// kernel's account instead.
const builtWithLibpcap = false
