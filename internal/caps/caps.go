// Package caps reads the process's effective Linux capabilities, so that
// an operation the kernel refused can say which capability was missing.
package caps

import (
	"os"
	"strconv"
	"strings"
)

// Capability numbers (linux/capability.h).
const (
	NetAdmin = 12
	NetRaw   = 13
	SysAdmin = 21
)

// Effective returns the effective capability set from /proc/self/status;
// ok is false where it cannot be read (not Linux, no /proc).
func Effective() (set uint64, ok bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, found := strings.CutPrefix(line, "CapEff:"); found {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// Has reports whether the effective set holds every capability given; ok
// is false where the set cannot be read.
func Has(capabilities ...int) (has, ok bool) {
	set, ok := Effective()
	if !ok {
		return false, false
	}
	for _, c := range capabilities {
		if set&(1<<c) == 0 {
			return false, true
		}
	}
	return true, true
}
