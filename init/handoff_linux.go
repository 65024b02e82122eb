package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// handoffEnv is the whole environment of the next stage: no variable of
// init's own, and never a secret.
var handoffEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"TERM=linux",
	"HOME=/",
}

// rootWait bounds the wait for the root device to appear.
const rootWait = 10 * time.Second

// handoff ends the boot in the main system: switch_root into the profile's
// root and exec its init, or exec the next stage inside the initramfs. It
// returns only when that failed. The tunnels stay configured: the kernel
// keeps the links and their state across exec and chroot.
func (b *boot) handoff() error {
	if b.profile == nil {
		return errNoProfile
	}
	h := b.profile.Handoff
	if h.Root == "" {
		b.removeKeyFiles()
		b.log.Infof("handoff: exec %s in the initramfs", h.Init)
		return execInit(h.Init)
	}
	if err := waitForFile(h.Root, rootWait); err != nil {
		return fmt.Errorf("root device: %w", err)
	}
	const newRoot = "/newroot"
	if err := os.MkdirAll(newRoot, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(h.Root, newRoot, h.FSType, 0, ""); err != nil {
		return fmt.Errorf("mount -t %s %s %s: %w", h.FSType, h.Root, newRoot, err)
	}
	if _, err := os.Lstat(filepath.Join(newRoot, h.Init)); err != nil {
		unix.Unmount(newRoot, 0)
		return fmt.Errorf("init %s not found on %s: %w", h.Init, h.Root, err)
	}
	b.log.Infof("handoff: switch_root to %s (%s) and exec %s", h.Root, h.FSType, h.Init)
	if err := switchRoot(newRoot); err != nil {
		return err
	}
	return execInit(h.Init)
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
// Errors are ignored: this only frees memory.
func removeSameFS(dir string, dev uint64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
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

// execInit replaces PID 1 with the next stage. It returns only on failure.
func execInit(path string) error {
	err := unix.Exec(path, []string{path}, handoffEnv)
	return fmt.Errorf("exec %s: %w", path, err)
}

// waitForFile waits until path exists, polling, for at most limit.
func waitForFile(path string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		_, err := os.Stat(path)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) || time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within %v: %w", path, limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// removeKeyFiles deletes the profile's key files from the initramfs before
// a next stage runs inside it: the kernel holds the keys now, and the next
// stage has no business reading them.
func (b *boot) removeKeyFiles() {
	for _, t := range b.profile.Tunnels {
		paths := []string{t.PrivateKeyFile}
		for _, p := range t.Peers {
			paths = append(paths, p.PresharedKeyFile)
		}
		for _, p := range paths {
			if strings.HasPrefix(p, "/") {
				if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
					b.log.Warnf("remove key file %s: %v", p, err)
				}
			}
		}
	}
}
