package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/gchold"
	"github.com/wgboot/wgboot/internal/kmsg"
	"github.com/wgboot/wgboot/internal/progress"
	"github.com/wgboot/wgboot/internal/rootfs"
	"github.com/wgboot/wgboot/netsetup/bringup"
)

// boot is PID 1's state from the first mount to the handoff.
type boot struct {
	log   *kmsg.Logger
	start time.Time
	r     *runner

	modParams map[string]string // <module>.<param>= from the command line
	over      board.Overrides
	id        board.Identity
	profile   *board.Profile
	image     *board.Profile // the image's, while the config partition's runs (fallback_linux.go)
	policy    board.OnFailure
	persist   *persistMount
	net       *network
	endpoints map[peerRef]bringup.Fallback // the peers' candidate endpoints, from the resolve phase
	state     state

	initArgs []string // what the kernel passed to init, passed on to the next
	keyFiles []string // every key file the image's profiles name, absolute

	parked   chan struct{}  // closed once PID 1 stays (see park)
	sigs     chan os.Signal // where signals go (pid1); park widens it to every signal
	parkOnce sync.Once
	rescue   remoteHooks // a remote rescue's signals (remote_linux.go); none in the default /init

	dog         watchdogState // [board] watchdog
	seedPending string        // a seed file to write at the end (see saveSeed)
	gcRestore   func()        // the collector back on (see main)
}

func newBoot(log *kmsg.Logger) *boot {
	b := &boot{log: log, start: time.Now(), policy: board.DefaultOnFailure, parked: make(chan struct{}),
		initArgs: os.Args[1:]}
	b.r = &runner{start: b.start, now: time.Now, logf: log.Logf, done: b.phaseDone}
	return b
}

// main is the boot, in order. Every phase runs under the boot deadline;
// the first failure ends the bring-up and the failure policy decides what
// follows. It returns only when PID 1 must stay (see pid1).
func (b *boot) main() {
	// No collector from the profile to the tunnels (internal/gchold): what
	// they allocate lives until the tunnels are up. finish restores it.
	b.gcRestore = gchold.Hold()
	early := []phase{
		{"mounts", only(b.mountEarly)}, // proc, sys, devtmpfs, /run; then /dev/kmsg
		{"cmdline", b.readCmdline},     // wgboot.* overrides, module parameters
		{"watchdog", b.watchdogEarly},  // the image's watchdog, when its profiles agree on one
		{"profile", b.selectProfile},   // board identity → profile, validated, keys read
	}
	// Until a profile says otherwise, the boot has the default deadline.
	// Bounded waits report their progress to the watchdog (see phaseDone).
	base := progress.With(context.Background(), b.reportProgress)
	ctx, cancel := context.WithDeadline(base, b.start.Add(board.DefaultDeadline))
	err := b.r.run(ctx, early)
	cancel()
	if err == nil {
		switch {
		case b.test("signals"):
			b.signalSelf(catchable()...)
		case b.test("sigterm"):
			b.signalSelf(unix.SIGTERM)
		}
		// The image's profile bounds the boot, whichever profile runs.
		end := b.start.Add(b.profile.Handoff.Deadline)
		err = b.runUntil(end, []phase{{"persist", b.persistUp}}) // the config partition, its profiles
		if err == nil {
			err = b.bringUp(end) // clock … handshake, and the fallback to the image's profile
		}
	}
	b.finish(err)
}

// finish reports the bring-up, writes the state file and ends the boot the
// way the outcome and the policy say.
func (b *boot) finish(err error) {
	b.gcRestore()
	if b.profile != nil {
		// Whatever happened, no key is needed any more: the kernel has
		// those of the tunnels that came up.
		b.profile.Wipe()
	}
	if b.image != nil {
		b.image.Wipe() // the fallback, not needed
	}
	total := round(time.Since(b.start))
	var timings []string
	for _, r := range b.r.results {
		timings = append(timings, fmt.Sprintf("%s=%v", r.Name, round(r.Dur)))
	}
	if err != nil {
		b.state.Failure = err.Error()
		b.log.Outcomef(levelErr, "FAILED in %v (%s): %v", total, strings.Join(timings, " "), err)
		b.noRemote()
		b.state.Policy = string(b.policy)
		b.log.Outcomef(levelErr, "policy %s: %s", b.policy, policyText[b.policy])
	} else {
		b.log.Outcomef(levelInfo, "READY in %v (%s)", total, strings.Join(timings, " "))
	}
	b.releaseWatchdog(err)
	b.saveClock()
	b.saveSeed()
	b.writeState()

	if err != nil && b.policy != board.FailContinue {
		b.failurePolicy(b.policy)
		return
	}
	if b.test("poweroff") {
		b.log.Infof("test mode: powering off instead of handing off")
		powerOff(b)
		return
	}
	if b.test("park") {
		b.log.Infof("test mode: staying in the initramfs, parked")
		return
	}
	if herr := b.handoff(); herr != nil {
		b.log.Outcomef(levelErr, "handoff failed: %v", herr)
		b.state.Failure = herr.Error()
		b.noRemote()
		b.writeState()
		b.handoffFailed()
	}
}

