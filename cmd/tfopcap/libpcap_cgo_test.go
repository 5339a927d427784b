//go:build cgo

package main

// builtWithLibpcap says whether the tfopcap these tests build links
// libpcap: without cgo, -f filters and probe's capture are not there.
const builtWithLibpcap = true
