package report

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"unicode/utf8"
)

// writeJSONStream writes r exactly as an encoding/json Encoder with
// SetIndent("", "  ") and SetEscapeHTML(false) would, without holding the
// whole document in memory and without reflection on the usual path. The
// report around its attempts is appended field by field (appendReportHead,
// appendReportTail): encoding/json built its encoders for the whole
// report's type tree by reflection on first use, 1.3 M of the 7.9 M
// instructions of a run on an empty capture (callgrind), 0.5 ms; the
// rare parts (a listener, a change, a probe, live statistics) still go
// through it.
// The attempts, which are most of a large report (10000 make about 6.5
// MB), are written one at a time by appendAttempt: 27 ms for 10000
// against 105 ms with encoding/json encoding one attempt at a time
// (BenchmarkWriteJSON, BenchmarkWriteJSONEncoder), and 31 MiB allocated
// against 47.
func writeJSONStream(w io.Writer, r *Report) error {
	return writeJSONStreamWith(w, r, appendAttempts)
}

// attemptsAppender appends attempts[from:to] as elements of the attempts array.
type attemptsAppender func(b []byte, attempts []AttemptReport, from, to int) []byte

func writeJSONStreamWith(w io.Writer, r *Report, appendAttempts attemptsAppender) error {
	b := appendReportHead(make([]byte, 0, 4096), r)
	if len(r.Attempts) == 0 {
		if r.Attempts == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, "[]"...)
		}
		_, err := w.Write(appendReportTail(b, r))
		return err
	}
	b = append(b, '[')
	if _, err := w.Write(b); err != nil {
		return err
	}
	if err := writeAttempts(w, r.Attempts, appendAttempts); err != nil {
		return err
	}
	_, err := w.Write(appendReportTail(append(b[:0], "\n  ]"...), r))
	return err
}

const (
	// parallelAttempts is the list length from which writeJSONStream
	// renders on two goroutines at once.
	parallelAttempts = 2000
	// attemptChunk is how many attempts the second goroutine renders
	// at a time (about 180 KB of JSON).
	attemptChunk = 256
	// attemptJSONSize is about what one attempt takes in JSON.
	attemptJSONSize = 700
)

// writeAttempts writes the elements of the attempts array. A long list
// is rendered on two goroutines at once (the other core is idle by now):
// this one renders and writes the even chunks of attemptChunk attempts,
// another renders the odd ones, which this one writes in turn. At most
// four chunks are rendered ahead: rendering the whole second half aside
// first, as before, held 3.4 MB for 10000 attempts at the run's end,
// when 3000 rotation files made it the peak of RSS.
func writeAttempts(w io.Writer, attempts []AttemptReport, appendAttempts attemptsAppender) error {
	n := len(attempts)
	odd := make(chan []byte, 2)
	free := make(chan []byte, 4)
	stop := make(chan struct{})
	chunk := n // one, written as it is rendered
	if n >= parallelAttempts {
		chunk = attemptChunk
		go renderOddChunks(attempts, appendAttempts, odd, free, stop)
	} else {
		close(odd)
	}
	fail := func(err error) error {
		close(stop)
		for range odd { // until the other goroutine has ended
		}
		return err
	}
	out := make([]byte, 0, 4096)
	for from := 0; from < n; from += 2 * chunk {
		for k := from; k < min(from+chunk, n); k++ {
			out = appendAttempts(out[:0], attempts, k, k+1)
			if _, err := w.Write(out); err != nil {
				return fail(err)
			}
		}
		if b, ok := <-odd; ok {
			if _, err := w.Write(b); err != nil {
				return fail(err)
			}
			free <- b
		}
	}
	return nil
}

