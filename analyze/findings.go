package analyze

// FindingID names a finding (DESIGN.md, "Findings"). IDs are a contract,
// like outcome names: scripts match on them, so they never change meaning.
// The prose a finding carries may improve freely.
type FindingID string

// Server findings: why one server ip:port behaves as it does.
const (
	// The listener is MPTCP on a kernel where TCP_FASTOPEN fails on MPTCP
	// sockets (Linux < 6.2).
	FindMPTCPTFOUnsupported FindingID = "mptcp-tfo-unsupported"
	// Kernel and sysctl do TFO on this host; this listener does not enable it.
	FindListenerNoTFO FindingID = "listener-no-tfo"
	// An MPTCP client's SYN was answered as plain TCP: MPTCP is not the cause.
	FindNotMPTCP FindingID = "not-mptcp"
	// No client offered MPTCP, so an MPTCP listener could not be seen.
	FindMPTCPUnseen FindingID = "mptcp-unseen"
	// Nothing in the capture narrows the cause down.
	FindOtherCauses FindingID = "other-causes"
	// Clients retried without TFO after TFO SYNs went unanswered.
	FindTFOSYNDropped FindingID = "tfo-syn-dropped"
	// A copy nearer the server lacks the TFO option the client sent.
	FindOptionStripped FindingID = "option-stripped"
	// A server-side SYN-ACK never reached the client side.
	FindReplyLost FindingID = "reply-lost"
	// Clients sent both kind 34 and kind 254 (ExID 0xF989).
	FindKindAlternation FindingID = "kind-alternation"
	// Grants and omissions from one address.
	FindMixedAnswers FindingID = "mixed-answers"
	// Cookies without data cannot tell a TFO server from one ignoring TFO.
	FindUnconfirmed FindingID = "unconfirmed"
	// SYN-ACKs whose SYN the capture lacks.
	FindSYNACKWithoutSYN FindingID = "synack-without-syn"
	// Snaplen cut TCP options, so some attempts were not judged.
	FindSnaplenCut FindingID = "snaplen-cut"
)

// Capture-wide findings: about clients or the capture as a whole.
const (
	// A client's active-TFO blackhole detection turned TFO off.
	FindClientBlackhole FindingID = "client-blackhole"
	// No SYN asked for TFO: nothing could be judged.
	FindNoTFOClients FindingID = "no-tfo-clients"
)

// Finding is one explanation with the evidence it rests on in its text.
type Finding struct {
	ID   FindingID
	Text string
}
