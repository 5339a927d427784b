package main

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/internal/capturetest"
)

// rawIPv4 builds a raw IPv4 packet (link type RAW) around a TCP header
// with options and payload; fragment sets the flags and offset word.
func rawIPv4(src, dst [4]byte, sport, dport uint16, seq, ack uint32, flags byte, opts []byte, payload int) []byte {
	tcp := make([]byte, 20+len(opts), 20+len(opts)+payload)
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12] = byte(len(tcp)/4) << 4
	tcp[13] = flags
	copy(tcp[20:], opts)
	tcp = append(tcp, make([]byte, payload)...)
	ip := make([]byte, 20, 20+len(tcp))
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(tcp)))
	copy(ip[12:], src[:])
	copy(ip[16:], dst[:])
	return append(ip, tcp...)
}

// TestFragmentedSYNReport analyses a TFO SYN with 2000 bytes of data in
// two IPv4 fragments and the SYN-ACK that acknowledges all of it: the
// attempt is accepted; with both fragments its data length is whole, and
// without the second it is marked fragmented with what the first held (a
// lower bound). The input's warnings count the fragments. Before,
// fragments went unmentioned, the SYN read as a short SYN and its SYN-ACK
// as one without SYN.
func TestFragmentedSYNReport(t *testing.T) {
	client, server := [4]byte{192, 0, 2, 1}, [4]byte{192, 0, 2, 2}
	cookie := []byte{34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1}
	syn := rawIPv4(client, server, 40000, 443, 1000, 0, 0x02, cookie, 2000)
	const cut = 20 + 1480
	first := append([]byte(nil), syn[:cut]...)
	binary.BigEndian.PutUint16(first[2:], cut)
	first[6] = 0x20 // more fragments
	second := append(append([]byte(nil), syn[:20]...), syn[cut:]...)
	binary.BigEndian.PutUint16(second[2:], uint16(len(second)))
	binary.BigEndian.PutUint16(second[6:], 1480/8)
	synack := rawIPv4(server, client, 443, 40000, 9000, 1000+1+2000, 0x12, nil, 0)

	tests := []struct {
		name       string
		packets    [][]byte
		dataLen    int
		fragmented bool
		warning    string
	}{
		{"both fragments", [][]byte{first, second, synack}, 2000, false,
			"1 first fragment(s) decoded from their whole TCP header, 1 later fragment(s) or first ones too short for the TCP header skipped; the data length of 1 fragmented SYN(s) came from"},
		{"second fragment lost", [][]byte{first, synack}, 1480 - 32, true,
			"1 first fragment(s) decoded from their whole TCP header, 0 later fragment(s) or first ones too short for the TCP header skipped; the data length of 0 fragmented SYN(s) came from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var frames []capture.OwnedFrame
			for i, b := range tt.packets {
				frames = append(frames, capture.OwnedFrame{Frame: capture.Frame{
					Data: b, OrigLen: len(b), Time: 1764113221e9 + int64(i)*1e6, LinkType: analyze.LinkRaw, Number: i + 1}})
			}
			out := filepath.Join(t.TempDir(), "fragmented.pcap")
			capturetest.WritePcap(t, out, frames)

			r := analyzeJSON(t, out)
			if len(r.Attempts) != 1 || r.Attempts[0].Reply == nil {
				t.Fatalf("attempts %+v: want one, answered", r.Attempts)
			}
			a := r.Attempts[0]
			if a.Outcome != analyze.Accepted || a.Reply.AckedData != 2000 || a.SYN.DataLen != tt.dataLen || a.SYN.Fragmented != tt.fragmented {
				t.Errorf("%v, acked %d, data_len %d, fragmented %v; want accepted, 2000, %d, %v",
					a.Outcome, a.Reply.AckedData, a.SYN.DataLen, a.SYN.Fragmented, tt.dataLen, tt.fragmented)
			}
			if len(r.Servers) != 1 || r.Servers[0].SYNACKWithoutSYN != 0 {
				t.Errorf("servers %+v: want one, no SYN-ACK without SYN", r.Servers)
			}
			if w := strings.Join(r.Inputs[0].Warnings, "\n"); !strings.Contains(w, tt.warning) {
				t.Errorf("input warnings %q: want %q", r.Inputs[0].Warnings, tt.warning)
			}
		})
	}
}