var policyText = map[board.OnFailure]string{
	board.FailContinue: "handing off without the tunnel",
	board.FailShell:    "starting a shell on the console",
	board.FailReboot:   "rebooting",
	board.FailHalt:     "halting",
	// board.FailRemote's is a rescue image's (remote_linux.go): the
	// default /init takes remote_fallback instead (noremote_linux.go).
}

// test reports whether the kernel command line asks for a test behaviour:
// wgboot.test=a,b names them. The QEMU tests use them to provoke what a
// real boot meets rarely (a stale link, a signal) and to end a boot without
// a root disk. A production command line has no wgboot.test.
func (b *boot) test(name string) bool {
	return slices.Contains(b.over.Test, name)
}

// only is a phase that leaves nothing for later phases.
func only(run func(ctx context.Context) error) func(context.Context) (func(), error) {
	return func(ctx context.Context) (func(), error) { return nil, run(ctx) }
}

func (b *boot) readCmdline(ctx context.Context) (func(), error) {
	data, err := rootfs.ReadFile("/proc/cmdline")
	if err != nil {
		return nil, err
	}
	params := moduleParams(string(data))
	over, err := board.ParseCmdline(string(data))
	if err != nil {
		b.log.Warnf("kernel command line: %v", err)
	}
	return func() {
		b.modParams, b.over = params, over
		if over.Debug {
			b.log.SetDebug(true)
		}
		b.log.SetQuiet(over.Quiet)
		if over.OnFailure != "" {
			b.policy = over.OnFailure // until a profile is chosen, the command line's policy holds
		}
	}, nil
}

// phaseIdle reports whether the bring-up phase name has nothing to do with
// the profile chosen, and what its commit then is; the runner does not
// start such a phase (see runner.idle; bringUp sets it). It reads the
// profile and logs: no system call that waits. The phases' own functions keep the same
// checks, for the tests that call them directly.
func (b *boot) phaseIdle(name string) (func(), bool) {
	if b.profile == nil {
		return nil, false
	}
	switch name {
	case "ntp":
		return nil, len(b.profile.Clock.NTP) == 0
	case "uplink":
		return b.noUplink()
	case "resolve":
		if _, planned := endpointHosts(b.profile); !planned {
			// As resolveEndpoints: nothing of an earlier profile's
			// (one the boot fell back from) may stay.
			return func() { b.endpoints, b.state.Names = nil, nil }, true
		}
	}
	return nil, false
}

// deadlineLeft is how long the boot may still take.
func deadlineLeft(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d)
	}
	return time.Hour
}

var errNoProfile = errors.New("no profile")

// keyFilesOf lists the key files p names in the image, as absolute paths:
// relative ones are relative to the profile's directory. Key files on the
// config partition are the board's own and stay: the partition is
// unmounted before the handoff.
func keyFilesOf(p *board.Profile) []string {
	dir := "/" + path.Dir(p.File())
	abs := func(f string) string {
		if strings.HasPrefix(f, "/") {
			return path.Clean(f)
		}
		return path.Join(dir, f)
	}
	var out []string
	for _, t := range p.Tunnels {
		if t.PrivateKeyFile != "" && !board.OnPersist(t.PrivateKeyFile) {
			out = append(out, abs(t.PrivateKeyFile))
		}
		for _, peer := range t.Peers {
			if peer.PresharedKeyFile != "" && !board.OnPersist(peer.PresharedKeyFile) {
				out = append(out, abs(peer.PresharedKeyFile))
			}
		}
	}
	return out
}
