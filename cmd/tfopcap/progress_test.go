package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	tests := []struct {
		read, total int64
		elapsed     time.Duration
		width       int
		want        string
	}{
		{450e6, 1e9, time.Second, 100, "tfopcap:  45% [==================>                     ] 450 MB / 1.00 GB  450 MB/s  0:01 left"},
		{1e9, 1e9, 2 * time.Second, 100, "tfopcap: 100% [========================================] 1.00 GB / 1.00 GB  500 MB/s  0:00 left"},
		{0, 1e9, 0, 100, "tfopcap:   0% [>                                       ] 0 B / 1.00 GB  0 B/s"},
		{12345, 0, time.Second, 100, "tfopcap: 12.3 kB read  12.3 kB/s"},
		{450e6, 1e9, time.Second, 60, "tfopcap:  45% 450 MB / 1.00 GB  450 MB/s  0:01 left"},
		{450e6, 1e9, time.Second, 20, "tfopcap:  45% 450 M"},
		{5e9, 1e12, 10 * time.Second, 90, "tfopcap:   0% [>                                ] 5.00 GB / 1.00 TB  500 MB/s  33:10 left"},
		{5e9, 1e13, 10 * time.Second, 90, "tfopcap:   0% [>                              ] 5.00 GB / 10.0 TB  500 MB/s  5:33:10 left"},
	}
	for _, tt := range tests {
		got := progressLine(tt.read, tt.total, tt.elapsed, tt.width)
		if got != tt.want {
			t.Errorf("progressLine(%d, %d, %v, %d) =\n%q\nwant\n%q", tt.read, tt.total, tt.elapsed, tt.width, got, tt.want)
		}
		if len(got) > tt.width-1 {
			t.Errorf("%q is wider than %d-1 columns", got, tt.width)
		}
	}
}

// TestProgressOffWhenNotTerminal: a pipe, a file or a buffer gets no bar.
func TestProgressOffWhenNotTerminal(t *testing.T) {
	if p := startProgress(&bytes.Buffer{}, nil); p != nil {
		t.Error("progress on a bytes.Buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if p := startProgress(f, nil); p != nil {
		t.Error("progress on a regular file")
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if p := startProgress(null, nil); p != nil {
		t.Error("progress on /dev/null")
	}
	var p *progress
	p.Stop() // a nil progress is silent
}

// TestQuietFlag: -q and --quiet are accepted and change nothing on stdout.
func TestQuietFlag(t *testing.T) {
	path := "../../testdata/captures/host-6.18/host-eth.pcap"
	if _, err := os.Stat(path); err != nil {
		t.Skip(err)
	}
	var want, got, errOut bytes.Buffer
	if code := run([]string{"analyze", path}, streams{stdout: &want, stderr: &errOut}); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, q := range []string{"-q", "--quiet"} {
		got.Reset()
		if code := run([]string{"analyze", q, path}, streams{stdout: &got, stderr: &errOut}); code != exitOK {
			t.Fatalf("%s: exit %d: %s", q, code, errOut.String())
		}
		if got.String() != want.String() {
			t.Errorf("%s changed the report", q)
		}
	}
	if strings.Contains(errOut.String(), "\r") {
		t.Errorf("a progress bar went to a buffer: %q", errOut.String())
	}
}
