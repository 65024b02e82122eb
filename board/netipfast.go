package board

import "net/netip"

// The parsers below read the one spelling of an IPv4 prefix or endpoint,
// or an IPv6 prefix, that a hub's profile has for each of thousands of
// peers (10.0.0.2/32, 192.0.2.1:51820, fd00::2/128) in a fraction of
// net/netip's instructions. Each accepts
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
	if a, rest, ok := cutIPv6(s); ok && len(rest) > 1 && rest[0] == '/' {
		if bits, ok := decimal(rest[1:], 128); ok {
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
		// The digits one by one, unrolled: a field is one to three of
		// them, and a leading 0 is the whole field.
		if i >= len(s) || s[i]-'0' > 9 {
			return netip.Addr{}, "", false
		}
		v := uint(s[i] - '0')
		i++
		if v != 0 && i < len(s) && s[i]-'0' <= 9 {
			v = v*10 + uint(s[i]-'0')
			i++
			if i < len(s) && s[i]-'0' <= 9 {
				v = v*10 + uint(s[i]-'0')
				i++
			}
		}
		if v > 255 || i < len(s) && s[i]-'0' <= 9 {
			return netip.Addr{}, "", false
		}
		b[f] = byte(v)
	}
	return netip.AddrFrom4(b), s[i:], true
}

// cutIPv6 reads an IPv6 address at the start of s, written as up to eight
// groups of one to four hex digits with at most one "::" that stands for
// at least one group of zeros; an embedded IPv4 address or a zone is left
// to net/netip (false).
func cutIPv6(s string) (a netip.Addr, rest string, ok bool) {
	var ip [16]byte
	ellipsis := -1 // where "::" is, in bytes of ip
	i, n := 0, 0   // in s; bytes of ip filled
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis, i = 0, 2
	}
	for n < 16 && !(ellipsis == n && (i == len(s) || s[i] == '/')) {
		start, v := i, uint(0)
		for i < len(s) && i-start < 4 {
			d := hexDigit(s[i])
			if d > 15 {
				break
			}
			v = v<<4 | d
			i++
		}
		if i == start || i < len(s) && (hexDigit(s[i]) <= 15 || s[i] == '.' || s[i] == '%') {
			return netip.Addr{}, "", false
		}
		ip[n], ip[n+1] = byte(v>>8), byte(v)
		n += 2
		if n == 16 || i == len(s) || s[i] != ':' {
			break
		}
		i++
		if i < len(s) && s[i] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, "", false
			}
			ellipsis = n
			i++
		}
	}
	switch {
	case n < 16 && ellipsis < 0, n == 16 && ellipsis >= 0:
		return netip.Addr{}, "", false
	case n < 16:
		k := 16 - n
		copy(ip[ellipsis+k:], ip[ellipsis:n])
		clear(ip[ellipsis : ellipsis+k])
	}
	return netip.AddrFrom16(ip), s[i:], true
}

// hexDigit is the value of hex digit c, or more than 15.
func hexDigit(c byte) uint {
	switch {
	case c-'0' <= 9:
		return uint(c - '0')
	case c-'a' <= 5:
		return uint(c-'a') + 10
	case c-'A' <= 5:
		return uint(c-'A') + 10
	}
	return 16
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
