package image

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/wgboot/wgboot/board"
)

// ProfileDir is where images keep board profiles; PID 1 picks one of them.
const ProfileDir = "/etc/wgboot/profiles"

// Profiles returns the image files for the board profiles at the host paths
// given — each profile, and the key files it names by a relative path,
// which are resolved against the profile's directory and stored 0600 — and
// the union of the modules the profiles list, wireguard first.
//
// Key files named by an absolute path are the image's business: add them
// with Spec.Files (or provision them later); they are not looked up on the
// build host.
func Profiles(paths []string) ([]File, []string, error) {
	var files []File
	modules := []string{"wireguard"}
	seen := map[string]bool{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		prof, diags := board.Parse(p, data)
		if err := diags.Err(); err != nil {
			return nil, nil, fmt.Errorf("profile %s: %w", p, err)
		}
		base := filepath.Base(p)
		files = append(files, File{Path: path.Join(ProfileDir, base), Data: data})
		for _, m := range prof.Board.Modules {
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
		for _, k := range keys {
			if k == "" || path.IsAbs(k) {
				continue
			}
			dst := path.Join(ProfileDir, path.Clean(k))
			if seen[dst] {
				continue
			}
			seen[dst] = true
			data, err := os.ReadFile(filepath.Join(filepath.Dir(p), filepath.FromSlash(k)))
			if err != nil {
				return nil, nil, fmt.Errorf("profile %s: key file: %w", p, err)
			}
			files = append(files, File{Path: dst, Data: data, Mode: 0o600})
		}
	}
	return files, modules, nil
}
