//go:build !linux

package probe

import "context"

func run(context.Context, Config) (*Result, error) { return nil, ErrNotLinux }
