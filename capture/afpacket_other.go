//go:build !linux

package capture

import "errors"

// afpacketBuilt: AF_PACKET is Linux's.
const afpacketBuilt = false

func openAFPacket(LiveConfig) (*Live, error) {
	return nil, errors.New("the afpacket capture backend is Linux-only")
}
