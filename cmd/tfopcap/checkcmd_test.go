package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCheckUsageErrors: bad ports and --fail-on values are one line, exit 2,
// before anything is listed or probed.
func TestCheckUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "http"}, `"http" is not a port`},
		{[]string{"check", "0"}, `"0" is not a port`},
		{[]string{"check", "70000"}, `"70000" is not a port`},
		{[]string{"check", "--fail-on", "omits"}, `unknown finding ID or TFO state "omits"`},
		{[]string{"check", "--format", "html"}, "want one of text, json, markdown"},
		{[]string{"check", "--probe-timeout", "0s"}, "--probe-timeout more than 0"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, streams{strings.NewReader(""), &stdout, &stderr})
		if code != exitError || !strings.Contains(stderr.String(), tc.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

func TestCheckFailFlag(t *testing.T) {
	var f checkFailFlag
	if err := f.Set("mptcp-tfo-unsupported, disabled,mptcp-tfo-unsupported"); err != nil {
		t.Fatal(err)
	}
	if f.String() != "mptcp-tfo-unsupported,disabled" {
		t.Errorf("set = %q", f.String())
	}
}
