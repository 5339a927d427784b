package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// minimalReport is the smallest report ReadReport accepts.
const minimalReport = `{"schema":"tfopcap.report/v1","tool":"tfopcap v0.1.0","inputs":[],
"totals":{"packets":0,"attempts":0,"outcomes":{}},"servers":[],"attempts":[]}`

// withServers is minimalReport with the given servers array.
func withServers(servers string) string {
	return strings.Replace(minimalReport, `"servers":[]`, `"servers":`+servers, 1)
}

func TestReadReport(t *testing.T) {
	lab := reportJSON(t, synthReport(t, 0, labScenarios...))
	r, err := ReadReport(bytes.NewReader(lab))
	if err != nil {
		t.Fatalf("ReadReport(a report tfopcap wrote): %v", err)
	}
	if got := reportJSON(t, r); !bytes.Equal(got, lab) {
		t.Errorf("report changed on the way through ReadReport:\n%s\nwant\n%s", got, lab)
	}

	// A newer tfopcap of the same schema version may add fields.
	var m map[string]any
	json.Unmarshal(lab, &m)
	m["added_later"] = map[string]any{"x": 1}
	server(m, 0)["added_later"] = true
	b, _ := json.Marshal(m)
	if _, err := ReadReport(bytes.NewReader(b)); err != nil {
		t.Errorf("ReadReport(a report with fields it does not know): %v", err)
	}
}

func TestReadReportErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty, not a tfopcap report"},
		{"blank", " \n\t", "empty, not a tfopcap report"},
		{"array", "[1,2]", "not a JSON object, not a tfopcap report"},
		{"text", "hello", "not a JSON object, not a tfopcap report"},
		{"pcap", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00", "not JSON but a pcap capture: run tfopcap analyze --format json on it first"},
		{"pcapng", "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00", "not JSON but a pcapng capture: run tfopcap analyze --format json on it first"},
		{"gzip", "\x1f\x8b\x08\x00\x00\x00", "not JSON but gzip-compressed data: run tfopcap analyze --format json on it first"},
		{"truncated", minimalReport[:40], "not valid JSON: unexpected end of JSON input at line 1, column 40"},
		{"syntax error with position", "{\n  \"schema\": tfopcap\n}", "not valid JSON: invalid character 'f' in literal true (expecting 'r') at line 2, column 14"},
		{"two objects", minimalReport + minimalReport, "not valid JSON: invalid character '{' after top-level value at line 2, column 78"},
		{"no schema", `{"tool":"x"}`, `not a tfopcap report (no "schema" field)`},
		{"schema not a string", `{"schema":2}`, `not a tfopcap report ("schema" is not a string)`},
		{"other program", `{"schema":"https://json-schema.org/draft/2020-12/schema"}`, `not a tfopcap report (schema "https://json-schema.org/draft/2020-12/schema")`},
		{"newer version", `{"schema":"tfopcap.report/v2"}`, "schema tfopcap.report/v2, this tfopcap reads tfopcap.report/v1"},
		{"a diff", `{"schema":"tfopcap.diff/v1"}`, "a tfopcap diff (schema tfopcap.diff/v1), not a report"},
		{"no servers", strings.Replace(minimalReport, `,"servers":[]`, "", 1), `invalid report: no "servers" field`},
		{"null attempts", strings.Replace(minimalReport, `"attempts":[]`, `"attempts":null`, 1), `invalid report: no "attempts" field`},
		{"servers an object", withServers(`{}`), "invalid report: servers: object where an array belongs"},
		{"server without verdict", withServers(`[{"server":"192.0.2.2:443","attempts":0,"outcomes":{}}]`), `invalid report: servers[0]: no "verdict" field`},
		{"unknown verdict", withServers(`[{"server":"192.0.2.2:443","verdict":"great","attempts":0,"outcomes":{}}]`), `invalid report: unknown verdict "great"`},
		{"unknown outcome", withServers(`[{"server":"192.0.2.2:443","verdict":"grants","attempts":1,"outcomes":{"grant":1}}]`), `invalid report: unknown outcome "grant"`},
		{"attempts a string", withServers(`[{"server":"192.0.2.2:443","verdict":"grants","attempts":"1","outcomes":{}}]`), "invalid report: servers.attempts: string where an integer (int) belongs"},
		{"huge number", withServers(`[{"server":"192.0.2.2:443","verdict":"grants","attempts":1e400,"outcomes":{}}]`), "invalid report: servers.attempts: number 1e400 where an integer (int) belongs"},
		{"negative count", withServers(`[{"server":"192.0.2.2:443","verdict":"omits","attempts":1,"outcomes":{"omitted":-1}}]`), "invalid report: servers[0] (192.0.2.2:443): negative omitted count"},
		{"outcomes short of attempts", withServers(`[{"server":"192.0.2.2:443","verdict":"omits","attempts":5,"outcomes":{"omitted":1}}]`), "invalid report: servers[0] (192.0.2.2:443): outcomes add up to 1, not the 5 attempts"},
		{"outcomes beyond attempts", withServers(`[{"server":"192.0.2.2:443","verdict":"grants","attempts":0,"outcomes":{"granted":3}}]`), "invalid report: servers[0] (192.0.2.2:443): outcomes add up to 3, not the 0 attempts"},
		{"negative attempts", withServers(`[{"server":"192.0.2.2:443","verdict":"grants","attempts":-1,"outcomes":{}}]`), "invalid report: servers[0] (192.0.2.2:443): negative attempts"},
		{"negative mptcp", withServers(`[{"server":"192.0.2.2:443","verdict":"inconclusive","attempts":0,"outcomes":{},"mptcp":{"syn":0,"synack":-2}}]`), "invalid report: servers[0] (192.0.2.2:443): negative mptcp.synack"},
		{"negative orphans", withServers(`[{"server":"192.0.2.2:443","verdict":"inconclusive","attempts":0,"outcomes":{},"synack_without_syn":-1}]`), "invalid report: servers[0] (192.0.2.2:443): negative synack_without_syn"},
		{"totals that do not add up", strings.Replace(minimalReport, `"totals":{"packets":0,"attempts":0`, `"totals":{"packets":0,"attempts":7`, 1), "invalid report: totals: outcomes add up to 0, not the 7 attempts"},
		{"bad address", withServers(`[{"server":"example.org:443","verdict":"grants","attempts":0,"outcomes":{}}]`), `invalid report: servers[0]: server "example.org:443" is not ip:port`},
		{"server twice", withServers(`[{"server":"[2001:db8::1]:443","verdict":"grants","attempts":0,"outcomes":{}},{"server":"[2001:DB8::1]:443","verdict":"omits","attempts":0,"outcomes":{}}]`), "invalid report: servers[0] and servers[1] are both [2001:DB8::1]:443"},
		{"deeply nested", `{"schema":"tfopcap.report/v1","x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, "not valid JSON: invalid character '[' exceeded max depth at line 1, column 10034"},
		{"long outcome name", withServers(`[{"server":"192.0.2.2:443","verdict":"grants","attempts":0,"outcomes":{"` + strings.Repeat("x", 500) + `":1}}]`), `invalid report: unknown outcome "` + strings.Repeat("x", maxErrorLen-len(`invalid report: unknown outcome "`)) + "..."},
		{"newline in name", withServers(`[{"server":"192.0.2.2:443","verdict":"grants","attempts":0,"outcomes":{"a\nb":1}}]`), `invalid report: unknown outcome "a\nb"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ReadReport(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("ReadReport accepted it: %+v", r)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || len(msg) > maxErrorLen+3 {
				t.Errorf("error is not one short line: %q", msg)
			}
		})
	}
}