// renderOddChunks renders the odd chunks of attemptChunk attempts, in
// order, into buffers taken from free (or new), sent on odd; it closes
// odd when done or stopped.
func renderOddChunks(attempts []AttemptReport, appendAttempts attemptsAppender, odd chan<- []byte, free <-chan []byte, stop <-chan struct{}) {
	defer close(odd)
	for from := attemptChunk; from < len(attempts); from += 2 * attemptChunk {
		var b []byte
		select {
		case b = <-free:
		default:
			b = make([]byte, 0, attemptChunk*attemptJSONSize)
		}
		b = appendAttempts(b[:0], attempts, from, min(from+attemptChunk, len(attempts)))
		select {
		case odd <- b:
		case <-stop:
			return
		}
	}
}

// appendAttempts appends attempts[from:to] as elements of the report's
// attempts array, each after a comma unless it is the first.
func appendAttempts(b []byte, attempts []AttemptReport, from, to int) []byte {
	for k := from; k < to; k++ {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    "...)
		b = appendAttempt(b, &attempts[k])
	}
	return b
}

// attemptJSONFields lists, per struct, the JSON fields appendAttempt
// writes in order; a test checks them against the structs' tags, so a
// field added to the report model cannot silently go missing from JSON.
var attemptJSONFields = map[string][]string{
	"AttemptReport":   {"input", "client", "server", "isn", "syn", "reply", "outcome", "rewritten,omitempty"},
	"RewrittenReport": {"client", "server"},
	"SYNReport": {"frame", "time", "tfo", "tfo_kind", "cookie", "data_len", "mptcp", "retransmits", "duplicates",
		"plain_retry_frame,omitempty", "plain_retry_input,omitempty", "truncated,omitempty", "fragmented,omitempty", "stripped,omitempty", "seen,omitempty"},
	"ReplyReport":    {"input", "frame", "time", "rtt_us", "kind", "tfo", "cookie", "acked_data", "mptcp", "truncated,omitempty", "seen,omitempty"},
	"SightingReport": {"input", "section,omitempty", "interface", "ifindex,omitempty", "frame", "send", "tfo"},
}

// appendAttempt appends a as encoding/json (indent "  ", no HTML
// escaping) writes it as an element of the report's attempts array. Each
// field's key is one constant with its comma and indent (one copy a field
// instead of five appends: 10000 attempts took 60 M instructions).
func appendAttempt(b []byte, a *AttemptReport) []byte {
	const in1 = "\n      "
	b = appendInt(b, "{"+in1+`"input": `, int64(a.Input))
	b = appendString(b, ","+in1+`"client": `, a.Client)
	b = appendString(b, ","+in1+`"server": `, a.Server)
	b = appendInt(b, ","+in1+`"isn": `, int64(a.ISN))
	s := &a.SYN
	b = appendInt(b, ","+in1+`"syn": {`+in2+`"frame": `, int64(s.Frame))
	b = appendString(b, ","+in2+`"time": `, s.Time)
	b = appendString(b, ","+in2+`"tfo": `, s.TFO)
	b = appendInt(b, ","+in2+`"tfo_kind": `, int64(s.TFOKind))
	b = appendString(b, ","+in2+`"cookie": `, s.Cookie)
	b = appendInt(b, ","+in2+`"data_len": `, int64(s.DataLen))
	b = appendString(b, ","+in2+`"mptcp": `, s.MPTCP)
	b = appendInt(b, ","+in2+`"retransmits": `, int64(s.Retransmits))
	b = appendInt(b, ","+in2+`"duplicates": `, int64(s.Duplicates))
	if s.PlainRetryFrame != 0 {
		b = appendInt(b, ","+in2+`"plain_retry_frame": `, int64(s.PlainRetryFrame))
	}
	if s.PlainRetryInput != nil {
		b = appendInt(b, ","+in2+`"plain_retry_input": `, int64(*s.PlainRetryInput))
	}
	if s.Truncated {
		b = append(b, ","+in2+`"truncated": true`...)
	}
	if s.Fragmented {
		b = append(b, ","+in2+`"fragmented": true`...)
	}
	if s.Stripped != nil {
		b = append(b, ","+in2+`"stripped": `...)
		b = appendSighting(b, in2, in3, s.Stripped)
	}
	b = appendSightings(b, s.Seen)
	b = append(b, in1+"},"+in1+`"reply": `...)
	if r := a.Reply; r == nil {
		b = append(b, "null"...)
	} else {
		b = appendInt(b, "{"+in2+`"input": `, int64(r.Input))
		b = appendInt(b, ","+in2+`"frame": `, int64(r.Frame))
		b = appendString(b, ","+in2+`"time": `, r.Time)
		b = appendInt(b, ","+in2+`"rtt_us": `, r.RTTMicros)
		b = appendString(b, ","+in2+`"kind": `, r.Kind)
		b = appendString(b, ","+in2+`"tfo": `, r.TFO)
		b = appendString(b, ","+in2+`"cookie": `, r.Cookie)
		b = appendInt(b, ","+in2+`"acked_data": `, int64(r.AckedData))
		b = appendString(b, ","+in2+`"mptcp": `, r.MPTCP)
		if r.Truncated {
			b = append(b, ","+in2+`"truncated": true`...)
		}
		b = appendSightings(b, r.Seen)
		b = append(b, in1+"}"...)
	}
	b = appendString(b, ","+in1+`"outcome": `, a.Outcome.String())
	if w := a.Rewritten; w != nil {
		b = appendString(b, ","+in1+`"rewritten": {`+in2+`"client": `, w.Client)
		b = appendString(b, ","+in2+`"server": `, w.Server)
		b = append(b, in1+"}"...)
	}
	return append(b, "\n    }"...)
}

