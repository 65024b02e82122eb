package board

import (
	"errors"
	"io"
	"io/fs"
)

// maxProfileFile bounds a profile file: a hub profile takes about 160 bytes
// per peer, so 8 MiB is some 50,000 peers. PID 1 reads every profile in the
// image, and wgboot.profile= may name any file, such as /dev/zero.
const maxProfileFile = 8 << 20

var (
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = errors.New("too large")
)

// readRegular reads name from fsys if it is a regular file of at most limit
// bytes, and returns its contents and the open file's FileInfo (for the
// mode). The caller owns the returned slice.
//
// A device (/dev/zero), a FIFO or a symlink to one is refused before it is
// opened: opening a FIFO blocks until it has a writer. The open file is
// checked again (fstat), and only as many bytes as it says it holds are
// read, so a regular file whose size the kernel reports as 0 (/proc/kmsg)
// reads as empty instead of blocking.
func readRegular(fsys fs.FS, name string, limit int64) ([]byte, fs.FileInfo, error) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, info, errNotRegular
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, info, err
	}
	defer f.Close() // read-only; a close error loses nothing
	if info, err = f.Stat(); err != nil {
		return nil, nil, err
	}
	switch {
	case !info.Mode().IsRegular():
		return nil, info, errNotRegular
	case info.Size() > limit:
		return nil, info, errTooLarge
	}
	buf := make([]byte, info.Size())
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		clear(buf)
		return nil, info, err
	}
	return buf[:n], info, nil
}
