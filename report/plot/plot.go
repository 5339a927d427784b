// Package plot draws the timeline picture of a report: one row per
// server, its TFO attempts over capture time as stacked bars coloured by
// outcome class (grants, omits, other), with the moment it changed marked.
// It is the only importer of gonum.org/v1/plot; PNG and SVG come from one
// code path. It knows nothing of the report model: package report turns
// a report into Rows.
package plot

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/tfopcap/tfopcap/analyze"
)

// Row is one server's timeline.
type Row struct {
	// Title heads the row: the server, its verdict and counts.
	Title    string
	Timeline analyze.Timeline
	// Marks are moments to draw as labelled vertical lines (the change
	// point); times outside the timeline are left out.
	Marks []Mark
}

// Mark is a labelled moment, in ns since the epoch.
type Mark struct {
	At    int64
	Label string
}

// Colours of the outcome classes, as #rrggbb: the HTML page uses the same.
var classColours = [analyze.NumClasses]color.RGBA{
	analyze.ClassGrants: {0x1a, 0x98, 0x50, 0xff},
	analyze.ClassOmits:  {0xd7, 0x30, 0x27, 0xff},
	analyze.ClassOther:  {0x96, 0x96, 0x96, 0xff},
}

// Colour returns class c's colour as #rrggbb.
func Colour(c analyze.Class) string {
	k := classColours[c]
	return fmt.Sprintf("#%02x%02x%02x", k.R, k.G, k.B)
}

// Sizes, chosen so that a PNG attached to an issue reads at a glance.
const (
	width     = 9 * vg.Inch
	rowHeight = 1.9 * vg.Inch
	dpi       = 96
)

// Write draws rows in format "png" or "svg" to w; caption heads the
// picture (what it shows, how many servers it leaves out).
func Write(w io.Writer, format, caption string, rows []Row) error {
	height := rowHeight * vg.Length(max(len(rows), 1))
	switch format {
	case "svg":
		c := vgsvg.New(width, height)
		draw1(draw.New(c), caption, rows)
		_, err := c.WriteTo(w)
		return err
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))
		draw1(draw.New(c), caption, rows)
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	}
	return fmt.Errorf("unknown picture format %q (want png or svg)", format)
}

// draw1 draws the rows on one canvas, sharing one time axis.
func draw1(dc draw.Canvas, caption string, rows []Row) {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	if len(rows) == 0 {
		p := gplot.New()
		p.Title.Text = caption + "\n(no TFO attempt to draw)"
		p.HideAxes()
		p.Draw(dc)
		return
	}
	timelines, origin, end := commonAxis(rows)
	plots := make([][]*gplot.Plot, len(rows))
	for i := range rows {
		p := rowPlot(rows[i], &timelines[i], origin)
		// One time axis for all rows: a change reads across them.
		p.X.Min, p.X.Max = 0, float64(end-origin)/1e9
		if i == 0 {
			p.Title.Text = caption + "\n" + p.Title.Text
		}
		if i == len(rows)-1 {
			p.X.Label.Text = "seconds since " + time.Unix(0, origin).UTC().Format("2006-01-02T15:04:05.000Z") +
				fmt.Sprintf(" (bars of %s)", time.Duration(timelines[i].Width))
		}
		plots[i] = []*gplot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(rows), Cols: 1, PadTop: 4, PadBottom: 4, PadLeft: 6, PadRight: 12, PadY: 6}
	canvases := gplot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
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

// rowPlot is one server's panel.
func rowPlot(r Row, tl *analyze.Timeline, origin int64) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = r.Title
	p.Title.TextStyle.Font.Size = 11
	p.Y.Label.Text = "attempts"
	p.Y.Tick.Marker = integerTicks{}
	p.Y.Min = 0
	b := bars{tl: tl, origin: origin}
	p.Add(b)
	xmin, xmax, _, ymax := b.DataRange()
	for _, m := range r.Marks {
		x := float64(m.At-origin) / 1e9
		if x >= xmin && x <= xmax {
			p.Add(mark{x: x, label: m.Label})
			p.Y.Max = ymax * 1.3 // room for the label above the bars
		}
	}
	return p
}

// bars are a timeline's buckets as stacked bars, grants at the bottom.
type bars struct {
	tl     *analyze.Timeline
	origin int64
}

// seconds is where bucket i starts, in seconds since the origin.
func (b bars) seconds(i int) float64 {
	return float64((b.tl.First+int64(i))*b.tl.Width-b.origin) / 1e9
}

func (b bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	lo, hi, ok := b.tl.Span()
	if !ok {
		return 0, 1, 0, 1
	}
	xmin, xmax = b.seconds(int(lo-b.tl.First)), b.seconds(int(hi-b.tl.First)+1)
	for i := range b.tl.Counts {
		ymax = max(ymax, float64(total(b.tl.Counts[i])))
	}
	return xmin, xmax, 0, ymax
}

func (b bars) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
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

func (m mark) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(m.x)
	line := draw.LineStyle{Color: color.Black, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
	c.StrokeLine2(line, x, c.Min.Y, x, c.Max.Y)
	style := p.Title.TextStyle
	style.Font = font.From(gplot.DefaultFont, 9)
	style.XAlign, style.YAlign = draw.XLeft, draw.YTop
	at := vg.Point{X: x + vg.Points(3), Y: c.Max.Y - vg.Points(2)}
	// A white box behind the label keeps it readable over the bars.
	w, h := style.Width(m.label), style.Height(m.label)
	c.FillPolygon(color.White, c.ClipPolygonXY([]vg.Point{{X: at.X - 1, Y: at.Y + 1}, {X: at.X + w + 1, Y: at.Y + 1},
		{X: at.X + w + 1, Y: at.Y - h - 1}, {X: at.X - 1, Y: at.Y - h - 1}}))
	c.FillText(style, at, m.label)
}

// integerTicks labels whole numbers of attempts only: at most about five,
// at a step of 1, 2 or 5 times a power of ten.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []gplot.Tick {
	step := 1.0
	for k := 0; hi/step > 5; k++ {
		step = [3]float64{2, 5, 10}[k%3] * math.Pow(10, float64(k/3))
	}
	var ticks []gplot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}
