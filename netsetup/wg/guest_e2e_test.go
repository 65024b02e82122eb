//go:build linux

package wg

import (
	"testing"
	"time"

	"github.com/wgboot/wgboot/image/imagetest"
)

// TestE2EGuest cross-compiles this package's tests for each guest
// architecture, boots them under QEMU with the wireguard module loaded
// (image/testinit) and runs the TestGuest* tests against the real kernel.
// It skips without QEMU or test kernels (`make kernels`) and in -short mode.
func TestE2EGuest(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			imagetest.RunGuestTest(t, imagetest.GuestTest{
				Arch:    arch,
				Package: "./netsetup/wg",
				Run:     "^TestGuest",
				Modules: []string{"wireguard"},
				Timeout: 10 * time.Minute,
			})
			t.Logf("%s: guest tests passed in %v", arch, time.Since(start).Round(time.Second))
		})
	}
}
