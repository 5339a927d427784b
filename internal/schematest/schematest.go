// Package schematest validates JSON reports against docs/report.schema.json
// in tests, so that every test that produces a report (unit tests in
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

// SchemaPath is the report schema's path from the module root.
const SchemaPath = "docs/report.schema.json"

var (
	once     sync.Once
	compiled *jsonschema.Schema
	raw      map[string]any
	loadErr  error
)

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

func load() {
	root, err := ModuleRoot()
	if err != nil {
		loadErr = err
		return
	}
	path := filepath.Join(root, SchemaPath)
	b, err := os.ReadFile(path)
	if err != nil {
		loadErr = err
		return
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		loadErr = err
		return
	}
	raw, _ = doc.(map[string]any)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Check "format" (date-time) too: the report promises RFC 3339 times.
	c.AssertFormat()
	if err := c.AddResource(path, doc); err != nil {
		loadErr = err
		return
	}
	compiled, loadErr = c.Compile(path)
}

// Schema returns the compiled report schema, failing tb if it does not load.
func Schema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	once.Do(load)
	if loadErr != nil {
		tb.Fatalf("load %s: %v", SchemaPath, loadErr)
	}
	return compiled
}

// Raw returns the report schema as decoded JSON, for tests that inspect it.
func Raw(tb testing.TB) map[string]any {
	tb.Helper()
	Schema(tb)
	return raw
}

// Validate fails tb unless report is a JSON document that the report
// schema accepts. Call it on every report a test produces.
func Validate(tb testing.TB, report []byte) {
	tb.Helper()
	s := Schema(tb)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(report))
	if err != nil {
		tb.Fatalf("report is not JSON: %v", err)
	}
	if err := s.Validate(doc); err != nil {
		tb.Errorf("report does not match %s:\n%v", SchemaPath, err)
	}
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
