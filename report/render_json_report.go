package report

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tfopcap/tfopcap/analyze"
)

// reportJSONFields lists, per struct, the JSON fields appendReportHead
// and appendReportTail write in order (as attemptJSONFields does for the
// attempts); a test checks them against the structs' tags.
var reportJSONFields = map[string][]string{
	"Report": {"schema", "tool", "inputs", "totals", "servers", "attempts", "attempts_omitted,omitempty",
		"unlisted_servers,omitempty", "live,omitempty", "findings", "warnings,omitempty"},
	"InputReport": {"name", "format", "link_types", "packets", "first,omitempty", "last,omitempty", "warnings"},
	"Totals":      {"packets", "attempts", "outcomes"},
	"ServerReport": {"server", "verdict", "attempts", "outcomes", "mptcp", "hints", "hint_ids", "synack_without_syn",
		"truncated", "tfo_kinds,omitempty", "listener,omitempty", "aggregated,omitempty", "change,omitempty", "probe,omitempty"},
	"MPTCPCounts":     {"syn", "synack"},
	"UnlistedServers": {"servers", "attempts", "outcomes", "synack_without_syn"},
	"FindingReport":   {"id", "text", "servers", "clients"},
}

// jsonOut appends indented JSON the way encoding/json's Encoder does
// with SetIndent("", "  "): an empty object or array is {} or [], a
// non-empty one has each member on a line of its own, one indent deeper.
type jsonOut struct {
	b     []byte
	depth int
	// empty is set while the innermost open object or array has no member.
	empty bool
}

func (o *jsonOut) newline() {
	o.b = append(o.b, '\n')
	for range o.depth {
		o.b = append(o.b, "  "...)
	}
}

func (o *jsonOut) open(c byte) {
	o.b = append(o.b, c)
	o.depth++
	o.empty = true
}

// close ends the innermost object or array, which is a member of its
// parent: the parent is not empty.
func (o *jsonOut) close(c byte) {
	o.depth--
	if !o.empty {
		o.newline()
	}
	o.b = append(o.b, c)
	o.empty = false
}

// member starts the next element of an array.
func (o *jsonOut) member() {
	if !o.empty {
		o.b = append(o.b, ',')
	}
	o.empty = false
	o.newline()
}

// key starts the next field of an object.
func (o *jsonOut) key(name string) {
	o.member()
	o.b = append(appendJSONString(o.b, name), ": "...)
}

func (o *jsonOut) str(s string) { o.b = appendJSONString(o.b, s) }
func (o *jsonOut) int(n int)    { o.b = strconv.AppendInt(o.b, int64(n), 10) }

func (o *jsonOut) strField(name, s string) { o.key(name); o.str(s) }
func (o *jsonOut) intField(name string, n int) {
	o.key(name)
	o.int(n)
}

// strList writes list as an array of strings, null when it is nil.
func (o *jsonOut) strList(list []string) {
	if list == nil {
		o.b = append(o.b, "null"...)
		return
	}
	o.open('[')
	for _, s := range list {
		o.member()
		o.str(s)
	}
	o.close(']')
}