func TestReadReportLimit(t *testing.T) {
	big := minimalReport + strings.Repeat(" ", 2<<20)
	if _, err := readReport(strings.NewReader(big), 1<<20); err == nil || err.Error() != "larger than 1 MiB, too large for a tfopcap report" {
		t.Errorf("over the limit: err = %v", err)
	}
	if _, err := readReport(strings.NewReader(minimalReport), int64(len(minimalReport))); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

func FuzzReadReport(f *testing.F) {
	lab := string(reportJSON(f, synthReport(f, 0, labScenarios...)))
	seeds := []string{
		// a valid report of every verdict and outcome
		lab,
		// the smallest valid report
		minimalReport,
		// truncated JSON, cut inside the servers
		lab[:len(lab)/2],
		// another schema version
		strings.Replace(minimalReport, "report/v1", "report/v2", 1),
		// a diff instead of a report
		`{"schema":"tfopcap.diff/v1","servers":[]}`,
		// no schema field
		`{"tool":"tfopcap v0.1.0","servers":[]}`,
		// deeply nested arrays, past encoding/json's depth limit
		`{"schema":"tfopcap.report/v1","inputs":` + strings.Repeat("[", 11000) + strings.Repeat("]", 11000) + `}`,
		// deeply nested arrays, within the limit
		`{"schema":"tfopcap.report/v1","inputs":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`,
		// huge numbers where counts belong
		withServers(`[{"server":"192.0.2.2:443","verdict":"omits","attempts":1e400,"outcomes":{"omitted":99999999999999999999}}]`),
		// a count at the edge of int64
		withServers(`[{"server":"192.0.2.2:443","verdict":"omits","attempts":9223372036854775807,"outcomes":{"omitted":9223372036854775807}}]`),
		// negative counts
		withServers(`[{"server":"192.0.2.2:443","verdict":"omits","attempts":-1,"outcomes":{"omitted":-5}}]`),
		// a server listed twice under two spellings
		withServers(`[{"server":"[::1]:1","verdict":"grants","attempts":0,"outcomes":{}},{"server":"[0::1]:1","verdict":"omits","attempts":0,"outcomes":{}}]`),
		// a zoned IPv6 address
		withServers(`[{"server":"[fe80::1%eth0]:443","verdict":"grants","attempts":0,"outcomes":{}}]`),
		// null where a server belongs
		withServers(`[null]`),
		// unknown verdict and outcome names
		withServers(`[{"server":"192.0.2.2:443","verdict":"","attempts":0,"outcomes":{"":1}}]`),
		// invalid UTF-8 in a string
		withServers("[{\"server\":\"\xff\xfe:1\",\"verdict\":\"grants\",\"attempts\":0,\"outcomes\":{}}]"),
		// a pcap file given by mistake
		"\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00",
		// duplicate keys: the last one wins in encoding/json
		`{"schema":"tfopcap.report/v1","schema":"tfopcap.report/v2"}`,
		// a reply that is not an object
		strings.Replace(minimalReport, `"attempts":[]`, `"attempts":[{"reply":7}]`, 1),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadReport(bytes.NewReader(b))
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || len(msg) > maxErrorLen+3 {
				t.Fatalf("error is not one short line: %q", msg)
			}
			return
		}
		// What ReadReport accepts, tfopcap can write back and read again
		// to the same report.
		var first bytes.Buffer
		if err := WriteJSON(&first, r); err != nil {
			t.Fatalf("WriteJSON: %v", err)
		}
		r2, err := ReadReport(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("ReadReport(WriteJSON(ReadReport(b))): %v\n%s", err, first.Bytes())
		}
		var second bytes.Buffer
		WriteJSON(&second, r2)
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("report changed on a second pass:\n%s\n%s", first.Bytes(), second.Bytes())
		}
		for _, format := range []string{"text", "markdown"} {
			if err := Render(&bytes.Buffer{}, r, format, RenderOptions{Attempts: true}); err != nil {
				t.Fatalf("Render %s: %v", format, err)
			}
		}
	})
}
