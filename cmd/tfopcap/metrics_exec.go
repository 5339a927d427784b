//go:build !metrics

package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/engine"
	"github.com/tfopcap/tfopcap/probe"
)

// metricsBuild says this binary hands --metrics-addr to tfopcap-metrics.
const metricsBuild = false

// liveMetrics stands in for the metrics endpoint, which this build never
// serves: start execs tfopcap-metrics instead.
type liveMetrics struct{}

// start, given --metrics-addr, replaces this process with tfopcap-metrics
// run with argv, the command line after the program's name; it returns
// only on failure. Flags are validated first, and nothing has been
// opened yet, so the other build starts from where this one stands.
func (o *metricsOptions) start(argv []string, _ bool, _ io.Writer) (*liveMetrics, error) {
	if o.addr == "" {
		return nil, nil
	}
	return nil, execMetricsBuild("live", argv)
}

func (m *liveMetrics) onAttempt(next func(*analyze.Attempt)) func(*analyze.Attempt) { return next }

func (m *liveMetrics) tick(time.Time, engine.Status, *capture.Live, *analyze.Collector) {}

func (m *liveMetrics) Close() error { return nil }

// serve execs tfopcap-metrics with argv, as start does.
func (o *probeServeOptions) serve(argv []string, _ probe.Config, _ streams) error {
	return execMetricsBuild("probe", argv)
}

// execMetricsBuild replaces this process with tfopcap-metrics run with
// argv: the same process, so that its exit status, signals and standard
// streams are the caller's own (a service manager sees no child). It
// returns only the error of finding or starting it.
func execMetricsBuild(command string, argv []string) error {
	path, err := findMetricsBuild()
	if err != nil {
		return fmt.Errorf("%s: --metrics-addr needs %s, the build with Prometheus metrics, %v: install the package, which has both, or build it (go build -tags metrics -o %s ./cmd/tfopcap)",
			command, metricsBinary, err, metricsBinary)
	}
	err = syscall.Exec(path, append([]string{path}, argv...), os.Environ())
	return fmt.Errorf("%s: --metrics-addr: exec %s: %v", command, path, err)
}

// findMetricsBuild looks for tfopcap-metrics beside this binary, then in
// PATH: a package installs both in one directory.
func findMetricsBuild() (string, error) {
	self, err := os.Executable()
	if err == nil {
		if self, err = filepath.EvalSymlinks(self); err == nil {
			name := metricsBinary
			if runtime.GOOS == "windows" {
				name += ".exe"
			}
			beside := filepath.Join(filepath.Dir(self), name)
			if fi, err := os.Stat(beside); err == nil && !fi.IsDir() {
				return beside, nil
			}
		}
	}
	path, err := exec.LookPath(metricsBinary)
	if err != nil {
		dir := "this binary's directory"
		if self != "" {
			dir = filepath.Dir(self)
		}
		return "", fmt.Errorf("in %s or in PATH", dir)
	}
	return path, nil
}
