package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/blkid"
	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/kmod"
	"github.com/wgboot/wgboot/internal/persist"
	"github.com/wgboot/wgboot/internal/rootfs"
)

// persistWait bounds the wait for the config partition to appear: a disk
// that is there shows up in well under a second once its driver is loaded.
const persistWait = 10 * time.Second

// persistMount is the config partition as the persist phase left it.
type persistMount struct {
	dev     blkid.Device
	fstype  string
	mounted bool
}

// persistPath returns where a file of the config partition is, relative
// path rel (such as "wgboot/random-seed"), and whether the partition is
// mounted. Phases after persist use it; it reads what the persist phase
// committed.
func (b *boot) persistPath(rel string) (string, bool) {
	if b.persist == nil || !b.persist.mounted {
		return "", false
	}
	return path.Join(persist.Dir, rel), true
}

// persistUp finds the config partition the profile's [persist] table
// names, mounts it on /persist, and reads the board's own profiles there:
// one that fits the board runs instead of the image's, which stays as the
// last-known-good profile to fall back to.
func (b *boot) persistUp(ctx context.Context) (func(), error) {
	img := b.profile
	ps := img.Persist
	if ps.Device == "" {
		b.log.Debugf("persist: none in the profile")
		return nil, nil
	}
	st := bootstate.Persist{Device: ps.Device, FSType: ps.FSType}
	failed := func(err error) (func(), error) {
		st.Error = err.Error()
		return func() { b.state.Persist = st }, fmt.Errorf("config partition: %w", err)
	}
	spec, err := blkid.Parse(ps.Device)
	if err != nil {
		return failed(err) // the lint refuses it; here only if it changed
	}
	// The disk's driver (board.modules) and the file system's modules go
	// in before the partition is looked for; the modules phase finds them
	// loaded.
	if err := b.loadModulesFor("persist", append(append([]string{}, img.Board.Modules...), board.FSModules(ps.FSType)...)); err != nil {
		return failed(err)
	}
	dev, err := blkid.Finder{}.Wait(ctx, spec, min(persistWait, deadlineLeft(ctx)/2))
	if err != nil {
		return failed(err)
	}
	st.Path = dev.Path
	if err := mountPersist(dev.Path, ps.FSType); err != nil {
		return failed(err)
	}
	pm := &persistMount{dev: dev, fstype: ps.FSType, mounted: true}
	b.log.Infof("persist: %s is %s (%s), mounted on %s", ps.Device, dev.Path, ps.FSType, persist.Dir)

	chosen, fb := b.partitionProfile(img)
	return func() {
		b.persist = pm
		b.state.Persist = st
		b.state.Fallback = fb
		if chosen != nil {
			b.image = img
			b.useProfile(chosen, "persist")
		}
	}, nil
}

// mountPersist mounts the config partition: nodev, nosuid, noexec and
// noatime (flash wears); on vfat, which stores no modes, its files read as
// 0600 and its directories as 0700.
func mountPersist(dev, fstype string) error {
	if err := os.MkdirAll(persist.Dir, 0o700); err != nil {
		return err
	}
	data := ""
	if fstype == "vfat" {
		data = "fmask=0177,dmask=0077"
	}
	flags := uintptr(unix.MS_NODEV | unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NOATIME)
	if err := unix.Mount(dev, persist.Dir, fstype, flags, data); err != nil {
		return fmt.Errorf("mount -t %s %s %s: %w", fstype, dev, persist.Dir, err)
	}
	return nil
}

// partitionProfileDir is the partition's profile directory as the image's
// root file system sees it.
var partitionProfileDir = strings.TrimPrefix(path.Join(persist.Dir, persist.ProfileDir), "/")

