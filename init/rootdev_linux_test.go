package main

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
)

// TestRootMountOf: the command line's root parameters win over the
// profile's, as the kernel and dracut read them, and every wait is bounded.
func TestRootMountOf(t *testing.T) {
	h := board.Handoff{Root: "PARTLABEL=root", FSType: "ext4", Deadline: 60 * time.Second}
	for _, c := range []struct {
		name     string
		args     string
		spec     string
		fstype   string
		fallback string
		flags    uintptr
		data     string
		wait     time.Duration
	}{
		{"the profile's", "", "PARTLABEL=root", "ext4", "", 0, "", rootWait},
		{"root= by PARTUUID", "root=PARTUUID=0FA4C36B-5B8A-4C2B-B3A8-4C2E5B7A9D02", "PARTUUID=0fa4c36b-5b8a-4c2b-b3a8-4c2e5b7a9d02", "", "ext4", 0, "", rootWait},
		{"root= and rootfstype=", "root=/dev/vdb1 rootfstype=btrfs", "/dev/vdb1", "btrfs", "ext4", 0, "", rootWait},
		{"rootfstype= alone", "rootfstype=ext3", "PARTLABEL=root", "ext3", "", 0, "", rootWait},
		{"ro, rootflags", `ro rootflags="data=journal,noatime"`, "PARTLABEL=root", "ext4", "", unix.MS_RDONLY, "data=journal,noatime", rootWait},
		{"rw after ro", "ro rw", "PARTLABEL=root", "ext4", "", 0, "", rootWait},
		{"rootwait: up to the deadline", "rootwait", "PARTLABEL=root", "ext4", "", 0, "", 60 * time.Second},
		{"rootdelay= wins", "rootwait rootdelay=3", "PARTLABEL=root", "ext4", "", 0, "", 3 * time.Second},
		{"a malformed root= is ignored", "root=PARTUUID=x", "PARTLABEL=root", "ext4", "", 0, "", rootWait},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, _ := board.ParseCmdline(c.args)
			m, err := rootMountOf(h, o.Root)
			if err != nil {
				t.Fatal(err)
			}
			if m.spec.String() != c.spec || m.fstype != c.fstype || m.fallback != c.fallback || m.flags != c.flags || m.data != c.data || m.wait != c.wait {
				t.Errorf("rootMountOf(%q) = %+v", c.args, m)
			}
		})
	}
	if _, err := rootMountOf(board.Handoff{Root: "/proc/x"}, board.RootArgs{}); err == nil {
		t.Error("rootMountOf accepted /proc/x")
	}
}
