package blkid_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/internal/blkid"
)

// needTool skips t when a host tool is missing, or fails it when
// WGBOOT_E2E=required (make test, CI), which installs them.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("WGBOOT_E2E") == "required" {
			t.Fatalf("WGBOOT_E2E=required but %s is not installed", name)
		}
		t.Skipf("%s not installed", name)
	}
}

// TestReadSuperblockMkfs reads images made by the real mkfs tools, so that
// the offsets are those of the formats and not only of this package's own
// idea of them.
func TestReadSuperblockMkfs(t *testing.T) {
	cases := []struct {
		fs   image.FileSystem
		tool string
		want blkid.Superblock
	}{
		{image.FileSystem{Type: "ext4", Label: "wgboot", UUID: "3e6be9de-8139-11d1-9106-a43f08d823a6", SizeMB: 8}, "mke2fs",
			blkid.Superblock{Type: "ext4", UUID: "3e6be9de-8139-11d1-9106-a43f08d823a6", Label: "wgboot"}},
		{image.FileSystem{Type: "ext4", SizeMB: 8, UUID: "11111111-2222-3333-4444-555555555555"}, "mke2fs",
			blkid.Superblock{Type: "ext4", UUID: "11111111-2222-3333-4444-555555555555"}},
		{image.FileSystem{Type: "vfat", Label: "WGBOOT", UUID: "4a2b11c0", SizeMB: 8}, "mkfs.vfat",
			blkid.Superblock{Type: "vfat", UUID: "4A2B-11C0", Label: "WGBOOT"}},
		{image.FileSystem{Type: "vfat", UUID: "0000abcd", SizeMB: 40}, "mkfs.vfat", // FAT32 at this size
			blkid.Superblock{Type: "vfat", UUID: "0000-ABCD"}},
	}
	for _, c := range cases {
		t.Run(c.fs.Type+"-"+c.fs.Label, func(t *testing.T) {
			needTool(t, c.tool)
			out := filepath.Join(t.TempDir(), "fs.img")
			if err := c.fs.Write(out); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := blkid.ReadSuperblock(f)
			if err != nil || got != c.want {
				t.Errorf("blkid.ReadSuperblock() = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}
