package board

import "errors"

// MAC is an Ethernet (EUI-48) address.
type MAC [6]byte

// IsZero reports whether m is the zero address: no address.
func (m MAC) IsZero() bool { return m == MAC{} }

// String formats m as six lower-case hex bytes separated by colons.
func (m MAC) String() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 17)
	for i, c := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[c>>4], hex[c&0xf])
	}
	return string(b)
}

var errMACForm = errors.New("want six hex bytes separated by colons, such as 52:54:00:12:34:56")

// ParseMAC parses a NIC's address written as six two-digit hex bytes
// separated by colons (either case). The zero address and group
// (multicast, broadcast) addresses are refused: no NIC has them as its own.
func ParseMAC(s string) (MAC, error) {
	var m MAC
	if len(s) != 17 {
		return m, errMACForm
	}
	for i := range m {
		if i > 0 && s[3*i-1] != ':' {
			return m, errMACForm
		}
		hi, ok1 := unhex(s[3*i])
		lo, ok2 := unhex(s[3*i+1])
		if !ok1 || !ok2 {
			return m, errMACForm
		}
		m[i] = hi<<4 | lo
	}
	switch {
	case m.IsZero():
		return m, errors.New("the zero address is no NIC's")
	case m[0]&1 != 0:
		return m, errors.New("a group (multicast) address is no NIC's own")
	}
	return m, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
