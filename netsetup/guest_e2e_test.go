//go:build linux

package netsetup

import (
	"os"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image/imagetest"
)

// TestE2EGuestRoutes boots this package's tests in a QEMU guest of each
// architecture with -icount shift=0,sleep=off and runs TestGuestRoutes:
// 10,000 routes before and after batching, in instructions. It is a
// measurement, minutes long, so it runs only with WGBOOT_GUEST_BENCH=1
// (and, like every QEMU test, under the lock):
//
//	WGBOOT_GUEST_BENCH=1 flock /work/qemu.lock go test ./netsetup -run E2EGuestRoutes -v
func TestE2EGuestRoutes(t *testing.T) {
	if os.Getenv("WGBOOT_GUEST_BENCH") != "1" {
		t.Skip("a measurement: set WGBOOT_GUEST_BENCH=1")
	}
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			start := time.Now()
			imagetest.RunGuestTest(t, imagetest.GuestTest{
				Arch:    arch,
				Package: "./netsetup",
				Run:     "^TestGuestRoutes$",
				Modules: []string{"wireguard"},
				Timeout: 30 * time.Minute,
				Icount:  true,
			})
			t.Logf("%s: guest run took %v", arch, time.Since(start).Round(time.Second))
		})
	}
}
