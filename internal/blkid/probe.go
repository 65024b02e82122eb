package blkid

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Superblock is what a file system says of itself.
type Superblock struct {
	Type  string // ext2, ext3, ext4, vfat, btrfs, xfs, squashfs
	UUID  string // as blkid prints it: lower-case 8-4-4-4-12, or XXXX-XXXX (upper case) for vfat; "" if none
	Label string // "" if none
}

// ErrUnknownFS is returned by [ReadSuperblock] for data it does not know.
var ErrUnknownFS = errors.New("no known file system")

// probeSize is how much of a device ReadSuperblock reads: btrfs's
// superblock is the farthest, at 64 KiB.
const probeSize = 0x10000 + 0x1000

// ReadSuperblock reads the file system type, UUID and label of a device.
// Only the superblock is read, never the file system's tree.
func ReadSuperblock(r io.ReaderAt) (Superblock, error) {
	buf := make([]byte, probeSize)
	n, err := r.ReadAt(buf, 0)
	if n < 4096 {
		if err == nil || errors.Is(err, io.EOF) {
			err = ErrUnknownFS
		}
		return Superblock{}, err
	}
	buf = buf[:n]
	for _, probe := range []func([]byte) (Superblock, bool){probeExt, probeBtrfs, probeXFS, probeSquashfs, probeFAT} {
		if sb, ok := probe(buf); ok {
			return sb, nil
		}
	}
	return Superblock{}, ErrUnknownFS
}

// probeExt reads an ext2/3/4 superblock, 1024 bytes in (see the kernel's
// fs/ext4/ext4.h, struct ext4_super_block).
func probeExt(b []byte) (Superblock, bool) {
	const (
		off         = 1024
		magic       = 0xef53
		compatJrnl  = 0x4                         // EXT3_FEATURE_COMPAT_HAS_JOURNAL
		incompatExt = 0x40 | 0x80 | 0x200 | 0x400 // EXTENTS, 64BIT, FLEX_BG, MMP…
	)
	sb := b[off : off+1024]
	if binary.LittleEndian.Uint16(sb[0x38:]) != magic {
		return Superblock{}, false
	}
	t := "ext2"
	switch {
	case binary.LittleEndian.Uint32(sb[0x60:])&incompatExt != 0:
		t = "ext4"
	case binary.LittleEndian.Uint32(sb[0x5c:])&compatJrnl != 0:
		t = "ext3"
	}
	return Superblock{Type: t, UUID: guidBE(sb[0x68:0x78]), Label: cString(sb[0x78:0x88])}, true
}

// probeBtrfs reads a btrfs superblock, 64 KiB in (fs/btrfs/ctree.h).
func probeBtrfs(b []byte) (Superblock, bool) {
	const off = 0x10000
	if len(b) < off+0x1000 || string(b[off+0x40:off+0x48]) != "_BHRfS_M" {
		return Superblock{}, false
	}
	sb := b[off:]
	return Superblock{Type: "btrfs", UUID: guidBE(sb[0x20:0x30]), Label: cString(sb[0x12b : 0x12b+256])}, true
}

// probeXFS reads an xfs superblock at the start (fs/xfs/libxfs/xfs_format.h).
func probeXFS(b []byte) (Superblock, bool) {
	if string(b[:4]) != "XFSB" {
		return Superblock{}, false
	}
	return Superblock{Type: "xfs", UUID: guidBE(b[32:48]), Label: cString(b[108:120])}, true
}

// probeSquashfs knows squashfs, which has neither UUID nor label: name it
// by PARTUUID= or PARTLABEL=.
func probeSquashfs(b []byte) (Superblock, bool) {
	if string(b[:4]) != "hsqs" {
		return Superblock{}, false
	}
	return Superblock{Type: "squashfs"}, true
}

// probeFAT reads a FAT boot sector's BIOS parameter block. The sector
// signature 55 AA is also an MBR's, so the BPB is checked as well.
func probeFAT(b []byte) (Superblock, bool) {
	if b[510] != 0x55 || b[511] != 0xaa {
		return Superblock{}, false
	}
	bps := binary.LittleEndian.Uint16(b[0x0b:])
	spc := b[0x0d]
	if bps < 512 || bps > 4096 || bps&(bps-1) != 0 || spc == 0 || spc&(spc-1) != 0 ||
		binary.LittleEndian.Uint16(b[0x0e:]) == 0 || b[0x10] == 0 || b[0x10] > 2 {
		return Superblock{}, false
	}
	// FAT32 has its extended BPB at 0x40, FAT12/16 at 0x24.
	var ext []byte
	switch {
	case binary.LittleEndian.Uint16(b[0x16:]) == 0 && bytes.HasPrefix(b[0x52:], []byte("FAT")):
		ext = b[0x40:]
	case bytes.HasPrefix(b[0x36:], []byte("FAT")):
		ext = b[0x24:]
	default:
		return Superblock{}, false
	}
	sb := Superblock{Type: "vfat"}
	if ext[2] == 0x29 { // extended boot signature: serial and label follow
		id := binary.LittleEndian.Uint32(ext[3:])
		sb.UUID = fmt.Sprintf("%04X-%04X", id>>16, id&0xffff)
		if l := strings.TrimRight(string(ext[7:18]), " \x00"); l != "NO NAME" {
			sb.Label = l
		}
	}
	return sb, true
}

// guidBE formats 16 bytes in order as 8-4-4-4-12, as file system UUIDs are
// stored.
func guidBE(b []byte) string {
	var zero [16]byte
	if bytes.Equal(b, zero[:]) {
		return ""
	}
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// guidLE formats a GUID as UEFI stores it: its first three fields little
// endian.
func guidLE(b []byte) string {
	var be [16]byte
	copy(be[:], b)
	be[0], be[1], be[2], be[3] = b[3], b[2], b[1], b[0]
	be[4], be[5] = b[5], b[4]
	be[6], be[7] = b[7], b[6]
	return guidBE(be[:])
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
