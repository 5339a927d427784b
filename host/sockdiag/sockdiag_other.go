//go:build !linux

package sockdiag

import "fmt"

// Listeners returns ErrUnsupported: sock_diag is Linux's.
func Listeners() ([]Listener, error) { return nil, ErrUnsupported }

func errnoError(errno int32) error { return fmt.Errorf("errno %d", errno) }
