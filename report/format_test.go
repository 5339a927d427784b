package report

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// FuzzFormatTime checks FormatTime against the time package it replaces.
func FuzzFormatTime(f *testing.F) {
	for _, ns := range []int64{
		0,                          // the epoch: no fraction
		1,                          // one ns: all nine digits
		-1,                         // just before the epoch
		1_764_000_000_123_456_000,  // trailing zeros cut
		1_764_000_000_100_000_000,  // one digit left
		951_782_400_000_000_000,    // 2000-02-29, a leap day of a 400-year
		4_107_456_000_000_000_000,  // 2100-02-28: 2100 is not a leap year
		4_107_542_399_999_999_999,  // the last ns of that day
		-2_208_988_800_000_000_000, // 1900-01-01, before the epoch
		math.MinInt64,              // 1677, the earliest
		math.MaxInt64,              // 2262, the latest
	} {
		f.Add(ns)
	}
	f.Fuzz(func(t *testing.T, ns int64) {
		if got, want := FormatTime(ns), time.Unix(0, ns).UTC().Format(time.RFC3339Nano); got != want {
			t.Errorf("FormatTime(%d) = %q, want %q", ns, got, want)
		}
	})
}

// TestFormatTimeDays walks every day of the range, at random times of day.
func TestFormatTimeDays(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const dayNS = 86400 * int64(time.Second)
	for day := int64(math.MinInt64)/dayNS + 1; day < math.MaxInt64/dayNS; day++ {
		ns := day*dayNS + rng.Int64N(dayNS)
		if got, want := FormatTime(ns), time.Unix(0, ns).UTC().Format(time.RFC3339Nano); got != want {
			t.Fatalf("FormatTime(%d) = %q, want %q", ns, got, want)
		}
	}
}

var formatted string

func TestFormatTimeAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { formatted = FormatTime(1_764_000_000_123_456_789) }); n != 1 {
		t.Errorf("FormatTime allocates %v times, want 1 (the string)", n)
	}
}

// TestAddrText: remembered addresses read as netip formats them, for each
// family and shape, in any order.
func TestAddrText(t *testing.T) {
	addrs := []netip.AddrPort{
		netip.MustParseAddrPort("192.0.2.1:40000"),
		netip.MustParseAddrPort("192.0.2.1:40001"),
		netip.MustParseAddrPort("[2001:db8::1]:443"),
		netip.MustParseAddrPort("[2001:db8::1]:65535"),
		netip.MustParseAddrPort("[::ffff:192.0.2.1]:80"), // 4in6 is not 4
		netip.MustParseAddrPort("[fe80::1%eth0]:22"),     // a zone
		netip.MustParseAddrPort("[fe80::1%eth:1]:22"),    // a zone with a colon
		netip.MustParseAddrPort("198.51.100.7:0"),
		{}, // invalid
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var at addrText
	for range 2000 {
		ap := addrs[rng.IntN(len(addrs))]
		if got, want := at.client(ap), ap.String(); got != want {
			t.Fatalf("client(%v) = %q, want %q", ap, got, want)
		}
		ap = addrs[rng.IntN(len(addrs))]
		if got, want := at.server(ap), ap.String(); got != want {
			t.Fatalf("server(%v) = %q, want %q", ap, got, want)
		}
	}
}
