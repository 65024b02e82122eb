package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/kmsg"
)

// pid1 runs the boot and then parks, reaping children. It never returns.
func pid1() {
	// Signals first: the Go runtime installs handlers, so an unhandled
	// SIGTERM/SIGINT/SIGHUP would make this process exit, and the kernel
	// panics when PID 1 exits.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGCHLD, unix.SIGUSR1, unix.SIGUSR2)

	log := kmsg.New("wgboot", os.Stderr)
	b := &boot{log: log, start: time.Now()}
	func() {
		defer func() {
			if r := recover(); r != nil {
				log.Errorf("FATAL: panic: %v\n%s", r, debug.Stack())
				b.failed = fmt.Errorf("panic: %v", r)
			}
		}()
		b.run()
	}()
	park(b, sigs)
}

// park is where PID 1 lives after boot: it reaps orphans and answers
// signals. It never returns; it must not block on nothing, or the Go
// runtime would call it a deadlock and exit.
func park(b *boot, sigs chan os.Signal) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case s := <-sigs:
			switch s {
			case unix.SIGCHLD:
				reap()
			default:
				b.log.Warnf("signal %v ignored: init keeps running", s)
			}
		case <-tick.C:
			reap()
		}
	}
}

// reap collects every exited child without blocking.
func reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// boot holds what the boot phases share.
type boot struct {
	log     *kmsg.Logger
	start   time.Time
	cmdline cmdline
	timings []timing
	failed  error
}

type timing struct {
	name string
	d    time.Duration
}

// phase is one step of the boot.
type phase struct {
	name string
	fn   func(*boot) error
}

func (b *boot) run() {
	phases := []phase{
		{"mounts", mountEarly},
		{"cmdline", readCmdline},
		{"crng", waitCRNG},
		{"modules", loadModules},
		{"tunnel", tunnelUp},
	}
	for _, p := range phases {
		start := time.Now()
		err := p.fn(b)
		d := time.Since(start)
		b.timings = append(b.timings, timing{p.name, d})
		if err != nil {
			b.log.Errorf("phase %s failed after %v: %v", p.name, d.Round(time.Microsecond), err)
			b.failed = fmt.Errorf("%s: %w", p.name, err)
			break
		}
		b.log.Infof("phase %s done in %v", p.name, d.Round(time.Microsecond))
	}
	var parts []string
	for _, t := range b.timings {
		parts = append(parts, fmt.Sprintf("%s=%v", t.name, t.d.Round(time.Microsecond)))
	}
	total := time.Since(b.start).Round(time.Microsecond)
	if b.failed != nil {
		b.log.Errorf("FAILED in %v (%s): %v", total, strings.Join(parts, " "), b.failed)
	} else {
		b.log.Infof("READY in %v (%s)", total, strings.Join(parts, " "))
	}
	if v, ok := b.cmdline.get("wgboot.test"); ok && v == "poweroff" {
		unix.Sync()
		if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
			b.log.Errorf("power off: %v", err)
		}
	}
}

// mountEarly mounts the pseudo filesystems. EBUSY means the filesystem is
// already mounted there (a kernel with CONFIG_DEVTMPFS_MOUNT, or a rerun).
func mountEarly(b *boot) error {
	mounts := []struct {
		fstype, target string
		flags          uintptr
		data           string
	}{
		{"proc", "/proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		{"sysfs", "/sys", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		{"devtmpfs", "/dev", unix.MS_NOSUID, "mode=0755"},
		{"tmpfs", "/run", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755"},
	}
	var errs []error
	for _, m := range mounts {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		err := unix.Mount(m.fstype, m.target, m.fstype, m.flags, m.data)
		if err != nil && !errors.Is(err, unix.EBUSY) {
			errs = append(errs, fmt.Errorf("mount -t %s %s: %w", m.fstype, m.target, err))
		}
	}
	if err := b.log.Open(); err != nil {
		b.log.Warnf("open /dev/kmsg: %v; logging to the console", err)
	}
	return errors.Join(errs...)
}

func readCmdline(b *boot) error {
	data, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return err
	}
	b.cmdline = parseCmdline(string(data))
	if _, ok := b.cmdline.get("wgboot.debug"); ok {
		b.log.SetDebug(true)
	}
	return nil
}

// waitCRNG waits, bounded, until the kernel's random number generator is
// initialised: WireGuard drops handshakes until then, and boards without a
// hardware RNG can take a long time to get there.
func waitCRNG(b *boot) error {
	const limit = 10 * time.Second
	buf := make([]byte, 1)
	deadline := time.Now().Add(limit)
	for {
		_, err := unix.Getrandom(buf, unix.GRND_NONBLOCK)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("getrandom: %w", err)
		}
		if time.Now().After(deadline) {
			b.log.Warnf("crng not ready after %v; WireGuard handshakes wait for it", limit)
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}
