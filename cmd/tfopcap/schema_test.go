package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfopcap/tfopcap/internal/schematest"
)

// TestReportsMatchSchema holds every JSON report tfopcap writes on a real
// capture, and every golden JSON report, to docs/report.schema.json.
func TestReportsMatchSchema(t *testing.T) {
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, path := range golden {
		t.Run(path, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			schematest.Validate(t, b)
		})
	}
	for _, capture := range realCaptures(t) {
		t.Run(capture, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"analyze", "--format", "json", capture}, streams{strings.NewReader(""), &stdout, &stderr})
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			schematest.Validate(t, stdout.Bytes())
		})
	}
}
