package board

import (
	"path"
	"strings"
	"time"
)

// Rescue is the [rescue] table: how on_failure = "remote" lets an operator
// in through the tunnel (a rescue image's wgboot-remote, an SSH server on
// the tunnels' own addresses, public keys only).
type Rescue struct {
	// AuthorizedKeysFile is the OpenSSH authorized_keys file of the keys
	// that may log in: a path in the image, or on the config partition
	// (/persist/…).
	AuthorizedKeysFile string
	// Timeout is how long the server waits for a login; without one by
	// then, or when the last session ends, the board reboots.
	Timeout time.Duration
}

func (d *decoder) rescue(v any, at *fieldPath, r *Rescue) {
	m, ok := d.table(v, at)
	if !ok {
		return
	}
	for k, v := range m {
		kp := at.child(k)
		d.rescueKey(k, v, &kp, r)
	}
}

// rescueKey decodes key k of [rescue].
func (d *decoder) rescueKey(k string, v any, kp *fieldPath, r *Rescue) {
	switch k {
	case "authorized_keys_file":
		r.AuthorizedKeysFile = d.keep(v, kp)
	case "timeout":
		if t, ok := d.duration(v, kp); ok {
			r.Timeout = t
		}
	default:
		d.unknown(kp, k, rescueKeys)
	}
}

// rescue checks the [rescue] table and what on_failure = "remote" needs.
func (v *validator) rescue() {
	r := &v.p.Rescue
	if r.Timeout <= 0 && !v.isBad("rescue.timeout") {
		v.r.errorf("rescue.timeout", ErrRange, "must be positive: a rescue nobody logs in to ends in a reboot")
	}
	f := r.AuthorizedKeysFile
	switch {
	case f == "":
		if v.p.Handoff.OnFailure == FailRemote && !v.isBad("rescue.authorized_keys_file") {
			v.r.errorf("handoff.on_failure", ErrRequired, "\"remote\" needs [rescue] authorized_keys_file: the keys that may log in")
		}
	case !strings.HasPrefix(f, "/") || path.Clean(f) != f:
		v.r.errorf("rescue.authorized_keys_file", ErrInvalid, "%q: want a clean absolute path, in the image or on the config partition (/persist/…)", f)
	case OnPersist(f) && !v.p.OnPartition && v.p.Persist.Device == "":
		v.r.errorf("rescue.authorized_keys_file", ErrInvalid, "%s is on the config partition, but the profile has no [persist] device", f)
	}
}

// CheckImage says what p's failure policy lacks in an image without the
// rescue tools (rescue false): on_failure = "remote" has no SSH server
// there (an error: the board would only reboot), "shell" no shell (a
// warning: the board parks, and says so on the console).
func (p *Profile) CheckImage(rescue bool) Diagnostics {
	if rescue {
		return nil
	}
	var r report
	switch p.Handoff.OnFailure {
	case FailRemote:
		r.errorf("handoff.on_failure", ErrInvalid, "\"remote\" needs a rescue image (make image RESCUE=1, mkimage -rescue): this build has no SSH server, and would take remote_fallback")
	case FailShell:
		r.warnf("handoff.on_failure", ErrInvalid, "\"shell\" needs a rescue image (make image RESCUE=1, mkimage -rescue): this build has no shell")
	}
	p.src.locate(r.ds)
	return r.ds
}
