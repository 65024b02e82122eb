package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/kmsg"
	"github.com/wgboot/wgboot/internal/progress"
	"github.com/wgboot/wgboot/internal/watchdog"
)

// fakeWatchdog records what the boot does with its watchdog.
type fakeWatchdog struct {
	mu  sync.Mutex
	ops []string
}

func (f *fakeWatchdog) Path() string { return "/dev/watchdog0" }
func (f *fakeWatchdog) Info() watchdog.Info {
	return watchdog.Info{Identity: "Fake", Timeout: 10 * time.Second}
}
func (f *fakeWatchdog) op(s string) error {
	f.mu.Lock()
	f.ops = append(f.ops, s)
	f.mu.Unlock()
	return nil
}
func (f *fakeWatchdog) Keepalive() error { return f.op("ping") }
func (f *fakeWatchdog) Release() error   { return f.op("release") }
func (f *fakeWatchdog) Disarm() error    { return f.op("disarm") }
func (f *fakeWatchdog) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.ops, ",")
}

// watchdogBoot is a boot whose profile names a watchdog that appears once
// the modules phase has run, with fake as the device.
func watchdogBoot(t *testing.T, fake *fakeWatchdog, handoff board.WatchdogHandoff) *boot {
	t.Helper()
	var logs bytes.Buffer
	log := kmsg.New("wgboot", &logs)
	t.Cleanup(func() { t.Logf("log:\n%s", logs.String()) })
	b := newBoot(log)
	b.r.logf = func(int, string, ...any) {}
	b.profile = &board.Profile{Board: board.Board{Watchdog: "/dev/watchdog0", WatchdogTimeout: 10 * time.Second, WatchdogHandoff: handoff}}
	modulesDone := false
	old := openWatchdogDevice
	openWatchdogDevice = func(path string, timeout time.Duration) (watchdogDevice, error) {
		if path != "/dev/watchdog0" || timeout != 10*time.Second {
			t.Errorf("open(%s, %v)", path, timeout)
		}
		if !modulesDone {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
		return fake, nil
	}
	t.Cleanup(func() { openWatchdogDevice = old })
	b.r.done = func(name string) {
		if name == "modules" {
			modulesDone = true
		}
		b.phaseDone(name)
	}
	return b
}

func phases(names ...string) []phase {
	var ps []phase
	for _, n := range names {
		ps = append(ps, phase{n, func(context.Context) (func(), error) { return nil, nil }})
	}
	return ps
}

// TestWatchdogOpenAndPings: a device that a module brings is opened right
// after the modules phase, and pinged after it and each phase after.
func TestWatchdogOpenAndPings(t *testing.T) {
	fake := &fakeWatchdog{}
	b := watchdogBoot(t, fake, board.WatchdogKeep)
	if err := b.r.run(context.Background(), phases("clock", "crng", "modules", "uplink", "tunnels")); err != nil {
		t.Fatal(err)
	}
	if got := fake.String(); got != "ping,ping,ping" {
		t.Errorf("after five phases: %s, want a ping after modules, uplink, tunnels", got)
	}
	if w := b.state.Watchdog; w.Device != "/dev/watchdog0" || w.Identity != "Fake" || w.TimeoutS != 10 {
		t.Errorf("state: %+v", w)
	}
}

// TestWatchdogNeverOpened: a device still missing after the modules is an
// error in the log and the state file, not a failed boot.
func TestWatchdogNeverOpened(t *testing.T) {
	b := watchdogBoot(t, &fakeWatchdog{}, board.WatchdogKeep)
	openWatchdogDevice = func(path string, timeout time.Duration) (watchdogDevice, error) {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	if err := b.r.run(context.Background(), phases("modules", "uplink")); err != nil {
		t.Fatalf("run = %v: a missing watchdog failed the boot", err)
	}
	if w := b.state.Watchdog; !strings.Contains(w.Error, "not exist") || w.Handoff != "" {
		t.Errorf("state: %+v", w)
	}
	b.releaseWatchdog(nil)
}

// TestWatchdogStuckPhase: a phase stuck past its deadline gets no ping,
// neither from the runner nor from its waits, and the boot's end pings no
// more: the watchdog counts on from the last progress.
func TestWatchdogStuckPhase(t *testing.T) {
	fake := &fakeWatchdog{}
	b := watchdogBoot(t, fake, board.WatchdogKeep)
	base := progress.With(context.Background(), b.reportProgress)
	ctx, cancel := context.WithTimeout(base, 100*time.Millisecond)
	defer cancel()
	reported := make(chan struct{})
	stuck := phase{"uplink", func(ctx context.Context) (func(), error) {
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond)
		// A wait that outlives its deadline reports progress: nothing
		// happens.
		progress.Report(ctx)
		close(reported)
		time.Sleep(time.Hour)
		return nil, nil
	}}
	err := b.r.run(ctx, append(phases("modules"), stuck))
	if !errors.Is(err, errDeadline) {
		t.Fatalf("run = %v", err)
	}
	<-reported
	b.policy = board.FailContinue
	b.releaseWatchdog(err)
	if got := fake.String(); got != "ping,release" {
		t.Errorf("watchdog: %s, want the modules phase's ping, then a release without one", got)
	}
	if b.state.Watchdog.Handoff != "armed" {
		t.Errorf("state: %+v", b.state.Watchdog)
	}
}

// TestWatchdogProgress: waits report progress at most once a second each.
func TestWatchdogProgress(t *testing.T) {
	fake := &fakeWatchdog{}
	b := watchdogBoot(t, fake, board.WatchdogKeep)
	if err := b.r.run(context.Background(), phases("modules")); err != nil {
		t.Fatal(err)
	}
	ctx := progress.With(context.Background(), b.reportProgress)
	for range 5 {
		progress.Report(ctx) // within a second of the modules' ping
	}
	b.dog.lastPing.Store(int64(time.Since(b.start) - 2*time.Second))
	progress.Report(ctx)
	progress.Report(ctx)
	if got := fake.String(); got != "ping,ping" {
		t.Errorf("watchdog: %s, want the phase's ping and one more", got)
	}
}

// TestWatchdogHandoff: what the boot's end does with the watchdog, by
// outcome, policy and watchdog_handoff.
func TestWatchdogHandoff(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		name    string
		handoff board.WatchdogHandoff
		err     error
		policy  board.OnFailure
		want    string
		state   string
	}{
		{"ready, keep", board.WatchdogKeep, nil, board.FailContinue, "ping,release", "armed"},
		{"ready, disarm", board.WatchdogDisarm, nil, board.FailContinue, "ping,disarm", "disarmed"},
		{"failed, continue", board.WatchdogKeep, boom, board.FailContinue, "release", "armed"},
		{"failed, shell", board.WatchdogKeep, boom, board.FailShell, "release", "armed"},
		{"failed, reboot", board.WatchdogKeep, boom, board.FailReboot, "release", "armed"},
		{"failed, halt: stays halted", board.WatchdogKeep, boom, board.FailHalt, "disarm", "disarmed"},
		{"failed, disarm", board.WatchdogDisarm, boom, board.FailShell, "disarm", "disarmed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := &fakeWatchdog{}
			b := watchdogBoot(t, fake, c.handoff)
			if err := b.r.run(context.Background(), phases("modules")); err != nil {
				t.Fatal(err)
			}
			fake.ops = nil
			b.policy = c.policy
			b.releaseWatchdog(c.err)
			if got := fake.String(); got != c.want {
				t.Errorf("watchdog: %s, want %s", got, c.want)
			}
			if b.state.Watchdog.Handoff != c.state {
				t.Errorf("state says %q, want %q", b.state.Watchdog.Handoff, c.state)
			}
			b.pingWatchdog(false)
			if got := fake.String(); got != c.want {
				t.Errorf("pinged after the release: %s", got)
			}
			hint := b.watchdogShellHint()
			if (c.state == "armed") != strings.Contains(hint, "printf V > /dev/watchdog0") {
				t.Errorf("shell hint %q for a watchdog left %s", hint, c.state)
			}
		})
	}
}

