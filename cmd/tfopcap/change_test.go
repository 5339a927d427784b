package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tfopcap/tfopcap/analyze"
	"github.com/tfopcap/tfopcap/capture"
	"github.com/tfopcap/tfopcap/internal/capturetest"
	"github.com/tfopcap/tfopcap/report"
)

// changeManifest is what testdata/lab/run-change records.
type changeManifest struct {
	File              string    `json:"file"`
	ListenerStopped   time.Time `json:"listener_stopped"`
	ListenerRestarted time.Time `json:"listener_restarted"`
	Servers           map[string]struct {
		Verdict string              `json:"verdict"`
		Change  string              `json:"change"`
		Must    []analyze.FindingID `json:"must"`
	} `json:"servers"`
}

func readChangeManifest(t *testing.T) (dir string, m changeManifest) {
	t.Helper()
	dir = filepath.Join("..", "..", "testdata", "captures", "change-6.18")
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// TestChangeLabCapture checks the real capture of a listener restarted
// without TFO: the change falls between the times the lab stopped and
// restarted it, and names the last grant and first omission that the
// attempt list, judged apart, shows.
func TestChangeLabCapture(t *testing.T) {
	dir, m := readChangeManifest(t)
	file := filepath.Join(dir, m.File)
	// The same with no attempt kept in detail, three and all: the change is not
	// computed from the kept attempts.
	for _, maxAttempts := range []string{"0", "3", "10000"} {
		r := analyzeJSON(t, "--max-attempts", maxAttempts, file)
		full := analyzeJSON(t, file)
		for addr, want := range m.Servers {
			s := serverOf(t, r, addr)
			if s.Verdict.String() != want.Verdict {
				t.Errorf("%s: verdict %s, want %s", addr, s.Verdict, want.Verdict)
			}
			checkIDs(t, addr, s.HintIDs, idsWant{Must: want.Must})
			if want.Change == "" {
				if s.Change != nil {
					t.Errorf("%s: change %+v, want none", addr, s.Change)
				}
				continue
			}
			c := s.Change
			if c == nil || c.Kind != want.Change || c.Switches != 1 || c.Before == nil || c.After == nil {
				t.Fatalf("%s: change %+v, want %s once", addr, c, want.Change)
			}
			before, after := parseTime(t, c.Before.Time), parseTime(t, c.After.Time)
			if !before.Before(m.ListenerStopped) || !after.After(m.ListenerRestarted) {
				t.Errorf("%s: change between %s and %s, the listener restarted between %s and %s",
					addr, before, after, m.ListenerStopped, m.ListenerRestarted)
			}
			lastGrant, firstOmit := switchInAttempts(full.Attempts, addr)
			if c.Before.Frame != lastGrant || c.After.Frame != firstOmit {
				t.Errorf("%s: change at replies %d and %d; the attempt list has the last grant at %d, the first omission at %d",
					addr, c.Before.Frame, c.After.Frame, lastGrant, firstOmit)
			}
		}
	}
}

// TestChangeAcrossInputs cuts the capture in two at the restart, as
// `analyze before.pcap after.pcap` would see it: the change goes from
// the last grant in the first file to the first omission in the second.
func TestChangeAcrossInputs(t *testing.T) {
	dir, m := readChangeManifest(t)
	frames := capturetest.ReadFrames(t, filepath.Join(dir, m.File))
	cut := m.ListenerStopped.UnixNano()
	var first, second []capture.OwnedFrame
	for _, f := range frames {
		if f.Time < cut {
			first = append(first, f)
		} else {
			second = append(second, f)
		}
	}
	tmp := t.TempDir()
	before := capturetest.WritePcap(t, filepath.Join(tmp, "before.pcap"), first)
	after := capturetest.WritePcap(t, filepath.Join(tmp, "after.pcap"), second)
	whole := serverOf(t, analyzeJSON(t, filepath.Join(dir, m.File)), "10.77.0.1:8001").Change
	// Given in the wrong order: the merged timeline decides, not the
	// order of the arguments.
	c := serverOf(t, analyzeJSON(t, after, before), "10.77.0.1:8001").Change
	if c == nil || c.Kind != whole.Kind || c.Before == nil || c.After == nil {
		t.Fatalf("change %+v, want %+v", c, whole)
	}
	if c.Before.Input != 1 || c.After.Input != 0 || c.Before.Time != whole.Before.Time || c.After.Time != whole.After.Time ||
		c.After.Frame != whole.After.Frame-len(first) {
		t.Errorf("change across inputs %+v %+v, in one file %+v %+v", *c.Before, *c.After, *whole.Before, *whole.After)
	}
}

func serverOf(t *testing.T, r *report.Report, addr string) *report.ServerReport {
	t.Helper()
	for i := range r.Servers {
		if r.Servers[i].Server == addr {
			return &r.Servers[i]
		}
	}
	t.Fatalf("no server %s in the report", addr)
	return nil
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// switchInAttempts returns the reply frames of the last granting attempt
// before the first omitting one, and of that one, from the attempt list.
func switchInAttempts(attempts []report.AttemptReport, addr string) (lastGrant, firstOmit int) {
	for i := range attempts {
		a := &attempts[i]
		if a.Server != addr || a.Reply == nil {
			continue
		}
		switch {
		case a.Outcome.Grants() && firstOmit == 0:
			lastGrant = a.Reply.Frame
		case a.Outcome.Omits() && firstOmit == 0:
			firstOmit = a.Reply.Frame
		}
	}
	return lastGrant, firstOmit
}
