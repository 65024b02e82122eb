package blkid

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Partition is one used entry of a GUID partition table.
type Partition struct {
	Number int    // the kernel's partition number: the entry's index + 1
	UUID   string // the unique partition GUID (PARTUUID=), lower case
	Type   string // the partition type GUID, lower case
	Name   string // the name (PARTLABEL=), as the kernel reads it
	First  uint64 // first and last LBA
	Last   uint64
}

// ErrNoGPT is returned by [ReadGPT] when neither the primary nor the
// backup GPT header is valid.
var ErrNoGPT = errors.New("no valid GUID partition table")

// Limits that keep a corrupt header from making ReadGPT read much.
const (
	gptEntrySize   = 128
	gptMaxEntryLen = 1 << 20
)

// ReadGPT reads the GUID partition table of a disk of sectors logical
// sectors of sectorSize bytes. The primary header and its entries are used
// when their CRCs hold, else the backup at the disk's last sector, as the
// kernel does (block/partitions/efi.c).
func ReadGPT(r io.ReaderAt, sectorSize int, sectors uint64) ([]Partition, error) {
	if sectorSize < 512 || sectorSize&(sectorSize-1) != 0 {
		return nil, fmt.Errorf("blkid: sector size %d", sectorSize)
	}
	parts, err := readGPTAt(r, sectorSize, 1)
	if err == nil || sectors < 2 {
		return parts, err
	}
	if bparts, berr := readGPTAt(r, sectorSize, sectors-1); berr == nil {
		return bparts, nil
	}
	return nil, err
}

// readGPTAt reads the GPT header at lba and its entries.
func readGPTAt(r io.ReaderAt, sectorSize int, lba uint64) ([]Partition, error) {
	h := make([]byte, sectorSize)
	if _, err := r.ReadAt(h, int64(lba)*int64(sectorSize)); err != nil {
		return nil, fmt.Errorf("%w: read header at LBA %d: %v", ErrNoGPT, lba, err)
	}
	if string(h[:8]) != "EFI PART" {
		return nil, fmt.Errorf("%w: no signature at LBA %d", ErrNoGPT, lba)
	}
	size := binary.LittleEndian.Uint32(h[12:])
	if size < 92 || int(size) > sectorSize {
		return nil, fmt.Errorf("%w: header size %d at LBA %d", ErrNoGPT, size, lba)
	}
	want := binary.LittleEndian.Uint32(h[16:])
	hdr := bytes.Clone(h[:size])
	clear(hdr[16:20])
	if crc32IEEE(hdr) != want {
		return nil, fmt.Errorf("%w: header CRC mismatch at LBA %d", ErrNoGPT, lba)
	}
	if binary.LittleEndian.Uint64(h[24:]) != lba {
		return nil, fmt.Errorf("%w: header at LBA %d says it is at %d", ErrNoGPT, lba, binary.LittleEndian.Uint64(h[24:]))
	}
	entriesLBA := binary.LittleEndian.Uint64(h[72:])
	n := binary.LittleEndian.Uint32(h[80:])
	esize := binary.LittleEndian.Uint32(h[84:])
	if esize != gptEntrySize || uint64(n)*uint64(esize) > gptMaxEntryLen {
		return nil, fmt.Errorf("%w: %d entries of %d bytes at LBA %d", ErrNoGPT, n, esize, lba)
	}
	entries := make([]byte, int(n)*int(esize))
	if _, err := r.ReadAt(entries, int64(entriesLBA)*int64(sectorSize)); err != nil {
		return nil, fmt.Errorf("%w: read entries at LBA %d: %v", ErrNoGPT, entriesLBA, err)
	}
	if crc32IEEE(entries) != binary.LittleEndian.Uint32(h[88:]) {
		return nil, fmt.Errorf("%w: entries CRC mismatch (header at LBA %d)", ErrNoGPT, lba)
	}
	var parts []Partition
	var zero [16]byte
	for i := 0; i < int(n); i++ {
		e := entries[i*gptEntrySize : (i+1)*gptEntrySize]
		if bytes.Equal(e[:16], zero[:]) {
			continue // unused
		}
		parts = append(parts, Partition{
			Number: i + 1,
			Type:   guidLE(e[0:16]),
			UUID:   guidLE(e[16:32]),
			First:  binary.LittleEndian.Uint64(e[32:]),
			Last:   binary.LittleEndian.Uint64(e[40:]),
			Name:   gptName(e[56:128]),
		})
	}
	return parts, nil
}

// gptName reads a partition name as the kernel does (efi.c,
// utf16_le_to_7bit): the low byte of each UTF-16 unit, '!' for one that is
// not printable, up to the first NUL. This is what sysfs shows as PARTNAME.
func gptName(b []byte) string {
	var out []byte
	for i := 0; i+1 < len(b); i += 2 {
		c := b[i]
		if c == 0 {
			break
		}
		if c < 0x20 || c >= 0x7f && c < 0xa0 { // the kernel's isprint is Latin-1's
			c = '!'
		}
		out = append(out, c)
	}
	return string(out)
}

// MBRSignature returns the disk signature of an MBR (the first sector),
// which with the partition number in hex makes an MBR partition's
// PARTUUID (SSSSSSSS-PP), and whether the sector is an MBR at all.
func MBRSignature(sector0 []byte) (uint32, bool) {
	if len(sector0) < 512 || sector0[510] != 0x55 || sector0[511] != 0xaa {
		return 0, false
	}
	return binary.LittleEndian.Uint32(sector0[0x1b8:]), true
}

// crc32IEEE is hash/crc32's ChecksumIEEE, the CRC that GPT uses, with a
// table made per call (2,048 steps, a tenth of a 16 KiB entry array's):
// hash/crc32 brings its CPU-specific code and tables, and Castagnoli's,
// for two checksums a boot.
func crc32IEEE(b []byte) uint32 {
	var table [256]uint32
	for i := range table {
		c := uint32(i)
		for range 8 {
			c = c>>1 ^ 0xedb88320&-(c&1)
		}
		table[i] = c
	}
	crc := ^uint32(0)
	for _, c := range b {
		crc = table[byte(crc)^c] ^ crc>>8
	}
	return ^crc
}
