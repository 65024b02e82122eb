package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/kmod"
	"github.com/wgboot/wgboot/internal/progress"
	"github.com/wgboot/wgboot/internal/rootfs"
)

// mountEarly mounts the pseudo filesystems, then moves logging from the
// console to /dev/kmsg. EBUSY means the filesystem is already mounted there
// (CONFIG_DEVTMPFS_MOUNT, or init run a second time), which is the state
// wanted.
func (b *boot) mountEarly(ctx context.Context) error {
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
		} else if m.fstype == "proc" {
			// As early as /proc allows: the rest of the boot runs
			// with sysmon waking less (see sysmonSlack).
			if err := calmSysmon(); err != nil {
				b.log.Debugf("sysmon's timer slack: %v", err)
			}
		}
	}
	if err := b.log.Open(); err != nil {
		b.log.Warnf("open /dev/kmsg: %v; logging to the console", err)
	}
	b.log.Infof("wgboot %s starting as PID 1", version)
	return errors.Join(errs...)
}

// profileDir is where images keep their board profiles.
const profileDir = "etc/wgboot/profiles"

// selectProfile identifies the board, picks its profile from the image,
// reads its keys, validates it and applies the command line.
func (b *boot) selectProfile(ctx context.Context) (func(), error) {
	// The profiles, the key files and the board's identity, read with
	// plain system calls rather than as os.Files (see internal/rootfs).
	root := rootfs.New("/")
	var p *board.Profile
	var diags board.Diagnostics
	var keyFiles []string
	var id board.Identity
	if file := b.over.Profile; file != "" {
		p, diags = board.Load(root, strings.TrimPrefix(file, "/"))
		b.log.Infof("profile %s (wgboot.profile= on the command line)", file)
	} else {
		all, ldiags := board.LoadDir(root, profileDir)
		for _, other := range all {
			keyFiles = append(keyFiles, keyFilesOf(other)...)
		}
		id = board.Identify(root)
		chosen, why := board.Select(all, id, b.over.Board)
		for _, d := range ldiags {
			if chosen != nil && d.Pos.File == chosen.File() {
				diags = append(diags, d) // reported below, with the lint
			} else {
				b.log.Warnf("profile: %v", d)
			}
		}
		// The other boards' profiles are not used: their text, which
		// may hold inline keys, goes now.
		for _, other := range all {
			if other != chosen {
				other.Wipe()
			}
		}
		if chosen == nil {
			return nil, fmt.Errorf("%w for board %s in /%s: %s", errNoProfile, id, profileDir, why)
		}
		b.log.Infof("profile %s for board %s: %s", chosen.File(), id, why)
		// LoadDir has parsed it: read its keys and lint it, as board.Load
		// would, without reading and parsing the file a second time.
		dir, err := fs.Sub(root, path.Dir(chosen.File()))
		if err != nil {
			return nil, err
		}
		p = chosen
		diags = append(diags, p.ReadKeys(board.KeySource{Root: root, Dir: dir})...)
		// Without the own-key lint and its X25519: the verify phase
		// checks the peers against the key the kernel derives.
		diags = append(diags, p.Validate(board.SkipSelfPeer)...)
		diags.Sort()
	}
	for _, d := range diags {
		if d.Severity == board.SeverityWarning {
			b.log.Warnf("profile: %v", d)
		} else {
			b.log.Errorf("profile: %v", d)
		}
	}
	if p != nil {
		onDrop(ctx, p.Wipe) // its keys, should the commit be dropped
	}
	policy := b.policy
	if p != nil && b.over.Profile != "" {
		keyFiles = append(keyFiles, keyFilesOf(p)...)
	}
	if p != nil {
		// The profile's policy applies even when it is invalid, if it
		// could be read: the firmware builder asked for it; the command
		// line's wins over it.
		if err := p.ApplyOverrides(b.over); err != nil {
			b.log.Warnf("kernel command line: %v", err)
		}
		if p.Handoff.OnFailure.Valid() {
			policy = p.Handoff.OnFailure
		}
	}
	commit := func() {
		b.policy = policy
		b.keyFiles = keyFiles
		b.id = id
		if diags.Err() == nil && p != nil {
			b.profile = p
			b.state.Board = p.Board.Name
			b.state.Profile = p.File()
			b.state.ProfileFrom = "image"
		} else if p != nil {
			p.Wipe() // never used: its keys go now
		}
	}
	if err := diags.Err(); err != nil {
		return commit, fmt.Errorf("profile invalid: %w", err)
	}
	if p == nil {
		return commit, errNoProfile
	}
	return commit, nil
}

