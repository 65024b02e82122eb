package board

import (
	"fmt"
	"strconv"
	"time"

	"github.com/wgboot/wgboot/internal/blkid"
)

// RootArgs are the root file system's parameters of the kernel command
// line, as the kernel and dracut read them. They override the profile's
// handoff.root and fstype.
type RootArgs struct {
	Device   string        // root=: any form blkid.Parse reads
	FSType   string        // rootfstype=
	Flags    string        // rootflags=: the mount's data string
	ReadOnly bool          // ro; rw clears it (the last one wins)
	Wait     bool          // rootwait: wait for the device (bounded by PID 1)
	Delay    time.Duration // rootdelay=N: wait up to N seconds
}

// parse reads one parameter into a, if it is a root parameter, and
// reports whether it was. A bad value is reported to errs and ignored.
func (a *RootArgs) parse(name, value string, hasValue bool, errs *[]error) bool {
	switch name {
	case "root":
		if _, err := blkid.Parse(value); err != nil {
			*errs = append(*errs, fmt.Errorf("root=: %w", err))
			return true
		}
		a.Device = value
	case "rootfstype":
		a.FSType = value
	case "rootflags":
		a.Flags = value
	case "ro", "rw":
		if hasValue {
			return false
		}
		a.ReadOnly = name == "ro"
	case "rootwait":
		a.Wait = true
	case "rootdelay":
		n, err := strconv.ParseUint(value, 10, 16)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("rootdelay=%s: want whole seconds", value))
			return true
		}
		a.Delay = time.Duration(n) * time.Second
	default:
		return false
	}
	return true
}
