package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockPath (-lock) is a file on which the bench holds an exclusive flock(2)
// while its guests run, as flock(1) would: on a machine whose QEMU runs are
// serialised by such a lock, the bench takes it for each arch's boots (a
// few minutes), for each peer-scaling run and for each boot outside those,
// and lets others run in between, instead of holding it for the whole run.
// Taking it per boot would queue each of a hundred boots behind others'
// test runs.
var lockPath string

// lockHeld is set while the lock is held: the bench is one goroutine, and
// a boot inside a locked span does not take it again.
var lockHeld bool

// lockWait is how long the run waited for the lock, in all.
var lockWait time.Duration

// locked runs f holding the lock, if there is one.
func locked(f func() error) error {
	if lockPath == "" || lockHeld {
		return f()
	}
	fd, err := os.OpenFile(lockPath, os.O_RDONLY|os.O_CREATE, 0o666)
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer fd.Close() // releases the lock
	start := time.Now()
	for {
		err = syscall.Flock(int(fd.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", lockPath, err)
	}
	if w := time.Since(start); w > time.Second {
		lockWait += w
		logf("waited %v for the lock %s", w.Round(time.Second), lockPath)
	}
	lockHeld = true
	defer func() { lockHeld = false }()
	return f()
}