// clockFloor sets the clock to the build time when it is earlier: boards
// without an RTC start in 1970, and a WireGuard responder rejects an
// initiation whose timestamp is older than one it has already seen.
func (b *boot) clockFloor(ctx context.Context) error {
	sec, err := strconv.ParseInt(buildTime, 10, 64)
	if err != nil || sec <= 0 {
		return nil // a development build has no floor
	}
	floor := time.Unix(sec, 0)
	if now := time.Now(); now.Before(floor) {
		tv := unix.NsecToTimeval(floor.UnixNano())
		if err := unix.Settimeofday(&tv); err != nil {
			return fmt.Errorf("set clock to the build time %s: %w", floor.UTC().Format(time.RFC3339), err)
		}
		b.log.Warnf("clock was %s, before this build: set to %s", now.UTC().Format(time.RFC3339), floor.UTC().Format(time.RFC3339))
	}
	return nil
}

// crngTimeout bounds the wait for the kernel's random number generator.
const crngTimeout = 30 * time.Second

// waitCRNG waits, bounded, until the kernel's CRNG is initialised: WireGuard
// drops handshakes until then, and boards without a hardware RNG can take a
// while. Past the bound the boot goes on with a warning.
func (b *boot) waitCRNG(ctx context.Context) error {
	buf := make([]byte, 1)
	limit := time.Now().Add(min(crngTimeout, deadlineLeft(ctx)/2))
	waited := false
	for {
		_, err := unix.Getrandom(buf, unix.GRND_NONBLOCK)
		if err == nil {
			if waited {
				b.log.Infof("crng ready")
			}
			return nil
		}
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("getrandom: %w", err)
		}
		if !waited {
			b.log.Infof("waiting for the kernel's CRNG to be seeded")
			waited = true
			// A blocking getrandom makes the kernel (5.4 and later)
			// gather entropy from CPU timing jitter until the CRNG is
			// ready, about a second; polls alone leave a board without a
			// hardware RNG waiting for interrupts, often past the bound.
			// The goroutine ends when the CRNG is ready; the wait here
			// stays bounded.
			go unix.Getrandom(make([]byte, 1), 0)
		}
		if time.Now().After(limit) {
			b.log.Warnf("crng not ready; WireGuard handshakes wait for it")
			return nil
		}
		progress.Report(ctx)
		time.Sleep(10 * time.Millisecond)
	}
}

// loadModules loads wireguard and the profile's modules, each after its
// dependencies.
func (b *boot) loadModules(ctx context.Context) error {
	names := append([]string{}, b.profile.Board.Modules...)
	if !slices.Contains(names, "wireguard") {
		names = append([]string{"wireguard"}, names...)
	}
	l, err := kmod.New(b.modParams)
	if err != nil {
		return err
	}
	res, err := l.LoadAll(names)
	var total time.Duration
	var loaded []string
	for _, r := range res {
		total += r.Duration
		if !r.Already {
			loaded = append(loaded, r.Name)
		}
	}
	b.log.Infof("modules: loaded %d in %v: %s", len(loaded), round(total), strings.Join(loaded, " "))
	if err != nil {
		return fmt.Errorf("load %s: %w", strings.Join(names, ","), err)
	}
	return nil
}

// signalSelf sends signals to PID 1, for the tests that check a boot is
// neither ended nor interrupted by them.
func (b *boot) signalSelf(sigs ...unix.Signal) {
	for _, s := range sigs {
		b.log.Infof("test: sending signal %d (%v) to PID 1", int(s), s)
		unix.Kill(1, s)
	}
	time.Sleep(100 * time.Millisecond) // let the signal loop log them
}
