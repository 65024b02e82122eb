package blkid

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

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

func TestGPTName(t *testing.T) {
	enc := func(units ...uint16) []byte {
		b := make([]byte, 72)
		for i, u := range units {
			binary.LittleEndian.PutUint16(b[2*i:], u)
		}
		return b
	}
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{enc('r', 'o', 'o', 't'), "root"},
		{enc(), ""},
		{enc('a', 0x01, 'b'), "a!b"},
		{enc('a', 0x141), "aA"}, // the kernel keeps the low byte
		{enc('a', 0, 'b'), "a"},
	} {
		if got := gptName(c.in); got != c.want {
			t.Errorf("gptName(%v) = %q, want %q", c.in[:8], got, c.want)
		}
	}
}
