package plot

import (
	"fmt"
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tfopcap/tfopcap/analyze"
)

// Spacing of the picture, in points.
const (
	padTop, padBottom, padLeft, padRight = 4, 4, 6, 12
	rowGap                               = 6   // between one row's time axis and the next row's title
	axisGap                              = 5   // between an axis line and the bars
	tickLength                           = 8   // a labelled tick; an unlabelled one is half
	lineWidth                            = 0.5 // axis lines and ticks
	headroom                             = 1.3 // the y range over the tallest bar when a label must fit above
)

// panel is one row to draw: its bars on the shared time axis and its own
// count axis.
type panel struct {
	title  string
	bars   bars
	ymax   float64
	yticks []tick
	marks  []mark
}

// drawPicture draws the caption, then the rows one under the other on one
// shared time axis, labelled under the last row.
func drawPicture(dc draw.Canvas, st styles, caption string, rows []Row) {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	c := draw.Crop(dc, padLeft, -padRight, padBottom, -padTop)
	if len(rows) == 0 {
		c.FillText(st.title, vg.Point{X: c.Center().X, Y: c.Max.Y}, caption+"\n(no TFO attempt to draw)")
		return
	}
	timelines, origin, end := commonAxis(rows)
	panels := make([]panel, len(rows))
	for i := range rows {
		panels[i] = newPanel(rows[i], &timelines[i], origin)
	}

	c.FillText(st.title, vg.Point{X: c.Center().X, Y: c.Max.Y}, caption)
	c.Max.Y -= st.title.Height(caption)
	label := "seconds since " + time.Unix(0, origin).UTC().Format("2006-01-02T15:04:05.000Z") +
		fmt.Sprintf(" (bars of %s)", threeDigits(time.Duration(timelines[0].Width)))
	c.FillText(st.axisLabel, vg.Point{X: c.Center().X, Y: c.Min.Y + st.axisLabel.FontExtents().Descent}, label)
	c.Min.Y += st.axisLabel.Height(label)

	// One left margin for all rows, so that their time axes line up.
	left := yAxisWidth(st, panels)
	xmax := float64(end-origin) / 1e9
	xticks := secondsTicks(xmax, func(labels []string) bool {
		return labelsFit(st.xTick, labels, c.Max.X-c.Min.X-left)
	})
	right := rightMargin(st, xticks)

	slot := (c.Max.Y - c.Min.Y - rowGap*vg.Length(len(panels)-1)) / vg.Length(len(panels))
	for i := range panels {
		rc := c
		rc.Max.Y = c.Max.Y - vg.Length(i)*(slot+rowGap)
		rc.Min.Y = rc.Max.Y - slot
		drawPanel(rc, st, &panels[i], left, right, xmax, xticks)
	}
}

// threeDigits rounds d to three significant digits: bucket widths are
// powers of two nanoseconds, and "33.554432ms" says no more than "33.6ms".
func threeDigits(d time.Duration) time.Duration {
	unit := time.Duration(1)
	for d/unit >= 1000 {
		unit *= 10
	}
	return d.Round(unit)
}

// newPanel measures one row: its bars, count axis and the marks inside
// its span.
func newPanel(r Row, tl *analyze.Timeline, origin int64) panel {
	p := panel{title: r.Title, bars: bars{tl: tl, origin: origin}}
	xmin, xmax, ymax := p.bars.dataRange()
	p.ymax = max(ymax, 1)
	for _, m := range r.Marks {
		if x := float64(m.At-origin) / 1e9; x >= xmin && x <= xmax {
			p.marks = append(p.marks, mark{x: x, label: m.Label})
			p.ymax = max(ymax, 1) * headroom // room for the label above the bars
		}
	}
	p.yticks = integerTicks{}.Ticks(0, p.ymax)
	return p
}

// yAxisWidth is the room left of the bars: the rotated axis label, the
// widest count label of any row, a space, the ticks and the gap.
func yAxisWidth(st styles, panels []panel) vg.Length {
	widest := vg.Length(0)
	for i := range panels {
		for _, t := range panels[i].yticks {
			widest = max(widest, st.yTick.Width(t.label))
		}
	}
	return st.axisLabel.Height("attempts") + widest + st.yTick.Width(" ") + tickLength + lineWidth/2 + axisGap
}

