package blkid_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/internal/blkid"
)

// fakeBlock is a sysfs and a /dev with block devices whose nodes are
// regular files holding the devices' bytes.
type fakeBlock struct {
	t        *testing.T
	sys, dev string
}

func newFakeBlock(t *testing.T) *fakeBlock {
	root := t.TempDir()
	f := &fakeBlock{t: t, sys: filepath.Join(root, "sys"), dev: filepath.Join(root, "dev")}
	for _, d := range []string{filepath.Join(f.sys, "class", "block"), f.dev} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fakeBlock) write(path, data string) {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// add adds a device: a disk when parent is "", else partition partN of
// parent, with the given uevent lines and contents.
func (f *fakeBlock) add(name, parent string, partN int, uevent string, data []byte) {
	f.t.Helper()
	dir := filepath.Join(f.sys, "devices", "virtual", "block", name)
	if parent != "" {
		dir = filepath.Join(f.sys, "devices", "virtual", "block", parent, name)
	}
	ue := "MAJOR=254\nMINOR=0\nDEVNAME=" + name + "\n"
	if parent == "" {
		ue += "DEVTYPE=disk\n"
		f.write(filepath.Join(dir, "queue", "logical_block_size"), "512\n")
	} else {
		ue += fmt.Sprintf("DEVTYPE=partition\nPARTN=%d\n", partN)
		f.write(filepath.Join(dir, "partition"), "1\n")
	}
	f.write(filepath.Join(dir, "uevent"), ue+uevent)
	f.write(filepath.Join(dir, "size"), fmt.Sprintf("%d\n", len(data)/512))
	rel, err := filepath.Rel(filepath.Join(f.sys, "class", "block"), dir)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.Symlink(rel, filepath.Join(f.sys, "class", "block", name)); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dev, name), data, 0o600); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeBlock) finder() blkid.Finder { return blkid.Finder{Sys: f.sys, Dev: f.dev} }

// gptDisk makes a GPT disk with an ext4 "wgboot" partition and a root,
// and adds it and its partitions as vda, vda1, vda2.
func gptDisk(t *testing.T, f *fakeBlock) []image.Partition {
	needTool(t, "mke2fs")
	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, "p1.img"), filepath.Join(dir, "p2.img")
	if err := (image.FileSystem{Type: "ext4", Label: "wgboot", UUID: "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa", SizeMB: 2}).Write(p1); err != nil {
		t.Fatal(err)
	}
	if err := (image.FileSystem{Type: "ext4", Label: "root", UUID: "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb", SizeMB: 2}).Write(p2); err != nil {
		t.Fatal(err)
	}
	parts := []image.Partition{
		{Name: "wgboot", UUID: "6b3e58a2-1a4c-4f1e-9c39-0c8a1f0e2d11", Image: p1},
		{Name: "rootfs", UUID: "0fa4c36b-5b8a-4c2b-b3a8-4c2e5b7a9d02", Image: p2},
	}
	disk := filepath.Join(dir, "disk.img")
	if err := image.WriteGPTDisk(disk, parts); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(disk)
	if err != nil {
		t.Fatal(err)
	}
	f.add("vda", "", 0, "", data)
	for i, p := range []string{p1, p2} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// As Linux 6.1 has it: PARTNAME, and no PARTUUID.
		f.add(fmt.Sprintf("vda%d", i+1), "vda", i+1, "PARTNAME="+parts[i].Name+"\n", b)
	}
	return parts
}

