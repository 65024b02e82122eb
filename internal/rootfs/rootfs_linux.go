// Package rootfs is a read-only fs.FS over a directory of the running
// system, as os.DirFS is, for PID 1's reads of small files: profiles, key
// files, the board's identity in sysfs, the kernel command line.
//
// os.DirFS opens every file with os.Open, which on Linux makes four fcntl
// calls and an epoll_ctl to try the runtime's poller (an EPOLL_CTL_DEL
// more at the close of the sysfs files the poller takes), and its fs.Sub
// has no Stat, so that fs.Stat of a key file opens it a second time. Here
// a file is opened with open(2) and wrapped by os.NewFile, which leaves a
// blocking descriptor out of the poller: one fcntl. Everything else
// (reads, Stat, ReadDir, errors) is package os's.
package rootfs

import (
	"errors"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// FS is the tree at a directory. Its methods take slash-separated paths
// relative to it, valid by fs.ValidPath, and follow symbolic links as
// os.DirFS does.
type FS struct{ dir string }

// New returns the tree at dir, an absolute directory ("/" at boot).
func New(dir string) *FS { return &FS{dir: dir} }

var (
	_ fs.StatFS = (*FS)(nil)
	_ fs.SubFS  = (*FS)(nil)
)

func (f *FS) join(name string) string {
	if name == "." {
		return f.dir
	}
	if f.dir == "/" {
		return "/" + name
	}
	return f.dir + "/" + name
}

// Open opens name for reading.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	file, err := open(f.join(name))
	if err != nil {
		err.(*fs.PathError).Path = name // as os.DirFS: the name asked for
		return nil, err
	}
	return file, nil
}

// Stat is os.Stat of name.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	info, err := os.Stat(f.join(name))
	if err != nil {
		err.(*fs.PathError).Path = name
		return nil, err
	}
	return info, nil
}

// Sub returns the tree at dir inside f: an FS again, with its Stat.
func (f *FS) Sub(dir string) (fs.FS, error) {
	if !fs.ValidPath(dir) {
		return nil, &fs.PathError{Op: "sub", Path: dir, Err: fs.ErrInvalid}
	}
	return &FS{dir: f.join(dir)}, nil
}

// open is os.Open of the absolute path name, without the poller.
func open(name string) (*os.File, error) {
	for {
		fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			return os.NewFile(uintptr(fd), name), nil
		}
		if !errors.Is(err, unix.EINTR) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
}

// ReadFile is os.ReadFile of the absolute path name, without the poller.
func ReadFile(name string) ([]byte, error) {
	f, err := open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close() // read-only; a close error loses nothing
	return io.ReadAll(f)
}
