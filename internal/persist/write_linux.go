package persist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// WriteFile writes data to path atomically: into a temporary file in the
// same directory, fsynced, renamed over path, and the directory fsynced,
// so that the rename itself is on the disk when WriteFile returns. The
// file gets mode perm whatever the umask (on vfat, the mount's fmask
// decides). A file already at path is replaced.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return write(path, data, perm, false)
}

// CreateFile is WriteFile for a file that must not be replaced, such as a
// private key: when path exists it returns an error wrapping
// fs.ErrExist and leaves the file as it is.
func CreateFile(path string, data []byte, perm fs.FileMode) error {
	return write(path, data, perm, true)
}

func write(path string, data []byte, perm fs.FileMode, noReplace bool) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if noReplace {
		if _, err := os.Lstat(path); err == nil {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil && !errors.Is(err, unix.EPERM) {
		// vfat refuses a mode it cannot store; the mount's fmask
		// gives the file its mode there.
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := rename(tmp, path, noReplace); err != nil {
		return err
	}
	return SyncDir(dir)
}

// rename renames old to new, failing when new exists if noReplace.
func rename(old, new string, noReplace bool) error {
	if !noReplace {
		return os.Rename(old, new)
	}
	err := unix.Renameat2(unix.AT_FDCWD, old, unix.AT_FDCWD, new, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return &fs.PathError{Op: "create", Path: new, Err: fs.ErrExist}
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
		// A file system without RENAME_NOREPLACE: PID 1 is the only
		// writer this early, and the Lstat above saw no file.
		return os.Rename(old, new)
	}
	return &os.LinkError{Op: "rename", Old: old, New: new, Err: err}
}

// SyncDir fsyncs a directory, so that the names created, renamed or
// removed in it are on the disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
