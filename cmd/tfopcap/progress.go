package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tfopcap/tfopcap/engine"
)

// progressSource is an input whose reading the bar shows.
type progressSource interface {
	Size() int64      // 0 when unknown
	BytesRead() int64 // safe to call from another goroutine
}

// progressSources lists analyze's inputs for the bar.
func progressSources(inputs []*engine.FileInput) []progressSource {
	s := make([]progressSource, len(inputs))
	for i, in := range inputs {
		s[i] = in
	}
	return s
}

// progressInterval is how often the bar is redrawn: at most five times a
// second, from its own goroutine reading the readers' byte counters
// (atomics), so the pipeline pays nothing for it.
const progressInterval = 200 * time.Millisecond

// progress draws "42% [=====>    ] 450 MB / 1.1 GB  2.3 GB/s  0:01 left"
// on a terminal while capture files are read, and erases it when stopped.
// A nil *progress is a valid, silent one.
type progress struct {
	w       io.Writer
	width   int
	readers []progressSource
	total   int64 // sum of the inputs' sizes; 0 if any is unknown (stdin)
	start   time.Time
	stop    chan struct{}
	done    chan struct{}
	drawn   bool
}

// startProgress starts drawing on w if w is a terminal, else returns nil.
func startProgress(w io.Writer, readers []progressSource) *progress {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	width, ok := terminalWidth(f)
	if !ok {
		return nil
	}
	p := &progress{w: w, width: width, readers: readers, start: time.Now(),
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, r := range readers {
		if r.Size() <= 0 {
			p.total = 0
			break
		}
		p.total += r.Size()
	}
	go p.run()
	return p
}

func (p *progress) run() {
	defer close(p.done)
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			if p.drawn {
				fmt.Fprint(p.w, "\r\x1b[K")
			}
			return
		case now := <-t.C:
			var read int64
			for _, r := range p.readers {
				read += r.BytesRead()
			}
			fmt.Fprint(p.w, "\r"+progressLine(read, p.total, now.Sub(p.start), p.width)+"\x1b[K")
			p.drawn = true
		}
	}
}

// Stop erases the bar and returns once its goroutine has ended.
func (p *progress) Stop() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
}

// progressLine renders the bar for read of total bytes (total 0: unknown)
// after elapsed, in at most width-1 columns.
func progressLine(read, total int64, elapsed time.Duration, width int) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(read) / s
	}
	var tail string
	if total > 0 {
		read = min(read, total)
		tail = fmt.Sprintf(" %s / %s  %s/s", byteSize(float64(read)), byteSize(float64(total)), byteSize(rate))
		if rate > 0 {
			left := time.Duration(float64(total-read) / rate * float64(time.Second))
			tail += "  " + clock(left) + " left"
		}
	} else {
		tail = fmt.Sprintf(" %s read  %s/s", byteSize(float64(read)), byteSize(rate))
	}
	line := "tfopcap:" + tail
	if total > 0 {
		pct := int(100 * read / total)
		head := fmt.Sprintf("tfopcap: %3d%% ", pct)
		// The bar takes what is left of the line, within reason.
		if n := min(width-1-len(head)-len(tail)-2, 40); n >= 10 {
			fill := int(int64(n) * read / total)
			bar := strings.Repeat("=", fill)
			if fill < n {
				bar += ">" + strings.Repeat(" ", n-fill-1)
			}
			line = head + "[" + bar + "]" + tail
		} else {
			line = head[:len(head)-1] + tail
		}
	}
	if len(line) > width-1 {
		line = line[:max(width-1, 0)]
	}
	return line
}

// byteSize formats n bytes in decimal units: "950 B", "12.3 MB", "1.07 GB".
func byteSize(n float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for n >= 1000 && i < len(units)-1 {
		n /= 1000
		i++
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%.0f B", n)
	case n >= 100:
		return fmt.Sprintf("%.0f %s", n, units[i])
	case n >= 10:
		return fmt.Sprintf("%.1f %s", n, units[i])
	}
	return fmt.Sprintf("%.2f %s", n, units[i])
}

// clock formats d as m:ss, or h:mm:ss from an hour on.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
