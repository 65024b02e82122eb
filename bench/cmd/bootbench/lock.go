package main

import (
	"fmt"
	"os"
	"syscall"
)

// lockPath (-lock) is a file on which the bench holds an exclusive flock(2)
// while a guest runs, as flock(1) would: on a machine whose QEMU runs are
// serialised by such a lock, the bench waits for its turn before each boot
// and lets others run between its boots, instead of holding the lock for
// the whole run.
var lockPath string

// locked runs f holding the lock, if there is one.
func locked(f func() error) error {
	if lockPath == "" {
		return f()
	}
	fd, err := os.OpenFile(lockPath, os.O_RDONLY|os.O_CREATE, 0o666)
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer fd.Close() // releases the lock
	for {
		err = syscall.Flock(int(fd.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", lockPath, err)
	}
	return f()
}