func TestFind(t *testing.T) {
	f := newFakeBlock(t)
	gptDisk(t, f)
	// An MBR disk with signature 0a1b2c3d: its partition 1 is
	// PARTUUID=0a1b2c3d-01. Its contents are no file system.
	mbr := make([]byte, 4096)
	mbr[0x1b8], mbr[0x1b9], mbr[0x1ba], mbr[0x1bb] = 0x3d, 0x2c, 0x1b, 0x0a
	mbr[0x1be+4] = 0x83
	mbr[510], mbr[511] = 0x55, 0xaa
	f.add("sda", "", 0, "", mbr)
	f.add("sda1", "sda", 1, "", make([]byte, 2048))
	f.add("loop0", "", 0, "", nil) // size 0: left out
	for _, c := range []struct {
		spec, want string
		fstype     string
	}{
		{"LABEL=wgboot", "/dev/vda1", "ext4"},
		{"LABEL=root", "/dev/vda2", "ext4"},
		{"UUID=BBBBBBBB-2222-4222-8222-BBBBBBBBBBBB", "/dev/vda2", "ext4"},
		{"PARTLABEL=rootfs", "/dev/vda2", "ext4"},
		{"PARTUUID=6b3e58a2-1a4c-4f1e-9c39-0c8a1f0e2d11", "/dev/vda1", "ext4"},
		{"PARTUUID=0FA4C36B-5B8A-4C2B-B3A8-4C2E5B7A9D02", "/dev/vda2", "ext4"},
		{"PARTUUID=0a1b2c3d-01", "/dev/sda1", ""},
		{"/dev/vda2", "/dev/vda2", "ext4"},
	} {
		s, err := blkid.Parse(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.finder().Find(s)
		if err != nil || d.Path != c.want || d.FS.Type != c.fstype {
			t.Errorf("Find(%s) = %+v, %v; want %s (%q)", c.spec, d, err, c.want, c.fstype)
		}
	}
	for _, spec := range []string{"LABEL=nothere", "PARTUUID=0a1b2c3d-02", "PARTLABEL=wgbootx", "PARTUUID=11111111-1a4c-4f1e-9c39-0c8a1f0e2d11", "/dev/vdz"} {
		s, _ := blkid.Parse(spec)
		if d, err := f.finder().Find(s); !errors.Is(err, blkid.ErrNotFound) {
			t.Errorf("Find(%s) = %+v, %v; want ErrNotFound", spec, d, err)
		}
	}
}

// TestFindAmbiguous: a second device with the persist partition's label (a
// USB stick, say) makes LABEL= ambiguous, and that is an error rather than
// a guess.
func TestFindAmbiguous(t *testing.T) {
	f := newFakeBlock(t)
	gptDisk(t, f)
	dup := filepath.Join(t.TempDir(), "dup.img")
	if err := (image.FileSystem{Type: "ext4", Label: "wgboot", SizeMB: 2}).Write(dup); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dup)
	if err != nil {
		t.Fatal(err)
	}
	f.add("sdb", "", 0, "", data)
	s, _ := blkid.Parse("LABEL=wgboot")
	if d, err := f.finder().Find(s); !errors.Is(err, blkid.ErrAmbiguous) {
		t.Errorf("Find(LABEL=wgboot) = %+v, %v; want ErrAmbiguous", d, err)
	}
}

// TestWait: a device that appears while Wait polls is found; one that
// never does ends the wait at its bound, with what was seen.
func TestWait(t *testing.T) {
	f := newFakeBlock(t)
	s, _ := blkid.Parse("PARTLABEL=late")
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.add("vdc", "", 0, "", make([]byte, 4096))
		f.add("vdc1", "vdc", 1, "PARTNAME=late\n", make([]byte, 1024))
	}()
	d, err := f.finder().Wait(context.Background(), s, 5*time.Second)
	if err != nil || d.Path != "/dev/vdc1" {
		t.Fatalf("Wait(PARTLABEL=late) = %+v, %v", d, err)
	}
	s, _ = blkid.Parse("PARTLABEL=never")
	start := time.Now()
	_, err = f.finder().Wait(context.Background(), s, 200*time.Millisecond)
	if !errors.Is(err, blkid.ErrNotFound) || time.Since(start) > 2*time.Second {
		t.Errorf("Wait(PARTLABEL=never) = %v after %v; want blkid.ErrNotFound after 200ms", err, time.Since(start))
	}
	// The error says how long it waited: never less than the bound (an
	// amd64 e2e run printed "after 9.992s" for a 10 s rootdelay).
	if err != nil {
		msg := err.Error()
		i := strings.LastIndex(msg, " after ")
		if d, perr := time.ParseDuration(msg[i+len(" after "):]); i < 0 || perr != nil || d < 200*time.Millisecond {
			t.Errorf("Wait(PARTLABEL=never) = %q: want the time waited, at least 200ms", msg)
		}
	}
	t.Logf("error: %v", err)
}
