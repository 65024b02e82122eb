package randseed

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image/imagetest"
)

// TestE2EGuest runs the TestGuest* tests inside a QEMU guest of each
// architecture: RNDADDENTROPY against the real kernel, on both arches. It
// skips without QEMU or test kernels (`make kernels`).
func TestE2EGuest(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			imagetest.RunGuestTest(t, imagetest.GuestTest{
				Arch:    arch,
				Package: "./internal/randseed",
				Run:     "^TestGuest",
				Timeout: 3 * time.Minute,
			})
		})
	}
}

// TestGuestAddEntropy: the kernel takes a credited seed through
// RNDADDENTROPY, and its input pool then counts as full. (These guests'
// CRNG is seeded before init runs, by RDRAND or the device tree: the
// effect of a seed on a board without either is measured by the e2e tests
// on an amd64 CPU without RDRAND.)
func TestGuestAddEntropy(t *testing.T) {
	if os.Getenv("WGBOOT_IN_GUEST") != "1" {
		t.Skip("credits entropy to the kernel: runs inside QEMU via TestE2EGuest")
	}
	seed := make([]byte, Size)
	for i := range seed {
		seed[i] = byte(i * 37)
	}
	if err := addEntropy(seed); err != nil {
		t.Fatalf("addEntropy(%d bytes) = %v", len(seed), err)
	}
	b, err := os.ReadFile("/proc/sys/kernel/random/entropy_avail")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || n < 256 {
		t.Errorf("entropy_avail = %q after a 256-bit credit, want ≥ 256", b)
	}
	if err := addEntropy(make([]byte, maxSize+1)); err == nil {
		t.Errorf("addEntropy(%d bytes) succeeded", maxSize+1)
	}
}
