package layout

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/tfopcap/tfopcap/"

// layers lists, for each package of the pipeline, the packages of this
// module it may depend on, directly or not (internal/ helpers aside).
var layers = map[string][]string{
	"capture":        {},
	"analyze":        {},
	"engine":         {"capture", "analyze"},
	"report":         {"analyze", "report/plot"},
	"report/plot":    {"analyze"},
	"report/junit":   {"analyze", "report", "report/plot"},
	"probe":          {"capture", "analyze", "engine", "report", "report/plot"},
	"metrics":        {"capture", "analyze", "engine", "report", "report/plot"},
	"host/sockdiag":  {},
	"host/procs":     {},
	"host/sysinfo":   {},
	"host/selfprobe": {"analyze"},
	"check":          {"analyze", "host/sockdiag", "host/procs", "host/sysinfo", "host/selfprobe"},
	"cmd/tfopcap": {"capture", "analyze", "engine", "report", "report/plot", "report/junit", "probe", "metrics",
		"check", "host/sockdiag", "host/procs", "host/sysinfo", "host/selfprobe"},
	// clidoc renders any command table: it knows nothing of TFO.
	"internal/clidoc": {},
}

// TestImportDirection fails when a package depends on one it must not:
// analyze on report, capture on analyze, engine on report, and so on.
func TestImportDirection(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, module+"...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%v: %s", err, ee.Stderr) // an import cycle, say
		}
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		allowed, layered := layers[pkg]
		if !layered {
			continue
		}
		seen[pkg] = true
		for _, dep := range fields[1:] {
			dep, ours := strings.CutPrefix(dep, module)
			if !ours || strings.HasPrefix(dep, "internal/") {
				continue
			}
			if !slices.Contains(allowed, dep) {
				t.Errorf("%s depends on %s: imports go %s", pkg, dep, direction)
			}
		}
	}
	for pkg := range layers {
		if !seen[pkg] {
			t.Errorf("package %s not found: update the layers", pkg)
		}
	}
}

const direction = "capture, analyze -> engine -> probe -> cmd/tfopcap; analyze -> report/plot -> report -> report/junit, probe -> cmd/tfopcap; host/* -> check -> cmd/tfopcap; engine, report -> metrics -> cmd/tfopcap"

// TestOneImporterOfClientGolang keeps Prometheus's client library behind
// package metrics: the rest of tfopcap does not know it exists.
func TestOneImporterOfClientGolang(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "github.com/prometheus/") && pkg != "metrics" {
				t.Errorf("%s imports %s: only package metrics may", pkg, imp)
			}
		}
	}
}

// heavyInit lists packages whose init does real work in every run of
// tfopcap, pictures or not, and why each is kept out of the binary.
var heavyInit = map[string]string{
	// plot.go's init parses all twelve embedded Liberation faces: peak
	// RSS of `tfopcap version` 17.6 MB instead of 8.5 MB. report/plot
	// draws with gonum's vg layers and parses its one face on the first
	// picture.
	"gonum.org/v1/plot": "parses every embedded font at start-up",
}

// TestNoHeavyInit fails when the tfopcap binary depends on a package of
// heavyInit again.
func TestNoHeavyInit(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command("go", "list", "-deps", module+"cmd/tfopcap").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%v: %s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	for dep := range strings.Lines(string(out)) {
		if why, heavy := heavyInit[strings.TrimSpace(dep)]; heavy {
			t.Errorf("cmd/tfopcap depends on %s, which %s", strings.TrimSpace(dep), why)
		}
	}
}
