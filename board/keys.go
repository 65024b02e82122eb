package board

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/wgboot/wgboot/internal/persist"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// maxKeyFile bounds how much of a key file is read: a key is 44 bytes of
// base64, and a path that names a device must not hang boot.
const maxKeyFile = 4096

// KeySource says where [Profile.ReadKeys] finds key files.
//
// A relative key path is read from Dir, the profile's own directory, both
// in the image and on a build host; it may not leave that directory.
// An absolute key path ("/etc/wgboot/wg0.key") names a file in the image
// and is read from Root with the leading "/" removed. When Root is nil, as
// for `check` on a build host that has no staged image, the file's base
// name is looked up in Dir instead, and a missing file is only a warning:
// the key may be provisioned into the image later.
//
// A key path under /persist names a file on the board's config partition
// ([OnPersist]). Those are read from Persist, the partition's tree, when
// it is set (`check -persist DIR`), and a missing one is fine when the
// tunnel has generate_key. Without Persist they are not read here: at
// boot, the keys phase reads them once the partition is mounted and the
// CRNG seeded, and makes the missing ones.
type KeySource struct {
	Root    fs.FS // the image's root filesystem; nil on a build host
	Dir     fs.FS // the profile's directory
	Persist fs.FS // the config partition's tree; nil to leave its key files
}

// ReadKeys reads every private_key_file and preshared_key_file of p and
// stores the keys in p. It also warns about key files that group or other
// can read. Key material never appears in the diagnostics.
func (p *Profile) ReadKeys(src KeySource) Diagnostics {
	var r report
	for i := range p.Tunnels {
		t := &p.Tunnels[i]
		tp := indexPath("tunnel", i)
		if t.PrivateKeyFile != "" && src.reads(t.PrivateKeyFile) {
			readKeyFile(&r, src, joinPath(tp, "private_key_file"), t.PrivateKeyFile, t.GenerateKey, func(text []byte) error {
				k, err := wgkey.ParsePrivateKeyBytes(text)
				if err == nil {
					t.PrivateKey.Zero() // an inline key the lint refuses
					t.PrivateKey = k
				}
				return err
			})
		}
		for j := range t.Peers {
			peer := &t.Peers[j]
			if peer.PresharedKeyFile == "" || !src.reads(peer.PresharedKeyFile) {
				continue
			}
			readKeyFile(&r, src, joinPath(indexPath(joinPath(tp, "peer"), j), "preshared_key_file"), peer.PresharedKeyFile, false, func(text []byte) error {
				k, err := wgkey.ParsePresharedKey(view(text))
				if err == nil {
					peer.PresharedKey.Zero()
					peer.PresharedKey = k
				}
				return err
			})
		}
	}
	p.src.locate(r.ds)
	return r.ds
}

// reads reports whether ReadKeys reads key file name from src now.
func (src KeySource) reads(name string) bool {
	return !OnPersist(name) || src.Persist != nil
}

// readKeyFile reads one key file and hands its text to parse, which
// decodes the key straight into the profile: no copy of it is made on the
// way, and the text is cleared afterwards. made says that a missing file
// is made at boot (generate_key).
func readKeyFile(r *report, src KeySource, field, name string, made bool, parse func(text []byte) error) {
	data, perm, err := readKeyBytes(src, name)
	defer clear(data[:cap(data)])
	if err != nil {
		var ke *keyFileError
		if errors.As(err, &ke) && ke.onPartition && made {
			return // made at first boot
		}
		if errors.As(err, &ke) && ke.notOnHost {
			r.warnf(field, ErrKeyFile, "%v", err)
		} else {
			r.errorf(field, ErrKeyFile, "%v", err)
		}
		return
	}
	if perm&0o077 != 0 {
		r.warnf(field, ErrPermissions, "%s has mode %#o: group or other can read the key; install it with mode 0600", name, perm)
	}
	if err := parse(bytes.TrimSpace(data)); err != nil {
		r.errorf(field, ErrKey, "%s: %v", name, err)
	}
}

// ReadKeyFile returns the contents of the key file a profile names, read by
// the rules [Profile.ReadKeys] applies: a relative name must stay inside
// src.Dir ([fs.ValidPath] after cleaning), the file must be a regular file
// when it is opened (fstat of the open file, not only a stat of its name)
// and at most 4096 bytes. The contents are not decoded. Image builders use
// it so that a profile cannot pull any other file of the build host into
// an image; they give a src.Dir that also keeps symlinks inside it (an
// [os.Root]'s FS). The caller should clear the returned bytes after use.
func ReadKeyFile(src KeySource, name string) ([]byte, error) {
	data, _, err := readKeyBytes(src, name)
	return data, err
}

// keyFileError is why a key file could not be read; the message names the
// file as the profile wrote it.
type keyFileError struct {
	msg         string
	notOnHost   bool // an absolute path looked up next to the profile, not there
	onPartition bool // a file of the config partition, not there
}

func (e *keyFileError) Error() string { return e.msg }

func keyFileErrorf(format string, args ...any) error {
	return &keyFileError{msg: fmt.Sprintf(format, args...)}
}

// readKeyBytes reads a key file by ReadKeyFile's rules (see readRegular)
// and returns what it holds, which the caller clears, and its permission
// bits.
func readKeyBytes(src KeySource, name string) ([]byte, fs.FileMode, error) {
	fsys, rel, hostOnly := resolveKeyPath(src, name)
	if fsys == nil || !fs.ValidPath(rel) || rel == "." {
		return nil, 0, keyFileErrorf("%q is not a usable path: use an absolute path in the image or a path inside the profile's directory", name)
	}
	data, info, err := readRegular(fsys, rel, maxKeyFile)
	switch {
	case OnPersist(name) && errors.Is(err, fs.ErrNotExist):
		return nil, 0, &keyFileError{msg: fmt.Sprintf("%s is not on the config partition (and generate_key is off)", name), onPartition: true}
	case hostOnly && errors.Is(err, fs.ErrNotExist):
		return nil, 0, &keyFileError{msg: fmt.Sprintf("%s is not on this host (looked for %s next to the profile); it must be in the image", name, path.Base(name)), notOnHost: true}
	case errors.Is(err, errNotRegular):
		return nil, 0, keyFileErrorf("%s is not a regular file", name)
	case errors.Is(err, errTooLarge):
		return nil, 0, keyFileErrorf("%s is larger than %d bytes: not a key file", name, maxKeyFile)
	case err != nil:
		return nil, 0, keyFileErrorf("%s: %v", name, pathErr(err))
	}
	return data, info.Mode().Perm(), nil
}

// resolveKeyPath picks the filesystem and path for a key file; hostOnly
// says an absolute path is being looked up next to the profile.
func resolveKeyPath(src KeySource, name string) (fsys fs.FS, rel string, hostOnly bool) {
	if !strings.HasPrefix(name, "/") {
		return src.Dir, path.Clean(name), false
	}
	if OnPersist(name) {
		return src.Persist, strings.TrimPrefix(path.Clean(name), persist.Dir+"/"), false
	}
	if src.Root != nil {
		return src.Root, strings.TrimPrefix(path.Clean(name), "/"), false
	}
	return src.Dir, path.Base(name), true
}

// pathErr drops the path an fs.PathError repeats, since the message
// already names the file as written in the profile.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
