package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/internal/scenario"
)

// referenceJSON is what WriteJSON wrote before it streamed attempts.
func referenceJSON(r *Report) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// randomReport has attempts with and without replies, optional fields set
// and unset, and strings that need escaping.
func randomReport(rng *rand.Rand, attempts int) *Report {
	odd := []string{"", "a", `quote " and \ backslash`, "<tag> & amp", "tab\there", "nl\nx", "\u2028\u2029", "ünïcödé", "\x01\x7f", "{[,:]}"}
	pick := func() string { return odd[rng.IntN(len(odd))] }
	r := &Report{
		Schema: Schema, Tool: "tfopcap test",
		Inputs:          []InputReport{{Name: pick(), Format: "pcap", LinkTypes: []string{"EN10MB"}, Packets: 3, Warnings: []string{pick()}}},
		Servers:         []ServerReport{{Server: "192.0.2.2:443", Verdict: analyze.Omits, Hints: []string{"kernel >= 6.2 " + pick()}, TFOKinds: map[string]int{"34": 2}}},
		AttemptsOmitted: rng.IntN(2) * 7,
		Warnings:        []string{pick()},
	}
	r.Totals.Outcomes[analyze.Omitted] = 2
	randomSummary(rng, r, pick)
	for i := range attempts {
		a := AttemptReport{
			Input: rng.IntN(3), Client: pick(), Server: "[2001:db8::1]:443", ISN: rng.Uint32(),
			SYN: SYNReport{Frame: i + 1, Time: "2026-11-25T23:27:01.123456Z", TFO: pick(), TFOKind: 34, Cookie: pick(),
				DataLen: rng.IntN(3), MPTCP: pick(), Retransmits: rng.IntN(2), Duplicates: rng.IntN(2),
				PlainRetryFrame: rng.IntN(2) * 9, Truncated: rng.IntN(2) == 0, Seen: randomSightings(rng, pick)},
			Outcome: analyze.Outcome(rng.IntN(len(analyze.Outcomes()))),
		}
		if rng.IntN(3) > 0 {
			a.Reply = &ReplyReport{Input: 1, Frame: i + 2, Time: pick(), Kind: "syn-ack", TFO: "cookie", Cookie: pick(),
				AckedData: rng.IntN(5), MPTCP: pick(), Truncated: rng.IntN(2) == 0, Seen: randomSightings(rng, pick)}
		}
		if a.SYN.PlainRetryFrame != 0 {
			in := rng.IntN(3)
			a.SYN.PlainRetryInput = &in
		}
		if rng.IntN(4) == 0 {
			a.SYN.Stripped = &randomSightings(rng, pick)[0]
		}
		if rng.IntN(3) == 0 {
			a.Rewritten = &RewrittenReport{Client: pick(), Server: "198.51.100.1:443"}
		}
		r.Attempts = append(r.Attempts, a)
	}
	return r
}

