package probe

import (
	"context"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"192.0.2.1:80", "192.0.2.1:80", ""},
		{"[2001:db8::1]:443", "[2001:db8::1]:443", ""},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1:80", ""}, // a mapped address probes IPv4
		{"localhost:http", "", ""},                    // service names resolve
		{"192.0.2.1", "", "want HOST:PORT"},
		{"2001:db8::1:80", "", "want HOST:PORT"},
		{"192.0.2.1:0", "", `bad port "0"`},
		{"192.0.2.1:99999", "", `bad port "99999"`},
		{"no-such-host.invalid:80", "", `unknown host "no-such-host.invalid"`},
	}
	for _, tt := range tests {
		got, _, err := resolve(context.Background(), tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %v, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if tt.want != "" && got.String() != tt.want {
			t.Errorf("%s: %s, want %s", tt.in, got, tt.want)
		}
	}
}
