package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
)

// withWatchdog edits the client profile of arch: softdog among the
// board's modules (Debian's cloud kernels have no driver for a watchdog
// QEMU emulates; softdog serves the same /dev/watchdog interface and
// resets the machine when it expires, which QEMU's -no-reboot turns into
// an exit), its device as the board's watchdog with a 10 s timeout and
// handoff, and no handshake to wait for, so that no hub is needed.
func withWatchdog(t *testing.T, arch, handoff string) func(string, []byte) []byte {
	edit := replace(t,
		`modules = ["wireguard", "virtio_pci", "virtio_net", "virtio_blk"]`,
		`modules = ["wireguard", "virtio_pci", "virtio_net", "virtio_blk", "softdog"]`+"\n"+
			`watchdog = "/dev/watchdog0"`+"\n"+`watchdog_timeout = "10s"`+"\n"+`watchdog_handoff = "`+handoff+`"`,
		`wait_handshake = "20s"`, `wait_handshake = "0s"`,
	)
	return func(name string, data []byte) []byte {
		if name != "qemu-"+arch+".toml" {
			return data
		}
		return edit(name, data)
	}
}

var (
	reWatchdogOpen = `wgboot: watchdog /dev/watchdog0 \(Software Watchdog\): timeout 10s`
	reSoftdogFired = regexp.MustCompile(`softdog: Initiating system reboot`)
)

// watchdogProfiles is the image's profiles for the watchdog tests: the
// client's alone, so that every profile of the image names the watchdog
// and the image builder tells PID 1 to open it early.
func watchdogProfiles(t *testing.T, arch string) []string {
	return []string{filepath.Join(profilesDir(t), "qemu-"+arch+".toml")}
}

// expectWatchdogEarly waits for the watchdog's opening and checks that
// it came right after the early mounts: softdog loaded by the watchdog
// phase, the device opened before the profile was chosen and before the
// modules phase loaded the board's other modules.
func expectWatchdogEarly(t *testing.T, cli *image.VM) {
	t.Helper()
	driver := imagetest.Expect(t, cli, `wgboot: watchdog /dev/watchdog0: driver loaded: softdog`, bootTimeout)
	open := imagetest.Expect(t, cli, reWatchdogOpen+` \(right after the early mounts\)`, stepTimeout)
	profile := imagetest.Expect(t, cli, `wgboot: profile \S+ for board`, stepTimeout)
	modules := imagetest.Expect(t, cli, `wgboot: modules: loaded`, stepTimeout)
	con := cli.Console()
	at := func(line string) int { return strings.Index(con, line) }
	if !(at(driver) < at(open) && at(open) < at(profile) && at(profile) < at(modules)) {
		t.Errorf("watchdog opened out of order; want the driver, the opening, the profile, the modules:\n%s\n%s\n%s\n%s", driver, open, profile, modules)
	}
}

// TestE2EWatchdogHang: a phase that hangs (wgboot.test=hang: the uplink
// phase, after the modules, ignoring its 60 s deadline as a call wedged in
// a driver would) gets no more pings, and the watchdog resets the guest
// within its 10 s timeout, long before the deadline.
func TestE2EWatchdogHang(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			edit := withWatchdog(t, arch, "keep")
			cli := guest{
				arch:     arch,
				profiles: watchdogProfiles(t, arch),
				edit:     edit,
				append:   []string{"wgboot.test=hang"},
			}.boot(t, "client")
			expectWatchdogEarly(t, cli)
			imagetest.Expect(t, cli, `wgboot: test: phase uplink hangs`, stepTimeout)
			hung := time.Now()
			if _, err := cli.ExpectAny(reSoftdogFired, 30*time.Second); err != nil {
				t.Fatalf("the watchdog did not reset the guest: %v", err)
			}
			after := time.Since(hung)
			if err := cli.Wait(30 * time.Second); err != nil {
				t.Errorf("QEMU did not exit on the reset: %v", err)
			}
			t.Logf("%s: reset %v after the phase hung (timeout 10s)", arch, after.Round(100*time.Millisecond))
			if after > 20*time.Second {
				t.Errorf("reset %v after the phase hung; the timeout is 10s", after)
			}
			if con := cli.Console(); strings.Contains(con, "wgboot: FAILED") {
				t.Error("the boot's deadline passed before the watchdog reset the guest")
			}
		})
	}
}

