package analyze

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
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
		Servers:         []ServerReport{{Server: "192.0.2.2:443", Verdict: Omits, Hints: []string{"kernel >= 6.2 " + pick()}, TFOKinds: map[string]int{"34": 2}}},
		AttemptsOmitted: rng.IntN(2) * 7,
		Warnings:        []string{pick()},
	}
	r.Totals.Outcomes[Omitted] = 2
	for i := range attempts {
		a := AttemptReport{
			Input: rng.IntN(3), Client: pick(), Server: "[2001:db8::1]:443", ISN: rng.Uint32(),
			SYN: SYNReport{Frame: i + 1, Time: "2026-11-25T23:27:01.123456Z", TFO: pick(), TFOKind: 34, Cookie: pick(),
				DataLen: rng.IntN(3), MPTCP: pick(), Retransmits: rng.IntN(2), Duplicates: rng.IntN(2),
				PlainRetryFrame: rng.IntN(2) * 9, Truncated: rng.IntN(2) == 0},
			Outcome: Outcome(rng.IntN(int(numOutcomes))),
		}
		if rng.IntN(3) > 0 {
			a.Reply = &ReplyReport{Input: 1, Frame: i + 2, Time: pick(), Kind: "syn-ack", TFO: "cookie", Cookie: pick(),
				AckedData: rng.IntN(5), MPTCP: pick(), Truncated: rng.IntN(2) == 0}
		}
		r.Attempts = append(r.Attempts, a)
	}
	return r
}

func TestWriteJSONMatchesEncoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 50} {
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

func TestAppendIndented(t *testing.T) {
	for _, src := range []string{`{}`, `[]`, `{"a":[]}`, `{"a":{},"b":[1,2,{"c":"d,:{}[]\"\\"}]}`, `"x"`, `3`, `[[],[{}],null]`} {
		var want bytes.Buffer
		if err := json.Indent(&want, []byte(src), "    ", "  "); err != nil {
			t.Fatal(err)
		}
		// json.Indent puts the prefix after each newline: at depth 2 with
		// indent "  " that is what appendIndented does.
		if got := appendIndented(nil, []byte(src), 2); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendIndented(%s) =\n%s\nwant\n%s", src, got, want.Bytes())
		}
	}
}

func BenchmarkWriteJSON(b *testing.B) {
	r := randomReport(rand.New(rand.NewPCG(1, 2)), DefaultMaxAttempts)
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
	r := randomReport(rand.New(rand.NewPCG(1, 2)), DefaultMaxAttempts)
	b.SetBytes(int64(len(referenceJSON(r))))
	b.ReportAllocs()
	for b.Loop() {
		referenceJSON(r)
	}
}
