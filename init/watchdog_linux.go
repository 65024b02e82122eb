package main

import (
	"context"
	"errors"
	"io/fs"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/watchdog"
)

// The hardware watchdog ([board] watchdog; docs/boot.md, "Watchdog").
//
// It is opened as soon as the profile is chosen: the profile names the
// device, and no kernel command line override opens it earlier. The
// ~100 ms from the mounts to the profile are bounded by the default
// deadline, and a watchdog that the boot loader started is kept alive by
// the kernel until the open only for watchdog.open_timeout= seconds
// (CONFIG_WATCHDOG_OPEN_TIMEOUT), which covers a PID 1 that wedges before.
// A device whose driver is one of the board's modules appears in the
// modules phase and is opened right after it.
//
// Pings come from the boot's progress and from nothing else: the phase
// runner after each phase that succeeds, and the bounded waits inside a
// phase (through internal/progress) while its deadline holds. A phase
// stuck in a call, or a PID 1 that no longer runs, lets the watchdog
// expire and reset the board; once the bring-up has failed, nothing pings.

// watchdogDevice is what the boot uses of a watchdog.Device; the tests
// give a fake.
type watchdogDevice interface {
	Path() string
	Info() watchdog.Info
	Keepalive() error
	Release() error
	Disarm() error
}

// openWatchdogDevice opens the device; the tests replace it.
var openWatchdogDevice = func(path string, timeout time.Duration) (watchdogDevice, error) {
	d, err := watchdog.Open(path, timeout)
	if d == nil {
		return nil, err // a nil *Device is no nil interface
	}
	return d, err
}

// watchdogState is the boot's side of the watchdog. dev is set on the
// runner's goroutine; the pings may come from a phase's.
type watchdogState struct {
	dev      atomic.Pointer[watchdogDevice]
	lastPing atomic.Int64 // time.Since(b.start) of the last ping
	stopped  atomic.Bool  // the bring-up failed or the device was let go of
	warned   atomic.Bool  // a ping failed and was logged
	done     bool         // opened, or given up on: no more tries
}

// progressPingEvery limits the pings of waits that report progress many
// times a second.
const progressPingEvery = time.Second

// phaseDone is the runner's hook after each phase that succeeded.
func (b *boot) phaseDone(name string) {
	b.openWatchdog(name)
	b.pingWatchdog(false)
}

// reportProgress is the internal/progress reporter of the boot's
// contexts: a bounded wait is still within its bounds.
func (b *boot) reportProgress() { b.pingWatchdog(true) }

// openWatchdog opens the profile's watchdog once it can: after the profile
// phase, or after the modules phase for a device that a module brings.
func (b *boot) openWatchdog(phase string) {
	w := &b.dog
	if w.done || b.profile == nil || b.profile.Board.Watchdog == "" {
		return
	}
	bd := &b.profile.Board
	d, err := openWatchdogDevice(bd.Watchdog, bd.WatchdogTimeout)
	if d == nil {
		if errors.Is(err, fs.ErrNotExist) && !b.modulesLoaded(phase) {
			b.log.Debugf("watchdog %s: not there yet; trying again after the modules", bd.Watchdog)
			return
		}
		w.done = true
		if errors.Is(err, fs.ErrNotExist) {
			b.log.Errorf("watchdog %s: no such device after loading the modules (is its driver in board.modules?); the boot goes on without it", bd.Watchdog)
		} else {
			b.log.Errorf("watchdog %s: %v; the boot goes on without it", bd.Watchdog, err)
		}
		b.state.Watchdog = watchdogRecord(bd.Watchdog, nil, err)
		return
	}
	w.done = true
	w.dev.Store(&d)
	w.lastPing.Store(int64(time.Since(b.start)))
	info := d.Info()
	if err != nil {
		b.log.Warnf("watchdog %s (%s): %v; its timeout is %v", d.Path(), info.Identity, err, info.Timeout)
	} else {
		b.log.Infof("watchdog %s (%s): timeout %v", d.Path(), info.Identity, info.Timeout)
	}
	if info.BootStatus&unix.WDIOF_CARDRESET != 0 {
		b.log.Warnf("watchdog %s: the last reset was the watchdog's", d.Path())
	}
	b.state.Watchdog = watchdogRecord(d.Path(), d, err)
}