// appendInt appends key, a field's whole prefix (comma or brace, indent,
// name, colon), and n.
func appendInt(b []byte, key string, n int64) []byte {
	return strconv.AppendInt(append(b, key...), n, 10)
}

// appendString appends key, as appendInt, and v quoted.
func appendString(b []byte, key, v string) []byte {
	return appendJSONString(append(b, key...), v)
}

// Indents of the fields of an attempt's syn and reply (in2), and of the
// elements and fields of their seen lists (in3, in4).
const in2, in3, in4 = "\n        ", "\n          ", "\n            "

// appendSightings appends `,"seen": [...]` as a field of syn or reply,
// nothing when the list is empty.
func appendSightings(b []byte, list []SightingReport) []byte {
	if len(list) == 0 {
		return b
	}
	b = append(b, ","+in2+`"seen": [`...)
	for i := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, in3...)
		b = appendSighting(b, in3, in4, &list[i])
	}
	return append(b, in2+"]"...)
}

// appendSighting appends one sighting object, its fields at in and its
// closing brace at indent.
func appendSighting(b []byte, indent, in string, s *SightingReport) []byte {
	b = append(b, '{')
	b = appendIntField(b, in, "input", int64(s.Input), false)
	if s.Section != 0 {
		b = appendIntField(b, in, "section", int64(s.Section), true)
	}
	b = appendIntField(b, in, "interface", int64(s.Interface), true)
	if s.IfIndex != 0 {
		b = appendIntField(b, in, "ifindex", int64(s.IfIndex), true)
	}
	b = appendIntField(b, in, "frame", int64(s.Frame), true)
	b = appendIntField(b, in, "send", int64(s.Send), true)
	b = appendStringField(b, in, "tfo", s.TFO)
	b = append(b, indent...)
	return append(b, '}')
}

// appendIntField appends `,<indent>"name": n` (no comma when first).
func appendIntField(b []byte, indent, name string, n int64, comma bool) []byte {
	if comma {
		b = append(b, ',')
	}
	b = append(b, indent...)
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `": `...)
	return strconv.AppendInt(b, n, 10)
}

func appendStringField(b []byte, indent, name, v string) []byte {
	b = append(b, ',')
	b = append(b, indent...)
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `": `...)
	return appendJSONString(b, v)
}

// appendJSONString quotes s as encoding/json does without HTML escaping.
// Report strings are almost always plain ASCII; anything else goes
// through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainJSON[s[i]] {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.Encode(s) // a string always encodes
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainJSON tells the bytes that encoding/json writes as they are inside
// a string (no HTML escaping): one load a byte instead of four compares.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
