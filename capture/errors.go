package capture

import (
	"errors"
	"fmt"
)

// ErrTruncated is wrapped by the error Next (or Open) returns when the input
// ends inside a record, a block or a header: the capture was cut short, for
// instance by a full disk or a killed tcpdump. Frames returned before it are
// good; callers report them and warn. The error's text says where it ended.
var ErrTruncated = errors.New("capture cut short")

// ErrNotCapture is wrapped by the error Open returns when the input is
// neither pcap nor pcapng (nor a gzip-compressed one of them).
var ErrNotCapture = errors.New("not a capture file")

// FormatError reports corrupt structure: a length that cannot be right, a
// block that contradicts itself, a packet on an interface the file never
// described. Reading cannot continue past it.
type FormatError struct {
	File   string // file name as given to Open
	Offset int64  // byte offset, in the decompressed stream, of the record or block at fault
	Msg    string // what is wrong, with the values involved
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: at byte %d: %s", e.File, e.Offset, e.Msg)
}

// fileError is a one-line error whose text is complete as it stands and
// which wraps a sentinel (ErrTruncated, ErrNotCapture, fs.ErrNotExist...) for
// errors.Is.
type fileError struct {
	msg string
	err error
}

func (e *fileError) Error() string { return e.msg }
func (e *fileError) Unwrap() error { return e.err }
