//go:build !cgo

package capture

import (
	"errors"
	"io"
)

// errNoLibpcap is what live capture and filters say in a build without
// cgo: reading capture files needs no C, but these need libpcap.
var errNoLibpcap = errors.New("live capture and -f filters need libpcap, and this tfopcap " +
	"was built without cgo: install gcc and libpcap-dev, then build it again")

// Live is live capture, absent from builds without cgo.
type Live struct{}

// OpenLive fails: live capture needs libpcap.
func OpenLive(LiveConfig) (*Live, error) { return nil, errNoLibpcap }

// Interfaces fails: listing interfaces needs libpcap.
func Interfaces() ([]Interface, error) { return nil, errNoLibpcap }

func (l *Live) Name() string           { return "" }
func (l *Live) LinkType() uint16       { return 0 }
func (l *Live) Snaplen() int           { return 0 }
func (l *Live) Filter() string         { return "" }
func (l *Live) SaveTo(io.Writer) error { return errNoLibpcap }
func (l *Live) Next(*Frame) error      { return errNoLibpcap }
func (l *Live) Stats() LiveStats       { return LiveStats{} }
func (l *Live) Stop()                  {}
func (l *Live) Close() error           { return nil }
func (l *Live) Info() Info             { return Info{} }

// Filter is a tcpdump-syntax filter, absent from builds without cgo.
type Filter struct{ expr string }

// NewFilter returns a filter that fails to compile: filters need libpcap.
func NewFilter(expr string) *Filter { return &Filter{expr} }

func (f *Filter) String() string             { return f.expr }
func (f *Filter) Compile(uint16) error       { return errNoLibpcap }
func (f *Filter) Match(*Frame) (bool, error) { return false, errNoLibpcap }
