package main

import (
	"os"
	"strings"
)

// filterWords are the pcap-filter(7) primitives and operators a filter
// expression starts with or joins with.
var filterWords = map[string]bool{
	"tcp": true, "udp": true, "icmp": true, "icmp6": true, "ip": true, "ip6": true, "arp": true,
	"port": true, "portrange": true, "host": true, "net": true, "src": true, "dst": true,
	"and": true, "or": true, "not": true, "&&": true, "||": true, "!": true, "(": true,
	"ether": true, "vlan": true, "mpls": true, "proto": true, "less": true, "greater": true,
	"inbound": true, "outbound": true, "tcp[tcpflags]": true,
}

// strayFilter refuses operands that are a filter expression tcpdump-style
// (tfopcap analyze x.pcap tcp port 443): analyze reads every operand as a
// file, so the words would fail one by one as missing files. A word that
// names an existing file is a file, whatever it is called.
func strayFilter(operands []string) error {
	for i, op := range operands {
		if !filterWords[strings.ToLower(op)] && !strings.HasPrefix(op, "tcp[") {
			continue
		}
		if _, err := os.Stat(op); err == nil {
			continue
		}
		expr := strings.Join(operands[i:], " ")
		return usagef("analyze: %q is not a file but looks like a filter expression: give it with -f '%s'", expr, expr)
	}
	return nil
}
