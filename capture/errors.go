package capture

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// ErrTruncated is wrapped by the error Next (or Open) returns when the input
// ends inside a record, a block or a header: the capture was cut short, for
// instance by a full disk or a killed tcpdump. Frames returned before it are
// good; callers report them and warn. The error's text says where it ended.
var ErrTruncated = errors.New("capture cut short")

// ErrNotCapture is wrapped by the error Open returns when the input is
// neither pcap nor pcapng (nor a gzip-compressed one of them).
var ErrNotCapture = errors.New("not a capture file")

// ErrSaveFailed is wrapped by the error Live.Next returns when a frame
// could not be written to the SaveTo writer (a full disk, /dev/full): the
// capture ends there, since the file would silently lack what follows.
var ErrSaveFailed = errors.New("saving the capture failed")

// RootCause strips the operation and path an *os.PathError adds, for
// messages that name the file themselves ("-w x.pcap: no space left on
// device", not "-w x.pcap: write x.pcap: no space left on device").
func RootCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// FormatError reports corrupt structure: a length that cannot be right, a
// block that contradicts itself, a packet on an interface the file never
// described. Reading cannot continue past it.
type FormatError struct {
	File   string // file name as given to Open
	Offset int64  // byte offset, in the decompressed stream, of the record or block at fault
	Msg    string // what is wrong, with the values involved
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: at byte %d: %s", DisplayName(e.File), e.Offset, e.Msg)
}

// DisplayName returns a file name as messages show it: unchanged when it is
// printable UTF-8, else Go-quoted ("a\x1b[2Jb"), so that a newline or a
// terminal escape in a name can neither forge a line nor garble a terminal.
func DisplayName(name string) string {
	if !utf8.ValidString(name) {
		return strconv.Quote(name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return strconv.Quote(name)
		}
	}
	return name
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
