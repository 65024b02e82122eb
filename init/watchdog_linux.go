package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/kmod"
	"github.com/wgboot/wgboot/internal/watchdog"
)

// The hardware watchdog ([board] watchdog; docs/boot.md, "Watchdog").
//
// It is opened at the first point where its device is known and there:
//
//   - In the watchdog phase, right after the early mounts and the command
//     line (which carries the drivers' module parameters), when the image
//     says which watchdog every one of its profiles names
//     (board.EarlyWatchdogFile, written by the image builder): at once if
//     the device node is there (a built-in driver, as on real boards), else
//     after loading the watchdog drivers (modules.dep files under
//     drivers/watchdog/) among the modules every profile loads.
//   - Otherwise after the profile phase, from the chosen profile, or after
//     the modules phase for a device that one of the board's modules
//     brings. A profile (wgboot.profile=) that names another watchdog than
//     the one opened early, or none, takes over after the profile phase:
//     the early one is stopped with the magic close, the profile's opened.
//
// A watchdog that the boot loader started is kept alive by the kernel
// until the open only for watchdog.open_timeout= seconds
// (CONFIG_WATCHDOG_OPEN_TIMEOUT), which covers a PID 1 that wedges before.
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
	// early is the image's watchdog that the watchdog phase opened, set
	// on the runner's goroutine; nil when it opened none.
	early *board.EarlyWatchdog
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

// earlyWatchdogPath is board.EarlyWatchdogFile in the image; the tests
// replace it.
var earlyWatchdogPath = "/" + board.EarlyWatchdogFile