// randomSummary fills the report around its attempts: inputs, servers
// (with and without the rare parts), findings, unlisted servers and live
// statistics, each list sometimes nil, sometimes empty.
func randomSummary(rng *rand.Rand, r *Report, pick func() string) {
	list := func() []string {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		return []string{pick(), pick()}
	}
	counts := func() (c analyze.OutcomeCounts) {
		for i := range c {
			c[i] = rng.IntN(3) * rng.IntN(1000)
		}
		return c
	}
	for range rng.IntN(3) {
		r.Inputs = append(r.Inputs, InputReport{Name: pick(), Format: pick(), LinkTypes: list(), Packets: rng.IntN(9),
			First: []string{"", "2026-11-25T23:27:01.123456Z"}[rng.IntN(2)], Last: pick(), Warnings: list()})
	}
	if rng.IntN(5) == 0 {
		r.Inputs = nil
	}
	r.Totals.Packets, r.Totals.Attempts, r.Totals.Outcomes = rng.IntN(1e6), rng.IntN(1e4), counts()
	for range rng.IntN(4) {
		s := ServerReport{Server: pick(), Verdict: analyze.Verdict(rng.IntN(int(analyze.Mixed) + 1)), Attempts: rng.IntN(99),
			Outcomes: counts(), MPTCP: MPTCPCounts{rng.IntN(3), rng.IntN(3)}, Hints: list(),
			SYNACKWithoutSYN: rng.IntN(3), Truncated: rng.IntN(3), Aggregated: rng.IntN(2) * 5}
		if rng.IntN(3) > 0 {
			s.HintIDs = []analyze.FindingID{analyze.FindListenerNoTFO, analyze.FindingID(pick())}[:rng.IntN(3)]
		}
		if rng.IntN(2) == 0 {
			s.TFOKinds = map[string]int{}
			for _, k := range []string{"34", "253", "254"}[:rng.IntN(4)] {
				s.TFOKinds[k] = 1 + rng.IntN(9)
			}
		}
		if rng.IntN(3) == 0 {
			s.Listener = &ListenerReport{Address: pick(), Protocol: "mptcp", UID: 7, Process: []ListenerProcess{{PID: 3, Name: pick()}}}
		}
		if rng.IntN(3) == 0 {
			s.Change = &ChangeReport{Kind: pick(), Switches: 2, Inexact: rng.IntN(2) == 0,
				After: &DecisionReport{Outcome: analyze.Omitted, Input: 1, Frame: 9, Time: pick(), SYNFrame: 8, SYNTime: pick()}}
		}
		if rng.IntN(4) == 0 {
			s.Probe = &ProbeReport{Target: pick(), MPTCP: "no", Method: "tcp_info", Notes: list(),
				Rounds: []ProbeRoundReport{{Round: "request", Cache: "cleared", Outcome: pick(), Kernel: ProbeKernelReport{SYNData: true, FastopenClientFail: pick()}}}}
		}
		r.Servers = append(r.Servers, s)
	}
	if rng.IntN(5) == 0 {
		r.Servers = nil
	}
	for range rng.IntN(3) {
		r.Findings = append(r.Findings, FindingReport{ID: analyze.FindClientBlackhole, Text: pick(), Servers: list(), Clients: list()})
	}
	if rng.IntN(3) == 0 {
		r.Findings = []FindingReport{}
	}
	if rng.IntN(3) == 0 {
		r.UnlistedServers = &UnlistedServers{Servers: rng.IntN(9), Attempts: rng.IntN(9), Outcomes: counts(), SYNACKWithoutSYN: rng.IntN(2)}
	}
	if rng.IntN(4) == 0 {
		r.Live = &LiveStats{Interface: pick(), Received: 9, Dropped: 1}
	}
	if rng.IntN(4) == 0 {
		r.Warnings = list()
	}
}

// randomSightings returns 1 to 4 sightings, optional fields set or not.
func randomSightings(rng *rand.Rand, pick func() string) []SightingReport {
	list := make([]SightingReport, 1+rng.IntN(4))
	for i := range list {
		list[i] = SightingReport{Input: rng.IntN(3), Section: rng.IntN(2), Interface: rng.IntN(3),
			IfIndex: rng.IntN(2) * 7, Frame: 1 + rng.IntN(99), Send: rng.IntN(3), TFO: pick()}
	}
	return list
}

func TestWriteJSONMatchesEncoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Past parallelAttempts: the last chunk even, and odd and short.
	for _, n := range []int{0, 1, 2, 50, parallelAttempts + 1, 9*attemptChunk + 100} {
		for rep := range 20 {
			r := randomReport(rng, n)
			if rep%5 == 0 {
				r.Attempts = nil // "attempts": null
			}
			var got bytes.Buffer
			if err := WriteJSON(&got, r); err != nil {
				t.Fatal(err)
			}
			if want := referenceJSON(r); !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("%d attempts: streamed JSON differs from encoding/json's:\n%s", n, firstDiff(got.Bytes(), want))
			}
		}
	}
}

func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-80)
	return fmt.Sprintf("at byte %d\ngot:  %q\nwant: %q", i, a[from:min(len(a), i+80)], b[from:min(len(b), i+80)])
}

// TestJSONFields fails when a field is added to, removed from or
// reordered in a struct that render_json.go writes by hand without its
// writer following.
func TestJSONFields(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[AttemptReport](), reflect.TypeFor[SYNReport](), reflect.TypeFor[ReplyReport](),
		reflect.TypeFor[RewrittenReport](), reflect.TypeFor[SightingReport](),
		reflect.TypeFor[Report](), reflect.TypeFor[InputReport](), reflect.TypeFor[Totals](), reflect.TypeFor[ServerReport](),
		reflect.TypeFor[MPTCPCounts](), reflect.TypeFor[UnlistedServers](), reflect.TypeFor[FindingReport]()} {
		var tags []string
		for i := range typ.NumField() {
			if tag, ok := typ.Field(i).Tag.Lookup("json"); ok && tag != "-" {
				tags = append(tags, tag)
			}
		}
		want, ok := attemptJSONFields[typ.Name()]
		if !ok {
			want = reportJSONFields[typ.Name()]
		}
		if !slices.Equal(tags, want) {
			t.Errorf("%s has JSON fields %q; its writer writes %q: update it (render_json*.go)", typ.Name(), tags, want)
		}
	}
}