// rightMargin lets the last time label stand wholly in the picture.
func rightMargin(st styles, ticks []tick) vg.Length {
	for i := len(ticks) - 1; i >= 0; i-- {
		if ticks[i].label != "" {
			return st.xTick.Width(ticks[i].label) / 2
		}
	}
	return 0
}

// labelsFit says whether labels, spaced evenly over width, leave at least
// two spaces between neighbours.
func labelsFit(sty text.Style, labels []string, width vg.Length) bool {
	widest := vg.Length(0)
	for _, l := range labels {
		widest = max(widest, sty.Width(l))
	}
	return vg.Length(len(labels))*(widest+2*sty.Width(" ")) <= width
}

// drawPanel draws one row in rc: title, count axis, time axis, bars and
// marks.
func drawPanel(rc draw.Canvas, st styles, p *panel, left, right vg.Length, xmax float64, xticks []tick) {
	rc.FillText(st.title, vg.Point{X: rc.Center().X, Y: rc.Max.Y}, p.title)
	// Half a count label between the title and the bars: the top label,
	// centred on the top of the axis, stays clear of the title.
	top := st.title.Height(p.title) + st.yTick.Height("0")/2
	data := draw.Crop(rc, left, -right, axisGap+lineWidth/2+tickLength+st.xTick.Height("0"), -top)
	drawYAxis(rc, data, st, p)
	drawXAxis(data, st, xmax, xticks)
	trX := func(s float64) vg.Length { return data.X(s / xmax) }
	trY := func(n float64) vg.Length { return data.Y(n / p.ymax) }
	p.bars.draw(data, trX, trY)
	for _, m := range p.marks {
		m.draw(data, st.mark, trX(m.x))
	}
}

// drawYAxis draws the rotated label at the row's left edge, the count
// labels and ticks, and the axis line beside the bars.
func drawYAxis(rc, data draw.Canvas, st styles, p *panel) {
	label := st.axisLabel
	label.Rotation = math.Pi / 2
	h := st.axisLabel.Height("attempts")
	rc.FillText(label, vg.Point{X: rc.Min.X + h - st.axisLabel.FontExtents().Descent, Y: data.Center().Y}, "attempts")
	line := draw.LineStyle{Color: color.Black, Width: lineWidth}
	x := data.Min.X - axisGap
	descent := st.yTick.FontExtents().Descent
	for _, t := range p.yticks {
		y := data.Y(t.value / p.ymax)
		rc.FillText(st.yTick, vg.Point{X: x - tickLength - st.yTick.Width(" "), Y: y + descent}, t.label)
		rc.StrokeLine2(line, x-tickLength, y, x, y)
	}
	rc.StrokeLine2(line, x, data.Min.Y, x, data.Max.Y)
}

// drawXAxis draws the time axis under the bars: line, ticks (an
// unlabelled one half as long) and labels.
func drawXAxis(data draw.Canvas, st styles, xmax float64, ticks []tick) {
	line := draw.LineStyle{Color: color.Black, Width: lineWidth}
	y := data.Min.Y - axisGap
	descent := st.xTick.FontExtents().Descent
	for _, t := range ticks {
		x := data.X(t.value / xmax)
		length := vg.Length(tickLength)
		if t.label == "" {
			length /= 2
		}
		data.StrokeLine2(line, x, y, x, y-length)
		data.FillText(st.xTick, vg.Point{X: x, Y: y - tickLength + descent}, t.label)
	}
	data.StrokeLine2(line, data.Min.X, y, data.Max.X, y)
}

// commonAxis brings every row's timeline to one bucket width at which all
// of them fit in TimelineBuckets buckets together, so that bars line up
// across rows; origin and end are the start of the earliest bucket and
// the end of the latest (ns).
func commonAxis(rows []Row) (tls []analyze.Timeline, origin, end int64) {
	tls = make([]analyze.Timeline, len(rows))
	w := int64(0)
	for i := range rows {
		tls[i] = rows[i].Timeline
		w = max(w, tls[i].Width)
	}
	for {
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for i := range tls {
			tls[i].Coarsen(w)
			if l, h, ok := tls[i].Span(); ok {
				lo, hi = min(lo, l), max(hi, h)
			}
		}
		if hi-lo < analyze.TimelineBuckets || lo > hi {
			if lo > hi {
				lo, hi = 0, 0
			}
			return tls, lo * w, (hi + 1) * w
		}
		w *= 2
	}
}
