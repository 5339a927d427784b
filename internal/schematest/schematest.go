// Package schematest validates JSON reports against docs/report.schema.json
// (and diffs against docs/diff.schema.json) in tests, so that every test that produces a report (unit tests in
// analyze, golden tests on real captures in cmd/tfopcap) can hold it to the
// published contract. Only tests import it: the validator is a test-only
// dependency of tfopcap.
package schematest

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaPath is the report schema's path from the module root;
// DiffSchemaPath the diff's.
const (
	SchemaPath     = "docs/report.schema.json"
	DiffSchemaPath = "docs/diff.schema.json"
)

// schemaFile is one schema, compiled once.
type schemaFile struct {
	path     string
	once     sync.Once
	compiled *jsonschema.Schema
	raw      map[string]any
	loadErr  error
}

var reportSchema, diffSchema = &schemaFile{path: SchemaPath}, &schemaFile{path: DiffSchemaPath}

// ModuleRoot finds the directory holding go.mod, starting at the working
// directory (a test's package directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

func (f *schemaFile) load() {
	root, err := ModuleRoot()
	if err != nil {
		f.loadErr = err
		return
	}
	path := filepath.Join(root, f.path)
	b, err := os.ReadFile(path)
	if err != nil {
		f.loadErr = err
		return
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		f.loadErr = err
		return
	}
	f.raw, _ = doc.(map[string]any)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Check "format" (date-time) too: the report promises RFC 3339 times.
	c.AssertFormat()
	if err := c.AddResource(path, doc); err != nil {
		f.loadErr = err
		return
	}
	f.compiled, f.loadErr = c.Compile(path)
}

func (f *schemaFile) schema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	f.once.Do(f.load)
	if f.loadErr != nil {
		tb.Fatalf("load %s: %v", f.path, f.loadErr)
	}
	return f.compiled
}

func (f *schemaFile) validate(tb testing.TB, b []byte) {
	tb.Helper()
	s := f.schema(tb)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("not JSON: %v", err)
	}
	if err := s.Validate(doc); err != nil {
		tb.Errorf("does not match %s:\n%v", f.path, err)
	}
}

// Schema returns the compiled report schema, failing tb if it does not load.
func Schema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	return reportSchema.schema(tb)
}

// Raw returns the report schema as decoded JSON, for tests that inspect it.
func Raw(tb testing.TB) map[string]any {
	tb.Helper()
	Schema(tb)
	return reportSchema.raw
}

// Validate fails tb unless report is a JSON document that the report
// schema accepts. Call it on every report a test produces.
func Validate(tb testing.TB, report []byte) {
	tb.Helper()
	reportSchema.validate(tb, report)
}

// ValidateDiff fails tb unless diff is a JSON document that the diff
// schema accepts. Call it on every JSON diff a test produces.
func ValidateDiff(tb testing.TB, diff []byte) {
	tb.Helper()
	diffSchema.validate(tb, diff)
}

// CheckSchemaPath is the schema of tfopcap check's JSON report.
const CheckSchemaPath = "docs/check.schema.json"

var (
	checkOnce     sync.Once
	checkCompiled *jsonschema.Schema
	checkErr      error
)

// ValidateCheck fails tb unless report is a JSON document that the check
// schema accepts.
func ValidateCheck(tb testing.TB, report []byte) {
	tb.Helper()
	checkOnce.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			checkErr = err
			return
		}
		path := filepath.Join(root, CheckSchemaPath)
		f, err := os.Open(path)
		if err != nil {
			checkErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			checkErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		if checkErr = c.AddResource(path, doc); checkErr == nil {
			checkCompiled, checkErr = c.Compile(path)
		}
	})
	if checkErr != nil {
		tb.Fatalf("load %s: %v", CheckSchemaPath, checkErr)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(report))
	if err != nil {
		tb.Fatalf("check report is not JSON: %v", err)
	}
	if err := checkCompiled.Validate(doc); err != nil {
		tb.Errorf("check report does not match %s:\n%v", CheckSchemaPath, err)
	}
}
