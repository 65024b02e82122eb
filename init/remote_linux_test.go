//go:build rescue

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/watchdog"
	"github.com/wgboot/wgboot/netsetup/bringup"
)

// TestRetry: `wgboot retry` reaches a remote rescue (its request taken,
// the file gone, exit 0) and says so when nothing takes it (a SIGHUP
// outside a remote rescue is only logged), leaving no request behind.
func TestRetry(t *testing.T) {
	oldReq, oldWait, oldSig := retryRequest, retryWait, signalInit
	t.Cleanup(func() { retryRequest, retryWait, signalInit = oldReq, oldWait, oldSig })
	retryRequest = filepath.Join(t.TempDir(), "retry")
	retryWait = 300 * time.Millisecond
	b := &boot{}
	took := make(chan bool, 1)
	signalInit = func() error { took <- b.onRetrySignal(); return nil }

	var out, errb bytes.Buffer
	if code := retryCmd(&out, &errb, nil); code != 1 || !strings.Contains(errb.String(), "did not take the request") {
		t.Errorf("without a rescue: %d, %q", code, errb.String())
	}
	if <-took {
		t.Error("a SIGHUP outside a remote rescue took the request")
	}
	if _, err := os.Stat(retryRequest); err == nil {
		t.Error("the request is left behind")
	}

	ch := make(chan struct{}, 1)
	b.setRetry(ch)
	out.Reset()
	if code := retryCmd(&out, &errb, nil); code != 0 || !strings.Contains(out.String(), "init runs the handoff again") {
		t.Errorf("in a rescue: %d, %q", code, out.String())
	}
	if !<-took {
		t.Error("the rescue did not take the request")
	}
	select {
	case <-ch:
	default:
		t.Error("no retry reached the rescue")
	}
	if code := retryCmd(&out, &errb, []string{"now"}); code != 2 {
		t.Errorf("retry now = %d, want 2 (usage)", code)
	}
}

// TestRemoteAddrs: the server listens on the addresses of the tunnels that
// came up, and on nothing when none did.
func TestRemoteAddrs(t *testing.T) {
	b := &boot{profile: &board.Profile{Tunnels: []board.Tunnel{
		{Name: "wg0", Address: []netip.Prefix{netip.MustParsePrefix("10.77.0.2/24"), netip.MustParsePrefix("fd77::2/64")}},
		{Name: "wg1", Address: []netip.Prefix{netip.MustParsePrefix("10.78.0.2/24")}},
	}}}
	if got := b.remoteAddrs(); got != nil {
		t.Errorf("no tunnels phase: %q", got)
	}
	b.net = &network{tunnels: []bringup.Tunnel{{Name: "wg0"}}}
	if got, want := b.remoteAddrs(), []string{"10.77.0.2:22", "[fd77::2]:22"}; !slices.Equal(got, want) {
		t.Errorf("wg0 up: %q, want %q", got, want)
	}
}

// TestRemoteReboot: a reboot signal goes to a running remote rescue (which
// stops its server first), and to PID 1's own reboot otherwise.
func TestRemoteReboot(t *testing.T) {
	b := &boot{}
	if b.remoteReboot(os.Interrupt) {
		t.Error("a reboot signal was taken without a remote rescue")
	}
	ch := make(chan os.Signal, 1)
	b.rescue.reboot.Store(&ch)
	if !b.remoteReboot(os.Interrupt) || !b.remoteReboot(os.Interrupt) {
		t.Error("the remote rescue did not take the reboot signal")
	}
	if s := <-ch; s != os.Interrupt {
		t.Errorf("the rescue got %v", s)
	}
}

// timeoutWatchdog is a fake watchdog whose driver granted timeout.
type timeoutWatchdog struct {
	fakeWatchdog
	timeout time.Duration
}

func (w *timeoutWatchdog) Info() watchdog.Info {
	return watchdog.Info{Identity: "Fake", Timeout: w.timeout}
}

