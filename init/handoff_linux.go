package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// handoffEnv is the whole environment of the next stage: no variable of
// init's own, and never a secret.
var handoffEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"TERM=linux",
	"HOME=/",
}

// handoff ends the boot in the main system: switch_root into the profile's
// root (or the command line's root=) and exec its init, or exec the next
// stage inside the initramfs. The config partition is synced and
// unmounted first: the main system mounts it itself. It returns only when
// that failed. The tunnels stay configured: the kernel keeps the links and
// their state across exec and chroot.
func (b *boot) handoff() error {
	if b.profile == nil {
		return errNoProfile
	}
	h := b.profile.Handoff
	if h.Root == "" && b.over.Root.Device == "" {
		b.persistRelease()
		b.removeSecrets()
		b.log.Outcomef(levelInfo, "handoff: exec %s in the initramfs", h.Init)
		return execInit(h.Init, b.initArgs)
	}
	if err := checkInitramfs("/", unix.Statfs); err != nil {
		return err
	}
	m, err := rootMountOf(h, b.over.Root)
	if err != nil {
		return fmt.Errorf("root device: %w", err)
	}
	dev, fstype, err := findRoot(m)
	if err != nil {
		return fmt.Errorf("root device: %w", err)
	}
	const newRoot = "/newroot"
	if err := os.MkdirAll(newRoot, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(dev.Path, newRoot, fstype, m.flags, m.data); err != nil {
		return fmt.Errorf("mount -t %s %s %s: %w", fstype, dev.Path, newRoot, err)
	}
	if _, err := os.Lstat(filepath.Join(newRoot, h.Init)); err != nil {
		unix.Unmount(newRoot, 0)
		return fmt.Errorf("init %s not found on %s: %w", h.Init, m.spec, err)
	}
	// Only now, with the new root mounted and its init there: a handoff
	// that fails before keeps the partition for what follows (a shell).
	b.persistRelease()
	b.log.Outcomef(levelInfo, "handoff: switch_root to %s and exec %s", rootName(m, dev, fstype), h.Init)
	if err := switchRoot(newRoot); err != nil {
		return err
	}
	return execInit(h.Init, b.initArgs)
}

// checkInitramfs refuses a switch_root from a root that is not an
// initramfs (ramfs, or tmpfs as the kernel uses for it when there is no
// root=): switch_root deletes every file of the old root, which on a disk
// root run with init=/init would be the disk's whole file system.
// util-linux's and busybox's switch_root refuse the same way.
func checkInitramfs(root string, statfs func(string, *unix.Statfs_t) error) error {
	var st unix.Statfs_t
	if err := statfs(root, &st); err != nil {
		return fmt.Errorf("switch_root: statfs %s: %w", root, err)
	}
	switch uint32(st.Type) {
	case unix.RAMFS_MAGIC, unix.TMPFS_MAGIC:
		return nil
	}
	return fmt.Errorf("switch_root: %s is not an initramfs (file system type %#x, not ramfs or tmpfs): refusing to delete its files", root, uint32(st.Type))
}

// switchRoot makes newRoot the root: it moves the pseudo filesystems along,
// frees the initramfs's memory by deleting its files (never crossing into
// another filesystem), and chroots.
func switchRoot(newRoot string) error {
	for _, m := range []string{"/dev", "/proc", "/sys", "/run"} {
		dst := filepath.Join(newRoot, m)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m, dst, "", unix.MS_MOVE, ""); err != nil {
			return fmt.Errorf("move %s to %s: %w", m, dst, err)
		}
	}
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		return err
	}
	removeSameFS("/", st.Dev)
	if err := os.Chdir(newRoot); err != nil {
		return err
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move %s to /: %w", newRoot, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return os.Chdir("/")
}

// removeSameFS deletes what is below dir on the filesystem dev, leaving
// mount points of other filesystems (the new root among them) alone.
// Errors are ignored: this only frees memory. The entries are taken in
// directory order: os.ReadDir would sort them, with a generic sort of its
// own in /init (see board's readDir).
func removeSameFS(dir string, dev uint64) {
	f, err := os.Open(dir)
	if err != nil {
		return
	}
	entries, _ := f.ReadDir(-1)
	f.Close()
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil || st.Dev != dev {
			continue
		}
		if e.IsDir() {
			removeSameFS(p, dev)
		}
		os.Remove(p)
	}
}

// execInit replaces PID 1 with the next stage, passing on the arguments the
// kernel gave init (such as "single", and what follows "--" on its command
// line), as the kernel would have. It returns only on failure.
func execInit(path string, args []string) error {
	err := unix.Exec(path, append([]string{path}, args...), handoffEnv)
	return fmt.Errorf("exec %s: %w", path, err)
}

// secretsDir holds the image's profiles and, by convention, their keys.
const secretsDir = "/etc/wgboot"

// removeSecrets deletes, before a next stage runs inside the initramfs,
// every key file that any profile of the image names (relative ones
// resolved against their profile's directory) and the whole of
// /etc/wgboot: profiles may hold inline keys, and other boards' key files
// are no business of this board's next stage. The kernel holds the keys
// it needs; the state file, in /run, stays.
func (b *boot) removeSecrets() {
	for _, p := range b.keyFiles {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			b.log.Warnf("remove key file %s: %v", p, err)
		}
	}
	if err := os.RemoveAll(secretsDir); err != nil {
		b.log.Warnf("remove %s: %v", secretsDir, err)
	}
}
