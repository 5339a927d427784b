package plot

import (
	"fmt"
	"image/color"
	"sync"

	"codeberg.org/go-fonts/liberation/liberationserifregular"
	"golang.org/x/image/font/opentype"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// serif is the picture's one face, Liberation Serif regular, as
// gonum.org/v1/plot names it (SVG text asks for font-family "Liberation
// Serif").
var serif = font.Font{Typeface: "Liberation", Variant: "Serif"}

// loadFonts parses the face on the first picture, not at start-up: a run
// that draws nothing never touches the font's bytes.
var loadFonts = sync.OnceValues(func() (*font.Cache, error) {
	face, err := opentype.Parse(liberationserifregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("the picture's embedded font: %w", err)
	}
	return font.NewCache(font.Collection{{Font: serif, Face: face}}), nil
})

// styles are the text styles of the picture.
type styles struct {
	title     text.Style // the caption and the row titles, centred
	axisLabel text.Style // "attempts" and the time axis' label
	yTick     text.Style // right-aligned left of the axis
	xTick     text.Style // centred under the axis
	mark      text.Style // a change point's label
}

func newStyles(fonts *font.Cache) styles {
	plain := text.Plain{Fonts: fonts}
	style := func(size vg.Length, x text.XAlignment, y text.YAlignment) text.Style {
		return text.Style{Color: color.Black, Font: font.From(serif, size), XAlign: x, YAlign: y, Handler: plain}
	}
	return styles{
		title:     style(11, draw.XCenter, draw.YTop),
		axisLabel: style(12, draw.XCenter, draw.YBottom),
		yTick:     style(10, draw.XRight, draw.YCenter),
		xTick:     style(10, draw.XCenter, draw.YTop),
		mark:      style(9, draw.XLeft, draw.YTop),
	}
}
