//go:build !linux

package capture

import (
	"errors"
	"os"
)

// mapFile maps nothing: other systems read files into the buffer.
func mapFile(*os.File, int64) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmapFile([]byte) {}

func dropPages([]byte) {}
