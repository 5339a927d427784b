package capture

import "testing"

func TestRingGeometry(t *testing.T) {
	for _, tc := range []struct {
		size, snaplen     int
		blockSize, blocks int
	}{
		{DefaultBufferSize, DefaultSnaplen, 256 << 10, 16},
		{64 << 10, DefaultSnaplen, 16 << 10, 4},
		{1 << 10, DefaultSnaplen, 4 << 10, 4}, // at least a page a block, four blocks
		{64 << 10, 65535, 128 << 10, 4},       // a whole 64 KiB frame fits a block
		{4 << 20, 262144, 512 << 10, 8},
	} {
		bs, n := ringGeometry(tc.size, tc.snaplen)
		if bs != tc.blockSize || n != tc.blocks || bs < tc.snaplen+ringFrameOverhead {
			t.Errorf("ringGeometry(%d, %d) = %d blocks of %d, want %d of %d", tc.size, tc.snaplen, n, bs, tc.blocks, tc.blockSize)
		}
	}
}
