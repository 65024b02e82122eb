package watchdog

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// iocSize is _IOC_SIZE(req): the size of the argument a request number
// declares, in bits 16 to 29 (include/uapi/asm-generic/ioctl.h, which both
// x86 and arm64 use).
func iocSize(req uint32) uintptr { return uintptr(req >> 16 & (1<<14 - 1)) }

// The same checks at compile time, so that `GOARCH=arm64 go vet` (make
// vet) fails on a layout that differs on arm64 without running anything
// there: a negative length or an index out of range does not compile.
var (
	_ = [1]struct{}{}[unsafe.Sizeof(unix.WatchdogInfo{})-(unix.WDIOC_GETSUPPORT>>16&(1<<14-1))]
	_ = [1]struct{}{}[(unix.WDIOC_GETSUPPORT>>16&(1<<14-1))-unsafe.Sizeof(unix.WatchdogInfo{})]
	_ = [1]struct{}{}[unsafe.Sizeof(int32(0))-(unix.WDIOC_SETTIMEOUT>>16&(1<<14-1))]
	_ = [1]struct{}{}[(unix.WDIOC_SETTIMEOUT>>16&(1<<14-1))-unsafe.Sizeof(int32(0))]
)

// TestLayout pins what this package passes to each watchdog ioctl to the
// kernel's uapi: the size each request number encodes, and struct
// watchdog_info's layout.
//
//	struct watchdog_info {
//		__u32 options;		/* Options the card/driver supports */
//		__u32 firmware_version;	/* Firmware version of the card */
//		__u8  identity[32];	/* Identity of the board */
//	};
//	#define WDIOC_GETSUPPORT	_IOR(WATCHDOG_IOCTL_BASE, 0, struct watchdog_info)
//	#define WDIOC_GETBOOTSTATUS	_IOR(WATCHDOG_IOCTL_BASE, 2, int)
//	#define WDIOC_SETTIMEOUT	_IOWR(WATCHDOG_IOCTL_BASE, 6, int)
//	#define WDIOC_GETTIMEOUT	_IOR(WATCHDOG_IOCTL_BASE, 7, int)
func TestLayout(t *testing.T) {
	var wi unix.WatchdogInfo
	var i32 int32 // what unix.IoctlSetPointerInt and IoctlGetUint32 pass
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(struct watchdog_info)", unsafe.Sizeof(wi), 40},
		{"offsetof(firmware_version)", unsafe.Offsetof(wi.Version), 4},
		{"offsetof(identity)", unsafe.Offsetof(wi.Identity), 8},
		{"_IOC_SIZE(WDIOC_GETSUPPORT)", iocSize(unix.WDIOC_GETSUPPORT), unsafe.Sizeof(wi)},
		{"_IOC_SIZE(WDIOC_GETBOOTSTATUS)", iocSize(unix.WDIOC_GETBOOTSTATUS), unsafe.Sizeof(i32)},
		{"_IOC_SIZE(WDIOC_SETTIMEOUT)", iocSize(unix.WDIOC_SETTIMEOUT), unsafe.Sizeof(i32)},
		{"_IOC_SIZE(WDIOC_GETTIMEOUT)", iocSize(unix.WDIOC_GETTIMEOUT), unsafe.Sizeof(i32)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}
