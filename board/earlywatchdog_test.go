package board

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEarlyWatchdogOf: an image's early watchdog is the one all of its
// profiles name, with the modules all of them load; profiles that differ
// in device, timeout or handoff, or one without a watchdog, give none.
func TestEarlyWatchdogOf(t *testing.T) {
	prof := func(dev string, timeout time.Duration, handoff WatchdogHandoff, modules ...string) *Profile {
		return &Profile{Board: Board{Watchdog: dev, WatchdogTimeout: timeout, WatchdogHandoff: handoff, Modules: modules}}
	}
	a := prof("/dev/watchdog0", 10*time.Second, WatchdogKeep, "wireguard", "virtio-net", "softdog")
	b := prof("/dev/watchdog0", 10*time.Second, WatchdogKeep, "softdog.ko", "virtio_net")
	got, ok := EarlyWatchdogOf([]*Profile{a, b})
	want := EarlyWatchdog{Device: "/dev/watchdog0", Timeout: 10 * time.Second, Handoff: WatchdogKeep, Modules: []string{"virtio_net", "softdog"}}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("EarlyWatchdogOf(agreeing) = %+v, %v; want %+v", got, ok, want)
	}
	for name, other := range map[string]*Profile{
		"no watchdog":   prof("", 10*time.Second, WatchdogKeep),
		"other device":  prof("/dev/watchdog1", 10*time.Second, WatchdogKeep),
		"other timeout": prof("/dev/watchdog0", 20*time.Second, WatchdogKeep),
		"other handoff": prof("/dev/watchdog0", 10*time.Second, WatchdogDisarm),
	} {
		if got, ok := EarlyWatchdogOf([]*Profile{a, other}); ok {
			t.Errorf("%s: EarlyWatchdogOf = %+v, want none", name, got)
		}
		if got, ok := EarlyWatchdogOf([]*Profile{other, a}); ok {
			t.Errorf("%s first: EarlyWatchdogOf = %+v, want none", name, got)
		}
	}
	if _, ok := EarlyWatchdogOf(nil); ok {
		t.Error("EarlyWatchdogOf(no profiles) has a watchdog")
	}
}

func TestEarlyWatchdogFile(t *testing.T) {
	ew := EarlyWatchdog{Device: "/dev/watchdog0", Timeout: 60 * time.Second, Handoff: WatchdogDisarm, Modules: []string{"softdog"}}
	got, err := ParseEarlyWatchdog(ew.Marshal())
	if err != nil || !reflect.DeepEqual(got, ew) {
		t.Errorf("ParseEarlyWatchdog(Marshal(%+v)) = %+v, %v", ew, got, err)
	}
	for _, bad := range []string{
		"device /dev/watchdog0\ntimeout 10s\n",
		"device /dev/../etc/x\n",
		"device watchdog0\n",
		"timeout 10\n",
		"device /dev/watchdog0\nhandoff maybe\n",
		"device /dev/watchdog0\nnowayout 1\n",
	} {
		if got, err := ParseEarlyWatchdog([]byte(bad)); err == nil {
			t.Errorf("ParseEarlyWatchdog(%q) = %+v, want an error", bad, got)
		} else if !strings.Contains(err.Error(), EarlyWatchdogFile) {
			t.Errorf("ParseEarlyWatchdog(%q) = %v, want the file named", bad, err)
		}
	}
}

// FuzzParseEarlyWatchdog: /init reads the file before anything else of
// the profile; whatever it holds, parsing returns an error or a watchdog
// under /dev/ that Marshal writes back to the same watchdog.
func FuzzParseEarlyWatchdog(f *testing.F) {
	f.Add([]byte("device /dev/watchdog0\ntimeout 60\nhandoff keep\nmodules softdog\n"))
	f.Add([]byte("# comment\ndevice /dev/watchdog\nhandoff disarm\n"))
	f.Add([]byte("device /dev/../etc/passwd\n"))
	f.Add([]byte("timeout 99999999\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEarlyWatchdog(data)
		if err != nil {
			return
		}
		if !strings.HasPrefix(e.Device, "/dev/") {
			t.Fatalf("device %q accepted", e.Device)
		}
		again, err := ParseEarlyWatchdog(e.Marshal())
		if err != nil {
			t.Fatalf("%q: Marshal wrote what Parse refuses: %v", data, err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("%q: round trip %+v, want %+v", data, again, e)
		}
	})
}