// TestE2EWatchdogHandoff: a boot that completes leaves the watchdog as the
// profile says. keep: armed for the next stage (testroot sees it active,
// the state file says armed), which here does not take it over and holds
// on, so the watchdog resets the guest. disarm: stopped with the magic
// close (inactive, "disarmed"), and the guest powers off after the hold.
func TestE2EWatchdogHandoff(t *testing.T) {
	for _, arch := range arches {
		for _, c := range []struct {
			handoff, sysfs, state string
			reset                 bool
		}{
			{"keep", "active", "armed", true},
			{"disarm", "inactive", "disarmed", false},
		} {
			t.Run(arch+"/"+c.handoff, func(t *testing.T) {
				t.Parallel()
				edit := withWatchdog(t, arch, c.handoff)
				cli := guest{
					arch:     arch,
					profiles: watchdogProfiles(t, arch),
					edit:     edit,
					disk:     rootDiskWith(t, arch, expectProfile(t, arch, edit)),
					append:   []string{"testroot.hold=20s"},
				}.boot(t, "client")
				expectWatchdogEarly(t, cli)
				imagetest.Expect(t, cli, `wgboot: READY in .*watchdog=`, stepTimeout)
				verdict := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout)
				if want := `watchdog=` + c.sysfs + ` state.watchdog="` + c.state + `"`; !strings.Contains(verdict, want) {
					t.Errorf("next stage: %s; want %s", verdict, want)
				}
				_, err := cli.ExpectAny(reSoftdogFired, 40*time.Second)
				if c.reset && err != nil {
					t.Errorf("the watchdog left armed did not reset the guest: %v", err)
				}
				if !c.reset && err == nil {
					t.Error("the disarmed watchdog reset the guest")
				}
				if err := cli.Wait(stepTimeout); err != nil {
					t.Errorf("guest did not end: %v", err)
				}
				noPanic(t, cli)
			})
		}
	}
}

// TestE2EWatchdogHaltLater: a halt decided after the boot's end, which
// let the watchdog go armed (here a handoff that fails under on_failure =
// "halt": no root disk), opens the device again and stops it with the
// magic close before the power-off, so that a board that can only halt
// is not reset by it. (QEMU powers off at once, so the reset itself would
// not show here: the log line and the state do.)
func TestE2EWatchdogHaltLater(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			wd := withWatchdog(t, arch, "keep")
			halt := replace(t, `on_failure = "continue"`, `on_failure = "halt"`)
			edit := func(name string, data []byte) []byte {
				data = wd(name, data)
				if name == "qemu-"+arch+".toml" {
					data = halt(name, data)
				}
				return data
			}
			cli := guest{
				arch:     arch,
				profiles: watchdogProfiles(t, arch),
				edit:     edit,
				append:   []string{"rootdelay=2"},
			}.boot(t, "client")
			expectWatchdogEarly(t, cli)
			imagetest.Expect(t, cli, `wgboot: READY in`, stepTimeout)
			imagetest.Expect(t, cli, `wgboot: watchdog /dev/watchdog0: left armed`, stepTimeout)
			imagetest.Expect(t, cli, `wgboot: handoff failed: root device: /dev/vda: no such device`, stepTimeout)
			imagetest.Expect(t, cli, `wgboot: watchdog /dev/watchdog0: disarmed \(magic close\): the board halts`, stepTimeout)
			if err := cli.Wait(stepTimeout); err != nil {
				t.Errorf("guest did not power off: %v", err)
			}
			if reSoftdogFired.MatchString(cli.Console()) {
				t.Error("the watchdog reset the halting guest")
			}
			noPanic(t, cli)
		})
	}
}
