package check

import "github.com/tfopcap/tfopcap/analyze"

// Schema names the JSON contract of tfopcap check (docs/check.md); fields
// are added, never renamed or removed, within a version.
const Schema = "tfopcap.check/v1"

// Report is what tfopcap check found on one host (network namespace).
type Report struct {
	Schema    string           `json:"schema"`
	Tool      string           `json:"tool"`
	Host      HostReport       `json:"host"`
	Listeners []ListenerReport `json:"listeners"`
	// Warnings say what could not be learned, and why (a missing
	// privilege, a file that could not be read).
	Warnings []string `json:"warnings"`
}

// HostReport is the kernel's side.
type HostReport struct {
	Kernel string `json:"kernel"`
	// TCPFastOpen is net.ipv4.tcp_fastopen; nil when unreadable.
	TCPFastOpen *int `json:"tcp_fastopen"`
	ServerBit   bool `json:"server_bit"`
	// MPTCPEnabled is net.mptcp.enabled; nil without MPTCP.
	MPTCPEnabled *int `json:"mptcp_enabled"`
	// TFOKey is "set", "unset" (zeros: nothing enabled TFO in this
	// namespace yet) or "unreadable" (needs root); the key itself never
	// enters the report.
	TFOKey           string `json:"tcp_fastopen_key"`
	BlackholeTimeout *int   `json:"tcp_fastopen_blackhole_timeout_sec"`
	// Counters are the TFO TcpExt counters now; Delta their growth over
	// IntervalSeconds (absent when the interval is 0).
	Counters        map[string]uint64 `json:"counters"`
	Delta           map[string]uint64 `json:"counters_delta,omitempty"`
	IntervalSeconds float64           `json:"interval_seconds"`
}

// ListenerReport is one listening socket and what check judged of it.
type ListenerReport struct {
	Address  string `json:"address"`
	Protocol string `json:"protocol"` // "tcp" or "mptcp"
	UID      uint32 `json:"uid"`
	// Processes hold the socket; empty when none could be seen (another
	// user's processes without root).
	Processes []ProcessReport `json:"processes"`
	TFO       string          `json:"tfo"` // enabled, disabled or unknown
	// Probe is the self-probe's answer; nil when none was made.
	Probe *ProbeReport `json:"probe"`
	// ProbeError says why no probe answer exists, "" otherwise.
	ProbeError string          `json:"probe_error,omitempty"`
	Findings   []FindingReport `json:"findings"`
}

// ProcessReport names one process holding a listener.
type ProcessReport struct {
	PID  int    `json:"pid"`
	Name string `json:"name"`
}

// ProbeReport is what the self-probe's SYN got back.
type ProbeReport struct {
	Method    string  `json:"method"`
	Target    string  `json:"target"`
	Reply     string  `json:"reply"` // syn-ack, rst or none
	TFO       string  `json:"tfo"`   // none, cookie, request or malformed
	CookieLen int     `json:"cookie_len"`
	MPTCP     string  `json:"mptcp"`
	RTTMillis float64 `json:"rtt_ms"`
}

// FindingReport is one finding, with an ID from analyze's set.
type FindingReport struct {
	ID   analyze.FindingID `json:"id"`
	Text string            `json:"text"`
}
