package blkid_test

import (
	"context"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/blkid"
)

// The TestGuest* tests run inside a QEMU guest with the disk of
// TestE2EGuest attached as vda.

func inGuest(t *testing.T) {
	t.Helper()
	if os.Getenv("WGBOOT_IN_GUEST") != "1" {
		t.Skip("needs a guest kernel with the test disk: runs inside QEMU via TestE2EGuest")
	}
}

func TestGuestFind(t *testing.T) {
	inGuest(t)
	for _, n := range []string{"vda1", "vda2", "vda3"} {
		ue, err := os.ReadFile("/sys/class/block/" + n + "/uevent")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s uevent: %q", n, ue)
	}
	var uname unix.Utsname
	unix.Uname(&uname)
	t.Logf("kernel %s", unix.ByteSliceToString(uname.Release[:]))
	for i, p := range guestParts {
		want := "/dev/vda" + string(rune('1'+i))
		for _, spec := range []string{"PARTUUID=" + p.uuid, "PARTLABEL=" + p.name, "LABEL=" + p.fs.Label} {
			s, err := blkid.Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			d, err := blkid.Finder{}.Wait(context.Background(), s, 5*time.Second)
			if err != nil || d.Path != want || d.FS.Type != p.fs.Type {
				t.Errorf("Find(%s) = %+v, %v; want %s (%s)", spec, d, err, want, p.fs.Type)
			}
		}
	}
	s, _ := blkid.Parse("UUID=4A2B-11C0")
	if d, err := (blkid.Finder{}).Find(s); err != nil || d.Path != "/dev/vda3" {
		t.Errorf("Find(%s) = %+v, %v", s, d, err)
	}
}

// TestGuestMountVfat mounts the vfat partition with the modules the test
// loaded: vfat (and fat) and the code page and character set that
// Debian's kernel defaults to (FAT_DEFAULT_CODEPAGE=437,
// FAT_DEFAULT_IOCHARSET="ascii"), which the kernel would otherwise ask
// modprobe for — and an initramfs has none.
func TestGuestMountVfat(t *testing.T) {
	inGuest(t)
	os.MkdirAll("/mnt", 0o755)
	if err := unix.Mount("/dev/vda3", "/mnt", "vfat", unix.MS_NODEV|unix.MS_NOSUID|unix.MS_NOEXEC, "fmask=0177,dmask=0077"); err != nil {
		t.Fatalf("mount vfat: %v", err)
	}
	defer unix.Unmount("/mnt", 0)
	if err := os.WriteFile("/mnt/x", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat("/mnt/x")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("file on vfat: %v, %v; want mode 0600", st.Mode(), err)
	}
}
