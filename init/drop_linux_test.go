package main

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/kmsg"
)

// TestTunnelsPastDeadline: a tunnels phase that returns past the
// deadline after opening its rtnetlink socket (a profile without an
// uplink: no phase before it opened one) has its commit dropped, and the
// socket, which the commit would have handed to the later phases and the
// undo, is closed once the phase returns: no descriptor of it stays open
// into the next stage. While the phase holds it, it is close-on-exec. In
// a network namespace of the test binary's own (the phase's goroutine, its
// sockets, and a tunnel it may create are in it).
func TestTunnelsPastDeadline(t *testing.T) {
	if !inOwnNetns(t) {
		return
	}
	b, log := testNoUplinkBoot(t)
	latePhase(t, b, log, "tunnels", b.tunnelsUp)
}

// TestUplinkPastDeadline: the same for the uplink phase, which opens the
// rtnetlink socket that the later phases use (here with a veth end as the
// uplink, a static address on it).
func TestUplinkPastDeadline(t *testing.T) {
	if !inOwnNetns(t) {
		return
	}
	ip(t, "link", "add", "up0", "type", "veth", "peer", "name", "up1")
	ip(t, "link", "set", "up1", "up")
	p, ds := board.Parse("uplink.toml", []byte(noUplinkProfile+"[uplink]\ninterface = \"up0\"\naddress = [\"192.0.2.10/24\"]\n"))
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	var log bytes.Buffer
	b := newBoot(kmsg.New("wgboot", &log))
	b.profile = p
	b.net = nil // the uplink phase's commit makes it
	latePhase(t, b, &log, "uplink", b.uplinkUp)
	if b.net != nil {
		t.Errorf("the dropped commit was made: net %+v", b.net)
	}
}

// latePhase runs the phase name (run, then a return past the deadline, as
// after a netlink call the kernel answered late) through b's runner, and
// checks that the descriptors run opened are close-on-exec while the phase
// holds them and closed once it has returned.
func latePhase(t *testing.T, b *boot, log *bytes.Buffer, name string, run func(context.Context) (func(), error)) {
	t.Helper()
	// The runtime's poller (an epoll and an eventfd, for all of the
	// process) starts with the first pollable descriptor: before.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	before := openFDs(t)
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	wake := make(chan struct{})
	err := b.r.run(ctx, []phase{{name, func(ctx context.Context) (func(), error) {
		commit, err := run(ctx)
		returned <- err
		<-wake // past the deadline
		return commit, err
	}}})
	if !errors.Is(err, errDeadline) {
		close(wake)
		t.Fatalf("%s = %v, want the deadline\n%s", name, err, log)
	}
	t.Logf("%s returned %v", name, <-returned)
	held := newFDs(t, before)
	sockets := 0
	for fd, what := range held {
		if strings.HasPrefix(what, "socket:") {
			sockets++
		}
		n, _ := strconv.Atoi(fd)
		flags, err := unix.FcntlInt(uintptr(n), unix.F_GETFD, 0)
		if err == nil && flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("descriptor %s (%s) the %s phase opened is not close-on-exec: the next stage would inherit it", fd, what, name)
		}
	}
	close(wake)
	if sockets == 0 {
		t.Fatalf("while the late %s phase runs: new descriptors %v, want its rtnetlink socket", name, held)
	}
	// The phase's goroutine closes them once it has returned.
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end) && len(newFDs(t, before)) > 0; {
		time.Sleep(10 * time.Millisecond)
	}
	sameFDs(t, "the "+name+" phase past its deadline", before)
	if b.net != nil && (b.net.RT != nil || b.net.WG != nil) {
		t.Errorf("the dropped commit was made: net %+v", b.net)
	}
}

// newFDs are the descriptors open now that were not before, and what
// each is.
func newFDs(t *testing.T, before map[string]string) map[string]string {
	t.Helper()
	now := openFDs(t)
	maps.DeleteFunc(now, func(fd, what string) bool { return before[fd] == what })
	return now
}

// TestWatchdogEarlyPastDeadline: a watchdog phase that returns past the
// deadline after opening the image's watchdog has its commit dropped: the
// device, which only the commit would have handed to the boot, is closed
// (released, not disarmed: it stays armed and resets the board unless the
// next stage takes it over, which it could not while /init kept it
// open), once, and not pinged.
func TestWatchdogEarlyPastDeadline(t *testing.T) {
	fake := &fakeWatchdog{}
	b, logs, _, opened := earlyBoot(t, fake)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	wake := make(chan struct{})
	err := b.r.run(ctx, []phase{{"watchdog", func(ctx context.Context) (func(), error) {
		commit, err := b.watchdogEarly(ctx)
		<-wake // past the deadline
		return commit, err
	}}})
	close(wake)
	if !errors.Is(err, errDeadline) {
		t.Fatalf("watchdog = %v, want the deadline\n%s", err, logs)
	}
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end) && fake.String() == ""; {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // a second release would come now
	if got := fake.String(); got != "release" || *opened != 1 {
		t.Errorf("the dropped watchdog phase's device: %q, %d opens; want released once, opened once", got, *opened)
	}
	if b.dog.dev.Load() != nil || b.dog.early != nil || b.state.Watchdog.Device != "" {
		t.Errorf("the dropped commit was made: %+v, state %+v", b.dog.early, b.state.Watchdog)
	}
	b.releaseWatchdog(err) // the boot's end: nothing more to let go of
	if got := fake.String(); got != "release" {
		t.Errorf("after the boot's end: %q", got)
	}
}

// TestProfilePastDeadline: a profile phase that returns past the deadline
// has its commit dropped; the profile it read, with its private key, is
// wiped once the phase returns, not left in PID 1's memory. (The test
// makes the dropped commit afterwards, on its own goroutine, only to look
// at that profile.)
func TestProfilePastDeadline(t *testing.T) {
	dir := t.TempDir()
	text := strings.Replace(noUplinkProfile, `private_key_file = "/k"`, `private_key_file = "wg0.key"`, 1)
	if err := os.WriteFile(dir+"/nouplink.toml", []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/wg0.key", []byte("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	b := newBoot(kmsg.New("wgboot", &log))
	b.over.Profile = dir + "/nouplink.toml"
	commit := runPhase(t, b, &log, "profile", true, b.selectProfile)
	if b.profile != nil {
		t.Fatalf("the dropped commit was made: profile %s", b.profile.File())
	}
	commit() // only to look at the profile it holds
	if !b.profile.Tunnels[0].PrivateKey.IsZero() {
		t.Error("the dropped profile phase's private key is still in memory")
	}
}
