package analyze

import (
	"bytes"
	"testing"
)

func TestParseOptions(t *testing.T) {
	cookie8 := []byte{0x26, 0x57, 0xf5, 0x8b, 0x2d, 0xe4, 0x0e, 0x0e}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	mss := []byte{2, 4, 0x05, 0xb4}
	sackOK := []byte{4, 2}
	ts := []byte{8, 10, 0, 0, 0, 1, 0, 0, 0, 0}
	tests := []struct {
		name     string
		opts     []byte
		declared int // 0: len(opts)
		wantTFO  TFOState
		wantKind uint8
		cookie   []byte
		mptcp    string
		tsval    uint32 // when ts
		ts       bool
		stop     WalkStop
	}{
		// Kind 34, RFC 7413.
		{name: "empty", opts: nil},
		{name: "request kind 34", opts: []byte{34, 2}, wantTFO: TFORequest, wantKind: 34},
		{name: "request after mss sack ts", opts: cat(mss, sackOK, ts, []byte{34, 2}), wantTFO: TFORequest, wantKind: 34, ts: true, tsval: 1},
		{name: "cookie 8", opts: cat([]byte{34, 10}, cookie8), wantTFO: TFOCookie, wantKind: 34, cookie: cookie8},
		{name: "cookie 4 minimum", opts: []byte{34, 6, 1, 2, 3, 4}, wantTFO: TFOCookie, wantKind: 34, cookie: []byte{1, 2, 3, 4}},
		{name: "cookie 16 maximum", opts: cat([]byte{34, 18}, cookie8, cookie8), wantTFO: TFOCookie, wantKind: 34, cookie: cat(cookie8, cookie8)},
		{name: "cookie 17 too long", opts: cat([]byte{34, 19}, cookie8, cookie8, []byte{9}), wantTFO: TFOMalformed, wantKind: 34},
		{name: "cookie 2 too short (pathspider rewrite)", opts: []byte{34, 4, 0xf9, 0x89}, wantTFO: TFOMalformed, wantKind: 34},
		{name: "cookie 1 too short", opts: []byte{34, 3, 7}, wantTFO: TFOMalformed, wantKind: 34},
		{name: "first TFO option wins", opts: cat([]byte{34, 2}, []byte{34, 6, 1, 2, 3, 4}), wantTFO: TFORequest, wantKind: 34},
		// Experimental encoding, RFC 6994 ExID 0xF989.
		{name: "exp 254 request", opts: []byte{254, 4, 0xf9, 0x89}, wantTFO: TFORequest, wantKind: 254},
		{name: "exp 253 request", opts: []byte{253, 4, 0xf9, 0x89}, wantTFO: TFORequest, wantKind: 253},
		{name: "exp 254 cookie 8", opts: cat([]byte{254, 12, 0xf9, 0x89}, cookie8), wantTFO: TFOCookie, wantKind: 254, cookie: cookie8},
		{name: "exp 254 cookie 2 malformed", opts: []byte{254, 6, 0xf9, 0x89, 1, 2}, wantTFO: TFOMalformed, wantKind: 254},
		{name: "exp 254 AccECN ExID is not TFO", opts: []byte{254, 8, 0xac, 0xc0, 1, 2, 3, 4}},
		{name: "exp 254 too short for ExID", opts: []byte{254, 3, 0xf9}},
		{name: "exp 255 with F989 is not TFO", opts: []byte{255, 4, 0xf9, 0x89}},
		// NOP and EOL placement.
		{name: "nops before request", opts: []byte{1, 1, 34, 2}, wantTFO: TFORequest, wantKind: 34},
		{name: "eol before request hides it", opts: []byte{0, 34, 2, 0}, stop: WalkEOL},
		{name: "eol after request", opts: []byte{34, 2, 0, 0}, wantTFO: TFORequest, wantKind: 34, stop: WalkEOL},
		{name: "only nops", opts: []byte{1, 1, 1, 1}},
		// Bad lengths end the walk but keep what was parsed.
		{name: "length 0", opts: []byte{34, 2, 8, 0, 0, 0}, wantTFO: TFORequest, wantKind: 34, stop: WalkBadLength},
		{name: "length 1", opts: []byte{8, 1, 34, 2}, stop: WalkBadLength},
		{name: "length past header", opts: []byte{34, 2, 8, 10, 0, 0}, wantTFO: TFORequest, wantKind: 34, stop: WalkBadLength},
		// A kind-34 option with an impossible length is a mangled TFO
		// option (outcome malformed), not a missing one.
		{name: "kind at last byte", opts: []byte{1, 1, 1, 34}, wantTFO: TFOMalformed, wantKind: 34, stop: WalkBadLength},
		{name: "tfo length past header", opts: []byte{34, 10, 1, 2}, wantTFO: TFOMalformed, wantKind: 34, stop: WalkBadLength},
		{name: "tfo length 0", opts: []byte{2, 4, 0x05, 0xb4, 34, 0}, wantTFO: TFOMalformed, wantKind: 34, stop: WalkBadLength},
		{name: "tfo length 1", opts: []byte{34, 1, 1, 1}, wantTFO: TFOMalformed, wantKind: 34, stop: WalkBadLength},
		{name: "exp 254 length 1 is not known to be tfo", opts: []byte{254, 1, 0xf9, 0x89}, stop: WalkBadLength},
		// Snaplen cut the header: the declared space is larger than what was captured.
		{name: "truncated before tfo", opts: cat(mss, []byte{1, 1}), declared: 12, stop: WalkTruncated},
		{name: "truncated inside tfo cookie", opts: []byte{34, 10, 1, 2}, declared: 12, stop: WalkTruncated},
		{name: "truncated at length byte", opts: []byte{1, 1, 1, 34}, declared: 8, stop: WalkTruncated},
		{name: "truncated after request", opts: []byte{34, 2, 1, 1}, declared: 8, wantTFO: TFORequest, wantKind: 34, stop: WalkTruncated},
		// MPTCP, RFC 8684.
		{name: "mp_capable v1 on syn", opts: []byte{30, 4, 0x01, 0x81}, mptcp: "MP_CAPABLE v1"},
		{name: "mp_capable v0 with key", opts: []byte{30, 12, 0x00, 0x81, 1, 2, 3, 4, 5, 6, 7, 8}, mptcp: "MP_CAPABLE v0"},
		{name: "mp_join", opts: []byte{30, 12, 0x10, 0x00, 1, 2, 3, 4, 5, 6, 7, 8}, mptcp: "MP_JOIN"},
		{name: "mp_tcprst", opts: []byte{30, 4, 0x80, 0x01}, mptcp: "MP_TCPRST"},
		{name: "mptcp length 2 has no subtype", opts: []byte{30, 2}, mptcp: "MPTCP (malformed)"},
		{name: "mptcp length 1", opts: []byte{30, 1}, stop: WalkBadLength},
		{name: "tfo and mptcp together", opts: cat([]byte{34, 2}, []byte{30, 4, 0x01, 0x81}), wantTFO: TFORequest, wantKind: 34, mptcp: "MP_CAPABLE v1"},
		{name: "unknown subtype", opts: []byte{30, 3, 0xf0}, mptcp: "MPTCP unknown(15)"},
		// Timestamps, RFC 7323: only length 10 carries a TSval.
		{name: "ts", opts: []byte{8, 10, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0}, ts: true, tsval: 0xdeadbeef},
		{name: "ts length 6 is not read", opts: []byte{8, 6, 1, 2, 3, 4}},
		{name: "first ts wins", opts: cat(ts, []byte{8, 10, 0, 0, 0, 9, 0, 0, 0, 0}), ts: true, tsval: 1},
		{name: "ts cut by snaplen", opts: []byte{8, 10, 0, 0}, declared: 10, stop: WalkTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			declared := tt.declared
			if declared == 0 {
				declared = len(tt.opts)
			}
			o := ParseOptions(tt.opts, declared)
			if o.TFO.State != tt.wantTFO {
				t.Errorf("TFO state = %v, want %v", o.TFO.State, tt.wantTFO)
			}
			if tt.wantTFO != TFONone && o.TFO.Kind != tt.wantKind {
				t.Errorf("TFO kind = %d, want %d", o.TFO.Kind, tt.wantKind)
			}
			if !bytes.Equal(o.TFO.Cookie(), tt.cookie) {
				t.Errorf("cookie = %x, want %x", o.TFO.Cookie(), tt.cookie)
			}
			if got := o.MPTCP.String(); got != tt.mptcp {
				t.Errorf("MPTCP = %q, want %q", got, tt.mptcp)
			}
			if o.HasTS != tt.ts || o.TSval != tt.tsval {
				t.Errorf("TS = %v %d, want %v %d", o.HasTS, o.TSval, tt.ts, tt.tsval)
			}
			if o.Stop != tt.stop {
				t.Errorf("stop = %v, want %v", o.Stop, tt.stop)
			}
		})
	}
}

