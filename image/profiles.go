package image

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/wgboot/wgboot/board"
)

// ProfileDir is where images keep board profiles; PID 1 picks one of them.
const ProfileDir = "/etc/wgboot/profiles"

// Profiles returns the image files for the board profiles at the host paths
// given — each profile, and the key files it names by a relative path,
// which are resolved against the profile's directory and stored 0600, and
// board.EarlyWatchdogFile when every profile names the same watchdog — and
// the union of the modules the profiles list, wireguard first, with those
// a [persist] partition's file system needs ([board.FSModules]).
//
// Key files are read by the rules the boot reads them by
// ([board.ReadKeyFile]): a relative path may not leave the profile's
// directory, by ".." or by a symlink, and must name a regular file of at
// most 4 KiB. So a profile cannot copy any other file of the build host
// into an image.
//
// Key files named by an absolute path are the image's business: add them
// with Spec.Files (or provision them later); they are not looked up on the
// build host.
func Profiles(paths []string) ([]File, []string, error) {
	var files []File
	modules := []string{"wireguard"}
	seen := map[string]bool{}
	var profs []*board.Profile
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		prof, diags := board.Parse(p, data)
		if err := diags.Err(); err != nil {
			return nil, nil, fmt.Errorf("profile %s: %w", p, err)
		}
		profs = append(profs, prof)
		base := filepath.Base(p)
		files = append(files, File{Path: path.Join(ProfileDir, base), Data: data})
		// The config partition's file system modules: PID 1 loads them
		// before it mounts the partition.
		for _, m := range append(prof.Board.Modules, board.FSModules(prof.Persist.FSType)...) {
			if !slices.Contains(modules, ModuleName(m)) {
				modules = append(modules, ModuleName(m))
			}
		}
		var keys []string
		for _, t := range prof.Tunnels {
			keys = append(keys, t.PrivateKeyFile)
			for _, peer := range t.Peers {
				keys = append(keys, peer.PresharedKeyFile)
			}
		}
		kf, err := keyFiles(p, keys, seen)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, kf...)
	}
	// The watchdog every profile names is opened right after the early
	// mounts, before the profile is chosen (docs/boot.md, "Watchdog").
	if ew, ok := board.EarlyWatchdogOf(profs); ok {
		files = append(files, File{Path: "/" + board.EarlyWatchdogFile, Data: ew.Marshal()})
	}
	return files, modules, nil
}

// keyFiles reads the key files a profile at host path p names by a
// relative path, skipping those already in seen.
func keyFiles(p string, keys []string, seen map[string]bool) ([]File, error) {
	root, err := os.OpenRoot(filepath.Dir(p))
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", p, err)
	}
	defer root.Close()
	src := board.KeySource{Dir: keyDir{root}}
	var files []File
	for _, k := range keys {
		if k == "" || path.IsAbs(k) {
			continue
		}
		dst := path.Join(ProfileDir, path.Clean(k))
		if seen[dst] {
			continue
		}
		seen[dst] = true
		data, err := board.ReadKeyFile(src, k)
		if err != nil {
			return nil, fmt.Errorf("profile %s: key file: %w", p, err)
		}
		files = append(files, File{Path: dst, Data: data, Mode: 0o600})
	}
	return files, nil
}

// keyDir is a profile's directory for board.ReadKeyFile: an os.Root, which
// follows no symlink out of it, whose files are opened non-blocking so that
// a FIFO put in place of a key after its check cannot hang the build (the
// fstat after the open then refuses it).
type keyDir struct{ root *os.Root }

func (d keyDir) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return d.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

func (d keyDir) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	return d.root.Stat(name)
}