// watchdogEarly is the watchdog phase, right after the mounts and the
// command line: it opens the image's watchdog (board.EarlyWatchdogFile)
// before the profile is chosen, loading its driver first when the device
// is not there. Nothing here fails the boot: a watchdog that cannot be
// opened now is tried again after the profile phase, as without the
// file. If the deadline passes first, the device is closed once the phase
// returns, left armed and unpinged: it resets the board unless the next
// stage takes it over.
func (b *boot) watchdogEarly(ctx context.Context) (func(), error) {
	data, err := os.ReadFile(earlyWatchdogPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var ew board.EarlyWatchdog
	if err == nil {
		ew, err = board.ParseEarlyWatchdog(data)
	}
	if err != nil {
		b.log.Warnf("watchdog: %v; opened after the profile phase instead", err)
		return nil, nil
	}
	drivers, lerr := loadWatchdogDrivers(ew.Device, b.modParams, ew.Modules)
	d, err := openWatchdogDevice(ew.Device, ew.Timeout)
	if d != nil {
		// Should the commit be dropped, the device is closed, left
		// armed: the next stage (or the rescue) can open it, which
		// it could not while /init kept it open.
		onDrop(ctx, func() { d.Release() })
	}
	return func() {
		if len(drivers) > 0 {
			b.log.Infof("watchdog %s: driver loaded: %s", ew.Device, strings.Join(drivers, " "))
		}
		if lerr != nil {
			b.log.Warnf("watchdog %s: load its driver: %v", ew.Device, lerr)
		}
		if d == nil {
			// Tried again, and reported, after the profile phase.
			b.log.Infof("watchdog %s: %v; trying again once the profile is chosen", ew.Device, err)
			return
		}
		b.dog.early = &ew
		b.watchdogOpened(d, err, "right after the early mounts")
	}, nil
}

// loadWatchdogDrivers loads, when device is not there, the watchdog
// drivers among modules: those whose modules.dep file is under
// drivers/watchdog/. It returns their names. The tests replace it.
var loadWatchdogDrivers = func(device string, params map[string]string, modules []string) ([]string, error) {
	if _, err := os.Stat(device); !errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	l, err := kmod.New(params)
	if err != nil {
		return nil, err
	}
	var drivers []string
	for _, m := range modules {
		f, ok, err := l.File(m)
		if err != nil {
			return nil, err
		}
		if ok && strings.Contains(f, "drivers/watchdog/") {
			drivers = append(drivers, m)
		}
	}
	if len(drivers) == 0 {
		return nil, nil
	}
	_, err = l.LoadAll(drivers)
	return drivers, err
}

// openWatchdog opens the profile's watchdog once it can: after the profile
// phase, or after the modules phase for a device that a module brings. A
// watchdog the watchdog phase opened stays if the profile names it, with
// the same timeout; otherwise the profile's takes over.
func (b *boot) openWatchdog(phase string) {
	w := &b.dog
	p := b.watchdogProfile() // the image's, also under a partition's profile
	if w.done || p == nil {
		return
	}
	bd := &p.Board
	if w.early != nil {
		if bd.Watchdog == w.early.Device && bd.WatchdogTimeout == w.early.Timeout {
			w.done = true
			return
		}
		b.stopEarlyWatchdog()
	}
	if bd.Watchdog == "" {
		return
	}
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
	b.watchdogOpened(d, err, "")
}

// stopEarlyWatchdog stops the watchdog the watchdog phase opened, for a
// profile that names another or none: with the magic close, so that it
// does not reset the board (a driver with nowayout ignores it, and says
// so through the error).
func (b *boot) stopEarlyWatchdog() {
	w := &b.dog
	ew := w.early
	w.early = nil
	dp := w.dev.Swap(nil)
	b.state.Watchdog = bootstate.Watchdog{}
	if dp == nil {
		return
	}
	if err := (*dp).Disarm(); err != nil {
		b.log.Errorf("watchdog %s: the profile names %q (timeout %v), so the image's is stopped: %v", ew.Device, b.watchdogProfile().Board.Watchdog, b.watchdogProfile().Board.WatchdogTimeout, err)
		return
	}
	b.log.Infof("watchdog %s: stopped (magic close): the profile names %q (timeout %v)", ew.Device, b.watchdogProfile().Board.Watchdog, b.watchdogProfile().Board.WatchdogTimeout)
}

// watchdogOpened takes d, just opened (err: its timeout was not taken),
// as the boot's watchdog, and logs and records it; when says when, if it
// is not the profile's time.
func (b *boot) watchdogOpened(d watchdogDevice, err error, when string) {
	w := &b.dog
	w.done = w.early == nil
	w.dev.Store(&d)
	w.lastPing.Store(int64(time.Since(b.start)))
	info := d.Info()
	if when != "" {
		when = " (" + when + ")"
	}
	if err != nil {
		b.log.Warnf("watchdog %s (%s): %v; its timeout is %v%s", d.Path(), info.Identity, err, info.Timeout, when)
	} else {
		b.log.Infof("watchdog %s (%s): timeout %v%s", d.Path(), info.Identity, info.Timeout, when)
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

// watchdogProfile is the profile whose [board] watchdog keys hold: the
// image's, also when a config partition's profile runs (b.image is then
// the image's), since the partition's profiles never change the watchdog
// (docs/boot.md). Nil before a profile is chosen.
func (b *boot) watchdogProfile() *board.Profile {
	if b.image != nil {
		return b.image
	}
	return b.profile
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
	handoff := board.DefaultWatchdogHandoff
	switch {
	case b.watchdogProfile() != nil:
		handoff = b.watchdogProfile().Board.WatchdogHandoff
	case w.early != nil:
		handoff = w.early.Handoff // opened early, and no profile chosen
	}
	disarm := handoff == board.WatchdogDisarm ||
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

// disarmForHalt stops, with the magic close, the watchdog that the boot's
// end left armed, before the halt policy powers the board off: a halted
// board must stay so, and a board that cannot power off only halts. The
// boot's end disarms it itself when the bring-up failed under halt; this
// is for a halt decided later, with the device already let go of:
// remote_fallback = "halt" (no rescue could be offered), or a handoff
// that failed after a successful bring-up. The device is opened again to
// be stopped, as the remote rescue opens it again to feed it.
func (b *boot) disarmForHalt() {
	wd := &b.state.Watchdog
	if wd.Handoff != "armed" || wd.Device == "" {
		return
	}
	d, err := openWatchdogDevice(wd.Device, time.Duration(wd.TimeoutS)*time.Second)
	if d == nil {
		b.log.Errorf("watchdog %s: %v; it resets the halted board", wd.Device, err)
		return
	}
	if err := d.Disarm(); err != nil {
		b.log.Errorf("watchdog %s: %v; it resets the halted board", wd.Device, err)
		return
	}
	wd.Handoff = "disarmed"
	b.log.Infof("watchdog %s: disarmed (magic close): the board halts", wd.Device)
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