// watchdogRecord is the state file's account of the watchdog at path.
func watchdogRecord(path string, d watchdogDevice, err error) bootstate.Watchdog {
	r := bootstate.Watchdog{Device: path}
	if d != nil {
		info := d.Info()
		r.Identity = info.Identity
		r.TimeoutS = int(info.Timeout / time.Second)
		r.LastResetByWatchdog = info.BootStatus&unix.WDIOF_CARDRESET != 0
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

// modulesLoaded reports whether the modules phase has run, phase being the
// one just done.
func (b *boot) modulesLoaded(phase string) bool {
	if phase == "modules" {
		return true
	}
	for _, r := range b.r.results {
		if r.Name == "modules" {
			return true
		}
	}
	return false
}

// pingWatchdog keeps the watchdog alive. A progress report pings at most
// once a second; a phase's end always does.
func (b *boot) pingWatchdog(progress bool) {
	w := &b.dog
	dp := w.dev.Load()
	if dp == nil || w.stopped.Load() {
		return
	}
	now := time.Since(b.start)
	if progress && now-time.Duration(w.lastPing.Load()) < progressPingEvery {
		return
	}
	if err := (*dp).Keepalive(); err != nil {
		if !w.warned.Swap(true) {
			b.log.Warnf("watchdog %s: %v", (*dp).Path(), err)
		}
		return
	}
	w.lastPing.Store(int64(now))
}

// releaseWatchdog lets go of the watchdog as the boot ends, before the
// state file is written: disarmed with the magic close when the profile
// says watchdog_handoff = "disarm" or the policy halts the board (a halted
// board must stay so); otherwise closed and left running, for the next
// stage — or the rescue shell's user — to take over within its timeout, or
// for it to reset the board. After a successful bring-up it is pinged
// first, so that the next stage has a whole timeout; after a failure it is
// not, and counts on from the last progress.
func (b *boot) releaseWatchdog(bringUp error) {
	w := &b.dog
	w.stopped.Store(true)
	dp := w.dev.Swap(nil)
	if dp == nil {
		return
	}
	d := *dp
	disarm := b.profile.Board.WatchdogHandoff == board.WatchdogDisarm ||
		bringUp != nil && b.policy == board.FailHalt
	var err error
	if bringUp == nil {
		err = d.Keepalive()
	}
	timeout := d.Info().Timeout
	if disarm {
		err = errors.Join(err, d.Disarm())
		b.state.Watchdog.Handoff = "disarmed"
		b.log.Infof("watchdog %s: disarmed (magic close)", d.Path())
	} else {
		err = errors.Join(err, d.Release())
		b.state.Watchdog.Handoff = "armed"
		left := timeout
		if bringUp != nil {
			left = max(timeout-(time.Since(b.start)-time.Duration(w.lastPing.Load())), 0)
		}
		b.log.Infof("watchdog %s: left armed; it resets the board in %v unless the next stage opens it", d.Path(), left.Round(time.Second))
	}
	if err != nil {
		b.log.Warnf("watchdog %s: %v", d.Path(), err)
		b.state.Watchdog.Error = err.Error()
	}
}

// watchdogShellHint is printed above the rescue shell while the watchdog
// runs: the person there has until it expires.
func (b *boot) watchdogShellHint() string {
	wd := b.state.Watchdog
	if wd.Handoff != "armed" {
		return ""
	}
	return "The watchdog " + wd.Device + " is armed and resets the board when it expires: `printf V > " +
		wd.Device + "` stops it.\n"
}

// hangPhase makes the phase called name hang, ignoring its deadline as a
// call wedged in a driver would (wgboot.test=hang): the watchdog must then
// reset the board.
func (b *boot) hangPhase(phases []phase, name string) {
	for i := range phases {
		if phases[i].name == name {
			phases[i].run = func(ctx context.Context) (func(), error) {
				b.log.Warnf("test: phase %s hangs", name)
				time.Sleep(24 * time.Hour)
				return nil, nil
			}
		}
	}
}
