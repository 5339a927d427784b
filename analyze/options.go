package analyze

import "fmt"

// TCP option kinds that matter to TFO analysis.
const (
	optEOL           = 0  // RFC 9293: end of option list
	optNOP           = 1  // RFC 9293: no-operation
	optTimestamps    = 8  // RFC 7323 section 3: TSval, TSecr (length 10)
	optMPTCP         = 30 // RFC 8684 section 3 (and RFC 6824)
	optFastOpen      = 34 // RFC 7413 section 4.1.1
	optExperimental  = 253
	optExperimental2 = 254 // RFC 6994 shared experimental options

	// exidFastOpen is the ExID of the pre-RFC experimental TFO encoding
	// (kind 254 or 253, magic 0xF989), still sent by Linux clients.
	exidFastOpen = 0xF989

	// Cookie sizes, RFC 7413 section 4.1.1: 4 to 16 bytes.
	minCookieLen = 4
	maxCookieLen = 16
)

// TFOState says what a segment's TFO option asks or carries.
type TFOState uint8

const (
	TFONone      TFOState = iota // no TFO option
	TFORequest                   // an empty option: a cookie request
	TFOCookie                    // a cookie of 4 to 16 bytes
	TFOMalformed                 // a TFO option of invalid length
)

var tfoStateNames = [...]string{"none", "request", "cookie", "malformed"}

func (s TFOState) String() string {
	if int(s) < len(tfoStateNames) {
		return tfoStateNames[s]
	}
	return fmt.Sprintf("unknown(%d)", uint8(s))
}

// TFOOption is the first TFO option of a segment (kind 34, or kind 253/254
// with ExID 0xF989).
type TFOOption struct {
	State TFOState
	// Kind is 34, 253 or 254; valid iff State != TFONone.
	Kind uint8
	// Len is the option's length byte; valid iff State != TFONone.
	Len uint8
	// cookie holds the cookie; cookieLen bytes are valid iff State == TFOCookie.
	cookie    [maxCookieLen]byte
	cookieLen uint8
}

// Cookie returns the cookie bytes, empty unless State is TFOCookie. The slice
// aliases o: copy it to keep it past o's lifetime.
func (o *TFOOption) Cookie() []byte { return o.cookie[:o.cookieLen] }

// MPTCP subtypes, RFC 8684 section 3 (table 1).
const (
	MPCapable    = 0
	MPJoin       = 1
	MPDSS        = 2
	MPAddAddr    = 3
	MPRemoveAddr = 4
	MPPrio       = 5
	MPFail       = 6
	MPFastClose  = 7
	MPTCPRst     = 8
)

var mptcpSubtypeNames = [...]string{
	"MP_CAPABLE", "MP_JOIN", "DSS", "ADD_ADDR", "REMOVE_ADDR",
	"MP_PRIO", "MP_FAIL", "MP_FASTCLOSE", "MP_TCPRST",
}

// MPTCPOption is the first MPTCP option of a segment.
type MPTCPOption struct {
	Present bool
	// Subtype is the high nibble of the first payload byte; valid iff
	// Present and Len >= 3.
	Subtype uint8
	// Version is MP_CAPABLE's low nibble (0 = RFC 6824, 1 = RFC 8684);
	// valid iff Subtype == MPCapable and Len >= 3.
	Version uint8
	// Len is the option's length byte; valid iff Present.
	Len uint8
}

// String describes the option as "MP_CAPABLE v1", "MP_JOIN", or "" when absent.
func (m MPTCPOption) String() string {
	switch {
	case !m.Present:
		return ""
	case m.Len < 3:
		return "MPTCP (malformed)"
	case m.Subtype == MPCapable:
		return fmt.Sprintf("MP_CAPABLE v%d", m.Version)
	case int(m.Subtype) < len(mptcpSubtypeNames):
		return mptcpSubtypeNames[m.Subtype]
	default:
		return fmt.Sprintf("MPTCP unknown(%d)", m.Subtype)
	}
}

// WalkStop says why an option walk ended.
type WalkStop uint8

const (
	WalkEnd       WalkStop = iota // reached the end of the option space
	WalkEOL                       // an EOL option
	WalkBadLength                 // an option length < 2 or past the header
	WalkTruncated                 // the capture ends inside the options (snaplen)
)

var walkStopNames = [...]string{"end", "eol", "bad-length", "truncated"}

