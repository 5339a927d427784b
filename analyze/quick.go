package analyze

// QuickFlags reads the TCP flags of the commonest frame, Ethernet + IPv4
// without options + TCP, without decoding it: ok is true only when Decode
// would return DecodedTCP for the frame and set seg.Flags to flags. For
// anything else (IPv6, VLAN tags, IP options, fragments, short or odd
// headers, other link types) ok is false and the caller must Decode. It
// lets a reader skip the full decode of the data segments that make up
// most of a capture, looking at four bytes instead of forty.
func QuickFlags(lt uint16, data []byte) (flags uint8, ok bool) {
	// Ethernet (14) + IPv4 (20) + TCP through the flags byte (14).
	if lt != LinkEthernet || len(data) < 14+20+14 {
		return 0, false
	}
	if data[12] != 0x08 || data[13] != 0x00 || // EtherType IPv4
		data[14] != 0x45 || // version 4, header length 20
		data[23] != protoTCP ||
		data[20]&0x3f != 0 || data[21] != 0 || // not a fragment (offset 0, MF clear)
		data[46] < 5<<4 { // data offset >= 5 words
		return 0, false
	}
	// A data offset past the segment the IP length describes is
	// malformed (a zero length, TSO, needs the wire length), and a SYN's
	// options must be all there: Decode decides those.
	ipLen, doff := int(data[16])<<8|int(data[17]), int(data[46]>>4)*4
	if ipLen < 20+doff || data[47]&FlagSYN != 0 && 34+doff > len(data) {
		return 0, false
	}
	return data[47], true
}
