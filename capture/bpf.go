package capture

import (
	"regexp"
	"strings"
	"sync"
)

// The kernel filter of a live capture lets only the segments tfopcap judges
// by cross into user space: TCP segments with SYN or RST set (SYN,
// SYN-ACK, RST, RST-ACK). Everything else (data, pure ACKs, FINs, UDP,
// ARP, ...) stays in the kernel, which is what keeps a busy interface cheap
// to watch.
const (
	// filterIPv4 uses libpcap's tcp[], which finds the TCP header after an
	// IPv4 header of any length (options included) and rejects non-first
	// fragments.
	filterIPv4 = "ip and tcp[tcpflags] & (tcp-syn|tcp-rst) != 0"

	// filterIPv6 reads fixed offsets, because libpcap cannot index tcp[]
	// under IPv6. ip6[6] is the Next Header field and ip6[53] is byte 13
	// of a TCP header that starts right after the 40-byte IPv6 header (the
	// flags byte; 0x02 is SYN, 0x04 is RST). So this matches only TCP
	// directly after the fixed header. It misses TCP behind any extension
	// header: hop-by-hop options (e.g. a jumbogram or router alert),
	// routing, destination options, a fragment header (a SYN is never
	// fragmented in practice), AH and ESP (ESP is opaque anyway), and TCP
	// inside tunnels (IPv6-in-IPv6, GRE, ...). Such SYNs are rare; a
	// capture file made with tcpdump and read by `tfopcap analyze` sees
	// them.
	filterIPv6 = "ip6 and ip6[6] == 6 and ip6[53] & 0x06 != 0"

	// filterSYNRST is the filter for one layer of link header.
	filterSYNRST = "(" + filterIPv4 + ") or (" + filterIPv6 + ")"
)

// DefaultSnaplen keeps every header a SYN can carry and little payload:
// Ethernet (14) with two VLAN tags (8), an IPv4 header with options (at most
// 60) and a TCP header with options (at most 60) is 142 bytes; an IPv6
// header (40) leaves 70 bytes of that for extension headers, and a Linux
// cooked v2 header is 20 bytes. Rounded up to 192, well under a typical
// 1500-byte payload, so little of the SYN data is captured.
const DefaultSnaplen = 192

// DefaultBufferSize is the kernel ring for a live capture: at ~200 bytes a
// frame about 20,000 SYNs of burst before the kernel drops any.
const DefaultBufferSize = 4 << 20

// encapsulation matches filter primitives that move libpcap's offsets
// themselves; an expression with one steers the link layer on its own.
// Compiled on first use, not at init: only live captures need it, and
// every start paid 16 µs for it (perf record of an empty capture).
var encapsulation = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\b(vlan|mpls|pppoes|pppoed|geneve|vxlan)\b`)
})

// LiveFilter returns the kernel filter expression for a live capture of
// linkType: TCP SYN and RST segments over IPv4 and IPv6, ANDed with the
// user's expression when user is not empty.
//
// On Ethernet it also matches them behind one 802.1Q tag. libpcap's vlan
// keyword shifts the offsets of everything after it in the expression, so
// the untagged alternative comes first and the user's expression is
// repeated after the tag, where it applies to the inner packet:
//
//	((USER) and (BASE)) or (vlan and (USER) and (BASE))
//
// If the user's expression moves offsets itself (vlan, mpls, pppoes,
// geneve), it is taken as saying where the packets are, and the result is
// (USER) and (BASE). Other link types (Linux cooked captures of -i any,
// raw IP) carry no in-band tag: there the result is (USER) and (BASE) too.
func LiveFilter(linkType uint16, user string) string {
	user = strings.TrimSpace(user)
	and := func(base string) string {
		if user == "" {
			return base
		}
		return "(" + user + ") and (" + base + ")"
	}
	if linkType != linkTypeEthernet || encapsulation().MatchString(user) {
		return and(filterSYNRST)
	}
	if user == "" {
		return "(" + filterSYNRST + ") or (vlan and (" + filterSYNRST + "))"
	}
	return "(" + and(filterSYNRST) + ") or (vlan and (" + user + ") and (" + filterSYNRST + "))"
}

// linkTypeEthernet is LINKTYPE_ETHERNET (DLT_EN10MB).
const linkTypeEthernet = 1
