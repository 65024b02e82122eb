package board

import "net/netip"

// The parsers below read the one spelling of an IPv4 prefix or endpoint
// that a hub's profile has for each of thousands of peers (10.0.0.2/32,
// 192.0.2.1:51820) in a fraction of net/netip's instructions. Each accepts
// a subset of what net/netip accepts, with the same result, and reports
// false for anything else, which net/netip then parses and words the error
// of as always.

// parsePrefix is netip.ParsePrefix.
func parsePrefix(s string) (netip.Prefix, error) {
	if a, rest, ok := cutIPv4(s); ok && len(rest) > 1 && rest[0] == '/' {
		if bits, ok := decimal(rest[1:], 32); ok {
			return netip.PrefixFrom(a, bits), nil
		}
	}
	return netip.ParsePrefix(s)
}

// parseAddrPort is netip.ParseAddrPort.
func parseAddrPort(s string) (netip.AddrPort, error) {
	if a, rest, ok := cutIPv4(s); ok && len(rest) > 1 && rest[0] == ':' {
		if port, ok := decimal(rest[1:], 65535); ok {
			return netip.AddrPortFrom(a, uint16(port)), nil
		}
	}
	return netip.ParseAddrPort(s)
}

// cutIPv4 reads a dotted-quad IPv4 address at the start of s: four fields
// of one to three digits, no leading zero, each at most 255.
func cutIPv4(s string) (a netip.Addr, rest string, ok bool) {
	var b [4]byte
	i := 0
	for f := range 4 {
		if f > 0 {
			if i >= len(s) || s[i] != '.' {
				return netip.Addr{}, "", false
			}
			i++
		}
		start, v := i, 0
		for i < len(s) && i-start < 3 && s[i] >= '0' && s[i] <= '9' {
			v = v*10 + int(s[i]-'0')
			i++
		}
		if i == start || v > 255 || s[start] == '0' && i-start > 1 || i < len(s) && s[i] >= '0' && s[i] <= '9' {
			return netip.Addr{}, "", false
		}
		b[f] = byte(v)
	}
	return netip.AddrFrom4(b), s[i:], true
}

// decimal reads all of s as a number from 0 to max without a sign or a
// leading zero.
func decimal(s string, max int) (int, bool) {
	if len(s) == 0 || len(s) > 5 || s[0] == '0' && len(s) > 1 {
		return 0, false
	}
	v := 0
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, v <= max
}
