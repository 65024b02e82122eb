package image_test

import (
	"os"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
)

// TestE2EBoot boots the minimal image on each arch: init mounts, loads the
// wireguard module closure, creates and raises a wireguard link, prints the
// READY marker with its timings and powers off.
func TestE2EBoot(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			k := imagetest.FindKernel(t, arch)
			initBin, err := os.ReadFile(imagetest.BuildInit(t, arch))
			if err != nil {
				t.Fatal(err)
			}
			initrd := imagetest.BuildImage(t, image.Spec{
				Init:       initBin,
				ModulesDir: k.Modules,
				Modules:    []string{"wireguard"},
				Compress:   "xz",
			})
			vm := imagetest.Boot(t, "guest", image.Config{
				Arch: arch, Kernel: k.Image, Initrd: initrd,
				Append: []string{"wgboot.test=poweroff"},
			})
			imagetest.Expect(t, vm, `wgboot: modules: loaded \d+ in .* wireguard`, 2*time.Minute)
			imagetest.Expect(t, vm, `wgboot: tunnel: wg0 is up`, time.Minute)
			line := imagetest.Expect(t, vm, `wgboot: READY in `, time.Minute)
			t.Logf("%s: %s", arch, line)
			if err := vm.Wait(time.Minute); err != nil {
				t.Errorf("guest did not power off cleanly: %v", err)
			}
		})
	}
}
