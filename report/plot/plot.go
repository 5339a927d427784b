// Package plot draws the timeline picture of a report: one row per
// server, its TFO attempts over capture time as stacked bars coloured by
// outcome class (grants, omits, other), with the moment it changed marked.
// PNG and SVG come from one code path. It knows nothing of the report
// model: package report turns a report into Rows.
//
// It draws with gonum's canvas layers (vg, vg/draw, vgimg, vgsvg, text,
// font) and lays the picture out itself: gonum.org/v1/plot proper parses
// every embedded font in its package init, which cost each run of
// tfopcap 9 MB of memory whether it drew a picture or not. Here the one
// face the picture needs is parsed on the first picture (fonts.go).
package plot

import (
	"fmt"
	"image/color"
	"io"

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
	if format != "png" && format != "svg" {
		return fmt.Errorf("unknown picture format %q (want png or svg)", format)
	}
	fonts, err := loadFonts()
	if err != nil {
		return err
	}
	st := newStyles(fonts)
	height := rowHeight * vg.Length(max(len(rows), 1))
	if format == "svg" {
		c := vgsvg.New(width, height)
		drawPicture(draw.New(c), st, caption, rows)
		_, err = c.WriteTo(w)
		return err
	}
	c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))
	drawPicture(draw.New(c), st, caption, rows)
	_, err = vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}
