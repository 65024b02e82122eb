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
	return FileSystem{Type: "ext4", Label: "root", SizeMB: sizeMB, Files: RootFiles(init, files)}.Write(out)
}

// RootFiles are the files of a root file system whose /sbin/init is init,
// with the directories a root needs, and files.
func RootFiles(init []byte, files []File) []File {
	var all []File
	for _, d := range []string{"/dev", "/proc", "/sys", "/run", "/tmp"} {
		all = append(all, File{Path: d, Dir: true})
	}
	all = append(all, File{Path: "/sbin/init", Data: init, Mode: 0o755})
	return append(all, files...)
}

// FileSystem is a file system image for the QEMU tests, made with the
// host's mke2fs (e2fsprogs) or mkfs.vfat (dosfstools).
type FileSystem struct {
	Type   string // ext4 or vfat
	Label  string // "" for none
	UUID   string // ext4: the UUID; vfat: the serial number as 8 hex digits; "" for a random one
	SizeMB int
	// Files go into the image (ext4 only); symlinks are not supported.
	Files []File
}

// Write writes the image to out.
func (fs FileSystem) Write(out string) error {
	os.Remove(out)
	var cmd *exec.Cmd
	switch fs.Type {
	case "ext4":
		tree, err := os.MkdirTemp("", "wgboot-fs-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tree)
		if err := writeTree(tree, fs.Files); err != nil {
			return err
		}
		args := []string{"-q", "-t", "ext4", "-d", tree}
		if fs.Label != "" {
			args = append(args, "-L", fs.Label)
		}
		if fs.UUID != "" {
			args = append(args, "-U", fs.UUID)
		}
		cmd = exec.Command("mke2fs", append(args, out, fmt.Sprintf("%dM", fs.SizeMB))...)
	case "vfat":
		if len(fs.Files) > 0 {
			return fmt.Errorf("image: files in a vfat image are not supported")
		}
		args := []string{"-C"}
		if fs.Label != "" {
			args = append(args, "-n", fs.Label)
		}
		if fs.UUID != "" {
			args = append(args, "-i", fs.UUID)
		}
		cmd = exec.Command("mkfs.vfat", append(args, out, fmt.Sprint(fs.SizeMB<<10))...)
	default:
		return fmt.Errorf("image: file system type %q", fs.Type)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", cmd.Args[0], err, b)
	}
	return nil
}

// writeTree writes files below dir.
func writeTree(dir string, files []File) error {
	for _, f := range files {
		dst := filepath.Join(dir, filepath.FromSlash(f.Path))
		mode := os.FileMode(f.Mode)
		if f.Dir {
			if mode == 0 {
				mode = 0o755
			}
			if err := os.MkdirAll(dst, mode); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(dst, f.Data, mode); err != nil {
			return err
		}
		// WriteFile's mode is subject to the umask; a key file's 0600
		// and a tool's 0755 must arrive as they are.
		if err := os.Chmod(dst, mode); err != nil {
			return err
		}
	}
	return nil
}