// partitionProfile reads the profiles of the config partition and returns
// the one that fits the board, checked and with its keys read; or nil, and
// which profile was given up and why when one was (nothing when the
// partition simply has none for the board).
func (b *boot) partitionProfile(img *board.Profile) (*board.Profile, bootstate.Fallback) {
	none := bootstate.Fallback{}
	if b.over.Profile != "" {
		b.log.Infof("profile: wgboot.profile= pins %s; the config partition's profiles are not read", b.over.Profile)
		return nil, none
	}
	root := rootfs.New("/") // as the image's profiles (selectProfile)
	if _, err := fs.Stat(root, partitionProfileDir); err != nil {
		b.log.Debugf("profile: none on the config partition (%v)", err)
		return nil, none
	}
	all, ldiags := board.LoadDir(root, partitionProfileDir)
	chosen, why := board.Select(all, b.id, b.over.Board)
	var diags board.Diagnostics
	for _, d := range ldiags {
		if chosen != nil && d.Pos.File == chosen.File() {
			diags = append(diags, d)
		} else {
			b.log.Warnf("profile: %v", d)
		}
	}
	if chosen == nil {
		b.log.Infof("profile: none of the config partition's profiles is for board %s (%s); the image's runs", b.id, why)
		for _, d := range ldiags {
			if d.Severity == board.SeverityError {
				// A profile that could not be parsed may have been
				// this board's: the state file says so.
				return nil, bootstate.Fallback{Profile: d.Pos.File, Reason: "unreadable: " + d.Error()}
			}
		}
		return nil, none
	}
	b.log.Infof("profile %s on the config partition for board %s: %s", chosen.File(), b.id, why)
	chosen.OnPartition = true
	dir, err := fs.Sub(root, path.Dir(chosen.File()))
	if err == nil {
		diags = append(diags, chosen.ReadKeys(board.KeySource{Root: root, Dir: dir})...)
	}
	diags = append(diags, chosen.Validate(board.SkipSelfPeer)...) // the own key: see selectProfile
	diags.Sort()
	for _, d := range diags {
		if d.Severity == board.SeverityWarning {
			b.log.Warnf("profile: %v", d)
		} else {
			b.log.Errorf("profile: %v", d)
		}
	}
	if err == nil {
		err = diags.Err()
	}
	if err != nil {
		chosen.Wipe()
		b.log.Errorf("profile %s on the config partition is invalid: falling back to the image's %s", chosen.File(), img.File())
		return nil, bootstate.Fallback{Profile: chosen.File(), Reason: "invalid: " + firstLine(err.Error())}
	}
	// The image's profile says where the partition is, and what else
	// [persist] says: the partition's own table is ignored (the lint
	// warns).
	chosen.Persist = img.Persist
	chosen.ApplyOverrides(b.over)
	return chosen, none
}

// useProfile makes p the profile the boot runs, from "image" or "persist".
func (b *boot) useProfile(p *board.Profile, from string) {
	b.profile = p
	if p.Handoff.OnFailure.Valid() {
		b.policy = p.Handoff.OnFailure
	}
	b.state.Board = p.Board.Name
	b.state.Profile = p.File()
	b.state.ProfileFrom = from
}

// loadModulesFor loads modules for a phase other than modules, logging
// which were loaded.
func (b *boot) loadModulesFor(what string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	l, err := kmod.New(b.modParams)
	if err != nil {
		return err
	}
	res, err := l.LoadAll(names)
	var loaded []string
	for _, r := range res {
		if !r.Already {
			loaded = append(loaded, r.Name)
		}
	}
	if len(loaded) > 0 {
		b.log.Infof("%s: loaded %s", what, strings.Join(loaded, " "))
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", strings.Join(names, ","), err)
	}
	return nil
}

// persistRelease syncs and unmounts the config partition before the
// handoff or a reboot: the main system mounts it itself, where and how it
// wants (and may fsck it first). Failures are logged: they must not stop
// the handoff. A lazy unmount is the last resort, for a file left open.
func (b *boot) persistRelease() {
	if b.persist == nil {
		// A persist phase cut off by the deadline after its mount
		// committed nothing: the partition may be mounted all the same.
		if b.profile != nil && b.profile.Persist.Device != "" && unix.Unmount(persist.Dir, 0) == nil {
			b.log.Infof("persist: %s unmounted", persist.Dir)
		}
		return
	}
	if !b.persist.mounted {
		return
	}
	unix.Sync()
	err := unix.Unmount(persist.Dir, 0)
	if err != nil {
		b.log.Warnf("persist: unmount %s: %v; detaching it", persist.Dir, err)
		err = unix.Unmount(persist.Dir, unix.MNT_DETACH)
	}
	if err != nil {
		b.log.Errorf("persist: unmount %s: %v", persist.Dir, err)
		return
	}
	b.persist.mounted = false
	b.log.Infof("persist: %s synced and unmounted", persist.Dir)
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
