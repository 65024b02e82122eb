//go:build linux

package blkid_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
)

// The disk TestE2EGuest attaches and TestGuestFind looks at.
var guestParts = []struct {
	name, uuid string
	fs         image.FileSystem
}{
	{"wgboot", "6b3e58a2-1a4c-4f1e-9c39-0c8a1f0e2d11", image.FileSystem{Type: "ext4", Label: "wgboot", UUID: "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa", SizeMB: 4}},
	{"rootfs", "0fa4c36b-5b8a-4c2b-b3a8-4c2e5b7a9d02", image.FileSystem{Type: "ext4", Label: "root", UUID: "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb", SizeMB: 4}},
	{"config", "3c1f7a52-9d0e-4b6a-8f1c-2e5d7b9a0c13", image.FileSystem{Type: "vfat", Label: "WGVFAT", UUID: "4a2b11c0", SizeMB: 4}},
}

// TestE2EGuest finds the partitions of a real GPT disk (written by
// image.WriteGPTDisk, file systems by mke2fs and mkfs.vfat) under each
// guest architecture's kernel: Linux 6.1's sysfs, its partition scanner
// and its block devices, with the TestGuest* tests run inside the guest.
func TestE2EGuest(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			imagetest.FindKernel(t, arch)
			needTool(t, "mke2fs")
			needTool(t, "mkfs.vfat")
			// A disk per guest: QEMU locks its images.
			dir := t.TempDir()
			var parts []image.Partition
			for _, p := range guestParts {
				img := filepath.Join(dir, p.name+".img")
				if err := p.fs.Write(img); err != nil {
					t.Fatal(err)
				}
				parts = append(parts, image.Partition{Name: p.name, UUID: p.uuid, Image: img})
			}
			disk := filepath.Join(dir, "disk.img")
			if err := image.WriteGPTDisk(disk, parts); err != nil {
				t.Fatal(err)
			}
			imagetest.RunGuestTest(t, imagetest.GuestTest{
				Arch:    arch,
				Package: "./internal/blkid",
				Run:     "^TestGuest",
				Modules: []string{"virtio_pci", "virtio_blk", "vfat", "nls_cp437", "nls_ascii"},
				Disks:   []string{disk},
				Timeout: 5 * time.Minute,
			})
		})
	}
}
