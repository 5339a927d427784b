//go:build !unix

package main

import "os"

// terminalWidth reports no terminal where tfopcap cannot ask: no bar.
func terminalWidth(*os.File) (int, bool) { return 0, false }
