// Command gen writes a deterministic synthetic capture for tfopcap's
// benchmarks and prints, as JSON, the outcomes tfopcap must find in it;
// "gen check" compares a tfopcap JSON report with that expectation.
//
//	go run ./bench/gen -profile bulk -size 1G -o bench/data/bulk.pcap > bench/data/bulk.expect.json
//	tfopcap analyze --format json bench/data/bulk.pcap > report.json
//	go run ./bench/gen check bench/data/bulk.expect.json report.json
//
// See bench/README.md for the packet mix and the flags.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/tfopcap/tfopcap/internal/synth"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "check" {
		if err := check(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "gen check:", err)
			os.Exit(1)
		}
		return
	}
	cfg, out, err := parseFlags(os.Args[1:], os.Stderr)
	if err == flag.ErrHelp {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(2)
	}
	if err := generate(cfg, out, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (synth.Config, string, error) {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: gen [flags] -o FILE.pcap > EXPECT.json\n       gen check EXPECT.json REPORT.json\n\nFlags (0 or empty: the profile's default):\n")
		fs.PrintDefaults()
	}
	profile := fs.String("profile", "bulk", "packet mix defaults: bulk or handshake")
	out := fs.String("o", "", "output pcap file (required)")
	size := fs.String("size", "100M", "stop starting connections once the file has this many bytes (k, M, G suffixes)")
	seed := fs.Uint64("seed", 1, "random seed; the same flags and seed give the same bytes")
	v6 := fs.Float64("v6", -1, "share of connections over IPv6 (default 0.1)")
	mptcp := fs.Float64("mptcp", -1, "share of client SYNs with MP_CAPABLE (default 0.05)")
	exp := fs.Float64("exp254", -1, "share of TFO SYNs in the experimental kind 254 encoding (default 0.1)")
	mix := fs.String("mix", "", "outcome weights, e.g. plain=40,granted=15,omitted=15,accepted=15,rejected=10,refused=3,unanswered=2")
	conc := fs.Int("concurrent", 0, "connections open at once")
	flow := fs.String("flow", "", "mean response bytes per connection (k, M, G suffixes)")
	rate := fs.Int("rate", 0, "link rate in Mbit/s that spaces the timestamps")
	servers := fs.Int("servers", 0, "servers per address family (default 8); even ones grant cookies, odd ones ignore TFO")
	if err := fs.Parse(args); err != nil {
		return synth.Config{}, "", err
	}
	if fs.NArg() > 0 {
		return synth.Config{}, "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg, ok := synth.Profile(*profile)
	if !ok {
		return cfg, "", fmt.Errorf("-profile %q: want bulk or handshake", *profile)
	}
	if *out == "" {
		return cfg, "", fmt.Errorf("-o is required")
	}
	cfg.Seed = *seed
	var err error
	if cfg.Size, err = parseSize(*size); err != nil {
		return cfg, "", fmt.Errorf("-size: %v", err)
	}
	for _, f := range []struct {
		v   float64
		dst *float64
	}{{*v6, &cfg.V6}, {*mptcp, &cfg.MPTCP}, {*exp, &cfg.Exp254}} {
		if f.v >= 0 {
			*f.dst = f.v
		}
	}
	if *mix != "" {
		if cfg.Mix, err = synth.ParseMix(*mix); err != nil {
			return cfg, "", fmt.Errorf("-mix: %v", err)
		}
	}
	if *flow != "" {
		if cfg.MeanFlow, err = parseSize(*flow); err != nil {
			return cfg, "", fmt.Errorf("-flow: %v", err)
		}
	}
	for _, f := range []struct {
		v   int
		dst *int
	}{{*conc, &cfg.Concurrent}, {*rate, &cfg.RateMbps}, {*servers, &cfg.Servers}} {
		if f.v > 0 {
			*f.dst = f.v
		}
	}
	return cfg, *out, cfg.Validate()
}

func parseSize(s string) (int64, error) {
	mult, num := int64(1), s
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, num = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, num = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, num = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n <= 0 || n*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return int64(n * float64(mult)), nil
}

// generate writes the capture to out and the expectation to stdout.
func generate(cfg synth.Config, out string, stdout io.Writer) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	exp, err := synth.Generate(f, cfg)
	if err != nil {
		f.Close()
		os.Remove(out)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(exp)
}

func check(args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: gen check EXPECT.json REPORT.json")
	}
	var exp synth.Expectation
	if err := readJSON(args[0], &exp); err != nil {
		return err
	}
	var rep synth.Report
	if err := readJSON(args[1], &rep); err != nil {
		return err
	}
	if diffs := exp.Check(&rep); len(diffs) > 0 {
		return fmt.Errorf("%s differs from %s:\n  %s", args[1], args[0], strings.Join(diffs, "\n  "))
	}
	fmt.Fprintf(stdout, "outcomes match: %d attempts (%d TFO) at %d servers in %d packets\n", exp.Attempts, exp.TFO, len(exp.Servers), exp.Packets)
	return nil
}

func readJSON(name string, v any) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	return nil
}
