package watchdog

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/image/imagetest"
)

// TestE2EGuest runs the TestGuest* tests inside a QEMU guest of each
// architecture with the kernel's softdog module loaded: the ioctls against
// the real watchdog core, on both arches. It skips without QEMU or test
// kernels (`make kernels`).
func TestE2EGuest(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			imagetest.RunGuestTest(t, imagetest.GuestTest{
				Arch:    arch,
				Package: "./internal/watchdog",
				Run:     "^TestGuest",
				Modules: []string{"softdog"},
				Timeout: 3 * time.Minute,
			})
		})
	}
}

const guestDev = "/dev/watchdog0"

func inGuest(t *testing.T) {
	t.Helper()
	if os.Getenv("WGBOOT_IN_GUEST") != "1" {
		t.Skip("needs softdog in a throwaway kernel: runs inside QEMU via TestE2EGuest")
	}
}

// sysfs reads one attribute of watchdog0 (CONFIG_WATCHDOG_SYSFS).
func sysfs(t *testing.T, attr string) string {
	t.Helper()
	b, err := os.ReadFile("/sys/class/watchdog/watchdog0/" + attr)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestGuestSoftdog: the timeout asked is the one granted and the kernel
// sees it; a second opener is refused (so PID 1 must let go before the
// next stage can take over); Disarm stops the watchdog, Release leaves it
// running for the next opener.
func TestGuestSoftdog(t *testing.T) {
	inGuest(t)
	d, err := Open(guestDev, 7*time.Second)
	if err != nil {
		t.Fatalf("Open(%s, 7s) = %v", guestDev, err)
	}
	info := d.Info()
	if info.Identity != "Software Watchdog" || info.Timeout != 7*time.Second ||
		info.Options&unix.WDIOF_MAGICCLOSE == 0 || info.Options&unix.WDIOF_SETTIMEOUT == 0 {
		t.Errorf("Info() = %+v, want softdog's identity and options, timeout 7s", info)
	}
	if got := sysfs(t, "timeout"); got != "7" {
		t.Errorf("sysfs timeout = %s, want 7", got)
	}
	if got := sysfs(t, "state"); got != "active" {
		t.Errorf("after Open: state %s, want active", got)
	}
	if err := d.Keepalive(); err != nil {
		t.Errorf("Keepalive() = %v", err)
	}
	if _, err := Open(guestDev, 7*time.Second); !errors.Is(err, unix.EBUSY) {
		t.Errorf("second Open() = %v, want EBUSY", err)
	}
	if err := d.Disarm(); err != nil {
		t.Errorf("Disarm() = %v", err)
	}
	if got := sysfs(t, "state"); got != "inactive" {
		t.Errorf("after Disarm: state %s, want inactive", got)
	}
	if err := d.Keepalive(); !errors.Is(err, ErrClosed) {
		t.Errorf("Keepalive() after Disarm = %v, want ErrClosed", err)
	}

	d, err = Open(guestDev, 120*time.Second)
	if err != nil {
		t.Fatalf("Open(120s) = %v", err)
	}
	if err := d.Release(); err != nil {
		t.Errorf("Release() = %v", err)
	}
	if got := sysfs(t, "state"); got != "active" {
		t.Errorf("after Release: state %s, want active (armed for the next stage)", got)
	}
	// The next stage takes it over, and can stop it.
	next, err := Open(guestDev, 120*time.Second)
	if err != nil {
		t.Fatalf("the next stage's Open() = %v", err)
	}
	if err := next.Disarm(); err != nil || sysfs(t, "state") != "inactive" {
		t.Errorf("the next stage's Disarm() = %v, state %s", err, sysfs(t, "state"))
	}
}

// TestGuestTimeoutRefused: a timeout the driver refuses (softdog's range
// is 1 to 65535 s) or one that is not whole seconds is an error, and the
// device stays open and running with the driver's timeout.
func TestGuestTimeoutRefused(t *testing.T) {
	inGuest(t)
	for _, timeout := range []time.Duration{70000 * time.Second, 1500 * time.Millisecond} {
		d, err := Open(guestDev, timeout)
		if err == nil {
			t.Errorf("Open(%v) succeeded", timeout)
		}
		if d == nil {
			t.Fatalf("Open(%v) = nil device: %v", timeout, err)
		}
		if got := d.Info().Timeout; got < time.Second || got > 65535*time.Second {
			t.Errorf("Open(%v): timeout in effect %v", timeout, got)
		}
		if got := sysfs(t, "state"); got != "active" {
			t.Errorf("Open(%v): state %s, want active", timeout, got)
		}
		if err := d.Disarm(); err != nil {
			t.Errorf("Disarm() = %v", err)
		}
	}
}
