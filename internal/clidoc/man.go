package clidoc

import (
	"fmt"
	"io"
	"strings"
)

// WriteMan writes p as a man(7) page of section 1. It carries no date, so
// that the checked-in page changes only when the text does.
func WriteMan(w io.Writer, p *Program) error {
	var b strings.Builder
	fmt.Fprintf(&b, ".\\\" Generated from the command table of %s: edit that, then regenerate.\n", p.Name)
	fmt.Fprintf(&b, ".TH %s 1 \"\" \"%s\" \"User Commands\"\n", strings.ToUpper(p.Name), p.Name)
	// No hyphenation and a ragged right edge: flag names stay whole, and
	// can be searched for and pasted.
	b.WriteString(".nh\n.ad l\n")
	b.WriteString(".SH NAME\n")
	fmt.Fprintf(&b, "%s \\- %s\n", p.Name, roff(strings.TrimPrefix(p.Summary, p.Name+" ")))
	b.WriteString(".SH SYNOPSIS\n")
	for i, c := range p.visible() {
		if i > 0 {
			b.WriteString(".br\n")
		}
		writeManSynopses(&b, p, c)
	}
	b.WriteString(".SH DESCRIPTION\n")
	writeManText(&b, p.Description)
	b.WriteString(".SH COMMANDS\n")
	for _, c := range p.visible() {
		fmt.Fprintf(&b, ".SS %s\n", roff(p.Name+" "+c.Name))
		writeManSynopses(&b, p, c)
		writeManText(&b, c.Description)
		flags, _ := cmdFlags(c)
		for _, f := range flags {
			head := `\fB` + roff(f.Names()) + `\fR`
			if f.Placeholder != "" {
				head += ` \fI` + roff(f.Placeholder) + `\fR`
			}
			fmt.Fprintf(&b, ".TP\n%s\n%s\n", head, roff(f.Text()))
		}
	}
	for _, s := range p.Sections {
		fmt.Fprintf(&b, ".SH %s\n", roff(s.Title))
		writeManText(&b, s.Text)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeManSynopses writes c's synopsis lines: the command in bold, its
// operands in roman.
func writeManSynopses(b *strings.Builder, p *Program, c Command) {
	synopses := c.Synopses
	if len(synopses) == 0 {
		synopses = []string{""}
	}
	for i, s := range synopses {
		if i > 0 {
			b.WriteString(".br\n")
		}
		fmt.Fprintf(b, "\\fB%s %s\\fR %s\n", roff(p.Name), roff(c.Name), roff(s))
	}
}

// writeManText writes paragraphs separated by blank lines; a paragraph
// whose lines are indented is an example, kept as laid out.
func writeManText(b *strings.Builder, text string) {
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if strings.HasPrefix(para, " ") {
			b.WriteString(".PP\n.RS\n.nf\n")
			for _, line := range strings.Split(para, "\n") {
				fmt.Fprintf(b, "%s\n", roff(strings.TrimPrefix(line, "  ")))
			}
			b.WriteString(".fi\n.RE\n")
			continue
		}
		fmt.Fprintf(b, ".PP\n%s\n", roff(strings.Join(strings.Fields(para), " ")))
	}
}

// roff escapes s for a text line: backslashes, every hyphen (as \-, so
// that flag names print and paste as ASCII minus, whatever the device's
// hyphen), and a leading control character.
func roff(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b.WriteString(`\e`)
		case c == '-':
			b.WriteString(`\-`)
		case (c == '.' || c == '\'') && (i == 0 || s[i-1] == '\n'):
			b.WriteString(`\&`)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
