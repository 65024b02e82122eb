package kmod

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// New returns a Loader for /lib/modules/<release> of the running kernel,
// loading with finit_module(2).
func New(params map[string]string) (*Loader, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, fmt.Errorf("uname: %w", err)
	}
	dir := filepath.Join("/lib/modules", unix.ByteSliceToString(u.Release[:]))
	return &Loader{
		FS:      os.DirFS(dir),
		Load:    func(file, params string) error { return finit(filepath.Join(dir, file), params) },
		Builtin: func(name string) bool { _, err := os.Stat("/sys/module/" + name); return err == nil },
		Params:  params,
	}, nil
}

// finit loads one module file. Compressed modules are handed to the kernel
// with MODULE_INIT_COMPRESSED_FILE, which needs CONFIG_MODULE_DECOMPRESS;
// images built by wgboot carry plain .ko files.
func finit(path, params string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	flags := 0
	if !strings.HasSuffix(path, ".ko") {
		flags |= unix.MODULE_INIT_COMPRESSED_FILE
	}
	err = unix.FinitModule(int(f.Fd()), params, flags)
	if errors.Is(err, unix.EEXIST) {
		return ErrExist
	}
	if err != nil {
		return fmt.Errorf("finit_module: %w", err)
	}
	return nil
}