func TestParseOptionsAllocs(t *testing.T) {
	opts := []byte{2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 30, 4, 1, 129}
	if n := testing.AllocsPerRun(100, func() { ParseOptions(opts, len(opts)) }); n != 0 {
		t.Errorf("ParseOptions allocates %v times per call", n)
	}
}

func BenchmarkParseOptions(b *testing.B) {
	opts := []byte{2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 30, 4, 1, 129}
	b.ReportAllocs()
	for b.Loop() {
		ParseOptions(opts, len(opts))
	}
}

func FuzzParseOptions(f *testing.F) {
	f.Add([]byte{34, 2}, 2)                           // a cookie request
	f.Add([]byte{34, 10, 1, 2, 3, 4, 5, 6, 7, 8}, 10) // an 8-byte cookie
	f.Add([]byte{254, 4, 0xf9, 0x89}, 4)              // experimental request
	f.Add([]byte{254, 8, 0xac, 0xc0, 1, 2, 3, 4}, 8)  // AccECN, not TFO
	f.Add([]byte{30, 4, 0x01, 0x81}, 4)               // MP_CAPABLE v1
	f.Add([]byte{30, 1}, 2)                           // MPTCP length 1
	f.Add([]byte{30, 2}, 2)                           // MPTCP without subtype
	f.Add([]byte{1, 1, 1, 34}, 4)                     // kind at the last byte
	f.Add([]byte{34, 10, 1, 2}, 12)                   // cut by snaplen inside a cookie
	f.Add([]byte{0, 34, 2}, 3)                        // EOL first
	f.Add([]byte{8, 0, 34, 2}, 4)                     // zero length
	f.Add([]byte{34, 255, 1}, 40)                     // length past the header
	f.Add([]byte{34, 4, 0xf9, 0x89, 34, 2}, 6)        // 2-byte cookie, then a request
	f.Add(bytes.Repeat([]byte{1}, 40), 40)            // 40 NOPs
	f.Fuzz(func(t *testing.T, opts []byte, declared int) {
		if declared < len(opts) || declared > 40 {
			declared = len(opts)
		}
		o := ParseOptions(opts, declared)
		if o.TFO.State == TFOCookie && (len(o.TFO.Cookie()) < minCookieLen || len(o.TFO.Cookie()) > maxCookieLen) {
			t.Fatalf("cookie of %d bytes", len(o.TFO.Cookie()))
		}
		if o.TFO.State != TFOCookie && len(o.TFO.Cookie()) != 0 {
			t.Fatalf("cookie bytes without a cookie state %v", o.TFO.State)
		}
		if o.TFO.State != TFONone && o.TFO.Kind != 34 && o.TFO.Kind != 253 && o.TFO.Kind != 254 {
			t.Fatalf("TFO from kind %d", o.TFO.Kind)
		}
	})
}
