package board

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wgboot/wgboot/internal/kmod"
)

// EarlyWatchdogFile is where an image says which watchdog PID 1 opens
// right after the early mounts, before it has chosen a profile (path in
// the image, without the leading slash). The image builder writes it
// (image.Profiles) when every profile of the image names the same one
// ([EarlyWatchdogOf]); PID 1 reads it without a TOML parser.
const EarlyWatchdogFile = "etc/wgboot/watchdog"

// EarlyWatchdog is the watchdog of [EarlyWatchdogFile].
type EarlyWatchdog struct {
	Device  string        // [Board] Watchdog
	Timeout time.Duration // [Board] WatchdogTimeout
	// Handoff is [Board] WatchdogHandoff: what becomes of the watchdog
	// when no profile could be chosen.
	Handoff WatchdogHandoff
	// Modules are the modules every profile of the image loads, among
	// which PID 1 finds the watchdog's driver when the device is not
	// there yet: loaded early, they cost no board anything it would not
	// load in its modules phase anyway.
	Modules []string
}

// EarlyWatchdogOf is the watchdog that profiles, all of them, name:
// the same device, timeout and handoff. An image whose profiles differ, or one of
// whose profiles names none, has no early watchdog (ok false): opening
// one before the profile is chosen could arm a watchdog that the board's
// profile does not want.
func EarlyWatchdogOf(profiles []*Profile) (EarlyWatchdog, bool) {
	if len(profiles) == 0 {
		return EarlyWatchdog{}, false
	}
	first := &profiles[0].Board
	ew := EarlyWatchdog{Device: first.Watchdog, Timeout: first.WatchdogTimeout, Handoff: first.WatchdogHandoff}
	if ew.Device == "" {
		return EarlyWatchdog{}, false
	}
	for _, m := range first.Modules {
		m = kmod.Name(m)
		if !slices.Contains(ew.Modules, m) {
			ew.Modules = append(ew.Modules, m)
		}
	}
	for _, p := range profiles[1:] {
		b := &p.Board
		if b.Watchdog != ew.Device || b.WatchdogTimeout != ew.Timeout || b.WatchdogHandoff != ew.Handoff {
			return EarlyWatchdog{}, false
		}
		ew.Modules = slices.DeleteFunc(ew.Modules, func(m string) bool {
			return !slices.ContainsFunc(b.Modules, func(n string) bool { return kmod.Name(n) == m })
		})
	}
	return ew, true
}

// Marshal is e as [EarlyWatchdogFile] holds it: "key value..." lines.
func (e EarlyWatchdog) Marshal() []byte {
	var b strings.Builder
	b.WriteString("# The watchdog PID 1 opens right after the early mounts (docs/boot.md, \"Watchdog\").\n")
	b.WriteString("device " + e.Device + "\n")
	b.WriteString("timeout " + strconv.FormatInt(int64(e.Timeout/time.Second), 10) + "\n")
	b.WriteString("handoff " + string(e.Handoff) + "\n")
	if len(e.Modules) > 0 {
		b.WriteString("modules " + strings.Join(e.Modules, " ") + "\n")
	}
	return []byte(b.String())
}

// ParseEarlyWatchdog reads what [EarlyWatchdog.Marshal] wrote. A device
// that is not a clean /dev path, like a profile's, is refused.
func ParseEarlyWatchdog(data []byte) (EarlyWatchdog, error) {
	e := EarlyWatchdog{Timeout: DefaultWatchdogTimeout, Handoff: DefaultWatchdogHandoff}
	for n, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		bad := func() (EarlyWatchdog, error) {
			return EarlyWatchdog{}, fmt.Errorf("%s:%d: %q: want device PATH, timeout SECONDS, handoff keep|disarm or modules NAME...", EarlyWatchdogFile, n+1, line)
		}
		switch {
		case f[0] == "device" && len(f) == 2:
			e.Device = f[1]
		case f[0] == "timeout" && len(f) == 2:
			s, err := strconv.ParseUint(f[1], 10, 16)
			if err != nil {
				return bad()
			}
			e.Timeout = time.Duration(s) * time.Second
		case f[0] == "handoff" && len(f) == 2 && WatchdogHandoff(f[1]).Valid():
			e.Handoff = WatchdogHandoff(f[1])
		case f[0] == "modules":
			e.Modules = f[1:]
		default:
			return bad()
		}
	}
	if !strings.HasPrefix(e.Device, "/dev/") || path.Clean(e.Device) != e.Device {
		return EarlyWatchdog{}, errors.New(EarlyWatchdogFile + ": no device under /dev/")
	}
	return e, nil
}
