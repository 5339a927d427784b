package report

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/analyze"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tfopcap/tfopcap/internal/scenario"
	"github.com/tfopcap/tfopcap/internal/schematest"
)

// validateReport fails t unless b, a JSON report, matches
// docs/report.schema.json. Every test that produces a report should call it;
// tests outside this package call schematest.Validate, which it wraps.
func validateReport(t testing.TB, b []byte) {
	t.Helper()
	schematest.Validate(t, b)
}

// synthReport runs scenarios through the real Tracker and Collector and
// returns the report of one synthetic input.
func synthReport(t testing.TB, maxAttempts int, scenarios ...scenario.Scenario) *Report {
	t.Helper()
	coll := analyze.NewCollector(maxAttempts)
	c := scenario.Run(coll, scenarios...)
	in := InputReport{Name: "synthetic.pcap", Format: "pcap", LinkTypes: []string{"EN10MB"}, Packets: c.Packets, Warnings: []string{}}
	if c.Packets > 0 {
		in.First, in.Last = FormatTime(c.First), FormatTime(c.Last)
	}
	return Build("tfopcap test", []InputReport{in}, coll.Summary())
}

// labScenarios are servers of every verdict, each outcome at least once.
var labScenarios = scenario.Lab

func reportJSON(t testing.TB, r *Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSchemaValidatesReports(t *testing.T) {
	reports := map[string]*Report{
		"lab":       synthReport(t, 0, labScenarios...),
		"capped":    synthReport(t, 3, labScenarios...),
		"no inputs": Build("tfopcap test", nil, analyze.NewCollector(0).Summary()),
		"empty input": Build("tfopcap test", []InputReport{
			{Name: "empty.pcap", Format: "pcapng+gzip", LinkTypes: []string{}, Warnings: []string{"no packets"}}}, analyze.NewCollector(0).Summary()),
	}
	for _, o := range analyze.Outcomes() {
		name := o.String()
		r := synthReport(t, 0, scenario.Scenario{Server: "192.0.2.9:80", Outcomes: []string{name}})
		if len(r.Attempts) != 1 || r.Attempts[0].Outcome != o {
			t.Fatalf("exchange %q made attempts %+v", name, r.Attempts)
		}
		reports["only "+name] = r
	}
	live := synthReport(t, 0, labScenarios[:1]...)
	live.Live = &LiveStats{Interface: "eth0", Received: 10, Dropped: 1}
	live.Warnings = []string{"the kernel dropped packets"}
	reports["live"] = live
	if reports["capped"].AttemptsOmitted == 0 {
		t.Fatal("capped report omitted no attempts")
	}
	for name, r := range reports {
		t.Run(name, func(t *testing.T) { validateReport(t, reportJSON(t, r)) })
	}
}

// TestSchemaRejects checks that the schema is no rubber stamp: each
// mutation of a valid report breaks the contract and must be caught.
func TestSchemaRejects(t *testing.T) {
	valid := reportJSON(t, synthReport(t, 0, labScenarios...))
	tests := []struct {
		name   string
		mutate func(r map[string]any)
	}{
		{"other schema version", func(r map[string]any) { r["schema"] = "tfopcap.report/v2" }},
		{"no servers", func(r map[string]any) { delete(r, "servers") }},
		{"unknown verdict", func(r map[string]any) { server(r, 0)["verdict"] = "great" }},
		{"unknown outcome name", func(r map[string]any) { server(r, 0)["outcomes"] = map[string]any{"grant": 1} }},
		{"negative count", func(r map[string]any) { server(r, 0)["attempts"] = -1 }},
		{"fractional count", func(r map[string]any) { server(r, 0)["attempts"] = 1.5 }},
		{"address without port", func(r map[string]any) { server(r, 0)["server"] = "192.0.2.2" }},
		{"unknown syn.tfo", func(r map[string]any) { attempt(r, 0)["syn"].(map[string]any)["tfo"] = "maybe" }},
		{"upper-case cookie", func(r map[string]any) { attempt(r, 0)["syn"].(map[string]any)["cookie"] = "ABCDEF01" }},
		{"frame 0", func(r map[string]any) { attempt(r, 0)["syn"].(map[string]any)["frame"] = 0 }},
		{"reply left out", func(r map[string]any) { delete(attempt(r, 0), "reply") }},
		{"unknown reply.tfo", func(r map[string]any) { attempt(r, 0)["reply"].(map[string]any)["tfo"] = "yes" }},
		{"isn past 32 bits", func(r map[string]any) { attempt(r, 0)["isn"] = int64(1) << 32 }},
		{"time not RFC 3339", func(r map[string]any) { attempt(r, 0)["syn"].(map[string]any)["time"] = "yesterday" }},
		{"unknown tfo kind", func(r map[string]any) { attempt(r, 0)["syn"].(map[string]any)["tfo_kind"] = 35 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r map[string]any
			if err := json.Unmarshal(valid, &r); err != nil {
				t.Fatal(err)
			}
			tt.mutate(r)
			b, _ := json.Marshal(r)
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := schematest.Schema(t).Validate(doc); err == nil {
				t.Errorf("schema accepts a report with %s", tt.name)
			}
		})
	}
}

func server(r map[string]any, i int) map[string]any {
	return r["servers"].([]any)[i].(map[string]any)
}

func attempt(r map[string]any, i int) map[string]any {
	return r["attempts"].([]any)[i].(map[string]any)
}

// TestSchemaCoversReport fails when a field of Report (at any depth) has no
// property in the schema, or a schema property no field, or the schema
// requires a field the report may leave out: the schema cannot drift from
// the code silently.
func TestSchemaCoversReport(t *testing.T) {
	root := schematest.Raw(t)
	checkCovers(t, root, reflect.TypeFor[Report](), root, "report")
}

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
)

