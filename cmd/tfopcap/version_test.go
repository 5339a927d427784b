package main

import (
	"bytes"
	"regexp"
	"runtime"
	"testing"
)

// TestVersion: `tfopcap version` names the build and the toolchain, which
// bug reports need to pin a regression.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		var out, errOut bytes.Buffer
		if code := run([]string{arg}, streams{nil, &out, &errOut}); code != exitOK {
			t.Fatalf("%s: exit %d: %s", arg, code, errOut.String())
		}
		want := regexp.MustCompile(`^tfopcap v\S+\n(revision: [0-9a-f]{40}.*\n)?go: ` + regexp.QuoteMeta(runtime.Version()) + ` \S+/\S+.*\n$`)
		if !want.Match(out.Bytes()) {
			t.Errorf("%s printed %q", arg, out.String())
		}
	}
}