// plainReport is randomReport with the strings a real report has.
func plainReport(n int) *Report {
	r := randomReport(rand.New(rand.NewPCG(1, 2)), n)
	for i := range r.Attempts {
		a := &r.Attempts[i]
		a.Client, a.SYN.Time, a.SYN.TFO, a.SYN.Cookie, a.SYN.MPTCP = "198.19.0.1:40000", "2025-11-25T23:27:01.123456Z", "cookie", "0123456789abcdef", "MP_CAPABLE v1"
		if a.Reply != nil {
			a.Reply.Time, a.Reply.Cookie, a.Reply.MPTCP = "2025-11-25T23:27:01.123556Z", "", ""
		}
	}
	return r
}

func BenchmarkWriteJSON(b *testing.B) {
	r := plainReport(analyze.DefaultMaxAttempts)
	var buf bytes.Buffer
	WriteJSON(&buf, r)
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		WriteJSON(&buf, r)
	}
}

func BenchmarkEncoderJSON(b *testing.B) {
	r := plainReport(analyze.DefaultMaxAttempts)
	b.SetBytes(int64(len(referenceJSON(r))))
	b.ReportAllocs()
	for b.Loop() {
		referenceJSON(r)
	}
}

// appendAttemptsEncoder is appendAttempts by encoding/json, one attempt at
// a time: the measured alternative to appendAttempt.
func appendAttemptsEncoder(b []byte, attempts []AttemptReport, from, to int) []byte {
	buf := bytes.NewBuffer(b)
	enc := json.NewEncoder(buf)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	for k := from; k < to; k++ {
		if k > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		if err := enc.Encode(&attempts[k]); err != nil {
			panic(err)
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	return buf.Bytes()
}

// TestAppendAttemptsEncoder: the alternative writes the same bytes, so
// that the benchmarks compare like with like.
func TestAppendAttemptsEncoder(t *testing.T) {
	r := plainReport(3000)
	var a, b bytes.Buffer
	if err := writeJSONStreamWith(&a, r, appendAttempts); err != nil {
		t.Fatal(err)
	}
	if err := writeJSONStreamWith(&b, r, appendAttemptsEncoder); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("outputs differ: %s", firstDiff(a.Bytes(), b.Bytes()))
	}
}

// BenchmarkWriteJSONEncoder is BenchmarkWriteJSON with the attempts
// encoded by encoding/json one at a time.
func BenchmarkWriteJSONEncoder(b *testing.B) {
	r := plainReport(analyze.DefaultMaxAttempts)
	var buf bytes.Buffer
	writeJSONStreamWith(&buf, r, appendAttemptsEncoder)
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		writeJSONStreamWith(&buf, r, appendAttemptsEncoder)
	}
}

// BenchmarkAttemptReports renders the 10000 attempts a report keeps by
// default.
func BenchmarkAttemptReports(b *testing.B) {
	coll := analyze.NewCollector(0)
	var lab []scenario.Scenario
	for len(lab)*6 < analyze.DefaultMaxAttempts { // six attempts a scenario
		for _, sc := range scenario.Lab {
			sc.Server = strings.Replace(sc.Server, "8", strconv.Itoa(len(lab)%10), 1)
			lab = append(lab, sc)
		}
	}
	scenario.Run(coll, lab...)
	kept := coll.Summary().Kept
	b.ReportAllocs()
	for b.Loop() {
		attemptReports(kept)
	}
}

// failingWriter fails every write once limit bytes are written.
type failingWriter struct{ n, limit int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if w.n+len(b) > w.limit {
		return 0, errors.New("disk full")
	}
	w.n += len(b)
	return len(b), nil
}

// TestWriteJSONFailingWriter stops at the first failed write, in the
// attempts of either goroutine, and leaves no goroutine behind.
func TestWriteJSONFailingWriter(t *testing.T) {
	r := randomReport(rand.New(rand.NewPCG(3, 4)), 9*attemptChunk)
	var full bytes.Buffer
	if err := WriteJSON(&full, r); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for _, limit := range []int{0, full.Len() / 10, full.Len() / 2, full.Len() - 10} {
		if err := WriteJSON(&failingWriter{limit: limit}, r); err == nil || err.Error() != "disk full" {
			t.Errorf("failing after %d bytes: error %v, want disk full", limit, err)
		}
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the failed writes, %d before", n, before)
	}
}
