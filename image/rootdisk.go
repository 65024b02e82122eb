package image

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// RootDisk writes an ext4 image of sizeMB at out whose /sbin/init is init,
// with the directories a root needs, using the host's mke2fs -d. It is the
// main system that the QEMU tests and the demo switch_root into.
func RootDisk(init []byte, out string, sizeMB int) error {
	return RootDiskFiles(init, nil, out, sizeMB)
}

// RootDiskFiles is RootDisk with more files in the root.
func RootDiskFiles(init []byte, files []File, out string, sizeMB int) error {
	tree, err := os.MkdirTemp("", "wgboot-root-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tree)
	for _, d := range []string{"sbin", "dev", "proc", "sys", "run", "tmp"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(tree, "sbin", "init"), init, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		dst := filepath.Join(tree, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(dst, f.Data, os.FileMode(mode)); err != nil {
			return err
		}
	}
	os.Remove(out)
	b, err := exec.Command("mke2fs", "-q", "-t", "ext4", "-d", tree, "-L", "root", out, fmt.Sprintf("%dM", sizeMB)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mke2fs: %w: %s", err, b)
	}
	return nil
}
