package cli

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reads the values of a wg-quick file the way the programs that
// read them at `wg-quick up` do: wg(8) for its own keys (wireguard-tools
// src/config.c), ip(8) for Address, MTU and Table (iproute2 lib/utils.c,
// lib/rt_names.c), and getaddrinfo(3) for the parts of an endpoint (glibc).
// Each parser returns the value those programs would use and whether the
// spelling was the plain one, so that a surprising reading (an octal MTU)
// is converted as the reference converts it, with a warning, rather than
// as a person might read it.

// isBlank is wg(8)'s char_is_space (src/ctype.h): the six ASCII blanks
// that config_read_line deletes from every line, wherever they are. A
// no-break space is not among them.
func isBlank(c byte) bool {
	return c == ' ' || c >= '\t' && c <= '\r'
}

// deleteBlanks returns s without any byte wg(8) counts as a blank.
func deleteBlanks(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r < utf8.RuneSelf && isBlank(byte(r)) }) < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if !isBlank(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// trimBlanks trims what wg-quick trims around keys and values: [[:space:]]
// in the C locale, the same six bytes.
func trimBlanks(s string) string {
	for len(s) > 0 && isBlank(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isBlank(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// unicodeSpace returns the first white space character in s that is not
// ASCII (a no-break space pasted from a web page, a zero-width space), or
// 0. Neither wg(8) nor wg-quick treats one as a blank: it stays in the
// value and the value is then wrong.
func unicodeSpace(s string) rune {
	for _, r := range s {
		if r >= utf8.RuneSelf && (unicode.IsSpace(r) || r == '\u200b' || r == '\u2060' || r == '\ufeff') {
			return r
		}
	}
	return 0
}

// spaceName names a white space character for a message.
func spaceName(r rune) string {
	switch r {
	case '\u00a0':
		return "no-break space (U+00A0)"
	case '\u200b':
		return "zero-width space (U+200B)"
	case '\ufeff':
		return "byte order mark (U+FEFF)"
	}
	return fmt.Sprintf("white space character U+%04X", r)
}

// strtoul is C's strtoul(s, &end, base) on a 64-bit system, requiring end
// to reach the end of s: base 0 reads 0x/0X as hex and a leading 0 as
// octal; base 16 allows a 0x/0X prefix; a leading + or - is taken ("-" is
// negation modulo 2^64, as in C). overflow reports ERANGE, for which C
// returns ULONG_MAX. The leading white space C skips never reaches here.
func strtoul(s string, base int) (n uint64, overflow, ok bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if (base == 0 || base == 16) && len(s) > 2 && s[0] == '0' && s[1]|0x20 == 'x' && hexDigit(s[2]) >= 0 {
		base, s = 16, s[2:]
	} else if base == 0 {
		base = 10
		if len(s) > 1 && s[0] == '0' {
			base = 8
		}
	}
	if s == "" {
		return 0, false, false
	}
	for i := 0; i < len(s); i++ {
		d := hexDigit(s[i])
		if d < 0 || d >= base {
			return 0, false, false
		}
		hi, lo := bits.Mul64(n, uint64(base))
		lo, carry := bits.Add64(lo, uint64(d), 0)
		if hi != 0 || carry != 0 {
			overflow = true
		}
		n = lo
	}
	if overflow {
		return math.MaxUint64, true, true
	}
	if neg {
		n = -n
	}
	return n, false, true
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return int(c|0x20-'a') + 10
	}
	return -1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// plainDecimal reports whether s is written the way a person reads it: an
// unsigned decimal number without leading zeros.
func plainDecimal(s string) bool {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// ipUnsigned is iproute2's get_unsigned(val, s, 0): strtoul in base 0,
// all of s, at most UINT_MAX. ip(8) reads MTU and table numbers so.
func ipUnsigned(s string) (uint32, bool) {
	n, overflow, ok := strtoul(s, 0)
	if !ok || overflow || n > math.MaxUint32 {
		return 0, false
	}
	return uint32(n), true
}

// ipv4Parts is iproute2's get_addr_ipv4 (lib/utils.c): up to four
// dot-separated parts, each strtoul in base 0 and at most 255; missing
// trailing parts are zero, so ip(8) reads 10.1 as 10.1.0.0, and 010.0.0.1
// as 8.0.0.1.
func ipv4Parts(s string) (netip.Addr, bool) {
	var a [4]byte
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	for i, p := range parts {
		n, overflow, ok := strtoul(p, 0)
		if !ok || overflow || n > 255 {
			return netip.Addr{}, false
		}
		a[i] = byte(n)
	}
	return netip.AddrFrom4(a), true
}

// ipPrefix reads one word of wg-quick's Address as `ip address add WORD`
// does (iproute2 get_prefix_1 and get_netmask): the address as above or,
// with a ':', as inet_pton(3) reads IPv6; the length after '/' as
// get_unsigned in base 0, else as a dotted netmask (255.255.255.0 → 24);
// no length is a host prefix. plain is false when ip's reading differs
// from the spelling's face value.
func ipPrefix(word string) (pfx netip.Prefix, plain bool, ok bool) {
	addrPart, lenPart, slash := strings.Cut(word, "/")
	var a netip.Addr
	if strings.Contains(addrPart, ":") {
		var err error
		if a, err = netip.ParseAddr(addrPart); err != nil || a.Zone() != "" || !a.Is6() {
			return netip.Prefix{}, false, false
		}
		plain = true
	} else {
		if a, ok = ipv4Parts(addrPart); !ok {
			return netip.Prefix{}, false, false
		}
		std, err := netip.ParseAddr(addrPart)
		plain = err == nil && std == a
	}
	if !slash {
		return netip.PrefixFrom(a, a.BitLen()), plain, true
	}
	if n, ok := ipUnsigned(lenPart); ok {
		if int(n) > a.BitLen() {
			return netip.Prefix{}, false, false
		}
		return netip.PrefixFrom(a, int(n)), plain && plainDecimal(lenPart), true
	}
	m, ok := ipv4Parts(lenPart)
	if !ok {
		return netip.Prefix{}, false, false
	}
	b := m.As4()
	mask := binary.BigEndian.Uint32(b[:])
	ones := bits.LeadingZeros32(^mask)
	if mask<<ones != 0 || ones > a.BitLen() {
		return netip.Prefix{}, false, false // not contiguous (ip's mask2bits refuses it)
	}
	return netip.PrefixFrom(a, ones), false, true
}

// inetAton is glibc's __inet_aton_exact, which getaddrinfo(3) uses for a
// numeric IPv4 host: one to four parts, each read by strtoul in base 0,
// the last filling the remaining bytes, so that 127.1 is 127.0.0.1 and
// 2130706433 is too.
func inetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v [4]uint64
	for i, p := range parts {
		if p == "" || !isDigit(p[0]) {
			return netip.Addr{}, false
		}
		n, overflow, ok := strtoul(p, 0)
		if !ok || overflow || n > math.MaxUint32 {
			return netip.Addr{}, false
		}
		v[i] = n
	}
	last := len(parts) - 1
	var a [4]byte
	for i := 0; i < last; i++ {
		if v[i] > 255 {
			return netip.Addr{}, false
		}
		a[i] = byte(v[i])
	}
	rest := 4 - last // bytes the last part fills
	if rest < 4 && v[last] >= 1<<(8*rest) {
		return netip.Addr{}, false
	}
	for i := 3; i >= last; i-- {
		a[i] = byte(v[last])
		v[last] >>= 8
	}
	return netip.AddrFrom4(a), true
}

// allowedIP reads one entry of AllowedIPs as wg(8)'s parse_allowedips does
// (src/config.c): an address that inet_pton(3) accepts (IPv6 if it has a
// ':'), then optionally '/' and a decimal length that starts with a digit
// and is at most 32 or 128. Leading zeros in the length are fine (strtoul
// in base 10); a zone, a sign or a netmask are not.
func allowedIP(s string) (netip.Prefix, bool) {
	addrPart, lenPart, slash := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addrPart)
	if err != nil || a.Zone() != "" || strings.Contains(addrPart, ":") != a.Is6() {
		return netip.Prefix{}, false
	}
	if !slash {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	if lenPart == "" || !isDigit(lenPart[0]) {
		return netip.Prefix{}, false
	}
	n, overflow, ok := strtoul(lenPart, 10)
	if !ok || overflow || n > uint64(a.BitLen()) {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, int(n)), true
}

// wgNumber reads PersistentKeepalive (base 10) or FwMark (base 16 after a
// lowercase "0x", else 10) as src/config.c does: "off" in any case is 0,
// otherwise the first character must be a digit and strtoul must take all
// of the value. A capital 0X is therefore not hex but an error.
func wgNumber(s string, hexOK bool, limit uint64) (uint64, bool) {
	if strings.EqualFold(s, "off") {
		return 0, true
	}
	if s == "" || !isDigit(s[0]) {
		return 0, false
	}
	base := 10
	if hexOK && len(s) > 2 && s[0] == '0' && s[1] == 'x' {
		base = 16
	}
	n, overflow, ok := strtoul(s, base)
	if !ok || overflow || n > limit {
		return 0, false
	}
	return n, true
}

// servicePort reads a port the way getaddrinfo(3) reads its service
// argument, which is how wg(8) reads ListenPort and an endpoint's port:
// strtoul in base 10 over the whole string makes a number, and glibc keeps
// its low 16 bits (wg reads ListenPort = 123456 as 57920); anything else
// is a service name from /etc/services.
type servicePort struct {
	port    uint16
	numeric bool   // a number, not a service name
	wraps   bool   // a number above 65535, which glibc cuts to port
	plain   bool   // written as a plain decimal number
	text    string // as written
}

func readService(s string) servicePort {
	sp := servicePort{text: s}
	if s == "" || s[0] == '-' {
		return sp
	}
	n, overflow, ok := strtoul(s, 10)
	if !ok {
		return sp
	}
	sp.numeric = true
	// glibc stores the number in an int; from 2^31 on it is negative and
	// is looked up as a name instead, which fails.
	if overflow || n > math.MaxInt32 {
		sp.numeric = false
		return sp
	}
	sp.port = uint16(n)
	sp.wraps = n > math.MaxUint16
	sp.plain = s[0] != '+'
	return sp
}

// endpointSyntax splits Endpoint as wg(8)'s parse_endpoint does: "[host]:port",
// or else at the last ':' — so an unbracketed IPv6 address with a port,
// 2001:db8::1:51820, is host 2001:db8::1 and port 51820.
func endpointSyntax(v string) (host, port string, err string) {
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return "", "", "has no ']' to match its '['"
		}
		host, rest := v[1:end], v[end+1:]
		if !strings.HasPrefix(rest, ":") || len(rest) == 1 {
			return "", "", "has no port after the ']'; write [address]:port"
		}
		return host, rest[1:], ""
	}
	i := strings.LastIndexByte(v, ':')
	if i < 0 || i == len(v)-1 {
		return "", "", "has no port; write address:port"
	}
	return v[:i], v[i+1:], ""
}

// hostKind is what getaddrinfo(3) makes of an endpoint's host.
type hostKind int

const (
	hostInvalid hostKind = iota // neither an address nor a name
	hostIP                      // a numeric address
	hostZoned                   // an IPv6 address with a %zone (scope)
	hostName                    // a name to resolve
)

// endpointHost classifies the host part of an endpoint the way
// getaddrinfo(3) reads it: inet_aton's forms for IPv4, inet_pton for IPv6
// (with an optional %scope), and anything else is a name to look up.
// plain is false when the address is an IPv4 form other than a dotted
// quad.
func endpointHost(host string) (a netip.Addr, kind hostKind, plain bool) {
	if strings.Contains(host, ":") {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() {
			return netip.Addr{}, hostInvalid, false
		}
		if ip.Zone() != "" {
			return ip, hostZoned, false
		}
		return ip, hostIP, true
	}
	if ip, ok := inetAton(host); ok {
		std, err := netip.ParseAddr(host)
		return ip, hostIP, err == nil && std == ip
	}
	if isHostName(host) {
		return netip.Addr{}, hostName, false
	}
	return netip.Addr{}, hostInvalid, false
}

// isHostName reports whether s could be a DNS name or an /etc/hosts entry:
// letters, digits, '-', '_' and '.', with a letter somewhere (1.2.3.256 is
// a bad address, not a name).
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c|0x20 >= 'a' && c|0x20 <= 'z':
			letter = true
		case isDigit(c) || c == '-' || c == '_' || c == '.':
		default:
			return false
		}
	}
	return letter
}
