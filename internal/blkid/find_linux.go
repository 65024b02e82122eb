package blkid

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Device is a block device found through sysfs.
type Device struct {
	Name      string // the kernel's name, e.g. vda1
	Path      string // its node, e.g. /dev/vda1
	Disk      string // for a partition, its disk's name (vda); "" for a whole disk
	PartN     int    // for a partition, its number
	PartLabel string // for a GPT partition, its name (uevent PARTNAME)
	PartUUID  string // set when the PARTUUID was read to find the device
	FS        Superblock
}

// Errors of [Finder.Find].
var (
	ErrNotFound  = errors.New("no such device")
	ErrAmbiguous = errors.New("more than one device matches")
)

// Finder looks for block devices under a sysfs and a /dev; the zero value
// uses /sys and /dev.
type Finder struct {
	Sys string // default /sys
	Dev string // default /dev
}

func (f Finder) sys() string {
	if f.Sys == "" {
		return "/sys"
	}
	return f.Sys
}

func (f Finder) dev() string {
	if f.Dev == "" {
		return "/dev"
	}
	return f.Dev
}

// Wait calls Find until the device is there, every 25 ms, for at most
// limit and never past ctx. The error of the last attempt says what was
// seen.
func (f Finder) Wait(ctx context.Context, s Spec, limit time.Duration) (Device, error) {
	// start before the timer: the error's "after" is then never less than
	// the limit, however long the goroutine waits between the two.
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		d, err := f.Find(s)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return d, err
		}
		select {
		case <-ctx.Done():
			return Device{}, fmt.Errorf("%w after %v", err, time.Since(start).Round(time.Millisecond))
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Find returns the one device that s names. A device found twice (two
// disks with the same label, say) is an error: booting from the wrong one
// is worse than not booting.
func (f Finder) Find(s Spec) (Device, error) {
	if s.Kind == Path {
		return f.findPath(s.Value)
	}
	devs, err := f.list()
	if err != nil {
		return Device{}, err
	}
	tables := make(map[string]*diskTable) // by disk name, read once
	var found []Device
	for _, d := range devs {
		ok, err := f.match(&d, s, tables)
		if err != nil {
			return Device{}, err
		}
		if ok {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		names := make([]string, len(devs))
		for i, d := range devs {
			names[i] = d.Name
		}
		seen := strings.Join(names, " ")
		if seen == "" {
			seen = "none"
		}
		return Device{}, fmt.Errorf("%s: %w (block devices: %s)", s, ErrNotFound, seen)
	case 1:
		return found[0], nil
	}
	var names []string
	for _, d := range found {
		names = append(names, d.Path)
	}
	return Device{}, fmt.Errorf("%s: %w: %s; name it by PARTUUID=", s, ErrAmbiguous, strings.Join(names, ", "))
}

// findPath returns the device at path, with its superblock when readable.
func (f Finder) findPath(path string) (Device, error) {
	p := filepath.Join(f.dev(), strings.TrimPrefix(path, "/dev/"))
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Device{}, fmt.Errorf("%s: %w", path, ErrNotFound)
		}
		return Device{}, err
	}
	d := Device{Name: filepath.Base(p), Path: path}
	d.FS, _ = readSuperblockFile(p) // the type is a hint; the mount decides
	return d, nil
}

// match reports whether d is what s names, reading what it needs.
func (f Finder) match(d *Device, s Spec, tables map[string]*diskTable) (bool, error) {
	switch s.Kind {
	case PartLabel:
		if d.PartN == 0 || d.PartLabel != s.Value {
			return false, nil
		}
	case PartUUID:
		if d.PartN == 0 {
			return false, nil
		}
		if d.PartUUID == "" {
			t, ok := tables[d.Disk]
			if !ok {
				t = f.readTable(d.Disk)
				tables[d.Disk] = t
			}
			d.PartUUID = t.partUUID(d.PartN)
		}
		if !strings.EqualFold(d.PartUUID, s.Value) {
			return false, nil
		}
	case UUID, Label:
		sb, err := readSuperblockFile(filepath.Join(f.dev(), d.Name))
		if err != nil {
			return false, nil // not a file system wgboot knows, or no medium
		}
		d.FS = sb
		if s.Kind == UUID && !strings.EqualFold(sb.UUID, s.Value) || s.Kind == Label && sb.Label != s.Value {
			return false, nil
		}
	default:
		return false, fmt.Errorf("blkid: unknown kind %d", s.Kind)
	}
	if d.FS.Type == "" {
		d.FS, _ = readSuperblockFile(filepath.Join(f.dev(), d.Name))
	}
	return true, nil
}

// list returns the block devices in sysfs, partitions with their disk and
// number, leaving out those of size 0 (loop devices without a file, empty
// card readers).
func (f Finder) list() ([]Device, error) {
	dir := filepath.Join(f.sys(), "class", "block")
	entries, err := readDir(dir)
	if err != nil {
		return nil, err
	}
	var devs []Device
	for _, e := range entries {
		sysdir := filepath.Join(dir, e.Name())
		if size, err := readInt(filepath.Join(sysdir, "size")); err != nil || size == 0 {
			continue
		}
		ue := readUevent(filepath.Join(sysdir, "uevent"))
		d := Device{Name: e.Name(), PartLabel: ue["PARTNAME"], PartUUID: strings.ToLower(ue["PARTUUID"])}
		if n := ue["DEVNAME"]; n != "" {
			d.Name = n
		}
		d.Path = "/dev/" + d.Name
		if ue["DEVTYPE"] == "partition" {
			d.PartN, _ = strconv.Atoi(ue["PARTN"])
			// The link leads to the partition's directory, which is
			// inside its disk's: …/block/vda/vda1.
			if target, err := os.Readlink(sysdir); err == nil {
				d.Disk = filepath.Base(filepath.Dir(target))
			}
		}
		devs = append(devs, d)
	}
	return devs, nil // in name order: os.ReadDir sorts
}

// diskTable is what a disk's first sectors say about its partitions' IDs.
type diskTable struct {
	gpt    []Partition
	mbrSig string // the MBR's disk signature in hex, when there is no GPT
}

// partUUID returns partition n's PARTUUID, or "".
func (t *diskTable) partUUID(n int) string {
	for _, p := range t.gpt {
		if p.Number == n {
			return p.UUID
		}
	}
	if t.mbrSig != "" {
		return fmt.Sprintf("%s-%02x", t.mbrSig, n)
	}
	return ""
}

// readTable reads the partition IDs of disk; errors leave it empty, so
// that one unreadable disk does not hide the others.
func (f Finder) readTable(disk string) *diskTable {
	t := &diskTable{}
	if disk == "" {
		return t
	}
	sysdir := filepath.Join(f.sys(), "class", "block", disk)
	ss, err := readInt(filepath.Join(sysdir, "queue", "logical_block_size"))
	if err != nil || ss < 512 {
		ss = 512
	}
	size512, _ := readInt(filepath.Join(sysdir, "size")) // always in 512-byte units
	file, err := os.Open(filepath.Join(f.dev(), disk))
	if err != nil {
		return t
	}
	defer file.Close()
	sector0 := make([]byte, 512)
	if _, err := file.ReadAt(sector0, 0); err != nil {
		return t
	}
	sig, isMBR := MBRSignature(sector0)
	if !isMBR {
		return t
	}
	// A protective MBR (an entry of type 0xee) announces a GPT.
	for i := 0; i < 4; i++ {
		if sector0[0x1be+16*i+4] == 0xee {
			t.gpt, _ = ReadGPT(file, int(ss), uint64(size512)*512/uint64(ss))
			return t
		}
	}
	t.mbrSig = fmt.Sprintf("%08x", sig)
	return t
}

// readSuperblockFile reads the superblock of the device node at path.
func readSuperblockFile(path string) (Superblock, error) {
	file, err := os.Open(path)
	if err != nil {
		return Superblock{}, err
	}
	defer file.Close()
	return ReadSuperblock(file)
}

// readUevent reads the KEY=value lines of a sysfs uevent file.
func readUevent(path string) map[string]string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	m := make(map[string]string)
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func readInt(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
}

// readDir is os.ReadDir (the entries sorted by name) with sort.Slice,
// whose code /init has anyway, instead of the generic slices.SortFunc
// that os.ReadDir instantiates for []fs.DirEntry (see board's readDir).
func readDir(dir string) ([]os.DirEntry, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY, 0) // as os.ReadDir opens it
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, err
}