// checkCovers compares struct type typ with schema node (resolved against
// root), recursing into nested structs, slices and pointers.
func checkCovers(t *testing.T, root map[string]any, typ reflect.Type, node map[string]any, path string) {
	t.Helper()
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
		if typ.Kind() == reflect.Struct || typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			if items, ok := resolve(t, root, node)["items"].(map[string]any); ok {
				node = items
				path += "[]"
			}
		}
	}
	if typ.Kind() != reflect.Struct || typ.Implements(textMarshaler) || typ.Implements(jsonMarshaler) {
		return
	}
	node = resolve(t, root, node)
	props, _ := node["properties"].(map[string]any)
	if props == nil {
		t.Errorf("%s: schema has no properties for %s", path, typ)
		return
	}
	var required []string
	if rs, ok := node["required"].([]any); ok {
		for _, r := range rs {
			required = append(required, r.(string))
		}
	}
	seen := map[string]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		seen[name] = true
		prop, ok := props[name].(map[string]any)
		if !ok {
			t.Errorf("%s: field %s.%s (json %q) has no property in docs/report.schema.json", path, typ.Name(), f.Name, name)
			continue
		}
		if strings.Contains(opts, "omitempty") && slices.Contains(required, name) {
			t.Errorf("%s.%s: the schema requires it, but the report leaves it out when empty (omitempty)", path, name)
		}
		checkCovers(t, root, f.Type, prop, path+"."+name)
	}
	for name := range props {
		if !seen[name] {
			t.Errorf("%s: schema property %q matches no field of %s", path, name, typ)
		}
	}
	for _, name := range required {
		if !seen[name] {
			t.Errorf("%s: schema requires %q, which %s lacks", path, name, typ)
		}
	}
}

// resolve follows a local "$ref" and picks the non-null branch of "anyOf".
func resolve(t *testing.T, root, node map[string]any) map[string]any {
	t.Helper()
	for range 10 {
		if ref, ok := node["$ref"].(string); ok {
			name, ok := strings.CutPrefix(ref, "#/$defs/")
			def, _ := root["$defs"].(map[string]any)[name].(map[string]any)
			if !ok || def == nil {
				t.Fatalf("unresolvable $ref %q", ref)
			}
			node = def
			continue
		}
		if anyOf, ok := node["anyOf"].([]any); ok {
			for _, b := range anyOf {
				if bm := b.(map[string]any); bm["type"] != "null" {
					node = bm
				}
			}
			continue
		}
		return node
	}
	t.Fatal("$ref chain too long")
	return nil
}

// TestSchemaEnums checks that the schema's enums list exactly the names
// the code writes.
func TestSchemaEnums(t *testing.T) {
	defs := schematest.Raw(t)["$defs"].(map[string]any)
	enum := func(def string) []string {
		var out []string
		for _, v := range defs[def].(map[string]any)["enum"].([]any) {
			out = append(out, fmt.Sprint(v))
		}
		return out
	}
	var outcomes []string
	for _, o := range analyze.Outcomes() {
		outcomes = append(outcomes, o.String())
	}
	tests := []struct {
		def  string
		want []string
	}{
		{"outcome", outcomes},
		{"verdict", names(analyze.Inconclusive, analyze.Grants, analyze.Omits, analyze.Mixed)},
		{"tfo", names(analyze.TFONone, analyze.TFORequest, analyze.TFOCookie, analyze.TFOMalformed)},
	}
	for _, tt := range tests {
		if got := enum(tt.def); !slices.Equal(got, tt.want) {
			t.Errorf("$defs.%s.enum = %q, want %q", tt.def, got, tt.want)
		}
	}
	kinds := defs["reply"].(map[string]any)["properties"].(map[string]any)["kind"].(map[string]any)["enum"].([]any)
	if want := []any{analyze.ReplySYNACK.String(), analyze.ReplyRST.String()}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("reply kind enum = %v, want %v", kinds, want)
	}
}

// names are the String forms of vs, in order.
func names[T fmt.Stringer](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}
