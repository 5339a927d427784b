package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
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
// attempt is accepted, marked fragmented, and the input's warnings count
// the fragments. Before, fragments went unmentioned, the SYN read as a
// short SYN, its SYN-ACK as one without SYN.
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

	var frames []capture.OwnedFrame
	for i, b := range [][]byte{first, second, synack} {
		frames = append(frames, capture.OwnedFrame{Frame: capture.Frame{
			Data: b, OrigLen: len(b), Time: 1764113221e9 + int64(i)*1e6, LinkType: analyze.LinkRaw, Number: i + 1}})
	}
	out := filepath.Join(t.TempDir(), "fragmented.pcap")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := capture.WriteFrames(f, frames); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r := analyzeJSON(t, out)
	if len(r.Attempts) != 1 || r.Attempts[0].Outcome != analyze.Accepted || !r.Attempts[0].SYN.Fragmented ||
		r.Attempts[0].Reply == nil || r.Attempts[0].Reply.AckedData != 2000 {
		t.Fatalf("attempts %+v: want one accepted, fragmented, 2000 bytes acknowledged", r.Attempts)
	}
	if len(r.Servers) != 1 || r.Servers[0].SYNACKWithoutSYN != 0 {
		t.Errorf("servers %+v: want one, no SYN-ACK without SYN", r.Servers)
	}
	if w := strings.Join(r.Inputs[0].Warnings, "\n"); !strings.Contains(w, "IP fragments: 1 first fragment(s) decoded") ||
		!strings.Contains(w, "1 later fragment(s)") {
		t.Errorf("input warnings %q: want the fragments counted", r.Inputs[0].Warnings)
	}
}
