package board

import (
	"path"
	"slices"
	"strings"

	"github.com/wgboot/wgboot/internal/blkid"
	"github.com/wgboot/wgboot/internal/persist"
)

// FSModules are the kernel modules that mounting a config partition of
// type fstype needs: vfat, and the code page and character set that FAT
// file names are read with (the kernel's defaults, FAT_DEFAULT_CODEPAGE
// 437 and FAT_DEFAULT_IOCHARSET "ascii" in Debian's kernels), which the
// kernel would otherwise ask a modprobe for that an initramfs has not. The
// image builder puts them in the image; PID 1 loads them before it mounts.
// ext4 is built into the kernels wgboot is tested with; where it is a
// module, list it in board.modules.
func FSModules(fstype string) []string {
	if fstype == "vfat" {
		return []string{"vfat", "nls_cp437", "nls_ascii"}
	}
	return nil
}

// persistFSTypes are the file systems a config partition may have.
var persistFSTypes = []string{"ext4", "vfat"}

// OnPersist reports whether a key file path names a file on the config
// partition: an absolute path under /persist.
func OnPersist(name string) bool {
	return hasPrefix(name, "/") && hasPrefix(path.Clean(name), persist.Dir+"/")
}

// persist checks the [persist] table.
func (v *validator) persist() {
	ps := &v.p.Persist
	if v.p.OnPartition {
		if *ps != (Persist{}) {
			v.r.warnf("persist", ErrInvalid, "ignored: this profile is on the config partition, and the image's profile says where that is")
		}
		return
	}
	if ps.Device == "" {
		if (ps.FSType != "" || ps.RandomSeed || ps.SaveClock) && !v.isBad("persist.device") {
			v.r.errorf("persist.device", ErrRequired, "required in [persist]: the partition, e.g. \"LABEL=wgboot\"")
		}
		return
	}
	spec, err := blkid.Parse(ps.Device)
	if err != nil {
		v.r.errorf("persist.device", ErrInvalid, "%v", trimSpecErr(err))
	}
	switch {
	case ps.FSType == "":
		v.r.errorf("persist.fstype", ErrRequired, "required with device: %s", strings.Join(persistFSTypes, " or "))
	case !slices.Contains(persistFSTypes, ps.FSType):
		v.r.errorf("persist.fstype", ErrInvalid, "%q: want %s", ps.FSType, strings.Join(persistFSTypes, " or "))
	case err == nil && spec.Kind == blkid.Label:
		if err := blkid.CheckLabel(spec.Value, ps.FSType); err != nil {
			v.r.errorf("persist.device", ErrInvalid, "%v", trimSpecErr(err))
		}
	}
}

// persistKey checks a tunnel's generate_key and a key file on the config
// partition.
func (v *validator) persistKey(at string, t *Tunnel) {
	hasPersist := v.p.OnPartition || v.p.Persist.Device != ""
	if t.GenerateKey {
		switch {
		case t.inlineKey:
			v.r.errorf(joinPath(at, "generate_key"), ErrInvalid, "generate_key makes the key of private_key_file; the inline private_key has none to make")
		case t.PrivateKeyFile == "":
			v.r.errorf(joinPath(at, "generate_key"), ErrRequired, "needs private_key_file on the config partition, where the key is kept, e.g. \"/persist/%s.key\"", t.Name)
		case !OnPersist(t.PrivateKeyFile):
			v.r.errorf(joinPath(at, "generate_key"), ErrInvalid, "private_key_file %s is not on the config partition (/persist/…): a key made in the initramfs would be new at every boot", t.PrivateKeyFile)
		}
	}
	if OnPersist(t.PrivateKeyFile) && !hasPersist {
		v.r.errorf(joinPath(at, "private_key_file"), ErrInvalid, "%s is on the config partition, but the profile has no [persist] device", t.PrivateKeyFile)
	}
	for j := range t.Peers {
		if f := t.Peers[j].PresharedKeyFile; OnPersist(f) && !hasPersist {
			v.r.errorf(peerPath(at, j, "preshared_key_file"), ErrInvalid, "%s is on the config partition, but the profile has no [persist] device", f)
		}
	}
}

// root checks handoff.root.
func (v *validator) root(h *Handoff) {
	spec, err := blkid.Parse(h.Root)
	if err != nil {
		v.r.errorf("handoff.root", ErrInvalid, "%v; or \"\" to stay in the initramfs", trimSpecErr(err))
		return
	}
	if spec.Kind == blkid.Label && h.FSType != "" {
		if err := blkid.CheckLabel(spec.Value, h.FSType); err != nil {
			v.r.errorf("handoff.root", ErrInvalid, "%v", trimSpecErr(err))
		}
	}
}

// trimSpecErr drops blkid's "invalid device: " prefix: the diagnostic's
// field names what is invalid.
func trimSpecErr(err error) string {
	return strings.TrimPrefix(err.Error(), blkid.ErrSpec.Error()+": ")
}
