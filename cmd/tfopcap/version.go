package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// baseVersion names builds that carry no module version: go build in a
// checkout without VCS stamping, and test binaries.
const baseVersion = "v0.1.0-devel"

// version is the module version Go stamped into the binary (a tag, or a
// pseudo-version with the commit for builds from a checkout).
var version = moduleVersion()

// toolName is the report's "tool" field.
var toolName = "tfopcap " + version

func moduleVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" || info.Main.Version == "(devel)" {
		return baseVersion
	}
	return info.Main.Version
}

// runVersion is `tfopcap version`.
func runVersion(args []string, st streams) error {
	if len(args) > 0 {
		return usagef("version: unexpected argument %q", args[0])
	}
	printVersion(st.stdout)
	return nil
}

// printVersion writes what `tfopcap version` says: the version, then the
// VCS revision and the toolchain, so a bug report pins the build.
func printVersion(w io.Writer) {
	fmt.Fprintln(w, toolName)
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	settings := buildSettings(info)
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(w, "revision: %s %s\n", rev, settings["vcs.time"])
	}
	fmt.Fprintf(w, "go: %s %s/%s", info.GoVersion, settings["GOOS"], settings["GOARCH"])
	if settings["CGO_ENABLED"] == "0" {
		// What a static build (a release binary) can and cannot do.
		if settings["GOOS"] == "linux" {
			fmt.Fprint(w, ", without cgo: live captures through AF_PACKET; -f filters need libpcap")
		} else {
			fmt.Fprint(w, ", without cgo: live capture and -f filters need libpcap")
		}
	}
	fmt.Fprintln(w)
	if metricsBuild {
		fmt.Fprintln(w, "metrics: this build (-tags metrics) serves --metrics-addr itself")
	}
}

// buildSettings are the key=value settings Go stamped into the binary.
func buildSettings(info *debug.BuildInfo) map[string]string {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	return settings
}
