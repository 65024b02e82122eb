package netsetup

import (
	"errors"
	"fmt"
	"strings"
)

// maxNameLen is the longest interface name: IFNAMSIZ (16) minus the NUL.
const maxNameLen = 15

// ErrInvalidName is wrapped by the errors of ValidateLinkName, and so of every
// operation given a bad interface name.
var ErrInvalidName = errors.New("invalid interface name")

// ValidateLinkName reports whether name is an interface name the kernel
// accepts, so that a bad name fails with a clear error before any request
// is sent. It mirrors dev_valid_name in net/core/dev.c: 1 to 15 bytes, not
// "." or "..", no '/', ':', NUL or whitespace (the kernel's isspace, which
// also counts byte 0xa0). It also rejects '%': the kernel would treat the
// name as a template such as "wg%d" and pick a name of its own.
func ValidateLinkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case len(name) > maxNameLen:
		return fmt.Errorf("%w %q: %d bytes, at most %d", ErrInvalidName, name, len(name), maxNameLen)
	case name == "." || name == "..":
		return fmt.Errorf("%w %q", ErrInvalidName, name)
	}
	if i := strings.IndexFunc(name, badNameRune); i >= 0 {
		return fmt.Errorf("%w %q: character %q not allowed", ErrInvalidName, name, name[i])
	}
	// The kernel works on bytes: a UTF-8 sequence containing 0xa0 (such as
	// U+00A0 itself, c2 a0) is rejected by its isspace too.
	if i := strings.IndexByte(name, 0xa0); i >= 0 {
		return fmt.Errorf("%w %q: byte 0xa0 not allowed", ErrInvalidName, name)
	}
	return nil
}

// badNameRune reports the characters dev_valid_name rejects, and '%'.
func badNameRune(r rune) bool {
	switch r {
	case '/', ':', '%', 0, ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}
