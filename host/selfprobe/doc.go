// Package selfprobe asks a local listener whether it really does TCP Fast
// Open, without touching it: from a raw socket it sends one SYN carrying a
// TFO cookie request (option 34, empty) and MP_CAPABLE (so that an MPTCP
// listener shows itself), reads the SYN-ACK, and resets the half-open
// connection. The listener's application never sees a connection, and no
// setting of the listener or the host changes. The cookie in the SYN-ACK
// is what the kernel would give any client: its presence means TFO is on.
//
// A raw socket needs CAP_NET_RAW: without it Probe fails with an error
// that wraps ErrNoRawSocket. Linux only.
package selfprobe

import (
	"errors"
	"net/netip"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
)

// Method names how a probe was made, for reports.
const MethodRawSYN = "raw-syn"

// Reply kinds.
const (
	ReplyNone   = "none"    // nothing within the timeout
	ReplySYNACK = "syn-ack" // the listener answered
	ReplyRST    = "rst"     // refused
)

// Result is what one probe saw.
type Result struct {
	Target netip.AddrPort // the address the SYN went to
	Method string
	Reply  string // ReplyNone, ReplySYNACK or ReplyRST
	// TFO is the SYN-ACK's TFO option: TFOCookie means TFO is enabled;
	// valid iff Reply == ReplySYNACK.
	TFO       analyze.TFOState
	CookieLen int
	// MPTCP is the SYN-ACK's MPTCP option ("MP_CAPABLE v1"), "" without;
	// valid iff Reply == ReplySYNACK.
	MPTCP string
	RTT   time.Duration
}

// ErrNoRawSocket is wrapped by the error Probe returns when it may not open
// a raw socket (no CAP_NET_RAW).
var ErrNoRawSocket = errors.New("a raw socket needs CAP_NET_RAW")

// ErrUnsupported is returned by Probe where raw TCP sockets are not Linux's.
var ErrUnsupported = errors.New("the self-probe needs Linux")
