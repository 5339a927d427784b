package report

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"github.com/tfopcap/tfopcap/analyze"
)

// MaxReportSize bounds the JSON report ReadReport accepts. A report lists at
// most --max-attempts attempts (a few hundred bytes each), so a real one
// stays far below it; the bound keeps a wrong or hostile file from
// exhausting memory.
const MaxReportSize = 256 << 20

// reportFields are the top-level fields DESIGN.md requires of a report.
var reportFields = [...]string{"schema", "tool", "inputs", "totals", "servers", "attempts"}

// serverFields are the fields of servers[] that a diff relies on.
var serverFields = [...]string{"server", "verdict", "attempts", "outcomes"}

// maxErrorLen keeps error messages to one readable line even when they
// quote a hostile input.
const maxErrorLen = 200

// ReadReport reads a JSON report as tfopcap analyze --format json writes it.
// It is strict about what the diff needs and lenient about the rest: the
// input must be one JSON object of schema Schema with the fields DESIGN.md
// requires, every server a distinct ip:port with a known verdict and known
// outcome names; fields it does not know are ignored, since a schema version
// may gain fields. Errors are one line and do not name the input: the caller
// knows its name.
func ReadReport(r io.Reader) (*Report, error) {
	return readReport(r, MaxReportSize)
}

func readReport(r io.Reader, limit int64) (*Report, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d MiB, too large for a tfopcap report", limit>>20)
	}
	rep, err := parseReport(b)
	if err != nil {
		return nil, oneLine(err)
	}
	return rep, nil
}

func parseReport(b []byte) (*Report, error) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return nil, errors.New("empty, not a tfopcap report")
	}
	if trimmed[0] != '{' {
		if what := binaryKind(b); what != "" {
			return nil, fmt.Errorf("not JSON but %s: run tfopcap analyze --format json on it first", what)
		}
		return nil, errors.New("not a JSON object, not a tfopcap report")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("not valid JSON: %s", jsonError(b, err, ""))
	}
	raw, ok := top["schema"]
	if !ok {
		return nil, errors.New(`not a tfopcap report (no "schema" field)`)
	}
	var schema string
	if err := json.Unmarshal(raw, &schema); err != nil {
		return nil, errors.New(`not a tfopcap report ("schema" is not a string)`)
	}
	switch {
	case schema == Schema:
	case strings.HasPrefix(schema, "tfopcap.diff/"):
		return nil, fmt.Errorf("a tfopcap diff (schema %s), not a report", schema)
	case strings.HasPrefix(schema, "tfopcap.report/"):
		return nil, fmt.Errorf("schema %s, this tfopcap reads %s", schema, Schema)
	default:
		return nil, fmt.Errorf("not a tfopcap report (schema %q)", schema)
	}
	for _, f := range reportFields {
		if v, ok := top[f]; !ok || string(v) == "null" {
			return nil, fmt.Errorf("invalid report: no %q field", f)
		}
	}
	var servers []map[string]json.RawMessage
	if err := json.Unmarshal(top["servers"], &servers); err != nil {
		return nil, fmt.Errorf("invalid report: %s", jsonError(top["servers"], err, "servers"))
	}
	for i, s := range servers {
		for _, f := range serverFields {
			if v, ok := s[f]; !ok || string(v) == "null" {
				return nil, fmt.Errorf("invalid report: servers[%d]: no %q field", i, f)
			}
		}
	}

	rep := new(Report)
	if err := json.Unmarshal(b, rep); err != nil {
		return nil, fmt.Errorf("invalid report: %s", jsonError(b, err, "report"))
	}
	seen := make(map[netip.AddrPort]int, len(rep.Servers))
	for i, s := range rep.Servers {
		ap, err := netip.ParseAddrPort(s.Server)
		if s.Server == analyze.OtherServers {
			ap, err = netip.AddrPort{}, nil // the one row summing servers beyond --max-servers
		}
		if err != nil {
			return nil, fmt.Errorf("invalid report: servers[%d]: server %q is not ip:port", i, s.Server)
		}
		if j, dup := seen[ap]; dup {
			return nil, fmt.Errorf("invalid report: servers[%d] and servers[%d] are both %s", j, i, s.Server)
		}
		seen[ap] = i
		if err := checkCounts(s.Attempts, &s.Outcomes, map[string]int{
			"mptcp.syn": s.MPTCP.SYN, "mptcp.synack": s.MPTCP.SYNACK,
			"synack_without_syn": s.SYNACKWithoutSYN, "truncated": s.Truncated,
		}); err != nil {
			return nil, fmt.Errorf("invalid report: servers[%d] (%s): %v", i, s.Server, err)
		}
	}
	if err := checkCounts(rep.Totals.Attempts, &rep.Totals.Outcomes, map[string]int{"packets": rep.Totals.Packets}); err != nil {
		return nil, fmt.Errorf("invalid report: totals: %v", err)
	}
	return rep, nil
}

// checkCounts holds a report's counts to what any tfopcap report obeys:
// none negative, and outcomes that add up to the attempts. A report edited
// by hand or cut and pasted wrong must not let diff call a regression (or
// none) from numbers that cannot be.
func checkCounts(attempts int, outcomes *analyze.OutcomeCounts, other map[string]int) error {
	if attempts < 0 {
		return errors.New("negative attempts")
	}
	for o, n := range outcomes {
		if n < 0 {
			return fmt.Errorf("negative %s count", analyze.Outcome(o))
		}
	}
	names := make([]string, 0, len(other))
	for name := range other {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if other[name] < 0 {
			return fmt.Errorf("negative %s", name)
		}
	}
	if sum := outcomes.Total(); sum != attempts {
		return fmt.Errorf("outcomes add up to %d, not the %d attempts", sum, attempts)
	}
	return nil
}

// jsonError describes a decoding error of b in one line: where a syntax
// error is (line and column), or which field holds a value of the wrong
// type (where names the value when the error does not).
func jsonError(b []byte, err error, where string) string {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset >= 0 && se.Offset <= int64(len(b)) {
		before := b[:se.Offset]
		line := bytes.Count(before, []byte("\n")) + 1
		// Offset counts the byte that broke the syntax: point at it.
		col := max(len(before)-bytes.LastIndexByte(before, '\n')-1, 1)
		return fmt.Sprintf("%v at line %d, column %d", err, line, col)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Type != nil {
		if te.Field != "" {
			where = te.Field
		}
		return fmt.Sprintf("%s: %s where %s belongs", where, te.Value, jsonKind(te.Type))
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind names the JSON value a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[analyze.OutcomeCounts]():
		return "an object of outcome counts"
	case reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()):
		return "a name"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("an integer (%s)", t.Kind())
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

// binaryKind names a capture or compressed file by its magic number, for
// the common mistake of passing a capture to diff.
func binaryKind(b []byte) string {
	if len(b) < 4 {
		return ""
	}
	switch string(b[:4]) {
	case "\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4", "\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d":
		return "a pcap capture"
	case "\x0a\x0d\x0d\x0a":
		return "a pcapng capture"
	}
	if b[0] == 0x1f && b[1] == 0x8b {
		return "gzip-compressed data"
	}
	return ""
}

// oneLine keeps an error message on one line and of bounded length.
func oneLine(err error) error {
	msg := err.Error()
	if !strings.ContainsAny(msg, "\r\n") && len(msg) <= maxErrorLen {
		return err
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > maxErrorLen {
		msg = strings.ToValidUTF8(msg[:maxErrorLen], "") + "..."
	}
	return errors.New(msg)
}