// TestRemotePingEvery: the rescue feeds its watchdog well within the
// timeout the driver granted: a watchdog_timeout of 1 s to 5 s (which the
// lint takes) was fed every 5 s, and reset the board under the operator.
func TestRemotePingEvery(t *testing.T) {
	for _, tc := range []struct{ timeout, want time.Duration }{
		{time.Second, 500 * time.Millisecond},
		{4 * time.Second, 2 * time.Second},
		{10 * time.Second, remotePing},
		{60 * time.Second, remotePing},
		{0, remotePing}, // the driver said nothing: the profile's floor is 1 s, the lint's
	} {
		d := &timeoutWatchdog{timeout: tc.timeout}
		if got := remotePingEvery(d); got != tc.want {
			t.Errorf("timeout %v: fed every %v, want %v", tc.timeout, got, tc.want)
		}
		if tc.timeout > 0 && remotePingEvery(d) >= tc.timeout {
			t.Errorf("timeout %v: fed every %v, not within it", tc.timeout, remotePingEvery(d))
		}
	}
	if got := remotePingEvery(nil); got != remotePing {
		t.Errorf("no watchdog: %v", got)
	}
}

// TestRemoteWatchdogArmed: the rescue feeds the watchdog the boot left
// armed, as the state file records it, even when the profile that ran
// names none: a config partition's profile without [board] watchdog ran
// after the image's had opened one, and the armed watchdog reset the board
// under the operator.
func TestRemoteWatchdogArmed(t *testing.T) {
	fake := &fakeWatchdog{}
	b := watchdogBoot(t, fake, board.WatchdogKeep) // opens /dev/watchdog0 for 10 s
	if err := b.r.run(t.Context(), phases("modules")); err != nil {
		t.Fatal(err)
	}
	b.releaseWatchdog(nil)
	// The partition's profile, which ran, names no watchdog.
	b.profile = &board.Profile{Board: board.Board{WatchdogHandoff: board.WatchdogKeep}}
	fake.ops = nil
	d := b.remoteWatchdog()
	if d == nil {
		t.Fatal("the rescue does not feed the armed watchdog")
	}
	b.releaseRemoteWatchdog(d)
	if got := fake.String(); got != "ping,ping,release" {
		t.Errorf("watchdog: %q, want a ping at the open, one before the release, and the release", got)
	}
	// Disarmed at the boot's end, or never opened: nothing to feed.
	for _, h := range []string{"disarmed", ""} {
		b.state.Watchdog.Handoff = h
		if d := b.remoteWatchdog(); d != nil {
			t.Errorf("handoff %q: the rescue opened the watchdog", h)
		}
	}
}

// TestStopFedFeeds: stopping a server that ignores SIGTERM waits the
// whole stop wait, and the watchdog is fed on every tick of it: a
// retry's waits together outlasted a short watchdog's timeout.
func TestStopFedFeeds(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", "trap '' TERM; echo ready; sleep 10"},
		&syscall.ProcAttr{Files: []uintptr{0, w.Fd(), 2}})
	w.Close()
	if err != nil {
		t.Skipf("no /bin/sh: %v", err)
	}
	done := make(chan unix.WaitStatus, 1)
	go func() {
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, 0, nil)
		done <- ws
	}()
	if _, err := bufio.NewReader(r).ReadString('\n'); err != nil { // its trap is set
		t.Fatal(err)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	fed := 0
	start := time.Now()
	stopFed(pid, done, 400*time.Millisecond, tick.C, func() { fed++ })
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("stopFed returned after %v, before its wait", took)
	}
	if fed < 10 {
		t.Errorf("the watchdog was fed %d times in a 400 ms wait with a 20 ms tick", fed)
	}
	select {
	case ws := <-done:
		if !ws.Signaled() || ws.Signal() != unix.SIGKILL {
			t.Errorf("the server ended with %v, want SIGKILL", ws)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server outlived stopFed")
	}
}

// TestReadRemoteQuits: status lines nobody reads any more (the loop
// returned on a failed retry) do not hold the reader for ever.
func TestReadRemoteQuits(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	status := make(chan string, 2)
	quit := make(chan struct{})
	ended := make(chan struct{})
	var logged []string
	go func() {
		readRemote(r, status, quit, func(l string) { logged = append(logged, l) })
		close(ended)
	}()
	fmt.Fprintf(w, "remote: login root\nlisten 10.77.0.2:22\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(w, "open\nidle\n")
	}
	if l := <-status; l != "listen 10.77.0.2:22" {
		t.Errorf("first status %q", l)
	}
	close(quit)
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the reader is still blocked on its status channel after quit")
	}
	if len(logged) != 1 || logged[0] != "remote: login root" {
		t.Errorf("logged %q", logged)
	}
	if _, err := w.Write([]byte("x\n")); err == nil {
		t.Error("the pipe's read end is still open")
	}
}
