package netsetup

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestFixedHeaderLayout pins the hand-encoded fixed headers to the sizes
// and field offsets of the structs golang.org/x/sys/unix generates from the
// kernel's headers, and fib_rule_hdr (which unix lacks) to its C size.
func TestFixedHeaderLayout(t *testing.T) {
	sizes := []struct {
		name      string
		got, want int
	}{
		{"ifinfomsg", len(ifinfomsg(1, 2, 3)), unix.SizeofIfInfomsg},
		{"ifaddrmsg", len(ifaddrmsg(1, 2, 3, 4, 5)), unix.SizeofIfAddrmsg},
		{"rtmsg", len(rtmsg(1, 2, 3, 4, 5, 6)), unix.SizeofRtMsg},
		{"fib_rule_hdr", len(fibRuleHdr(1, 2, 3, 4)), sizeofFibRuleHdr},
		{"sizeofFibRuleHdr", sizeofFibRuleHdr, 12},
	}
	for _, s := range sizes {
		if s.got != s.want {
			t.Errorf("%s: %d bytes, want %d", s.name, s.got, s.want)
		}
	}
	offsets := []struct {
		name      string
		got, want uintptr
	}{
		{"IfInfomsg.Type", unsafe.Offsetof(unix.IfInfomsg{}.Type), 2},
		{"IfInfomsg.Index", unsafe.Offsetof(unix.IfInfomsg{}.Index), 4},
		{"IfInfomsg.Flags", unsafe.Offsetof(unix.IfInfomsg{}.Flags), 8},
		{"IfInfomsg.Change", unsafe.Offsetof(unix.IfInfomsg{}.Change), 12},
		{"IfAddrmsg.Scope", unsafe.Offsetof(unix.IfAddrmsg{}.Scope), 3},
		{"IfAddrmsg.Index", unsafe.Offsetof(unix.IfAddrmsg{}.Index), 4},
		{"RtMsg.Table", unsafe.Offsetof(unix.RtMsg{}.Table), 4},
		{"RtMsg.Type", unsafe.Offsetof(unix.RtMsg{}.Type), 7},
		{"RtMsg.Flags", unsafe.Offsetof(unix.RtMsg{}.Flags), 8},
	}
	for _, o := range offsets {
		if o.got != o.want {
			t.Errorf("offset of %s = %d, our encoding assumes %d", o.name, o.got, o.want)
		}
	}
}
