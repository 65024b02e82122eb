package image

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
	"unicode/utf16"
)

// LinuxFSType is the GPT partition type GUID of a Linux file system.
const LinuxFSType = "0fc63daf-8483-4772-8e79-3d69d8477de4"

// Partition is one partition of a disk image written by [WriteGPTDisk].
type Partition struct {
	Name   string // GPT partition name (PARTLABEL=)
	Type   string // type GUID; LinuxFSType when ""
	UUID   string // unique partition GUID (PARTUUID=); random when ""
	Image  string // a file system image copied into the partition; "" for none
	SizeMB int    // at least the image's size, rounded up to MiB
}

// GPT geometry: 512-byte sectors, 128 entries of 128 bytes (32 sectors),
// partitions aligned to 1 MiB as sgdisk and parted do.
const (
	sectorSize   = 512
	gptEntries   = 128
	gptEntrySize = 128
	entrySectors = gptEntries * gptEntrySize / sectorSize
	alignSectors = 2048
)

// WriteGPTDisk writes a raw disk image at out with a protective MBR, a
// GUID partition table (primary and backup) and parts in order, 1 MiB
// aligned. It fills in the UUIDs it makes up. It is what the QEMU tests
// boot from in place of an sgdisk-made disk; the GPT it writes is checked
// against sfdisk's reading in the tests.
func WriteGPTDisk(out string, parts []Partition) error {
	lba := uint64(alignSectors)
	type placed struct {
		first, last uint64
	}
	pos := make([]placed, len(parts))
	for i := range parts {
		p := &parts[i]
		size := int64(p.SizeMB) << 20
		if p.Image != "" {
			st, err := os.Stat(p.Image)
			if err != nil {
				return err
			}
			size = max(size, (st.Size()+(1<<20)-1)&^((1<<20)-1))
		}
		if size <= 0 {
			return fmt.Errorf("partition %d (%s): no size", i+1, p.Name)
		}
		if p.Type == "" {
			p.Type = LinuxFSType
		}
		if p.UUID == "" {
			p.UUID = randomGUID()
		}
		n := uint64(size) / sectorSize
		pos[i] = placed{lba, lba + n - 1}
		lba += n
	}
	total := lba + alignSectors // room for the backup GPT, and a round size
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(int64(total) * sectorSize); err != nil {
		return err
	}
	entries := make([]byte, gptEntries*gptEntrySize)
	for i, p := range parts {
		e := entries[i*gptEntrySize:]
		if err := putGUID(e[0:16], p.Type); err != nil {
			return fmt.Errorf("partition %d type: %w", i+1, err)
		}
		if err := putGUID(e[16:32], p.UUID); err != nil {
			return fmt.Errorf("partition %d uuid: %w", i+1, err)
		}
		binary.LittleEndian.PutUint64(e[32:], pos[i].first)
		binary.LittleEndian.PutUint64(e[40:], pos[i].last)
		name := utf16.Encode([]rune(p.Name))
		if len(name) > 36 {
			return fmt.Errorf("partition %d: name %q longer than 36 UTF-16 units", i+1, p.Name)
		}
		for j, u := range name {
			binary.LittleEndian.PutUint16(e[56+2*j:], u)
		}
	}
	var mbr [sectorSize]byte
	pe := mbr[0x1be:]
	pe[1], pe[2], pe[3] = 0x00, 0x02, 0x00 // CHS of LBA 1
	pe[4] = 0xee
	pe[5], pe[6], pe[7] = 0xff, 0xff, 0xff
	binary.LittleEndian.PutUint32(pe[8:], 1)
	binary.LittleEndian.PutUint32(pe[12:], uint32(min(total-1, 0xffffffff)))
	mbr[510], mbr[511] = 0x55, 0xaa
	diskGUID := randomGUID()
	header := func(my, alt, entriesAt uint64) []byte {
		h := make([]byte, sectorSize)
		copy(h, "EFI PART")
		binary.LittleEndian.PutUint32(h[8:], 0x00010000)
		binary.LittleEndian.PutUint32(h[12:], 92)
		binary.LittleEndian.PutUint64(h[24:], my)
		binary.LittleEndian.PutUint64(h[32:], alt)
		binary.LittleEndian.PutUint64(h[40:], 2+entrySectors)
		binary.LittleEndian.PutUint64(h[48:], total-2-entrySectors)
		putGUID(h[56:72], diskGUID)
		binary.LittleEndian.PutUint64(h[72:], entriesAt)
		binary.LittleEndian.PutUint32(h[80:], gptEntries)
		binary.LittleEndian.PutUint32(h[84:], gptEntrySize)
		binary.LittleEndian.PutUint32(h[88:], crc32.ChecksumIEEE(entries))
		binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
		return h
	}
	writes := []struct {
		lba  uint64
		data []byte
	}{
		{0, mbr[:]},
		{1, header(1, total-1, 2)},
		{2, entries},
		{total - 1 - entrySectors, entries},
		{total - 1, header(total-1, 1, total-1-entrySectors)},
	}
	for _, w := range writes {
		if _, err := f.WriteAt(w.data, int64(w.lba)*sectorSize); err != nil {
			return err
		}
	}
	for i, p := range parts {
		if p.Image == "" {
			continue
		}
		src, err := os.Open(p.Image)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.NewOffsetWriter(f, int64(pos[i].first)*sectorSize), src)
		src.Close()
		if err != nil {
			return fmt.Errorf("partition %d: %w", i+1, err)
		}
	}
	return f.Close()
}

// putGUID writes a GUID in UEFI's byte order: its first three fields
// little endian.
func putGUID(dst []byte, s string) error {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 || len(s) != 36 {
		return fmt.Errorf("%q is not a GUID", s)
	}
	dst[0], dst[1], dst[2], dst[3] = b[3], b[2], b[1], b[0]
	dst[4], dst[5] = b[5], b[4]
	dst[6], dst[7] = b[7], b[6]
	copy(dst[8:16], b[8:])
	return nil
}

// randomGUID returns a random (version 4) GUID.
func randomGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
