// Package krule holds the rules the Linux kernel applies to what wgboot
// hands it: interface names, MTUs, module and parameter names, log levels
// and the command line. Each rule is written once, here, so that `wgboot
// check` on a build host and the boot on the device accept exactly the same
// input.
package krule

import (
	"errors"
	"fmt"
	"strings"
)

// IfNameMax is the longest interface name the kernel takes: IFNAMSIZ (16)
// minus the terminating NUL.
const IfNameMax = 15

// ErrIfName is wrapped by every error of [CheckIfName].
var ErrIfName = errors.New("invalid interface name")

// IfNameError says why a name is not an interface name wgboot uses.
type IfNameError struct {
	Name   string
	Reason string // "18 bytes; at most 15", "'%' ...", ...
}

func (e *IfNameError) Error() string {
	if e.Name == "" {
		return ErrIfName.Error() + ": " + e.Reason
	}
	return fmt.Sprintf("%v %q: %s", ErrIfName, e.Name, e.Reason)
}

// Unwrap returns [ErrIfName].
func (e *IfNameError) Unwrap() error { return ErrIfName }

// CheckIfName reports whether name is an interface name wgboot uses: 1 to
// [IfNameMax] bytes of printable ASCII (0x21-0x7e) other than '/', ':' and
// '%', and not "." or "..". The error is an [*IfNameError].
//
// This is stricter than the kernel's dev_valid_name (net/core/dev.c), which
// takes any byte but NUL, '/', ':' and its isspace, on purpose:
//
//   - '%' makes the kernel choose the name itself ("wg%d" becomes "wg0"),
//     so the link would not be found under the name in the profile;
//   - the kernel's isspace counts byte 0xa0, which occurs inside UTF-8
//     sequences ("à" is c3 a0), so whether a non-ASCII name passes depends
//     on its encoding; control characters do not show in logs. Kernel-made
//     names (eth0, enp1s0, wlan0) are ASCII.
//
// Every name CheckIfName accepts, the kernel accepts and creates as given.
func CheckIfName(name string) error {
	switch {
	case name == "":
		return &IfNameError{name, "empty"}
	case len(name) > IfNameMax:
		return &IfNameError{name, fmt.Sprintf("%d bytes; interface names have at most %d", len(name), IfNameMax)}
	case name == "." || name == "..":
		return &IfNameError{name, `"." and ".." are not interface names`}
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '%':
			return &IfNameError{name, `'%' makes the kernel choose the name itself (wg%d becomes wg0)`}
		case c == '/' || c == ':':
			return &IfNameError{name, fmt.Sprintf("%q is not allowed in interface names", c)}
		case c == ' ':
			return &IfNameError{name, "interface names cannot contain spaces"}
		case c < ' ' || c == 0x7f:
			return &IfNameError{name, fmt.Sprintf("control character %q is not allowed in interface names", c)}
		case c > 0x7f:
			return &IfNameError{name, fmt.Sprintf("byte %#x: interface names are printable ASCII", c)}
		}
	}
	return nil
}

// MTU limits for an interface.
const (
	// IPv4MinMTU is the smallest MTU IPv4 allows (RFC 791), the kernel's
	// ETH_MIN_MTU and wgboot's lower bound for a tunnel's mtu.
	IPv4MinMTU = 68
	// IPv6MinMTU is the smallest MTU IPv6 allows (RFC 8200 section 5,
	// IPV6_MIN_MTU in include/linux/ipv6.h): below it the kernel takes IPv6
	// and its addresses off the interface.
	IPv6MinMTU = 1280
	// MaxMTU is wgboot's upper bound for a tunnel's mtu; the kernel's
	// IFLA_MTU is 32 bits, but no link carries a packet over 65535 bytes.
	MaxMTU = 65535
)

// CarriesIPv6 reports whether an interface with this MTU can carry IPv6.
func CarriesIPv6(mtu int) bool { return mtu >= IPv6MinMTU }

// FoldName returns a module or module parameter name in the kernel's
// canonical form: the kernel treats '-' and '_' alike in both (parameqn in
// kernel/params.c; module names are stored with '_'), so "virtio-net" is
// "virtio_net".
func FoldName(s string) string {
	if strings.IndexByte(s, '-') < 0 {
		return s
	}
	return strings.ReplaceAll(s, "-", "_")
}

// Syslog levels of kernel log records (KERN_ERR ... KERN_DEBUG), as written
// in "<N>" before a record sent to /dev/kmsg.
const (
	LogErr     = 3
	LogWarning = 4
	LogInfo    = 6
	LogDebug   = 7
)
