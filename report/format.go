package report

import (
	"net/netip"
	"strconv"
	"strings"
)

// FormatTime renders a capture timestamp (ns since the epoch) as RFC 3339
// in UTC, the report's time format: what
// time.Unix(0, ns).UTC().Format(time.RFC3339Nano) writes, in a tenth of
// its instructions (callgrind; a report of 10000 attempts formats 20000
// times).
func FormatTime(ns int64) string {
	var buf [len(timeLayout)]byte
	return string(appendTime(buf[:0], ns))
}

// timeLayout is the longest text appendTime writes.
const timeLayout = "2006-01-02T15:04:05.999999999Z"

// appendTime appends ns as FormatTime renders it. Every int64 of
// nanoseconds falls in the years 1677-2262, so the year has four digits.
func appendTime(b []byte, ns int64) []byte {
	sec, frac := ns/1e9, int(ns%1e9)
	if frac < 0 {
		sec, frac = sec-1, frac+1e9
	}
	days, s := sec/86400, int(sec%86400)
	if s < 0 {
		days, s = days-1, s+86400
	}
	y, m, d := civilDate(days)
	var t [len(timeLayout)]byte
	put2(t[0:], y/100)
	put2(t[2:], y%100)
	t[4] = '-'
	put2(t[5:], m)
	t[7] = '-'
	put2(t[8:], d)
	t[10] = 'T'
	put2(t[11:], s/3600)
	t[13] = ':'
	put2(t[14:], s/60%60)
	t[16] = ':'
	put2(t[17:], s%60)
	n := 19
	if frac != 0 { // nine digits less their trailing zeros, as RFC3339Nano's 9s
		t[19], t[20] = '.', byte('0'+frac/1e8)
		put2(t[21:], frac/1e6%100)
		put2(t[23:], frac/1e4%100)
		put2(t[25:], frac/100%100)
		put2(t[27:], frac%100)
		for n = 29; t[n-1] == '0'; n-- {
		}
	}
	t[n] = 'Z'
	return append(b, t[:n+1]...)
}

// put2 writes v (0-99) as two decimal digits.
func put2(b []byte, v int) {
	b[0], b[1] = pairs[2*v], pairs[2*v+1]
}

const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// civilDate returns the proleptic Gregorian date of a day counted from
// 1970-01-01 (Howard Hinnant's days_from_civil, inverted), for days after
// 0000-03-01.
func civilDate(days int64) (year, month, day int) {
	z := days + 719468 // days since 0000-03-01
	era := z / 146097
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365], from March 1
	mp := (5*doy + 2) / 153                                // [0, 11], from March
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day
}

// addrText formats the addresses of a report's attempts, remembering the
// latest two of each role: the attempts of a capture come from a few
// clients (each from many ports) to a few servers, and netip formats an
// IPv6 address in over 1000 instructions (callgrind). A remembered server costs no
// allocation, a client one (its port). Its zero value is ready.
type addrText struct {
	servers [2]addrTextEntry // whole ip:port
	clients [2]addrTextEntry // the ip part: everything before ":port"
}

type addrTextEntry struct {
	ap   netip.AddrPort // the port is 0 for clients
	text string
}

// server returns ap.String().
func (t *addrText) server(ap netip.AddrPort) string {
	if e, ok := latestText(&t.servers, ap); ok {
		return e
	}
	s := ap.String()
	if ap.IsValid() {
		rememberText(&t.servers, ap, s)
	}
	return s
}

// client returns ap.String(), the address's part from the latest two.
func (t *addrText) client(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ap.String()
	}
	key := netip.AddrPortFrom(ap.Addr(), 0)
	host, ok := latestText(&t.clients, key)
	if !ok {
		s := ap.String()
		rememberText(&t.clients, key, s[:strings.LastIndexByte(s, ':')])
		return s
	}
	var buf [len("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535")]byte
	b := append(append(buf[:0], host...), ':')
	return string(strconv.AppendUint(b, uint64(ap.Port()), 10))
}

func latestText(list *[2]addrTextEntry, ap netip.AddrPort) (string, bool) {
	for i := range list {
		if list[i].text != "" && list[i].ap == ap {
			return list[i].text, true
		}
	}
	return "", false
}

func rememberText(list *[2]addrTextEntry, ap netip.AddrPort, text string) {
	list[1], list[0] = list[0], addrTextEntry{ap, text}
}