// value writes v by encoding/json, for the parts of a report that are
// rare enough not to need a writer of their own.
func (o *jsonOut) value(v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent(strings.Repeat("  ", o.depth), "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Report values are strings, numbers and structs of them.
		panic("report: encoding " + err.Error())
	}
	o.b = append(o.b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// appendReportHead appends r's JSON from its opening brace up to the
// value of "attempts".
func appendReportHead(b []byte, r *Report) []byte {
	o := jsonOut{b: b}
	o.open('{')
	o.strField("schema", r.Schema)
	o.strField("tool", r.Tool)
	o.key("inputs")
	if r.Inputs == nil {
		o.b = append(o.b, "null"...)
	} else {
		o.open('[')
		for i := range r.Inputs {
			o.member()
			o.input(&r.Inputs[i])
		}
		o.close(']')
	}
	o.key("totals")
	o.open('{')
	o.intField("packets", r.Totals.Packets)
	o.intField("attempts", r.Totals.Attempts)
	o.key("outcomes")
	o.outcomes(&r.Totals.Outcomes)
	o.close('}')
	o.key("servers")
	if r.Servers == nil {
		o.b = append(o.b, "null"...)
	} else {
		o.open('[')
		for i := range r.Servers {
			o.member()
			o.server(&r.Servers[i])
		}
		o.close(']')
	}
	o.key("attempts")
	return o.b
}

// appendReportTail appends the rest of r's JSON after the value of
// "attempts", through the closing brace and its newline.
func appendReportTail(b []byte, r *Report) []byte {
	o := jsonOut{b: b, depth: 1}
	if r.AttemptsOmitted != 0 {
		o.intField("attempts_omitted", r.AttemptsOmitted)
	}
	if u := r.UnlistedServers; u != nil {
		o.key("unlisted_servers")
		o.open('{')
		o.intField("servers", u.Servers)
		o.intField("attempts", u.Attempts)
		o.key("outcomes")
		o.outcomes(&u.Outcomes)
		o.intField("synack_without_syn", u.SYNACKWithoutSYN)
		o.close('}')
	}
	if r.Live != nil {
		o.key("live")
		o.value(r.Live)
	}
	o.key("findings")
	if r.Findings == nil {
		o.b = append(o.b, "null"...)
	} else {
		o.open('[')
		for i := range r.Findings {
			o.member()
			o.finding(&r.Findings[i])
		}
		o.close(']')
	}
	if len(r.Warnings) > 0 {
		o.key("warnings")
		o.strList(r.Warnings)
	}
	o.close('}')
	return append(o.b, '\n')
}

func (o *jsonOut) input(in *InputReport) {
	o.open('{')
	o.strField("name", in.Name)
	o.strField("format", in.Format)
	o.key("link_types")
	o.strList(in.LinkTypes)
	o.intField("packets", in.Packets)
	if in.First != "" {
		o.strField("first", in.First)
	}
	if in.Last != "" {
		o.strField("last", in.Last)
	}
	o.key("warnings")
	o.strList(in.Warnings)
	o.close('}')
}

func (o *jsonOut) server(s *ServerReport) {
	o.open('{')
	o.strField("server", s.Server)
	o.strField("verdict", s.Verdict.String())
	o.intField("attempts", s.Attempts)
	o.key("outcomes")
	o.outcomes(&s.Outcomes)
	o.key("mptcp")
	o.open('{')
	o.intField("syn", s.MPTCP.SYN)
	o.intField("synack", s.MPTCP.SYNACK)
	o.close('}')
	o.key("hints")
	o.strList(s.Hints)
	o.key("hint_ids")
	if s.HintIDs == nil {
		o.b = append(o.b, "null"...)
	} else {
		o.open('[')
		for _, id := range s.HintIDs {
			o.member()
			o.str(string(id))
		}
		o.close(']')
	}
	o.intField("synack_without_syn", s.SYNACKWithoutSYN)
	o.intField("truncated", s.Truncated)
	if len(s.TFOKinds) > 0 {
		o.key("tfo_kinds")
		o.open('{')
		for _, k := range slices.Sorted(maps.Keys(s.TFOKinds)) {
			o.intField(k, s.TFOKinds[k])
		}
		o.close('}')
	}
	if s.Listener != nil {
		o.key("listener")
		o.value(s.Listener)
	}
	if s.Aggregated != 0 {
		o.intField("aggregated", s.Aggregated)
	}
	if s.Change != nil {
		o.key("change")
		o.value(s.Change)
	}
	if s.Probe != nil {
		o.key("probe")
		o.value(s.Probe)
	}
	o.close('}')
}

func (o *jsonOut) finding(f *FindingReport) {
	o.open('{')
	o.strField("id", string(f.ID))
	o.strField("text", f.Text)
	o.key("servers")
	o.strList(f.Servers)
	o.key("clients")
	o.strList(f.Clients)
	o.close('}')
}

// outcomes writes the non-zero counts as OutcomeCounts.MarshalJSON does:
// an object keyed by outcome name, in the names' order.
func (o *jsonOut) outcomes(c *analyze.OutcomeCounts) {
	o.open('{')
	for _, oc := range outcomesByName() {
		if n := c[oc]; n != 0 {
			o.intField(oc.String(), n)
		}
	}
	o.close('}')
}

// outcomesByName lists the outcomes sorted by name, the order in which
// encoding/json writes a map's keys.
var outcomesByName = sync.OnceValue(func() []analyze.Outcome {
	return slices.SortedFunc(slices.Values(analyze.Outcomes()), func(a, b analyze.Outcome) int {
		return strings.Compare(a.String(), b.String())
	})
})
