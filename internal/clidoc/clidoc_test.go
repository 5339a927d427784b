package clidoc

import (
	"bytes"
	"testing"

	"github.com/spf13/pflag"
)

func TestWriteFlags(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.BoolP("verbose", "v", false, "more detail")
	fs.String("out", "", "write to `FILE`")
	fs.Int("max", 10, "at most `N`")
	fs.String("name", "a b", "called `NAME`")
	var b bytes.Buffer
	WriteFlags(&b, fs)
	want := "" +
		"      --max N       at most N (default 10)\n" +
		"      --name NAME   called NAME (default \"a b\")\n" +
		"      --out FILE    write to FILE\n" +
		"  -v, --verbose     more detail\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestRoff(t *testing.T) {
	for in, want := range map[string]string{
		"--fail-on omits":       `\-\-fail\-on omits`,
		"gzip-compressed, - is": `gzip\-compressed, \- is`,
		`a \ b`:                 `a \e b`,
		".starts with a dot":    `\&.starts with a dot`,
		"'quoted":               `\&'quoted`,
	} {
		if got := roff(in); got != want {
			t.Errorf("roff(%q) = %q, want %q", in, got, want)
		}
	}
}