// earlyBoot is a boot whose image names /dev/watchdog0 (10 s, handoff
// disarm) as the watchdog of every profile, a device that appears once
// its driver is loaded; opened counts the opens.
func earlyBoot(t *testing.T, fake *fakeWatchdog) (b *boot, logs *bytes.Buffer, drivers *[]string, opened *int) {
	t.Helper()
	logs = new(bytes.Buffer)
	b = newBoot(kmsg.New("wgboot", logs))
	b.r.logf = func(int, string, ...any) {}
	ew := board.EarlyWatchdog{Device: "/dev/watchdog0", Timeout: 10 * time.Second, Handoff: board.WatchdogDisarm, Modules: []string{"virtio_net", "softdog"}}
	early := t.TempDir() + "/watchdog"
	if err := os.WriteFile(early, ew.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	drivers, opened = new([]string), new(int)
	loaded := false
	oldPath, oldLoad, oldOpen := earlyWatchdogPath, loadWatchdogDrivers, openWatchdogDevice
	earlyWatchdogPath = early
	loadWatchdogDrivers = func(device string, params map[string]string, modules []string) ([]string, error) {
		*drivers = append(*drivers, modules...)
		loaded = true
		return []string{"softdog"}, nil
	}
	openWatchdogDevice = func(path string, timeout time.Duration) (watchdogDevice, error) {
		*opened++
		if !loaded || path != "/dev/watchdog0" {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
		return fake, nil
	}
	t.Cleanup(func() { earlyWatchdogPath, loadWatchdogDrivers, openWatchdogDevice = oldPath, oldLoad, oldOpen })
	return b, logs, drivers, opened
}

// earlyPhases are the boot's first phases, the profile phase choosing a
// profile whose [board] is board.
func earlyPhases(b *boot, bd board.Board) []phase {
	return []phase{
		{"mounts", func(context.Context) (func(), error) { return nil, nil }},
		{"cmdline", func(context.Context) (func(), error) { return nil, nil }},
		{"watchdog", b.watchdogEarly},
		{"profile", func(context.Context) (func(), error) {
			return func() { b.profile = &board.Profile{Board: bd} }, nil
		}},
		{"persist", func(context.Context) (func(), error) { return nil, nil }},
	}
}

// TestWatchdogEarly: with the image's early watchdog file, the watchdog
// phase loads the device's driver (among the modules every profile
// loads) and opens it before the profile phase, which then keeps it:
// pinged after the watchdog, profile and persist phases, opened once.
func TestWatchdogEarly(t *testing.T) {
	fake := &fakeWatchdog{}
	b, logs, drivers, opened := earlyBoot(t, fake)
	bd := board.Board{Watchdog: "/dev/watchdog0", WatchdogTimeout: 10 * time.Second, WatchdogHandoff: board.WatchdogDisarm}
	if err := b.r.run(context.Background(), earlyPhases(b, bd)); err != nil {
		t.Fatal(err)
	}
	if got := fake.String(); got != "ping,ping,ping" || *opened != 1 {
		t.Errorf("after the watchdog, profile and persist phases: %s, %d opens; want three pings, one open", got, *opened)
	}
	if strings.Join(*drivers, " ") != "virtio_net softdog" {
		t.Errorf("drivers looked for among %v, want the early file's modules", *drivers)
	}
	for _, want := range []string{"watchdog /dev/watchdog0: driver loaded: softdog", "watchdog /dev/watchdog0 (Fake): timeout 10s (right after the early mounts)"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if w := b.state.Watchdog; w.Device != "/dev/watchdog0" || w.TimeoutS != 10 {
		t.Errorf("state: %+v", w)
	}
	b.releaseWatchdog(nil)
	if got := fake.String(); !strings.HasSuffix(got, "ping,disarm") {
		t.Errorf("handoff disarm: %s", got)
	}
}

// TestWatchdogEarlyTakeover: a chosen profile that names no watchdog, or
// another one, stops the image's with the magic close after the profile
// phase; another is then opened.
func TestWatchdogEarlyTakeover(t *testing.T) {
	fake := &fakeWatchdog{}
	b, logs, _, opened := earlyBoot(t, fake)
	if err := b.r.run(context.Background(), earlyPhases(b, board.Board{})); err != nil {
		t.Fatal(err)
	}
	if got := fake.String(); got != "ping,disarm" || *opened != 1 {
		t.Errorf("profile without a watchdog: %s, %d opens; want the early one pinged once, then disarmed", got, *opened)
	}
	if b.state.Watchdog.Device != "" || !strings.Contains(logs.String(), `watchdog /dev/watchdog0: stopped (magic close): the profile names ""`) {
		t.Errorf("state %+v; log:\n%s", b.state.Watchdog, logs)
	}
	b.releaseWatchdog(nil)
	if got := fake.String(); got != "ping,disarm" {
		t.Errorf("after the handoff: %s; nothing more", got)
	}

	fake = &fakeWatchdog{}
	b, _, _, opened = earlyBoot(t, fake)
	bd := board.Board{Watchdog: "/dev/watchdog0", WatchdogTimeout: 20 * time.Second, WatchdogHandoff: board.WatchdogKeep}
	if err := b.r.run(context.Background(), earlyPhases(b, bd)); err != nil {
		t.Fatal(err)
	}
	if got := fake.String(); got != "ping,disarm,ping,ping" || *opened != 2 {
		t.Errorf("profile with another timeout: %s, %d opens; want disarmed and opened again", got, *opened)
	}
}

// TestWatchdogEarlyNoProfile: when no profile can be chosen, the early
// watchdog is handed off as the image's profiles all say.
func TestWatchdogEarlyNoProfile(t *testing.T) {
	fake := &fakeWatchdog{}
	b, _, _, _ := earlyBoot(t, fake)
	ps := earlyPhases(b, board.Board{})
	ps[3].run = func(context.Context) (func(), error) { return nil, errNoProfile }
	if err := b.r.run(context.Background(), ps); err == nil {
		t.Fatal("no error")
	}
	b.releaseWatchdog(errNoProfile)
	if got := fake.String(); got != "ping,disarm" || b.state.Watchdog.Handoff != "disarmed" {
		t.Errorf("no profile: %s, %+v; want the image's handoff, disarm", got, b.state.Watchdog)
	}
}

// TestWatchdogHaltLater: a halt decided after the boot's end let the
// watchdog go armed (remote_fallback = "halt" when no rescue can be
// offered, a failed handoff under halt) stops it with the magic close
// before the power-off: a board that can only halt was reset by it.
func TestWatchdogHaltLater(t *testing.T) {
	for _, c := range []struct {
		name string
		halt func(b *boot)
	}{
		{"remote_fallback halt", func(b *boot) { b.failurePolicy(board.FailHalt) }},
		{"handoff failed, halt", func(b *boot) { b.policy = board.FailHalt; b.handoffFailed() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := &fakeWatchdog{}
			b := watchdogBoot(t, fake, board.WatchdogKeep)
			if err := b.r.run(context.Background(), phases("modules")); err != nil {
				t.Fatal(err)
			}
			// A bring-up that failed under remote, or one that succeeded:
			// the boot's end leaves the watchdog armed.
			b.policy = board.FailRemote
			b.releaseWatchdog(errors.New("boom"))
			fake.ops = nil
			old := powerOff
			t.Cleanup(func() { powerOff = old })
			var armedAtPowerOff string
			powerOff = func(b *boot) { armedAtPowerOff = b.state.Watchdog.Handoff }
			c.halt(b)
			if got := fake.String(); got != "disarm" {
				t.Errorf("watchdog: %q before the power-off, want disarm", got)
			}
			if armedAtPowerOff != "disarmed" {
				t.Errorf("state at the power-off: %q, want disarmed", armedAtPowerOff)
			}
		})
	}
	// Disarmed already (a bring-up that failed under halt): not opened
	// again.
	fake := &fakeWatchdog{}
	b := watchdogBoot(t, fake, board.WatchdogKeep)
	b.state.Watchdog.Device, b.state.Watchdog.Handoff = "/dev/watchdog0", "disarmed"
	b.disarmForHalt()
	if got := fake.String(); got != "" {
		t.Errorf("a disarmed watchdog: %q", got)
	}
}

// TestWatchdogHandoffImages: the image's watchdog_handoff holds when a
// config partition's profile runs: that profile, without [board]
// watchdog keys, has the default keep, which left the image's "disarm"
// watchdog armed for a next stage that does not feed it, and the board
// reset after every boot.
func TestWatchdogHandoffImages(t *testing.T) {
	for _, c := range []struct {
		image, partition board.WatchdogHandoff
		want, state      string
	}{
		{board.WatchdogDisarm, board.WatchdogKeep, "ping,disarm", "disarmed"},
		{board.WatchdogKeep, board.WatchdogDisarm, "ping,release", "armed"},
	} {
		fake := &fakeWatchdog{}
		b := watchdogBoot(t, fake, c.image)
		if err := b.r.run(context.Background(), phases("modules")); err != nil {
			t.Fatal(err)
		}
		// The persist phase's commit: the partition's profile runs.
		b.image = b.profile
		b.profile = &board.Profile{Board: board.Board{WatchdogTimeout: 60 * time.Second, WatchdogHandoff: c.partition}}
		fake.ops = nil
		b.releaseWatchdog(nil)
		if got := fake.String(); got != c.want || b.state.Watchdog.Handoff != c.state {
			t.Errorf("image %s, partition %s: %s, %q; want %s, %q (the image's)", c.image, c.partition, got, b.state.Watchdog.Handoff, c.want, c.state)
		}
	}
}

// TestWatchdogOpenUnderPartitionProfile: a watchdog that a module brings
// is opened after the modules phase from the image's profile also when a
// config partition's profile runs, which names none: it was never opened.
func TestWatchdogOpenUnderPartitionProfile(t *testing.T) {
	fake := &fakeWatchdog{}
	b := watchdogBoot(t, fake, board.WatchdogKeep)
	if err := b.r.run(context.Background(), phases("profile")); err != nil {
		t.Fatal(err)
	}
	// The persist phase's commit: the partition's profile runs.
	b.image = b.profile
	b.profile = &board.Profile{Board: board.Board{WatchdogTimeout: board.DefaultWatchdogTimeout, WatchdogHandoff: board.WatchdogKeep}}
	if err := b.r.run(context.Background(), phases("persist", "modules", "uplink")); err != nil {
		t.Fatal(err)
	}
	if got := fake.String(); got != "ping,ping" {
		t.Errorf("watchdog: %q, want opened after the modules and pinged after them and the uplink", got)
	}
	if w := b.state.Watchdog; w.Device != "/dev/watchdog0" || w.TimeoutS != 10 {
		t.Errorf("state: %+v", w)
	}
}

// TestWatchdogHaltBySignal: a parked PID 1 halted or powered off by
// SIGUSR1 or SIGUSR2 (busybox init's conventions) stops the watchdog the
// boot's end left armed first, as the halt policy does: the shell policy
// parks with it armed, and it reset the halted board.
func TestWatchdogHaltBySignal(t *testing.T) {
	for _, s := range []unix.Signal{unix.SIGUSR1, unix.SIGUSR2} {
		t.Run(s.String(), func(t *testing.T) {
			fake := &fakeWatchdog{}
			b := watchdogBoot(t, fake, board.WatchdogKeep)
			if err := b.r.run(context.Background(), phases("modules")); err != nil {
				t.Fatal(err)
			}
			b.policy = board.FailShell
			b.releaseWatchdog(errors.New("boom"))
			if b.state.Watchdog.Handoff != "armed" {
				t.Fatalf("the boot's end left the watchdog %q, want armed", b.state.Watchdog.Handoff)
			}
			fake.ops = nil
			oldHalt, oldOff := haltNow, powerOff
			t.Cleanup(func() { haltNow, powerOff = oldHalt, oldOff })
			var at string
			haltNow = func() { at = "halt: " + b.state.Watchdog.Handoff }
			powerOff = func(b *boot) { at = "power off: " + b.state.Watchdog.Handoff }
			b.park()
			b.onSignal(s)
			if got := fake.String(); got != "disarm" {
				t.Errorf("watchdog: %q before the halt, want disarm", got)
			}
			if !strings.HasSuffix(at, ": disarmed") {
				t.Errorf("state at the halt: %q, want disarmed", at)
			}
		})
	}
}
