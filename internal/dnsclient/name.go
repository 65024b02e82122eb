package dnsclient

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadHost is the kind of error CheckHost returns.
var ErrBadHost = errors.New("not a host name")

// Limits of RFC 1035 §2.3.4: a name is at most 255 octets on the wire,
// which is 253 characters written with dots and without the root's.
const (
	maxHostLen  = 253
	maxLabelLen = 63
)

// CheckHost reports whether s is a host name that Lookup can ask for:
// labels of letters, digits, '-' and '_' (RFC 1123 §2.1, plus the
// underscore that real zones use), 1–63 characters each and not starting
// or ending with '-', at most 253 characters in all, one trailing dot
// allowed. The last label must not be all digits (RFC 1123 §2.1: a name
// never looks like a dotted-decimal address), so that a mistyped address
// such as 192.0.2.300 is an error, not a name. Names are absolute: there
// is no search list.
func CheckHost(s string) error {
	name := strings.TrimSuffix(s, ".")
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadHost)
	case len(name) > maxHostLen:
		return fmt.Errorf("%w: %d characters, at most %d", ErrBadHost, len(name), maxHostLen)
	}
	var last string
	for label := range strings.SplitSeq(name, ".") {
		if err := checkLabel(label); err != nil {
			return err
		}
		last = label
	}
	if strings.Trim(last, "0123456789") == "" {
		return fmt.Errorf("%w: the last label %q is a number; is this an IP address?", ErrBadHost, last)
	}
	return nil
}

func checkLabel(l string) error {
	switch {
	case l == "":
		return fmt.Errorf("%w: empty label", ErrBadHost)
	case len(l) > maxLabelLen:
		return fmt.Errorf("%w: label of %d characters, at most %d", ErrBadHost, len(l), maxLabelLen)
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Errorf("%w: label %q begins or ends with '-'", ErrBadHost, l)
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("%w: %q in label %q", ErrBadHost, c, l)
		}
	}
	return nil
}

// fqdn is s with the root's trailing dot.
func fqdn(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// sameName compares two names as the DNS does (RFC 4343): ASCII letters
// without regard to case, every other byte exactly.
func sameName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