func (w WalkStop) String() string {
	if int(w) < len(walkStopNames) {
		return walkStopNames[w]
	}
	return fmt.Sprintf("unknown(%d)", uint8(w))
}

// Options is what tfopcap needs of a TCP option list.
type Options struct {
	TFO   TFOOption
	MPTCP MPTCPOption
	// TSval is the sender's timestamp value (RFC 7323); valid iff HasTS.
	// It tells a copy of a segment (the same TSval) from a retransmission
	// (a later one), wherever each was captured.
	TSval uint32
	HasTS bool
	// Stop says why the walk ended; options after a bad length are unknown.
	Stop WalkStop
}

// ParseOptions walks the option bytes of one TCP header, gvisor-style: EOL
// ends the walk, NOP is one byte, any other option needs 2 <= length <= what
// remains of the declared option space, and a bad option ends the walk keeping
// what was parsed. opts holds the captured option bytes; declared is the size
// of the option space the data offset declares (len(opts) < declared when
// snaplen cut the header). It never reads past opts and does not allocate.
func ParseOptions(opts []byte, declared int) Options {
	var o Options
	captured := len(opts)
	for i := 0; i < captured; {
		kind := opts[i]
		if kind == optEOL {
			o.Stop = WalkEOL
			return o
		}
		if kind == optNOP {
			i++
			continue
		}
		if i+1 >= captured {
			// The length byte is missing: cut by snaplen if the header
			// declares it, otherwise the option overruns the header.
			o.Stop = WalkBadLength
			if i+1 < declared {
				o.Stop = WalkTruncated
			} else {
				o.TFO.badLength(kind, 0)
			}
			return o
		}
		n := int(opts[i+1])
		if n < 2 || i+n > declared {
			o.Stop = WalkBadLength
			o.TFO.badLength(kind, uint8(n))
			return o
		}
		if i+n > captured {
			o.Stop = WalkTruncated
			return o
		}
		// The body is sliced only for the options read: MSS, window
		// scale and SACK, most of a SYN's, are stepped over (callgrind,
		// the 120k SYNs and SYN-ACKs of the real handshake capture:
		// ParseOptions 33.9 -> 25.1 M instructions).
		switch kind {
		case optFastOpen:
			if o.TFO.State == TFONone {
				o.TFO.set(kind, uint8(n), opts[i+2:i+n])
			}
		case optExperimental, optExperimental2:
			if body := opts[i+2 : i+n]; o.TFO.State == TFONone && len(body) >= 2 && uint16(body[0])<<8|uint16(body[1]) == exidFastOpen {
				o.TFO.set(kind, uint8(n), body[2:])
			}
		case optTimestamps:
			if n == 10 && !o.HasTS {
				body := opts[i+2 : i+n]
				o.TSval = uint32(body[0])<<24 | uint32(body[1])<<16 | uint32(body[2])<<8 | uint32(body[3])
				o.HasTS = true
			}
		case optMPTCP:
			if !o.MPTCP.Present {
				o.MPTCP.Present = true
				o.MPTCP.Len = uint8(n)
				if n >= 3 {
					b0 := opts[i+2]
					o.MPTCP.Subtype = b0 >> 4
					if o.MPTCP.Subtype == MPCapable {
						o.MPTCP.Version = b0 & 0x0f
					}
				}
			}
		}
		i += n
	}
	if captured < declared {
		o.Stop = WalkTruncated
	}
	return o
}

// badLength records a kind-34 option whose length byte is impossible (0
// or 1, past the header, or missing): a mangled TFO option, which is
// evidence (outcome malformed), not an omission. Kinds 253/254 are not
// known to be TFO without a sound length to reach their ExID.
func (t *TFOOption) badLength(kind, length uint8) {
	if kind == optFastOpen && t.State == TFONone {
		*t = TFOOption{State: TFOMalformed, Kind: kind, Len: length}
	}
}

// set records a TFO option whose payload (after kind, length and any ExID)
// is body.
func (t *TFOOption) set(kind, length uint8, body []byte) {
	t.Kind = kind
	t.Len = length
	switch {
	case len(body) == 0:
		t.State = TFORequest
	case len(body) >= minCookieLen && len(body) <= maxCookieLen:
		t.State = TFOCookie
		t.cookieLen = uint8(copy(t.cookie[:], body))
	default:
		t.State = TFOMalformed
	}
}
