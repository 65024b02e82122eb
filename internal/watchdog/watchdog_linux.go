package watchdog

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Device is an open watchdog. Its methods are safe for concurrent use;
// once it is released or disarmed, Keepalive reports [ErrClosed].
type Device struct {
	path string
	info Info

	mu sync.Mutex
	fd int // -1 once let go of
}

// Info is what the driver says about the watchdog.
type Info struct {
	// Identity is the driver's name for it, such as "Software Watchdog".
	Identity string
	// Options are the WDIOF_* flags the driver supports
	// (unix.WDIOF_SETTIMEOUT, unix.WDIOF_MAGICCLOSE, …).
	Options uint32
	// Timeout is the timeout in effect: what the driver granted, which
	// may differ from what was asked.
	Timeout time.Duration
	// BootStatus holds the WDIOF_* flags of WDIOC_GETBOOTSTATUS:
	// unix.WDIOF_CARDRESET when the watchdog caused the last reset, on
	// hardware that records it.
	BootStatus uint32
}

// ErrClosed is returned for a device that was released or disarmed.
var ErrClosed = errors.New("watchdog released")

// Open opens the watchdog at path, which starts it, and asks for timeout
// (whole seconds; the kernel's unit). A driver that refuses the timeout, or
// cannot set one, leaves its own: Open then returns the device with its
// Info and an error saying so, and the watchdog is running either way. On
// any other error nothing is left open.
func Open(path string, timeout time.Duration) (*Device, error) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	d := &Device{path: path, fd: fd}
	wi, err := unix.IoctlGetWatchdogInfo(fd)
	if err != nil {
		// The watchdog core answers WDIOC_GETSUPPORT for every driver:
		// this is not a watchdog. It may have started all the same;
		// nothing can be known about how to stop it.
		unix.Close(fd)
		return nil, &os.PathError{Op: "ioctl WDIOC_GETSUPPORT", Path: path, Err: err}
	}
	d.info.Identity = unix.ByteSliceToString(wi.Identity[:])
	d.info.Options = wi.Options
	if st, err := unix.IoctlGetUint32(fd, unix.WDIOC_GETBOOTSTATUS); err == nil {
		d.info.BootStatus = st
	}
	var setErr error
	secs := int(timeout / time.Second)
	if timeout%time.Second != 0 || secs < 1 {
		setErr = fmt.Errorf("timeout %v is not a whole number of seconds ≥ 1s", timeout)
	} else if err := unix.IoctlSetPointerInt(fd, unix.WDIOC_SETTIMEOUT, secs); err != nil {
		// EINVAL: out of the driver's range; EOPNOTSUPP: no
		// WDIOF_SETTIMEOUT.
		setErr = &os.PathError{Op: fmt.Sprintf("ioctl WDIOC_SETTIMEOUT %d", secs), Path: path, Err: err}
	}
	got, err := unix.IoctlGetUint32(fd, unix.WDIOC_GETTIMEOUT)
	if err != nil {
		setErr = errors.Join(setErr, &os.PathError{Op: "ioctl WDIOC_GETTIMEOUT", Path: path, Err: err})
	} else {
		d.info.Timeout = time.Duration(got) * time.Second
	}
	// The open started the timeout, and a successful SETTIMEOUT started
	// it again (the watchdog core pings after setting it).
	return d, setErr
}

// Path returns the device's path.
func (d *Device) Path() string { return d.path }

// Info returns what the driver said when the device was opened.
func (d *Device) Info() Info { return d.info }

// Keepalive pings the watchdog: its timeout starts again.
func (d *Device) Keepalive() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fd < 0 {
		return ErrClosed
	}
	if err := unix.IoctlWatchdogKeepalive(d.fd); err != nil {
		return &os.PathError{Op: "ioctl WDIOC_KEEPALIVE", Path: d.path, Err: err}
	}
	return nil
}

// Release closes the watchdog without the magic character: it keeps
// running, from its last ping, and the next program that opens the device
// takes it over. To give that program a whole timeout, call Keepalive
// first. The kernel logs "watchdog did not stop!", which is the intent. A
// driver without WDIOF_MAGICCLOSE in [Info.Options] may stop on every
// close.
func (d *Device) Release() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fd < 0 {
		return ErrClosed
	}
	return d.closeLocked()
}

// Disarm stops the watchdog with the magic close: it writes 'V', which
// tells the driver that the close to follow is deliberate, then closes the
// device. A kernel built with CONFIG_WATCHDOG_NOWAYOUT, or a driver loaded
// with nowayout=1, ignores it and the watchdog keeps running; the kernel
// then logs "watchdog did not stop!".
func (d *Device) Disarm() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fd < 0 {
		return ErrClosed
	}
	var err error
	if _, werr := unix.Write(d.fd, []byte{'V'}); werr != nil {
		err = &os.PathError{Op: "write magic close", Path: d.path, Err: werr}
	}
	return errors.Join(err, d.closeLocked())
}

func (d *Device) closeLocked() error {
	fd := d.fd
	d.fd = -1
	if err := unix.Close(fd); err != nil {
		return &os.PathError{Op: "close", Path: d.path, Err: err}
	}
	return nil
}
