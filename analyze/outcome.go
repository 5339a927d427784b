package analyze

import (
	"encoding/json"
	"fmt"
)

// Outcome is what one attempt shows about the server's TFO. The names are a
// contract with users (DESIGN.md): scripts and CI parse them.
type Outcome uint8

const (
	Granted      Outcome = iota // cookie request answered with a cookie
	Omitted                     // cookie request answered without one
	Accepted                    // cookie and data; the SYN-ACK acknowledges the data
	Rejected                    // cookie and data; the SYN-ACK acknowledges only the SYN, no cookie
	Renewed                     // cookie; the SYN-ACK carries a new cookie, data not acknowledged
	Unconfirmed                 // cookie without data; SYN-ACK without cookie
	Fallback                    // TFO SYN, then a plain retry that the SYN-ACK answers
	Refused                     // answered by RST
	Unanswered                  // no answer in the capture
	Plain                       // no TFO option; SYN-ACK
	MalformedTFO                // a TFO option of invalid length
	Stripped                    // TFO on a copy nearer the client, missing on one nearer the server
	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	"granted", "omitted", "accepted", "rejected", "renewed", "unconfirmed",
	"fallback", "refused", "unanswered", "plain", "malformed", "stripped",
}

// Outcomes lists every outcome in report order.
func Outcomes() []Outcome {
	all := make([]Outcome, numOutcomes)
	for i := range all {
		all[i] = Outcome(i)
	}
	return all
}

func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return fmt.Sprintf("unknown(%d)", uint8(o))
}

// ParseOutcome returns the outcome named s.
func ParseOutcome(s string) (Outcome, bool) {
	for i, n := range outcomeNames {
		if n == s {
			return Outcome(i), true
		}
	}
	return 0, false
}

// MarshalText makes outcomes JSON strings and map keys.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText parses an outcome name.
func (o *Outcome) UnmarshalText(b []byte) error {
	v, ok := ParseOutcome(string(b))
	if !ok {
		return fmt.Errorf("unknown outcome %q", b)
	}
	*o = v
	return nil
}

// Grants reports whether o shows the server doing TFO.
func (o Outcome) Grants() bool { return o == Granted || o == Accepted || o == Renewed }

// Omits reports whether o shows the server not doing TFO.
func (o Outcome) Omits() bool { return o == Omitted || o == Rejected }

// Verdict is a server's TFO verdict. Names are a contract, like outcomes.
type Verdict uint8

const (
	Inconclusive Verdict = iota // no attempt decides
	Grants                      // grants, accepts or renews; never omits or rejects
	Omits                       // omits or rejects; never grants, accepts or renews
	Mixed                       // both
)

var verdictNames = [...]string{"inconclusive", "grants", "omits", "mixed"}

func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("unknown(%d)", uint8(v))
}

// ParseVerdict returns the verdict named s.
func ParseVerdict(s string) (Verdict, bool) {
	for i, n := range verdictNames {
		if n == s {
			return Verdict(i), true
		}
	}
	return 0, false
}

// MarshalText makes verdicts JSON strings.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText parses a verdict name.
func (v *Verdict) UnmarshalText(b []byte) error {
	p, ok := ParseVerdict(string(b))
	if !ok {
		return fmt.Errorf("unknown verdict %q", b)
	}
	*v = p
	return nil
}

// OutcomeCounts counts attempts by outcome.
type OutcomeCounts [numOutcomes]int

// Total is the number of attempts counted.
func (c *OutcomeCounts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Verdict derives a server's verdict from its outcome counts.
func (c *OutcomeCounts) Verdict() Verdict {
	var g, o bool
	for i, n := range c {
		if n == 0 {
			continue
		}
		g = g || Outcome(i).Grants()
		o = o || Outcome(i).Omits()
	}
	switch {
	case g && o:
		return Mixed
	case g:
		return Grants
	case o:
		return Omits
	}
	return Inconclusive
}

// MarshalJSON writes the non-zero counts as {"granted": 2, ...}.
func (c OutcomeCounts) MarshalJSON() ([]byte, error) {
	m := make(map[Outcome]int)
	for i, n := range c {
		if n != 0 {
			m[Outcome(i)] = n
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads counts by outcome name; unknown names are an error,
// since a count tfopcap cannot place would silently change a verdict.
func (c *OutcomeCounts) UnmarshalJSON(b []byte) error {
	var m map[Outcome]int
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*c = OutcomeCounts{}
	for o, n := range m {
		c[o] = n
	}
	return nil
}
