package blkid

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wgboot/wgboot/image"
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
		want Superblock
	}{
		{image.FileSystem{Type: "ext4", Label: "wgboot", UUID: "3e6be9de-8139-11d1-9106-a43f08d823a6", SizeMB: 8}, "mke2fs",
			Superblock{Type: "ext4", UUID: "3e6be9de-8139-11d1-9106-a43f08d823a6", Label: "wgboot"}},
		{image.FileSystem{Type: "ext4", SizeMB: 8, UUID: "11111111-2222-3333-4444-555555555555"}, "mke2fs",
			Superblock{Type: "ext4", UUID: "11111111-2222-3333-4444-555555555555"}},
		{image.FileSystem{Type: "vfat", Label: "WGBOOT", UUID: "4a2b11c0", SizeMB: 8}, "mkfs.vfat",
			Superblock{Type: "vfat", UUID: "4A2B-11C0", Label: "WGBOOT"}},
		{image.FileSystem{Type: "vfat", UUID: "0000abcd", SizeMB: 40}, "mkfs.vfat", // FAT32 at this size
			Superblock{Type: "vfat", UUID: "0000-ABCD"}},
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
			got, err := ReadSuperblock(f)
			if err != nil || got != c.want {
				t.Errorf("ReadSuperblock() = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

// TestReadSuperblockSynthetic covers the formats without a mkfs on the
// build host (btrfs, xfs, squashfs), an ext2 and ext3, and data that is
// none of them.
func TestReadSuperblockSynthetic(t *testing.T) {
	uuid := []byte{0x3e, 0x6b, 0xe9, 0xde, 0x81, 0x39, 0x11, 0xd1, 0x91, 0x06, 0xa4, 0x3f, 0x08, 0xd8, 0x23, 0xa6}
	const uuidText = "3e6be9de-8139-11d1-9106-a43f08d823a6"
	ext := func(compat, incompat uint32) []byte {
		b := make([]byte, probeSize)
		sb := b[1024:]
		binary.LittleEndian.PutUint16(sb[0x38:], 0xef53)
		binary.LittleEndian.PutUint32(sb[0x5c:], compat)
		binary.LittleEndian.PutUint32(sb[0x60:], incompat)
		copy(sb[0x68:], uuid)
		copy(sb[0x78:], "root")
		return b
	}
	btrfs := make([]byte, probeSize)
	copy(btrfs[0x10000+0x40:], "_BHRfS_M")
	copy(btrfs[0x10000+0x20:], uuid)
	copy(btrfs[0x10000+0x12b:], "data")
	xfs := make([]byte, probeSize)
	copy(xfs, "XFSB")
	copy(xfs[32:], uuid)
	copy(xfs[108:], "xroot")
	squash := make([]byte, 8192)
	copy(squash, "hsqs")
	mbr := make([]byte, 8192)
	mbr[510], mbr[511] = 0x55, 0xaa
	mbr[0x0b] = 0x33 // boot code, not a BPB
	for _, c := range []struct {
		name string
		data []byte
		want Superblock
		err  error
	}{
		{"ext2", ext(0, 0), Superblock{"ext2", uuidText, "root"}, nil},
		{"ext3", ext(4, 0), Superblock{"ext3", uuidText, "root"}, nil},
		{"ext4", ext(4, 0x40), Superblock{"ext4", uuidText, "root"}, nil},
		{"btrfs", btrfs, Superblock{"btrfs", uuidText, "data"}, nil},
		{"xfs", xfs, Superblock{"xfs", uuidText, "xroot"}, nil},
		{"squashfs", squash, Superblock{Type: "squashfs"}, nil},
		{"mbr", mbr, Superblock{}, ErrUnknownFS},
		{"zeros", make([]byte, probeSize), Superblock{}, ErrUnknownFS},
		{"short", make([]byte, 100), Superblock{}, ErrUnknownFS},
	} {
		got, err := ReadSuperblock(bytes.NewReader(c.data))
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("%s: ReadSuperblock() = %+v, %v; want %+v, %v", c.name, got, err, c.want, c.err)
		}
	}
}
