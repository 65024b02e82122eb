package main

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/blkid"
)

// rootWait bounds the wait for the root device to appear when the command
// line has neither rootwait nor rootdelay=.
const rootWait = 10 * time.Second

// rootMount is what the handoff mounts as the new root: the profile's
// handoff.root and fstype, overridden by the kernel command line's root=,
// rootfstype=, rootflags=, ro and rw, and how long to wait for the device
// (rootwait, rootdelay=), as the kernel and dracut read them.
type rootMount struct {
	spec     blkid.Spec
	fstype   string // "": what the device's superblock says, else fallback
	fallback string
	flags    uintptr
	data     string
	wait     time.Duration
}

// rootMountOf combines the profile's handoff with the command line's root
// parameters.
func rootMountOf(h board.Handoff, o board.RootArgs) (rootMount, error) {
	m := rootMount{fstype: h.FSType, data: o.Flags, wait: rootWait}
	root := h.Root
	if o.Device != "" {
		// The profile's type is for the profile's root: another
		// device's type is rootfstype=, else its superblock's, else
		// (the superblock's is unknown) the profile's.
		root, m.fstype, m.fallback = o.Device, "", h.FSType
	}
	if o.FSType != "" {
		m.fstype = o.FSType
	}
	spec, err := blkid.Parse(root)
	if err != nil {
		return rootMount{}, err
	}
	m.spec = spec
	if o.ReadOnly {
		m.flags |= unix.MS_RDONLY
	}
	switch {
	case o.Delay > 0:
		m.wait = o.Delay
	case o.Wait:
		// The kernel's rootwait waits forever; PID 1 never does: up to
		// the boot's own bound.
		m.wait = h.Deadline
	}
	return m, nil
}

// findRoot waits for the root device and settles its file system type.
func findRoot(m rootMount) (blkid.Device, string, error) {
	dev, err := blkid.Finder{}.Wait(context.Background(), m.spec, m.wait)
	if err != nil {
		return blkid.Device{}, "", err
	}
	fstype := m.fstype
	if fstype == "" {
		fstype = dev.FS.Type
	}
	if fstype == "" {
		fstype = m.fallback
	}
	if fstype == "" {
		return blkid.Device{}, "", fmt.Errorf("%s (%s): no file system type: set handoff.fstype, or rootfstype= on the command line", m.spec, dev.Path)
	}
	return dev, fstype, nil
}

// rootName is how the log names the root: the path, or the identity and
// the device it named.
func rootName(m rootMount, dev blkid.Device, fstype string) string {
	if m.spec.Kind == blkid.Path {
		return fmt.Sprintf("%s (%s)", m.spec, fstype)
	}
	return fmt.Sprintf("%s (%s, %s)", m.spec, dev.Path, fstype)
}
