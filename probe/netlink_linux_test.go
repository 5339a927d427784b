package probe

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// nlMsg is one netlink message of type typ around payload.
func nlMsg(typ uint16, payload []byte) []byte {
	b := make([]byte, nlmsgHdrLen, nlmsgHdrLen+len(payload)+3)
	binary.NativeEndian.PutUint32(b[0:], uint32(nlmsgHdrLen+len(payload)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func errPayload(errno int32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, uint32(errno))
	return b
}

func TestNLMessages(t *testing.T) {
	data := nlMsg(unix.RTM_NEWROUTE, []byte{1, 2, 3})
	tests := []struct {
		name     string
		in       []byte
		payloads int
		done     bool
		err      error // nil, or errors.Is target; errAny for any error
	}{
		{"one answer, more to come", data, 1, false, nil},
		{"answer then ACK", append(append([]byte{}, data...), nlMsg(unix.NLMSG_ERROR, errPayload(0))...), 1, true, nil},
		{"answer then DONE", append(append([]byte{}, data...), nlMsg(unix.NLMSG_DONE, nil)...), 1, true, nil},
		{"an errno", nlMsg(unix.NLMSG_ERROR, errPayload(-int32(unix.EPERM))), 0, true, unix.EPERM},
		{"ESRCH: no metrics entry", nlMsg(unix.NLMSG_ERROR, errPayload(-int32(unix.ESRCH))), 0, true, unix.ESRCH},
		{"short error", nlMsg(unix.NLMSG_ERROR, []byte{1}), 0, true, errAny},
		{"length past the buffer", data[:len(data)-4], 0, true, errAny},
		{"length below the header", func() []byte { b := append([]byte{}, data...); b[0] = 3; return b }(), 0, true, errAny},
		{"a header cut short", data[:10], 0, false, nil},
		{"empty", nil, 0, false, nil},
	}
	for _, tt := range tests {
		n := 0
		done, err := nlMessages(tt.in, func([]byte) { n++ })
		switch {
		case tt.err == errAny && err == nil, tt.err == nil && err != nil, tt.err != nil && tt.err != errAny && !errors.Is(err, tt.err):
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.err)
		}
		if n != tt.payloads || done != tt.done {
			t.Errorf("%s: %d payloads, done %v; want %d, %v", tt.name, n, done, tt.payloads, tt.done)
		}
	}
}

var errAny = errors.New("any error")

func TestAttrs(t *testing.T) {
	good := appendAttr(appendAttr(nil, 1, []byte{0xaa}), tcpMetricsAttrCookie, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	tests := []struct {
		name string
		in   []byte
		want []uint16
	}{
		{"two, padded", good, []uint16{1, tcpMetricsAttrCookie}},
		{"the last cut short", good[:len(good)-2], []uint16{1}},
		{"length below its header", []byte{2, 0, 1, 0}, nil},
		{"nested flag bits are masked", appendAttr(nil, 0x8000|6, []byte{1, 2, 3, 4}), []uint16{6}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		var got []uint16
		attrs(tt.in, func(typ uint16, _ []byte) { got = append(got, typ) })
		if len(got) != len(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			}
		}
	}
}

// TestClientFailBits reads tcpi_fastopen_client_fail from the byte it
// shares with tcpi_delivery_rate_app_limited (bit 0 on little-endian).
func TestClientFailBits(t *testing.T) {
	if !nativeLittle {
		t.Skip("the table is for little-endian bitfields")
	}
	for _, tt := range []struct {
		b    byte
		want string
	}{
		{0b000, "none"},
		{0b001, "none"}, // app_limited alone
		{0b010, "cookie_unavailable"},
		{0b100, "data_not_acked"},
		{0b111, "syn_retransmitted"},
		{0b11111000, "none"}, // higher bits are not the field
	} {
		if got := clientFailName(clientFailBits(tt.b)); got != tt.want {
			t.Errorf("byte %08b: %s, want %s", tt.b, got, tt.want)
		}
	}
}

// FuzzNetlink walks arbitrary bytes as netlink answers and their
// attributes: never a panic, never a read past the buffer.
func FuzzNetlink(f *testing.F) {
	route := nlMsg(unix.RTM_NEWROUTE, appendAttr(make([]byte, rtmsgLen), unix.RTA_OIF, []byte{2, 0, 0, 0}))
	f.Add(route)                                                    // a route answer
	f.Add(append(route, nlMsg(unix.NLMSG_ERROR, errPayload(0))...)) // then its ACK
	f.Add(nlMsg(unix.NLMSG_ERROR, errPayload(-int32(unix.EPERM))))  // an errno
	f.Add(nlMsg(unix.NLMSG_DONE, nil))                              // the end of a dump
	f.Add(route[:nlmsgHdrLen-1])                                    // a header cut short
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})               // a length past everything
	f.Add(nlMsg(1, []byte{5, 0, 1, 0, 9, 3, 0}))                    // an attribute with odd padding
	f.Fuzz(func(t *testing.T, b []byte) {
		nlMessages(b, func(payload []byte) {
			attrs(payload, func(uint16, []byte) {})
		})
		attrs(b, func(uint16, []byte) {})
	})
}
