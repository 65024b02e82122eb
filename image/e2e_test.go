package image_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// minimalProfile is the smallest useful profile: the default board, the
// wireguard module, one tunnel with a key and an address, no uplink, no
// peers, no handoff target.
const minimalProfile = `[board]
name = "default"
modules = ["wireguard"]

[[tunnel]]
name = "wg0"
private_key_file = "wg0.key"
address = ["10.77.0.9/24"]

[handoff]
root = ""
`

// TestE2EBoot boots the minimal image on each arch, compressed as make
// image compresses it, in 96 MB of RAM: init mounts, picks the default
// profile, loads the wireguard module closure, creates and raises
// the wireguard link, prints the READY marker with its timings and (test
// mode) powers off.
func TestE2EBoot(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			k := imagetest.FindKernel(t, arch)
			initBin, err := os.ReadFile(imagetest.BuildInit(t, arch))
			if err != nil {
				t.Fatal(err)
			}
			key, err := wgkey.GeneratePrivateKey()
			if err != nil {
				t.Fatal(err)
			}
			initrd := imagetest.BuildImage(t, image.Spec{
				Init:       initBin,
				ModulesDir: k.Modules,
				Modules:    []string{"wireguard"},
				Files: []image.File{
					{Path: image.ProfileDir + "/default.toml", Data: []byte(minimalProfile)},
					{Path: image.ProfileDir + "/wg0.key", Data: []byte(key.Reveal() + "\n"), Mode: 0o600},
				},
				Compress: "xz",
				XZ:       xzFor(arch, k.Modules),
			})
			// 96 MB: a small board's RAM, in which the kernel must also
			// find the xz dictionary to unpack the image with (preset 9's
			// 64 MiB did not fit: "System is deadlocked on memory").
			vm := imagetest.Boot(t, "guest", image.Config{
				Arch: arch, Kernel: k.Image, Initrd: initrd, MemoryMB: 96,
				Append: []string{"wgboot.test=poweroff"},
			})
			imagetest.Expect(t, vm, `wgboot: modules: loaded \d+ in .* wireguard`, 2*time.Minute)
			imagetest.Expect(t, vm, `wgboot: tunnel wg0: verified: public key `+regexpQuote(key.PublicKey().String()), time.Minute)
			line := imagetest.Expect(t, vm, `wgboot: READY in `, time.Minute)
			t.Logf("%s: %s", arch, line)
			if err := vm.Wait(time.Minute); err != nil {
				t.Errorf("guest did not power off cleanly: %v", err)
			}
			if strings.Contains(vm.Console(), key.Reveal()) {
				t.Error("the private key is on the console")
			}
		})
	}
}

// xzFor is make image's xz options for arch's kernel.
func xzFor(arch, modules string) image.XZ {
	x, _ := image.XZFor(arch, modules)
	return x
}

func regexpQuote(s string) string {
	return strings.NewReplacer("+", `\+`, "/", `\/`).Replace(s)
}
