package plot

import (
	"image/color"

	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tfopcap/tfopcap/analyze"
)

// bars are a timeline's buckets as stacked bars, grants at the bottom.
type bars struct {
	tl     *analyze.Timeline
	origin int64
}

// seconds is where bucket i starts, in seconds since the origin.
func (b bars) seconds(i int) float64 {
	return float64((b.tl.First+int64(i))*b.tl.Width-b.origin) / 1e9
}

// dataRange is the span of the buckets holding attempts (seconds) and the
// tallest bar.
func (b bars) dataRange() (xmin, xmax, ymax float64) {
	lo, hi, ok := b.tl.Span()
	if !ok {
		return 0, 1, 1
	}
	xmin, xmax = b.seconds(int(lo-b.tl.First)), b.seconds(int(hi-b.tl.First)+1)
	for i := range b.tl.Counts {
		ymax = max(ymax, float64(total(b.tl.Counts[i])))
	}
	return xmin, xmax, ymax
}

// draw fills the bars in c, trX and trY taking seconds and counts to c.
func (b bars) draw(c draw.Canvas, trX, trY func(float64) vg.Length) {
	for i, counts := range b.tl.Counts {
		x0, x1 := trX(b.seconds(i)), trX(b.seconds(i+1))
		if gap := (x1 - x0) / 10; gap > 0.5 {
			x0, x1 = x0+gap/2, x1-gap/2 // a hairline between neighbours
		}
		y := 0.0
		for class, n := range counts {
			if n == 0 {
				continue
			}
			y0, y1 := trY(y), trY(y+float64(n))
			c.FillPolygon(classColours[class], c.ClipPolygonXY([]vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}))
			y += float64(n)
		}
	}
}

func total(c [analyze.NumClasses]uint32) uint32 {
	n := uint32(0)
	for _, v := range c {
		n += v
	}
	return n
}

// mark is a dashed vertical line with its label at the top.
type mark struct {
	x     float64
	label string
}

// draw draws the mark at x in c, its label right of the line, or left of
// it when it would run out of the picture.
func (m mark) draw(c draw.Canvas, style text.Style, x vg.Length) {
	// 1.5 points are 2 pixels at 96 dpi: wherever the line falls, one
	// column of the PNG is solid black, not two shades of grey.
	line := draw.LineStyle{Color: color.Black, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
	c.StrokeLine2(line, x, c.Min.Y, x, c.Max.Y)
	w, h := style.Width(m.label), style.Height(m.label)
	at := vg.Point{X: x + vg.Points(3), Y: c.Max.Y - vg.Points(2)}
	if at.X+w > c.Max.X {
		at.X = x - vg.Points(3) - w
	}
	// A white box behind the label keeps it readable over the bars.
	c.FillPolygon(color.White, c.ClipPolygonXY([]vg.Point{{X: at.X - 1, Y: at.Y + 1}, {X: at.X + w + 1, Y: at.Y + 1},
		{X: at.X + w + 1, Y: at.Y - h - 1}, {X: at.X - 1, Y: at.Y - h - 1}}))
	c.FillText(style, at, m.label)
}
